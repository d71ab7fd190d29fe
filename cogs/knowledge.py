"""/explain and /ask: the curated notes, by topic (with autocomplete) or by question."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.app.bot import TutorBot
from bot.app.slash import build_command
from bot.commands import COMMANDS
from bot.render import limits
from bot.render.limits import shorten


class Knowledge(commands.Cog):
    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot

        async def topics(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            found = bot.services.knowledge.suggest(current, limit=limits.AUTOCOMPLETE_CHOICES)
            return [app_commands.Choice(name=shorten(t.title, limits.CHOICE_NAME), value=t.slug) for t in found]

        self.slash = [
            build_command(COMMANDS["explain"], bot.respond, autocomplete={"topic": topics}),
            build_command(COMMANDS["ask"], bot.respond),
        ]

    async def cog_load(self) -> None:
        for command in self.slash:
            self.bot.tree.add_command(command)

    async def cog_unload(self) -> None:
        for command in self.slash:
            self.bot.tree.remove_command(command.name)


async def setup(bot: TutorBot) -> None:
    await bot.add_cog(Knowledge(bot))
