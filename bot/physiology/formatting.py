"""Numbers written the way a student copies them from a calculator.

Kept apart from :mod:`bot.physiology.notation` (which prints sympy expressions and imports
sympy) so that every answer can format its numbers without loading sympy; notation
re-exports :func:`format_number` for its printer and its existing callers.
"""

from __future__ import annotations

import math


def format_number(value: float, digits: int = 6) -> str:
    """Up to ``digits`` significant figures, no trailing zeros, no exponent for mM values."""
    if value == 0:
        return "0"
    if not math.isfinite(value):  # e.g. P_Na/P_K with a subnormal P_K
        return "NaN" if math.isnan(value) else "∞" if value > 0 else "−∞"
    if abs(value) < 1e-4 or abs(value) >= 1e7:
        mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{int(exponent)}"
    text = f"{value:.{digits}g}"
    if "e" in text:  # e.g. 1e+03 for 1000 with few digits
        text = f"{value:.0f}"
    return text
