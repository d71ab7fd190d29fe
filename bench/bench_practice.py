"""Benchmark of practice: generating a problem, in process (target ≤ 1 ms).

Run from the repository root:

    python bench/bench_practice.py [--seeds N]

For each problem family it generates N problems (seeds 0 … N−1, after one warm-up pass
so imports and the engine's caches are not timed) and times each ``generate`` call on
its own with ``time.perf_counter_ns``; it reports the median and the 99th percentile per
family and over all families, and, for scale, grading in process: ``grade_choice`` (a
button press) and ``check`` (a typed answer: reading, the engine, every mistake). It
prints the machine, versions and date, then a Markdown table for bench/RESULTS.md. Not
collected by pytest. The emulator's end-to-end figures for /quiz and a press are measured
separately (bench/bench_discord.py's harness); this file is the in-process part.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from machine import cpu_count, cpu_model

from bot.tutoring.grading import check, grade_choice
from bot.tutoring.problems import FAMILIES, GENERATOR_VERSION, generate

TARGET_MS = 1.0


def timings_ms(calls: Iterable[Callable[[], object]]) -> list[float]:
    """Each call timed on its own, in milliseconds."""
    out: list[float] = []
    for call in calls:
        start = time.perf_counter_ns()
        call()
        out.append((time.perf_counter_ns() - start) / 1e6)
    return out


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def row(name: str, values: list[float], target: float | None) -> str:
    median, tail = statistics.median(values), p99(values)
    verdict = "" if target is None else ("pass" if tail <= target else "FAIL")
    goal = "" if target is None else f"≤ {target:g} ms"
    return f"| {name} | {len(values)} | {median:.3f} | {tail:.3f} | {max(values):.3f} | {goal} | {verdict} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2000, help="problems per family (default 2000)")
    seeds = range(parser.parse_args().seeds)
    for family in FAMILIES:  # warm-up: imports, scenarios() cache, first-call costs
        for seed in range(50):
            generate(family, seed)
    started = dt.datetime.now(dt.UTC)
    per_family = {family: timings_ms(lambda f=family, s=s: generate(f, s) for s in seeds) for family in FAMILIES}
    everything = [value for values in per_family.values() for value in values]
    problems = [generate(family, seed) for family in FAMILIES for seed in seeds[:200]]
    presses = timings_ms(lambda p=p: grade_choice(p, p.choices[1].letter) for p in problems)
    typed = timings_ms(lambda p=p: check(p.command, p.options, p.choices[2].text.split(" (")[0]) for p in problems)

    print("membrane-tutor practice benchmark (in process)")
    print(f"date        {started:%Y-%m-%d %H:%M} UTC")
    print(f"platform    {platform.platform()}")
    print(f"cpu         {cpu_model()} ({cpu_count()} usable cores)")
    print(f"python      {platform.python_version()} ({platform.python_implementation()})")
    print(f"generator   version {GENERATOR_VERSION}, {len(FAMILIES)} families, seeds 0–{len(seeds) - 1}")
    print()
    print("| measurement | calls | median ms | p99 ms | max ms | target | result |")
    print("|---|---:|---:|---:|---:|---|---|")
    print(row("generate a problem, all families", everything, TARGET_MS))
    for family, values in per_family.items():
        print(row(f"generate `{family}`", values, TARGET_MS))
    print(row("grade a pressed letter (grade_choice)", presses, None))
    print(row("grade a typed answer (check)", typed, None))
    return 0 if p99(everything) <= TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
