"""Per-user cooldowns behind a small interface: memory now, a shared store later.

discord.py's own ``checks.cooldown`` keeps its buckets in the process; when the bot
runs as several workers the buckets must live in a shared store, so the check talks to
a :class:`CooldownStore` instead.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class CooldownStore(Protocol):
    def hit(self, key: str, rate: int, per: float) -> float | None:
        """Record one use; return the seconds to wait if the limit is exceeded, else None."""


@dataclass(frozen=True, slots=True)
class Cooldown:
    rate: int
    per: float


class MemoryCooldowns:
    """A sliding window of recent uses per key, in this process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._uses: dict[str, deque[float]] = {}

    def hit(self, key: str, rate: int, per: float) -> float | None:
        now = self._clock()
        uses = self._uses.setdefault(key, deque())
        while uses and now - uses[0] >= per:
            uses.popleft()
        if len(uses) >= rate:
            return per - (now - uses[0])
        uses.append(now)
        if len(self._uses) > 10_000:  # forget idle users so memory stays bounded
            self._uses = {k: v for k, v in self._uses.items() if v and now - v[-1] < per}
        return None
