"""/progress show: the student's mastery by topic, what is due and the day streak, privately.

The answer is built from the student's practice record, loaded here before answering
(``Request.history``), so the handler stays pure; it is never cached and never shared.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import discord

from bot.app.bot import TutorBot, request_from
from bot.app.slash import build_group
from bot.commands import PROGRESS
from cogs._generated import GeneratedCommands
from cogs.practice import load_history


class Progress(GeneratedCommands):
    def __init__(self, bot: TutorBot) -> None:
        super().__init__(bot, [build_group(PROGRESS, {"show": self.show})])

    async def show(self, interaction: discord.Interaction, options: dict[str, Any]) -> None:
        """Private, with its bar chart; logged once the reply is out."""
        started = time.perf_counter()
        history = await load_history(self.bot, interaction.user.id)
        request = replace(request_from(interaction, options), history=history)
        result = None
        try:
            result = await self.bot.deliver(interaction, request, private=True, shareable=False)
        finally:
            outcome = "ok" if result is not None else "interrupted"
            self.bot.recorder.record(interaction, request.command, {}, started=started, answer=result, outcome=outcome)


async def setup(bot: TutorBot) -> None:
    await bot.add_cog(Progress(bot))
