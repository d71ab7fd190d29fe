"""Chat conversations: what a student asked last, for follow-ups, behind a small store.

A student who just asked "what's E_Na if it's 12 inside and 145 outside?" then writes
"and for potassium?" or "why?". Answering that needs the last computed request and the
last topic of the same user in the same channel (a DM or a server channel), for a while:
:data:`TTL_SECONDS`, half an hour, the length of a study session, not a record. The store
keeps only that (a request's numbers and choices, a topic slug; never the message text),
bounded in size, in memory now; a shared store (design.md, "Growing past one machine" 5)
can replace :class:`MemoryConversations` behind :class:`ConversationStore`.

The same store answers "have I seen this message before?" (:meth:`ConversationStore.first_time`):
a gateway RESUME replays events, and two workers may both receive one, so the chat never
answers one message twice.

No discord here: :func:`plan` turns text and the previous turn into the request to answer.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from types import ModuleType
from typing import Any, Final, Protocol

from bot.commands import Request

TTL_SECONDS: Final = 30 * 60
"""How long a conversation is remembered after its last answer: about one study session."""
MAX_CONVERSATIONS: Final = 10_000
"""Conversations kept at once (a few hundred bytes each); the oldest go first."""
SEEN_MESSAGES: Final = 10_000
"""Message ids remembered for deduplication: far more than a RESUME replays."""
SEEN_SECONDS: Final = 15 * 60
"""How long a message id is remembered: longer than any replay or redelivery takes."""


@dataclass(frozen=True, slots=True)
class Turn:
    """What a follow-up may reuse: the last computed request (a calculator's numbers and
    choices, no user and no text) and the topic of the last answer."""

    request: Request | None = None
    topic: str | None = None


class ConversationStore(Protocol):
    """Per (user, channel): the last turn, for :data:`TTL_SECONDS`; and seen message ids."""

    def last(self, user: str, channel: str) -> Turn | None:
        """The last turn of this conversation, or None (never asked, or expired)."""

    def remember(self, user: str, channel: str, turn: Turn) -> None:
        """Keep ``turn`` as the conversation's last, for another :data:`TTL_SECONDS`."""

    def forget_user(self, user: str) -> int:
        """Drop every conversation of ``user`` (``/privacy forget``); how many there were."""

    def first_time(self, message_id: str) -> bool:
        """True the first time a message id is offered, False on every later offer."""


class MemoryConversations:
    """Least recently used, bounded by count, expiring by age; in this process."""

    def __init__(
        self,
        *,
        ttl: float = TTL_SECONDS,
        max_items: int = MAX_CONVERSATIONS,
        max_seen: int = SEEN_MESSAGES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_items = max_items
        self.max_seen = max_seen
        self._clock = clock
        self._turns: OrderedDict[tuple[str, str], tuple[float, Turn]] = OrderedDict()
        self._seen: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._turns)

    def _expire(self, now: float) -> None:
        while self._turns:
            key, (at, _) = next(iter(self._turns.items()))
            if now - at < self.ttl:
                break
            del self._turns[key]

    def last(self, user: str, channel: str) -> Turn | None:
        now = self._clock()
        self._expire(now)
        found = self._turns.get((user, channel))
        return found[1] if found is not None else None

    def remember(self, user: str, channel: str, turn: Turn) -> None:
        now = self._clock()
        stripped = replace(turn, request=_bare(turn.request))
        self._turns[user, channel] = (now, stripped)
        self._turns.move_to_end((user, channel))  # the order is last use, so expiry pops from the front
        self._expire(now)
        while len(self._turns) > self.max_items:
            self._turns.popitem(last=False)

    def forget_user(self, user: str) -> int:
        keys = [key for key in self._turns if key[0] == user]
        for key in keys:
            del self._turns[key]
        return len(keys)

    def first_time(self, message_id: str) -> bool:
        now = self._clock()
        while self._seen:
            oldest, at = next(iter(self._seen.items()))
            if now - at < SEEN_SECONDS and len(self._seen) < self.max_seen:
                break
            del self._seen[oldest]
        if message_id in self._seen:
            return False
        self._seen[message_id] = now
        return True


def _bare(request: Request | None) -> Request | None:
    """The request without who asked or where: a follow-up needs only what was computed."""
    if request is None:
        return None
    options = {name: value for name, value in request.options.items() if name != "private"}
    return Request(request.command, options)


# --- follow-ups --------------------------------------------------------------------------------------

MORE: Final = re.compile(
    r"^(?:(?:and|but|ok|okay|so)\s+)?(?:why(?:\s+(?:so|is\s+that|does\s+it|though))?|how\s+(?:so|come)|"
    r"(?:(?:can|could)\s+you\s+)?(?:tell\s+me\s+more|explain(?:\s+(?:that|it|more|why))?|elaborate)"
    r"(?:\s+(?:please|pls))?|more(?:\s+please)?|go\s+on|what\s+do\s+you\s+mean)\s*[?.!]*$",
    re.IGNORECASE,
)
"""A follow-up that asks for more of the same topic, with nothing of its own to search for."""

COMMAND_TOPICS: Final = {
    "nernst": "nernst-equation",
    "restpot": "resting-membrane-potential",
    "whatif": "resting-membrane-potential",
}
"""The topic behind a calculator command, for "why?" after a computed answer without one."""


def asks_for_more(text: str) -> bool:
    """True for "why?", "tell me more", "how so?": a follow-up on the last topic."""
    return MORE.match(" ".join(text.split())) is not None


@dataclass(frozen=True, slots=True)
class Plan:
    """What to answer for one chat message.

    ``request`` goes through the usual handlers, unless ``reading`` is set: a numeric
    follow-up, answered by ``bot.answers.knowledge.numeric_answer`` (the number, the
    command, what was reused and assumed; or why it is not computed). ``note`` is said first
    (what a topic follow-up reused); ``computed`` is the calculator request to keep for the
    next follow-up.
    """

    request: Request
    note: str | None = None
    computed: Request | None = None
    reading: Any = None


def numeric_reader() -> ModuleType | None:
    """``bot.reading.numeric`` (the free-text reader of calculation requests) when installed."""
    try:
        from bot.reading import numeric
    except ImportError:
        return None
    return numeric


def plan(text: str, previous: Turn | None, reader: ModuleType | None = None) -> Plan:
    """The request that answers ``text`` given the conversation's ``previous`` turn.

    "why?" / "tell me more" answer with the last topic's entry; a numeric follow-up
    ("and for sodium?", "now at 20 °C") is the reader's ``follow_up`` of the last computed
    request; anything else is asked like ``/ask``. ``reader`` is ``bot.reading.numeric``
    (looked up when not given; None when it is not installed: then only topics follow up).
    """
    reader = reader if reader is not None else numeric_reader()
    ask = Request("ask", {"question": text})
    if previous is not None and asks_for_more(text):
        topic = previous.topic or (COMMAND_TOPICS.get(previous.request.command) if previous.request else None)
        if topic is not None:
            note = f"Following up on your last question: more on `{topic}`."
            return Plan(Request("explain", {"topic": topic}), note=note, computed=previous.request)
    if reader is None:
        return Plan(ask)
    if previous is not None and previous.request is not None:
        reading = reader.follow_up(text, previous.request)
        if reading is not None:
            # Declined (a number missing): the previous request stays, for the next try.
            return Plan(ask, computed=reading.request or previous.request, reading=reading)
    reading = reader.read_numeric(text)
    return Plan(ask, computed=reading.request if reading is not None else None)
