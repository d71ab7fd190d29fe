"""/quiz and /check: practice questions with stateless answer buttons and a typed-answer modal.

Every button's custom_id carries the whole question (:class:`QuizId`): the generator's
version, the card (a numeric problem family such as ``nernst:Ca``, or a concept card
``concept:<topic>:<index>``), the seed, a short keyed digest of the student and the choice.
Any process can grade any press, a restart loses nothing, and nothing about a question is
kept in memory. The "Type my answer" modal carries the same id, and its submission is read
by :meth:`Practice.on_interaction` (discord.py keeps modals in memory, which a restart
would lose, so the modal is never left registered).

A press is refused, privately and with one log line, when its id is not one this bot made
(forged or garbled), when it belongs to someone else's question, or when the generator has
changed since (then a new question is asked instead of grading the old one wrongly).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final

import discord
from discord import app_commands
from discord.ext import commands

from bot.answers import Answer, answer, practice
from bot.app.bot import TutorBot, request_from
from bot.app.replies import safe_reply, send_messages
from bot.app.slash import build_command, build_group
from bot.commands import ANSWER_LIMIT, CHECK, QUIZ, Request
from bot.physiology import InputError
from bot.render import limits
from bot.render.discord import OutgoingMessage, render_messages
from bot.render.limits import shorten
from bot.tutoring import problems
from cogs._generated import GeneratedCommands
from cogs._log_access import log_parts

if TYPE_CHECKING:
    from bot.tutoring.scheduling import StudentHistory

log = logging.getLogger(__name__)

PREFIX: Final = "quiz"
SEPARATOR: Final = "|"
LETTERS: Final = "ABCDE"
TYPE_BUTTON: Final = "T"
"""The choice of the "Type my answer" button: it opens the modal."""
MODAL: Final = "M"
"""The choice of the modal's own custom_id: its submission carries the typed text."""
ANSWER_INPUT: Final = "answer"
STUDENT_CHARS: Final = 12
"""48 bits of a keyed digest: enough to tell one student from another in a class, far too
little to be worth reversing (and the id is only shown to its own student)."""

MODAL_TITLE: Final = "Type your answer"
INPUT_LABEL: Final = "Your answer with its unit"
INPUT_PLACEHOLDER: Final = "e.g. -89.1 mV or -0.089 V"

GARBLED: Final = (
    "This button is not one I made (its id is damaged), so there is nothing to grade. Ask `/quiz` for a question."
)
SOMEONE_ELSE: Final = "This is someone else's question: ask `/quiz` for one of your own."
EXPIRED: Final = "This question has expired (my question generator has changed since it was asked): here is a new one."
EMPTY_ANSWER: Final = "Your answer is empty: type a number with its unit, e.g. −89.1 mV or −0.089 V."
LONG_ANSWER: Final = (
    "That answer is {length} characters long; type just the number and its unit "
    f"(at most {ANSWER_LIMIT} characters), e.g. −89.1 mV."
)

_CARD = re.compile(r"[A-Za-z0-9]+(?::[A-Za-z0-9-]+)*")
_DIGITS = re.compile(r"0|[1-9][0-9]{0,11}")
_STUDENT = re.compile(f"[0-9a-f]{{{STUDENT_CHARS}}}")
_CHOICES: Final = frozenset((*LETTERS, TYPE_BUTTON, MODAL))


class GarbledId(ValueError):
    """A custom_id that starts like a quiz id but is not one this bot could have made."""


@dataclass(frozen=True, slots=True)
class QuizId:
    """Everything a press needs to grade without state: ``quiz|version|card|seed|student|choice``."""

    version: int
    card: str
    seed: int
    student: str
    choice: str

    def encode(self) -> str:
        """The custom_id; at most Discord's 100 characters (a longer one is a bug, raised here)."""
        text = SEPARATOR.join((PREFIX, str(self.version), self.card, str(self.seed), self.student, self.choice))
        if len(text) > limits.CUSTOM_ID:
            raise ValueError(f"quiz custom_id of {len(text)} characters: {text!r}")
        return text

    def with_choice(self, choice: str) -> QuizId:
        return replace(self, choice=choice)


def decode(custom_id: str) -> QuizId:
    """The :class:`QuizId` in a custom_id; :class:`GarbledId` for anything this bot did not make."""
    parts = custom_id.split(SEPARATOR)
    if len(parts) != 6 or parts[0] != PREFIX:
        raise GarbledId(custom_id)
    _, version, card, seed, student, choice = parts
    if not (
        _DIGITS.fullmatch(version)
        and _CARD.fullmatch(card)
        and _DIGITS.fullmatch(seed)
        and _STUDENT.fullmatch(student)
        and choice in _CHOICES
    ):
        raise GarbledId(custom_id)
    return QuizId(int(version), card, int(seed), student, choice)


def student_tag(client: Any, user_id: int) -> str:
    """A short keyed digest of a Discord user id, compared on every press.

    Keyed with the bot's pseudonym key but in its own domain (``quiz:<id>``), so it cannot be
    matched against the log's pseudonyms; without logging configured, an unkeyed digest (it
    only tells students apart, and only the student sees their question's ids)."""
    parts = log_parts(client)
    if parts is not None:
        return parts[1].of(f"quiz:{user_id}")[:STUDENT_CHARS]
    return hashlib.sha256(f"quiz-student:{user_id}".encode()).hexdigest()[:STUDENT_CHARS]


async def load_history(client: Any, user_id: int) -> StudentHistory | None:
    """The student's practice record (Request.history), or None without logging: then nothing
    is remembered and questions are chosen by the seed alone."""
    parts = log_parts(client)
    if parts is None:
        return None
    store, pseudonyms = parts
    try:
        return await store.history(pseudonyms.of(user_id))
    except Exception:  # a broken database never stops an answer
        log.exception("could not load a student's practice history")
        return None


# --- the engine's side (bot.answers.practice) ---------------------------------------------------


def generator_version() -> int:
    """The problem generator's version now: a press from another one is never graded."""
    return int(problems.GENERATOR_VERSION)


def graded(card: str, seed: int, given: str, knowledge: Any) -> Answer:
    """The question a card and seed stand for, rebuilt, and ``given`` (a letter, or the text
    typed in the modal) graded; InputError when the card is gone or the text is not a number."""
    view = practice.question_view(card, seed, knowledge)
    if len(given) == 1 and given in LETTERS:
        return practice.choice_answer(view, given, knowledge)
    return practice.typed_answer(view, given, knowledge)


def fresh_question(card: str, knowledge: Any) -> Answer | None:
    """A new question on the same card (a fresh seed); None when the card is gone."""
    try:
        return practice.rebuild(card, secrets.randbelow(practice.SEED_LIMIT), knowledge)
    except InputError:
        return None


# --- the Discord side ---------------------------------------------------------------------------


class QuizButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=r"(?s)quiz.*"):
    """One answer button (A–E) or "Type my answer". Its template takes every id that starts
    like a quiz id, so a damaged one is answered (privately) instead of silently dropped."""

    def __init__(self, custom_id: str, *, label: str = "?", style: discord.ButtonStyle = discord.ButtonStyle.primary):
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=custom_id))
        self.raw = custom_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[discord.ui.View], match: re.Match[str], /
    ) -> QuizButton:
        return cls(item.custom_id or "")  # never raises: a garbled id is judged in the callback

    async def callback(self, interaction: discord.Interaction) -> None:
        cog = interaction.client.get_cog(Practice.__cog_name__)  # type: ignore[attr-defined]
        if isinstance(cog, Practice):
            await cog.press(interaction, self.raw)


class TypedAnswer(discord.ui.Modal):
    """The one-text-input modal; never registered with discord.py (see the module docstring)."""

    def __init__(self, custom_id: str) -> None:
        super().__init__(title=MODAL_TITLE, custom_id=custom_id, timeout=None)
        self.add_item(
            discord.ui.TextInput(
                label=INPUT_LABEL,
                custom_id=ANSWER_INPUT,
                placeholder=INPUT_PLACEHOLDER,
                min_length=1,
                max_length=ANSWER_LIMIT,
            )
        )


def quiz_view(quiz_id: QuizId, letters: list[tuple[str, str]], *, numeric: bool) -> discord.ui.View:
    """Buttons A–E (first row) and, on a numeric question, "Type my answer" (second row)."""
    view = discord.ui.View(timeout=None)
    for letter, text in letters:
        label = shorten(f"{letter}. {text}", limits.BUTTON_LABEL)
        button = QuizButton(quiz_id.with_choice(letter).encode(), label=label)
        button.item.row = 0
        view.add_item(button)
    if numeric:
        typed = QuizButton(
            quiz_id.with_choice(TYPE_BUTTON).encode(), label="Type my answer", style=discord.ButtonStyle.secondary
        )
        typed.item.row = 1
        view.add_item(typed)
    return view


def on_message(message: discord.Message | None, custom_id: str) -> bool:
    """Whether the message has a component with this custom_id (rows and containers searched)."""
    stack: list[Any] = list(message.components) if message is not None else []
    while stack:
        component = stack.pop()
        if getattr(component, "custom_id", None) == custom_id:
            return True
        stack += list(getattr(component, "children", ()) or ())
    return False


def typed_text(data: Mapping[str, Any] | None) -> str:
    """The text in the modal's answer input (empty when the submission has none)."""
    stack: list[Any] = list((data or {}).get("components") or [])
    while stack:
        comp = stack.pop(0)
        if not isinstance(comp, dict):
            continue
        if comp.get("type") == 4 and comp.get("custom_id") == ANSWER_INPUT:
            value = comp.get("value")
            return value if isinstance(value, str) else ""
        stack += list(comp.get("components") or [])
        if isinstance(comp.get("component"), dict):
            stack.append(comp["component"])
    return ""


class Practice(GeneratedCommands):
    """/quiz and /check; the presses and modal submissions of quiz questions."""

    def __init__(self, bot: TutorBot) -> None:
        async def topics(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            found = bot.services.knowledge.suggest(current, limit=limits.AUTOCOMPLETE_CHOICES)
            return [app_commands.Choice(name=shorten(t.title, limits.CHOICE_NAME), value=t.slug) for t in found]

        slash = [
            build_command(QUIZ, self.quiz, autocomplete={"topic": topics}),
            build_group(CHECK, self.check),
        ]
        super().__init__(bot, slash)

    async def cog_load(self) -> None:
        await super().cog_load()
        self.bot.add_dynamic_items(QuizButton)

    async def cog_unload(self) -> None:
        await super().cog_unload()
        self.bot.remove_dynamic_items(QuizButton)

    # --- storage ------------------------------------------------------------------------------

    async def history(self, user_id: int) -> StudentHistory | None:
        return await load_history(self.bot, user_id)

    async def remember(self, interaction: discord.Interaction, result: Answer, given: str) -> None:
        """Store the graded attempt and the card's new FSRS state (nothing without logging)."""
        parts = log_parts(self.bot)
        quiz, verdict = result.quiz, result.verdict
        if parts is None or quiz is None or verdict is None:
            return
        from bot.tutoring.scheduling import review_attempt

        store, pseudonyms = parts
        user = pseudonyms.of(interaction.user.id)
        guild = str(interaction.guild_id) if interaction.guild_id else None
        now = dt.datetime.now(dt.UTC)
        attempt = practice.attempt_of(result, given, attempt_id=uuid.uuid4().hex, at=now, user=user, guild=guild)
        try:
            state = review_attempt(await store.history(user), attempt)
            if await store.record_attempt(attempt):
                await store.save_card(user, state)
        except Exception:  # the student has the grade; the operator gets the traceback
            log.exception("could not store a practice attempt on %s", quiz.card)

    # --- /quiz and /check ---------------------------------------------------------------------

    async def quiz(self, interaction: discord.Interaction, options: dict[str, Any]) -> None:
        """Ask one question, privately, with its buttons."""
        started = time.perf_counter()
        request = replace(request_from(interaction, options), history=await self.history(interaction.user.id))
        result = answer(request, self.bot.services)
        await self.ask(interaction, result)
        self.bot.recorder.record(interaction, "quiz", dict(options), started=started, answer=result)

    async def ask(self, interaction: discord.Interaction, result: Answer, *, lead: str | None = None) -> None:
        """Send a question answer (with its buttons), or the error it is, privately."""
        messages = render_messages(result)
        if lead is not None:
            messages = [OutgoingMessage(content=lead), *messages]
        view = None
        if result.quiz is not None and not result.error:
            quiz = result.quiz
            quiz_id = QuizId(
                generator_version(), quiz.card, quiz.seed, student_tag(self.bot, interaction.user.id), MODAL
            )
            letters = [(choice.letter, choice.text) for choice in quiz.choices]
            view = quiz_view(quiz_id, letters, numeric=quiz.problem is not None)
        await send_messages(interaction, messages, ephemeral=True, view=view)

    async def check(self, interaction: discord.Interaction, options: dict[str, Any]) -> None:
        """/check nernst and /check restpot: graded like a typed answer, never from the cache."""
        history = await self.history(interaction.user.id)
        await self.bot.respond(interaction, options, history=history)

    # --- presses and typed answers ------------------------------------------------------------

    async def refuse(self, interaction: discord.Interaction, raw: str, text: str, outcome: str) -> None:
        """A private line for the student, one log line for the operator, one row in the log."""
        started = time.perf_counter()
        log.info("quiz press refused (%s) from interaction %s: %r", outcome, interaction.id, raw[:100])
        await safe_reply(interaction, OutgoingMessage(content=text), ephemeral=True)
        self.bot.recorder.record(interaction, "quiz press", {}, started=started, outcome=outcome)

    async def judged(self, interaction: discord.Interaction, raw: str) -> QuizId | None:
        """The press's id if it may be graded now; otherwise the student has been told why."""
        try:
            quiz_id = decode(raw)
        except GarbledId:
            await self.refuse(interaction, raw, GARBLED, "garbled")
            return None
        if quiz_id.student != student_tag(self.bot, interaction.user.id):
            await self.refuse(interaction, raw, SOMEONE_ELSE, "someone-else")
            return None
        if quiz_id.version != generator_version():
            await self.expired(interaction, quiz_id)
            return None
        return quiz_id

    async def expired(self, interaction: discord.Interaction, quiz_id: QuizId) -> None:
        """A question from an older generator: never graded; a fresh one on the same card instead."""
        started = time.perf_counter()
        log.info("quiz press on generator version %d (now %d)", quiz_id.version, generator_version())
        history = await self.history(interaction.user.id)
        request = Request("quiz", {}, str(interaction.user.id), history=history)
        result = fresh_question(quiz_id.card, self.bot.services.knowledge) or answer(request, self.bot.services)
        await self.ask(interaction, result, lead=EXPIRED)
        self.bot.recorder.record(interaction, "quiz press", {"card": quiz_id.card}, started=started, outcome="expired")

    async def press(self, interaction: discord.Interaction, raw: str) -> None:
        """A letter is graded; "Type my answer" opens the modal."""
        quiz_id = await self.judged(interaction, raw)
        if quiz_id is None:
            return
        if quiz_id.choice == TYPE_BUTTON:
            modal = TypedAnswer(quiz_id.with_choice(MODAL).encode())
            await interaction.response.send_modal(modal)
            modal.stop()  # out of discord.py's memory: the submission is read in on_interaction
            return
        if quiz_id.choice not in LETTERS:
            await self.refuse(interaction, raw, GARBLED, "garbled")
            return
        await self.grade(interaction, quiz_id, quiz_id.choice)

    async def submitted(self, interaction: discord.Interaction, raw: str) -> None:
        """The modal's text, checked for length before anyone reads it as a number."""
        quiz_id = await self.judged(interaction, raw)
        if quiz_id is None:
            return
        if quiz_id.choice != MODAL:
            await self.refuse(interaction, raw, GARBLED, "garbled")
            return
        text = typed_text(interaction.data)  # type: ignore[arg-type]
        if not text.strip():
            await self.refuse(interaction, raw, EMPTY_ANSWER, "input")
            return
        if len(text) > ANSWER_LIMIT:
            await self.refuse(interaction, raw, LONG_ANSWER.format(length=len(text)), "input")
            return
        await self.grade(interaction, quiz_id, text.strip())

    async def grade(self, interaction: discord.Interaction, quiz_id: QuizId, given: str) -> None:
        """Rebuild the question from its id, grade the reply, store it, answer privately."""
        started = time.perf_counter()
        try:
            result = graded(quiz_id.card, quiz_id.seed, given, self.bot.services.knowledge)
        except InputError as error:  # a card that no longer exists, or a typed text that is not a number
            result = Answer(command="quiz", title="That answer can't be graded", headline=str(error), error=True)
        await send_messages(interaction, render_messages(result), ephemeral=True)
        if not result.error:
            await self.remember(interaction, result, given)
        options = {"card": quiz_id.card, "seed": quiz_id.seed, "answer": given}
        self.bot.recorder.record(interaction, "quiz press", options, started=started, answer=result)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Modal submissions of quiz questions (after a restart too: nothing is kept in memory),
        and presses of a quiz-like id that is not on the message (a forged client): discord.py
        dispatches a DynamicItem only for a button the message has, and would drop these silently."""
        custom_id = str((interaction.data or {}).get("custom_id", ""))
        if not custom_id.startswith(PREFIX):
            return
        if interaction.type is discord.InteractionType.modal_submit:
            await self.submitted(interaction, custom_id)
        elif interaction.type is discord.InteractionType.component and not on_message(interaction.message, custom_id):
            await self.refuse(interaction, custom_id, GARBLED, "garbled")


async def setup(bot: TutorBot) -> None:
    await bot.add_cog(Practice(bot))
