"""Cold start of the command line: each command in N fresh processes, median and p90.

Run from the repository root:

    python bench/bench_cold_start.py              # this checkout, 21 runs per command
    python bench/bench_cold_start.py --root DIR   # another tree, e.g. `git archive <commit>` unpacked

Each run is a new ``python -m bot …`` process with ``DIR`` first on ``sys.path`` (so
any unpacked tree can be compared with this one, installed or not) and standard output
to /dev/null, timed from ``subprocess.run`` to its exit with ``time.perf_counter``: what
a student waits for, interpreter start-up included. The commands take turns (one run of
each, then the next round) so that a busy moment of the machine spreads over all of
them; one untimed round first warms the file cache. ``python -c pass`` is the floor no
command can beat. Targets: ``--version`` and ``--help`` ≤ 0.15 s, a text answer
(``ask "/nernst ion:K"``, ``ask "/restpot"``, ``ask "/whatif scenario:hyperkalemia"``)
≤ 0.5 s, median over the runs.

It prints the machine, the versions and the date, then a Markdown table that can be
pasted into bench/RESULTS.md. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from machine import cpu_model

ROOT = Path(__file__).resolve().parents[1]

COMMANDS: tuple[tuple[str, tuple[str, ...], float | None], ...] = (
    ("`python -c pass` (the floor)", ("-c", "pass"), None),
    ("`membrane-tutor --version`", ("-m", "bot", "--version"), 0.15),
    ("`membrane-tutor --help`", ("-m", "bot", "--help"), 0.15),
    ('`membrane-tutor ask "/nernst ion:K"`', ("-m", "bot", "ask", "/nernst ion:K"), 0.5),
    ('`membrane-tutor ask "/restpot"`', ("-m", "bot", "ask", "/restpot"), 0.5),
    (
        '`membrane-tutor ask "/whatif scenario:hyperkalemia"`',
        ("-m", "bot", "ask", "/whatif scenario:hyperkalemia"),
        0.5,
    ),
)


def _once(python: str, arguments: tuple[str, ...], root: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [python, *arguments], cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=False
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(arguments)} exited {done.returncode} in {root}")
    return elapsed


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="timed runs per command (default 21)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the tree whose `bot` to run (default: this one)")
    parser.add_argument("--python", default=sys.executable, help="the interpreter (default: this one)")
    args = parser.parse_args()
    root = args.root.resolve()
    env = {key: value for key, value in os.environ.items() if key not in ("LOG_LEVEL", "PYTHONWARNINGS")}
    env.update(PYTHONPATH=str(root), MPLBACKEND="Agg", PYTHONIOENCODING="utf-8")
    times: dict[str, list[float]] = {label: [] for label, _, _ in COMMANDS}
    for round_ in range(args.runs + 1):
        for label, arguments, _ in COMMANDS:
            elapsed = _once(args.python, arguments, root, env)
            if round_:  # round 0 only warms the file cache
                times[label].append(elapsed)

    print(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {root}")
    print(f"Machine: {' '.join(platform.uname())}; {cpu_model()}, {os.cpu_count()} cores")
    print(f"Python {platform.python_version()} ({args.python}); {args.runs} runs per command\n")
    print("| command | median s | p90 s | min s | target | result |")
    print("|---|---:|---:|---:|---|---|")
    for label, _, target in COMMANDS:
        values = times[label]
        median = statistics.median(values)
        verdict = "—" if target is None else ("met" if median <= target else "missed")
        shown = "—" if target is None else f"≤ {target:g} s"
        print(f"| {label} | {median:.3f} | {_percentile(values, 0.9):.3f} | {min(values):.3f} | {shown} | {verdict} |")


if __name__ == "__main__":
    main()
