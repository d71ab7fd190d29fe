"""Every interaction into the interaction log, after the reply has gone.

The row is built from what the bot already knows (command, options, outcome, its own
latency, the topic and confidence of an /ask) and handed to the log, whose ``log()``
never touches the disk, synchronously, so a shutdown right after a reply loses nothing.
Users appear only as pseudonyms, and a DM's channel (one per user, so as identifying as the
user's id) not at all. A server that switched its logging off (``/stats
logging off``) is honoured by the store, which does not keep its rows.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from typing import Any

import discord
from discord import app_commands

from bot.answers import Answer
from bot.log import InteractionLog, LogRow, Pseudonyms
from bot.physiology import InputError

log = logging.getLogger(__name__)


def outcome_of(error: BaseException) -> str:
    """A short, stable name for what went wrong (the log stores kinds, never tracebacks)."""
    original = getattr(error, "original", error)
    if isinstance(original, InputError):
        return "input"
    kinds: tuple[tuple[type[BaseException], str], ...] = (
        (app_commands.CommandOnCooldown, "cooldown"),
        (app_commands.MissingPermissions, "permission"),
        (app_commands.NoPrivateMessage, "no-dm"),
        (app_commands.TransformerError, "bad-value"),
        (app_commands.CommandNotFound, "unknown-command"),
        (app_commands.CheckFailure, "check"),
    )
    return next((kind for cls, kind in kinds if isinstance(error, cls)), "internal")


class Recorder:
    """Turns interactions into log rows; does nothing when logging is not configured."""

    def __init__(self, interaction_log: InteractionLog | None, pseudonyms: Pseudonyms | None) -> None:
        self.interaction_log = interaction_log
        self.pseudonyms = pseudonyms

    @property
    def enabled(self) -> bool:
        return self.interaction_log is not None and self.pseudonyms is not None

    def record(
        self,
        interaction: discord.Interaction,
        command: str,
        options: dict[str, Any],
        *,
        started: float,
        outcome: str = "ok",
        answer: Answer | None = None,
    ) -> None:
        self._record(
            interaction.guild_id,
            interaction.channel_id,
            interaction.user.id,
            command,
            options,
            started=started,
            outcome=outcome,
            answer=answer,
        )

    def record_message(
        self,
        message: discord.Message,
        command: str,
        options: dict[str, Any],
        *,
        started: float,
        outcome: str = "ok",
        answer: Answer | None = None,
    ) -> None:
        """The same row for a chat message (a mention or a DM) as for an interaction."""
        guild = message.guild.id if message.guild is not None else None
        self._record(
            guild,
            message.channel.id,
            message.author.id,
            command,
            options,
            started=started,
            outcome=outcome,
            answer=answer,
        )

    def _record(
        self,
        guild: int | None,
        channel: int | None,
        user: int,
        command: str,
        options: dict[str, Any],
        *,
        started: float,
        outcome: str,
        answer: Answer | None,
    ) -> None:
        if not self.enabled:
            return
        assert self.pseudonyms is not None
        row = LogRow(
            id=uuid.uuid4().hex,
            at=dt.datetime.now(dt.UTC),
            kind="interaction",
            guild=str(guild) if guild else None,
            channel=str(channel) if channel and guild else None,  # a DM's channel is one per user: never stored
            user=self.pseudonyms.of(user),
            command=command,
            options={name: value for name, value in options.items() if name != "private"},
            outcome=outcome if answer is None or not answer.error else "input",
            latency_ms=1000 * (time.perf_counter() - started),
            topic=answer.topic if answer else None,
            confidence=answer.confidence if answer else None,
            answered=answer.answered if answer else None,
        )
        self.interaction_log.log(row)  # type: ignore[union-attr]
