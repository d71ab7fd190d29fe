"""/stats show, /stats export, /stats logging: instructor analytics, in a server only.

The group is declared in bot/commands.py (guild-only, Manage Server by default and in
code); the answers come from bot/instructor.py. Every reply is private: a server's
figures and its students' unanswered questions are for its instructors.
"""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot import instructor
from bot.app.bot import TutorBot
from bot.app.replies import defer_thinking, safe_reply, send_messages
from bot.app.slash import build_group
from bot.commands import STATS, shown
from bot.log.api import LogStore
from bot.physiology import InputError
from bot.render import limits
from bot.render.discord import FileAttachment, OutgoingMessage, render_messages
from cogs._generated import GeneratedCommands
from cogs._log_access import log_store

log = logging.getLogger(__name__)

SWITCH = {"on": True, "off": False}
STATE = next(option for sub in STATS.subcommands if sub.name == "logging" for option in sub.options)

NOT_SET_UP = "Logging is not set up on this bot."
TOO_BIG = (
    "The export for {days} days is {size:.1f} MiB, more than Discord's {limit} MiB per message: "
    "choose fewer days, e.g. /stats export days:{fewer}."
)


class Instructors(GeneratedCommands):
    def __init__(self, bot: TutorBot) -> None:
        self.stats = build_group(STATS, {"show": self.show, "export": self.export, "logging": self.logging})
        super().__init__(bot, [self.stats])

    async def _store(self, interaction: discord.Interaction) -> LogStore | None:
        store = log_store(self.bot)
        if store is None:
            await safe_reply(interaction, OutgoingMessage(content=NOT_SET_UP), ephemeral=True)
        return store

    async def show(self, interaction: discord.Interaction, options: dict[str, Any]) -> None:
        store = await self._store(interaction)
        if store is None:
            return
        await defer_thinking(interaction, ephemeral=True)  # a query over many rows may take a moment
        answer = await instructor.stats_show(store, str(interaction.guild_id), options.get("days"))
        await send_messages(interaction, render_messages(answer), ephemeral=True)

    async def export(self, interaction: discord.Interaction, options: dict[str, Any]) -> None:
        store = await self._store(interaction)
        if store is None:
            return
        await defer_thinking(interaction, ephemeral=True)
        days = options.get("days", instructor.DEFAULT_DAYS)
        answer, data = await instructor.stats_export(store, str(interaction.guild_id), days)
        if len(data) > limits.UPLOAD_BYTES:
            text = TOO_BIG.format(
                days=days, size=len(data) / 2**20, limit=limits.UPLOAD_BYTES // 2**20, fewer=max(1, days // 4)
            )
            await safe_reply(interaction, OutgoingMessage(content=text), ephemeral=True)
            return
        messages = render_messages(answer)
        description = limits.shorten(instructor.export_description(days), limits.ATTACHMENT_DESCRIPTION)
        messages[0].files.append(FileAttachment(instructor.CSV_NAME, data, description))
        await send_messages(interaction, messages, ephemeral=True)

    async def logging(self, interaction: discord.Interaction, options: dict[str, Any]) -> None:
        store = await self._store(interaction)
        if store is None:
            return
        state = options.get("state")
        if state not in SWITCH:  # the tree refuses it first (bot/app/slash.checked_options); never "off" by default
            raise InputError(f"`state` must be {STATE.allowed()} (got `{shown(str(state))}`).", option="state")
        guild = str(interaction.guild_id)
        answer = await instructor.set_logging(store, guild, SWITCH[state])
        log.info("server %s switched logging %s", guild, state)
        await send_messages(interaction, render_messages(answer), ephemeral=True)


async def setup(bot: TutorBot) -> None:
    await bot.add_cog(Instructors(bot))
