"""The public catalogue of calculation mistakes, each reproduced from the same inputs.

A tutor that says "wrong" teaches little; one that says "you used log₁₀ with RT/F: the
2.303 is missing" teaches the step. Every distractor of a numeric problem and every
mistake ``/check`` names comes from these functions, so a tag shown to a student is
always a calculation the engine actually did on the student's inputs. The tags are a
public contract (``--json``, ``/stats``): never rename one.

The arithmetic is plain :mod:`math` on floats: the keyed (right) value always comes from
the engine (``bot.physiology``); these functions only compute what a mistake gives.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from bot.physiology.constants import BODY_TEMPERATURE_C, ZERO_CELSIUS
from bot.physiology.equations import THERMAL_MV_PER_K

ROOM_TEMPERATURE_C: Final = 20.0
"""The temperature a student takes for "room temperature" (the room-temperature mistake)."""
SLOPE_AT_37_MV: Final = 61.5
"""The rounded 37 °C slope students memorise (2.303·RT/F = 61.54 mV per decade)."""
RULE_OF_60_MV: Final = 60.0


@dataclass(frozen=True, slots=True)
class Mistake:
    """A tag (public, stable) and the sentence a student reads when it is theirs."""

    tag: str
    words: str


CATALOGUE: Final[Mapping[str, Mistake]] = MappingProxyType(
    {
        mistake.tag: mistake
        for mistake in (
            Mistake("sign-flipped", "you flipped the sign: the size is right but the potential has the other sign"),
            Mistake(
                "inside-outside-swapped",
                "you put inside over outside: the ratio is [X]outside/[X]inside (for a cation), which flips the sign",
            ),
            Mistake("log10-without-2.303", "you used log₁₀ with RT/F: the 2.303 is missing"),
            Mistake(
                "ln-with-61.5",
                "you used 61.5 mV with ln: 61.5 mV is 2.303·RT/F, the factor for log₁₀; with ln the factor is RT/F",
            ),
            Mistake(
                "celsius-as-kelvin",
                "you put the temperature in °C into RT/F: T must be in kelvin (°C + 273.15)",
            ),
            Mistake(
                "valence-ignored", "you took z = 1 for a divalent ion: divide by z = 2, which halves the potential"
            ),
            Mistake("valence-sign", "you took Cl⁻ as +1: its valence is −1, which turns its ratio the other way round"),
            Mistake(
                "cl-not-inverted",
                "you put Cl⁻ the cation way round in GHK: for the anion, [Cl⁻]inside goes on top and "
                "[Cl⁻]outside below",
            ),
            Mistake("room-temperature", "you used room temperature (20 °C) for a cell at 37 °C: T is 310.15 K"),
            Mistake(
                "temperature-ignored",
                "you used 61.5 mV per decade at another temperature: 61.5 mV holds at 37 °C only; "
                "the slope is 2.303·RT/(zF) at the temperature given",
            ),
            Mistake(
                "rule-of-60", "you used the 60 mV rule at 37 °C: at body temperature the slope is 61.5 mV per decade"
            ),
            Mistake(
                "nernst-not-ghk",
                "you gave E_K as the membrane potential: V_m comes from the GHK equation, where the other "
                "ions' leaks pull it away from E_K",
            ),
            Mistake(
                "permeability-ratio-inverted",
                "you exchanged P_K and P_Na: each permeability multiplies its own ion's concentrations",
            ),
        )
    }
)

TOLERANCE_MV: Final = 0.5
TOLERANCE_FRACTION: Final = 0.005


def tolerance(value_mv: float) -> float:
    """How close a number must be to ``value_mv`` to count as it: max(0.5 mV, 0.5 %)."""
    return max(TOLERANCE_MV, TOLERANCE_FRACTION * abs(value_mv))


def reproduces(mistake_mv: float, given_mv: float) -> bool:
    """Whether ``given_mv`` is what the mistake gives, within the mistake value's tolerance."""
    return abs(given_mv - mistake_mv) <= tolerance(mistake_mv)


def _thermal(celsius: float) -> float:
    """RT/F in mV at ``celsius``."""
    return THERMAL_MV_PER_K * (celsius + ZERO_CELSIUS)


def nernst_mistakes(valence: int, inside: float, outside: float, celsius: float) -> dict[str, float]:
    """Tag → the potential in mV that mistake gives for this ion, for the mistakes that apply.

    ``valence-ignored`` needs a divalent ion, ``valence-sign`` an anion, ``room-temperature``
    and ``rule-of-60`` 37 °C, ``temperature-ignored`` any other temperature and
    ``celsius-as-kelvin`` a temperature above 0 °C (at 0 °C it is no mistake in the number).
    """
    ln_ratio = math.log(outside / inside)
    log10_ratio = math.log10(outside / inside)
    right = _thermal(celsius) * ln_ratio / valence
    at_37 = celsius == BODY_TEMPERATURE_C
    found: dict[str, float] = {
        "sign-flipped": -right,
        "inside-outside-swapped": _thermal(celsius) * math.log(inside / outside) / valence,
        "log10-without-2.303": _thermal(celsius) * log10_ratio / valence,
        "ln-with-61.5": SLOPE_AT_37_MV * ln_ratio / valence,
    }
    if celsius > 0:
        found["celsius-as-kelvin"] = THERMAL_MV_PER_K * celsius * ln_ratio / valence
    if abs(valence) == 2:
        found["valence-ignored"] = _thermal(celsius) * ln_ratio / math.copysign(1, valence)
    if valence < 0:
        found["valence-sign"] = _thermal(celsius) * ln_ratio / -valence
    if at_37:
        found["room-temperature"] = _thermal(ROOM_TEMPERATURE_C) * ln_ratio / valence
        found["rule-of-60"] = RULE_OF_60_MV * log10_ratio / valence
    else:
        found["temperature-ignored"] = SLOPE_AT_37_MV * log10_ratio / valence
    return _in_catalogue_order(found)


GhkIons = Mapping[str, tuple[float, float, float]]
"""Ion key (K, Na, Cl) → (permeability, inside mM, outside mM)."""


def _ghk_ratio(ions: GhkIons, coupling_ratio: float = 1.0, *, cl_as_cation: bool = False) -> float:
    """(r·P_K[K]o + P_Na[Na]o + P_Cl[Cl]i) / (r·P_K[K]i + P_Na[Na]i + P_Cl[Cl]o); Cl⁻ the other way
    round when ``cl_as_cation``. Ions missing from ``ions`` add nothing."""
    numerator = denominator = 0.0
    for key, (permeability, inside, outside) in ions.items():
        weight = permeability * (coupling_ratio if key == "K" else 1.0)
        if key == "Cl" and not cl_as_cation:
            inside, outside = outside, inside
        numerator += weight * outside
        denominator += weight * inside
    return numerator / denominator


def _permeant(ions: GhkIons, key: str) -> bool:
    return key in ions and ions[key][0] > 0


def ghk_mistakes(celsius: float, ions: GhkIons, *, coupling_ratio: float = 1.0) -> dict[str, float]:
    """Tag → the V_m in mV that mistake gives in the GHK voltage equation, for those that apply.

    ``coupling_ratio`` is the Mullins–Noda pump ratio r that multiplies P_K (1 = plain GHK),
    so a what-if about the pump can be reproduced the same way. The Cl⁻ mistakes need a
    permeant Cl⁻; ``nernst-not-ghk`` a permeant K⁺ beside another permeant ion;
    ``permeability-ratio-inverted`` both K⁺ and Na⁺ with different permeabilities.
    """
    ln_ratio = math.log(_ghk_ratio(ions, coupling_ratio))
    log10_ratio = ln_ratio / math.log(10)
    right = _thermal(celsius) * ln_ratio
    found: dict[str, float] = {
        "sign-flipped": -right,
        "inside-outside-swapped": _thermal(celsius) * math.log(1 / _ghk_ratio(ions, coupling_ratio)),
        "log10-without-2.303": _thermal(celsius) * log10_ratio,
        "ln-with-61.5": SLOPE_AT_37_MV * ln_ratio,
    }
    if celsius > 0:
        found["celsius-as-kelvin"] = THERMAL_MV_PER_K * celsius * ln_ratio
    if _permeant(ions, "Cl"):
        cation_way = _thermal(celsius) * math.log(_ghk_ratio(ions, coupling_ratio, cl_as_cation=True))
        found["valence-sign"] = cation_way
        found["cl-not-inverted"] = cation_way
    if celsius == BODY_TEMPERATURE_C:
        found["room-temperature"] = _thermal(ROOM_TEMPERATURE_C) * ln_ratio
        found["rule-of-60"] = RULE_OF_60_MV * log10_ratio
    else:
        found["temperature-ignored"] = SLOPE_AT_37_MV * log10_ratio
    if _permeant(ions, "K") and any(_permeant(ions, key) for key in ions if key != "K"):
        _, k_in, k_out = ions["K"]
        found["nernst-not-ghk"] = _thermal(celsius) * math.log(k_out / k_in)
    if "K" in ions and "Na" in ions and ions["K"][0] != ions["Na"][0]:
        exchanged = dict(ions)
        exchanged["K"] = (ions["Na"][0], *ions["K"][1:])
        exchanged["Na"] = (ions["K"][0], *ions["Na"][1:])
        found["permeability-ratio-inverted"] = _thermal(celsius) * math.log(_ghk_ratio(exchanged, coupling_ratio))
    return _in_catalogue_order(found)


def change_mistakes(
    celsius: float,
    before: GhkIons,
    after: GhkIons,
    *,
    coupling_before: float = 1.0,
    coupling_after: float = 1.0,
) -> dict[str, float]:
    """Tag → the change of V_m (after − before, mV) a mistake gives, for a what-if: the same
    mistake made on both states, so "the direction and size" is wrong the way the student's is."""
    first = ghk_mistakes(celsius, before, coupling_ratio=coupling_before)
    second = ghk_mistakes(celsius, after, coupling_ratio=coupling_after)
    return {tag: second[tag] - first[tag] for tag in first if tag in second}


def _in_catalogue_order(found: dict[str, float]) -> dict[str, float]:
    return {tag: found[tag] for tag in CATALOGUE if tag in found}
