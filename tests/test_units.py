"""The units layer against published factors, not against itself: mEq/L = mmol/L × |z|
(K⁺, Na⁺, Cl⁻ equal; Ca²⁺ halves), calcium mg/dL ÷ 4.008, the temperature scales'
definitions, mV/V, and a clear refusal of every unit it does not read."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.physiology import InputError
from bot.reading.units import (
    CONCENTRATION_UNITS,
    POTENTIAL_UNITS,
    TEMPERATURE_UNITS,
    concentration_mm,
    ion_key,
    mm_per,
    potential_mv,
    temperature_c,
    unit_kind,
)


@pytest.mark.parametrize("ion", ["K", "Na", "Cl", "K⁺", "Na+", "Cl⁻", "potassium", "chloride"])
@pytest.mark.parametrize("value", [3.5, 4.0, 5.5, 6.8, 103.0, 128.0, 145.0])
def test_monovalent_mEq_per_litre_equals_mmol_per_litre(ion: str, value: float) -> None:
    assert concentration_mm(value, "mEq/L", ion) == pytest.approx(value, rel=1e-12)
    assert concentration_mm(value, "mmol/L", ion) == pytest.approx(value, rel=1e-12)
    assert concentration_mm(value, "meq/l", ion) == concentration_mm(value, "mEq", ion)


@pytest.mark.parametrize(("ion", "mm"), [("Ca", 1.2), ("Ca²⁺", 2.4), ("Mg", 0.85), ("calcium", 2.5)])
def test_divalent_mEq_per_litre_is_twice_mmol_per_litre(ion: str, mm: float) -> None:
    assert concentration_mm(2 * mm, "mEq/L", ion) == pytest.approx(mm, rel=1e-12)  # mEq/L ÷ 2


@pytest.mark.parametrize(("mg_dl", "mmol_l"), [(8.5, 8.5 / 4.008), (9.4, 9.4 / 4.008), (10.5, 10.5 / 4.008)])
def test_calcium_mg_per_dl_divides_by_4_008(mg_dl: float, mmol_l: float) -> None:
    # 40.08 g/mol: 1 mg/dL = 10 mg/L = 10/40.08 mmol/L = 1/4.008 mmol/L (the lab factor 0.2495)
    assert concentration_mm(mg_dl, "mg/dL", "Ca") == pytest.approx(mmol_l, rel=1e-9)
    assert mm_per("mg/dL", "Ca") == pytest.approx(0.2495, abs=5e-5)
    assert concentration_mm(9.4, "mg/dl", "Ca") == pytest.approx(2.345, abs=5e-4)  # Guyton & Hall's 9.4 mg/dL ≈ 2.4


@pytest.mark.parametrize(
    ("value", "unit", "mm"),
    [
        (140, "mM", 140.0),
        (140, "MM", 140.0),
        (140, "mmol/L", 140.0),
        (140, "mmol / l", 140.0),
        (140, "millimolar", 140.0),
        (100, "µM", 0.1),  # the micro sign
        (100, "μM", 0.1),  # the Greek mu
        (100, "uM", 0.1),
        (100, "umol/L", 0.1),
        (100, "nM", 1e-4),
        (0.1, "M", 100.0),
        (0.1, "mol/L", 100.0),
    ],
)
def test_amount_units_scale_by_powers_of_ten(value: float, unit: str, mm: float) -> None:
    assert concentration_mm(value, unit) == pytest.approx(mm, rel=1e-12)


@pytest.mark.parametrize(
    ("value", "unit", "celsius"),
    [
        (37, "°C", 37.0),
        (37, "C", 37.0),
        (37, "degC", 37.0),
        (20, "celsius", 20.0),
        (310.15, "K", 37.0),  # K = °C + 273.15 (SI definition)
        (273.15, "kelvin", 0.0),
        (98.6, "°F", 37.0),  # °C = (°F − 32) × 5/9
        (68, "F", 20.0),
        (32, "fahrenheit", 0.0),
        (-40, "°F", -40.0),
    ],
)
def test_temperatures_by_the_scales_definitions(value: float, unit: str, celsius: float) -> None:
    assert temperature_c(value, unit) == pytest.approx(celsius, abs=1e-9)
    assert temperature_c(98.6, "°F") == 37.0  # exact to the digit, no float noise shown


@pytest.mark.parametrize(
    ("value", "unit", "mv"),
    [(-89.1, "mV", -89.1), (-89.1, "millivolts", -89.1), (-0.0891, "V", -89.1), (0.07, "volts", 70.0)],
)
def test_potentials_in_mv_and_v(value: float, unit: str, mv: float) -> None:
    assert potential_mv(value, unit) == pytest.approx(mv, rel=1e-12)


@pytest.mark.parametrize(
    ("call", "says"),
    [
        (lambda: concentration_mm(5, "mEq/L"), "name the ion"),
        (lambda: concentration_mm(5, "mg/dL", "K"), "calcium only"),
        (lambda: concentration_mm(5, "mg/dL"), "calcium only"),
        (lambda: concentration_mm(5, "mV", "K"), "is a potential, not a concentration"),
        (lambda: concentration_mm(5, "°C"), "is a temperature, not a concentration"),
        (lambda: concentration_mm(5, "g/L"), "not a unit of concentration"),
        (lambda: concentration_mm(5, ""), "with its unit"),
        (lambda: concentration_mm(float("nan"), "mM"), "finite"),
        (lambda: concentration_mm(5, "mM", "Xe"), "not an ion"),
        (lambda: temperature_c(37, "mV"), "is a potential, not a temperature"),
        (lambda: temperature_c(37, "R"), "°C, K or °F"),
        (lambda: potential_mv(-89, "µV"), "mV or V"),
        (lambda: potential_mv(-89, "mM"), "is a concentration, not a potential"),
        (lambda: potential_mv(-89, "__import__('os')"), "not a unit of potential"),
        (lambda: potential_mv(-89, "<@123> `x`"), "mV or V"),
    ],
)
def test_bad_units_are_refused_with_what_is_allowed(call: Callable[[], object], says: str) -> None:
    with pytest.raises(InputError) as caught:
        call()
    message = str(caught.value)
    assert says in message
    assert len(message) < 160
    assert "<@1" not in message and "`x`" not in message


def test_every_listed_spelling_is_read_and_of_its_kind() -> None:
    for unit in CONCENTRATION_UNITS:
        assert unit_kind(unit) == "concentration"
        ion = "Ca" if unit.casefold().startswith("mg") else "K"
        assert concentration_mm(1, unit, ion) > 0
    for unit in TEMPERATURE_UNITS:
        assert unit_kind(unit) == "temperature"
        temperature_c(1, unit)
    for unit in POTENTIAL_UNITS:
        assert unit_kind(unit) == "potential"
        potential_mv(1, unit)
    assert unit_kind("furlongs") is None
    lengths = [len(unit) for unit in CONCENTRATION_UNITS]
    assert lengths == sorted(lengths, reverse=True)  # longest first, for a reader's alternation


def test_ion_names_and_symbols() -> None:
    assert [ion_key(text) for text in ("k", "K⁺", "K+", "Ca2+", "Ca²⁺", "sodium", "Cl-")] == [
        "K",
        "K",
        "K",
        "Ca",
        "Ca",
        "Na",
        "Cl",
    ]


def test_warm_up_builds_the_registry_once() -> None:
    from bot.reading.units import registry, warm_up

    warm_up()
    assert registry() is registry()  # one registry for every reader
