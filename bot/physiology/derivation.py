"""Derivations as data: each step a sentence, an expression, its LaTeX and its Unicode.

A derivation walks from the general equation through the substituted values to the
result. Every step's expression evaluates (with the derivation's values) to the final
answer, which the tests check, so a step can never quietly show a different number.
The one step that is not exact, the 61.5/z rule of thumb at 37 °C, is marked
``approximate`` and printed with ≈.

This is the one place a request touches sympy, and only on ``detail:steps``: the
calculator imports this module when steps are asked for, so a summary answer never
loads sympy. :func:`warm_up` does the symbolic work ahead of time for the long-running bot.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache

import sympy as sp
from sympy.codegen.cfunctions import log10

from bot.physiology.constants import BODY_TEMPERATURE_C, FARADAY, GAS_CONSTANT, kelvin
from bot.physiology.equations import decade_slope
from bot.physiology.ions import GHK_IONS, IONS, Ion
from bot.physiology.notation import Names, format_number, to_latex, to_unicode
from bot.physiology.symbolic import (
    BASE_NAMES,
    CONSTANTS,
    F,
    R,
    T,
    concentration_symbols,
    ghk_form,
    names_for,
    nernst_form,
    permeability_symbol,
    z,
)

DERIVATION_CACHE_SIZE = 512
"""Derivations are keyed by the user's numbers: bounded, so a long-running bot stays small."""

ROUNDED_SLOPE_37C = 61.5
"""The textbook's rounded mV per decade at 37 °C (exact: 61.54)."""


@dataclass(frozen=True, slots=True)
class Step:
    """One line of a derivation; ``value_mv`` is ``expression`` evaluated, in mV."""

    sentence: str
    latex: str
    unicode: str
    value_mv: float
    approximate: bool = False
    expression: sp.Expr = field(default=sp.S.Zero, repr=False, compare=False, metadata={"json": False})
    scale: float = field(default=1.0, repr=False, compare=False, metadata={"json": False})


@dataclass(frozen=True, slots=True)
class Derivation:
    steps: tuple[Step, ...]
    bindings: Mapping[sp.Symbol, sp.Float] = field(repr=False, compare=False, metadata={"json": False})

    def evaluate(self, step: Step) -> float:
        """Re-evaluate a step's expression from scratch with this derivation's values."""
        return float(step.expression.xreplace(dict(self.bindings))) * step.scale


class _Builder:
    """Collects steps that share one left-hand side, one set of names and values."""

    def __init__(self, lhs_latex: str, lhs_unicode: str, names: Names, bindings: dict[sp.Symbol, sp.Float]):
        self.lhs = (lhs_latex, lhs_unicode)
        self.names = names
        self.bindings = bindings
        self.steps: list[Step] = []

    def add(self, sentence: str, expr: sp.Expr, *, unit: str = "", approximate: bool = False) -> None:
        relation = (r"\approx", "≈") if approximate else ("=", "=")
        suffix = (rf"\ \mathrm{{{unit}}}", f" {unit}") if unit else ("", "")
        scale = 1000.0 if unit == "V" or (not unit and expr.free_symbols) else 1.0
        latex = f"{self.lhs[0]} {relation[0]} {to_latex(expr, self.names)}{suffix[0]}"
        unicode = f"{self.lhs[1]} {relation[1]} {to_unicode(expr, self.names)}{suffix[1]}"
        value = float(expr.xreplace(self.bindings)) * scale
        self.steps.append(Step(sentence, latex, unicode, value, approximate, expr, scale))

    def substituted(self, expr: sp.Expr) -> sp.Expr:
        with sp.evaluate(False):
            return expr.xreplace(self.bindings)

    def build(self) -> Derivation:
        return Derivation(tuple(self.steps), self.bindings)


def _constant_bindings(temperature_c: float) -> dict[sp.Symbol, sp.Float]:
    return {R: CONSTANTS[R], F: CONSTANTS[F], T: sp.Float(kelvin(temperature_c), 15)}


def _constants_sentence(temperature_c: float) -> str:
    return (
        f"R = {GAS_CONSTANT} J mol⁻¹ K⁻¹, F = {FARADAY} C mol⁻¹, "
        f"T = 273.15 + {format_number(temperature_c)} = {format_number(kelvin(temperature_c))} K"
    )


def _times(coefficient: float, function: sp.Expr) -> sp.Expr:
    with sp.evaluate(False):
        return sp.Mul(sp.Float(coefficient, 15), function)


def _log10_ratio(outside: float, inside: float) -> sp.Expr:
    with sp.evaluate(False):
        return log10(sp.Float(outside, 15) / sp.Float(inside, 15))


def _result(builder: _Builder, value_mv: float, sentence: str) -> None:
    builder.add(sentence, sp.Float(value_mv, 15), unit="mV")


def _sign(value: float) -> str:
    return f"{value:+.1f}".replace("-", "−")


@lru_cache(maxsize=DERIVATION_CACHE_SIZE)
def nernst_derivation(ion: Ion, inside: float, outside: float, temperature_c: float, result_mv: float) -> Derivation:
    """General Nernst → substituted → slope form → (≈ 61.5 rule at 37 °C) → result."""
    c_i, c_o = concentration_symbols(ion.key)
    bindings = {**_constant_bindings(temperature_c), z: sp.Integer(ion.valence)}
    bindings |= {c_i: sp.Float(inside, 15), c_o: sp.Float(outside, 15)}
    lhs = (rf"E_{{\mathrm{{{ion.element}}}}}", f"E_{ion.element}")
    builder = _Builder(*lhs, BASE_NAMES.merged(names_for(ion)), bindings)
    general = nernst_form(ion)
    builder.add(
        f"The Nernst equation: the potential at which the electrical pull on {ion.symbol} "
        "exactly balances its diffusion down the concentration gradient.",
        general,
    )
    builder.add(
        f"Substitute {_constants_sentence(temperature_c)}, z = {ion.valence:+d}, "
        f"[{ion.symbol}]ₒ = {format_number(outside)} mM and [{ion.symbol}]ᵢ = {format_number(inside)} mM.",
        builder.substituted(general),
        unit="V",
    )
    slope = float(decade_slope(ion.valence, temperature_c))
    charge = (
        f" Each {ion.symbol} carries {abs(ion.valence)} charges, so |z| = {abs(ion.valence)} divides "
        f"the slope: the same gradient needs only 1/{abs(ion.valence)} of the voltage to balance it."
        if abs(ion.valence) > 1
        else ""
    )
    builder.add(
        f"Since ln x = ln 10 · log₁₀ x, the factor RT·ln 10/(zF) is {format_number(slope, 5)} mV per tenfold "
        f"concentration ratio at {format_number(temperature_c)} °C.{charge}",
        _times(slope, _log10_ratio(outside, inside)),
        unit="mV",
    )
    if temperature_c == BODY_TEMPERATURE_C:
        exact = float(decade_slope(1, temperature_c))
        builder.add(
            f"Shortcut at 37 °C: RT·ln 10/F = {format_number(exact, 5)} mV, which textbooks round to 61.5 (≈: "
            f"{format_number(abs(exact - ROUNDED_SLOPE_37C) / abs(ion.valence), 2)} mV per decade less than exact).",
            _times(ROUNDED_SLOPE_37C / ion.valence, _log10_ratio(outside, inside)),
            unit="mV",
            approximate=True,
        )
    _result(builder, result_mv, f"E_{ion.element} = {_sign(result_mv)} mV.")
    return builder.build()


@cache
def chloride_inversion() -> tuple[str, str]:
    """Unicode of E_Cl = RT/(zF)·ln([Cl⁻]o/[Cl⁻]i) with z = −1, and of its GHK form.

    sympy checks the identity once, so the sentence that explains why Cl⁻ is "upside
    down" in the GHK equation rests on algebra, not on assertion.
    """
    chloride = IONS["Cl"]
    c_i, c_o = concentration_symbols("Cl")
    nernst = nernst_form(chloride).doit().subs(z, chloride.valence)
    with sp.evaluate(False):
        inverted = sp.Mul(sp.Mul(R, T) / F, sp.log(c_i / c_o))
    if sp.simplify(sp.expand_log(nernst - inverted.doit(), force=True)) != 0:
        raise AssertionError("the chloride identity does not hold")  # pragma: no cover
    names = BASE_NAMES.merged(names_for(chloride))
    with sp.evaluate(False):
        negative = sp.Mul(sp.Mul(R, T) / sp.Mul(sp.Integer(-1), F), sp.log(c_o / c_i))
    return to_unicode(negative, names), to_unicode(inverted, names)


@cache
def ghk_single_ion_form(key: str) -> sp.Expr:
    """GHK with every permeability but one set to zero, checked equal to that ion's Nernst."""
    zeros = {permeability_symbol(other): 0 for other in GHK_IONS if other != key}
    reduced = ghk_form().doit().subs(zeros)
    ion = IONS[key]
    nernst = nernst_form(ion).doit().subs(z, ion.valence)
    if sp.simplify(sp.expand_log(reduced - nernst, force=True)) != 0:
        raise AssertionError(f"GHK does not reduce to Nernst for {key}")  # pragma: no cover
    c_i, c_o = concentration_symbols(key)
    ratio = c_o / c_i if ion.valence > 0 else c_i / c_o
    with sp.evaluate(False):
        return sp.Mul(sp.Mul(R, T) / F, sp.log(ratio))


GhkValues = tuple[tuple[str, float, float, float], ...]
"""(ion key, permeability, inside, outside) for K, Na, Cl."""


@lru_cache(maxsize=DERIVATION_CACHE_SIZE)
def ghk_derivation(temperature_c: float, values: GhkValues, result_mv: float) -> Derivation:
    """General GHK → substituted → sums evaluated → (reduction to Nernst) → result."""
    bindings = _constant_bindings(temperature_c)
    names = BASE_NAMES
    for key, permeability, inside, outside in values:
        c_i, c_o = concentration_symbols(key)
        bindings |= {
            permeability_symbol(key): sp.Float(permeability, 15),
            c_i: sp.Float(inside, 15),
            c_o: sp.Float(outside, 15),
        }
        names = names.merged(names_for(IONS[key]))
    builder = _Builder("V_{m}", "V_m", names, bindings)
    present = tuple(key for key, _, _, _ in values)
    general = ghk_form(ions=present)  # a model without Cl⁻ (Luo–Rudy) has no Cl⁻ terms to bind
    chloride = ""
    if "Cl" in present:
        negative, inverted = chloride_inversion()
        chloride = (
            f" Cl⁻ is an anion (z = −1): {negative} = {inverted}, so inside Cl⁻ sits on top, "
            "beside the outside cations."
        )
    builder.add(
        "The Goldman–Hodgkin–Katz voltage equation: each ion pulls V_m toward its own equilibrium "
        f"potential, weighted by its permeability and concentration.{chloride}",
        general,
    )
    listed = ", ".join(f"{permeability_symbol(key).name} = {format_number(p)}" for key, p, _, _ in values)
    builder.add(
        f"Substitute {_constants_sentence(temperature_c)}, {listed} and the concentrations in mM.",
        builder.substituted(general),
        unit="V",
    )
    # Summed in sympy Floats (no underflow): a subnormal P times [X] gave 0/0 in floats.
    numerator = sp.Add(*(sp.Float(p, 15) * sp.Float(i if IONS[k].valence < 0 else o, 15) for k, p, i, o in values))
    denominator = sp.Add(*(sp.Float(p, 15) * sp.Float(o if IONS[k].valence < 0 else i, 15) for k, p, i, o in values))
    thermal = float(decade_slope(1, temperature_c)) / float(sp.log(10))
    with sp.evaluate(False):
        sums = sp.Mul(sp.Float(thermal, 15), sp.log(sp.Float(numerator, 15) / sp.Float(denominator, 15)))
    builder.add(
        f"Add up the weighted concentrations; RT/F = {format_number(thermal, 5)} mV "
        f"at {format_number(temperature_c)} °C.",
        sums,
        unit="mV",
    )
    permeant = [key for key, p, _, _ in values if p > 0]
    if len(permeant) == 1:
        key = permeant[0]
        builder.add(
            f"Only {IONS[key].symbol} is permeant: its permeability cancels and GHK becomes the Nernst "
            f"equation for {IONS[key].symbol}.",
            ghk_single_ion_form(key),
        )
    _result(builder, result_mv, f"V_m = {_sign(result_mv)} mV.")
    return builder.build()


def warm_up() -> None:
    """Build everything a first ``detail:steps`` would otherwise build: the symbolic forms,
    the identities checked by :func:`chloride_inversion` and :func:`ghk_single_ion_form`
    (``sp.simplify``, the slowest part), and the default cell's Nernst and GHK derivations
    (the printers and sympy's own caches; these two stay cached, as real requests)."""
    from bot.physiology.calculator import nernst, resting_potential  # it imports this module on demand

    chloride_inversion()
    for key in GHK_IONS:
        ghk_single_ion_form(key)
    nernst("K", steps=True)
    resting_potential(steps=True)
