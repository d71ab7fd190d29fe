"""The one cog shape: slash commands built from the declaration, in the tree while loaded.

Private (leading underscore), so the extension loader skips it.
"""

from __future__ import annotations

from typing import Any

from discord import app_commands
from discord.ext import commands

from bot.app.bot import TutorBot


class GeneratedCommands(commands.Cog):
    """Adds ``self.slash`` to the bot's tree on load and takes it out on unload."""

    def __init__(self, bot: TutorBot, slash: list[app_commands.Command[Any, ..., Any] | app_commands.Group]) -> None:
        self.bot = bot
        self.slash = slash

    async def cog_load(self) -> None:
        for command in self.slash:
            self.bot.tree.add_command(command)

    async def cog_unload(self) -> None:
        for command in self.slash:
            self.bot.tree.remove_command(command.name)
