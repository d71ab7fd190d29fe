"""The discord.py bot: extensions, the tree's one error handler, answers sent safely.

Nothing here runs at import time. ``main()`` (in :mod:`bot.app.runner`) opens the
resources and passes them in; ``setup_hook`` loads every extension in ``cogs/``.
"""

from __future__ import annotations

import gc
import logging
import pkgutil
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

import cogs
from bot.answers import Answer, Services, answer, cacheable
from bot.app.answer_cache import AnswerCache, MemoryAnswerCache
from bot.app.cooldowns import Cooldown, CooldownStore
from bot.app.health import HealthFile
from bot.app.recording import Recorder, outcome_of
from bot.app.replies import ShareButton, defer_thinking, safe_reply, send_messages, share_view
from bot.app.slash import checked_options
from bot.commands import Request, decode_request, encode_request
from bot.conversation import ConversationStore, MemoryConversations
from bot.physiology import InputError
from bot.render.discord import OutgoingMessage, render_messages
from bot.render.figures import FigureService

if TYPE_CHECKING:  # the scheduler imports fsrs: not at start-up
    from bot.tutoring.scheduling import StudentHistory

log = logging.getLogger(__name__)

CALCULATOR_COOLDOWN = Cooldown(rate=10, per=10.0)
"""Per user: 10 calculations in any 10 s, far above a student's pace, well below a script's."""


def extension_names() -> list[str]:
    """Every module in ``cogs/`` except private ones (``_name``), as python-discord does."""
    return sorted(
        f"{cogs.__name__}.{module.name}"
        for module in pkgutil.iter_modules(cogs.__path__)
        if not module.name.startswith("_")
    )


def intents() -> discord.Intents:
    """Guilds, and messages in servers and DMs for the chat (cogs/chat.py); nothing privileged.

    Without the Message Content intent Discord still delivers the content of a message that
    mentions the bot and of every DM with it, which is all the chat reads.
    """
    chosen = discord.Intents.none()
    chosen.guilds = True
    chosen.guild_messages = True
    chosen.dm_messages = True
    return chosen


def request_from(interaction: discord.Interaction, options: dict[str, Any]) -> Request:
    """The platform-neutral request for an interaction: who, where, what; not how."""
    command = interaction.command.qualified_name if interaction.command else ""
    return Request(
        command=command,
        options=options,
        user=str(interaction.user.id),
        guild=str(interaction.guild_id) if interaction.guild_id else None,
        locale=str(interaction.locale),
    )


def _error_message(error: app_commands.AppCommandError) -> str | None:
    """One short sentence for the user, or None when it is our fault (then it is logged)."""
    original = getattr(error, "original", error)
    if isinstance(original, InputError):
        return str(original)
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"One moment: you can ask again in {max(error.retry_after, 1):.0f} s."
    if isinstance(error, app_commands.MissingPermissions):
        return "This command is for instructors: it needs the Manage Server permission."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command only works in a server."
    if isinstance(error, app_commands.TransformerError):
        return f"That value can't be used for this option: {str(error.value)[:100]!r}."
    if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
        return "This command is out of date: an admin can refresh commands with `membrane-tutor sync`."
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use this command here."
    return None


def started_at(interaction: discord.Interaction) -> float:
    """When the bot began on this interaction (set by the tree before any check runs)."""
    return float(interaction.extras.get("started", time.perf_counter()))


class TutorTree(app_commands.CommandTree["TutorBot"]):
    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        """Before discord.py reads the options: each must be exactly what the declaration allows
        (:func:`~bot.app.slash.checked_options`); otherwise one private line and one log line."""
        interaction.extras["started"] = time.perf_counter()  # the bot's own latency starts here
        data: dict[str, Any] = interaction.data or {}  # type: ignore[assignment]
        if data.get("type", 1) != 1:  # context menus carry no options of ours
            return True
        suggesting = interaction.type is discord.InteractionType.autocomplete
        try:
            checked_options(data, autocomplete=suggesting)
        except InputError as error:
            name = str(data.get("name", "?"))[:32]
            log.warning("refused /%s from a client Discord would not ship: %s", name, error)
            if suggesting:
                await _no_suggestions(interaction)
                return False
            await safe_reply(interaction, OutgoingMessage(content=str(error)), ephemeral=True)
            recorder: Recorder | None = getattr(self.client, "recorder", None)
            if recorder is not None:
                recorder.record(interaction, name, {}, started=started_at(interaction), outcome=outcome_of(error))
            return False
        return True

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        """The one error handler: a short private line for the user, a traceback for the operator."""
        message = _error_message(error)
        command = interaction.command.qualified_name if interaction.command else "?"
        if message is None:
            log.error("command /%s failed", command, exc_info=error)
            message = "Something went wrong on my side; it has been logged. Please try again."
        elif isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
            log.warning("command /%s does not match what Discord sent: %s", command, type(error).__name__)
        await safe_reply(interaction, OutgoingMessage(content=message), ephemeral=True)
        recorder: Recorder | None = getattr(self.client, "recorder", None)  # a plain Client has none
        if recorder is not None:
            recorder.record(interaction, command, {}, started=started_at(interaction), outcome=outcome_of(error))


async def _no_suggestions(interaction: discord.Interaction) -> None:
    try:
        await interaction.response.autocomplete([])
    except (discord.NotFound, discord.InteractionResponded):
        log.warning("interaction %s expired before its suggestions could be sent", interaction.id)


class TutorBot(commands.Bot):
    def __init__(
        self,
        *,
        services: Services,
        cooldowns: CooldownStore,
        health: HealthFile | None = None,
        figures: FigureService | None = None,
        answers: AnswerCache | None = None,
        recorder: Recorder | None = None,
        conversations: ConversationStore | None = None,
    ) -> None:
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False  # a text-only bot: no voice warnings
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            tree_cls=TutorTree,
        )
        self.services = services
        self.cooldowns = cooldowns
        self.health = health  # `membrane-tutor run` only; proves the connection to `membrane-tutor health`
        self.figures = figures if figures is not None else FigureService()  # its pool starts on the first figure
        self.answers = answers if answers is not None else MemoryAnswerCache()
        self.recorder = recorder if recorder is not None else Recorder(None, None)  # None: logging not set up
        self.conversations = conversations if conversations is not None else MemoryConversations()  # chat follow-ups

    async def setup_hook(self) -> None:
        for name in extension_names():
            await self.load_extension(name)
        self.add_dynamic_items(ShareButton)
        log.info("loaded %d extensions, %d commands", len(self.extensions), len(self.tree.get_commands()))
        if self.health is not None:
            self.health.start(self)

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            self.figures.close()
            if self.health is not None:
                await self.health.stop(self)

    async def on_message(self, message: discord.Message, /) -> None:
        """No prefix commands: the chat (cogs/chat.py) listens on its own. The default would
        parse every mention as a command and log "command not found" for each question."""

    async def on_ready(self) -> None:
        log.info("connected as %s to %d servers", self.user, len(self.guilds))
        gc.freeze()  # what start-up loaded (matplotlib by now too) stays out of full collections

    def cooldown_check(self, cooldown: Cooldown) -> Any:
        """An app-command check that limits each user through the cooldown store."""

        def check(interaction: discord.Interaction) -> bool:
            command = interaction.command.qualified_name if interaction.command else ""
            wait = self.cooldowns.hit(f"{command}:{interaction.user.id}", cooldown.rate, cooldown.per)
            if wait is not None:
                raise app_commands.CommandOnCooldown(app_commands.Cooldown(cooldown.rate, cooldown.per), wait)
            return True

        return check

    async def deliver(
        self, interaction: discord.Interaction, request: Request, *, private: bool, shareable: bool = True
    ) -> Answer:
        """Answer ``request`` and send it; private answers carry a share button (unless not
        ``shareable``: an answer built from the student's own history, which a share could not rebuild).

        Text answers go at once. An answer with figures is deferred first ("thinking…"),
        its figures are drawn off the event loop, and it follows up: a figure that fails
        or times out leaves the text answer intact, with a short line saying so.
        """
        reusable = cacheable(request)  # never /quiz, /check, /progress: the student's own answers
        cached = self.answers.get(request) if reusable else None
        if cached is None:
            result = answer(request, self.services)
            cached = (result, [] if result.figures else render_messages(result))
            if reusable:
                self.answers.put(request, cached)
        result, messages = cached
        view = share_view(encode_request(request)) if private and shareable and not result.error else None
        ephemeral = private or result.error
        if result.figures:
            await defer_thinking(interaction, ephemeral=ephemeral)
            messages = render_messages(result, await self.figures.render_all(result.figures))
        await send_messages(interaction, messages, ephemeral=ephemeral, view=view)
        return result

    async def respond(
        self, interaction: discord.Interaction, options: dict[str, Any], *, history: StudentHistory | None = None
    ) -> None:
        """The handler behind every generated slash command; logged once the reply is out.
        ``history`` is the student's practice record, which the practice cogs load first."""
        private = bool(options.get("private", False))
        request = replace(request_from(interaction, options), history=history)
        result: Answer | None = None
        try:
            result = await self.deliver(interaction, request, private=private)
        finally:  # also when shutdown cancels us mid-send: the student may have the answer already
            self.recorder.record(
                interaction,
                request.command,
                dict(request.options),
                started=started_at(interaction),
                answer=result,
                outcome="ok" if result is not None else "interrupted",
            )

    async def share(self, interaction: discord.Interaction, encoded: str) -> None:
        """The share button: post the same answer for everyone in the channel."""
        try:
            request = decode_request(encoded)
        except InputError as error:
            await safe_reply(interaction, OutgoingMessage(content=str(error)), ephemeral=True)
            return
        started = time.perf_counter()
        shared = Request(request.command, request.options, str(interaction.user.id), request.guild)
        result = await self.deliver(interaction, shared, private=False)
        self.recorder.record(
            interaction, f"share {request.command}", dict(request.options), started=started, answer=result
        )
