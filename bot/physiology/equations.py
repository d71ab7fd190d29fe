"""The Nernst, GHK and Mullins–Noda equations: built once in sympy, evaluated with NumPy.

The symbolic forms are made from the engine's own symbols (users only ever supply
numbers). Each is built and lambdified on first use and cached for the life of the
process, so a request costs one NumPy call, and the same functions accept arrays for
sweeps. Potentials are returned in millivolts.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Final

import numpy as np
import numpy.typing as npt
import sympy as sp

from bot.physiology.constants import FARADAY, GAS_CONSTANT, MILLIVOLTS_PER_VOLT, ZERO_CELSIUS
from bot.physiology.ions import GHK_IONS, Ion
from bot.physiology.notation import Names

ArrayLike = float | npt.NDArray[np.float64]

R, T, F = sp.symbols("R T F", positive=True)
z = sp.Symbol("z", integer=True, nonzero=True)
r = sp.Symbol("r", positive=True)
celsius = sp.Symbol("t", real=True)
CONSTANTS: Final = {R: sp.Float(GAS_CONSTANT, 15), F: sp.Float(FARADAY, 15)}


@cache
def concentration_symbols(key: str) -> tuple[sp.Symbol, sp.Symbol]:
    """(inside, outside) concentration symbols of an ion key."""
    return sp.Symbol(f"{key}_i", positive=True), sp.Symbol(f"{key}_o", positive=True)


@cache
def permeability_symbol(key: str) -> sp.Symbol:
    return sp.Symbol(f"P_{key}", nonnegative=True)


def names_for(ion: Ion) -> Names:
    """LaTeX and Unicode names of an ion's concentration and permeability symbols."""
    inside, outside = concentration_symbols(ion.key)
    permeability = permeability_symbol(ion.key)
    return Names(
        latex={
            inside: rf"[{ion.latex}]_{{i}}",
            outside: rf"[{ion.latex}]_{{o}}",
            permeability: rf"P_{{\mathrm{{{ion.element}}}}}",
        },
        unicode={inside: f"[{ion.symbol}]ᵢ", outside: f"[{ion.symbol}]ₒ", permeability: f"P_{ion.element}"},
    )


BASE_NAMES: Final = Names(
    latex={R: "R", T: "T", F: "F", z: "z", r: "r"},
    unicode={R: "R", T: "T", F: "F", z: "z", r: "r"},
)


def nernst_form(ion: Ion) -> sp.Expr:
    """E = RT/(zF) · ln([X]o/[X]i), in the order a textbook writes it (volts)."""
    inside, outside = concentration_symbols(ion.key)
    with sp.evaluate(False):
        return sp.Mul(sp.Mul(R, T) / sp.Mul(z, F), sp.log(outside / inside))


def ghk_form(coupled: bool = False, ions: tuple[str, ...] = GHK_IONS) -> sp.Expr:
    """V = RT/F · ln((P_K[K]o + P_Na[Na]o + P_Cl[Cl]i)/(P_K[K]i + P_Na[Na]i + P_Cl[Cl]o)).

    With ``coupled`` the K⁺ terms carry the pump's coupling ratio r (Mullins & Noda,
    J Gen Physiol 1963;47:117–132, doi:10.1085/jgp.47.1.117): r = 1 is plain GHK.
    Cl⁻ is an anion, so its inside concentration stands beside the outside cations.
    ``ions`` leaves out the terms of ions a model does not contain (no Cl⁻ in Luo–Rudy).
    """
    (k_i, k_o), (na_i, na_o), (cl_i, cl_o) = (concentration_symbols(key) for key in GHK_IONS)
    p_k, p_na, p_cl = (permeability_symbol(key) for key in GHK_IONS)
    with sp.evaluate(False):
        k_weight = sp.Mul(r, p_k) if coupled else p_k
        terms = {"K": (k_weight, k_o, k_i), "Na": (p_na, na_o, na_i), "Cl": (p_cl, cl_i, cl_o)}
        numerator = sp.Add(*(sp.Mul(w, top) for key, (w, top, _) in terms.items() if key in ions))
        denominator = sp.Add(*(sp.Mul(w, bottom) for key, (w, _, bottom) in terms.items() if key in ions))
        return sp.Mul(sp.Mul(R, T) / F, sp.log(numerator / denominator))


def _in_millivolts(expr: sp.Expr) -> sp.Expr:
    """Canonical expression in mV of °C, with CODATA constants in place."""
    return (MILLIVOLTS_PER_VOLT * expr.doit()).subs(CONSTANTS).subs(T, celsius + ZERO_CELSIUS)


@cache
def _nernst_numeric() -> Callable[..., ArrayLike]:
    ion = Ion("X", "any ion", "X", 1)
    inside, outside = concentration_symbols(ion.key)
    return sp.lambdify((z, inside, outside, celsius), _in_millivolts(nernst_form(ion)), "numpy")


def _ghk_arguments() -> tuple[sp.Symbol, ...]:
    symbols: list[sp.Symbol] = [celsius]
    for key in GHK_IONS:
        symbols.append(permeability_symbol(key))
        symbols.extend(concentration_symbols(key))
    return tuple(symbols)


@cache
def _ghk_numeric() -> Callable[..., ArrayLike]:
    return sp.lambdify(_ghk_arguments(), _in_millivolts(ghk_form()), "numpy")


@cache
def _mullins_noda_numeric() -> Callable[..., ArrayLike]:
    return sp.lambdify((r, *_ghk_arguments()), _in_millivolts(ghk_form(coupled=True)), "numpy")


@cache
def _slope_numeric() -> Callable[..., ArrayLike]:
    """RT·ln10/(zF) in mV per tenfold concentration ratio."""
    return sp.lambdify((z, celsius), _in_millivolts(R * T * sp.log(10) / (z * F)), "numpy")


def nernst_potential(valence: int, inside: ArrayLike, outside: ArrayLike, temperature_c: ArrayLike) -> ArrayLike:
    """Equilibrium potential in mV (Nernst); vectorised over any argument."""
    return _nernst_numeric()(valence, inside, outside, temperature_c)


def decade_slope(valence: int, temperature_c: ArrayLike) -> ArrayLike:
    """mV per tenfold change of [X]o/[X]i: 61.54/z at 37 °C."""
    return _slope_numeric()(valence, temperature_c)


GhkInputs = dict[str, tuple[ArrayLike, ArrayLike, ArrayLike]]
"""ion key → (permeability, inside, outside) for K, Na and Cl."""


def _flatten(ions: GhkInputs) -> list[ArrayLike]:
    values: list[ArrayLike] = []
    for key in GHK_IONS:
        values.extend(ions.get(key, (0.0, 1.0, 1.0)))  # an absent ion is impermeant
    return values


def ghk_voltage(temperature_c: ArrayLike, ions: GhkInputs) -> ArrayLike:
    """Membrane potential in mV from the GHK voltage equation; vectorised."""
    return _ghk_numeric()(temperature_c, *_flatten(ions))


def mullins_noda_voltage(coupling_ratio: float, temperature_c: ArrayLike, ions: GhkInputs) -> ArrayLike:
    """GHK with the pump's K⁺ coupling ratio r (3 Na⁺ : 2 K⁺ → r = 1.5); r = 1 is GHK."""
    return _mullins_noda_numeric()(coupling_ratio, temperature_c, *_flatten(ions))


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
    """Build and lambdify every equation now, so no request pays for sympy."""
    _nernst_numeric()
    _ghk_numeric()
    _mullins_noda_numeric()
    _slope_numeric()
