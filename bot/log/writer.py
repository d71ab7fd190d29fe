"""The interaction log's writer: a bounded queue, one background task, batched commits, and
a journal file for the rows the database would not take.

The reply path only calls :meth:`InteractionLog.log`, which appends to an in-memory queue
and returns: it never awaits and never touches the disk, so a slow, locked, read-only, full
or deleted database cannot delay an answer. Everything else happens in the writer task.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import math
import os
import sqlite3
import time
from collections import deque
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bot.log.api import LogRow, LogStore, Stats
from bot.log.errors import SchemaTooNew
from bot.log.rows import from_json_line, storable, to_json_line

log = logging.getLogger(__name__)

ROW_ERRORS: tuple[type[BaseException], ...] = (
    UnicodeError,
    TypeError,
    OverflowError,
    sqlite3.InterfaceError,
    sqlite3.IntegrityError,
    sqlite3.DataError,
)
"""Errors that a row's own values cause (whatever the database's state): a batch refused with
one of them is written row by row, so that the one bad row is lost alone (and reported)."""


@dataclass
class WriterStats:
    """What became of the rows handed to :meth:`InteractionLog.log` (since this process started)."""

    logged: int = 0  # rows handed to log()
    written: int = 0  # rows committed to the database (replayed journal rows included)
    journaled: int = 0  # rows the database would not take, appended to the journal
    replayed: int = 0  # journal rows later written to the database
    unwritten: int = 0  # rows that could not be written nor journaled: lost, each time with a WARNING
    in_journal: int = 0  # rows waiting in the journal now (found at start-up included)
    overflowed: int = 0  # rows that found the queue full and went to the overflow (then the journal)
    rejected: int = 0  # of ``unwritten``: rows whose own values neither the database nor the journal could hold
    batches: int = 0  # commits
    failures: int = 0  # failed attempts to write a batch
    last_error: str | None = None


class InteractionLog:
    """The bot's interaction log: ``log(row)`` now, the disk later.

    **Batching.** One writer task takes up to ``batch_size`` rows from the queue and commits
    them in one transaction as soon as ``batch_size`` rows are waiting or ``flush_interval``
    seconds after the oldest waiting row arrived, whichever is first (defaults: 500 rows,
    0.2 s).

    **What a kill -9 can lose.** Only rows held in memory: the queue (``queue_size``), the
    overflow and the batch being written, together at most
    ``N = queue_size + overflow_limit`` rows (20,000 with the defaults): :meth:`log` refuses,
    and counts as lost, any row beyond that. While the database keeps up, which is all of
    ordinary use (a commit takes milliseconds), that is just the rows logged in the last
    ``flush_interval`` (0.2 s) plus the batch being committed. Committed rows survive:
    the database is in WAL mode with synchronous FULL, so it is also consistent after a
    crash. Journal lines are fsynced before they count as journaled.

    **Faults.** A failed batch is retried with exponential backoff (``backoff`` = first and
    longest pause); when that fails, the batch goes to the journal (JSON lines, fsynced) and
    later batches go straight there, with the database probed again after each pause. The
    first batch the database takes again triggers a replay of the journal, which is also
    replayed at start-up; rows carry UUIDs and the store skips ids it has, so a replay
    interrupted at any point is simply run again. If the queue is full, rows go to an
    overflow list that the writer spills to the journal. Rows that can be neither written
    nor journaled are counted in ``stats.unwritten`` and reported in a WARNING line (rate
    limited to one per ``warn_interval``, with counts), never dropped silently.

    **Hostile text.** :meth:`log` makes every string of a row storable before queueing it
    (a lone surrogate, which UTF-8 cannot hold, becomes U+FFFD; see
    :func:`~bot.log.rows.storable`). A row that still cannot be stored (a value that cannot
    even become text) is isolated: the database gets the batch row by row and the journal
    line by line, the bad row alone is lost and counted (``stats.unwritten``,
    ``stats.rejected``, a WARNING), and the rest of its batch and every later row are stored
    as usual.

    **Shutdown.** :meth:`close` (call it from ``bot.close()`` or the SIGTERM/SIGINT path)
    drains the queue and the overflow into the database or, if it will not take them, the
    journal, before it returns.

    One instance per process and event loop; :meth:`log` must be called from the loop's
    thread.
    """

    def __init__(
        self,
        store: LogStore,
        *,
        journal: Path,
        queue_size: int = 10_000,
        batch_size: int = 500,
        flush_interval: float = 0.2,
        backoff: tuple[float, float] = (0.05, 2.0),
        overflow_limit: int = 10_000,
        retries: int = 3,
        retention_days: int | None = None,
        retention_interval: float = 3600.0,
        warn_interval: float = 60.0,
    ) -> None:
        if queue_size < 1 or batch_size < 1 or overflow_limit < 0 or retries < 0:
            raise ValueError("queue_size and batch_size must be positive; overflow_limit and retries not negative")
        if not 0 < backoff[0] <= backoff[1] or flush_interval < 0:
            raise ValueError("backoff must be (first, longest) with 0 < first <= longest; flush_interval >= 0")
        self.store = store
        self.journal = Path(journal)
        self.queue_size = queue_size
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.backoff = backoff
        self.overflow_limit = overflow_limit
        self.retries = retries
        self.retention_days = retention_days
        self.retention_interval = retention_interval
        self.warn_interval = warn_interval
        self.stats = WriterStats()

        self._queue: deque[LogRow] = deque()
        self._overflow: list[LogRow] = []
        self._in_flight = 0  # rows the writer took and has not yet settled
        self._first_at = 0.0  # when the oldest queued row arrived (monotonic)
        self._wake = asyncio.Event()
        self._accepted = 0  # rows log() took
        self._settled = 0  # of those: written, journaled or lost
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._retention: asyncio.Task[None] | None = None
        self._closing = False
        self._closed = False
        self._store_open = False
        self._healthy = True
        self._delay = backoff[0]
        self._next_probe = 0.0
        self._next_replay = 0.0
        self._reported_at = -math.inf
        self._unreported_journaled = 0
        self._unreported_lost = 0
        self._lost_reason = ""
        self._journal_reason = ""

        bind = getattr(store, "bind", None)
        if callable(bind):
            bind(self.log, lambda: (self.stats.in_journal, self.stats.unwritten))

    def __repr__(self) -> str:
        return f"InteractionLog({self.store!r}, journal={str(self.journal)!r})"

    @property
    def healthy(self) -> bool:
        """False while the database refuses writes (rows are going to the journal)."""
        return self._healthy and self._store_open

    @property
    def pending(self) -> int:
        """Rows held in memory, not yet written or journaled."""
        return len(self._queue) + len(self._overflow) + self._in_flight

    @property
    def capacity(self) -> int:
        """The most rows held in memory at once: what a kill -9 can lose at worst (N)."""
        return self.queue_size + self.overflow_limit

    # -- the reply path -----------------------------------------------------------------

    def log(self, row: LogRow) -> None:
        """Queue one row for writing. Never awaits, never touches the disk, never raises."""
        try:
            if self._closed:
                self._lose(1, "log() was called after the log was closed")
                return
            self.stats.logged += 1
            try:
                row = storable(row)
            except Exception as error:
                self._reject(row, _describe(error))
                return
            held = self.pending
            if held >= self.capacity:
                self._lose(1, f"the queue and the overflow were full ({self.capacity} rows)")
                return
            self._accepted += 1
            if len(self._queue) < self.queue_size:
                self._queue.append(row)
                if len(self._queue) == 1:
                    self._first_at = time.monotonic()
                    self._wake.set()
                elif len(self._queue) >= self.batch_size:
                    self._wake.set()
            else:
                self._overflow.append(row)
                self.stats.overflowed += 1
                self._wake.set()
        except Exception:  # a bug here must not cost an answer
            log.exception("interaction log: could not queue a row")

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Open the store, replay the journal, start the writer (and the retention purge).

        A newer schema raises :class:`~bot.log.errors.SchemaTooNew`: the operator must act.
        Any other failure to open is logged and survived: rows go to the journal until the
        database can be opened.
        """
        if self._writer is not None:
            return
        try:
            await self.store.open()
            self._store_open = True
        except SchemaTooNew:
            raise
        except Exception as error:
            self._failed(_describe(error))
            log.warning(
                "interaction log: cannot open the database (%s); rows go to the journal %s until it can",
                self.stats.last_error,
                self.journal,
            )
        self.stats.in_journal = await asyncio.to_thread(self._count_journal)
        if self._store_open and self.stats.in_journal:
            await self._replay()
        self._writer = asyncio.create_task(self._run(), name="interaction-log-writer")
        if self.retention_days is not None:
            self._retention = asyncio.create_task(self._retain(), name="interaction-log-retention")

    async def close(self) -> None:
        """Drain every queued row into the database or the journal, then close the store."""
        if self._closed:
            return
        self._closing = True
        self._wake.set()
        if self._retention is not None:
            self._retention.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retention
        if self._writer is None:
            await self._run()  # never started: drain here
        else:
            try:
                await self._writer
            except Exception:
                log.exception("interaction log: the writer failed; draining the queue at close")
        # Rows logged while the writer task was finishing; _run returns without suspending when
        # there are none, so nothing can slip in between this and ``_closed``.
        await self._run()
        self._closed = True
        self._report(force=True)
        if self.stats.in_journal or self.stats.unwritten:
            log.warning(
                "interaction log closed: %d rows wait in the journal %s (written at the next start), %d rows lost",
                self.stats.in_journal,
                self.journal,
                self.stats.unwritten,
            )
        with contextlib.suppress(Exception):
            await self.store.close()
        self._store_open = False
        self._notify()

    async def __aenter__(self) -> InteractionLog:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def flush(self, timeout: float | None = None) -> None:
        """Wait until every row logged so far is written, journaled or (reported) lost."""
        target = self._accepted
        if self._settled >= target:
            return
        if self._writer is None or self._writer.done():
            raise RuntimeError("the interaction log is not running: call start() first")
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append((target, waiter))
        self._wake.set()
        await asyncio.wait_for(waiter, timeout)

    # -- conveniences that need the queue written first ------------------------------------

    async def rows_for(self, user: str) -> list[LogRow]:
        """``/privacy show``: every row of a pseudonym, including ones logged a moment ago."""
        await self.flush()
        return await self.store.rows_for(user)

    async def forget(self, user: str) -> int:
        """``/privacy forget``: writes the queue first so that no row of the user lands after the
        delete (rows of the user still in the journal are refused when it is replayed)."""
        await self.flush()
        return await self.store.forget(user)

    async def guild_stats(self, guild: str, days: int) -> Stats:
        """The store's :class:`~bot.log.api.Stats` with this writer's unwritten figures."""
        stats = await self.store.stats(guild, days)
        return replace(
            stats,
            unwritten=self.stats.in_journal + self.stats.unwritten,
            in_journal=self.stats.in_journal,
            lost=self.stats.unwritten,
        )

    def unanswered_log(self) -> Any:
        """The store as a :class:`bot.unanswered.UnansweredLog`, if it offers one."""
        return self.store.unanswered_log()  # type: ignore[attr-defined]

    # -- the writer task ----------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            if not self._queue and not self._overflow:
                self._notify()
                if self.stats.in_journal and self._replay_due():
                    await self._replay()  # the disk is idle: catch up
                    continue
                if self._closing:
                    return
                self._wake.clear()
                timeout = self._until_replay() if self.stats.in_journal else None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
                continue
            try:
                await self._gather()
                if self._overflow:
                    spilled, self._overflow = self._overflow, []
                    self._in_flight += len(spilled)
                    await self._to_journal(spilled, "the queue was full")
                batch = [self._queue.popleft() for _ in range(min(self.batch_size, len(self._queue)))]
                self._in_flight += len(batch)
                if self._queue:
                    self._first_at = 0.0  # left over from a full batch: due at once
                if batch:
                    await self._store(batch)
            except Exception:  # a bug in the writer must not stop the writing
                log.exception("interaction log: writer error")
                await asyncio.sleep(self._delay)
            self._notify()

    def _replay_due(self) -> bool:
        return self._until_replay() == 0.0

    def _until_replay(self) -> float:
        """Seconds until the journal may be replayed: after a failed replay, and while the
        database is refusing writes, not before the next probe."""
        due = self._next_replay if self._healthy else max(self._next_replay, self._next_probe)
        return max(0.0, due - time.monotonic())

    async def _gather(self) -> None:
        """Wait until a batch is full, the oldest row is ``flush_interval`` old, or someone is
        waiting (flush, close)."""
        while len(self._queue) < self.batch_size and not (self._overflow or self._closing or self._waiters):
            remaining = self._first_at + self.flush_interval - time.monotonic()
            if remaining <= 0:
                return
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), remaining)

    async def _store(self, batch: list[LogRow]) -> None:
        if not self._healthy and (self._closing or time.monotonic() < self._next_probe):
            await self._to_journal(batch, self.stats.last_error or "the database refused writes")
            return
        kept, error = await self._write(batch)
        self._settle(len(batch) - len(kept))  # rejected rows: lost, each counted and reported
        if error is not None:
            await self._to_journal(kept, error)
            return
        self._settle(len(kept))
        self.stats.written += len(kept)

    async def _write(self, rows: list[LogRow]) -> tuple[list[LogRow], str | None]:
        """Write rows to the store, retrying with backoff while it was healthy.

        Returns the rows kept (all but those rejected for their own values, each reported
        lost) and the error if the store refused them. A batch refused for a row's values
        (:data:`ROW_ERRORS`, or a row that cannot even be serialised) is not a database fault:
        the unserialisable rows are set aside and the rest written, row by row if need be.
        """
        attempts = 1 + (self.retries if self._healthy else 0)
        error = "unknown"
        attempt = 0
        while attempt < attempts:
            if attempt:
                await asyncio.sleep(min(self.backoff[0] * 2 ** (attempt - 1), self.backoff[1]))
            attempt += 1
            try:
                if not self._store_open:
                    await self.store.open()
                    self._store_open = True
                await self.store.write(rows)
            except SchemaTooNew as problem:
                error = _describe(problem)
                break
            except Exception as problem:
                error = _describe(problem)
                screened = self._screen(rows)
                if len(screened) < len(rows):  # a row that no store could take: try the rest at once
                    rows = screened
                    attempt -= 1
                    if not rows:
                        return rows, None
                    continue
                if isinstance(problem, ROW_ERRORS) and len(rows) > 1:
                    kept, error_each = await self._write_each(rows)
                    if error_each is None:
                        self._accepted_again()
                        return kept, None
                    rows, error = kept, error_each
                continue
            self._accepted_again()
            return rows, None
        self._failed(error)
        return rows, error

    async def _write_each(self, rows: list[LogRow]) -> tuple[list[LogRow], str | None]:
        """Write rows one at a time: a row refused for its own values is lost alone; any other
        error stops here (the database itself is failing) with the rows not yet written."""
        kept: list[LogRow] = []
        for index, row in enumerate(rows):
            try:
                await self.store.write([row])
            except ROW_ERRORS as problem:
                self._reject(row, _describe(problem))
            except Exception as problem:  # the rows written so far are kept too: ids make a rewrite harmless
                return kept + rows[index:], _describe(problem)
            else:
                kept.append(row)
        return kept, None

    def _screen(self, rows: list[LogRow]) -> list[LogRow]:
        """The rows that can be serialised (a journal line); the others are rejected."""
        kept = []
        for row in rows:
            try:
                to_json_line(row).encode("utf-8")
            except Exception as problem:
                self._reject(row, _describe(problem))
            else:
                kept.append(row)
        return kept

    def _reject(self, row: LogRow, problem: str) -> None:
        """One row whose own values cannot be stored: lost, counted and reported, alone."""
        self.stats.rejected += 1
        self._lose(1, f"row {getattr(row, 'id', '?')} ({getattr(row, 'command', '?')}) cannot be stored: {problem}")

    def _accepted_again(self) -> None:
        self.stats.batches += 1
        if not self._healthy:
            self._healthy = True
            self._delay = self.backoff[0]
            log.warning("interaction log: the database accepts writes again")

    def _failed(self, error: str) -> None:
        self.stats.failures += 1
        self.stats.last_error = error
        if self._healthy:
            log.warning(
                "interaction log: the database refused a batch (%s); rows go to the journal while it is tried "
                "again with backoff",
                error,
            )
        self._healthy = False
        self._next_probe = time.monotonic() + self._delay
        self._delay = min(self._delay * 2, self.backoff[1])

    def _settle(self, count: int) -> None:
        self._in_flight -= count
        self._settled += count

    def _notify(self) -> None:
        if not self._waiters:
            return
        waiting = []
        for target, waiter in self._waiters:
            if self._settled >= target or waiter.done():
                if not waiter.done():
                    waiter.set_result(None)
            else:
                waiting.append((target, waiter))
        self._waiters = waiting

    # -- the journal ----------------------------------------------------------------------

    async def _to_journal(self, rows: list[LogRow], reason: str) -> None:
        if not rows:
            return
        try:
            rejected = await asyncio.to_thread(self._append, rows)
        except Exception as error:
            problem = _describe(error)
            if self._closing:
                self._settle(len(rows))
                self._lose(len(rows), f"neither the database ({reason}) nor the journal ({problem}) took them")
                return
            # Both refused: keep the rows (oldest first) for another try after a pause.
            self._in_flight -= len(rows)
            self._queue.extendleft(reversed(rows))
            self._first_at = 0.0
            log.warning(
                "interaction log: the journal %s refused %d rows too (%s); keeping them in memory",
                self.journal,
                len(rows),
                problem,
            )
            await asyncio.sleep(self._delay)
            return
        for row, problem in rejected:
            self._reject(row, problem)
        journaled = len(rows) - len(rejected)
        self._settle(len(rows))
        self.stats.journaled += journaled
        self.stats.in_journal += journaled
        self._unreported_journaled += journaled
        self._journal_reason = reason
        self._report()

    def _append(self, rows: list[LogRow]) -> list[tuple[LogRow, str]]:
        """Append rows as JSON lines and fsync (runs in a thread); the rows that could not
        become a line, with why (they are left out: one bad row never refuses the others)."""
        lines: list[bytes] = []
        rejected: list[tuple[LogRow, str]] = []
        for row in rows:
            try:
                lines.append((to_json_line(row) + "\n").encode("utf-8"))
            except Exception as problem:
                rejected.append((row, _describe(problem)))
        if not lines:
            return rejected
        data = b"".join(lines)
        self.journal.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.journal, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)  # read: the last byte
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                data = b"\n" + data  # a line torn by a crash stays on its own line
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, size)  # no half-written batch: it will be journaled again whole
                raise
        finally:
            os.close(fd)
        return rejected

    def _count_journal(self) -> int:
        try:
            with open(self.journal, "rb") as file:
                return sum(1 for line in file if line.strip())
        except FileNotFoundError:
            return 0
        except OSError as error:
            log.warning("interaction log: cannot read the journal %s: %s", self.journal, _describe(error))
            return 0

    def _read_journal(self) -> tuple[list[LogRow], list[str]]:
        rows: list[LogRow] = []
        damaged: list[str] = []
        try:
            with open(self.journal, encoding="utf-8", errors="replace") as file:
                for line in file:
                    if not line.strip():
                        continue
                    try:
                        rows.append(from_json_line(line))
                    except (ValueError, KeyError, TypeError):
                        damaged.append(line.rstrip("\n"))
        except FileNotFoundError:
            pass
        return rows, damaged

    def _finish_replay(self, damaged: list[str]) -> None:
        """Keep unreadable lines beside the journal (``.rejected``), then empty the journal."""
        if damaged:
            rejected = self.journal.with_name(self.journal.name + ".rejected")
            fd = os.open(rejected, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, "".join(line + "\n" for line in damaged).encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
        os.truncate(self.journal, 0)

    async def _replay(self) -> bool:
        """Write the journal's rows to the database, then empty it; idempotent, so safe to repeat.

        Runs when the writer is otherwise idle (and at start-up), so a burst is never held up
        by catching up; a failure leaves the journal as it is and waits for the next pause.
        """
        try:
            rows, damaged = await asyncio.to_thread(self._read_journal)
        except Exception as error:
            log.warning("interaction log: cannot read the journal %s: %s", self.journal, _describe(error))
            return self._replay_failed()
        written = 0
        for start in range(0, len(rows), self.batch_size):
            kept, error = await self._write(rows[start : start + self.batch_size])
            if error is not None:
                return self._replay_failed()  # the journal stays as it is
            written += len(kept)
        try:
            await asyncio.to_thread(self._finish_replay, damaged)
        except Exception as error:  # rows are in; the journal will be replayed (harmlessly) again
            log.warning("interaction log: cannot empty the journal %s: %s", self.journal, _describe(error))
            return self._replay_failed()
        self.stats.replayed += written
        self.stats.written += written
        self.stats.in_journal = 0
        if damaged:
            self._lose(len(damaged), f"unreadable lines in the journal (kept in {self.journal}.rejected)")
        if rows:
            log.warning("interaction log: %d rows from the journal %s are now in the database", len(rows), self.journal)
        return True

    def _replay_failed(self) -> bool:
        self._next_replay = time.monotonic() + self._delay
        return False

    # -- retention ----------------------------------------------------------------------

    async def _retain(self) -> None:
        """Delete rows older than ``retention_days``, now and every ``retention_interval`` seconds."""
        assert self.retention_days is not None
        while True:
            if self._store_open:
                before = dt.datetime.now(dt.UTC) - dt.timedelta(days=self.retention_days)
                try:
                    purged = await self.store.purge(before)
                except Exception as error:
                    log.warning("interaction log: retention purge failed (%s); trying again later", _describe(error))
                else:
                    if purged:
                        log.info("interaction log: %d rows older than %d days deleted", purged, self.retention_days)
            await asyncio.sleep(self.retention_interval)

    # -- reporting ----------------------------------------------------------------------

    def _lose(self, count: int, reason: str) -> None:
        self.stats.unwritten += count
        self._unreported_lost += count
        self._lost_reason = reason
        self._report()

    def _report(self, *, force: bool = False) -> None:
        """One WARNING line with counts, at most once per ``warn_interval`` (and at close)."""
        if not (self._unreported_journaled or self._unreported_lost):
            return
        now = time.monotonic()
        if not force and now - self._reported_at < self.warn_interval:
            return
        self._reported_at = now
        if self._unreported_journaled:
            log.warning(
                "interaction log: %d rows went to the journal %s instead of the database (%s); "
                "%d rows wait there, to be written when the database takes them",
                self._unreported_journaled,
                self.journal,
                self._journal_reason,
                self.stats.in_journal,
            )
        if self._unreported_lost:
            log.warning(
                "interaction log: %d rows could not be written nor journaled and are lost (%s); %d lost in all",
                self._unreported_lost,
                self._lost_reason,
                self.stats.unwritten,
            )
        self._unreported_journaled = 0
        self._unreported_lost = 0


def _describe(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
