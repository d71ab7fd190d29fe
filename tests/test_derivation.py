"""Derivations as data: every step re-evaluates to the answer it leads to.

The one approximate step (the rounded 61.5 mV-per-decade rule at 37 °C) is marked ≈ and
is held to its known error, 0.0404/|z| mV per decade (exact slope 61.5404, Bear, Connors
& Paradiso 4th ed., Ch. 3).
"""

from __future__ import annotations

import math

import pytest

from bot.physiology import nernst, resting_potential
from bot.physiology.derivation import ROUNDED_SLOPE_37C, Derivation, Step

R = 8.314462618  # CODATA 2018
F = 96485.33212


def nernst_ref(valence: int, inside: float, outside: float, celsius: float) -> float:
    return R * (273.15 + celsius) / F * 1000.0 / valence * math.log(outside / inside)


def check_steps(derivation: Derivation, answer: float, valence: int = 1, ratio: float = 1.0) -> None:
    assert derivation.steps, "a derivation has steps"
    for step in derivation.steps:
        again = derivation.evaluate(step)
        assert step.value_mv == again
        if step.approximate:
            bound = 0.041 / abs(valence) * abs(math.log10(ratio)) + 1e-9
            assert abs(again - answer) <= bound, (step.unicode, again, answer)
        else:
            assert math.isclose(again, answer, rel_tol=1e-6, abs_tol=1e-9), (step.unicode, again, answer)
    assert derivation.steps[-1].value_mv == pytest.approx(answer, rel=1e-12, abs=1e-12)


def test_potassium_derivation_at_37c() -> None:
    """E_K for 140/5 mM at 37 °C: general → substituted → slope form → ≈ 61.5 rule → −89.06 mV."""
    result = nernst("K", inside=140, outside=5, steps=True)
    derivation = result.derivation
    assert derivation is not None
    check_steps(derivation, result.potential_mv, 1, 5 / 140)
    assert result.potential_mv == pytest.approx(nernst_ref(1, 140, 5, 37), rel=1e-12)
    approximate = [step for step in derivation.steps if step.approximate]
    assert len(approximate) == 1
    rule = approximate[0]
    assert rule.value_mv == pytest.approx(ROUNDED_SLOPE_37C * math.log10(5 / 140), rel=1e-12)
    assert ROUNDED_SLOPE_37C == 61.5
    assert "≈" in rule.unicode
    assert r"\approx" in rule.latex
    assert "61.5" in rule.unicode
    for step in derivation.steps:
        if not step.approximate:
            assert "≈" not in step.unicode
            assert r"\approx" not in step.latex
    assert "61.54" in " ".join(step.sentence for step in derivation.steps)  # derived, not asserted
    assert derivation.steps[-1].unicode == "E_K = −89.0587 mV"
    assert derivation.steps[-1].sentence == "E_K = −89.1 mV."  # one decimal, as design.md asks


def test_calcium_derivation_divides_the_slope_by_two() -> None:
    result = nernst("Ca", inside=0.0001, outside=2, steps=True)
    assert result.derivation is not None
    check_steps(result.derivation, result.potential_mv, 2, 2 / 0.0001)
    (rule,) = [step for step in result.derivation.steps if step.approximate]
    assert rule.value_mv == pytest.approx(61.5 / 2 * math.log10(2 / 0.0001), rel=1e-12)
    assert any("|z| = 2" in step.sentence for step in result.derivation.steps)


def test_no_approximate_step_away_from_37c() -> None:
    result = nernst("K", preset="squid-giant-axon", steps=True)
    assert result.temperature_c == 18.5
    assert result.derivation is not None
    assert not any(step.approximate for step in result.derivation.steps)
    check_steps(result.derivation, result.potential_mv)


def test_chloride_derivation_negative_valence() -> None:
    result = nernst("Cl", steps=True)
    assert result.derivation is not None
    check_steps(result.derivation, result.potential_mv, -1, 150 / 13)
    assert result.potential_mv == pytest.approx(nernst_ref(-1, 13, 150, 37), rel=1e-12)


def test_ghk_derivation_default_preset() -> None:
    result = resting_potential(steps=True)
    assert result.derivation is not None
    check_steps(result.derivation, result.vm_mv)
    assert not any(step.approximate for step in result.derivation.steps)
    text = " ".join(step.unicode for step in result.derivation.steps)
    assert "V_m" in text
    assert "ln" in text


def test_ghk_derivation_squid_has_chloride_upside_down() -> None:
    """Cl⁻ (z = −1) sits with [Cl⁻]ᵢ in the numerator: the first step says why."""
    result = resting_potential(preset="squid-giant-axon", steps=True)
    assert result.derivation is not None
    check_steps(result.derivation, result.vm_mv)
    first = result.derivation.steps[0]
    assert "Cl⁻" in first.sentence
    assert "[Cl⁻]ᵢ" in first.unicode


@pytest.mark.parametrize(
    ("options", "ion", "valence"),
    [
        ({"p_k": 1, "p_na": 0, "p_cl": 0, "preset": "bear-neuron"}, ("K", 100.0, 5.0), 1),
        ({"p_k": 0, "p_na": 1, "p_cl": 0, "preset": "bear-neuron"}, ("Na", 15.0, 150.0), 1),
        ({"p_k": 0, "p_na": 0, "p_cl": 1, "preset": "bear-neuron"}, ("Cl", 13.0, 150.0), -1),
    ],
)
def test_ghk_with_one_permeant_ion_reduces_to_nernst(options: dict, ion: tuple, valence: int) -> None:
    """With a single permeant ion GHK is that ion's Nernst equation; the derivation shows the step."""
    result = resting_potential(steps=True, **options)
    _, inside, outside = ion
    assert result.vm_mv == pytest.approx(nernst_ref(valence, inside, outside, 37.0), rel=1e-9)
    assert result.derivation is not None
    check_steps(result.derivation, result.vm_mv)
    assert any("Only" in step.sentence and "Nernst" in step.sentence for step in result.derivation.steps)


def test_step_is_frozen_data() -> None:
    result = nernst("K", steps=True)
    assert result.derivation is not None
    step = result.derivation.steps[0]
    assert isinstance(step, Step)
    with pytest.raises(AttributeError):
        step.value_mv = 0.0  # type: ignore[misc]


def test_ghk_derivation_with_a_subnormal_permeability() -> None:
    """Regression: the "add up" step summed P·[X] in floats, so P_K = 1e-320 with [K⁺]ᵢ = 1e-6 mM gave 0/0
    (ZeroDivisionError). The permeability is in range (0 … 1000); K⁺ alone must give E_K."""
    result = resting_potential(p_k=1e-320, p_na=0, p_cl=0, k_in=1e-6, k_out=5, steps=True)
    assert result.vm_mv == pytest.approx(nernst_ref(1, 1e-6, 5.0, 37.0), rel=1e-12)
    assert result.derivation is not None
    check_steps(result.derivation, result.vm_mv)
