"""Figure answers through the local Discord emulator, and text answers while figures draw.

    python bench/bench_figures.py [--figures 60] [--text 300]

Measures, against one `membrane-tutor run` process (pinned to its own core, emulator on
the other): the first figure answer after start-up; warm figure answers with new inputs
each time (drawn, not cached) and with repeated inputs (cached), from INTERACTION_CREATE
to the final message with its PNG; and text answers' latency alone, then while figure
requests keep the drawing pool busy. Targets (issue: figures and deploy kit): figure p99
≤ 300 ms warm; text p99 unchanged while figures render (the event loop never blocked).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_discord import BOT_CPU, EMULATOR_CPU, Driver, Run, add_students, machine, pin

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from bot_process import BotProcess
from emulator import DiscordEmulator, EmulatorThread


async def figure_answer(emu: DiscordEmulator, options: dict[str, Any], user: Any) -> float:
    """Milliseconds from the interaction to the final message carrying its figure."""
    record = await emu.invoke("restpot", {**options, "detail": "plot"}, user=user)
    await record.response(timeout=15)
    final = await record.wait_for_final(timeout=15)
    if not any(a.filename.endswith(".png") for a in final.attachments):
        raise SystemExit(f"no figure arrived for {options}")
    assert record.dispatched_at is not None
    return 1000 * (time.monotonic() - record.dispatched_at)


async def figures_in_sequence(emu: DiscordEmulator, users: list[Any], inputs: list[dict[str, Any]]) -> list[float]:
    return [await figure_answer(emu, options, users[i % len(users)]) for i, options in enumerate(inputs)]


async def keep_drawing(emu: DiscordEmulator, users: list[Any], stop: asyncio.Event, drawn: list[float]) -> None:
    """Figure requests with new inputs, two at a time, until told to stop."""
    number = 0

    async def one() -> None:
        nonlocal number
        while not stop.is_set():
            number += 1
            drawn.append(await figure_answer(emu, {"k_out": round(3 + 0.0137 * number, 4)}, users[number % 50]))

    await asyncio.gather(one(), one())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--figures", type=int, default=60)
    parser.add_argument("--text", type=int, default=300)
    args = parser.parse_args()
    pin(0, EMULATOR_CPU)
    with EmulatorThread() as thread, tempfile.TemporaryDirectory() as workdir:
        emu = thread.emulator
        users = thread.call(add_students, emu, 1000)
        bot = BotProcess(Path(workdir), env=dict(emu.env))
        if bot.run_once("sync").returncode != 0:
            raise SystemExit("sync failed")
        bot.start()
        assert bot.process is not None
        pin(bot.process.pid, BOT_CPU)
        thread.call(emu.wait_for_ready, timeout=60)
        try:
            first = thread.run(figure_answer(emu, {}, users[0]))  # start-up: matplotlib may still be loading
            time.sleep(3)
            fresh = thread.run(figures_in_sequence(emu, users, [{"k_out": 2 + 0.1 * i} for i in range(args.figures)]))
            cached = thread.run(figures_in_sequence(emu, users, [{"k_out": 2 + 0.1 * i} for i in range(args.figures)]))
            text = Driver(thread, [("restpot", {}), ("nernst", {"ion": "K", "inside": 140.0, "outside": 5.0})], users)
            text.cursor = 500
            alone = text.measure(args.text, 1)

            async def text_while_drawing() -> tuple[Run, list[float]]:
                stop, drawn = asyncio.Event(), []
                drawing = asyncio.ensure_future(keep_drawing(emu, users, stop, drawn))
                await asyncio.sleep(0.2)
                during = await text._drive(args.text, 1)
                stop.set()
                await drawing
                return during, drawn

            during, drawn_meanwhile = thread.run(text_while_drawing())
            problems = emu.problems()
        finally:
            bot.stop()
    if problems:
        raise SystemExit(f"the emulator refused payloads: {problems[:3]}")
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {machine()}")
    print(f"first figure answer after start-up: {first:.0f} ms")
    print(f"{'':44}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    rows = [
        (f"figure answers, new inputs (n={len(fresh)})", fresh),
        (f"figure answers, cached (n={len(cached)})", cached),
        (f"text answers alone (n={len(alone.latencies_ms)})", alone.latencies_ms),
        (f"text answers while figures draw (n={len(during.latencies_ms)})", during.latencies_ms),
        (f"figures drawn meanwhile (n={len(drawn_meanwhile)})", drawn_meanwhile),
    ]
    for label, values in rows:
        print(f"{label:44}{percentile(values, 50):9.1f}{percentile(values, 99):9.1f}{max(values):9.1f}")
    warm_ok = percentile(fresh, 99) <= 300
    text_ok = percentile(during.latencies_ms, 99) <= percentile(alone.latencies_ms, 99) + 5
    print(f"figure p99 ≤ 300 ms warm: {'met' if warm_ok else 'NOT met'}")
    print(f"text p99 unchanged while figures draw (within 5 ms): {'met' if text_ok else 'NOT met'}")
    return 0 if warm_ok and text_ok else 1


if __name__ == "__main__":
    sys.exit(main())
