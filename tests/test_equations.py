"""The equations against values computed independently here (math.log, CODATA) and in print.

Every expected number is computed in this file with :mod:`math` from R, F and T, never
by calling the engine, so a wrong constant or a wrong sign in the engine cannot hide
behind a test that shares it.
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from helpers import ROOT

from bot.physiology import constants
from bot.physiology.equations import (
    conductance_shares,
    decade_slope,
    ghk_voltage,
    mullins_noda_voltage,
    nernst_potential,
    warm_up,
)
from bot.physiology.ions import IONS, Ion
from bot.physiology.sweeps import nernst_versus_ratio, vm_versus_k_out

# CODATA 2018 (exact since the 2019 SI redefinition).
R = 8.314462618  # J mol⁻¹ K⁻¹
F = 96485.33212  # C mol⁻¹


def thermal_mv(celsius: float) -> float:
    """RT/F in mV."""
    return R * (273.15 + celsius) / F * 1000.0


def nernst_ref(valence: int, inside: float, outside: float, celsius: float) -> float:
    return thermal_mv(celsius) / valence * math.log(outside / inside)


def ghk_ref(celsius: float, ions: dict[str, tuple[float, float, float]], coupling: float = 1.0) -> float:
    """GHK (Mullins–Noda with ``coupling`` ≠ 1) for K, Na, Cl: key → (P, inside, outside)."""
    p_k, k_i, k_o = ions.get("K", (0.0, 1.0, 1.0))
    p_na, na_i, na_o = ions.get("Na", (0.0, 1.0, 1.0))
    p_cl, cl_i, cl_o = ions.get("Cl", (0.0, 1.0, 1.0))
    top = coupling * p_k * k_o + p_na * na_o + p_cl * cl_i
    bottom = coupling * p_k * k_i + p_na * na_i + p_cl * cl_o
    return thermal_mv(celsius) * math.log(top / bottom)


def test_constants_are_codata() -> None:
    """CODATA 2018 recommended values (NIST), exact in the 2019 SI."""
    assert constants.GAS_CONSTANT == R
    assert constants.FARADAY == F
    assert constants.ZERO_CELSIUS == 273.15
    assert constants.kelvin(37.0) == pytest.approx(310.15)


def test_potassium_140_over_5_at_37c() -> None:
    """E_K for [K⁺]i 140 / [K⁺]o 5 mM at 37 °C: −89.06 mV (−89.1 to one decimal).

    Published: the seed Q&A (QuickTakes, "What role do leak channels play…", 2025) gives
    "approximately −90 mV" for K⁺ alone; −89.06 is RT/F·ln(5/140) at 310.15 K with CODATA
    constants, computed below with math.log.
    """
    expected = nernst_ref(1, 140.0, 5.0, 37.0)
    assert expected == pytest.approx(-89.0587, abs=5e-5)
    value = float(nernst_potential(1, 140.0, 5.0, 37.0))
    assert value == pytest.approx(expected, rel=1e-12)
    assert round(value, 2) == -89.06
    assert round(value, 1) == -89.1
    assert abs(value - -90.0) < 1.0  # the seed's "approximately −90 mV"


def test_calcium_0_0001_over_2_at_37c() -> None:
    """E_Ca for [Ca²⁺]i 0.0001 / [Ca²⁺]o 2 mM at 37 °C: +132.3 mV (RT/2F·ln 20 000).

    Computed here with math.log; textbooks quote "about +130 mV" for a 10⁴-fold Ca²⁺
    gradient (Bear, Connors & Paradiso 4th ed., Ch. 3 give +123 mV for 0.0002/2 mM,
    checked against the preset in test_calculator.py).
    """
    expected = nernst_ref(2, 0.0001, 2.0, 37.0)
    assert round(expected, 1) == 132.3
    value = float(nernst_potential(2, 0.0001, 2.0, 37.0))
    assert value == pytest.approx(expected, rel=1e-12)
    assert round(value, 1) == 132.3


def test_decade_slope_is_61_54_mv_at_37c() -> None:
    """RT·ln10/F at 37 °C = 61.54 mV per decade: the factor of the Nernst equation in Bear, Connors &
    Paradiso, Neuroscience: Exploring the Brain 4th ed., Ch. 3 (E_ion = 61.54 mV/z · log([ion]o/[ion]i))."""
    expected = thermal_mv(37.0) * math.log(10)
    assert round(expected, 2) == 61.54
    value = float(decade_slope(1, 37.0))
    assert value == pytest.approx(expected, rel=1e-12)
    assert round(value, 2) == 61.54


@pytest.mark.parametrize("valence", [1, -1, 2, -2, 3, -3])
def test_rounded_61_5_rule_is_within_0_041_over_z(valence: int) -> None:
    """The ≈ 61.5/z mV-per-decade shortcut is off by at most 0.041/|z| mV per decade at 37 °C."""
    exact = float(decade_slope(valence, 37.0))
    assert exact == pytest.approx(thermal_mv(37.0) * math.log(10) / valence, rel=1e-12)
    assert abs(exact - 61.5 / valence) <= 0.041 / abs(valence)


@pytest.mark.parametrize("celsius", [0.0, 6.3, 18.5, 20.0, 25.0, 37.0, 50.0])
@pytest.mark.parametrize("valence", [1, -1, 2, -3])
def test_decade_slope_at_any_temperature(celsius: float, valence: int) -> None:
    """The slope at any temperature is RT·ln10/(zF), with T = 273.15 + t (computed here with math.log)."""
    assert float(decade_slope(valence, celsius)) == pytest.approx(
        thermal_mv(celsius) * math.log(10) / valence, rel=1e-12
    )


def test_decade_slope_rounded_values() -> None:
    """The rounded slopes students meet: about 58 mV per decade at room temperature (20 °C), 61.5 at 37 °C."""
    assert round(float(decade_slope(1, 20.0)), 1) == round(thermal_mv(20.0) * math.log(10), 1) == 58.2
    assert round(float(decade_slope(1, 37.0)), 1) == 61.5


@pytest.mark.parametrize(
    ("valence", "inside", "outside", "celsius"),
    [
        (1, 100.0, 5.0, 37.0),
        (1, 15.0, 150.0, 37.0),
        (-1, 13.0, 150.0, 37.0),
        (2, 0.0002, 2.0, 37.0),
        (1, 400.0, 20.0, 18.5),
        (-1, 52.0, 560.0, 18.5),
        (3, 1e-6, 1000.0, 0.0),
        (-3, 1000.0, 1e-6, 50.0),
        (1, 7.0, 7.0, 25.0),
    ],
)
def test_nernst_matches_independent_value(valence: int, inside: float, outside: float, celsius: float) -> None:
    assert float(nernst_potential(valence, inside, outside, celsius)) == pytest.approx(
        nernst_ref(valence, inside, outside, celsius), rel=1e-12, abs=1e-12
    )


BEAR = {"K": (1.0, 100.0, 5.0), "Na": (1 / 40, 15.0, 150.0)}
KANDEL_SQUID = {"K": (1.0, 400.0, 20.0), "Na": (0.04, 50.0, 440.0), "Cl": (0.45, 52.0, 560.0)}


def test_ghk_bear_mammalian_neuron() -> None:
    """Bear, Connors & Paradiso, Neuroscience 4th ed., Ch. 3: P_K = 40 P_Na, K 100/5, Na 15/150, 37 °C → −65 mV."""
    expected = ghk_ref(37.0, BEAR)
    value = float(ghk_voltage(37.0, BEAR))
    assert value == pytest.approx(expected, rel=1e-12)
    assert abs(value - -65.0) < 1.0


def test_ghk_kandel_squid_axon() -> None:
    """Kandel et al., Principles of Neural Science 5th ed., Ch. 6 (Table 6-1; ratios 1 : 0.04 : 0.45
    from Hodgkin & Katz 1949): about −60 mV."""
    expected = ghk_ref(18.5, KANDEL_SQUID)
    value = float(ghk_voltage(18.5, KANDEL_SQUID))
    assert value == pytest.approx(expected, rel=1e-12)
    assert abs(value - -60.0) < 1.0


MULLINS_NODA = {"K": (1.0, 140.0, 5.0), "Na": (0.05, 15.0, 145.0)}


def test_mullins_noda_coupling_1_5() -> None:
    """Mullins & Noda, J Gen Physiol 1963;47:117–132: r = 1.5 (3 Na⁺ : 2 K⁺) with P_Na/P_K = 0.05,
    K 140/5, Na 15/145 mM at 37 °C gives about −71.1 mV."""
    expected = ghk_ref(37.0, MULLINS_NODA, coupling=1.5)
    assert round(expected, 1) == -71.1
    value = float(mullins_noda_voltage(1.5, 37.0, MULLINS_NODA))
    assert value == pytest.approx(expected, rel=1e-12)
    assert value == pytest.approx(-71.1, abs=0.05)


def test_mullins_noda_coupling_1_is_ghk() -> None:
    """r = 1 (pump stopped) is plain GHK: about −65.3 mV for the same cell, and exactly ghk_voltage."""
    expected = ghk_ref(37.0, MULLINS_NODA)
    assert round(expected, 1) == -65.3
    value = float(mullins_noda_voltage(1.0, 37.0, MULLINS_NODA))
    assert value == pytest.approx(expected, rel=1e-12)
    assert value == float(ghk_voltage(37.0, MULLINS_NODA))


@pytest.mark.parametrize("ions", [BEAR, KANDEL_SQUID, MULLINS_NODA])
@pytest.mark.parametrize("celsius", [0.0, 18.5, 37.0, 50.0])
def test_mullins_noda_r1_equals_ghk_exactly(ions: dict, celsius: float) -> None:
    assert float(mullins_noda_voltage(1.0, celsius, ions)) == float(ghk_voltage(celsius, ions))


def test_pump_hyperpolarizes() -> None:
    """The electrogenic pump (r > 1) holds V_m below plain GHK, by a few mV."""
    with_pump = float(mullins_noda_voltage(1.5, 37.0, MULLINS_NODA))
    without = float(ghk_voltage(37.0, MULLINS_NODA))
    assert -10.0 < with_pump - without < 0.0


def test_absent_ion_is_impermeant() -> None:
    only_k = {"K": (1.0, 100.0, 5.0)}
    assert float(ghk_voltage(37.0, only_k)) == pytest.approx(nernst_ref(1, 100.0, 5.0, 37.0), rel=1e-12)


def test_vectorised_sweep_matches_reference() -> None:
    k_out = np.geomspace(1e-6, 1000.0, 101)
    sweep = ghk_voltage(37.0, {"K": (1.0, 100.0, k_out), "Na": (0.025, 15.0, 150.0)})
    assert sweep.shape == k_out.shape
    for point, value in zip(k_out, sweep, strict=True):
        assert value == pytest.approx(
            ghk_ref(37.0, {"K": (1.0, 100.0, float(point)), "Na": (0.025, 15.0, 150.0)}), rel=1e-12
        )


def test_warm_up_is_idempotent() -> None:
    warm_up()
    warm_up()
    assert float(nernst_potential(1, 140.0, 5.0, 37.0)) == pytest.approx(nernst_ref(1, 140.0, 5.0, 37.0))


def _shares(vm: float, celsius: float, ions: dict[str, tuple[float, float, float]]) -> dict[str, float]:
    return conductance_shares(vm, celsius, {key: (IONS[key], *values) for key, values in ions.items()})


def test_conductance_shares_sum_to_one_and_k_dominates_bear() -> None:
    vm = float(ghk_voltage(37.0, BEAR))
    shares = _shares(vm, 37.0, BEAR)
    assert sum(shares.values()) == pytest.approx(1.0)
    assert max(shares, key=shares.__getitem__) == "K"
    assert all(0.0 <= share <= 1.0 for share in shares.values())


def test_conductance_share_is_continuous_at_the_reversal_potential() -> None:
    """At V = E the chord conductance is the limit P z²F²/RT·[X]i[X]o·ln([X]o/[X]i)/([X]o − [X]i)."""
    ions = {"K": (1.0, 100.0, 5.0), "Na": (0.025, 15.0, 150.0)}
    e_k = nernst_ref(1, 100.0, 5.0, 37.0)
    at = _shares(e_k, 37.0, ions)
    near = _shares(e_k + 1e-3, 37.0, ions)
    assert at["K"] == pytest.approx(near["K"], rel=1e-4)


def test_conductance_shares_at_exactly_zero_millivolts() -> None:
    """Regression: V_m = 0 mV exactly made the GHK current 0/0 and every share NaN.

    K 100/5 and Na 5/100 with equal permeabilities give (5 + 100)/(100 + 5): V_m = 0.
    By symmetry each ion carries half the conductance.
    """
    ions = {"K": (1.0, 100.0, 5.0), "Na": (1.0, 5.0, 100.0)}
    vm = float(ghk_voltage(37.0, ions))
    assert vm == 0.0
    shares = _shares(vm, 37.0, ions)
    assert all(math.isfinite(share) for share in shares.values())
    assert shares["K"] == pytest.approx(0.5)
    assert shares["Na"] == pytest.approx(0.5)
    near = _shares(1e-9, 37.0, ions)
    assert near["K"] == pytest.approx(0.5, rel=1e-6)


# --- The NumPy functions against the sympy expressions they were written from ---------------
#
# The engine answers with plain NumPy functions (no sympy at start-up: bench/bench_cold_start.py);
# the sympy forms of bot.physiology.symbolic stay the source of truth. Each function is checked
# here against its lambdified sympy expression on a dense random grid over the accepted ranges:
# concentrations 1e-6 … 1,000 mM (log-uniform), permeabilities 0 … 1,000 (some exactly 0),
# temperature 0 … 50 °C, valence ±1 … ±3, coupling ratio 1 … 3.

GRID = 20_000
SEED = 20261204


@pytest.fixture(scope="module")
def grid() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(SEED)

    def concentration() -> np.ndarray:
        return 10.0 ** rng.uniform(-6.0, 3.0, GRID)

    def permeability() -> np.ndarray:
        values = 10.0 ** rng.uniform(-3.0, 3.0, GRID)
        return np.where(rng.random(GRID) < 0.1, 0.0, values)

    values = {"t": rng.uniform(0.0, 50.0, GRID), "r": rng.uniform(1.0, 3.0, GRID)}
    for key in ("K", "Na", "Cl"):
        values |= {f"P_{key}": permeability(), f"{key}_i": concentration(), f"{key}_o": concentration()}
    values["P_K"][values["P_K"] == 0] = 1.0  # at least one permeant ion, as check_permeabilities demands
    values["vm"] = rng.uniform(-150.0, 150.0, GRID)
    return values


def _ghk_inputs(grid: dict[str, np.ndarray]) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    return {key: (grid[f"P_{key}"], grid[f"{key}_i"], grid[f"{key}_o"]) for key in ("K", "Na", "Cl")}


def _ghk_arguments(grid: dict[str, np.ndarray]) -> list[np.ndarray]:
    return [grid["t"], *(grid[name] for key in ("K", "Na", "Cl") for name in (f"P_{key}", f"{key}_i", f"{key}_o"))]


@pytest.mark.parametrize("valence", [1, -1, 2, -2, 3, -3])
def test_nernst_potential_is_the_sympy_expression(grid: dict[str, np.ndarray], valence: int) -> None:
    from bot.physiology.symbolic import nernst_reference

    expected = nernst_reference()(valence, grid["K_i"], grid["K_o"], grid["t"])
    np.testing.assert_allclose(nernst_potential(valence, grid["K_i"], grid["K_o"], grid["t"]), expected, rtol=1e-12)
    scalar = float(nernst_potential(valence, 140.0, 5.0, 37.0))
    assert scalar == pytest.approx(float(nernst_reference()(valence, 140.0, 5.0, 37.0)), rel=1e-12)


@pytest.mark.parametrize("valence", [1, -1, 2, -2, 3, -3])
def test_decade_slope_is_the_sympy_expression(grid: dict[str, np.ndarray], valence: int) -> None:
    from bot.physiology.symbolic import slope_reference

    np.testing.assert_allclose(decade_slope(valence, grid["t"]), slope_reference()(valence, grid["t"]), rtol=1e-12)
    assert float(decade_slope(valence, 37.0)) == pytest.approx(float(slope_reference()(valence, 37.0)), rel=1e-12)


def test_ghk_voltage_is_the_sympy_expression(grid: dict[str, np.ndarray]) -> None:
    from bot.physiology.symbolic import ghk_reference

    expected = ghk_reference()(*_ghk_arguments(grid))
    np.testing.assert_allclose(ghk_voltage(grid["t"], _ghk_inputs(grid)), expected, rtol=1e-12, atol=1e-12)
    only_k = {"K": (1.0, 100.0, 5.0)}  # absent ions: impermeant, in both
    reference = ghk_reference()(37.0, 1.0, 100.0, 5.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0)
    assert float(ghk_voltage(37.0, only_k)) == pytest.approx(float(reference), rel=1e-12)


def test_mullins_noda_voltage_is_the_sympy_expression(grid: dict[str, np.ndarray]) -> None:
    from bot.physiology.symbolic import mullins_noda_reference

    expected = mullins_noda_reference()(grid["r"], *_ghk_arguments(grid))
    np.testing.assert_allclose(
        mullins_noda_voltage(grid["r"], grid["t"], _ghk_inputs(grid)), expected, rtol=1e-12, atol=1e-12
    )
    for ratio in (1.0, 1.5):
        reference = mullins_noda_reference()(ratio, *(float(a[0]) for a in _ghk_arguments(grid)))
        value = mullins_noda_voltage(
            ratio, float(grid["t"][0]), {k: tuple(float(a[0]) for a in v) for k, v in _ghk_inputs(grid).items()}
        )
        assert float(value) == pytest.approx(float(reference), rel=1e-12)


def test_sweeps_are_the_sympy_expressions(grid: dict[str, np.ndarray]) -> None:
    """The figures' curves: the same functions called with an array."""
    from bot.physiology.symbolic import ghk_reference, nernst_reference

    k_out = grid["K_o"]
    cell = (("K", 1.0, 100.0, 5.0), ("Na", 0.025, 15.0, 150.0), ("Cl", 0.0, 13.0, 150.0))
    expected = ghk_reference()(37.0, 1.0, 100.0, k_out, 0.025, 15.0, 150.0, 0.0, 13.0, 150.0)
    np.testing.assert_allclose(vm_versus_k_out(37.0, cell, k_out), expected, rtol=1e-12)
    ratio = grid["K_o"] / grid["K_i"]
    np.testing.assert_allclose(nernst_versus_ratio(2, ratio, 37.0), nernst_reference()(2, 1.0, ratio, 37.0), rtol=1e-12)


def test_conductance_shares_are_the_sympy_chord_conductances(grid: dict[str, np.ndarray]) -> None:
    """Each share against the chord conductance g = I/(V − E) of the GHK current equation in
    sympy, away from V = E and V = 0 (where the engine uses the limits, tested above)."""
    from bot.physiology.symbolic import chord_conductance_reference

    chord = chord_conductance_reference()
    ions = {key: IONS[key] for key in ("K", "Na", "Cl")}
    checked = 0
    for n in range(0, GRID, 20):
        t, vm = float(grid["t"][n]), float(grid["vm"][n])
        values = {
            key: (float(grid[f"P_{key}"][n]), float(grid[f"{key}_i"][n]), float(grid[f"{key}_o"][n])) for key in ions
        }
        gaps = [abs(vm - float(nernst_potential(ion.valence, *values[key][1:], t))) for key, ion in ions.items()]
        if abs(vm) < 1.0 or min(gaps) < 1.0:
            continue
        reference = {key: float(chord(ion.valence, *values[key], t, vm)) for key, ion in ions.items()}
        total = sum(reference.values())
        shares = conductance_shares(vm, t, {key: (ion, *values[key]) for key, ion in ions.items()})
        for key in ions:
            assert shares[key] == pytest.approx(reference[key] / total, rel=1e-12, abs=1e-15), (n, key)
        checked += 1
    assert checked > 500


def test_custom_ion_uses_the_same_function() -> None:
    """A custom ion X of any valence goes through nernst_potential like the named ions."""
    from bot.physiology.symbolic import nernst_reference

    ion = Ion("custom", "custom ion", "X", -3)
    assert float(nernst_potential(ion.valence, 0.001, 900.0, 25.0)) == pytest.approx(
        float(nernst_reference()(ion.valence, 0.001, 900.0, 25.0)), rel=1e-12
    )


def test_numeric_module_imports_no_sympy() -> None:
    """The numeric path (equations, sweeps, the calculator) imports no sympy; symbolic does."""
    probe = (
        "import sys\n"
        "import bot.physiology, bot.physiology.sweeps\n"
        "print('sympy' in sys.modules)\n"
        "import bot.physiology.symbolic\n"
        "print('sympy' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True"]


def test_warm_up_does_the_symbolic_work() -> None:
    """warm_up (the bot and the console) leaves the first detail:steps nothing to build."""
    probe = (
        "import sys\n"
        "from bot.physiology import warm_up\n"
        "warm_up()\n"
        "from bot.physiology import derivation as d\n"
        "print('sympy' in sys.modules, d.chloride_inversion.cache_info().currsize,\n"
        "      d.ghk_single_ion_form.cache_info().currsize, d.nernst_derivation.cache_info().currsize,\n"
        "      d.ghk_derivation.cache_info().currsize)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "1", "3", "1", "1"]
