"""Questions the bot could not answer from its notes, kept for instructors.

An interface now, with an in-memory store; the interaction log (SQLite) implements it
when it lands, and ``/stats show`` reads it. Stored: the question as typed (it is the
command's own option), the nearest topics and the confidence; never who asked.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Unanswered:
    question: str
    nearest: tuple[str, ...]
    confidence: float
    at: dt.datetime


class UnansweredLog(Protocol):
    def record(self, question: str, nearest: tuple[str, ...], confidence: float) -> bool:
        """Keep the question; True only if it was kept where an instructor can read it
        (the interaction log), so the bot never tells a student it was passed on when not."""
        ...

    def recent(self, limit: int = 50) -> list[Unanswered]: ...


class MemoryUnanswered:
    """The last ``capacity`` unanswered questions of this process: for tests and the
    terminal, where no instructor will ever read them (``record`` says so: False)."""

    def __init__(self, capacity: int = 1000) -> None:
        self._items: deque[Unanswered] = deque(maxlen=capacity)

    def record(self, question: str, nearest: tuple[str, ...], confidence: float) -> bool:
        self._items.append(Unanswered(question, nearest, confidence, dt.datetime.now(dt.UTC)))
        return False

    def recent(self, limit: int = 50) -> list[Unanswered]:
        return list(self._items)[-limit:][::-1]
