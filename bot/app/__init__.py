"""The Discord adapter: the bot, its slash commands and replies, and how it runs."""
