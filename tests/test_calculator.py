"""The front door (nernst, resting_potential, what_if): textbook presets, scenarios, bad input.

Expected numbers are computed here with math.log and CODATA constants, independently of
the engine, and compared with the values the cited textbooks print.
"""

from __future__ import annotations

import json
import math

import pytest

from bot.physiology import (
    DEFAULT_PRESET,
    PRESETS,
    InputError,
    nernst,
    resting_potential,
    scenarios,
    to_json,
    what_if,
)
from bot.physiology.validation import CONCENTRATION, PERMEABILITY, TEMPERATURE

R = 8.314462618  # J mol⁻¹ K⁻¹, CODATA 2018
F = 96485.33212  # C mol⁻¹, CODATA 2018


def thermal_mv(celsius: float) -> float:
    return R * (273.15 + celsius) / F * 1000.0


def nernst_ref(valence: int, inside: float, outside: float, celsius: float) -> float:
    return thermal_mv(celsius) / valence * math.log(outside / inside)


def ghk_ref(celsius: float, ions: dict[str, tuple[float, float, float]]) -> float:
    top = sum(p * (i if key == "Cl" else o) for key, (p, i, o) in ions.items())
    bottom = sum(p * (o if key == "Cl" else i) for key, (p, i, o) in ions.items())
    return thermal_mv(celsius) * math.log(top / bottom)


MAMMALIAN = [key for key, preset in PRESETS.items() if preset.mammalian]


# --- /nernst ---------------------------------------------------------------------------


def test_nernst_potassium_140_over_5() -> None:
    """E_K for 140/5 mM at 37 °C: −89.06 mV (the seed: "approximately −90 mV"), computed with math.log."""
    result = nernst("K", inside=140, outside=5)
    assert result.potential_mv == pytest.approx(nernst_ref(1, 140.0, 5.0, 37.0), rel=1e-12)
    assert round(result.potential_mv, 1) == -89.1
    assert result.temperature_c == 37.0
    assert result.derivation is None


def test_nernst_calcium_command() -> None:
    """/nernst ion:Ca inside:0.0001 outside:2 → +132.3 mV (RT/2F·ln 20 000 at 37 °C)."""
    result = nernst("Ca", inside=0.0001, outside=2)
    assert result.potential_mv == pytest.approx(nernst_ref(2, 0.0001, 2.0, 37.0), rel=1e-12)
    assert round(result.potential_mv, 1) == 132.3
    assert result.slope_mv_per_decade == pytest.approx(thermal_mv(37.0) * math.log(10) / 2, rel=1e-12)


def test_nernst_slope_is_61_54() -> None:
    """Bear, Connors & Paradiso 4th ed., Ch. 3: 61.54 mV per decade for z = +1 at 37 °C."""
    assert round(nernst("K").slope_mv_per_decade, 2) == 61.54


def test_nernst_custom_ion() -> None:
    result = nernst("custom", valence=-2, inside=10, outside=1, temperature=20)
    assert result.potential_mv == pytest.approx(nernst_ref(-2, 10.0, 1.0, 20.0), rel=1e-12)
    assert result.ion.valence == -2


def test_nernst_uses_preset_temperature_and_values() -> None:
    """The squid preset's own temperature (Hodgkin & Katz 1949: about 18.5 °C) is used by default."""
    result = nernst("K", preset="squid-giant-axon")
    assert result.temperature_c == 18.5
    assert result.potential_mv == pytest.approx(nernst_ref(1, 400.0, 20.0, 18.5), rel=1e-12)
    override = nernst("K", preset="squid-giant-axon", temperature=37)
    assert override.potential_mv == pytest.approx(nernst_ref(1, 400.0, 20.0, 37.0), rel=1e-12)


def test_nernst_accepts_the_bounds() -> None:
    for inside, outside in [(1e-6, 1000), (1000, 1e-6)]:
        for temperature in (0, 50):
            for valence in (-3, 3):
                value = nernst("custom", valence=valence, inside=inside, outside=outside, temperature=temperature)
                assert value.potential_mv == pytest.approx(nernst_ref(valence, inside, outside, temperature), rel=1e-12)


# --- Presets -------------------------------------------------------------------------------


def test_default_preset_is_sherwoods_typical_neuron() -> None:
    """Sherwood, Human Physiology: From Cells to Systems 9th ed., Ch. 3, Table 3-3: a resting nerve
    cell with K⁺ 150/5 and Na⁺ 15/150 mM, 25–30 times more permeable to K⁺ than to Na⁺, rests at
    −70 mV with E_K −90 mV, as the seed document says (K⁺ alone ≈ −90 mV, the Na⁺ leak → ≈ −70 mV)."""
    assert DEFAULT_PRESET == "mammalian-neuron"
    preset = PRESETS[DEFAULT_PRESET]
    assert preset.reference_vm_mv == -70.0
    result = resting_potential()
    assert result.preset == "mammalian-neuron"
    expected = ghk_ref(37.0, {"K": (1.0, 150.0, 5.0), "Na": (1 / 25, 15.0, 150.0)})
    assert result.vm_mv == pytest.approx(expected, rel=1e-12)
    assert -72.0 <= result.vm_mv <= -68.0  # issue 10's window around the seed's −70 mV
    assert abs(result.vm_mv - preset.reference_vm_mv) <= 1.0
    assert result.reference_vm_mv == -70.0
    assert result.dominant_ion == "K"
    assert "Sherwood" in result.source and "ISBN 978-1-285-86693-2" in result.source
    e_k = result.ion("K")
    assert e_k is not None and -95.0 <= e_k.equilibrium_mv <= -88.0
    assert nernst("K").potential_mv == pytest.approx(e_k.equilibrium_mv, rel=1e-12)


def test_the_sources_permeability_range_brackets_its_resting_potential() -> None:
    """Sherwood's 25–30 : 1 gives −69.9 … −72.5 mV (independent GHK): the source's −70 mV sits at
    the range's lower bound, which the preset uses."""
    low = ghk_ref(37.0, {"K": (1.0, 150.0, 5.0), "Na": (1 / 25, 15.0, 150.0)})
    high = ghk_ref(37.0, {"K": (1.0, 150.0, 5.0), "Na": (1 / 30, 15.0, 150.0)})
    assert round(low, 1) == -69.9 and round(high, 1) == -72.5
    assert resting_potential(p_na=1 / 30).vm_mv == pytest.approx(high, rel=1e-12)


@pytest.mark.parametrize(
    ("ion", "valence", "inside", "outside", "sherwood_mv"),
    [("K", 1, 150.0, 5.0, -90.0), ("Na", 1, 15.0, 150.0, 60.0)],
)
def test_default_preset_equilibrium_potentials(
    ion: str, valence: int, inside: float, outside: float, sherwood_mv: float
) -> None:
    """Sherwood 9th ed., Ch. 3: E_K = −90 mV and E_Na = +60 mV for these concentrations (the book
    rounds 61.5 log₁₀ to 61 log₁₀, hence +60 rather than +61.5)."""
    expected = nernst_ref(valence, inside, outside, 37.0)
    assert abs(expected - sherwood_mv) <= 2.0
    computed = nernst(ion).potential_mv
    assert computed == pytest.approx(expected, rel=1e-12)
    listed = resting_potential().ion(ion)
    assert listed is not None
    assert listed.equilibrium_mv == pytest.approx(expected, rel=1e-12)


def test_bear_neuron_is_kept_as_a_named_preset() -> None:
    """Bear, Connors & Paradiso, Neuroscience: Exploring the Brain 4th ed., Ch. 3: K⁺ 100/5, Na⁺ 15/150,
    P_K = 40 P_Na at 37 °C gives V_m = −65 mV."""
    preset = PRESETS["bear-neuron"]
    result = resting_potential(preset="bear-neuron")
    expected = ghk_ref(37.0, {"K": (1.0, 100.0, 5.0), "Na": (1 / 40, 15.0, 150.0)})
    assert result.vm_mv == pytest.approx(expected, rel=1e-12)
    assert abs(result.vm_mv - (preset.reference_vm_mv or 0.0)) <= 1.0
    assert result.reference_vm_mv == -65.0
    assert "Bear" in result.source


@pytest.mark.parametrize(
    ("ion", "valence", "inside", "outside", "bear_mv"),
    [
        ("K", 1, 100.0, 5.0, -80.0),
        ("Na", 1, 15.0, 150.0, 62.0),
        ("Ca", 2, 0.0002, 2.0, 123.0),
        ("Cl", -1, 13.0, 150.0, -65.0),
    ],
)
def test_bear_preset_equilibrium_potentials(
    ion: str, valence: int, inside: float, outside: float, bear_mv: float
) -> None:
    """Bear, Connors & Paradiso 4th ed., Ch. 3 (the table of ion concentrations and E_ion at 37 °C):
    E_K = −80, E_Na = +62, E_Ca = +123, E_Cl = −65 mV."""
    expected = nernst_ref(valence, inside, outside, 37.0)
    assert abs(expected - bear_mv) <= 1.0
    computed = nernst(ion, preset="bear-neuron").potential_mv
    assert computed == pytest.approx(expected, rel=1e-12)
    assert abs(computed - bear_mv) <= 1.0
    listed = resting_potential(preset="bear-neuron").ion(ion)
    assert listed is not None
    assert listed.equilibrium_mv == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("ion", ["Ca", "Cl"])
def test_nernst_without_a_preset_takes_an_ion_the_default_cell_lacks_from_a_cell_that_has_it(ion: str) -> None:
    result = nernst(ion)
    assert result.preset == "bear-neuron"
    assert result.potential_mv == pytest.approx(nernst(ion, preset="bear-neuron").potential_mv)
    with pytest.raises(InputError, match="has no"):
        nernst(ion, preset="mammalian-neuron")


def test_a_preset_note_is_printed_only_while_it_is_true() -> None:
    """Issue 10: "P_Cl = 0" must not be claimed once the user set p_cl; a note about the model's own
    rest must go once any input changed; a note about several inputs stays while one is the preset's."""
    assert "P_Cl = 0" in resting_potential(preset="bear-neuron").note
    assert "P_Cl = 0" in resting_potential(preset="bear-neuron", p_cl=0.0).note  # the preset's own value
    assert "P_Cl = 0" not in resting_potential(preset="bear-neuron", p_cl=0.1).note
    assert "P_Cl = 0" in resting_potential(preset="bear-neuron", cl_in=20.0).note  # P_Cl is still 0
    assert "−84 mV" in resting_potential(preset="cardiac-myocyte").note
    assert resting_potential(preset="cardiac-myocyte", k_out=7.0).note == ""
    assert resting_potential(preset="cardiac-myocyte", temperature=30.0).note == ""
    assert "frog" in resting_potential(preset="skeletal-muscle", p_na=0.02).note
    assert "frog" not in resting_potential(preset="skeletal-muscle", p_k=1.0001, p_na=0.02, p_cl=1.0).note
    assert "Textbooks differ" in resting_potential().note
    assert "Textbooks differ" not in resting_potential(k_in=140.0).note


def test_squid_preset_kandel() -> None:
    """Kandel et al., Principles of Neural Science 5th ed., Ch. 6, Table 6-1 (squid axon K⁺ 400/20,
    Na⁺ 50/440, Cl⁻ 52/560 mM) with Hodgkin & Katz (1949) P_K : P_Na : P_Cl = 1 : 0.04 : 0.45: about −60 mV."""
    result = resting_potential(preset="squid-giant-axon")
    expected = ghk_ref(18.5, {"K": (1.0, 400.0, 20.0), "Na": (0.04, 50.0, 440.0), "Cl": (0.45, 52.0, 560.0)})
    assert result.vm_mv == pytest.approx(expected, rel=1e-12)
    assert abs(result.vm_mv - -60.0) <= 1.0
    assert result.temperature_c == 18.5


@pytest.mark.parametrize(("ion", "kandel_mv"), [("K", -75.0), ("Na", 55.0), ("Cl", -60.0)])
def test_squid_equilibrium_potentials_kandel(ion: str, kandel_mv: float) -> None:
    """Kandel et al. 5th ed., Table 6-1: E_K = −75, E_Na = +55, E_Cl = −60 mV."""
    concentrations = PRESETS["squid-giant-axon"].concentrations[ion]
    valence = -1 if ion == "Cl" else 1
    expected = nernst_ref(valence, concentrations.inside, concentrations.outside, 18.5)
    computed = nernst(ion, preset="squid-giant-axon").potential_mv
    assert computed == pytest.approx(expected, rel=1e-12)
    assert abs(computed - kandel_mv) <= 1.0


@pytest.mark.parametrize("key", list(PRESETS))
def test_every_preset_is_in_range_and_sourced(key: str) -> None:
    preset = PRESETS[key]
    assert preset.key == key
    assert TEMPERATURE.low <= preset.temperature_c <= TEMPERATURE.high
    for values in preset.concentrations.values():
        assert CONCENTRATION.low <= values.inside <= CONCENTRATION.high
        assert CONCENTRATION.low <= values.outside <= CONCENTRATION.high
    assert all(PERMEABILITY.low <= p <= PERMEABILITY.high for p in preset.permeabilities.values())
    assert any(p > 0 for p in preset.permeabilities.values())
    assert len(preset.source) > 40
    assert any(mark in preset.source for mark in ("ISBN", "doi:"))
    result = resting_potential(preset=key)
    assert math.isfinite(result.vm_mv)
    assert result.temperature_c == preset.temperature_c
    permeant = [ion for ion in result.ions if ion.permeability]
    assert min(ion.equilibrium_mv for ion in permeant) <= result.vm_mv <= max(ion.equilibrium_mv for ion in permeant)
    shares = [ion.conductance_share for ion in result.ions if ion.conductance_share is not None]
    assert sum(shares) == pytest.approx(1.0)
    if preset.reference_vm_mv is not None:
        assert abs(result.vm_mv - preset.reference_vm_mv) <= 1.0
    json.dumps(to_json(result), allow_nan=False)


def test_changed_inputs_drop_the_reference() -> None:
    """The source's V_m belongs to the source's numbers only."""
    assert resting_potential(k_out=7).reference_vm_mv is None
    assert resting_potential(temperature=20).reference_vm_mv is None


def test_resting_potential_with_options() -> None:
    result = resting_potential(k_in=140, k_out=5, na_in=15, na_out=145, p_k=1, p_na=0.05, p_cl=0)
    assert result.vm_mv == pytest.approx(ghk_ref(37.0, {"K": (1.0, 140.0, 5.0), "Na": (0.05, 15.0, 145.0)}), rel=1e-12)


def test_resting_potential_at_exactly_zero_has_finite_shares() -> None:
    """Regression: V_m = 0 mV exactly (K 100/5, Na 5/100, P_K = P_Na) gave NaN conductance shares."""
    result = resting_potential(k_in=100, k_out=5, na_in=5, na_out=100, p_k=1, p_na=1, p_cl=0)
    assert result.vm_mv == 0.0
    shares = {ion.ion: ion.conductance_share for ion in result.ions if ion.conductance_share is not None}
    assert shares["K"] == pytest.approx(0.5)
    assert shares["Na"] == pytest.approx(0.5)
    json.dumps(to_json(result), allow_nan=False)


@pytest.mark.parametrize("tiny", [5e-324, 1e-320, 1e-310])
def test_subnormal_permeability_does_not_crash(tiny: float) -> None:
    """Regression: a permeability in range but subnormal (P_K · [K⁺]ᵢ underflows to 0) raised ZeroDivisionError.

    GHK depends only on permeability ratios, so K⁺ alone must give E_K whatever its P_K.
    """
    result = resting_potential(p_k=tiny, p_na=0, p_cl=0, k_in=1e-6, k_out=5)
    assert result.vm_mv == pytest.approx(nernst_ref(1, 1e-6, 5.0, 37.0), rel=1e-12)
    assert result.dominant_ion == "K"
    json.dumps(to_json(result), allow_nan=False)


# --- /whatif -----------------------------------------------------------------------------------


@pytest.mark.parametrize("preset", MAMMALIAN)
@pytest.mark.parametrize("scenario", list(scenarios()))
def test_every_scenario_on_every_mammalian_preset(scenario: str, preset: str) -> None:
    result = what_if(scenario, preset=preset)
    assert math.isfinite(result.before_mv)
    assert math.isfinite(result.after_mv)
    delta = result.after_mv - result.before_mv
    assert result.change_mv == delta
    if delta > 0.05:
        assert result.direction == "depolarizes"
    elif delta < -0.05:
        assert result.direction == "hyperpolarizes"
    else:
        assert result.direction == "barely changes"
    assert result.mechanism
    assert result.consequence
    assert all(result.sources)
    json.dumps(to_json(result), allow_nan=False)


@pytest.mark.parametrize("preset", MAMMALIAN)
def test_hyperkalemia_depolarizes(preset: str) -> None:
    result = what_if("hyperkalemia", preset=preset)
    assert result.after_mv > result.before_mv
    assert result.direction == "depolarizes"
    assert [(c.option, c.after) for c in result.changes] == [("k_out", 7.0)]
    assert result.before_mv == pytest.approx(resting_potential(preset=preset).vm_mv, abs=1e-9)
    assert result.after_mv == pytest.approx(resting_potential(preset=preset, k_out=7.0).vm_mv, abs=1e-9)


@pytest.mark.parametrize("preset", MAMMALIAN)
def test_hypokalemia_hyperpolarizes_with_fixed_permeabilities(preset: str) -> None:
    """In the fixed-permeability GHK model a lower [K⁺]o makes E_K, and V_m, more negative."""
    result = what_if("hypokalemia", preset=preset)
    assert result.after_mv < result.before_mv
    assert result.direction == "hyperpolarizes"


@pytest.mark.parametrize("preset", MAMMALIAN)
def test_pump_block(preset: str) -> None:
    """Mullins & Noda (1963): r = 1.5 while the pump runs, r = 1 when it stops, which is plain GHK."""
    result = what_if("pump-block", preset=preset)
    assert result.before_mv < result.after_mv
    assert result.after_mv == pytest.approx(resting_potential(preset=preset).vm_mv, abs=1e-9)
    assert result.changes == ()
    assert "Mullins" in result.model


@pytest.mark.parametrize("preset", list(PRESETS))
def test_sodium_permeability_up_depolarizes(preset: str) -> None:
    result = what_if("na-permeability-up", preset=preset)
    assert result.after_mv > result.before_mv
    assert result.direction == "depolarizes"


@pytest.mark.parametrize("preset", MAMMALIAN)
def test_hyponatremia_barely_moves_vm(preset: str) -> None:
    """The resting membrane lets through little Na⁺: 120 mM outside moves V_m by only a few mV."""
    result = what_if("hyponatremia", preset=preset)
    assert abs(result.after_mv - result.before_mv) < 5.0


@pytest.mark.parametrize("scenario", [slug for slug, s in scenarios().items() if s.clinical])
def test_clinical_scenario_on_squid_is_refused(scenario: str) -> None:
    with pytest.raises(InputError) as caught:
        what_if(scenario, preset="squid-giant-axon")
    assert caught.value.option == "preset"
    assert "preset" in str(caught.value)
    assert "mammalian-neuron" in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("scenario", [slug for slug, s in scenarios().items() if not s.clinical])
def test_non_clinical_scenario_on_squid(scenario: str) -> None:
    result = what_if(scenario, preset="squid-giant-axon")
    assert math.isfinite(result.after_mv)


def test_scenario_slugs_are_the_documented_ones() -> None:
    """design.md fixes these slugs (more may be added later)."""
    assert {"hyperkalemia", "hypokalemia", "hyponatremia", "pump-block", "na-permeability-up"} <= set(scenarios())


# --- Bad input -------------------------------------------------------------------------------

BAD_CONCENTRATIONS = [0, 0.0, -1, -5.0, math.nan, math.inf, -math.inf, 1e308, 1e-7, 1000.5, "5", True, None]


def expect_input_error(call, *options: str) -> InputError:
    """``call`` raises InputError (nothing else), one line, naming every option in backticks."""
    try:
        call()
    except InputError as error:
        message = str(error)
        assert message
        assert "\n" not in message
        for option in options:
            assert f"`{option}`" in message, (option, message)
        if error.option is not None:
            assert error.option in message, (error.option, message)
        return error
    except Exception as error:  # pragma: no cover - the failure we are looking for
        pytest.fail(f"expected InputError, got {type(error).__name__}: {error}")
    pytest.fail("expected InputError, nothing was raised")  # pragma: no cover


@pytest.mark.parametrize("value", [v for v in BAD_CONCENTRATIONS if v is not None])
@pytest.mark.parametrize("side", ["inside", "outside"])
def test_nernst_bad_concentration(side: str, value: object) -> None:
    error = expect_input_error(lambda: nernst("K", **{side: value}), side)
    assert error.option == side


@pytest.mark.parametrize("value", [v for v in BAD_CONCENTRATIONS if v is not None])
@pytest.mark.parametrize("option", ["k_in", "k_out", "na_in", "na_out", "cl_in", "cl_out"])
def test_restpot_bad_concentration(option: str, value: object) -> None:
    error = expect_input_error(lambda: resting_potential(**{option: value}), option)
    assert error.option == option


@pytest.mark.parametrize("value", [500, -1, 50.01, -273.15, math.nan, math.inf, 1e308, "37"])
def test_bad_temperature(value: object) -> None:
    expect_input_error(lambda: nernst("K", temperature=value), "temperature")
    expect_input_error(lambda: resting_potential(temperature=value), "temperature")


@pytest.mark.parametrize("value", [-1, 1000.5, math.nan, math.inf, 1e308])
@pytest.mark.parametrize("option", ["p_k", "p_na", "p_cl"])
def test_bad_permeability(option: str, value: float) -> None:
    expect_input_error(lambda: resting_potential(**{option: value}), option)


@pytest.mark.parametrize("valence", [0, 4, -4, 1.5, math.nan, math.inf, "2", True])
def test_bad_valence(valence: object) -> None:
    error = expect_input_error(lambda: nernst("custom", valence=valence, inside=1, outside=2), "valence")
    assert error.option == "valence"


def test_named_ion_with_another_valence() -> None:
    expect_input_error(lambda: nernst("K", valence=2), "ion:custom")


def test_custom_ion_needs_a_valence() -> None:
    error = expect_input_error(lambda: nernst("custom", inside=1, outside=2), "valence")
    assert error.option == "valence"


def test_custom_ion_needs_concentrations() -> None:
    expect_input_error(lambda: nernst("custom", valence=2), "inside", "outside")
    expect_input_error(lambda: nernst("custom", valence=2, inside=1), "inside", "outside")


def test_all_permeabilities_zero() -> None:
    expect_input_error(lambda: resting_potential(p_k=0, p_na=0, p_cl=0), "p_k", "p_na", "p_cl")
    expect_input_error(lambda: resting_potential(preset="cardiac-myocyte", p_k=0, p_na=0), "p_k", "p_na", "p_cl")


def test_unknown_ion() -> None:
    error = expect_input_error(lambda: nernst("Xe"), "Xe")
    assert error.option == "ion"
    assert "K" in str(error)


def test_unknown_preset() -> None:
    error = expect_input_error(lambda: resting_potential(preset="frog-heart"), "frog-heart")
    assert error.option == "preset"
    assert "mammalian-neuron" in str(error)
    expect_input_error(lambda: nernst("K", preset="frog-heart"), "frog-heart")
    expect_input_error(lambda: what_if("hyperkalemia", preset="frog-heart"), "frog-heart")


def test_unknown_scenario() -> None:
    error = expect_input_error(lambda: what_if("hypercalcemia"), "hypercalcemia")
    assert error.option == "scenario"
    assert "hyperkalemia" in str(error)


def test_unknown_restpot_option() -> None:
    error = expect_input_error(lambda: resting_potential(k_inside=5), "k_inside")
    assert error.option == "k_inside"


def test_ion_missing_from_preset_names_both_options() -> None:
    """The mammalian-neuron preset has no Mg²⁺: the answer says so and asks for both values."""
    error = expect_input_error(lambda: nernst("Mg"), "inside", "outside")
    assert "Mg²⁺" in str(error)
    expect_input_error(lambda: nernst("H"), "inside", "outside")
    assert nernst("Mg", inside=0.5, outside=1).potential_mv == pytest.approx(nernst_ref(2, 0.5, 1.0, 37.0), rel=1e-12)


def test_chloride_missing_from_cardiac_preset_names_both_options() -> None:
    """Luo & Rudy (1991) has no Cl⁻: making it permeant needs cl_in and cl_out."""
    expect_input_error(lambda: resting_potential(preset="cardiac-myocyte", p_cl=1), "cl_in", "cl_out")
    result = resting_potential(preset="cardiac-myocyte", p_cl=1, cl_in=10, cl_out=120)
    assert math.isfinite(result.vm_mv)
