"""The ions the engine knows, and a custom ion of any allowed valence."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from bot.physiology.validation import InputError, check_valence

_SUPERSCRIPT = str.maketrans("0123456789+-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻")


def charge_suffix(valence: int) -> str:
    """The Unicode superscript charge: 1 → ⁺, −2 → ²⁻."""
    sign = "+" if valence > 0 else "-"
    size = abs(valence)
    return (str(size) if size > 1 else "").translate(_SUPERSCRIPT) + sign.translate(_SUPERSCRIPT)


@dataclass(frozen=True, slots=True)
class Ion:
    """An ion species: the option key, its printed symbol and its valence z."""

    key: str
    name: str
    element: str
    valence: int

    @property
    def symbol(self) -> str:
        """Unicode symbol with charge, e.g. ``Ca²⁺``."""
        return self.element + charge_suffix(self.valence)

    @property
    def latex(self) -> str:
        """LaTeX symbol with charge, e.g. ``\\mathrm{Ca^{2+}}``."""
        size = abs(self.valence)
        sign = "+" if self.valence > 0 else "-"
        return rf"\mathrm{{{self.element}^{{{size if size > 1 else ''}{sign}}}}}"


IONS: Final[dict[str, Ion]] = {
    ion.key: ion
    for ion in (
        Ion("K", "potassium", "K", 1),
        Ion("Na", "sodium", "Na", 1),
        Ion("Cl", "chloride", "Cl", -1),
        Ion("Ca", "calcium", "Ca", 2),
        Ion("Mg", "magnesium", "Mg", 2),
        Ion("H", "hydrogen", "H", 1),
    )
}
CUSTOM: Final = "custom"
GHK_IONS: Final = ("K", "Na", "Cl")
"""The monovalent ions of the GHK voltage equation (its closed form needs |z| = 1)."""


def ion_for(key: str, valence: int | None = None) -> Ion:
    """The named ion, or a custom ion ``X`` of the given valence.

    A valence given with a named ion must match it: silently using another charge for
    K⁺ would teach the wrong thing.
    """
    if key == CUSTOM:
        if valence is None:
            raise InputError("`ion:custom` needs a `valence` (a non-zero whole number from -3 to 3).", option="valence")
        return Ion(CUSTOM, "custom ion", "X", check_valence("valence", valence))
    try:
        ion = IONS[key]
    except KeyError:
        allowed = ", ".join([*IONS, CUSTOM])
        raise InputError(f"Unknown ion `{key}`: choose one of {allowed}.", option="ion") from None
    if valence is not None and check_valence("valence", valence) != ion.valence:
        raise InputError(
            f"{ion.symbol} has valence {ion.valence:+d}; use `ion:custom` to try another valence.", option="valence"
        )
    return ion
