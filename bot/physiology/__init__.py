"""The equation engine: ions, presets, Nernst, GHK, derivations and what-if scenarios.

Pure functions and dataclasses; nothing here knows about Discord or the terminal.
"""

from bot.physiology.calculator import nernst, resting_potential, scenarios, what_if
from bot.physiology.equations import ghk_voltage, mullins_noda_voltage, nernst_potential, warm_up
from bot.physiology.ions import IONS, Ion
from bot.physiology.presets import DEFAULT_PRESET, PRESETS, Preset
from bot.physiology.results import NernstResult, RestingPotentialResult, WhatIfResult, to_json
from bot.physiology.validation import InputError

__all__ = [
    "DEFAULT_PRESET",
    "IONS",
    "PRESETS",
    "InputError",
    "Ion",
    "NernstResult",
    "Preset",
    "RestingPotentialResult",
    "WhatIfResult",
    "ghk_voltage",
    "mullins_noda_voltage",
    "nernst",
    "nernst_potential",
    "resting_potential",
    "scenarios",
    "to_json",
    "warm_up",
    "what_if",
]
