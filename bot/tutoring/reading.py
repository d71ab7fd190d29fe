"""A typed answer ("−89.1 mV", "-0,089 V", "-89") read as a potential in millivolts.

Students type answers on phones, copy them from calculators and write the decimal comma
of their country, so the reader accepts every ordinary way of writing one potential and
refuses, with a sentence that says what to type, everything else: another unit, a range,
two numbers, NaN. It is a small regular grammar matched by hand; nothing the student
typed is ever evaluated. The unit is read by the one units layer (bot/reading/units.py),
the same that reads /labs and free-text questions.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Final

from bot.physiology import InputError
from bot.reading.units import potential_mv, unit_kind

MAX_LENGTH: Final = 40
"""Longer than any way of writing one potential ("E_K = −89.1 mV" is 14 characters)."""
LARGEST_MV: Final = 10_000.0
"""No membrane potential is near 10 V; a number past it is a slip, not an answer."""
VOLTS_BELOW: Final = 1.0
VOLTS_WHEN_EXPECTED: Final = 5.0
"""A bare number below 1 in size, when the answer is at least 5 mV in size, is read as volts."""

EXAMPLE: Final = "type one potential with its unit, e.g. `-89.1 mV` or `-0.089 V`"
_DASHES: Final = str.maketrans({"−": "-", "–": "-", "—": "-", "‒": "-", "﹣": "-", "－": "-", "＋": "+"})
_NUMBER: Final = r"\d+(?:[.,]\d+)?(?:e[+-]?\d+)?|[.,]\d+(?:e[+-]?\d+)?"
_ANSWER: Final = re.compile(
    rf"(?:[a-z][a-z_() ]{{0,10}}=\s*)?(?:≈|~|about\s)?\s*"  # an optional "E_K =" or "≈"
    rf"(?P<sign>[+-]?)\s*(?P<number>{_NUMBER})\s*(?P<unit>[^\d\s].*)?",
    re.IGNORECASE,
)
_NUMBERS: Final = re.compile(_NUMBER, re.IGNORECASE)
_DEGREES: Final = frozenset({"°", "º", "deg", "degree", "degrees"})
"""A degree sign without its scale: still a temperature, for the message."""
_RANGE: Final = re.compile(r"\d\s*(?:-|to|or|/|\.\.|…)\s*[+-]?\s*[.,]?\d", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Reading:
    """The potential read (mV) and, when the reader had to guess the unit, what it assumed."""

    value_mv: float
    note: str | None = None


def _shown(text: str, limit: int = 20) -> str:
    """A short, harmless echo of what was typed: one line, no backticks, no mentions."""
    cleaned = " ".join(text.split()).replace("`", "'").replace("@", "@\u200b")
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def _fail(message: str) -> InputError:
    return InputError(message, option="answer")


def _unit_scale(unit: str) -> float | None:
    """mV per unit typed, from the units layer (1 for mV, 1000 for V); None for no unit;
    InputError naming what was typed instead (a concentration, a temperature) otherwise."""
    key = unit.strip().rstrip(".").strip()
    if not key:
        return None
    try:
        return potential_mv(1.0, key)
    except InputError:
        pass
    kind = unit_kind(key)
    if kind == "concentration":
        what = "a concentration"
    elif kind == "temperature" or "".join(key.split()).lower() in _DEGREES:
        what = "a temperature in kelvin" if key.lower() in ("k", "kelvin", "kelvins") else "a temperature"
    else:
        raise _fail(f"`{_shown(key, 12)}` is not mV or V: {EXAMPLE}.")
    raise _fail(f"`{_shown(key, 12)}` is {what}, not a potential: {EXAMPLE}.")


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _format_mv(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".").replace("-", "−")


def _refuse_shape(text: str) -> None:
    """The messages for answers that are not one number: empty, too long, not finite, several."""
    if not text:
        raise _fail(f"The answer is empty: {EXAMPLE}.")
    if len(text) > MAX_LENGTH:
        raise _fail(f"That answer is too long ({len(text)} characters): {EXAMPLE}.")
    lowered = text.lower()
    if re.search(r"\b(nan|inf|infinity)\b|∞", lowered):
        raise _fail(f"The answer must be a finite number: {EXAMPLE}.")
    numbers = _NUMBERS.findall(text)
    if not numbers:
        raise _fail(f"`{_shown(text)}` is not a number: {EXAMPLE}.")
    if len(numbers) > 1:
        if _RANGE.search(text):
            raise _fail(f"Give one number, not a range: {EXAMPLE}.")
        raise _fail(f"Give one number, not {len(numbers)}: {EXAMPLE}.")


def read_potential(text: str, expected_mv: float) -> Reading:
    """The potential the student typed, in mV; :class:`InputError` saying what to type otherwise.

    ``expected_mv`` only decides whether a bare number below 1 in size means volts (it
    does when the right answer is at least 5 mV in size); the reading never depends on
    whether the answer is right.
    """
    cleaned = text.translate(_DASHES).strip() if isinstance(text, str) else ""
    _refuse_shape(cleaned)
    match = _ANSWER.fullmatch(cleaned)
    if match is None:
        raise _fail(f"`{_shown(cleaned)}` is not one potential: {EXAMPLE}.")
    magnitude = _number(match["number"])
    value = -magnitude if match["sign"] == "-" else magnitude
    scale = _unit_scale(match["unit"] or "")
    note = None
    if scale is None:
        if abs(value) < VOLTS_BELOW and abs(expected_mv) >= VOLTS_WHEN_EXPECTED:
            scale = 1000.0
            typed = (match["sign"] if match["sign"] == "-" else "") + match["number"].replace(",", ".")
            note = f"read as {typed.replace('-', '−')} V = {_format_mv(value * scale)} mV: give a unit next time"
        else:
            scale = 1.0
    millivolts = value * scale
    if not math.isfinite(millivolts) or abs(millivolts) > LARGEST_MV:
        raise _fail(f"That number is far beyond any membrane potential (at most a few hundred mV): {EXAMPLE}.")
    return Reading(millivolts, note)
