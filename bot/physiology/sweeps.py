"""Curves for figures: V_m and E over a range of one input, from the engine's own functions.

A figure and its alt text must show the same numbers, so both evaluate the curves here:
the same vectorised GHK and Nernst functions that answer a single request, called with
an array. Pure NumPy; nothing here knows about matplotlib.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from bot.physiology.equations import ArrayLike, ghk_voltage, nernst_potential

GhkIon = tuple[str, float, float, float]
"""(ion key, permeability, inside mM, outside mM) for K, Na, Cl."""


def vm_versus_k_out(temperature_c: float, ions: Sequence[GhkIon], k_out: ArrayLike) -> ArrayLike:
    """V_m (GHK, mV) with [K⁺]o replaced by ``k_out``; the other ions as given.

    Permeabilities are taken relative to the largest, as the calculator does, so a
    subnormal permeability cannot underflow to 0/0.
    """
    top = max(p for _, p, _, _ in ions)
    inputs = {key: (p / top, inside, k_out if key == "K" else outside) for key, p, inside, outside in ions}
    return ghk_voltage(temperature_c, inputs)


def nernst_versus_ratio(valence: int, ratio: ArrayLike, temperature_c: float) -> ArrayLike:
    """E (Nernst, mV) for a concentration ratio [X]o/[X]i."""
    return nernst_potential(valence, 1.0, ratio, temperature_c)


def log_range(value: float, low: float, high: float, floor: float, ceiling: float) -> tuple[float, float]:
    """A log-axis range from decade to decade that spans ``low`` … ``high`` and keeps ``value``
    inside it with room to spare, within ``floor`` … ``ceiling``."""
    start = 10.0 ** math.floor(math.log10(min(low, value / 3)))
    end = 10.0 ** math.ceil(math.log10(max(high, value * 3)))
    return max(floor, start), min(ceiling, end)
