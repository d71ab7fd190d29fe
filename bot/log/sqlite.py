"""The interaction log on SQLite (aiosqlite): schema, migrations, queries, backup.

One connection, in WAL mode, so that readers (``/stats``, a backup) never wait for the
writer. Every statement is portable SQL (``ON CONFLICT … DO NOTHING``, ``TRUE``/``FALSE``,
``substr``, text timestamps in fixed-width UTC) so that a PostgreSQL store is a new class
with the same queries, not a rewrite; SQLite-only details (PRAGMAs, the backup API, the
file checks) stay in this module.

The schema is versioned in the ``meta`` table and migrated at start-up; a database newer
than this code understands is refused with :class:`SchemaTooNew` and left untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import datetime as dt
import io
import json
import logging
import os
import sqlite3
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Final

import aiosqlite

from bot.log.api import DayCount, LogRow, Stats
from bot.log.errors import SchemaTooNew, StoreUnavailable
from bot.log.rows import (
    format_time,
    from_record,
    options_json,
    parse_time,
    row_id,
    storable,
    storable_text,
    to_record,
    utc,
)
from bot.tutoring.scheduling import Attempt, CardState, StudentHistory
from bot.unanswered import Unanswered

log = logging.getLogger(__name__)

MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    # 1: interactions, per-server settings, forget tombstones.
    (
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """CREATE TABLE interactions (
            id TEXT PRIMARY KEY,
            at TEXT NOT NULL,
            kind TEXT NOT NULL,
            guild TEXT,
            channel TEXT,
            pseudonym TEXT NOT NULL,
            command TEXT NOT NULL,
            options TEXT NOT NULL DEFAULT '{}',
            outcome TEXT NOT NULL DEFAULT 'ok',
            latency_ms REAL,
            topic TEXT,
            confidence REAL,
            answered BOOLEAN,
            question TEXT
        )""",
        # /stats reads only this index (it covers the columns it groups by): 100,000 rows in tens of ms.
        "CREATE INDEX ix_interactions_guild_at ON interactions (guild, at, kind, command, outcome, topic, answered)",
        "CREATE INDEX ix_interactions_unanswered ON interactions (guild, at, question) WHERE answered = FALSE",
        "CREATE INDEX ix_interactions_pseudonym ON interactions (pseudonym)",
        "CREATE INDEX ix_interactions_at ON interactions (at)",
        "CREATE TABLE guild_settings (guild TEXT PRIMARY KEY, logging BOOLEAN NOT NULL)",
        "CREATE TABLE forgotten (pseudonym TEXT PRIMARY KEY, at TEXT NOT NULL)",
    ),
    # 2: practice (issue 11): graded attempts follow the log's retention; card states (FSRS)
    # are what the student asked the bot to remember, kept until /privacy forget.
    (
        """CREATE TABLE attempts (
            id TEXT PRIMARY KEY,
            at TEXT NOT NULL,
            pseudonym TEXT NOT NULL,
            guild TEXT,
            card TEXT NOT NULL,
            topic TEXT NOT NULL,
            kind TEXT NOT NULL,
            problem TEXT,
            given TEXT NOT NULL,
            correct BOOLEAN NOT NULL,
            mistakes TEXT NOT NULL DEFAULT '[]'
        )""",
        "CREATE INDEX ix_attempts_pseudonym ON attempts (pseudonym, at)",
        "CREATE INDEX ix_attempts_guild_at ON attempts (guild, at, card, correct)",
        "CREATE INDEX ix_attempts_at ON attempts (at)",
        # One row per (wrong attempt, catalogue tag): /stats counts tags with a plain GROUP BY,
        # portable SQL where a JSON array would need SQLite's json_each or PostgreSQL's jsonb.
        """CREATE TABLE attempt_mistakes (
            attempt TEXT NOT NULL,
            guild TEXT,
            at TEXT NOT NULL,
            tag TEXT NOT NULL,
            PRIMARY KEY (attempt, tag)
        )""",
        "CREATE INDEX ix_attempt_mistakes_guild_at ON attempt_mistakes (guild, at, tag)",
        "CREATE INDEX ix_attempt_mistakes_at ON attempt_mistakes (at)",
        """CREATE TABLE cards (
            pseudonym TEXT NOT NULL,
            card TEXT NOT NULL,
            topic TEXT NOT NULL,
            state TEXT NOT NULL,
            due TEXT NOT NULL,
            reps INTEGER NOT NULL,
            lapses INTEGER NOT NULL,
            last_review TEXT,
            PRIMARY KEY (pseudonym, card)
        )""",
    ),
    # 3: no raw Discord id of a DM channel (one per user: a quasi-identifier) on disk (issue 13).
    ("UPDATE interactions SET channel = NULL WHERE guild IS NULL AND channel IS NOT NULL",),
)
"""Schema migrations, oldest first: migration ``i`` takes the schema from version ``i`` to
``i + 1``. Append only; never edit a released one (databases in the field have run it)."""

SCHEMA_VERSION: Final = len(MIGRATIONS)

COLUMNS: Final = (
    "id, at, kind, guild, channel, pseudonym, command, options, outcome, latency_ms, topic, confidence, answered, "
    "question"
)

INSERT: Final = f"""
INSERT INTO interactions ({COLUMNS})
SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
WHERE NOT EXISTS (SELECT 1 FROM guild_settings s WHERE s.guild = ? AND s.logging = FALSE)
  AND NOT EXISTS (SELECT 1 FROM forgotten f WHERE f.pseudonym = ? AND f.at >= ?)
ON CONFLICT (id) DO NOTHING
"""
"""Idempotent (the id is the dedupe key, so a replayed journal adds nothing twice); rows of a
server whose logging is off, and rows older than a forget of their user (a journal replayed
after ``/privacy forget``), are not stored."""

ATTEMPT_COLUMNS: Final = "id, at, pseudonym, guild, card, topic, kind, problem, given, correct, mistakes"

INSERT_ATTEMPT: Final = f"""
INSERT INTO attempts ({ATTEMPT_COLUMNS})
SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
WHERE NOT EXISTS (SELECT 1 FROM guild_settings s WHERE s.guild = ? AND s.logging = FALSE)
  AND NOT EXISTS (SELECT 1 FROM forgotten f WHERE f.pseudonym = ? AND f.at >= ?)
ON CONFLICT (id) DO NOTHING
"""
"""The interaction log's rules for attempts: idempotent by id, none from a server whose logging
is off, none older than a forget of their user."""

INSERT_MISTAKE: Final = """
INSERT INTO attempt_mistakes (attempt, guild, at, tag)
SELECT id, guild, at, ? FROM attempts WHERE id = ?
ON CONFLICT (attempt, tag) DO NOTHING
"""

SAVE_CARD: Final = """
INSERT INTO cards (pseudonym, card, topic, state, due, reps, lapses, last_review)
SELECT ?, ?, ?, ?, ?, ?, ?, ?
WHERE NOT EXISTS (SELECT 1 FROM forgotten f WHERE f.pseudonym = ? AND f.at >= ?)
ON CONFLICT (pseudonym, card) DO UPDATE SET
    topic = excluded.topic, state = excluded.state, due = excluded.due, reps = excluded.reps,
    lapses = excluded.lapses, last_review = excluded.last_review
"""
"""Insert or replace a card state, unless it was reviewed before the student's last forget
(a save that arrives late must not bring erased progress back)."""

PRACTICE_EXPORT_COLUMNS: Final = ("card", "correct", "given", "mistakes")
"""Columns the export adds for attempt rows (empty on interaction rows)."""

UNANSWERED_CACHE: Final = 1000
MAX_PAGES: Final = 4_294_967_294  # SQLite's ceiling: "no limit"


def _parameters(row: LogRow) -> tuple[Any, ...]:
    record = to_record(storable(row))  # the writer cleaned it already; a direct write is cleaned here
    return (
        record["id"],
        record["at"],
        record["kind"],
        record["guild"],
        record["channel"],
        record["user"],
        record["command"],
        options_json(record["options"]),
        record["outcome"],
        record["latency_ms"],
        record["topic"],
        record["confidence"],
        record["answered"],
        record["question"],
        record["guild"],
        record["user"],
        record["at"],
    )


def _row(values: Sequence[Any]) -> LogRow:
    names = [name.strip() for name in COLUMNS.split(",")]
    record = dict(zip(names, values, strict=True))
    record["user"] = record.pop("pseudonym")
    return from_record(record)


def _attempt_parameters(attempt: Attempt) -> tuple[Any, ...]:
    attempt = storable(attempt)  # the typed answer is the student's own text: lone surrogates replaced
    at = format_time(attempt.at)
    problem = None if attempt.problem is None else options_json(dict(attempt.problem))
    return (
        attempt.id,
        at,
        attempt.user,
        attempt.guild,
        attempt.card,
        attempt.topic,
        attempt.kind,
        problem,
        attempt.given,
        bool(attempt.correct),
        json.dumps(list(attempt.mistakes)),
        attempt.guild,
        attempt.user,
        at,
    )


def _attempt(values: Sequence[Any]) -> Attempt:
    ident, at, user, guild, card, topic, kind, problem, given, correct, mistakes = values
    return Attempt(
        id=str(ident),
        at=parse_time(at),
        user=str(user),
        guild=guild,
        card=str(card),
        topic=str(topic),
        kind=kind,
        problem=None if problem is None else json.loads(problem),
        given=str(given),
        correct=bool(correct),
        mistakes=tuple(str(tag) for tag in json.loads(mistakes or "[]")),
    )


def _card(values: Sequence[Any]) -> CardState:
    card, topic, state, due, reps, lapses, last_review = values
    return CardState(
        card=str(card),
        topic=str(topic),
        fsrs=json.loads(state),
        due=parse_time(due),
        reps=int(reps),
        lapses=int(lapses),
        last_review=None if last_review is None else parse_time(last_review),
    )


def _since(days: int, now: dt.datetime | None) -> str:
    """Midnight UTC ``days - 1`` days ago: ``days=1`` is today, ``days=7`` today and the six before."""
    today = utc(now or dt.datetime.now(dt.UTC)).date()
    start = dt.datetime.combine(today - dt.timedelta(days=days - 1), dt.time(), tzinfo=dt.UTC)
    return format_time(start)


def _cell(value: Any) -> Any:
    """A CSV cell a spreadsheet will not run: text that starts like a formula gets a quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


class SqliteStore:
    """:class:`~bot.log.api.LogStore` on one SQLite file.

    ``read_only`` opens the file with SQLite's ``mode=ro`` URI and ``max_page_count`` caps the
    file's size on this connection: both are ways for tests (which run as root, so file
    permissions do not bite) to make a database refuse writes, the way a read-only mount or
    a full disk would.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        read_only: bool = False,
        max_page_count: int | None = None,
        busy_timeout_ms: int = 1000,
        synchronous: str = "FULL",
    ) -> None:
        if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, not {synchronous!r}")
        self.path = Path(path)
        self.read_only = read_only
        self.max_page_count = max_page_count
        self.busy_timeout_ms = busy_timeout_ms
        # FULL: each commit syncs the WAL, so a committed batch survives a power cut too; the
        # writer commits in batches, which keeps the syncs few.
        self.synchronous = synchronous.upper()
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._identity: tuple[int, int] | None = None
        self._recent: deque[Unanswered] = deque(maxlen=UNANSWERED_CACHE)
        self._sink: Callable[[LogRow], None] | None = None
        self._unwritten: Callable[[], tuple[int, int]] | None = None

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r}, read_only={self.read_only})"

    @property
    def is_open(self) -> bool:
        return self._conn is not None

    # -- wiring -------------------------------------------------------------------------

    def bind(self, sink: Callable[[LogRow], None], unwritten: Callable[[], tuple[int, int]]) -> None:
        """Called by the :class:`~bot.log.writer.InteractionLog` that owns this store: rows the
        store makes itself (unanswered questions) go through its queue, and ``stats`` reports
        its figures of rows waiting in the journal and rows lost."""
        self._sink = sink
        self._unwritten = unwritten

    def unanswered_log(self) -> StoredUnanswered:
        """This store as a :class:`bot.unanswered.UnansweredLog` (``record`` never blocks)."""
        return StoredUnanswered(self)

    # -- lifecycle ----------------------------------------------------------------------

    async def open(self) -> None:
        """Connect, set WAL mode, and migrate the schema (or refuse a newer one)."""
        async with self._lock:
            if self._conn is None:
                await self._connect()

    async def close(self) -> None:
        async with self._lock:
            await self._disconnect()

    async def _connect(self) -> None:
        if self.read_only:
            target = self.path.resolve().as_uri() + "?mode=ro"
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            target = self.path.resolve().as_uri()
        conn = await aiosqlite.connect(target, uri=True, isolation_level=None)
        try:
            await conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            if not self.read_only:
                # Deleted content is overwritten, not left in free pages: what /privacy forget, the
                # retention purge and migration 3 remove is gone from the file too.
                await conn.execute("PRAGMA secure_delete = ON")
                await conn.execute("PRAGMA journal_mode = WAL")
                await conn.execute(f"PRAGMA synchronous = {self.synchronous}")
            if self.max_page_count is not None:
                await conn.execute(f"PRAGMA max_page_count = {int(self.max_page_count)}")
            await self._migrate(conn)
            self._conn = conn
            self._identity = self._file_identity()
            await self._load_recent()
        except BaseException:
            self._conn = None
            await conn.close()
            raise

    async def _disconnect(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()

    async def _migrate(self, conn: aiosqlite.Connection) -> None:
        version = await _schema_version(conn)
        if version > SCHEMA_VERSION:
            raise SchemaTooNew(
                f"the interaction log {self.path} has schema version {version}, newer than version "
                f"{SCHEMA_VERSION} that this membrane-tutor understands: upgrade membrane-tutor, or point "
                "TUTOR_DB at another file. The database was left untouched."
            )
        if version == SCHEMA_VERSION:
            return
        if self.read_only:
            raise StoreUnavailable(
                f"the interaction log {self.path} has schema version {version} and needs migrating to "
                f"{SCHEMA_VERSION}, but it is open read-only"
            )
        await conn.execute("BEGIN IMMEDIATE")
        try:
            version = await _schema_version(conn)  # another process may have migrated meanwhile
            if version > SCHEMA_VERSION:
                raise SchemaTooNew(f"{self.path} was migrated to version {version} by a newer membrane-tutor")
            for number in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[number]:
                    await conn.execute(statement)
                log.info("interaction log %s: schema migrated to version %d", self.path, number + 1)
            await conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(SCHEMA_VERSION),),
            )
            await conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                await conn.execute("ROLLBACK")
            raise

    def _file_identity(self) -> tuple[int, int] | None:
        try:
            status = os.stat(self.path)
        except OSError:
            return None
        return status.st_dev, status.st_ino

    async def _check_file(self) -> None:
        """Open the database again if its file was deleted or replaced while open.

        SQLite keeps writing to a deleted file's inode, where every row would vanish at the
        next restart; a stat per batch notices that and starts a fresh file instead.
        """
        if self.read_only or self._conn is None or self._file_identity() == self._identity:
            return
        log.warning(
            "interaction log: the database file %s was deleted or replaced while open; creating it again", self.path
        )
        await self._disconnect()
        await self._connect()

    def _connection(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise StoreUnavailable(f"the interaction log {self.path} is not open")
        return self._conn

    async def _fetchall(self, sql: str, parameters: Sequence[Any] = ()) -> list[Any]:
        async with self._connection().execute(sql, parameters) as cursor:
            return list(await cursor.fetchall())

    async def _transaction(self, statements: Callable[[aiosqlite.Connection], Any]) -> Any:
        conn = self._connection()
        await conn.execute("BEGIN IMMEDIATE")
        try:
            result = await statements(conn)
            await conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                await conn.execute("ROLLBACK")
            raise
        return result

    # -- writing ------------------------------------------------------------------------

    async def write(self, rows: list[LogRow]) -> None:
        """Store rows in one transaction; an id already stored is skipped (idempotent)."""
        if not rows:
            return
        parameters = [_parameters(row) for row in rows]
        async with self._lock:
            await self._check_file()

            async def insert(conn: aiosqlite.Connection) -> None:
                await conn.executemany(INSERT, parameters)

            await self._transaction(insert)
            if not self.read_only and self._file_identity() != self._identity:
                await self._check_file()  # deleted during the commit: the batch went with it, write it again
                await self._transaction(insert)

    async def forget(self, user: str) -> int:
        """Delete every row of this pseudonym (interactions, attempts, card states) and remember
        the forget so that rows of it still waiting in a journal, or a late attempt or card
        save, are not stored afterwards (until the retention purge); returns how many rows."""
        now = format_time(dt.datetime.now(dt.UTC))

        async def delete(conn: aiosqlite.Connection) -> int:
            cursor = await conn.execute("DELETE FROM interactions WHERE pseudonym = ?", (user,))
            deleted = cursor.rowcount
            await conn.execute(
                "DELETE FROM attempt_mistakes WHERE attempt IN (SELECT id FROM attempts WHERE pseudonym = ?)", (user,)
            )
            for table in ("attempts", "cards"):
                cursor = await conn.execute(f"DELETE FROM {table} WHERE pseudonym = ?", (user,))
                deleted += cursor.rowcount
            await conn.execute(
                "INSERT INTO forgotten (pseudonym, at) VALUES (?, ?) "
                "ON CONFLICT (pseudonym) DO UPDATE SET at = excluded.at",
                (user, now),
            )
            return deleted

        async with self._lock:
            deleted: int = await self._transaction(delete)
        return deleted

    async def purge(self, before: dt.datetime) -> int:
        """Delete interactions, attempts (and forget tombstones) older than ``before``: the
        retention period. Card states stay: they are kept until the student erases them."""
        cutoff = format_time(before)

        async def delete(conn: aiosqlite.Connection) -> int:
            cursor = await conn.execute("DELETE FROM interactions WHERE at < ?", (cutoff,))
            deleted = cursor.rowcount
            await conn.execute("DELETE FROM attempt_mistakes WHERE at < ?", (cutoff,))
            cursor = await conn.execute("DELETE FROM attempts WHERE at < ?", (cutoff,))
            await conn.execute("DELETE FROM forgotten WHERE at < ?", (cutoff,))
            return deleted + cursor.rowcount

        async with self._lock:
            deleted: int = await self._transaction(delete)
        if deleted:
            self._recent = deque((item for item in self._recent if item.at >= before), maxlen=UNANSWERED_CACHE)
        return deleted

    async def record_attempt(self, attempt: Attempt) -> bool:
        """Store a graded attempt and its mistake tags; True when this call stored it (False: a
        duplicate id, a server whose logging is off, or an attempt from before a forget)."""
        parameters = _attempt_parameters(attempt)

        async def insert(conn: aiosqlite.Connection) -> bool:
            cursor = await conn.execute(INSERT_ATTEMPT, parameters)
            if cursor.rowcount != 1:
                return False
            await conn.executemany(INSERT_MISTAKE, [(tag, attempt.id) for tag in dict.fromkeys(attempt.mistakes)])
            return True

        async with self._lock:
            await self._check_file()
            stored: bool = await self._transaction(insert)
        return stored

    async def save_card(self, user: str, state: CardState) -> None:
        """Insert or replace this pseudonym's state of ``state.card`` (skipped when the review
        predates the user's last forget)."""
        reviewed = format_time(state.last_review) if state.last_review else ""
        parameters = (
            user,
            storable_text(state.card),
            storable_text(state.topic),
            json.dumps(state.fsrs, sort_keys=True),
            format_time(state.due),
            int(state.reps),
            int(state.lapses),
            reviewed or None,
            user,
            reviewed,
        )

        async def upsert(conn: aiosqlite.Connection) -> None:
            await conn.execute(SAVE_CARD, parameters)

        async with self._lock:
            await self._check_file()
            await self._transaction(upsert)

    async def history(self, user: str) -> StudentHistory:
        """The pseudonym's card states and the attempts retention has kept, oldest first."""
        async with self._lock:
            cards = await self._fetchall(
                "SELECT card, topic, state, due, reps, lapses, last_review FROM cards WHERE pseudonym = ? "
                "ORDER BY card",
                (user,),
            )
            attempts = await self._fetchall(
                f"SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE pseudonym = ? ORDER BY at, id", (user,)
            )
        states = [_card(values) for values in cards]
        return StudentHistory({state.card: state for state in states}, tuple(_attempt(values) for values in attempts))

    async def set_logging(self, guild: str, enabled: bool) -> None:
        async def upsert(conn: aiosqlite.Connection) -> None:
            await conn.execute(
                "INSERT INTO guild_settings (guild, logging) VALUES (?, ?) "
                "ON CONFLICT (guild) DO UPDATE SET logging = excluded.logging",
                (guild, enabled),
            )

        async with self._lock:
            await self._transaction(upsert)

    # -- reading ------------------------------------------------------------------------

    async def logging_enabled(self, guild: str) -> bool:
        """On unless the server switched it off."""
        async with self._lock:
            rows = await self._fetchall("SELECT logging FROM guild_settings WHERE guild = ?", (guild,))
        return bool(rows[0][0]) if rows else True

    async def servers(self, days: int, *, now: dt.datetime | None = None) -> list[tuple[str, int]]:
        if days < 1:
            raise ValueError("days must be at least 1")
        async with self._lock:
            rows = await self._fetchall(
                "SELECT guild, COUNT(*) AS n FROM interactions WHERE at >= ? AND kind = 'interaction' "
                "AND guild IS NOT NULL GROUP BY guild ORDER BY n DESC, guild",
                (_since(days, now),),
            )
        return [(str(guild), int(count)) for guild, count in rows]

    async def stats(self, guild: str, days: int, *, limit: int = 10, now: dt.datetime | None = None) -> Stats:
        """What ``/stats show`` reports: three grouped queries over the ``(guild, at)`` index."""
        if days < 1:
            raise ValueError("days must be at least 1")
        since = _since(days, now)
        scope = "FROM interactions WHERE guild = ? AND at >= ? AND kind = 'interaction'"
        async with self._lock:
            grouped = await self._fetchall(
                f"SELECT substr(at, 1, 10) AS day, command, outcome, COUNT(*) {scope} GROUP BY day, command, outcome",
                (guild, since),
            )
            topics = await self._fetchall(
                f"SELECT topic, COUNT(*) AS n {scope} AND topic IS NOT NULL AND outcome = 'ok' "
                "AND (answered IS NULL OR answered = TRUE) GROUP BY topic ORDER BY n DESC, topic LIMIT ?",
                (guild, since, limit),
            )
            unanswered = await self._fetchall(
                f"SELECT question, COUNT(*) AS n {scope} AND answered = FALSE AND question IS NOT NULL "
                "GROUP BY question ORDER BY n DESC, question LIMIT ?",
                (guild, since, limit),
            )
            attempts, missed, mistakes = await self._practice_stats(guild, since, limit)
        by_command: dict[str, int] = {}
        by_day: dict[tuple[str, str], int] = {}
        errors: dict[str, int] = {}
        for day, command, outcome, count in grouped:
            by_command[command] = by_command.get(command, 0) + count
            by_day[day, command] = by_day.get((day, command), 0) + count
            if outcome != "ok":
                errors[outcome] = errors.get(outcome, 0) + count
        in_journal, lost = self._unwritten() if self._unwritten else (0, 0)
        return Stats(
            days=days,
            total=sum(by_command.values()),
            by_command=dict(sorted(by_command.items(), key=lambda item: (-item[1], item[0]))),
            by_day=[DayCount(dt.date.fromisoformat(day), command, n) for (day, command), n in sorted(by_day.items())],
            top_topics=[(topic, n) for topic, n in topics],
            unanswered=[(question, n) for question, n in unanswered],
            errors=dict(sorted(errors.items(), key=lambda item: (-item[1], item[0]))),
            unwritten=in_journal + lost,
            in_journal=in_journal,
            lost=lost,
            attempts=attempts,
            missed=missed,
            mistakes=mistakes,
        )

    async def _practice_stats(
        self, guild: str, since: str, limit: int
    ) -> tuple[int, list[tuple[str, int, int]], list[tuple[str, int]]]:
        """Graded attempts in the period, the most-missed cards (wrong, of how many) and the
        commonest mistakes by catalogue tag; the caller holds the lock."""
        wrong = "SUM(CASE WHEN correct THEN 0 ELSE 1 END)"
        total = await self._fetchall("SELECT COUNT(*) FROM attempts WHERE guild = ? AND at >= ?", (guild, since))
        missed = await self._fetchall(
            f"SELECT card, {wrong} AS wrong, COUNT(*) AS n FROM attempts WHERE guild = ? AND at >= ? "
            f"GROUP BY card HAVING {wrong} > 0 ORDER BY wrong DESC, n DESC, card LIMIT ?",
            (guild, since, limit),
        )
        tags = await self._fetchall(
            "SELECT tag, COUNT(*) AS n FROM attempt_mistakes WHERE guild = ? AND at >= ? "
            "GROUP BY tag ORDER BY n DESC, tag LIMIT ?",
            (guild, since, limit),
        )
        return (
            int(total[0][0]),
            [(str(card), int(bad), int(n)) for card, bad, n in missed],
            [(str(tag), int(n)) for tag, n in tags],
        )

    async def export_csv(
        self, guild: str, days: int, *, include_user: bool = False, now: dt.datetime | None = None
    ) -> str:
        """The server's interactions and graded attempts of the last ``days`` days as CSV, oldest
        first. Pseudonyms are left out unless asked for: the class's difficulties do not need to
        know who. An attempt row has kind ``attempt``, its problem in ``options`` and its own
        columns (``card``, ``correct``, ``given``, ``mistakes``: tags separated by spaces)."""
        if days < 1:
            raise ValueError("days must be at least 1")
        since = _since(days, now)
        user = ["pseudonym"] if include_user else []
        names = [
            "id",
            "at",
            "kind",
            "channel",
            *user,
            "command",
            "options",
            "outcome",
            "latency_ms",
            "topic",
            "confidence",
            "answered",
            "question",
        ]
        async with self._lock:
            rows = await self._fetchall(
                f"SELECT {', '.join(names)} FROM interactions WHERE guild = ? AND at >= ? ORDER BY at, id",
                (guild, since),
            )
            attempts = await self._fetchall(
                f"SELECT id, at, {''.join(name + ', ' for name in user)}problem, topic, card, correct, given, "
                "mistakes FROM attempts WHERE guild = ? AND at >= ? ORDER BY at, id",
                (guild, since),
            )
        header = [*names, *PRACTICE_EXPORT_COLUMNS]
        answered_at = names.index("answered")
        records: list[list[Any]] = []
        for values in rows:
            cells = list(values)
            if cells[answered_at] is not None:
                cells[answered_at] = "true" if cells[answered_at] else "false"
            records.append([*cells, *([None] * len(PRACTICE_EXPORT_COLUMNS))])
        for ident, at, *who, problem, topic, card, correct, given, mistakes in attempts:
            record = dict(zip(names, [ident, at, "attempt", None, *who], strict=False))
            record.update(options=problem, topic=topic)
            tags = " ".join(str(tag) for tag in json.loads(mistakes or "[]"))
            records.append([record.get(name) for name in names] + [card, "true" if correct else "false", given, tags])
        records.sort(key=lambda cells: (cells[1], cells[0]))
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        for cells in records:
            writer.writerow([_cell(value) for value in cells])
        return buffer.getvalue()

    async def rows_for(self, user: str) -> list[LogRow]:
        """Every row kept about one pseudonym (``/privacy show``), oldest first."""
        async with self._lock:
            rows = await self._fetchall(
                f"SELECT {COLUMNS} FROM interactions WHERE pseudonym = ? ORDER BY at, id", (user,)
            )
        return [_row(values) for values in rows]

    async def recent_unanswered(self, limit: int = 50) -> list[Unanswered]:
        """The newest questions the notes could not answer (``kind = 'unanswered'`` rows)."""
        async with self._lock:
            rows = await self._fetchall(
                "SELECT question, options, confidence, at FROM interactions "
                "WHERE kind = 'unanswered' AND question IS NOT NULL ORDER BY at DESC, id DESC LIMIT ?",
                (limit,),
            )
        return [_unanswered(*values) for values in rows]

    async def _load_recent(self) -> None:
        rows = await self._fetchall(
            "SELECT question, options, confidence, at FROM interactions "
            "WHERE kind = 'unanswered' AND question IS NOT NULL ORDER BY at DESC, id DESC LIMIT ?",
            (UNANSWERED_CACHE,),
        )
        self._recent = deque(reversed([_unanswered(*values) for values in rows]), maxlen=UNANSWERED_CACHE)

    async def count(self) -> int:
        async with self._lock:
            rows = await self._fetchall("SELECT COUNT(*) FROM interactions")
        return int(rows[0][0])

    async def schema_version(self) -> int:
        async with self._lock:
            return await _schema_version(self._connection())

    async def integrity_check(self) -> str:
        async with self._lock:
            rows = await self._fetchall("PRAGMA integrity_check")
        return "; ".join(str(values[0]) for values in rows)

    # -- operations ---------------------------------------------------------------------

    async def backup(self, target: str) -> None:
        """A consistent copy of the database while the bot runs, with SQLite's backup API.

        The copy is read through a connection of its own (WAL lets it read a snapshot while
        the writer goes on), written to a temporary file, switched out of WAL mode so that it
        is one self-contained file, and renamed into place: ``target`` is never half-written.
        """
        self._connection()  # refuse when closed, like every other call
        await asyncio.to_thread(_backup_file, self.path, Path(target), self.busy_timeout_ms)

    async def set_max_page_count(self, pages: int | None) -> int:
        """Test hook: cap (or, with ``None``, uncap) the file's size on this connection, the way
        a full disk would; returns the limit SQLite applied."""
        self.max_page_count = pages
        async with self._lock:
            rows = await self._fetchall(f"PRAGMA max_page_count = {MAX_PAGES if pages is None else int(pages)}")
        return int(rows[0][0])

    async def page_count(self) -> int:
        async with self._lock:
            rows = await self._fetchall("PRAGMA page_count")
        return int(rows[0][0])


class StoredUnanswered:
    """The store as a :class:`bot.unanswered.UnansweredLog`.

    ``record`` runs on the reply path, so it only queues a row (through the owning
    :class:`~bot.log.writer.InteractionLog`) and updates an in-memory copy of the newest
    questions; ``recent`` reads that copy, which ``open()`` loads from the database, so
    nothing lives only in memory.
    """

    def __init__(self, store: SqliteStore) -> None:
        self._store = store
        self._tasks: set[asyncio.Task[None]] = set()

    def record(self, question: str, nearest: tuple[str, ...], confidence: float) -> bool:
        """Queue the row; True when it is on its way to the database (False: it could not be)."""
        at = dt.datetime.now(dt.UTC)
        row = LogRow(
            id=row_id(),
            at=at,
            kind="unanswered",
            guild=None,
            channel=None,
            user="",  # never who asked
            command="ask",
            options={"nearest": list(nearest)},
            confidence=confidence,
            answered=False,
            question=question,
        )
        self._store._recent.append(Unanswered(question, tuple(nearest), confidence, at))
        if self._store._sink is not None:
            self._store._sink(row)
            return True
        try:  # a store used without an InteractionLog: write in the background
            task = asyncio.get_running_loop().create_task(self._store.write([row]))
        except RuntimeError:
            log.warning("unanswered question not stored: no event loop and no interaction log")
            return False
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return True

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("unanswered question not stored: %s", task.exception())

    def recent(self, limit: int = 50) -> list[Unanswered]:
        """The newest first."""
        items = list(self._store._recent)
        return items[::-1][:limit]


def _unanswered(question: str, options: str, confidence: float | None, at: str) -> Unanswered:
    try:
        nearest = tuple(str(slug) for slug in json.loads(options).get("nearest", ()))
    except (ValueError, AttributeError):
        nearest = ()
    return Unanswered(question, nearest, float(confidence or 0.0), dt.datetime.fromisoformat(at))


async def _schema_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'") as cursor:
        if await cursor.fetchone() is None:
            return 0
    async with conn.execute("SELECT value FROM meta WHERE key = 'schema_version'") as cursor:
        found = await cursor.fetchone()
    return int(found[0]) if found else 0


def _backup_file(source: Path, target: Path, busy_timeout_ms: int) -> None:
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    origin = sqlite3.connect(source.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        origin.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        copy = sqlite3.connect(temporary)
        try:
            origin.backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")
            copy.commit()
        finally:
            copy.close()
    finally:
        origin.close()
    os.replace(temporary, target)


def parameters_for(rows: Iterable[LogRow]) -> list[tuple[Any, ...]]:
    """The INSERT's parameters for ``rows`` (for bulk loads in benchmarks and tests)."""
    return [_parameters(row) for row in rows]
