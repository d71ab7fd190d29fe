"""Benchmark of the equation engine: its NumPy functions against a naive sympy baseline.

Run from the repository root:

    python bench/bench_engine.py

It measures, in one run and on one machine:

* scalar ``nernst_potential`` and ``ghk_voltage`` calls per second (after ``warm_up``);
* the naive baseline a first version might write: the same symbolic expression
  (``nernst_form``/``ghk_form`` ``.doit()`` with the CODATA constants and T substituted),
  evaluated per call with ``expr.subs({...}).evalf()``;
* the speed-up of the engine over that baseline (target ≥ 100×);
* a 10⁶-point vectorised GHK sweep over [K⁺]o (target < 100 ms, best of several runs).

It prints the machine, the versions and the date, then a Markdown table that can be
pasted into bench/RESULTS.md. Timing is time.perf_counter, best of several repeats (the
minimum is the least disturbed by other processes). Not collected by pytest.
"""

from __future__ import annotations

import datetime as dt
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import numpy as np
import sympy as sp
from machine import cpu_count, cpu_model

from bot.physiology.constants import ZERO_CELSIUS
from bot.physiology.equations import ghk_voltage, nernst_potential, warm_up
from bot.physiology.ions import GHK_IONS, Ion
from bot.physiology.symbolic import (
    CONSTANTS,
    T,
    celsius,
    concentration_symbols,
    ghk_form,
    nernst_form,
    permeability_symbol,
    z,
)

SPEEDUP_TARGET = 100.0
SWEEP_TARGET_MS = 100.0
SWEEP_POINTS = 1_000_000
REPEATS = 5

# The default preset's numbers (Bear, Connors & Paradiso 4th ed., Ch. 3), so every call does real work.
NEURON = {"K": (1.0, 100.0, 5.0), "Na": (0.025, 15.0, 150.0), "Cl": (0.0, 13.0, 150.0)}


def best_rate(run: Callable[[], None], calls: int, repeats: int = REPEATS) -> float:
    """Calls per second of the fastest of ``repeats`` runs of ``run`` (which makes ``calls`` calls)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return calls / best


def best_seconds(run: Callable[[], object], repeats: int = REPEATS) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


# --- The naive baseline: the same symbolic expression, substituted and evalf'd per call -------


def naive_nernst() -> tuple[sp.Expr, tuple[sp.Symbol, sp.Symbol]]:
    ion = Ion("X", "any ion", "X", 1)
    symbols = concentration_symbols(ion.key)
    expr = (1000 * nernst_form(ion).doit()).subs(CONSTANTS).subs(T, celsius + ZERO_CELSIUS)
    return expr, symbols


def naive_ghk() -> sp.Expr:
    return (1000 * ghk_form().doit()).subs(CONSTANTS).subs(T, celsius + ZERO_CELSIUS)


def ghk_bindings(temperature_c: float, ions: dict[str, tuple[float, float, float]]) -> dict[sp.Symbol, float]:
    bindings: dict[sp.Symbol, float] = {celsius: temperature_c}
    for key in GHK_IONS:
        permeability, inside, outside = ions[key]
        c_i, c_o = concentration_symbols(key)
        bindings |= {permeability_symbol(key): permeability, c_i: inside, c_o: outside}
    return bindings


def main() -> int:
    started = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    warm_up()
    warm_up_ms = (time.perf_counter() - t0) * 1000

    # Inputs vary from call to call (nothing for a cache to remember), the same for both sides.
    rng = np.random.default_rng(20240601)
    k_out = [float(x) for x in rng.uniform(2.0, 12.0, 1000)]

    # Scalar Nernst.
    fast_calls = 20_000

    def fast_nernst() -> None:
        for i in range(fast_calls):
            nernst_potential(1, 140.0, k_out[i % 1000], 37.0)

    nernst_rate = best_rate(fast_nernst, fast_calls)

    expr, (x_i, x_o) = naive_nernst()
    slow_calls = 200

    def slow_nernst() -> None:
        for i in range(slow_calls):
            expr.subs({z: 1, x_i: 140.0, x_o: k_out[i % 1000], celsius: 37.0}).evalf()

    naive_nernst_rate = best_rate(slow_nernst, slow_calls, repeats=3)
    check = float(expr.subs({z: 1, x_i: 140.0, x_o: 5.0, celsius: 37.0}).evalf())
    assert abs(check - float(nernst_potential(1, 140.0, 5.0, 37.0))) < 1e-9, "baseline and engine disagree"

    # Scalar GHK.
    def neuron_with(k: float) -> dict[str, tuple[float, float, float]]:
        return {**NEURON, "K": (1.0, 100.0, k)}

    def fast_ghk() -> None:
        for i in range(fast_calls):
            ghk_voltage(37.0, neuron_with(k_out[i % 1000]))

    ghk_rate = best_rate(fast_ghk, fast_calls)

    ghk_expr = naive_ghk()

    def slow_ghk() -> None:
        for i in range(slow_calls):
            ghk_expr.subs(ghk_bindings(37.0, neuron_with(k_out[i % 1000]))).evalf()

    naive_ghk_rate = best_rate(slow_ghk, slow_calls, repeats=3)
    check = float(ghk_expr.subs(ghk_bindings(37.0, NEURON)).evalf())
    assert abs(check - float(ghk_voltage(37.0, NEURON))) < 1e-9, "baseline and engine disagree"

    # 10⁶-point vectorised sweep over [K⁺]o.
    sweep = np.linspace(1.0, 100.0, SWEEP_POINTS)

    def run_sweep() -> object:
        return ghk_voltage(37.0, {**NEURON, "K": (1.0, 100.0, sweep)})

    result = run_sweep()
    assert result.shape == (SWEEP_POINTS,) and np.all(np.isfinite(result))
    assert np.all(np.diff(result) >= 0), "V_m must rise with [K⁺]o"
    sweep_ms = best_seconds(run_sweep, repeats=7) * 1000

    nernst_speedup = nernst_rate / naive_nernst_rate
    ghk_speedup = ghk_rate / naive_ghk_rate

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    print("membrane-tutor engine benchmark")
    print(f"date        {started:%Y-%m-%d %H:%M} UTC")
    print(f"platform    {platform.platform()}")
    print(f"cpu         {cpu_model()} ({cpu_count()} usable cores)")
    print(f"python      {platform.python_version()} ({platform.python_implementation()})")
    print(f"numpy       {np.__version__}")
    print(f"sympy       {sp.__version__}")
    print(f"warm_up     {warm_up_ms:.0f} ms (the symbolic work of the derivations, once per process)")
    print()
    print("| measurement | engine (NumPy) | naive sympy subs().evalf() | speed-up | target | result |")
    print("|---|---:|---:|---:|---|---|")
    print(
        f"| scalar `nernst_potential` | {nernst_rate:,.0f} calls/s ({1e6 / nernst_rate:.1f} µs) "
        f"| {naive_nernst_rate:,.0f} calls/s ({1e3 / naive_nernst_rate:.2f} ms) | {nernst_speedup:,.0f}× "
        f"| ≥ {SPEEDUP_TARGET:.0f}× | {verdict(nernst_speedup >= SPEEDUP_TARGET)} |"
    )
    print(
        f"| scalar `ghk_voltage` | {ghk_rate:,.0f} calls/s ({1e6 / ghk_rate:.1f} µs) "
        f"| {naive_ghk_rate:,.0f} calls/s ({1e3 / naive_ghk_rate:.2f} ms) | {ghk_speedup:,.0f}× "
        f"| ≥ {SPEEDUP_TARGET:.0f}× | {verdict(ghk_speedup >= SPEEDUP_TARGET)} |"
    )
    print(
        f"| GHK sweep, {SWEEP_POINTS:,} points of [K⁺]o (best of 7) | {sweep_ms:.1f} ms | — | — "
        f"| < {SWEEP_TARGET_MS:.0f} ms | {verdict(sweep_ms < SWEEP_TARGET_MS)} |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
