"""Practice progress in storage: migration 2 on an existing database, attempts and card states
through the log's interface (SQLite on ``tmp_path``, and the memory store for the terminal),
forget, retention, the logging switch, and what /stats and the export get from attempts.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

import bot.log.sqlite as sqlite_module
from bot.log import SCHEMA_VERSION, SqliteStore
from bot.log.api import LogRow
from bot.tutoring.memory import MemoryProgress
from bot.tutoring.scheduling import Attempt, StudentHistory, review_attempt

NOW = dt.datetime(2025, 3, 14, 12, 0, tzinfo=dt.UTC)
PROBLEM = {"command": "nernst", "options": {"ion": "Ca", "inside": 0.0001, "outside": 2, "temperature": 37}}


def make_attempt(
    n: int,
    *,
    user: str = "p-1",
    card: str = "nernst:Ca",
    correct: bool = False,
    mistakes: tuple[str, ...] = (),
    at: dt.datetime = NOW,
    guild: str | None = "g1",
    topic: str = "nernst-equation",
) -> Attempt:
    concept = card.startswith("concept:")
    return Attempt(
        id=f"attempt-{n}",
        at=at,
        user=user,
        guild=guild,
        card=card,
        topic=topic,
        kind="concept" if concept else "numeric",
        problem=None if concept else PROBLEM,
        given="b" if concept else "-64.6 mV",
        correct=correct,
        mistakes=mistakes,
    )


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = SqliteStore(tmp_path / "log.db")
    await store.open()
    yield store
    await store.close()


@pytest.fixture(params=["sqlite", "memory"])
async def progress(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqliteStore | MemoryProgress]:
    """Both implementations of the progress interface, held to the same rules."""
    if request.param == "memory":
        yield MemoryProgress()
        return
    store = SqliteStore(tmp_path / "log.db")
    await store.open()
    yield store
    await store.close()


async def practise(store: SqliteStore | MemoryProgress, attempt: Attempt) -> None:
    """What the adapter does after grading: record the attempt, review its card, save it."""
    history = await store.history(attempt.user)
    await store.record_attempt(attempt)
    await store.save_card(attempt.user, review_attempt(history, attempt))


# --- the migration -----------------------------------------------------------------------------


def _version_1_database(path: Path) -> None:
    """A database exactly as the released version 1 left it, with one interaction in it."""
    with sqlite3.connect(path) as raw:
        for statement in sqlite_module.MIGRATIONS[0]:
            raw.execute(statement)
        raw.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '1')")
        raw.execute(
            "INSERT INTO interactions (id, at, kind, guild, pseudonym, command) VALUES (?, ?, ?, ?, ?, ?)",
            ("old-row", "2025-03-01T09:00:00.000000Z", "interaction", "g1", "p-1", "nernst"),
        )


async def test_migration_2_upgrades_an_existing_version_1_file_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    _version_1_database(path)
    store = SqliteStore(path)
    await store.open()
    try:
        assert await store.schema_version() == SCHEMA_VERSION
        assert [row.id for row in await store.rows_for("p-1")] == ["old-row"]
        assert await store.record_attempt(make_attempt(1, mistakes=("valence-ignored",)))
        await practise(store, make_attempt(2, correct=True, at=NOW + dt.timedelta(minutes=1)))
        history = await store.history("p-1")
        assert [attempt.id for attempt in history.attempts] == ["attempt-1", "attempt-2"]
        assert list(history.cards) == ["nernst:Ca"]
        assert await store.integrity_check() == "ok"
    finally:
        await store.close()
    with sqlite3.connect(path) as raw:
        tables = {name for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"attempts", "attempt_mistakes", "cards", "interactions"} <= tables
    reopened = SqliteStore(path)  # opening again migrates nothing and loses nothing
    await reopened.open()
    assert len((await reopened.history("p-1")).attempts) == 2
    await reopened.close()


# --- attempts and cards, in both stores --------------------------------------------------------


async def test_attempts_and_card_states_round_trip(progress: SqliteStore | MemoryProgress) -> None:
    first = make_attempt(1, mistakes=("valence-ignored", "sign-flipped"))
    second = make_attempt(2, correct=True, at=NOW + dt.timedelta(minutes=5))
    concept = make_attempt(3, card="concept:leak-channels:1", correct=True, topic="leak-channels")
    for attempt in (second, first, concept):  # stored out of order, read back oldest first
        await practise(progress, attempt)
    history = await progress.history("p-1")
    assert history.attempts == (first, concept, second)  # by time, then id
    assert history.attempts[0].problem == PROBLEM and history.attempts[0].mistakes == (
        "valence-ignored",
        "sign-flipped",
    )
    assert set(history.cards) == {"nernst:Ca", "concept:leak-channels:1"}
    state = history.cards["nernst:Ca"]
    assert state.reps == 2 and state.topic == "nernst-equation" and state.due.tzinfo is not None
    assert await progress.history("nobody") == StudentHistory()


async def test_a_card_state_survives_the_store_exactly(progress: SqliteStore | MemoryProgress) -> None:
    attempt = make_attempt(1)
    state = review_attempt(None, attempt)
    await progress.save_card("p-1", state)
    assert (await progress.history("p-1")).cards == {"nernst:Ca": state}
    later = review_attempt(StudentHistory({"nernst:Ca": state}), make_attempt(2, at=NOW + dt.timedelta(hours=1)))
    await progress.save_card("p-1", later)  # replaces, never duplicates
    assert (await progress.history("p-1")).cards == {"nernst:Ca": later}


async def test_an_attempt_is_stored_once(progress: SqliteStore | MemoryProgress) -> None:
    assert await progress.record_attempt(make_attempt(1, mistakes=("sign-flipped",)))
    assert not await progress.record_attempt(make_attempt(1, mistakes=("sign-flipped",)))
    assert len((await progress.history("p-1")).attempts) == 1


async def test_forget_erases_attempts_and_cards_of_that_student_only(progress: SqliteStore | MemoryProgress) -> None:
    for n, user in enumerate(("p-1", "p-1", "p-2")):
        await practise(progress, make_attempt(n, user=user, at=NOW + dt.timedelta(minutes=n)))
    erased = await progress.forget("p-1")
    assert erased == 3  # two attempts and one card state
    assert await progress.history("p-1") == StudentHistory()
    other = await progress.history("p-2")
    assert len(other.attempts) == 1 and list(other.cards) == ["nernst:Ca"]


async def test_retention_purges_old_attempts_never_cards(progress: SqliteStore | MemoryProgress) -> None:
    old = make_attempt(1, at=NOW - dt.timedelta(days=200))
    fresh = make_attempt(2, correct=True, at=NOW - dt.timedelta(days=1))
    await practise(progress, old)
    await practise(progress, fresh)
    assert await progress.purge(NOW - dt.timedelta(days=180)) == 1
    history = await progress.history("p-1")
    assert [attempt.id for attempt in history.attempts] == ["attempt-2"]
    assert history.cards["nernst:Ca"].reps == 2  # the card remembers both reviews


# --- rules only the database enforces ------------------------------------------------------------


async def test_after_a_forget_late_writes_do_not_bring_progress_back(sqlite_store: SqliteStore) -> None:
    before = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    late = make_attempt(1, at=before)
    late_state = review_attempt(None, late)
    await sqlite_store.forget("p-1")
    assert not await sqlite_store.record_attempt(late)  # e.g. a request that was in flight
    await sqlite_store.save_card("p-1", late_state)
    assert await sqlite_store.history("p-1") == StudentHistory()
    after = make_attempt(2, at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1))
    await practise(sqlite_store, after)  # practice after the forget is kept again
    history = await sqlite_store.history("p-1")
    assert [attempt.id for attempt in history.attempts] == ["attempt-2"] and list(history.cards) == ["nernst:Ca"]


async def test_forget_counts_interactions_too(sqlite_store: SqliteStore) -> None:
    await sqlite_store.write(
        [LogRow(id="r1", at=NOW, kind="interaction", guild="g1", channel="c", user="p-1", command="quiz")]
    )
    await practise(sqlite_store, make_attempt(1))
    assert await sqlite_store.forget("p-1") == 3  # the interaction, the attempt, the card


async def test_a_server_with_logging_off_keeps_no_attempts(sqlite_store: SqliteStore) -> None:
    await sqlite_store.set_logging("g1", False)
    assert not await sqlite_store.record_attempt(make_attempt(1, guild="g1", mistakes=("sign-flipped",)))
    assert await sqlite_store.record_attempt(make_attempt(2, guild="g2"))
    assert await sqlite_store.record_attempt(make_attempt(3, guild=None))  # a DM
    assert [attempt.id for attempt in (await sqlite_store.history("p-1")).attempts] == ["attempt-2", "attempt-3"]
    assert (await sqlite_store.stats("g1", 30, now=NOW)).mistakes == []


# --- what instructors get ----------------------------------------------------------------------


async def class_attempts(store: SqliteStore) -> None:
    """A class's week: Ca²⁺ missed most (valence ignored), K⁺ sometimes (log₁₀ without 2.303)."""
    n = 0
    plan = [
        ("nernst:Ca", False, ("valence-ignored",)),
        ("nernst:Ca", False, ("valence-ignored", "rule-of-60")),
        ("nernst:Ca", False, ("sign-flipped", "inside-outside-swapped")),
        ("nernst:Ca", True, ()),
        ("nernst:K", False, ("log10-without-2.303",)),
        ("nernst:K", False, ("valence-ignored",)),
        ("nernst:K", True, ()),
        ("nernst:K", True, ()),
        ("concept:leak-channels:0", False, ()),
        ("ghk:2", True, ()),
    ]
    for card, correct, tags in plan:
        n += 1
        await store.record_attempt(
            make_attempt(
                n, user=f"p-{n % 3}", card=card, correct=correct, mistakes=tags, at=NOW - dt.timedelta(hours=n)
            )
        )
    n += 1
    await store.record_attempt(make_attempt(n, card="nernst:Na", mistakes=("sign-flipped",), guild="other"))
    n += 1
    await store.record_attempt(make_attempt(n, card="nernst:Na", at=NOW - dt.timedelta(days=40)))  # out of the period


async def test_stats_count_the_most_missed_cards_and_the_commonest_mistakes(sqlite_store: SqliteStore) -> None:
    await class_attempts(sqlite_store)
    stats = await sqlite_store.stats("g1", 30, now=NOW)
    assert stats.attempts == 10
    assert stats.missed == [("nernst:Ca", 3, 4), ("nernst:K", 2, 4), ("concept:leak-channels:0", 1, 1)]
    assert stats.mistakes == [
        ("valence-ignored", 3),
        ("inside-outside-swapped", 1),
        ("log10-without-2.303", 1),
        ("rule-of-60", 1),
        ("sign-flipped", 1),
    ]
    assert (await sqlite_store.stats("g1", 30, limit=1, now=NOW)).mistakes == [("valence-ignored", 3)]
    assert (await sqlite_store.stats("other", 30, now=NOW)).mistakes == [("sign-flipped", 1)]
    await sqlite_store.purge(NOW - dt.timedelta(hours=3, minutes=30))  # the three newest stay
    after = await sqlite_store.stats("g1", 30, now=NOW)
    assert after.attempts == 3
    assert after.mistakes == [
        ("valence-ignored", 2),
        ("inside-outside-swapped", 1),
        ("rule-of-60", 1),
        ("sign-flipped", 1),
    ]


async def test_export_has_the_attempts_pseudonymous_only_when_asked(sqlite_store: SqliteStore) -> None:
    await sqlite_store.write(
        [LogRow(id="r1", at=NOW, kind="interaction", guild="g1", channel="c", user="p-1", command="quiz")]
    )
    await class_attempts(sqlite_store)
    records = list(csv.DictReader(io.StringIO(await sqlite_store.export_csv("g1", 30, now=NOW))))
    attempts = [record for record in records if record["kind"] == "attempt"]
    assert len(records) == 11 and len(attempts) == 10
    assert [record["at"] for record in records] == sorted(record["at"] for record in records)
    first = next(record for record in attempts if record["id"] == "attempt-2")
    assert first["card"] == "nernst:Ca" and first["correct"] == "false"
    assert first["mistakes"] == "valence-ignored rule-of-60" and first["topic"] == "nernst-equation"
    assert first["given"] == "'-64.6 mV"  # a leading minus is defused for spreadsheets
    assert '"ion": "Ca"' in first["options"]
    assert "pseudonym" not in first and "p-1" not in "".join(str(record) for record in records)
    interaction = next(record for record in records if record["kind"] == "interaction")
    assert interaction["command"] == "quiz" and interaction["card"] == ""
    named = list(csv.DictReader(io.StringIO(await sqlite_store.export_csv("g1", 30, include_user=True, now=NOW))))
    assert {record["pseudonym"] for record in named if record["kind"] == "attempt"} == {"p-0", "p-1", "p-2"}


async def test_an_attempt_with_a_lone_surrogate_is_stored_replaced_and_later_ones_too(
    sqlite_store: SqliteStore,
) -> None:
    """The typed answer is the student's own text: a lone surrogate must not cost the attempt."""
    lone = "\ud800"
    bad = replace(
        make_attempt(1),
        given=f"-64{lone} mV",
        topic=f"nernst{lone}",
        problem={"command": "nernst", "options": {"ion": f"Ca{lone}", "x": [f"y{lone}"]}},
    )
    assert await sqlite_store.record_attempt(bad)
    assert await sqlite_store.record_attempt(make_attempt(2))
    history = await sqlite_store.history("p-1")
    assert [a.id for a in history.attempts] == ["attempt-1", "attempt-2"]
    stored = history.attempts[0]
    assert stored.given == "-64\ufffd mV" and stored.topic == "nernst\ufffd"
    assert stored.problem == {"command": "nernst", "options": {"ion": "Ca\ufffd", "x": ["y\ufffd"]}}


async def test_rows_written_straight_to_the_store_are_made_storable(sqlite_store: SqliteStore) -> None:
    row = LogRow(
        id="r1",
        at=NOW,
        kind="interaction",
        guild="g1",
        channel="c",
        user="p-1",
        command="ask",
        topic="t\ud800",
        options={"question": "q\udfff"},
    )
    await sqlite_store.write([row])
    [stored] = await sqlite_store.rows_for("p-1")
    assert stored.topic == "t\ufffd" and stored.options == {"question": "q\ufffd"}
