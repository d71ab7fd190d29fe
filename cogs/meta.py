"""/help: what the bot can do, with an example per command."""

from __future__ import annotations

from bot.app.bot import TutorBot
from bot.app.slash import build_command
from bot.commands import COMMANDS
from cogs._generated import GeneratedCommands


class Meta(GeneratedCommands):
    def __init__(self, bot: TutorBot) -> None:
        super().__init__(bot, [build_command(COMMANDS["help"], bot.respond)])


async def setup(bot: TutorBot) -> None:
    await bot.add_cog(Meta(bot))
