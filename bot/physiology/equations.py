"""The Nernst, GHK and Mullins–Noda equations as NumPy functions: the numeric path.

Every number the bot answers with comes from these functions; the same functions accept
arrays, for sweeps and figures. Potentials are returned in millivolts.

Why plain NumPy and not sympy's lambdify of the symbolic form: the sympy expressions in
:mod:`bot.physiology.symbolic` remain the source of truth (the derivations print and
substitute into them), but importing sympy (≈ 0.2 s) and building and lambdifying an
expression on first use (≈ 0.08 s) were most of a cold one-shot answer
(``membrane-tutor ask "/nernst ion:K"``, bench/bench_cold_start.py). So each function
here is written out from the same formula, with the operations in the order lambdify
generated them (``THERMAL_MV_PER_K·(t + 273.15)·ln(…)/z``), and
``tests/test_equations.py`` proves each equal to the lambdified sympy expression on a
dense random grid over the accepted ranges (relative 1e-12). This module imports no
sympy; only the derivations (``detail:steps``) and the notation that prints them do.
:func:`warm_up` still does all the symbolic work at start-up, for the long-running bot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt

from bot.physiology.constants import FARADAY, GAS_CONSTANT, MILLIVOLTS_PER_VOLT, ZERO_CELSIUS

if TYPE_CHECKING:
    from bot.physiology.ions import Ion

ArrayLike = float | npt.NDArray[np.float64]

THERMAL_MV_PER_K: Final = MILLIVOLTS_PER_VOLT * GAS_CONSTANT / FARADAY
"""1000·R/F in mV per kelvin: the constant lambdify folded into every expression (0.0861733326228198)."""
LN_10: Final = np.log(10)


def nernst_potential(valence: int, inside: ArrayLike, outside: ArrayLike, temperature_c: ArrayLike) -> ArrayLike:
    """Equilibrium potential in mV (Nernst): RT/(zF)·ln([X]o/[X]i); vectorised over any argument."""
    return THERMAL_MV_PER_K * (temperature_c + ZERO_CELSIUS) * np.log(outside / inside) / valence


def decade_slope(valence: int, temperature_c: ArrayLike) -> ArrayLike:
    """mV per tenfold change of [X]o/[X]i, RT·ln10/(zF): 61.54/z at 37 °C."""
    return THERMAL_MV_PER_K * (temperature_c + ZERO_CELSIUS) * LN_10 / valence


GhkInputs = dict[str, tuple[ArrayLike, ArrayLike, ArrayLike]]
"""ion key → (permeability, inside, outside) for K, Na and Cl."""

_IMPERMEANT: Final = (0.0, 1.0, 1.0)
"""An ion a model leaves out: no permeability, so its terms add nothing."""


def _coupled_ghk(coupling_ratio: ArrayLike, temperature_c: ArrayLike, ions: GhkInputs) -> ArrayLike:
    """RT/F·ln((r·P_K[K]o + P_Na[Na]o + P_Cl[Cl]i)/(r·P_K[K]i + P_Na[Na]i + P_Cl[Cl]o)) in mV."""
    p_k, k_i, k_o = ions.get("K", _IMPERMEANT)
    p_na, na_i, na_o = ions.get("Na", _IMPERMEANT)
    p_cl, cl_i, cl_o = ions.get("Cl", _IMPERMEANT)
    numerator = cl_i * p_cl + k_o * p_k * coupling_ratio + na_o * p_na
    denominator = cl_o * p_cl + k_i * p_k * coupling_ratio + na_i * p_na
    return THERMAL_MV_PER_K * (temperature_c + ZERO_CELSIUS) * np.log(numerator / denominator)


def ghk_voltage(temperature_c: ArrayLike, ions: GhkInputs) -> ArrayLike:
    """Membrane potential in mV from the GHK voltage equation; vectorised.

    An ion absent from ``ions`` is impermeant. Plain GHK is the coupled form with r = 1
    (multiplying by 1.0 is exact, so r = 1 gives bit for bit the same number)."""
    return _coupled_ghk(1.0, temperature_c, ions)


def mullins_noda_voltage(coupling_ratio: float, temperature_c: ArrayLike, ions: GhkInputs) -> ArrayLike:
    """GHK with the pump's K⁺ coupling ratio r (3 Na⁺ : 2 K⁺ → r = 1.5); r = 1 is GHK."""
    return _coupled_ghk(coupling_ratio, temperature_c, ions)


def conductance_shares(
    vm_mv: float, temperature_c: float, ions: dict[str, tuple[Ion, float, float, float]]
) -> dict[str, float]:
    """Each ion's share of the membrane's chord conductance at ``vm_mv``.

    From the GHK current equation, g = I/(V − E); at V = E the limit is
    P z²F²/RT · [X]i[X]o·ln([X]o/[X]i)/([X]o − [X]i). This is what "the ion that
    dominates" means physically: the largest share of resting conductance.
    ``ions`` maps a key to (ion, permeability, inside, outside).
    """
    thermal = GAS_CONSTANT * (temperature_c + ZERO_CELSIUS) / FARADAY * MILLIVOLTS_PER_VOLT
    conductances: dict[str, float] = {}
    for key, (ion, permeability, inside, outside) in ions.items():
        valence = ion.valence
        equilibrium = float(nernst_potential(valence, inside, outside, temperature_c))
        if permeability == 0:
            conductances[key] = 0.0
            continue
        if abs(vm_mv - equilibrium) < 1e-6:
            log_ratio = np.log(outside / inside)
            mean = inside * outside * log_ratio / (outside - inside) if inside != outside else inside
            conductances[key] = permeability * valence**2 * mean / thermal
            continue
        u = valence * vm_mv / thermal
        # P z² (V/θ) = P z u, and u/(1 − e⁻ᵘ) → 1 as u → 0 (V_m exactly 0 mV gave 0/0 = NaN)
        drive = 1.0 if u == 0 else u / -np.expm1(-u)
        current = permeability * valence * drive * (inside - outside * np.exp(-u))
        conductances[key] = float(current / (vm_mv - equilibrium))
    total = sum(conductances.values())
    return {key: value / total for key, value in conductances.items()}


def warm_up() -> None:
    """Do the symbolic work now (import sympy, build the equations, check the identities the
    derivations rest on, print one derivation of each kind), so that on the long-running bot
    and in the console no request, not even the first ``detail:steps``, pays for sympy.

    The numeric path needs no warming; a one-shot ``ask`` skips this and never loads sympy.
    """
    from bot.physiology.derivation import warm_up as warm_up_derivations

    warm_up_derivations()
