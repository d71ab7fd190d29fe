"""/explain and /ask: the curated notes, by topic (with autocomplete) or by question."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.app.bot import TutorBot
from bot.app.slash import build_command
from bot.commands import COMMANDS
from bot.render import limits
from bot.render.limits import shorten
from cogs._generated import GeneratedCommands


class Knowledge(GeneratedCommands):
    def __init__(self, bot: TutorBot) -> None:
        async def topics(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            found = bot.services.knowledge.suggest(current, limit=limits.AUTOCOMPLETE_CHOICES)
            return [app_commands.Choice(name=shorten(t.title, limits.CHOICE_NAME), value=t.slug) for t in found]

        super().__init__(
            bot,
            [
                build_command(COMMANDS["explain"], bot.respond, autocomplete={"topic": topics}),
                build_command(COMMANDS["ask"], bot.respond),
            ],
        )


async def setup(bot: TutorBot) -> None:
    await bot.add_cog(Knowledge(bot))
