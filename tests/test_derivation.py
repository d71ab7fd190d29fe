"""Derivations as data: every step re-evaluates to the answer it leads to.

The one approximate step (the rounded 61.5 mV-per-decade rule at 37 °C) is marked ≈ and
is held to its known error, 0.0404/|z| mV per decade (exact slope 61.5404, Bear, Connors
& Paradiso 4th ed., Ch. 3).
"""

from __future__ import annotations

import math
import random

import pytest

from bot.physiology import nernst, resting_potential
from bot.physiology.derivation import (
    ROUNDED_SLOPE_37C,
    Derivation,
    Step,
    _Fallback,
    _fast_ghk,
    _fast_nernst,
    ghk_derivation,
    nernst_derivation,
    reference_ghk_derivation,
    reference_nernst_derivation,
)
from bot.physiology.equations import ghk_voltage, nernst_potential
from bot.physiology.ions import CUSTOM, GHK_IONS, IONS, Ion

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


# The fast builders (templates per structure, values by the mpmath primitives sympy calls) against
# the reference builders (sympy substitution, printing and evaluation for every call): byte for byte.

FAST_CASES = 1000


def _same_steps(fast: Derivation, reference: Derivation) -> None:
    assert len(fast.steps) == len(reference.steps)
    for mine, theirs in zip(fast.steps, reference.steps, strict=True):
        assert (mine.sentence, mine.latex, mine.unicode, mine.approximate) == (
            theirs.sentence,
            theirs.latex,
            theirs.unicode,
            theirs.approximate,
        )
        assert mine.value_mv == theirs.value_mv, (mine.unicode, mine.value_mv, theirs.value_mv)  # to the bit
        assert mine.scale == theirs.scale


def _concentration(rng: random.Random) -> float:
    return float(rng.choice([10 ** rng.uniform(-6, 3), round(rng.uniform(1, 200)), round(rng.uniform(1, 200), 1)]))


def _temperature(rng: random.Random) -> float:
    return rng.choice([37.0, 37.0, 18.5, 20.0, 0.0, 50.0, round(rng.uniform(0, 50), 1), rng.uniform(0, 50)])


def test_fast_nernst_derivation_is_the_reference_byte_for_byte() -> None:
    """Every ion and every valence −3 … 3, any temperature, concentrations over the accepted range."""
    rng = random.Random(11)
    ions = [*IONS.values(), *(Ion(CUSTOM, "custom ion", "X", v) for v in (-3, -2, -1, 1, 2, 3))]
    fast_built = 0
    for _ in range(FAST_CASES):
        ion = rng.choice(ions)
        inside, outside, celsius = _concentration(rng), _concentration(rng), _temperature(rng)
        result = float(nernst_potential(ion.valence, inside, outside, celsius))
        reference = reference_nernst_derivation(ion, inside, outside, celsius, result)
        try:
            fast = _fast_nernst(ion, inside, outside, celsius, result)
        except _Fallback:  # the public builder answers with the reference itself
            assert nernst_derivation.__wrapped__(ion, inside, outside, celsius, result).steps == reference.steps
            continue
        fast_built += 1
        _same_steps(fast, reference)
    assert fast_built >= 0.99 * FAST_CASES  # the fast path is the path, not the exception


@pytest.mark.parametrize("keys", [("K", "Na"), ("K", "Na", "Cl"), ("K", "Cl"), ("Na", "Cl")])
def test_fast_ghk_derivation_is_the_reference_byte_for_byte(keys: tuple[str, ...]) -> None:
    """Two and three ions, Cl⁻ included, zero and single permeabilities (the reduction to Nernst)."""
    rng = random.Random(hash(keys) & 0xFFFF)
    fast_built = 0
    for _ in range(FAST_CASES // 2):
        values = []
        for key in keys:
            permeability = rng.choice(
                [0.0, 1.0, rng.uniform(0, 1), 10 ** rng.uniform(-6, 0), round(rng.uniform(0, 1), 2)]
            )
            values.append((key, permeability, _concentration(rng), _concentration(rng)))
        if all(p == 0 for _, p, _, _ in values):
            values[0] = (values[0][0], 1.0, values[0][2], values[0][3])
        ghk_values = tuple(values)
        celsius = _temperature(rng)
        result = float(ghk_voltage(celsius, {k: (p, i, o) for k, p, i, o in ghk_values}))
        reference = reference_ghk_derivation(celsius, ghk_values, result)
        try:
            fast = _fast_ghk(celsius, ghk_values, result)
        except _Fallback:
            assert ghk_derivation.__wrapped__(celsius, ghk_values, result).steps == reference.steps
            continue
        fast_built += 1
        _same_steps(fast, reference)
    assert fast_built >= 0.99 * (FAST_CASES // 2)


def test_fast_derivations_keep_their_expressions_and_bindings() -> None:
    """The lazily built expressions and bindings are the reference's, and re-evaluate to each step's value."""
    rng = random.Random(5)
    for _ in range(40):
        ion = rng.choice(list(IONS.values()))
        inside, outside, celsius = _concentration(rng), _concentration(rng), _temperature(rng)
        result = float(nernst_potential(ion.valence, inside, outside, celsius))
        fast = _fast_nernst(ion, inside, outside, celsius, result)
        reference = reference_nernst_derivation(ion, inside, outside, celsius, result)
        assert dict(fast.bindings) == dict(reference.bindings)
        for mine, theirs in zip(fast.steps, reference.steps, strict=True):
            assert mine.expression == theirs.expression
            assert fast.evaluate(mine) == mine.value_mv
        values = tuple((key, rng.uniform(0, 1), _concentration(rng), _concentration(rng)) for key in GHK_IONS)
        vm = float(ghk_voltage(celsius, {k: (p, i, o) for k, p, i, o in values}))
        fast, reference = _fast_ghk(celsius, values, vm), reference_ghk_derivation(celsius, values, vm)
        assert dict(fast.bindings) == dict(reference.bindings)
        for mine, theirs in zip(fast.steps, reference.steps, strict=True):
            assert mine.expression == theirs.expression
            assert fast.evaluate(mine) == mine.value_mv
