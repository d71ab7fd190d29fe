"""The interaction log's interface: what a row holds and what storage must do.

Shared by the SQLite store (now) and a PostgreSQL one (later, for a sharded,
multi-process deployment). Nothing here imports discord or aiosqlite.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # types only: the log loads without the scheduler
    from bot.tutoring.scheduling import Attempt, CardState, StudentHistory


@dataclass(frozen=True, slots=True)
class LogRow:
    """One interaction. ``user`` is a pseudonym (keyed HMAC), never a Discord id.

    ``id`` is a UUID made by the bot: the dedupe key that makes journal replay idempotent.
    ``kind`` keeps the schema open to new kinds of rows (quiz attempts later).
    """

    id: str
    at: dt.datetime  # UTC
    kind: str  # "interaction"
    guild: str | None
    channel: str | None
    user: str
    command: str
    options: dict[str, Any] = field(default_factory=dict)
    outcome: str = "ok"  # "ok" or an error kind, e.g. "input", "cooldown", "internal"
    latency_ms: float = 0.0
    topic: str | None = None  # /explain and /ask: the topic shown
    confidence: float | None = None  # /ask
    answered: bool | None = None  # /ask: False means "not in my notes"
    question: str | None = None  # an unanswered /ask: the question as typed (else taken from options["question"])


@dataclass(frozen=True, slots=True)
class DayCount:
    day: dt.date
    command: str
    count: int


@dataclass(frozen=True, slots=True)
class Stats:
    """What ``/stats show`` reports for one server over the last ``days`` days."""

    days: int
    total: int
    by_command: dict[str, int]
    by_day: list[DayCount]
    top_topics: list[tuple[str, int]]
    unanswered: list[tuple[str, int]]  # question text, times asked
    errors: dict[str, int]  # outcome → count
    unwritten: int  # rows the log could not store (reported, never silently dropped)
    in_journal: int = 0  # of ``unwritten``: rows waiting in the journal, written when the database accepts them
    lost: int = 0  # of ``unwritten``: rows that could not even be journaled (each one logged as a WARNING)
    attempts: int = 0  # graded practice answers in the period
    missed: list[tuple[str, int, int]] = field(default_factory=list)  # card, wrong, attempts: most wrong first
    mistakes: list[tuple[str, int]] = field(default_factory=list)  # catalogue tag, wrong answers it reproduced


class ProgressStore(Protocol):
    """What practice needs kept: graded attempts (raw, they follow the log's retention) and
    each student's card states (kept until the student erases them). The memory store
    (bot/tutoring/memory.py) and every log store implement it."""

    async def record_attempt(self, attempt: Attempt) -> bool:
        """Store an attempt (idempotent by id); False when it was not kept: a server whose
        logging is off, or an attempt older than its user's last forget (a late write)."""

    async def history(self, user: str) -> StudentHistory:
        """The pseudonym's card states and attempts (oldest first)."""

    async def save_card(self, user: str, state: CardState) -> None:
        """Insert or replace the pseudonym's state of ``state.card``."""


class LogStore(ProgressStore, Protocol):
    """Storage for the interaction log (and, in the same database, practice progress)."""

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def write(self, rows: list[LogRow]) -> None:
        """Store rows; a row whose id is already stored is skipped (idempotent)."""

    async def stats(self, guild: str, days: int) -> Stats: ...

    async def servers(self, days: int) -> list[tuple[str, int]]:
        """Servers with interactions in the last ``days`` days and how many, busiest first:
        what an operator needs to find a server's id for ``membrane-tutor stats --guild``."""

    async def export_csv(self, guild: str, days: int) -> str: ...

    async def rows_for(self, user: str) -> list[LogRow]:
        """Interaction rows of this pseudonym (its progress: :meth:`history`)."""

    async def forget(self, user: str) -> int:
        """Delete every row of this pseudonym, its attempts and its card states; returns how many."""

    async def purge(self, before: dt.datetime) -> int:
        """Delete interactions and attempts older than ``before`` (retention); card states stay."""

    async def set_logging(self, guild: str, enabled: bool) -> None: ...

    async def logging_enabled(self, guild: str) -> bool: ...

    async def backup(self, target: str) -> None:
        """A consistent copy while the bot runs (SQLite's backup API)."""
