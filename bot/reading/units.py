"""The one units layer: a number and the unit a student wrote, in the engine's units.

Concentrations become mM, temperatures °C and potentials mV through one Pint
``UnitRegistry``, built once on first use, so every reader (free text, ``/labs``, typed
answers) converts with the same published factors instead of its own hand-written ones.
Two conversions are not unit conversions but chemistry, so they live in a Pint context
(``equivalents``) that needs the ion:

- mEq/L ↔ mmol/L: one equivalent is one mole of charge, so mEq/L = mmol/L × |z|
  (1 mmol/L Ca²⁺ = 2 mEq/L; for K⁺, Na⁺ and Cl⁻ the two are equal);
- mg/dL ↔ mmol/L for calcium: the molar mass, 40.08 g/mol, gives mg/dL ÷ 4.008 = mmol/L
  (the laboratory factor 0.2495).

The student's text never reaches Pint's parser: a spelling is looked up in a fixed table
(``mmol/l``, ``µM``, ``°F`` …) that maps it to a Pint unit written here, and anything not in
the table is refused with a sentence that says which units are read. The factors are
derived from Pint once per (unit, ion) and cached, so a conversion on the hot path is a
multiplication.
"""

from __future__ import annotations

import math
from functools import cache
from typing import TYPE_CHECKING, Final

from bot.physiology import IONS, InputError

if TYPE_CHECKING:  # Pint loads on the first conversion, not when the bot starts
    from pint import UnitRegistry

CONTEXT: Final = "equivalents"
CALCIUM_MOLAR_MASS: Final = 40.08
"""g/mol, as the clinical factor 4.008 (mg/dL per mmol/L) uses; IUPAC's standard atomic weight is 40.078."""
MASS_UNITS_FOR: Final = {"Ca": CALCIUM_MOLAR_MASS}
"""Ions read in mg/dL, with their molar mass (g/mol). Only calcium is reported that way here."""

# A spelling (casefolded, spaces removed) → the Pint unit it means. Display spellings are below.
_AMOUNT: Final = {
    "mm": "millimolar",
    "mmol/l": "millimole / liter",
    "mmol/litre": "millimole / liter",
    "mmol/liter": "millimole / liter",
    "mmol": "millimole / liter",  # "K 4.5 mmol": per litre is what every lab means
    "millimolar": "millimolar",
    "μm": "micromolar",  # casefold turns the micro sign µ into the Greek μ
    "um": "micromolar",
    "μmol/l": "micromole / liter",
    "umol/l": "micromole / liter",
    "micromolar": "micromolar",
    "nm": "nanomolar",
    "nmol/l": "nanomole / liter",
    "nanomolar": "nanomolar",
    "m": "molar",
    "mol/l": "mole / liter",
    "molar": "molar",
}
_EQUIVALENTS: Final = {
    "meq/l": "milliequivalent / liter",
    "meq": "milliequivalent / liter",
    "mequiv/l": "milliequivalent / liter",
    "milliequivalents/l": "milliequivalent / liter",
}
_MASS: Final = {"mg/dl": "milligram / deciliter", "mg/100ml": "milligram / deciliter"}
_TEMPERATURE: Final = {
    **dict.fromkeys(("°c", "ºc", "℃", "c", "degc", "degreesc", "degreec", "celsius", "degreescelsius"), "degC"),
    **dict.fromkeys(("k", "kelvin", "kelvins"), "kelvin"),
    **dict.fromkeys(("°f", "ºf", "℉", "f", "degf", "degreesf", "degreef", "fahrenheit", "degreesfahrenheit"), "degF"),
}
_POTENTIAL: Final = {
    **dict.fromkeys(("mv", "millivolt", "millivolts"), "millivolt"),
    **dict.fromkeys(("v", "volt", "volts"), "volt"),
}


def _by_length(spellings: tuple[str, ...]) -> tuple[str, ...]:
    """Longest first, so a reader's regular expression tries ``mmol/L`` before ``mM`` and ``M``."""
    return tuple(sorted(spellings, key=len, reverse=True))


CONCENTRATION_UNITS: Final = _by_length(
    (
        *("mM", "mmol/L", "mmol/l", "mmol", "millimolar"),
        *("mEq/L", "meq/l", "mEq", "mequiv/L"),
        *("µM", "μM", "uM", "µmol/L", "umol/L", "micromolar"),
        *("nM", "nmol/L", "nanomolar", "M", "mol/L", "molar"),
        *("mg/dL", "mg/dl"),
    )
)
"""Spellings of a concentration the reader may meet (matched ignoring case and spaces), longest first."""
TEMPERATURE_UNITS: Final = _by_length(
    (
        "°C",
        "ºC",
        "℃",
        "C",
        "degC",
        "deg C",
        "degrees C",
        "celsius",
        "K",
        "kelvin",
        "°F",
        "ºF",
        "℉",
        "F",
        "degF",
        "fahrenheit",
    )
)
"""Spellings of a temperature the reader may meet, longest first."""
POTENTIAL_UNITS: Final = _by_length(("mV", "millivolt", "millivolts", "V", "volt", "volts"))
"""Spellings of a potential the reader may meet, longest first."""

_CONCENTRATIONS_ALLOWED: Final = "mM (= mmol/L), mEq/L (with the ion), µM, nM or M; calcium also in mg/dL"
_TEMPERATURES_ALLOWED: Final = "°C, K or °F"
_POTENTIALS_ALLOWED: Final = "mV or V"


@cache
def registry() -> UnitRegistry:
    """The one registry: Pint's units plus the equivalent and the ``equivalents`` context."""
    import pint

    units = pint.UnitRegistry(cache_folder=None)
    units.define("equivalent = [equivalents] = eq")
    context = pint.Context(CONTEXT, defaults={"z": 1, "molar_mass": 0.0})
    per_volume = "/ [length] ** 3"
    context.add_transformation(
        f"[equivalents] {per_volume}",
        f"[substance] {per_volume}",
        lambda ureg, value, z, molar_mass: value / abs(z) * ureg.mole / ureg.equivalent,
    )
    context.add_transformation(
        f"[mass] {per_volume}",
        f"[substance] {per_volume}",
        lambda ureg, value, z, molar_mass: value / (molar_mass * ureg.gram / ureg.mole),
    )
    units.add_context(context)
    return units


def _key(unit: str) -> str:
    return "".join(unit.split()).casefold().rstrip(".") if isinstance(unit, str) else ""


def _shown(text: object, limit: int = 16) -> str:
    """A short, harmless echo of a unit: one line, no backticks, no mentions."""
    cleaned = " ".join(str(text).split()).replace("`", "'").replace("@", "@\u200b")
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def unit_kind(unit: str) -> str | None:
    """What a spelling measures ("concentration", "temperature", "potential"), or None if unknown.

    Lets a reader say "`37 °C` is a temperature, not a potential" instead of only "not mV"."""
    key = _key(unit)
    if key in _AMOUNT or key in _EQUIVALENTS or key in _MASS:
        return "concentration"
    if key in _TEMPERATURE:
        return "temperature"
    if key in _POTENTIAL:
        return "potential"
    return None


def _refuse(unit: str, wanted: str, allowed: str, option: str | None) -> InputError:
    kind = unit_kind(unit)
    if not _key(unit):
        return InputError(f"Give {wanted} with its unit: {allowed}.", option=option)
    what = f"is a {kind}, not {wanted}" if kind else f"is not a unit of {wanted.removeprefix('a ')}"
    return InputError(f"`{_shown(unit)}` {what}: use {allowed}.", option=option)


def _finite(value: float, option: str | None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError("The value must be a finite number.", option=option)
    return float(value)


def _clean(value: float) -> float:
    """Twelve significant digits: 98.6 °F is 37 °C, not 37.00000000000006."""
    return float(f"{value:.12g}")


def ion_key(ion: str) -> str:
    """The engine's key for ``K``, ``k``, ``K⁺``, ``K+``, ``Ca2+``, ``calcium`` …; InputError otherwise."""
    text = "".join(str(ion).split()).rstrip("⁺⁻+-²¹23").casefold()
    for key, known in IONS.items():
        if text in (key.casefold(), known.name):
            return key
    names = ", ".join(IONS)
    raise InputError(f"`{_shown(ion)}` is not an ion this bot knows: {names}.", option="ion")


@cache
def _mm_per(unit_key: str, ion: str | None) -> float:
    """mM per one ``unit_key`` for ``ion``, from Pint (cached: the factor never changes)."""
    units = registry()
    if unit_key in _AMOUNT:
        return float(units.Quantity(1.0, _AMOUNT[unit_key]).to("millimolar").magnitude)
    if unit_key in _EQUIVALENTS:
        if ion is None:
            raise InputError(
                "mEq/L depends on the ion's charge (1 mmol/L Ca²⁺ = 2 mEq/L): name the ion, or give mmol/L."
            )
        valence = IONS[ion].valence
        quantity = units.Quantity(1.0, _EQUIVALENTS[unit_key])
        return float(quantity.to("millimolar", CONTEXT, z=valence).magnitude)
    if ion not in MASS_UNITS_FOR:
        which = f"give {IONS[ion].symbol}" if ion is not None else "name the ion, or give it"
        raise InputError(f"mg/dL is read for calcium only: {which} in mmol/L or mEq/L.")
    quantity = units.Quantity(1.0, _MASS[unit_key])
    return float(quantity.to("millimolar", CONTEXT, molar_mass=MASS_UNITS_FOR[ion]).magnitude)


def mm_per(unit: str, ion: str | None = None) -> float:
    """How many mM one ``unit`` of ``ion`` is (1 for mmol/L, 0.5 for mEq/L of Ca²⁺, 1/4.008 for
    mg/dL of calcium): what ``/labs`` shows as each conversion's factor."""
    key = _key(unit)
    if key not in _AMOUNT and key not in _EQUIVALENTS and key not in _MASS:
        raise _refuse(unit, "a concentration", _CONCENTRATIONS_ALLOWED, None)
    return _mm_per(key, ion_key(ion) if ion is not None else None)


def concentration_mm(value: float, unit: str, ion: str | None = None) -> float:
    """``value`` in ``unit`` as mM (= mmol/L). mEq/L needs the ion (÷ |z|); mg/dL is calcium's (÷ 4.008).

    InputError names the units read when the unit is unknown, another quantity's, or needs an ion."""
    return _clean(_finite(value, None) * mm_per(unit, ion))


@cache
def _affine(unit_key: str, table: str) -> tuple[float, float]:
    """(scale, offset) such that engine value = scale × value + offset, taken from Pint once."""
    units = registry()
    source, target = (_TEMPERATURE[unit_key], "degC") if table == "temperature" else (_POTENTIAL[unit_key], "millivolt")
    zero = float(units.Quantity(0.0, source).to(target).magnitude)
    one = float(units.Quantity(1.0, source).to(target).magnitude)
    return one - zero, zero


def temperature_c(value: float, unit: str) -> float:
    """``value`` in °C, K or °F as °C (310.15 K and 98.6 °F are 37 °C); InputError for another unit."""
    key = _key(unit)
    if key not in _TEMPERATURE:
        raise _refuse(unit, "a temperature", _TEMPERATURES_ALLOWED, "temperature")
    scale, offset = _affine(key, "temperature")
    return _clean(scale * _finite(value, "temperature") + offset)


def potential_mv(value: float, unit: str) -> float:
    """``value`` in mV or V as mV; InputError for another unit (µV is not how potentials are given)."""
    key = _key(unit)
    if key not in _POTENTIAL:
        raise _refuse(unit, "a potential", _POTENTIALS_ALLOWED, None)
    scale, offset = _affine(key, "potential")
    return _clean(scale * _finite(value, None) + offset)


def warm_up() -> None:
    """Build the registry and the factors every answer uses, off the first student's time
    (Pint's import and registry take about 0.3 s once); for the bot's start-up."""
    for unit in ("mV", "V"):
        potential_mv(1.0, unit)
    for unit in ("°C", "K", "°F"):
        temperature_c(1.0, unit)
    for ion in ("K", "Na", "Cl", "Ca"):
        mm_per("mmol/L", ion)
        mm_per("mEq/L", ion)
    mm_per("mg/dL", "Ca")
