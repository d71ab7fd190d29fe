"""/explain and /ask: in-process answer time, index build time, and answers through the emulator.

    python bench/bench_knowledge.py

In-process: every topic through /explain and every question of the calibration and
held-out sets through /ask (each question asked once: no cached ranking helps), timed
around ``bot.answers.answer`` with ``time.perf_counter``. Through the emulator: the same
mix sequentially against `membrane-tutor run`, and the floor bot of bench_discord.py.
Targets (issue: the knowledge base): p99 ≤ 10 ms in-process; through the emulator within
the floor's p99 + 5 ms; the index built at start-up in < 1 s.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from bench_discord import (  # noqa: E402
    EMULATOR_CPU,
    Driver,
    Run,
    add_students,
    floor_sequential,
    machine,
    pin,
    start_tutor,
    stop,
)

sys.path.insert(0, str(ROOT / "tests"))
from emulator import EmulatorThread  # noqa: E402

from bot.answers import Services, answer  # noqa: E402
from bot.commands import Request  # noqa: E402


def questions() -> list[str]:
    files = [ROOT / "knowledge" / "ask-calibration.yaml", *sorted((ROOT / "tests" / "data").glob("ask-heldout*.yaml"))]
    return [entry["question"] for file in files for entry in yaml.safe_load(file.read_text(encoding="utf-8"))]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def in_process() -> tuple[float, list[float], list[float]]:
    started = time.perf_counter()
    services = Services.load()
    build = time.perf_counter() - started
    explain, ask = [], []
    for topic in services.knowledge:
        t = time.perf_counter()
        answer(Request("explain", {"topic": topic.slug}), services)
        explain.append(1000 * (time.perf_counter() - t))
    for question in questions():
        t = time.perf_counter()
        answer(Request("ask", {"question": question}), services)
        ask.append(1000 * (time.perf_counter() - t))
    return build, explain, ask


def through_emulator(calls: list[tuple[str, dict[str, Any]]]) -> Run:
    with EmulatorThread() as thread, tempfile.TemporaryDirectory() as workdir:
        users = thread.call(add_students, thread.emulator, 600)
        process = start_tutor(thread, Path(workdir))
        try:
            driver = Driver(thread, calls, users)
            driver.measure(20, 1)
            time.sleep(3)
            run = driver.measure(len(calls), 1)
            if thread.emulator.problems():
                raise SystemExit(f"refused payloads: {thread.emulator.problems()[:3]}")
        finally:
            stop(process)
        return run


def main() -> int:
    pin(0, EMULATOR_CPU)
    build, explain, ask = in_process()
    slugs = [topic.slug for topic in Services.load().knowledge]
    calls = [("ask", {"question": q}) for q in questions()] + [("explain", {"topic": s}) for s in slugs]
    floor = floor_sequential(len(calls))
    tutor = through_emulator(calls)
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {machine()}")
    print(f"knowledge base + /ask index built in {1000 * build:.0f} ms")
    print(f"{'':40}{'n':>5}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for label, values in (
        ("/explain in-process", explain),
        ("/ask in-process (each question new)", ask),
        ("floor through the emulator", floor.latencies_ms),
        ("/ask + /explain through the emulator", tutor.latencies_ms),
    ):
        print(
            f"{label:40}{len(values):5d}{statistics.median(values):9.2f}{percentile(values, 99):9.2f}{max(values):9.2f}"
        )
    fast = percentile(explain, 99) <= 10 and percentile(ask, 99) <= 10
    close = percentile(tutor.latencies_ms, 99) <= percentile(floor.latencies_ms, 99) + 5
    print(f"in-process p99 ≤ 10 ms: {'met' if fast else 'NOT met'}")
    print(f"through the emulator p99 ≤ floor p99 + 5 ms: {'met' if close else 'NOT met'}")
    print(f"index built in < 1 s: {'met' if build < 1 else 'NOT met'}")
    return 0 if fast and close and build < 1 else 1


if __name__ == "__main__":
    sys.exit(main())
