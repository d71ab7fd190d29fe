"""Grading: a pressed letter, a typed number, or a student's own homework (``/check``).

A wrong number is compared with every catalogue mistake done on the same inputs, so the
student hears which step went wrong, not just "wrong". The tolerance is one rule for
both sides, max(0.5 mV, 0.5 %): of the exact value for "right", of each mistake's value
for "this is your mistake".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from bot.physiology import InputError, nernst, resting_potential, what_if
from bot.tutoring.mistakes import ghk_mistakes, nernst_mistakes, reproduces
from bot.tutoring.problems import LETTERS, Choice, Problem, whatif_mistakes
from bot.tutoring.reading import read_potential

COMMANDS: Final = ("nernst", "restpot")
_NERNST_OPTIONS: Final = frozenset({"ion", "inside", "outside", "preset", "temperature", "valence"})
_IGNORED: Final = frozenset({"answer", "detail", "private"})
"""Options of the command that do not change the number (the answer itself, how it is shown)."""


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The verdict on a typed number, with the mistakes that reproduce it when it is wrong."""

    verdict: str
    mistakes: tuple[str, ...]
    expected_mv: float
    given_mv: float
    note: str | None = None

    @property
    def right(self) -> bool:
        return self.verdict == "right"


def _engine_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The options the engine takes: the display options and the answer dropped, None left out."""
    return {name: value for name, value in options.items() if name not in _IGNORED and value is not None}


def expected_and_mistakes(command: str, options: Mapping[str, Any]) -> tuple[float, dict[str, float]]:
    """The engine's exact value for this request and what each applicable mistake gives instead."""
    given = _engine_options(options)
    if command == "nernst":
        unknown = sorted(set(given) - _NERNST_OPTIONS)
        if unknown:
            raise InputError(f"Unknown option `{unknown[0][:30]}` for /check nernst.", option=unknown[0][:30])
        if "ion" not in given:
            raise InputError("`/check nernst` needs an `ion` (K, Na, Cl, Ca, Mg, H or custom).", option="ion")
        result = nernst(**given)
        ion = result.ion
        return result.potential_mv, nernst_mistakes(ion.valence, ion.inside_mm, ion.outside_mm, result.temperature_c)
    if command == "restpot":
        result = resting_potential(**given)
        ions = {i.ion: (i.permeability, i.inside_mm, i.outside_mm) for i in result.ions if i.permeability is not None}
        return result.vm_mv, ghk_mistakes(result.temperature_c, ions)
    if command == "whatif":
        change = what_if(**given)
        return change.change_mv, whatif_mistakes(change.scenario, change.preset)
    raise InputError(f"`/check` grades {' or '.join(COMMANDS)} answers.", option="command")


COMMANDS_GRADED: Final = (*COMMANDS, "whatif")
"""What :func:`check` accepts: the two /check subcommands, and a what-if problem's request."""


def grade(expected_mv: float, mistakes: Mapping[str, float], answer: str) -> CheckResult:
    """The verdict on a typed answer against an exact value and its mistakes' values."""
    reading = read_potential(answer, expected_mv)
    given = reading.value_mv
    if reproduces(expected_mv, given):
        return CheckResult("right", (), expected_mv, given, reading.note)
    named = tuple(tag for tag, value in mistakes.items() if reproduces(value, given))
    return CheckResult("wrong", named, expected_mv, given, reading.note)


def check(command: str, options: Mapping[str, Any], answer: str) -> CheckResult:
    """Grade a student's own number for a /nernst or /restpot request (``/check``).

    The options are validated by the engine, so a bad concentration gets the calculator's
    own message (:class:`InputError` passes through); so does an unreadable answer.
    """
    expected, mistakes = expected_and_mistakes(command, options)
    return grade(expected, mistakes, answer)


def grade_answer(problem: Problem, answer: str) -> CheckResult:
    """Grade a number typed for a generated problem (the quiz's "Type my answer" modal)."""
    return grade(problem.expected_mv, problem.mistakes, answer)


def grade_choice(problem: Problem, letter: str) -> Choice:
    """The choice a pressed (or typed) letter names; case-insensitive, A–E."""
    key = letter.strip().upper() if isinstance(letter, str) else ""
    offered = {choice.letter: choice for choice in problem.choices}
    if key not in offered:
        allowed = ", ".join(offered)
        shown = key[:3] if key and len(key) <= 3 and key.isalnum() else "that"
        raise InputError(f"There is no option `{shown}`: choose one of {allowed}.", option="choice")
    return offered[key]


__all__ = ["LETTERS", "CheckResult", "check", "grade", "grade_answer", "grade_choice"]
