"""/help: what the bot can do, with an example per command."""

from __future__ import annotations

from discord.ext import commands

from bot.app.bot import TutorBot
from bot.app.slash import build_command
from bot.commands import COMMANDS


class Meta(commands.Cog):
    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot
        self.help = build_command(COMMANDS["help"], bot.respond)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.help)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.help.name)


async def setup(bot: TutorBot) -> None:
    await bot.add_cog(Meta(bot))
