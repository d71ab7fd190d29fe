"""Properties of the equations that must hold for every input a student may type.

Strategies stay inside the accepted ranges (design.md): concentrations 1e-6 … 1000 mM,
temperature 0 … 50 °C, valence a non-zero integer −3 … 3, permeabilities 0 … 1000 with at
least one above 0. Concentrations are drawn log-uniformly (plus the textbook's own
numbers), since a tenfold ratio matters to the Nernst equation and the digits do not.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.physiology import PRESETS, InputError, nernst, resting_potential
from bot.physiology.derivation import Derivation
from bot.physiology.equations import decade_slope, ghk_voltage, mullins_noda_voltage, nernst_potential
from bot.physiology.ions import IONS

LOW, HIGH = 1e-6, 1000.0


def log_uniform(low: float, high: float) -> st.SearchStrategy[float]:
    """A float from low to high whose exponent, not its mantissa, is uniform."""
    return st.floats(math.log10(low), math.log10(high)).map(lambda e: min(high, max(low, 10.0**e)))


concentrations = st.one_of(
    log_uniform(LOW, HIGH),
    st.sampled_from([LOW, 0.0001, 0.0002, 2.0, 5.0, 13.0, 15.0, 20.0, 100.0, 140.0, 145.0, 150.0, 400.0, HIGH]),
)
temperatures = st.one_of(st.floats(0.0, 50.0), st.sampled_from([0.0, 18.5, 37.0, 50.0]))
valences = st.sampled_from([-3, -2, -1, 1, 2, 3])
# ghk_voltage itself is plain floating point: below ~1e-302 a permeability times 1e-6 mM
# underflows. The calculator rescales permeabilities (see test_calculator_never_crashes),
# so the direct equation tests use 1e-6 … 1000 and exact zeros.
positive_permeabilities = log_uniform(1e-6, 1000.0)
permeabilities = st.one_of(st.just(0.0), positive_permeabilities)
GHK_VALENCE = {"K": 1, "Na": 1, "Cl": -1}

ion_inputs = st.tuples(permeabilities, concentrations, concentrations)
membranes = st.fixed_dictionaries({"K": ion_inputs, "Na": ion_inputs, "Cl": ion_inputs}).filter(
    lambda ions: any(p > 0 for p, _, _ in ions.values())
)


def close(a: float, b: float, rel: float = 1e-9, tol: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=tol)


# --- Nernst ------------------------------------------------------------------------------------


@given(valences, concentrations, concentrations, temperatures)
def test_swapping_inside_and_outside_flips_the_sign(valence: int, inside: float, outside: float, t: float) -> None:
    forward = float(nernst_potential(valence, inside, outside, t))
    backward = float(nernst_potential(valence, outside, inside, t))
    assert close(forward, -backward)
    assert math.isfinite(forward)


@given(valences, concentrations, concentrations, temperatures)
def test_nernst_matches_the_decade_slope(valence: int, inside: float, outside: float, t: float) -> None:
    """E = (RT·ln10/zF)·log10([X]o/[X]i): the slope form the derivation shows."""
    slope = float(decade_slope(valence, t))
    assert close(float(nernst_potential(valence, inside, outside, t)), slope * math.log10(outside / inside))


# --- GHK -----------------------------------------------------------------------------------------


@given(membranes, temperatures)
def test_ghk_lies_between_the_permeant_ions_potentials(ions: dict, t: float) -> None:
    vm = float(ghk_voltage(t, ions))
    potentials = [
        float(nernst_potential(GHK_VALENCE[key], inside, outside, t))
        for key, (p, inside, outside) in ions.items()
        if p > 0
    ]
    tolerance = 1e-9 * max(1.0, *map(abs, potentials))
    assert min(potentials) - tolerance <= vm <= max(potentials) + tolerance


@given(st.sampled_from(["K", "Na", "Cl"]), positive_permeabilities, membranes, temperatures)
def test_ghk_is_nernst_with_one_permeant_ion(key: str, p: float, ions: dict, t: float) -> None:
    alone = {name: ((p if name == key else 0.0), inside, outside) for name, (_, inside, outside) in ions.items()}
    _, inside, outside = alone[key]
    expected = float(nernst_potential(GHK_VALENCE[key], inside, outside, t))  # Cl⁻ with z = −1
    assert close(float(ghk_voltage(t, alone)), expected)
    assert close(float(mullins_noda_voltage(1.5, t, alone)), expected)


@given(
    positive_permeabilities,
    concentrations,
    st.lists(concentrations, min_size=2, max_size=40),
    st.tuples(permeabilities, concentrations, concentrations),
    st.tuples(permeabilities, concentrations, concentrations),
    temperatures,
)
def test_vm_rises_with_outside_potassium(
    p_k: float, k_in: float, k_out: list[float], na: tuple, cl: tuple, t: float
) -> None:
    sweep = np.sort(np.asarray(k_out))
    vm = ghk_voltage(t, {"K": (p_k, k_in, sweep), "Na": na, "Cl": cl})
    assert vm.shape == sweep.shape
    assert np.all(np.isfinite(vm))
    assert np.all(np.diff(vm) >= -1e-9)
    numerator = p_k * sweep[0] + na[0] * na[2] + cl[0] * cl[1]
    if p_k * (sweep[-1] - sweep[0]) > 1e-6 * numerator:  # a change large enough to show in a double
        assert vm[-1] > vm[0]


@given(membranes, temperatures)
def test_mullins_noda_with_r_1_is_ghk(ions: dict, t: float) -> None:
    assert float(mullins_noda_voltage(1.0, t, ions)) == float(ghk_voltage(t, ions))


# --- Vectorised = scalar ---------------------------------------------------------------------


@given(st.lists(st.tuples(valences, concentrations, concentrations, temperatures), min_size=1, max_size=30))
def test_vectorised_nernst_equals_scalar(rows: list[tuple[int, float, float, float]]) -> None:
    for valence in {row[0] for row in rows}:
        chosen = [row for row in rows if row[0] == valence]
        inside, outside, t = (np.array([row[k] for row in chosen]) for k in (1, 2, 3))
        vector = nernst_potential(valence, inside, outside, t)
        scalar = [float(nernst_potential(valence, row[1], row[2], row[3])) for row in chosen]
        np.testing.assert_allclose(vector, scalar, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(
            decade_slope(valence, t), [float(decade_slope(valence, row[3])) for row in chosen], rtol=1e-12
        )


@given(st.lists(st.tuples(membranes, temperatures), min_size=1, max_size=20), st.floats(1.0, 2.0))
def test_vectorised_ghk_equals_scalar(rows: list[tuple[dict, float]], r: float) -> None:
    t = np.array([row[1] for row in rows])
    arrays = {key: tuple(np.array([row[0][key][k] for row in rows]) for k in range(3)) for key in ("K", "Na", "Cl")}
    vector = ghk_voltage(t, arrays)
    scalar = [float(ghk_voltage(temperature, ions)) for ions, temperature in rows]
    np.testing.assert_allclose(vector, scalar, rtol=1e-12, atol=1e-12)
    coupled = mullins_noda_voltage(r, t, arrays)
    coupled_scalar = [float(mullins_noda_voltage(r, temperature, ions)) for ions, temperature in rows]
    np.testing.assert_allclose(coupled, coupled_scalar, rtol=1e-12, atol=1e-12)


# --- Derivations ------------------------------------------------------------------------------


def check_derivation(derivation: Derivation, answer: float, valence: int, ratio: float) -> None:
    """Exact steps re-evaluate to the answer within 1e-6; the ≈ 61.5 step within its known error."""
    for step in derivation.steps:
        again = derivation.evaluate(step)
        assert step.value_mv == again
        if step.approximate:
            assert abs(again - answer) <= 0.041 / abs(valence) * abs(math.log10(ratio)) + 1e-9
        else:
            assert math.isclose(again, answer, rel_tol=1e-6, abs_tol=1e-9), (step.unicode, again, answer)


nernst_ions = st.sampled_from([*IONS, "custom"])


@given(nernst_ions, valences, concentrations, concentrations, temperatures)
def test_nernst_derivation_re_evaluates(ion: str, valence: int, inside: float, outside: float, t: float) -> None:
    result = nernst(
        ion, inside=inside, outside=outside, temperature=t, valence=valence if ion == "custom" else None, steps=True
    )
    assert result.derivation is not None
    z = result.ion.valence
    check_derivation(result.derivation, result.potential_mv, z, outside / inside)
    approximate = [step for step in result.derivation.steps if step.approximate]
    assert len(approximate) == (1 if t == 37.0 else 0)
    assert math.isclose(result.potential_mv, float(nernst_potential(z, inside, outside, t)), rel_tol=1e-12)


def optional(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.none(), strategy)


restpot_options = st.fixed_dictionaries(
    {
        **{f"{ion}_{side}": optional(concentrations) for ion in ("k", "na", "cl") for side in ("in", "out")},
        # any float in range here, subnormals included: the calculator must never crash
        **{f"p_{ion}": optional(st.one_of(st.just(0.0), st.floats(0.0, 1000.0))) for ion in ("k", "na", "cl")},
    }
)


def valid(preset: str, options: dict) -> bool:
    """Whether the calculator should accept these options (the rules the error messages state)."""
    chosen = PRESETS[preset]
    key_of = {"k": "K", "na": "Na", "cl": "Cl"}
    effective = {
        prefix: options[f"p_{prefix}"] if options[f"p_{prefix}"] is not None else chosen.permeabilities.get(key, 0.0)
        for prefix, key in key_of.items()
    }
    if not any(p > 0 for p in effective.values()):
        return False
    for prefix, key in key_of.items():
        given_sides = [options[f"{prefix}_{side}"] is not None for side in ("in", "out")]
        if chosen.concentration(key) is None and (effective[prefix] > 0 or any(given_sides)) and not all(given_sides):
            return False
    return True


@given(st.sampled_from(list(PRESETS)), restpot_options, optional(temperatures))
def test_calculator_never_crashes(preset: str, options: dict, t: float | None) -> None:
    """In-range input gives a finite answer or a clear InputError, never anything else."""
    try:
        result = resting_potential(preset=preset, temperature=t, **options)
    except InputError as error:
        assert not valid(preset, options), str(error)
        assert "\n" not in str(error)
        return
    assert valid(preset, options)
    assert math.isfinite(result.vm_mv)
    shares = [ion.conductance_share for ion in result.ions if ion.conductance_share is not None]
    assert all(math.isfinite(share) and 0.0 <= share <= 1.0 for share in shares)
    assert math.isclose(sum(shares), 1.0, rel_tol=1e-9)
    dominant = result.ion(result.dominant_ion)
    assert dominant is not None
    assert dominant.permeability


@given(st.sampled_from(list(PRESETS)), restpot_options, optional(temperatures))
def test_ghk_derivation_re_evaluates(preset: str, options: dict, t: float | None) -> None:
    assume(valid(preset, options))
    result = resting_potential(preset=preset, temperature=t, steps=True, **options)
    assert result.derivation is not None
    assert not any(step.approximate for step in result.derivation.steps)
    check_derivation(result.derivation, result.vm_mv, 1, 1.0)
    assert result.derivation.steps[-1].value_mv == result.vm_mv
