"""/restpot, /nernst, /whatif, /labs: the calculator commands, generated from the declaration."""

from __future__ import annotations

from bot.app.bot import CALCULATOR_COOLDOWN, TutorBot
from bot.app.slash import build_command
from bot.commands import COMMANDS
from cogs._generated import GeneratedCommands

NAMES = ("restpot", "nernst", "whatif", "labs")


class Calculator(GeneratedCommands):
    def __init__(self, bot: TutorBot) -> None:
        check = bot.cooldown_check(CALCULATOR_COOLDOWN)
        super().__init__(bot, [build_command(COMMANDS[name], bot.respond, checks=(check,)) for name in NAMES])


async def setup(bot: TutorBot) -> None:
    await bot.add_cog(Calculator(bot))
