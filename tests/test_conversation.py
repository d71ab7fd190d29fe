"""The chat's conversation store and its follow-up planning (bot/conversation.py), without Discord."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest

from bot.commands import Request
from bot.conversation import (
    TTL_SECONDS,
    MemoryConversations,
    Plan,
    Turn,
    asks_for_more,
    plan,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


NERNST_NA = Request("nernst", {"ion": "Na", "inside": 12.0, "outside": 145.0})


def test_a_turn_is_kept_per_user_and_channel_for_thirty_minutes() -> None:
    clock = Clock()
    store = MemoryConversations(clock=clock)
    store.remember("u1", "dm", Turn(NERNST_NA, "nernst-equation"))
    assert store.last("u1", "dm") == Turn(NERNST_NA, "nernst-equation")
    assert store.last("u1", "general") is None and store.last("u2", "dm") is None
    clock.now += TTL_SECONDS - 1
    assert store.last("u1", "dm") is not None
    store.remember("u1", "dm", Turn(None, "leak-channels"))  # a new answer starts the half hour again
    clock.now += TTL_SECONDS - 1
    assert store.last("u1", "dm") == Turn(None, "leak-channels")
    clock.now += 1
    assert store.last("u1", "dm") is None and len(store) == 0


def test_the_store_keeps_no_user_text_and_no_identity() -> None:
    store = MemoryConversations()
    asked = Request("nernst", {"ion": "K", "private": True}, user="1234", guild="99")
    store.remember("1234", "c", Turn(asked, "nernst-equation"))
    kept = store.last("1234", "c")
    assert kept is not None and kept.request == Request("nernst", {"ion": "K"})
    assert kept.request.user is None and kept.request.guild is None


def test_the_store_is_bounded_oldest_first() -> None:
    store = MemoryConversations(max_items=3)
    for n in range(5):
        store.remember(f"u{n}", "c", Turn(None, "t"))
    assert len(store) == 3
    assert store.last("u0", "c") is None and store.last("u1", "c") is None and store.last("u4", "c") is not None


def test_forget_user_drops_every_channel_of_that_user_only() -> None:
    store = MemoryConversations()
    for channel in ("dm", "general", "office-hours"):
        store.remember("u1", channel, Turn(None, "t"))
    store.remember("u2", "general", Turn(None, "t"))
    assert store.forget_user("u1") == 3
    assert store.last("u1", "general") is None and store.last("u2", "general") is not None
    assert store.forget_user("u1") == 0


def test_each_message_id_is_claimed_once_and_the_memory_is_bounded() -> None:
    clock = Clock()
    store = MemoryConversations(max_seen=100, clock=clock)
    assert store.first_time("m1") and not store.first_time("m1") and not store.first_time("m1")
    for n in range(200):
        store.first_time(f"x{n}")
    assert len(store._seen) <= 100
    clock.now += 16 * 60
    store.first_time("later")
    assert list(store._seen) == ["later"]


@pytest.mark.parametrize(
    "text",
    [
        "why?",
        "Why",
        "why is that?",
        "tell me more",
        "Tell me more please",
        "can you explain that?",
        "how so?",
        "and why?",
    ],
)
def test_asks_for_more(text: str) -> None:
    assert asks_for_more(text)


@pytest.mark.parametrize(
    "text", ["why is the resting potential negative?", "more sodium inside?", "and for sodium?", ""]
)
def test_questions_of_their_own_are_not_asks_for_more(text: str) -> None:
    assert not asks_for_more(text)


@dataclass(frozen=True)
class Reading:
    request: Request | None
    assumptions: tuple[str, ...] = ()
    declined: str | None = None
    reused: tuple[str, ...] = ()


def _reader(follow: Reading | None = None, fresh: Reading | None = None) -> Any:
    """A stand-in for bot.reading.numeric with the interface issue 12 fixes."""
    calls: list[tuple[str, Any]] = []

    def follow_up(text: str, previous: Request) -> Reading | None:
        calls.append(("follow_up", previous))
        return follow

    def read_numeric(text: str) -> Reading | None:
        calls.append(("read_numeric", text))
        return fresh

    return SimpleNamespace(follow_up=follow_up, read_numeric=read_numeric, calls=calls)


def test_a_new_question_is_asked_like_ask_and_its_computed_request_kept() -> None:
    reader = _reader(fresh=Reading(NERNST_NA))
    chosen = plan("what's E_Na if 12 inside and 145 outside?", None, reader)
    assert chosen == Plan(Request("ask", {"question": "what's E_Na if 12 inside and 145 outside?"}), computed=NERNST_NA)
    assert plan("why is it negative?", None, _reader()).computed is None


def test_why_answers_with_the_last_topic_and_says_so() -> None:
    chosen = plan("why?", Turn(NERNST_NA, "nernst-equation"), _reader())
    assert chosen.request == Request("explain", {"topic": "nernst-equation"})
    assert chosen.note is not None and "nernst-equation" in chosen.note and chosen.computed == NERNST_NA
    # a computed answer without a topic falls back on the command's topic
    assert plan("tell me more", Turn(NERNST_NA, None), _reader()).request.options["topic"] == "nernst-equation"


def test_a_numeric_follow_up_reuses_the_last_request() -> None:
    potassium = Request("nernst", {"ion": "K", "inside": 12.0, "outside": 145.0})
    reading = Reading(potassium, assumptions=("37 °C (body temperature)",), reused=("inside 12 mM",))
    reader = _reader(follow=reading)
    chosen = plan("and for potassium?", Turn(NERNST_NA, "nernst-equation"), reader)
    assert chosen.reading is reading and chosen.computed == potassium  # answered by numeric_answer
    assert reader.calls == [("follow_up", NERNST_NA)]


def test_a_declined_follow_up_keeps_the_previous_request_for_the_next_try() -> None:
    reading = Reading(None, declined="a needed number is missing: [Na⁺] inside")
    chosen = plan("and inside?", Turn(NERNST_NA, None), _reader(follow=reading))
    assert chosen.reading is reading and chosen.computed == NERNST_NA


def test_the_real_reader_follows_up_with_a_new_temperature() -> None:
    """With bot.reading.numeric (part R): the temperature changes, the concentrations are reused."""
    reader = pytest.importorskip("bot.reading.numeric")
    chosen = plan("now at 20 °C", Turn(NERNST_NA, "nernst-equation"), reader)
    assert chosen.reading is not None and chosen.reading.request is not None
    assert chosen.reading.request == Request("nernst", {**NERNST_NA.options, "temperature": 20.0})
    assert chosen.reading.reused and chosen.computed == chosen.reading.request


def test_without_a_previous_request_or_a_reader_it_is_a_plain_question() -> None:
    reader = _reader(follow=Reading(NERNST_NA))
    assert plan("and for sodium?", Turn(None, "leak-channels"), reader).request.command == "ask"
    assert ("follow_up", NERNST_NA) not in reader.calls
    assert plan("and for sodium?", Turn(NERNST_NA, None), None).request.command in ("ask", "nernst")
