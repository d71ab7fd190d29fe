"""The interaction log when things go wrong: the bot keeps answering and nothing is lost.

A read-only database (SQLite's ``mode=ro``: tests run as root, which ignores file
permissions), a full one (``max_page_count`` on the store's own connection), a locked one,
a deleted one, a journal that cannot be written either, a torn journal line, and processes
stopped by SIGTERM or killed by SIGKILL mid-burst. In each, ``log()`` stays a plain,
instant call, and every row ends in the database, in the journal (replayed later), or in
a counted, reported loss.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.log import InteractionLog, LogRow, SqliteStore, default_journal, row_id
from bot.log.rows import to_json_line


def make_row(n: int = 0, **fields: Any) -> LogRow:
    values: dict[str, Any] = {
        "id": row_id(),
        "at": dt.datetime.now(dt.UTC),
        "kind": "interaction",
        "guild": "g1",
        "channel": "c1",
        "user": f"user{n % 7}",
        "command": "nernst",
        "options": {"ion": "K", "n": n},
    }
    values.update(fields)
    return LogRow(**values)


def writer(store: SqliteStore, journal: Path | None = None, **options: Any) -> InteractionLog:
    options.setdefault("flush_interval", 0.02)
    options.setdefault("backoff", (0.01, 0.05))
    return InteractionLog(store, journal=journal or default_journal(store.path), **options)


async def create(path: Path, rows: int = 0) -> None:
    store = SqliteStore(path)
    await store.open()
    await store.write([make_row(n) for n in range(rows)])
    await store.close()


def count(path: Path) -> int:
    with sqlite3.connect(path) as raw:
        return int(raw.execute("SELECT COUNT(*) FROM interactions").fetchone()[0])


def log_rows(log: InteractionLog, rows: int, **fields: Any) -> float:
    """Log rows; the slowest single call, in seconds."""
    slowest = 0.0
    for n in range(rows):
        row = make_row(n, **fields)
        started = time.perf_counter()
        log.log(row)
        slowest = max(slowest, time.perf_counter() - started)
    return slowest


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


def warnings(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(record.getMessage() for record in caplog.records if record.levelno == logging.WARNING)


async def test_read_only_database_journals_then_replays_at_the_next_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "log.db"
    await create(path, rows=10)
    store = SqliteStore(path, read_only=True)
    log = writer(store)
    await log.start()
    slowest = log_rows(log, 1000)
    await log.flush()
    assert slowest < 0.05  # the reply path never waits for the broken disk
    assert log.stats.journaled == log.stats.in_journal == 1000 and log.stats.unwritten == 0
    assert not log.healthy
    stats = await store.stats("g1", 7)  # reads still work, and /stats show reports the rows
    assert stats.total == 10 and stats.unwritten == stats.in_journal == 1000 and stats.lost == 0
    assert (await log.guild_stats("g1", 7)).unwritten == 1000
    await log.close()
    text = warnings(caplog)
    assert "readonly" in text and "went to the journal" in text
    assert "1000 rows wait in the journal" in text
    assert count(path) == 10
    assert stat.S_IMODE(default_journal(path).stat().st_mode) == 0o600  # pseudonyms and options: private

    log = writer(SqliteStore(path))  # the fault is fixed; the next start replays
    await log.start()
    assert log.stats.replayed == 1000 and log.stats.in_journal == 0
    await log.close()
    assert count(path) == 1010
    assert default_journal(path).stat().st_size == 0


async def test_full_database_journals_and_catches_up_when_space_returns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "log.db"
    await create(path)
    probe = SqliteStore(path)
    await probe.open()
    pages = await probe.page_count()
    await probe.close()
    store = SqliteStore(path, max_page_count=pages)  # not one page more: a full disk
    log = writer(store, batch_size=100)
    await log.start()
    slowest = log_rows(log, 2000, options={"padding": "x" * 300})
    await log.flush()
    assert slowest < 0.05
    assert log.stats.journaled > 0 and log.stats.unwritten == 0
    assert log.stats.written + log.stats.in_journal == 2000
    assert "full" in warnings(caplog)

    assert await store.set_max_page_count(None) > pages  # space again
    await until(lambda: log.stats.in_journal == 0)  # replayed without waiting for a new row
    assert log.healthy and count(path) == 2000
    await log.close()
    assert await _integrity(path) == "ok"


async def test_locked_database_does_not_hold_up_log(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    await create(path)
    log = writer(SqliteStore(path, busy_timeout_ms=100))
    await log.start()
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    try:
        slowest = log_rows(log, 300)
        await until(lambda: log.stats.journaled > 0)
        slowest = max(slowest, log_rows(log, 200))  # while the writer waits on the lock
        assert slowest < 0.05
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    await log.flush()
    await until(lambda: log.stats.in_journal == 0)
    assert count(path) == 500 and log.stats.unwritten == 0
    await log.close()


async def test_deleted_database_is_created_again(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "log.db"
    log = writer(SqliteStore(path))
    await log.start()
    log_rows(log, 100)
    await log.flush()
    for name in ("log.db", "log.db-wal", "log.db-shm"):
        (tmp_path / name).unlink(missing_ok=True)  # an operator's mistake
    log_rows(log, 50)
    await log.flush()
    assert path.exists() and count(path) == 50  # not into the deleted file's inode
    assert "deleted or replaced" in warnings(caplog)
    await log.close()


async def test_database_that_cannot_be_opened_at_start(tmp_path: Path) -> None:
    path = tmp_path / "not-a-file.db"
    path.mkdir()
    journal = tmp_path / "log.journal"
    log = writer(SqliteStore(path), journal)
    await log.start()  # the bot still starts and answers
    log_rows(log, 30)
    await log.close()
    assert log.stats.journaled == 30 and log.stats.unwritten == 0
    path.rmdir()
    log = writer(SqliteStore(path), journal)
    await log.start()
    assert log.stats.replayed == 30
    await log.close()
    assert count(path) == 30


async def test_when_the_journal_fails_too_rows_wait_then_are_reported_lost(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "log.db"
    await create(path)
    journal = tmp_path / "journal"
    journal.mkdir()  # cannot be opened as a file
    log = writer(SqliteStore(path, read_only=True), journal)
    await log.start()
    log_rows(log, 20)
    await asyncio.sleep(0.2)
    assert log.pending == 20 and log.stats.unwritten == 0  # kept in memory, tried again
    await log.close()
    assert log.stats.unwritten == 20  # nothing silently dropped: counted and reported
    assert "20 rows could not be written nor journaled and are lost" in warnings(caplog)


async def test_queue_and_overflow_are_bounded_and_losses_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = writer(SqliteStore(tmp_path / "log.db"), queue_size=10, overflow_limit=10)
    assert log.capacity == 20
    log_rows(log, 25)  # before start(): nothing drains yet
    assert log.pending == 20 and log.stats.unwritten == 5
    assert "5 rows" in warnings(caplog) or "1 rows" in warnings(caplog)
    await log.start()
    await log.flush()
    await until(lambda: log.stats.in_journal == 0)
    assert count(tmp_path / "log.db") == 20 and log.stats.overflowed == 10
    await log.close()


async def test_torn_journal_line_is_set_aside_and_counted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "log.db"
    await create(path)
    journal = default_journal(path)
    good = [make_row(n) for n in range(2)]
    journal.write_text("".join(to_json_line(row) + "\n" for row in good) + '{"id": "torn-by-a-cr')
    log = writer(SqliteStore(path, read_only=True))
    await log.start()  # replay fails (read-only): the journal stays
    log_rows(log, 3)
    await log.close()  # appended on a new line, after the torn one
    assert journal.read_text().count("\n") == 6

    log = writer(SqliteStore(path))
    await log.start()
    await log.close()
    assert log.stats.replayed == 5 and log.stats.unwritten == 1
    assert count(path) == 5
    assert "torn-by-a-cr" in journal.with_name(journal.name + ".rejected").read_text()
    assert "unreadable lines in the journal" in warnings(caplog)

    log = writer(SqliteStore(path))  # replaying the same rows again adds nothing
    journal.write_text("".join(to_json_line(row) + "\n" for row in good))
    await log.start()
    await log.close()
    assert count(path) == 5


KILL_SCRIPT = textwrap.dedent(
    """
    import asyncio, datetime as dt, signal, sys
    from pathlib import Path
    from bot.log import InteractionLog, LogRow, SqliteStore, default_journal, row_id

    async def main(path):
        store = SqliteStore(Path(path))
        log = InteractionLog(store, journal=default_journal(store.path), queue_size={queue_size},
                             overflow_limit={overflow_limit}, batch_size={batch_size}, flush_interval={flush_interval})
        await log.start()
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        logged = 0
        while not stop.is_set():
            print(logged + 50, log.stats.unwritten, flush=True)  # an upper bound, announced before logging
            for _ in range(50):
                log.log(LogRow(id=row_id(), at=dt.datetime.now(dt.UTC), kind="interaction", guild="g1",
                               channel="c1", user="u", command="nernst", options={{"n": logged}}))
                logged += 1
            await asyncio.sleep(0.002)
        await log.close()
        print("closed", logged, log.stats.unwritten, flush=True)

    asyncio.run(main(sys.argv[1]))
    """
)
KILL_OPTIONS = {"queue_size": 1000, "overflow_limit": 1000, "batch_size": 100, "flush_interval": 0.05}


def start_burst(path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT.format(**KILL_OPTIONS), str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=path.parent,
    )


def read_until(process: subprocess.Popen[str], logged: int) -> int:
    assert process.stdout is not None
    announced = 0
    for line in process.stdout:
        announced = int(line.split()[0])
        if announced >= logged:
            return announced
    raise AssertionError(f"the burst stopped at {announced} rows")


async def test_kill_9_mid_burst_leaves_a_consistent_database(tmp_path: Path) -> None:
    """The writer's documented bound: a kill -9 loses at most N = queue_size + overflow_limit rows."""
    path = tmp_path / "log.db"
    process = start_burst(path)
    try:
        read_until(process, 8000)
        await until(lambda: path.exists() and count(path) > 0)  # mid-burst: some batches committed
        read_until(process, 12_000)
    finally:
        process.kill()  # SIGKILL: no handler, no close()
    rest, _ = process.communicate(timeout=10)
    lines = [line.split() for line in rest.splitlines() if line.strip()]
    announced, lost = (int(lines[-1][0]), int(lines[-1][1])) if lines else (12_000, 0)
    assert process.returncode == -signal.SIGKILL

    assert await _integrity(path) == "ok"
    committed = count(path)
    log = InteractionLog(SqliteStore(path), journal=default_journal(path))
    await log.start()  # the journal (overflow spilled before the kill) is replayed
    await log.close()
    recovered = count(path)
    n = KILL_OPTIONS["queue_size"] + KILL_OPTIONS["overflow_limit"]
    assert 0 < committed <= recovered <= announced
    assert announced - recovered - lost <= n, (announced, committed, recovered, lost)


async def test_sigterm_mid_burst_writes_every_row(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    process = start_burst(path)
    try:
        read_until(process, 5000)
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=20)
    finally:
        process.kill()
    closed = [line.split() for line in rest.splitlines() if line.startswith("closed")]
    assert process.returncode == 0 and closed
    logged, lost = int(closed[0][1]), int(closed[0][2])
    assert lost == 0
    assert count(path) == logged  # every row, none twice
    journal = default_journal(path)
    assert not journal.exists() or journal.stat().st_size == 0


async def _integrity(path: Path) -> str:
    with sqlite3.connect(path) as raw:
        return "; ".join(str(row[0]) for row in raw.execute("PRAGMA integrity_check"))


# -- hostile text: one row never switches the log off (issue 13) --------------------------------

LONE = "\ud800"  # a lone surrogate: Discord's JSON can carry one; UTF-8 cannot


def poisoned(n: int = 0) -> LogRow:
    """A row with a lone surrogate in every kind of string it holds, options nested too."""
    return make_row(
        n,
        command="ask",
        topic=f"nernst{LONE}",
        question=f"why{LONE}?",
        answered=False,
        options={"question": f"why{LONE}?", f"key{LONE}": [f"a{LONE}", {"deep": f"b{LONE}"}]},
    )


async def test_a_lone_surrogate_is_stored_replaced_and_later_rows_still_land(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "log.db"
    log = writer(SqliteStore(path))
    await log.start()
    log_rows(log, 5)
    log.log(poisoned())
    log_rows(log, 5)
    await asyncio.wait_for(log.flush(), 1.0)  # /privacy must not wait out its timeout
    log_rows(log, 7)  # later batches too
    await asyncio.wait_for(log.flush(), 1.0)
    await log.close()
    assert log.stats.unwritten == 0 and log.stats.in_journal == 0 and log.stats.failures == 0
    assert count(path) == 18
    with sqlite3.connect(path) as raw:
        topic, question, options = raw.execute(
            "SELECT topic, question, options FROM interactions WHERE command = 'ask'"
        ).fetchone()
    assert topic == "nernst\ufffd" and question == "why\ufffd?"
    assert "a\ufffd" in options and "b\ufffd" in options and "key\ufffd" in options
    assert "surrogates not allowed" not in warnings(caplog)


async def test_a_lone_surrogate_goes_through_the_journal_of_a_read_only_database(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    await create(path, rows=2)
    log = writer(SqliteStore(path, read_only=True))
    await log.start()
    log.log(poisoned())
    log_rows(log, 4)
    await asyncio.wait_for(log.flush(), 1.0)
    log_rows(log, 3)
    await asyncio.wait_for(log.flush(), 1.0)
    await log.close()
    assert log.stats.journaled == log.stats.in_journal == 8 and log.stats.unwritten == 0
    assert "\ufffd" in default_journal(path).read_text(encoding="utf-8")

    log = writer(SqliteStore(path))  # writable again: the journal, poisoned row included, is replayed
    await log.start()
    await log.close()
    assert log.stats.replayed == 8 and count(path) == 10


async def test_a_missing_database_journals_a_lone_surrogate_too(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "log.db"
    log = writer(SqliteStore(path, read_only=True))  # mode=ro on a file that is not there
    await log.start()
    log.log(poisoned())
    log_rows(log, 2)
    await asyncio.wait_for(log.flush(), 1.0)
    await log.close()
    assert log.stats.journaled == 3 and log.stats.unwritten == 0


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no text for you")


async def test_a_row_that_cannot_be_stored_is_lost_alone_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "log.db"
    log = writer(SqliteStore(path))
    await log.start()
    log_rows(log, 3)
    log.log(make_row(99, options={"bad": Unprintable()}))
    log_rows(log, 3)
    await asyncio.wait_for(log.flush(), 1.0)
    await log.close()
    assert count(path) == 6 and log.stats.unwritten == log.stats.rejected == 1 and log.stats.in_journal == 0
    assert "1 rows could not be written nor journaled" in warnings(caplog)


async def test_a_row_the_database_refuses_alone_does_not_take_its_batch_down(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Whatever slips past the cleaning: the batch is written row by row, the bad one lost."""
    path = tmp_path / "log.db"
    log = writer(SqliteStore(path))
    await log.start()
    log_rows(log, 3)
    log.log(make_row(98, guild=2**70))  # too big for SQLite's INTEGER: OverflowError at bind time
    log_rows(log, 3)
    await asyncio.wait_for(log.flush(), 1.0)
    log_rows(log, 2)
    await asyncio.wait_for(log.flush(), 1.0)
    await log.close()
    assert count(path) == 8 and log.stats.unwritten == 1 and log.stats.in_journal == 0
    assert "could not be written nor journaled" in warnings(caplog)
