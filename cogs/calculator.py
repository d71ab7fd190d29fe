"""/restpot, /nernst, /whatif: the calculator commands, generated from the declaration."""

from __future__ import annotations

from discord.ext import commands

from bot.app.bot import CALCULATOR_COOLDOWN, TutorBot
from bot.app.slash import build_command
from bot.commands import COMMANDS

NAMES = ("restpot", "nernst", "whatif")


class Calculator(commands.Cog):
    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot
        check = bot.cooldown_check(CALCULATOR_COOLDOWN)
        self.slash = [build_command(COMMANDS[name], bot.respond, checks=(check,)) for name in NAMES]

    async def cog_load(self) -> None:
        for command in self.slash:
            self.bot.tree.add_command(command)

    async def cog_unload(self) -> None:
        for command in self.slash:
            self.bot.tree.remove_command(command.name)


async def setup(bot: TutorBot) -> None:
    await bot.add_cog(Calculator(bot))
