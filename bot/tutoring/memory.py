"""Practice progress kept in memory: the terminal's store, and the tests'.

The same :class:`~bot.log.api.ProgressStore` interface as the interaction log's database
(record_attempt, history, save_card, forget, purge), with the same rules: an attempt id is
stored once, a forget erases attempts and card states, the retention purge removes old
attempts and never card states. ``membrane-tutor console`` keeps a session's practice here:
nothing is written to disk, nothing outlives the process.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bot.tutoring.scheduling import Attempt, CardState, StudentHistory, utc


@dataclass
class _Student:
    cards: dict[str, CardState] = field(default_factory=dict)
    attempts: dict[str, Attempt] = field(default_factory=dict)


class MemoryProgress:
    """Attempts and card states per pseudonym, in dictionaries."""

    def __init__(self) -> None:
        self._students: dict[str, _Student] = {}
        self._ids: set[str] = set()

    def __repr__(self) -> str:
        return f"MemoryProgress({len(self._students)} students)"

    async def record_attempt(self, attempt: Attempt) -> bool:
        """Keep the attempt; False when its id is already kept (idempotent, like the database)."""
        if attempt.id in self._ids:
            return False
        self._ids.add(attempt.id)
        self._students.setdefault(attempt.user, _Student()).attempts[attempt.id] = attempt
        return True

    async def save_card(self, user: str, state: CardState) -> None:
        self._students.setdefault(user, _Student()).cards[state.card] = state

    async def history(self, user: str) -> StudentHistory:
        student = self._students.get(user)
        if student is None:
            return StudentHistory()
        attempts = sorted(student.attempts.values(), key=lambda attempt: (utc(attempt.at), attempt.id))
        return StudentHistory(dict(student.cards), tuple(attempts))

    async def forget(self, user: str) -> int:
        """Erase the pseudonym's attempts and card states; how many were erased."""
        student = self._students.pop(user, None)
        if student is None:
            return 0
        self._ids.difference_update(student.attempts)
        return len(student.attempts) + len(student.cards)

    async def purge(self, before: dt.datetime) -> int:
        """Remove attempts older than ``before``; card states stay (kept until erased)."""
        cutoff = utc(before)
        removed = 0
        for student in self._students.values():
            old = [key for key, attempt in student.attempts.items() if utc(attempt.at) < cutoff]
            for key in old:
                del student.attempts[key]
            self._ids.difference_update(old)
            removed += len(old)
        return removed
