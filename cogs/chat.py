"""The chat: a message that mentions the bot in a server channel, or any DM to it, is
answered like ``/ask``, as a reply that pings nobody.

Slash commands stay the primary interface; the chat is for questions, in the student's own
words, with follow-ups ("why?", "and for sodium?") read from the conversation store
(:mod:`bot.conversation`). Without the privileged Message Content intent Discord delivers
the text only of messages that mention the bot and of DMs, so everything else in a
channel arrives empty and is ignored here too.

The log row is the one an interaction gets, with command ``chat`` (so instructors see how
much the chat is used beside ``/ask``) and the question as its one option, as ``/ask``
keeps its ``question`` option; nothing else of the conversation is stored.
"""

from __future__ import annotations

import io
import logging
import re
import time
from dataclasses import replace
from typing import Any, Final

import discord
from discord.ext import commands

from bot.answers import Answer, answer, cacheable, error_answer
from bot.answers.knowledge import numeric_answer
from bot.app.bot import CALCULATOR_COOLDOWN, TutorBot
from bot.app.replies import NO_MENTIONS
from bot.commands import QUESTION_LIMIT, Request
from bot.conversation import Plan, Turn, plan
from bot.physiology import InputError
from bot.render.discord import OutgoingMessage, render_messages

log = logging.getLogger(__name__)

COMMAND: Final = "chat"
"""The log's command for a chat message (whatever it was answered with)."""
MAX_REPLIES: Final = 3
"""Messages one chat answer may take; a longer one ends with a line pointing at the slash command."""
TOO_LONG: Final = "This answer goes on longer than a chat reply should; `/ask` or `/explain` shows all of it."
HELP_LINE: Final = (
    "Ask me a question about membrane physiology after the mention, in up to {limit} characters, "
    "e.g. “@{name} why is the resting potential negative?”; `/help` lists the commands."
)
COOLDOWN_LINE: Final = "One moment: you can ask again in {seconds:.0f} s."


def mention_pattern(bot_id: int) -> re.Pattern[str]:
    """The bot's own mention markup (``<@id>`` and the older ``<@!id>``)."""
    return re.compile(rf"<@!?{bot_id}>")


def question_text(content: str, bot_id: int) -> str:
    """The message without the bot's mention, spaces collapsed."""
    return " ".join(mention_pattern(bot_id).sub(" ", content).split())


def addressed_to(message: discord.Message, me: discord.abc.User) -> bool:
    """A DM with the bot, or a server message that mentions it (a user mention, not @everyone)."""
    if message.guild is None:
        return isinstance(message.channel, discord.DMChannel)
    return any(user.id == me.id for user in message.mentions)


def _with_note(result: Answer, note: str | None) -> Answer:
    """What a follow-up reused, said above the answer's own lines."""
    if not note:
        return result
    return replace(result, lines=(*note.split("\n"), *result.lines))


class Chat(commands.Cog):
    """Answers mentions and DMs; ignores bots (itself included) and every message seen before."""

    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        me = self.bot.user
        if me is None or message.author.bot or message.author.id == me.id:
            return
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return  # joins, pins, thread starters: nothing was asked
        if not addressed_to(message, me):
            return
        if not self.bot.conversations.first_time(str(message.id)):
            return  # a replay (RESUME) or a second delivery: answered once already
        started = time.perf_counter()
        text = question_text(message.content, me.id)
        options: dict[str, object] = {"question": text}
        result: Answer | None = None
        outcome = "interrupted"
        try:
            if not text or len(text) > QUESTION_LIMIT:
                outcome = "input"
                options = {"length": len(text)}  # an essay is not logged: /ask would not have taken it
                name = me.display_name if message.guild is None else message.guild.me.display_name
                await self._send(message, [OutgoingMessage(content=HELP_LINE.format(limit=QUESTION_LIMIT, name=name))])
                return
            wait = self.bot.cooldowns.hit(
                f"{COMMAND}:{message.author.id}", CALCULATOR_COOLDOWN.rate, CALCULATOR_COOLDOWN.per
            )
            if wait is not None:
                outcome = "cooldown"
                # Said once per window, not to every message of a burst.
                if self.bot.cooldowns.hit(f"{COMMAND}-refused:{message.author.id}", 1, CALCULATOR_COOLDOWN.per) is None:
                    await self._send(message, [OutgoingMessage(content=COOLDOWN_LINE.format(seconds=max(wait, 1)))])
                return
            result = await self._answer(message, text)
            outcome = "ok"
        except Exception:
            outcome = "internal"
            log.exception("chat message %s could not be answered", message.id)
        finally:
            self.bot.recorder.record_message(message, COMMAND, options, started=started, outcome=outcome, answer=result)

    async def _answer(self, message: discord.Message, text: str) -> Answer:
        """Plan (follow-up or a new question), answer, reply, and remember the turn."""
        user, channel = str(message.author.id), str(message.channel.id)
        previous = self.bot.conversations.last(user, channel)
        chosen = plan(text, previous)
        guild = str(message.guild.id) if message.guild is not None else None
        request = Request(chosen.request.command, chosen.request.options, user, guild)
        result, messages = await self._rendered(request, chosen)
        await self._send(message, messages)
        if not result.error:
            topic = result.topic or (previous.topic if previous and chosen.note else None)
            self.bot.conversations.remember(user, channel, Turn(request=chosen.computed, topic=topic))
        return result

    async def _rendered(self, request: Request, chosen: Plan) -> tuple[Answer, list[OutgoingMessage]]:
        """The answer and its messages; plain questions come from the answer cache, as /ask's do."""
        reusable = chosen.note is None and chosen.reading is None and cacheable(request)
        cached = self.bot.answers.get(request) if reusable else None
        if cached is None:
            result = _with_note(self._answer_of(request, chosen), chosen.note)
            cached = (result, [] if result.figures else render_messages(result))
            if reusable:
                self.bot.answers.put(request, cached)
        result, messages = cached
        if result.figures:  # drawn off the event loop, as for the slash commands
            messages = render_messages(result, await self.bot.figures.render_all(result.figures))
        return result, messages

    def _answer_of(self, request: Request, chosen: Plan) -> Answer:
        """A numeric follow-up through /ask's own presentation of a computed reading (the number,
        the command, what was reused and assumed), anything else through the handlers."""
        if chosen.reading is None:
            return answer(request, self.bot.services)
        try:
            return numeric_answer(chosen.reading, self.bot.services)
        except InputError as error:  # a reused value the engine refuses: said like any bad input
            return error_answer("ask", error)

    async def _send(self, message: discord.Message, messages: list[OutgoingMessage]) -> None:
        """Each part as a reply to the student's message that pings nobody, not even them."""
        if len(messages) > MAX_REPLIES:
            messages = [*messages[: MAX_REPLIES - 1], OutgoingMessage(content=TOO_LONG)]
        reference = message.to_reference(fail_if_not_exists=False)  # deleted meanwhile: still answered
        for part in messages:
            kwargs: dict[str, Any] = {"reference": reference, "mention_author": False, "allowed_mentions": NO_MENTIONS}
            if part.content:
                kwargs["content"] = part.content
            if part.embeds:
                kwargs["embeds"] = part.embeds
            if part.files:  # built now: a discord.File's stream is used up by one send
                kwargs["files"] = [
                    discord.File(
                        io.BytesIO(attached.data), filename=attached.filename, description=attached.description
                    )
                    for attached in part.files
                ]
            try:
                await message.channel.send(**kwargs)
            except discord.Forbidden:
                log.warning("no permission to reply in channel %s", message.channel.id)
                return


async def setup(bot: TutorBot) -> None:
    await bot.add_cog(Chat(bot))
