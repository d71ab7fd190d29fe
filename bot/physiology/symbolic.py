"""The Nernst, GHK and Mullins–Noda equations in sympy: the source of truth.

The symbolic forms are made from the engine's own symbols (users only ever supply
numbers). They are what a derivation (``detail:steps``) prints and substitutes into,
and what the NumPy functions of :mod:`bot.physiology.equations` are proved equal to:
``tests/test_equations.py`` lambdifies each expression here (the ``*_reference``
functions) and checks the NumPy function against it on a dense random grid over the
accepted input ranges, to a relative 1e-12.

This module imports sympy (≈ 0.2 s), so nothing on the numeric path imports it: a cold
``membrane-tutor ask "/nernst ion:K"`` never loads it. It is loaded by the derivations,
by :func:`bot.physiology.equations.warm_up` (the long-running bot and the console, so
their first ``detail:steps`` pays nothing), and by the tests and the engine benchmark.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Final

import sympy as sp

from bot.physiology.constants import FARADAY, GAS_CONSTANT, MILLIVOLTS_PER_VOLT, ZERO_CELSIUS
from bot.physiology.equations import ArrayLike
from bot.physiology.ions import GHK_IONS, Ion
from bot.physiology.notation import Names

R, T, F = sp.symbols("R T F", positive=True)
z = sp.Symbol("z", integer=True, nonzero=True)
r = sp.Symbol("r", positive=True)
celsius = sp.Symbol("t", real=True)
V = sp.Symbol("V", real=True)
"""Membrane potential in volts (the chord conductance of :func:`chord_conductance_form`)."""
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


def slope_form() -> sp.Expr:
    """RT·ln10/(zF): volts per tenfold concentration ratio."""
    return R * T * sp.log(10) / (z * F)


def chord_conductance_form() -> sp.Expr:
    """g = I/(V − E) of one ion, from the GHK current equation, per unit F (it cancels in a share).

    I = P z² F² V/(RT) · ([X]i − [X]o e^(−zFV/RT))/(1 − e^(−zFV/RT)), E from Nernst.
    The concentration symbols are those of a generic ion ``X``; ``V`` is in volts.
    """
    inside, outside = concentration_symbols("X")
    p = permeability_symbol("X")
    u = z * F * V / (R * T)
    current = p * z**2 * F * V / (R * T) * (inside - outside * sp.exp(-u)) / (1 - sp.exp(-u))
    equilibrium = R * T / (z * F) * sp.log(outside / inside)
    return current / (V - equilibrium)


def in_millivolts(expr: sp.Expr) -> sp.Expr:
    """Canonical expression in mV of °C, with CODATA constants in place."""
    return (MILLIVOLTS_PER_VOLT * expr.doit()).subs(CONSTANTS).subs(T, celsius + ZERO_CELSIUS)


def ghk_arguments() -> tuple[sp.Symbol, ...]:
    """(t, P_K, K_i, K_o, P_Na, Na_i, Na_o, P_Cl, Cl_i, Cl_o): the order of the references' arguments."""
    symbols: list[sp.Symbol] = [celsius]
    for key in GHK_IONS:
        symbols.append(permeability_symbol(key))
        symbols.extend(concentration_symbols(key))
    return tuple(symbols)


# The expressions above, lambdified: what the NumPy functions are checked against.


@cache
def nernst_reference() -> Callable[..., ArrayLike]:
    """(z, inside, outside, t) → E in mV, straight from :func:`nernst_form`."""
    inside, outside = concentration_symbols("X")
    expr = in_millivolts(nernst_form(Ion("X", "any ion", "X", 1)))
    return sp.lambdify((z, inside, outside, celsius), expr, "numpy")


@cache
def ghk_reference() -> Callable[..., ArrayLike]:
    """(*ghk_arguments()) → V_m in mV, from :func:`ghk_form`."""
    return sp.lambdify(ghk_arguments(), in_millivolts(ghk_form()), "numpy")


@cache
def mullins_noda_reference() -> Callable[..., ArrayLike]:
    """(r, *ghk_arguments()) → V_m in mV, from :func:`ghk_form` with ``coupled``."""
    return sp.lambdify((r, *ghk_arguments()), in_millivolts(ghk_form(coupled=True)), "numpy")


@cache
def slope_reference() -> Callable[..., ArrayLike]:
    """(z, t) → mV per decade, from :func:`slope_form`."""
    return sp.lambdify((z, celsius), in_millivolts(slope_form()), "numpy")


@cache
def chord_conductance_reference() -> Callable[..., ArrayLike]:
    """(z, P, inside, outside, t, V in mV) → chord conductance (arbitrary units), from
    :func:`chord_conductance_form`; only ratios between ions are meaningful."""
    inside, outside = concentration_symbols("X")
    volts = sp.Symbol("v_mV", real=True) / MILLIVOLTS_PER_VOLT
    expr = chord_conductance_form().subs(V, volts).subs(CONSTANTS).subs(T, celsius + ZERO_CELSIUS)
    return sp.lambdify(
        (z, permeability_symbol("X"), inside, outside, celsius, sp.Symbol("v_mV", real=True)), expr, "numpy"
    )
