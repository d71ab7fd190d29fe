"""The interaction log: sustained throughput, reply latency with and without it, /stats on 100k rows.

    python bench/bench_log.py

1. Throughput: rows logged through ``InteractionLog.log`` as fast as the queue takes them
   (never beyond its capacity), into SQLite on a temporary file, until all are committed.
2. Reply latency: `membrane-tutor run` through the emulator, 300 sequential text answers,
   in 5 alternating runs with the log on and off (TUTOR_LOG_INTERACTIONS); the median of
   the runs' p99s is compared.
3. `/stats show` (store query and the rendered answer) on a database of 100,000 interactions.
Targets (issue: interaction log): ≥ 10,000 rows/s; p99 with logging within max(10 %, 2 ms)
of p99 without; /stats show < 200 ms.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))
from bench_discord import BOT_CPU, EMULATOR_CPU, Driver, add_students, machine, pin  # noqa: E402
from bot_process import BotProcess  # noqa: E402
from emulator import EmulatorThread  # noqa: E402

from bot.instructor import stats_show  # noqa: E402
from bot.log import InteractionLog, LogRow, SqliteStore  # noqa: E402
from bot.log.sqlite import INSERT, parameters_for  # noqa: E402

GUILD = "1234567890"
COMMANDS = ("restpot", "nernst", "whatif", "explain", "ask")


def row(at: dt.datetime, number: int) -> LogRow:
    command = COMMANDS[number % len(COMMANDS)]
    unanswered = command == "ask" and number % 7 == 0
    return LogRow(
        id=uuid.uuid4().hex,
        at=at,
        kind="interaction",
        guild=GUILD,
        channel="42",
        user=f"{number % 300:032x}",
        command=command,
        options={"question": f"question number {number % 50}"} if command == "ask" else {"ion": "K"},
        outcome="ok" if number % 40 else "input",
        latency_ms=0.8,
        topic="leak-channels" if command in ("explain", "ask") and not unanswered else None,
        confidence=0.4 if command == "ask" else None,
        answered=(not unanswered) if command == "ask" else None,
    )


async def throughput(total: int = 200_000) -> float:
    with tempfile.TemporaryDirectory() as folder:
        log = InteractionLog(SqliteStore(Path(folder) / "log.db"), journal=Path(folder) / "log.journal")
        await log.start()
        now = dt.datetime.now(dt.UTC)
        started = time.perf_counter()
        for number in range(total):
            while log.pending >= log.queue_size // 2:  # sustained: never beyond what the queue holds
                await asyncio.sleep(0.001)
            log.log(row(now, number))
            if number % 1000 == 0:
                await asyncio.sleep(0)
        await log.flush()
        elapsed = time.perf_counter() - started
        written = log.stats.written
        await log.close()
        if written != total or log.stats.journaled or log.stats.unwritten:
            raise SystemExit(f"throughput run lost or journaled rows: {log.stats}")
        return total / elapsed


def reply_p99(logging: bool, workdir: Path) -> float:
    with EmulatorThread() as thread:
        users = thread.call(add_students, thread.emulator, 400)
        env = {**thread.emulator.env, "TUTOR_LOG_INTERACTIONS": "true" if logging else "false"}
        env["TUTOR_DB"] = str(workdir / "tutor.db")
        bot = BotProcess(workdir / ("on" if logging else "off"), env=env)
        assert bot.run_once("sync").returncode == 0
        bot.start()
        assert bot.process is not None
        pin(bot.process.pid, BOT_CPU)
        thread.call(thread.emulator.wait_for_ready, timeout=60)
        calls = [("restpot", {"k_out": 2 + 0.01 * i}) for i in range(300)] + [("nernst", {"ion": "K"})]
        driver = Driver(thread, calls, users)
        try:
            driver.measure(30, 1)
            time.sleep(2)
            run = driver.measure(300, 1)
        finally:
            bot.stop(signal.SIGTERM)
        return run.percentile(99)


async def stats_time(total: int = 100_000) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.db"
        store = SqliteStore(path)
        await store.open()  # creates the schema
        await store.close()
        now = dt.datetime.now(dt.UTC)
        rows = [row(now - dt.timedelta(minutes=random.randint(0, 60 * 24 * 60)), n) for n in range(total)]
        with sqlite3.connect(path) as db:
            db.executemany(INSERT, parameters_for(rows))
        store = SqliteStore(path)
        await store.open()
        times = []
        for _ in range(5):
            started = time.perf_counter()
            answer = await stats_show(store, GUILD, 30)
            times.append(1000 * (time.perf_counter() - started))
        await store.close()
        assert not answer.error
        return statistics.median(times), total


def main() -> int:
    pin(0, EMULATOR_CPU)
    rate = asyncio.run(throughput())
    p99s: dict[bool, list[float]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as folder:
        for attempt in range(5):
            for logging in (True, False) if attempt % 2 == 0 else (False, True):
                p99s[logging].append(reply_p99(logging, Path(folder) / f"{attempt}-{logging}"))
    stats_ms, rows = asyncio.run(stats_time())
    with_log, without = statistics.median(p99s[True]), statistics.median(p99s[False])
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC — {machine()}")
    print(f"sustained logging throughput: {rate:,.0f} rows/s")
    print(f"reply p99, median of 5 runs: with logging {with_log:.2f} ms, without {without:.2f} ms")
    print(f"  runs with:    {', '.join(f'{v:.2f}' for v in p99s[True])}")
    print(f"  runs without: {', '.join(f'{v:.2f}' for v in p99s[False])}")
    print(f"/stats show on {rows:,} interactions: {stats_ms:.1f} ms (median of 5)")
    ok_rate = rate >= 10_000
    ok_latency = with_log <= without + max(0.10 * without, 2.0)
    ok_stats = stats_ms < 200
    print(f"≥ 10,000 rows/s: {'met' if ok_rate else 'NOT met'}")
    print(f"reply p99 unaffected (within max(10 %, 2 ms)): {'met' if ok_latency else 'NOT met'}")
    print(f"/stats show < 200 ms: {'met' if ok_stats else 'NOT met'}")
    return 0 if ok_rate and ok_latency and ok_stats else 1


if __name__ == "__main__":
    sys.exit(main())
