"""Platform-neutral answers: what the bot says, before anyone decides how it looks.

A handler takes a :class:`~bot.commands.Request` and returns an :class:`Answer`: a title,
a headline that carries the number, a few short lines, named fields, the derivation when
asked, the source, and the figures that go with it (as :class:`Figure` requests with
their alt text; drawing them is the renderer's business). Discord embeds and terminal
text are both rendered from it, so a student gets the same answer in either place. No
markdown here: renderers add emphasis.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Final

from bot.answers import practice
from bot.answers.calculator import nernst_answer, restpot, whatif_answer
from bot.answers.help import LISTS_TOPICS, help_answer
from bot.answers.knowledge import ask_answer, engine_value, explain_answer, template_cell, topic_answer
from bot.answers.labs import labs_answer
from bot.answers.model import (
    ALT_TEXT_LIMIT,
    EQUATION,
    EQUATIONS_PER_ANSWER,
    FIGURE_KINDS,
    NERNST_VERSUS_RATIO,
    POTENTIAL_LINE,
    SCHEMA,
    VM_VERSUS_K_OUT,
    WHATIF_LINE,
    Answer,
    AnswerField,
    Figure,
    QuizView,
    line_fields,
    millivolts,
)
from bot.commands import Request, check_required, resolve, shown
from bot.physiology import InputError
from bot.unanswered import MemoryUnanswered, UnansweredLog

if TYPE_CHECKING:
    # Types only. The knowledge base (YAML front matter) and the /ask index (bm25s) are
    # imported by Services.load, so a calculator answer in a fresh process loads neither.
    from bot.knowledge import KnowledgeBase
    from bot.retrieval import AskIndex

__all__ = [
    "ALT_TEXT_LIMIT",
    "EQUATION",
    "EQUATIONS_PER_ANSWER",
    "FIGURE_KINDS",
    "HANDLERS",
    "NERNST_VERSUS_RATIO",
    "POTENTIAL_LINE",
    "SCHEMA",
    "VM_VERSUS_K_OUT",
    "WHATIF_LINE",
    "Answer",
    "AnswerField",
    "Figure",
    "Services",
    "answer",
    "cacheable",
    "engine_value",
    "error_answer",
    "grade_reply",
    "help_answer",
    "line_fields",
    "millivolts",
    "template_cell",
    "topic_answer",
]


@dataclass(frozen=True, slots=True)
class Services:
    """Resources the handlers need, opened once by the caller and passed in."""

    knowledge: KnowledgeBase
    ask: AskIndex
    unanswered: UnansweredLog

    @classmethod
    def load(cls, unanswered: UnansweredLog | None = None) -> Services:
        """The knowledge base with its numbers computed, the /ask index, its threshold and vocabulary."""
        from bot.knowledge import KnowledgeBase
        from bot.retrieval import AskIndex, load_calibration, load_vocabulary

        knowledge = KnowledgeBase.load(fill=engine_value)
        ask = AskIndex(knowledge, load_calibration(), load_vocabulary())
        return cls(knowledge, ask, unanswered or MemoryUnanswered())


def _progress_show(request: Request) -> Answer:
    """/progress show from the student's history (bot/answers/progress.py, imported when asked)."""
    from bot.answers.progress import progress_answer

    return progress_answer(request)


Handler = Callable[[Request, Services], Answer]
HANDLERS: Final[Mapping[str, Handler]] = {
    "restpot": lambda request, _: restpot(request),
    "nernst": lambda request, _: nernst_answer(request),
    "whatif": lambda request, _: whatif_answer(request),
    "labs": lambda request, _: labs_answer(request),
    "explain": lambda request, services: explain_answer(request, services.knowledge),
    "ask": ask_answer,
    "help": lambda request, services: help_answer(request, services.knowledge if services else None),
    "quiz": lambda request, services: practice.quiz_answer(request, services.knowledge),
    "check nernst": lambda request, _: practice.check_answer(request),
    "check restpot": lambda request, _: practice.check_answer(request),
    "progress show": lambda request, _: _progress_show(request),
}
"""Every command a user can run here, by qualified name (``check nernst``: a group's subcommand)."""


def cacheable(request: Request) -> bool:
    """Whether the bot may serve ``request`` from its answer cache (bot/app/answer_cache.py):
    never /quiz, /check or /progress, whose answers are the student's own or freshly seeded."""
    return practice.cacheable(request.command)


def error_answer(command: str, error: InputError) -> Answer:
    return Answer(command=command, title="That input can't be used", headline=str(error), error=True)


_DISCORD_ONLY: Final = "/{0.qualified_name} works on Discord only."
_ELSEWHERE: Final = {
    "stats": "/{0.qualified_name} reads the interaction log: use it on Discord, in a server, "
    "or run `membrane-tutor stats --db PATH` in a terminal.",
    "privacy": "/{0.qualified_name} is about what the bot keeps on your Discord account: use it on Discord.",
}


def _check(request: Request) -> None:
    """What Discord itself enforces, checked again for any other adapter: a known command,
    its required options present, and a choice option holding one of its choices."""
    spec = resolve(str(request.command))
    if spec is not None and any(sub.qualified_name in HANDLERS for sub in spec.subcommands):
        check_required(spec, {})  # /check alone: it needs a subcommand
    if spec is None or request.command not in HANDLERS:
        elsewhere = spec
        if elsewhere is not None:  # /stats and /privacy: the interaction log, on Discord
            raise InputError(_ELSEWHERE.get(elsewhere.parent or elsewhere.name, _DISCORD_ONLY).format(elsewhere))
        known = ", ".join(f"/{name}" for name in HANDLERS)
        raise InputError(f"Unknown command `{shown(str(request.command))}`: the commands are {known}.")
    check_required(spec, dict(request.options))
    for option in spec.options:
        value = request.options.get(option.name)
        if option.choices and value is not None and value not in tuple(choice.value for choice in option.choices):
            raise InputError(f"`{option.name}` must be {option.allowed()}.", option=option.name)


NEEDS_SERVICES: Final = frozenset({"explain", "ask", "quiz"})
"""The calculator's answers need no knowledge base: a one-shot `ask "/nernst …"` stays fast."""


def _needs_services(request: Request) -> bool:
    """The knowledge base's commands, and the help that lists its topics."""
    return request.command in NEEDS_SERVICES or (
        request.command == "help" and request.options.get("command") == LISTS_TOPICS
    )


def grade_reply(quiz: QuizView, reply: str, services: Services | None = None) -> Answer:
    """A reply to a /quiz question (a letter, or a typed number with its unit) graded; bad
    input becomes an error answer that says what to type, never an exception."""
    try:
        return practice.reply_answer(quiz, reply, (services or _default_services()).knowledge)
    except InputError as error:
        return error_answer("quiz", error)


@cache
def _default_services() -> Services:
    return Services.load()


def answer(request: Request, services: Services | None = None) -> Answer:
    """Answer a request; bad input becomes an error answer, never an exception.

    The bot and the console pass the services they opened; one-shot callers (a single
    ``ask``, tests) get the shipped knowledge base, loaded once.
    """
    try:
        _check(request)
        if services is None and _needs_services(request):
            services = _default_services()
        return HANDLERS[request.command](request, services)  # type: ignore[arg-type]
    except InputError as error:
        return error_answer(request.command if request.command in HANDLERS else "", error)
