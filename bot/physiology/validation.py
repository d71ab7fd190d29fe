"""The accepted input ranges and the one error type a student ever sees.

The ranges are declared once here; the command declaration (Discord option bounds and
the terminal parser) reads them from this module, so the three can never disagree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final


class InputError(ValueError):
    """A value the user supplied cannot be used; the message is written for the user.

    Every layer (engine, command parser, Discord adapter) raises or forwards this one
    type, so a bad value gets the same clear sentence wherever it was typed.
    """

    def __init__(self, message: str, *, option: str | None = None) -> None:
        super().__init__(message)
        self.option = option


@dataclass(frozen=True, slots=True)
class Bounds:
    """An inclusive numeric range with the unit a student reads in the error."""

    low: float
    high: float
    unit: str

    def describe(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"{_number(self.low)} to {_number(self.high)}{unit}"


CONCENTRATION: Final = Bounds(1e-6, 1000.0, "mM")
PERMEABILITY: Final = Bounds(0.0, 1000.0, "")
TEMPERATURE: Final = Bounds(0.0, 50.0, "°C")
VALENCE: Final = Bounds(-3, 3, "")


def _number(value: float) -> str:
    """A number as a student would write it (1e-06 → 0.000001, 1000.0 → 1000)."""
    if value != 0 and abs(value) < 1e-3:
        return f"{value:.10f}".rstrip("0").rstrip(".")
    return f"{value:g}"


def _real(value: int | float) -> float | int:
    """An int too large for a float (10**400 from a JSON payload) as ±inf, not OverflowError."""
    if isinstance(value, int) and abs(value) > 1e300:
        return math.inf if value > 0 else -math.inf
    return value


def check_in_bounds(option: str, value: float, bounds: Bounds, what: str) -> float:
    """Return ``value`` as a float or raise :class:`InputError` naming the option."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"`{option}` must be a number: {what} from {bounds.describe()}.", option=option)
    value = float(_real(value))
    if math.isnan(value) or math.isinf(value):
        raise InputError(f"`{option}` must be a finite number: {what} from {bounds.describe()}.", option=option)
    if not bounds.low <= value <= bounds.high:
        unit = f" {bounds.unit}" if bounds.unit else ""
        raise InputError(
            f"`{option}` = {_number(value)}{unit} is out of range: {what} must be from {bounds.describe()}.",
            option=option,
        )
    return value


def check_concentration(option: str, value: float) -> float:
    return check_in_bounds(option, value, CONCENTRATION, "a concentration")


def check_permeability(option: str, value: float) -> float:
    return check_in_bounds(option, value, PERMEABILITY, "a relative permeability")


def check_temperature(option: str, value: float) -> float:
    return check_in_bounds(option, value, TEMPERATURE, "the temperature")


def check_valence(option: str, value: int) -> int:
    """A valence is a non-zero whole number from −3 to 3."""
    allowed = "a non-zero whole number from -3 to 3"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(_real(value)):
        raise InputError(f"`{option}` must be {allowed}.", option=option)
    if value != int(value) or value == 0 or not VALENCE.low <= value <= VALENCE.high:
        raise InputError(f"`{option}` = {_number(value)} is not allowed: it must be {allowed}.", option=option)
    return int(value)


def check_permeabilities(permeabilities: dict[str, float]) -> dict[str, float]:
    """Each permeability in range, and at least one ion permeant."""
    checked = {name: check_permeability(name, value) for name, value in permeabilities.items()}
    if not any(value > 0 for value in checked.values()):
        names = ", ".join(f"`{name}`" for name in checked)
        raise InputError(f"At least one permeability ({names}) must be above 0: with none, no ion can set a potential.")
    return checked
