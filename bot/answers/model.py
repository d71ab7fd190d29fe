"""The answer model: what every handler returns, before anyone decides how it looks.

A title, a headline that carries the number, a few short lines, named fields, the
derivation when asked, the source, and the figures that go with it (as :class:`Figure`
requests with their alt text; drawing them is the renderer's business). No markdown here:
renderers add emphasis.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from bot.physiology import (
    NernstResult,
    RestingPotentialResult,
    WhatIfResult,
    to_json,
)
from bot.physiology.formatting import format_number

if TYPE_CHECKING:
    # Types only. The knowledge base (YAML front matter) and the /ask index (bm25s) are
    # imported by Services.load, and the derivations (sympy) by the calculator on
    # detail:steps, so a calculator answer in a fresh process loads none of them.
    from bot.physiology.derivation import Step


SCHEMA: Final = "answer.v1"


@dataclass(frozen=True, slots=True)
class AnswerField:
    name: str
    value: str


ALT_TEXT_LIMIT: Final = 1024
"""Discord's attachment description limit (design.md; ``bot.render.limits.ATTACHMENT_DESCRIPTION``)."""

VM_VERSUS_K_OUT: Final = "vm-vs-k-out"
POTENTIAL_LINE: Final = "potential-line"
NERNST_VERSUS_RATIO: Final = "nernst-vs-ratio"
WHATIF_LINE: Final = "whatif-line"
EQUATION: Final = "equation"
FIGURE_KINDS: Final = (VM_VERSUS_K_OUT, POTENTIAL_LINE, NERNST_VERSUS_RATIO, WHATIF_LINE, EQUATION)
EQUATIONS_PER_ANSWER: Final = 4


@dataclass(frozen=True, slots=True)
class Figure:
    """A picture an answer asks for: what to draw, the file's name, and its alt text.

    Platform-neutral and hashable: ``inputs`` holds every number (and every piece of the
    engine's own text, never a user's) the renderer needs, as ``(name, value)`` pairs,
    so equal requests draw equal pictures and a figure is its own cache key. The alt
    text states the numbers the picture shows; it is built here, beside the answer's
    text, with the same formatting.
    """

    kind: str
    filename: str
    alt_text: str
    inputs: tuple[tuple[str, Any], ...] = field(default=(), metadata={"json": False})

    def params(self) -> dict[str, Any]:
        return dict(self.inputs)

    def cache_key(self) -> str:
        """A stable text key (kind and inputs; the file name and alt text draw nothing), for
        any cache, in this process or shared between processes."""
        text = json.dumps([self.kind, self.inputs], ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ChoiceView:
    """One lettered option of a practice question, as ``--json`` shows it: the value it stands
    for (mV; None for a concept question) and the catalogue tags that reproduce it (empty for
    the right one)."""

    letter: str
    text: str
    value_mv: float | None
    correct: bool
    mistakes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class QuizView:
    """What a /quiz answer asked: ``problem`` is the equivalent calculator request
    (``{"command": "nernst", "options": {…}}``) or None for a concept question.

    ``card`` and ``seed`` rebuild the question (:func:`bot.answers.practice.rebuild`), so the
    console, a button or a modal can grade a reply without any state; they are not in the JSON.
    """

    problem: dict[str, Any] | None
    question: str
    topic: str
    choices: tuple[ChoiceView, ...]
    card: str = field(default="", metadata={"json": False})
    seed: int = field(default=0, metadata={"json": False})


@dataclass(frozen=True, slots=True)
class VerdictView:
    """A graded reply (/check, a chosen letter, a typed answer): ``right`` or ``wrong``, the tags
    that reproduce the number given (empty when right or unrecognised), and both numbers in mV
    (None for a concept question)."""

    verdict: str
    mistakes: tuple[str, ...]
    expected_mv: float | None
    given_mv: float | None


@dataclass(frozen=True, slots=True)
class TopicProgress:
    """One topic in /progress show: its level (new, learning, familiar, mastered), graded
    attempts and how many were right, and how many of its cards are due now."""

    slug: str
    level: str
    attempts: int
    correct: int
    due: int


@dataclass(frozen=True, slots=True)
class ProgressView:
    """/progress show: per topic, the cards due now (ids, most overdue first) and the UTC day streak."""

    topics: tuple[TopicProgress, ...]
    due: tuple[str, ...]
    streak_days: int


@dataclass(frozen=True, slots=True)
class Answer:
    """What to tell the user. ``headline`` is the one line that must be seen first."""

    command: str
    title: str
    headline: str
    lines: tuple[str, ...] = ()
    fields: tuple[AnswerField, ...] = ()
    steps: tuple[Step, ...] = ()
    footer: str = ""
    result: NernstResult | RestingPotentialResult | WhatIfResult | None = None
    error: bool = False
    topic: str | None = None  # for the log, not shown: the curated topic this answer is
    confidence: float | None = None  # for the log: /ask's match confidence
    answered: bool | None = None  # for the log: /ask answered from the notes, or declined
    figures: tuple[Figure, ...] = ()
    quiz: QuizView | None = None  # /quiz, and a graded reply to it: what was asked
    verdict: VerdictView | None = None  # /check and a graded reply: right or wrong, and why
    progress: ProgressView | None = None  # /progress show

    def to_json(self) -> dict[str, Any]:
        """The schema's fields; a practice answer adds its own (``problem`` … ``choices``,
        ``verdict`` … ``given_mv``, ``topics`` … ``streak_days``) at the top level."""
        data: dict[str, Any] = {"schema": SCHEMA}
        for name in ("command", "title", "headline", "lines", "fields", "steps", "footer", "error"):
            data[name] = to_json(getattr(self, name))
        data["result"] = to_json(self.result) if self.result is not None else None
        data["figures"] = to_json(self.figures)
        for part in (self.quiz, self.verdict, self.progress):
            if part is not None:
                data.update(to_json(part))
        return data


def millivolts(value: float) -> str:
    """A potential as students write it: sign, one decimal, Unicode minus (−65.2 mV)."""
    text = f"{value:+.1f}"
    if text in ("+0.0", "-0.0"):
        return "0.0 mV"
    return text.replace("-", "−") + " mV"


def _celsius(value: float) -> str:
    return f"{format_number(value)} °C"


FIELD_VALUE_LIMIT: Final = 1024
"""Discord's embed field value limit (design.md; ``bot.render.limits.FIELD_VALUE``)."""


def line_fields(name: str, lines: list[str], *, first: str | None = None) -> tuple[AnswerField, ...]:
    """Lines in as few fields as Discord's field value limit allows ("Sources", then
    "Sources (cont.)"); a line is never split between two fields."""
    values: list[str] = []
    for line in lines:
        if values and len(values[-1]) + 1 + len(line) <= FIELD_VALUE_LIMIT:
            values[-1] += "\n" + line
        else:
            values.append(line[:FIELD_VALUE_LIMIT])
    return tuple(
        AnswerField((first or name) if number == 0 else f"{name} (cont.)", value) for number, value in enumerate(values)
    )
