"""Rendered answers, remembered by request, behind a two-method interface.

A class asks the same things: thirty students type ``/restpot`` in the same minute.
The answer to a request depends only on the command and its options (never on who
asked), so the text answer and its Discord rendering are computed once and reused.
Memory now; a shared store (design.md, "Growing past one machine" 5) later.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Protocol

from bot.answers import Answer
from bot.commands import Request
from bot.render.discord import OutgoingMessage

Rendered = tuple[Answer, list[OutgoingMessage]]
DELIVERY_OPTIONS = frozenset({"private"})
"""Options that change how an answer is delivered, not what it says."""


def request_key(request: Request) -> tuple[Any, ...] | None:
    """What the answer depends on; None when it cannot be a key (a list or dict in an option,
    which the Discord adapter refuses before it gets here): such a request is not cached."""
    key = (request.command, *sorted((k, v) for k, v in request.options.items() if k not in DELIVERY_OPTIONS))
    try:
        hash(key)
    except TypeError:
        return None
    return key


class AnswerCache(Protocol):
    def get(self, request: Request) -> Rendered | None: ...

    def put(self, request: Request, rendered: Rendered) -> None: ...


class MemoryAnswerCache:
    """Least recently used, bounded by count; answers are small (a few kB of embeds)."""

    def __init__(self, max_items: int = 2048) -> None:
        self.max_items = max_items
        self._items: OrderedDict[tuple[Any, ...], Rendered] = OrderedDict()

    def get(self, request: Request) -> Rendered | None:
        key = request_key(request)
        if key is None:
            return None
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, request: Request, rendered: Rendered) -> None:
        key = request_key(request)
        if key is None:
            return
        self._items[key] = rendered
        self._items.move_to_end(key)
        while len(self._items) > self.max_items:
            self._items.popitem(last=False)
