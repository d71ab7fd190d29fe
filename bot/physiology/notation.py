"""Print the engine's own sympy expressions as LaTeX and as one-line Unicode.

sympy's printers reorder factors and spell out ``1/96485`` as its own factor, which is
unreadable on a phone. The expressions printed here are built by the engine (never from
user text) with ``evaluate=False`` in the order a textbook writes them; this printer
keeps that order, puts negative powers under a fraction bar and writes numbers the way a
student copies them from a calculator (:func:`~bot.physiology.formatting.format_number`,
which lives in its own module so that an answer can format a number without importing
sympy, as this printer must).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import sympy as sp
from sympy.codegen.cfunctions import log10

from bot.physiology.formatting import format_number

Style = Literal["latex", "unicode"]


@dataclass(frozen=True, slots=True)
class Names:
    """How each symbol is written in LaTeX and in Unicode."""

    latex: Mapping[sp.Symbol, str]
    unicode: Mapping[sp.Symbol, str]

    def merged(self, other: Names) -> Names:
        return Names({**self.latex, **other.latex}, {**self.unicode, **other.unicode})


def _latex_number(text: str) -> str:
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \times 10^{{{exponent}}}"
    return text


class _Printer:
    def __init__(self, names: Names, style: Style) -> None:
        self.names = names.latex if style == "latex" else names.unicode
        self.style = style

    @property
    def latex(self) -> bool:
        return self.style == "latex"

    def print(self, expr: sp.Basic) -> str:
        if isinstance(expr, sp.Symbol):
            return self.names.get(expr, expr.name)
        if isinstance(expr, sp.Number):
            return self._number(expr)
        if isinstance(expr, sp.Add):
            return self._add(expr)
        if isinstance(expr, sp.Mul):
            return self._mul(expr)
        if isinstance(expr, sp.Pow):
            return self._pow(expr)
        if isinstance(expr, sp.log):
            return self._function(r"\ln" if self.latex else "ln", expr.args[0])
        if isinstance(expr, log10):
            return self._function(r"\log_{10}" if self.latex else "log₁₀", expr.args[0])
        raise TypeError(f"no notation for {type(expr).__name__}")  # our own expressions only

    def _number(self, number: sp.Number) -> str:
        value = float(number)
        text = format_number(abs(value))
        if self.latex:
            text = _latex_number(text)
        if value < 0:
            return ("-" if self.latex else "−") + text
        return text

    def _function(self, name: str, argument: sp.Basic) -> str:
        inner = self.print(argument)
        if self.latex:
            return rf"{name}\left({inner}\right)"
        return f"{name}({inner})"

    def _add(self, expr: sp.Add) -> str:
        parts = [self.print(term) for term in expr.args]
        text = parts[0]
        for part in parts[1:]:
            if part.startswith(("-", "−")):
                text += (" - " if self.latex else " − ") + part[1:]
            else:
                text += " + " + part
        return text

    def _factor(self, expr: sp.Basic) -> str:
        text = self.print(expr)
        if isinstance(expr, sp.Add):
            return rf"\left({text}\right)" if self.latex else f"({text})"
        return text

    def _product(self, factors: list[sp.Basic]) -> str:
        if not factors:
            return "1"
        sign = ""
        if len(factors) > 1 and factors[0] == sp.Integer(-1):  # RT/(−F), not RT/(−1 · F)
            sign, factors = ("-" if self.latex else "−"), factors[1:]
        texts = [self._factor(factor) for factor in factors]
        texts[0] = sign + texts[0]
        if self.latex:
            separator = " " if all(isinstance(f, sp.Symbol) for f in factors) else r" \cdot "
            return separator.join(texts)
        if all(isinstance(f, sp.Symbol) and len(self.print(f)) == 1 for f in factors):
            return "".join(texts)  # RT, zF: the way textbooks write symbol products
        return " · ".join(texts)

    def _mul(self, expr: sp.Mul) -> str:
        numerator: list[sp.Basic] = []
        denominator: list[sp.Basic] = []
        for factor in expr.args:
            if isinstance(factor, sp.Pow) and factor.exp == -1:
                base = factor.base
                denominator.extend(base.args if isinstance(base, sp.Mul) else [base])
            else:
                numerator.append(factor)
        if not denominator:
            return self._product(numerator)
        if self.latex:
            return rf"\frac{{{self._part(numerator)}}}{{{self._part(denominator)}}}"
        bottom = self._part(denominator)
        if len(denominator) > 1 and not bottom.startswith("("):
            bottom = f"({bottom})"  # RT/(zF), never the ambiguous RT/zF
        return f"{self._wrapped(numerator)}/{self._wrapped(denominator) if len(denominator) == 1 else bottom}"

    def _part(self, factors: list[sp.Basic]) -> str:
        """A fraction's numerator or denominator: a lone sum needs no brackets of its own."""
        return self.print(factors[0]) if len(factors) == 1 else self._product(factors)

    def _wrapped(self, factors: list[sp.Basic]) -> str:
        text = self._part(factors)
        return f"({text})" if " " in text or "·" in text or text.startswith("−") else text

    def _pow(self, expr: sp.Pow) -> str:
        base, exponent = self._factor(expr.base), self.print(expr.exp)
        if expr.exp == -1:
            return rf"\frac{{1}}{{{base}}}" if self.latex else f"1/{base}"
        return f"{base}^{{{exponent}}}" if self.latex else f"{base}^{exponent}"


def to_latex(expr: sp.Basic, names: Names) -> str:
    return _Printer(names, "latex").print(expr)


def to_unicode(expr: sp.Basic, names: Names) -> str:
    return _Printer(names, "unicode").print(expr)
