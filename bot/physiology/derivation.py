"""Derivations as data: each step a sentence, an expression, its LaTeX and its Unicode.

A derivation walks from the general equation through the substituted values to the
result. Every step's expression evaluates (with the derivation's values) to the final
answer, which the tests check, so a step can never quietly show a different number.
The one step that is not exact, the 61.5/z rule of thumb at 37 °C, is marked
``approximate`` and printed with ≈.

This is the one place a request touches sympy, and only on ``detail:steps``: the
calculator imports this module when steps are asked for, so a summary answer never
loads sympy. :func:`warm_up` does the symbolic work ahead of time for the long-running bot:
each derivation's expressions are built and printed once per structure, and a request for
new numbers only formats them into those templates and computes the values (see "The fast
path" below); :func:`reference_nernst_derivation` and :func:`reference_ghk_derivation` are
the builders that do it all in sympy per call, kept as the fast path's proof and fallback.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

import mpmath
import sympy as sp
from mpmath import libmp as _mp
from sympy.codegen.cfunctions import log10
from sympy.core.evalf import add_terms as _add_terms
from sympy.core.evalf import fastlog as _fastlog
from sympy.core.evalf import iszero as _iszero
from sympy.core.numbers import mpf_norm as _mpf_norm

from bot.physiology.constants import BODY_TEMPERATURE_C, FARADAY, GAS_CONSTANT, kelvin
from bot.physiology.equations import decade_slope
from bot.physiology.ions import GHK_IONS, IONS, Ion
from bot.physiology.notation import Names, _latex_number, format_number, to_latex, to_unicode
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


class _Lazy:
    """A sympy object built on first use: a fast derivation formats its numbers into
    templates and computes its values without building the substituted expressions, which
    are wanted only when a step is re-evaluated (:meth:`Derivation.evaluate`, the tests)."""

    __slots__ = ("build",)

    def __init__(self, build: Callable[[], Any]) -> None:
        self.build = build


@dataclass(frozen=True, slots=True)
class Step:
    """One line of a derivation; ``value_mv`` is ``expression`` evaluated, in mV."""

    sentence: str
    latex: str
    unicode: str
    value_mv: float
    approximate: bool = False
    source: Any = field(default=sp.S.Zero, repr=False, compare=False, metadata={"json": False})
    """The step's sympy expression, or a :class:`_Lazy` that builds it."""
    scale: float = field(default=1.0, repr=False, compare=False, metadata={"json": False})

    @property
    def expression(self) -> sp.Expr:
        if isinstance(self.source, _Lazy):
            object.__setattr__(self, "source", self.source.build())
        return self.source


@dataclass(frozen=True, slots=True)
class Derivation:
    steps: tuple[Step, ...]
    source: Any = field(repr=False, compare=False, metadata={"json": False})
    """The symbols' values (symbol → sympy Float), or a :class:`_Lazy` that builds them."""

    @property
    def bindings(self) -> Mapping[sp.Symbol, sp.Float]:
        if isinstance(self.source, _Lazy):
            object.__setattr__(self, "source", self.source.build())
        return self.source

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


def _substitution_sentence(ion: Ion, inside: float, outside: float, temperature_c: float) -> str:
    """The Nernst substitution step's sentence (shared by the fast and the reference builder)."""
    return (
        f"Substitute {_constants_sentence(temperature_c)}, z = {ion.valence:+d}, "
        f"[{ion.symbol}]ₒ = {format_number(outside)} mM and [{ion.symbol}]ᵢ = {format_number(inside)} mM."
    )


def _charge_sentence(ion: Ion) -> str:
    """Why |z| divides the slope, for a multivalent ion (empty for z = ±1)."""
    if abs(ion.valence) <= 1:
        return ""
    return (
        f" Each {ion.symbol} carries {abs(ion.valence)} charges, so |z| = {abs(ion.valence)} divides "
        f"the slope: the same gradient needs only 1/{abs(ion.valence)} of the voltage to balance it."
    )


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


def reference_nernst_derivation(
    ion: Ion, inside: float, outside: float, temperature_c: float, result_mv: float
) -> Derivation:
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
        _substitution_sentence(ion, inside, outside, temperature_c),
        builder.substituted(general),
        unit="V",
    )
    slope = float(decade_slope(ion.valence, temperature_c))
    charge = _charge_sentence(ion)
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


def reference_ghk_derivation(temperature_c: float, values: GhkValues, result_mv: float) -> Derivation:
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


# --- The fast path: templates built once per structure, numbers formatted into them ------------
#
# sympy's substitution (xreplace, ≈ 0.2 ms a step) and evaluation (evalf, 0.1–0.6 ms a step) were
# nearly all of a derivation for new numbers. Here each step's expression is built and printed
# once per *structure* (ion and valence, which ions, whether 37 °C adds the ≈ step, the signs of
# the numbers) with sentinel numbers in the numbers' places; a call formats its numbers with the
# printer's own rules into those places and computes each value with the mpmath primitives sympy
# itself would call, in the same order and at the same precisions (``_evaluated`` mirrors sympy's
# automatic evaluation, ``_evalf`` mirrors ``float(expr)``), so text and values are the reference
# builder's to the byte and to the bit (tests/test_derivation.py compares them on random inputs).
# The substituted expressions and the bindings are built only when asked for (:class:`_Lazy`).
# Any input the mirror does not cover (a log argument near 1, a cancelling sum, a zero where
# sympy would special-case it) raises :class:`_Fallback` and the reference builder answers.

_EVALF = 57  # float(expr) is expr.evalf(15): dps_to_prec(15) + 4 guard bits
_FLOAT = 53  # sp.Float(x, 15)


class _Fallback(Exception):
    """An input outside what the mirror of sympy's arithmetic covers: use the reference builder."""


def _sentinel(index: int, negative: bool) -> float:
    """A number whose printed form (1.001e-77, 1.002e-77, …) occurs nowhere else in a step."""
    value = (1 + (index + 1) / 1000) * 1e-77
    return -value if negative else value


def _number_texts(value: float) -> tuple[str, str]:
    """(LaTeX, Unicode) of |value|, as the printer writes a number (its sign is in the template)."""
    text = format_number(abs(value))
    return _latex_number(text), text


# A compiled expression: ("slot", i) | ("int", p) | ("mul", args) | ("add", args)
# | ("pow", base, p) | ("log", arg) | ("log10", arg)
_Node = tuple


def _compile(expr: sp.Basic, slots: Mapping[Any, int]) -> _Node:
    if isinstance(expr, (sp.Symbol, sp.Float)) and expr in slots:
        return ("slot", slots[expr])
    if isinstance(expr, sp.Integer):
        return ("int", int(expr))
    if isinstance(expr, sp.Mul):
        return ("mul", tuple(_compile(arg, slots) for arg in expr.args))
    if isinstance(expr, sp.Add):
        return ("add", tuple(_compile(arg, slots) for arg in expr.args))
    if isinstance(expr, sp.Pow) and isinstance(expr.exp, sp.Integer):
        return ("pow", _compile(expr.base, slots), int(expr.exp))
    if isinstance(expr, sp.log) and len(expr.args) == 1:
        return ("log", _compile(expr.args[0], slots))
    if isinstance(expr, log10):
        return ("log10", _compile(expr.args[0], slots))
    raise TypeError(f"no fast evaluation for {type(expr).__name__}")  # our own expressions only


def _evaluated(node: _Node, values: list) -> tuple:
    """The mpf that sympy's automatic evaluation of ``node`` (Float arithmetic at 53 bits) gives."""
    kind = node[0]
    if kind == "slot":
        return values[node[1]]
    if kind == "int":
        return _mp.from_int(node[1])
    if kind in ("mul", "add"):
        op = _mp.mpf_mul if kind == "mul" else _mp.mpf_add
        total = None
        for arg in node[1]:
            value = _evaluated(arg, values)
            total = value if total is None else op(total, value, _FLOAT, _mp.round_nearest)
        return total
    if kind == "pow":
        base = _evaluated(node[1], values)
        if base == _mp.fzero:
            raise _Fallback
        return _mp.mpf_pow_int(base, node[2], _FLOAT, _mp.round_nearest)
    if kind == "log":  # log(Float) evaluates by evalf(15): evalf_log at 57 bits, then a 53-bit Float
        return _mpf_norm(_evalf_log(_evaluated(node[1], values), _EVALF), _FLOAT)
    raise _Fallback


def _evalf_log(argument: tuple, prec: int) -> tuple:
    if argument == _mp.fzero or argument[0]:
        raise _Fallback
    result = _mp.mpf_log(argument, prec, _mp.round_nearest)
    if prec - _fastlog(result) > prec + 10 and result != _mp.fzero:
        raise _Fallback  # sympy recomputes 1 + (x − 1) there: the argument is close to 1
    return result


def _evalf(node: _Node, prec: int, values: list) -> tuple[tuple, int]:
    """(mpf, accuracy) as sympy.core.evalf.evalf returns them for the real expression ``node``."""
    kind = node[0]
    if kind == "slot":
        return values[node[1]], prec
    if kind == "int":
        return _mp.from_int(node[1], prec), prec
    if kind == "mul":  # evalf_mul, real factors: an exact product rounded once
        args = node[1]
        working = prec + len(args) + 5
        man, exp, bc, direction, acc = _mp.MPZ(1), 0, 1, 0, prec
        for arg in args:
            (sign, m, e, b), w_acc = _evalf(arg, working, values)
            direction += 2 * sign
            man *= m
            exp += e
            bc += b
            while bc > 3 * working:
                man >>= working
                exp += working
                bc -= working
            acc = min(acc, w_acc)
        return _mp.normalize((direction & 2) >> 1, man, exp, _mp.bitcount(man), prec, _mp.round_nearest), acc
    if kind == "pow":  # evalf_pow, an integer exponent
        exponent = node[2]
        if not exponent:
            raise _Fallback
        base, _ = _evalf(node[1], prec + int(math.log2(abs(exponent))) + 5, values)
        if base == _mp.fzero:
            raise _Fallback
        return _mp.mpf_pow_int(base, exponent, prec), prec
    if kind == "log":  # evalf_log of a positive real
        argument, _ = _evalf(node[1], prec + 10, values)
        return _evalf_log(argument, prec), prec
    if kind == "add":  # evalf_add's first pass; a cancelling sum would need the retries
        terms = [_evalf(arg, prec + 10, values) for arg in node[1]]
        total, acc = _add_terms(terms, prec, prec)
        if total is None or acc is None or acc < prec or _iszero(total, scaled=True):
            raise _Fallback
        return total, acc
    if kind == "log10":  # no evalf rule: Function._eval_evalf with mpmath.log10
        argument, _ = _evalf(node[1], prec + 5, values)
        if argument == _mp.fzero or (argument[1] != 1 and argument[-1] == 1):
            raise _Fallback
        with mpmath.workprec(prec):
            result = mpmath.log10(mpmath.make_mpf(argument))._mpf_  # as _to_mpmath made it: unrounded
        if result == _mp.fzero:
            raise _Fallback
        return _mpf_norm(result, prec), prec
    raise _Fallback


def _as_float(node: _Node, values: list) -> float:
    """float(expr) for an unevaluated numeric expression: evalf(15), then to float."""
    result, acc = _evalf(node, _EVALF, values)
    return float(sp.Float._new(result, max(min(_EVALF - 4, acc), 1)))


@dataclass(frozen=True, slots=True)
class _Template:
    """One step's expression printed with sentinels, and compiled for its value."""

    latex: str  # str.format templates, one field per number
    unicode: str
    node: _Node

    @classmethod
    def of(cls, expr: sp.Basic, names: Names, sentinels: list[float], symbols: Mapping[Any, int] | None = None):
        latex, unicode = to_latex(expr, names), to_unicode(expr, names)
        texts = [_number_texts(value) for value in sentinels]
        latex, unicode = latex.replace("{", "{{").replace("}", "}}"), unicode.replace("{", "{{").replace("}", "}}")
        for index, (latex_text, unicode_text) in enumerate(texts):
            escaped = latex_text.replace("{", "{{").replace("}", "}}")
            if escaped not in latex and symbols is None:
                raise AssertionError(f"sentinel {index} not printed")  # pragma: no cover
            latex = latex.replace(escaped, f"{{{index}}}")
            unicode = unicode.replace(unicode_text, f"{{{index}}}")
        slots = symbols if symbols is not None else {sp.Float(value, 15): i for i, value in enumerate(sentinels)}
        return cls(latex, unicode, _compile(expr, slots))


def _signs(*values: float) -> tuple[bool, ...]:
    return tuple(value < 0 for value in values)


def _step(
    lhs: tuple[str, str],
    sentence: str,
    texts: tuple[str, str],
    value: float,
    source: Any,
    scale: float,
    *,
    unit: str = "",
    approximate: bool = False,
) -> Step:
    relation = (r"\approx", "≈") if approximate else ("=", "=")
    suffix = (rf"\ \mathrm{{{unit}}}", f" {unit}") if unit else ("", "")
    latex = f"{lhs[0]} {relation[0]} {texts[0]}{suffix[0]}"
    unicode = f"{lhs[1]} {relation[1]} {texts[1]}{suffix[1]}"
    return Step(sentence, latex, unicode, value, approximate, source, scale)


def _fill(template: _Template, numbers: list[float]) -> tuple[str, str]:
    pairs = [_number_texts(value) for value in numbers]
    return template.latex.format(*(p[0] for p in pairs)), template.unicode.format(*(p[1] for p in pairs))


@dataclass(frozen=True, slots=True)
class _NernstShape:
    names: Names
    symbols: tuple[sp.Symbol, ...]  # the bound symbols, in slot order (z is not a slot: it is the ion's)
    general: sp.Expr
    general_texts: tuple[str, str]
    general_node: _Node
    substituted: _Template
    slope: _Template
    shortcut: _Template | None
    result: _Template


@lru_cache(maxsize=256)
def _nernst_shape(ion: Ion, body_temperature: bool, negative_result: bool) -> _NernstShape:
    c_i, c_o = concentration_symbols(ion.key)
    names = BASE_NAMES.merged(names_for(ion))
    general = nernst_form(ion)
    symbols = (R, F, T, c_i, c_o)
    slots = {symbol: index for index, symbol in enumerate(symbols)}
    general_node = _compile(general, {**slots, z: 5})  # z a slot too: sympy multiplies the Integer in
    sentinels = [_sentinel(i, False) for i in range(5)]
    with sp.evaluate(False):
        substituted = general.xreplace(
            {
                **{symbol: sp.Float(value, 15) for symbol, value in zip(symbols, sentinels, strict=True)},
                z: sp.Integer(ion.valence),
            }
        )
    negative = ion.valence < 0
    slope = [_sentinel(0, negative), _sentinel(1, False), _sentinel(2, False)]
    shortcut = None
    if body_temperature:
        shortcut = _Template.of(_times(slope[0], _log10_ratio(slope[1], slope[2])), names, slope)
    result = [_sentinel(0, negative_result)]
    return _NernstShape(
        names,
        symbols,
        general,
        (to_latex(general, names), to_unicode(general, names)),
        general_node,
        _Template.of(substituted, names, sentinels),
        _Template.of(_times(slope[0], _log10_ratio(slope[1], slope[2])), names, slope),
        shortcut,
        _Template.of(sp.Float(result[0], 15), names, result),
    )


def _nernst_bindings(ion: Ion, inside: float, outside: float, temperature_c: float) -> dict[sp.Symbol, sp.Float]:
    c_i, c_o = concentration_symbols(ion.key)
    bindings = {**_constant_bindings(temperature_c), z: sp.Integer(ion.valence)}
    return bindings | {c_i: sp.Float(inside, 15), c_o: sp.Float(outside, 15)}


def _substituted_later(general: sp.Expr, bindings: Callable[[], dict]) -> _Lazy:
    def build() -> sp.Expr:
        with sp.evaluate(False):
            return general.xreplace(bindings())

    return _Lazy(build)


def _fast_nernst(ion: Ion, inside: float, outside: float, temperature_c: float, result_mv: float) -> Derivation:
    body = temperature_c == BODY_TEMPERATURE_C
    shape = _nernst_shape(ion, body, result_mv < 0)
    kelvins = kelvin(temperature_c)
    inputs = [GAS_CONSTANT, FARADAY, kelvins, inside, outside]
    mpfs = [_mp.from_float(value) for value in inputs]
    lhs = (rf"E_{{\mathrm{{{ion.element}}}}}", f"E_{ion.element}")
    bindings = _Lazy(lambda: _nernst_bindings(ion, inside, outside, temperature_c))
    steps = [
        _step(
            lhs,
            f"The Nernst equation: the potential at which the electrical pull on {ion.symbol} "
            "exactly balances its diffusion down the concentration gradient.",
            shape.general_texts,
            _mp.to_float(_evaluated(shape.general_node, [*mpfs, _mp.from_int(ion.valence)])) * 1000.0,
            shape.general,
            1000.0,
        )
    ]
    steps.append(
        _step(
            lhs,
            _substitution_sentence(ion, inside, outside, temperature_c),
            _fill(shape.substituted, inputs),
            _as_float(shape.substituted.node, mpfs) * 1000.0,
            _substituted_later(shape.general, lambda: _nernst_bindings(ion, inside, outside, temperature_c)),
            1000.0,
            unit="V",
        )
    )
    slope = float(decade_slope(ion.valence, temperature_c))
    charge = _charge_sentence(ion)
    ratio = [_mp.from_float(outside), _mp.from_float(inside)]
    steps.append(
        _step(
            lhs,
            f"Since ln x = ln 10 · log₁₀ x, the factor RT·ln 10/(zF) is {format_number(slope, 5)} mV per tenfold "
            f"concentration ratio at {format_number(temperature_c)} °C.{charge}",
            _fill(shape.slope, [slope, outside, inside]),
            _as_float(shape.slope.node, [_mp.from_float(slope), *ratio]),
            _Lazy(lambda: _times(slope, _log10_ratio(outside, inside))),
            1.0,
            unit="mV",
        )
    )
    if body:
        exact = float(decade_slope(1, temperature_c))
        rounded = ROUNDED_SLOPE_37C / ion.valence
        assert shape.shortcut is not None
        steps.append(
            _step(
                lhs,
                f"Shortcut at 37 °C: RT·ln 10/F = {format_number(exact, 5)} mV, which textbooks round to 61.5 (≈: "
                f"{format_number(abs(exact - ROUNDED_SLOPE_37C) / abs(ion.valence), 2)} mV per decade "
                "less than exact).",
                _fill(shape.shortcut, [rounded, outside, inside]),
                _as_float(shape.shortcut.node, [_mp.from_float(rounded), *ratio]),
                _Lazy(lambda: _times(rounded, _log10_ratio(outside, inside))),
                1.0,
                unit="mV",
                approximate=True,
            )
        )
    steps.append(
        _step(
            lhs,
            f"E_{ion.element} = {_sign(result_mv)} mV.",
            _fill(shape.result, [result_mv]),
            float(result_mv),
            _Lazy(lambda: sp.Float(result_mv, 15)),
            1.0,
            unit="mV",
        )
    )
    return Derivation(tuple(steps), bindings)


@lru_cache(maxsize=DERIVATION_CACHE_SIZE)
def nernst_derivation(ion: Ion, inside: float, outside: float, temperature_c: float, result_mv: float) -> Derivation:
    """General Nernst → substituted → slope form → (≈ 61.5 rule at 37 °C) → result.

    Text and values are those of :func:`reference_nernst_derivation`, built from templates."""
    try:
        return _fast_nernst(ion, inside, outside, temperature_c, result_mv)
    except _Fallback:
        return reference_nernst_derivation(ion, inside, outside, temperature_c, result_mv)


@dataclass(frozen=True, slots=True)
class _GhkShape:
    symbols: tuple[sp.Symbol, ...]  # R, F, T, then P, inside, outside of each ion, in slot order
    general: sp.Expr
    general_texts: tuple[str, str]
    general_node: _Node
    substituted: _Template
    sums: _Template
    single: tuple[sp.Expr, tuple[str, str], _Node] | None
    result: _Template


@lru_cache(maxsize=256)
def _ghk_shape(present: tuple[str, ...], single: str | None, negative_result: bool) -> _GhkShape:
    names = BASE_NAMES
    symbols: list[sp.Symbol] = [R, F, T]
    for key in present:
        c_i, c_o = concentration_symbols(key)
        symbols += [permeability_symbol(key), c_i, c_o]
        names = names.merged(names_for(IONS[key]))
    slots = {symbol: index for index, symbol in enumerate(symbols)}
    general = ghk_form(ions=present)
    sentinels = [_sentinel(i, False) for i in range(len(symbols))]
    with sp.evaluate(False):
        substituted = general.xreplace(
            {symbol: sp.Float(value, 15) for symbol, value in zip(symbols, sentinels, strict=True)}
        )
    sums = [_sentinel(i, False) for i in range(3)]
    with sp.evaluate(False):
        sums_expr = sp.Mul(sp.Float(sums[0], 15), sp.log(sp.Float(sums[1], 15) / sp.Float(sums[2], 15)))
    reduced = None
    if single is not None:
        form = ghk_single_ion_form(single)
        reduced = (form, (to_latex(form, names), to_unicode(form, names)), _compile(form, slots))
    result = [_sentinel(0, negative_result)]
    return _GhkShape(
        tuple(symbols),
        general,
        (to_latex(general, names), to_unicode(general, names)),
        _compile(general, slots),
        _Template.of(substituted, names, sentinels),
        _Template.of(sums_expr, names, sums),
        reduced,
        _Template.of(sp.Float(result[0], 15), names, result),
    )


def _ghk_bindings(temperature_c: float, values: GhkValues) -> dict[sp.Symbol, sp.Float]:
    bindings = _constant_bindings(temperature_c)
    for key, permeability, inside, outside in values:
        c_i, c_o = concentration_symbols(key)
        bindings |= {
            permeability_symbol(key): sp.Float(permeability, 15),
            c_i: sp.Float(inside, 15),
            c_o: sp.Float(outside, 15),
        }
    return bindings


_LN_10: float | None = None


def _fast_ghk(temperature_c: float, values: GhkValues, result_mv: float) -> Derivation:
    global _LN_10
    if _LN_10 is None:
        _LN_10 = float(sp.log(10))
    present = tuple(key for key, _, _, _ in values)
    permeant = [key for key, p, _, _ in values if p > 0]
    shape = _ghk_shape(present, permeant[0] if len(permeant) == 1 else None, result_mv < 0)
    kelvins = kelvin(temperature_c)
    numbers = [GAS_CONSTANT, FARADAY, kelvins]
    for _, permeability, inside, outside in values:
        numbers += [permeability, inside, outside]
    mpfs = [_mp.from_float(value) for value in numbers]
    lhs = ("V_{m}", "V_m")
    bindings = lambda: _ghk_bindings(temperature_c, values)  # noqa: E731
    chloride = ""
    if "Cl" in present:
        negative, inverted = chloride_inversion()
        chloride = (
            f" Cl⁻ is an anion (z = −1): {negative} = {inverted}, so inside Cl⁻ sits on top, "
            "beside the outside cations."
        )
    steps = [
        _step(
            lhs,
            "The Goldman–Hodgkin–Katz voltage equation: each ion pulls V_m toward its own equilibrium "
            f"potential, weighted by its permeability and concentration.{chloride}",
            shape.general_texts,
            _mp.to_float(_evaluated(shape.general_node, mpfs)) * 1000.0,
            shape.general,
            1000.0,
        )
    ]
    listed = ", ".join(f"{permeability_symbol(key).name} = {format_number(p)}" for key, p, _, _ in values)
    steps.append(
        _step(
            lhs,
            f"Substitute {_constants_sentence(temperature_c)}, {listed} and the concentrations in mM.",
            _fill(shape.substituted, numbers),
            _as_float(shape.substituted.node, mpfs) * 1000.0,
            _substituted_later(shape.general, bindings),
            1000.0,
            unit="V",
        )
    )
    # The sums as the reference sums them: sympy Floats, products and sums rounded to 53 bits, no underflow.
    numerator = denominator = None
    for key, p, i, o in values:
        anion = IONS[key].valence < 0
        top = _mp.mpf_mul(_mp.from_float(p), _mp.from_float(i if anion else o), _FLOAT, _mp.round_nearest)
        bottom = _mp.mpf_mul(_mp.from_float(p), _mp.from_float(o if anion else i), _FLOAT, _mp.round_nearest)
        numerator = top if numerator is None else _mp.mpf_add(numerator, top, _FLOAT, _mp.round_nearest)
        denominator = bottom if denominator is None else _mp.mpf_add(denominator, bottom, _FLOAT, _mp.round_nearest)
    if numerator == _mp.fzero or denominator == _mp.fzero:
        raise _Fallback
    thermal = float(decade_slope(1, temperature_c)) / _LN_10
    numerator_f, denominator_f = _mp.to_float(numerator), _mp.to_float(denominator)
    if numerator_f == 0 or denominator_f == 0 or not (math.isfinite(numerator_f) and math.isfinite(denominator_f)):
        raise _Fallback  # beyond a float: the reference prints what sympy's Float makes of it

    def sums_expression() -> sp.Expr:
        with sp.evaluate(False):
            return sp.Mul(sp.Float(thermal, 15), sp.log(sp.Float._new(numerator, 53) / sp.Float._new(denominator, 53)))

    steps.append(
        _step(
            lhs,
            f"Add up the weighted concentrations; RT/F = {format_number(thermal, 5)} mV "
            f"at {format_number(temperature_c)} °C.",
            _fill(shape.sums, [thermal, numerator_f, denominator_f]),
            _as_float(shape.sums.node, [_mp.from_float(thermal), numerator, denominator]),
            _Lazy(sums_expression),
            1.0,
            unit="mV",
        )
    )
    if shape.single is not None:
        key = permeant[0]
        form, texts, node = shape.single
        steps.append(
            _step(
                lhs,
                f"Only {IONS[key].symbol} is permeant: its permeability cancels and GHK becomes the Nernst "
                f"equation for {IONS[key].symbol}.",
                texts,
                _mp.to_float(_evaluated(node, mpfs)) * 1000.0,
                form,
                1000.0,
            )
        )
    steps.append(
        _step(
            lhs,
            f"V_m = {_sign(result_mv)} mV.",
            _fill(shape.result, [result_mv]),
            float(result_mv),
            _Lazy(lambda: sp.Float(result_mv, 15)),
            1.0,
            unit="mV",
        )
    )
    return Derivation(tuple(steps), _Lazy(bindings))


@lru_cache(maxsize=DERIVATION_CACHE_SIZE)
def ghk_derivation(temperature_c: float, values: GhkValues, result_mv: float) -> Derivation:
    """General GHK → substituted → sums evaluated → (reduction to Nernst) → result.

    Text and values are those of :func:`reference_ghk_derivation`, built from templates."""
    try:
        return _fast_ghk(temperature_c, values, result_mv)
    except _Fallback:
        return reference_ghk_derivation(temperature_c, values, result_mv)


def warm_up() -> None:
    """Build everything a first ``detail:steps`` would otherwise build: the symbolic forms,
    the identities checked by :func:`chloride_inversion` and :func:`ghk_single_ion_form`
    (``sp.simplify``, the slowest part), every template of the fast builders (each ion and
    custom valence, at 37 °C and not, either sign; each set of GHK ions with or without its
    reduction to Nernst; ≈ 0.2 s), and the default cell's Nernst and GHK derivations (the
    printers and sympy's own caches; these two stay cached, as real requests)."""
    from itertools import combinations

    from bot.physiology.calculator import nernst, resting_potential  # it imports this module on demand
    from bot.physiology.ions import CUSTOM

    chloride_inversion()
    for key in GHK_IONS:
        ghk_single_ion_form(key)
    ions = [*IONS.values(), *(Ion(CUSTOM, "custom ion", "X", valence) for valence in (-3, -2, -1, 1, 2, 3))]
    for ion in ions:
        for body in (True, False):
            for negative in (True, False):
                _nernst_shape(ion, body, negative)
    for size in range(1, len(GHK_IONS) + 1):
        for present in combinations(GHK_IONS, size):
            for single in (None, *present):
                for negative in (True, False):
                    _ghk_shape(present, single, negative)
    nernst("K", steps=True)
    resting_potential(steps=True)
