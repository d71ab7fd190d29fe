"""What a student has practised and what comes next: FSRS through the ``fsrs`` package.

Each (student, card) is an FSRS card. A card is a concept question
(``concept:<topic>:<index>``) or a numeric problem family (``nernst:Ca``): the family, not
one seeded problem, because the student is learning the calculation, not one set of
numbers. An attempt is rated from how it went, never from how the student felt:

* wrong → ``Again``;
* right after a wrong answer on the same card the same UTC day → ``Hard`` (they needed the
  correction to get it);
* right → ``Good``.

``Easy`` is never given: a right answer to a generated problem says nothing about effort.

Pure: no storage, no discord, no clock. Every function takes ``now``; the store
(bot/log/sqlite.py) and the memory store (bot/tutoring/memory.py) keep the dataclasses
below, so a test can run weeks of practice in microseconds with a fake clock.

Levels (README, "Progress and levels") come from FSRS's stability S (days until recall
probability falls to 90 %) and retrievability R (the recall probability now):

* ``new``: never graded;
* ``learning``: still in FSRS's (re)learning steps, or S < 7 days, or R < 0.70;
* ``familiar``: S ≥ 7 days and R ≥ 0.70;
* ``mastered``: S ≥ 30 days and R ≥ 0.85.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from fsrs import Card, Rating, Scheduler, State

Level = Literal["new", "learning", "familiar", "mastered"]
LEVELS: Final[tuple[Level, ...]] = ("new", "learning", "familiar", "mastered")

FAMILIAR_STABILITY_DAYS: Final = 7.0
"""A week: the memory outlasts the gap between two classes."""
MASTERED_STABILITY_DAYS: Final = 30.0
"""A month: the memory outlasts a block of teaching, up to the exam."""
FAMILIAR_RECALL: Final = 0.70
"""Below this the card is well past due (FSRS schedules it at 0.90): back to learning."""
MASTERED_RECALL: Final = 0.85
"""Mastered while recall is still near the 0.90 FSRS aims for; a little overdue is still mastered."""

SCHEDULER: Final = Scheduler(enable_fuzzing=False)
"""FSRS-6 with its published default parameters and desired retention 0.9. Fuzzing (random
spread of long intervals, to even out a large deck's daily load) is off: a student has a
few dozen cards, and the same answers must give the same schedule, in tests and on replay."""

AttemptKind = Literal["numeric", "concept"]


def utc(moment: dt.datetime) -> dt.datetime:
    """``moment`` in UTC (a naive datetime is taken as UTC): FSRS refuses anything else."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


@dataclass(frozen=True)
class CardState:
    """One student's memory of one card: the fsrs ``Card.to_dict()`` and, for queries and
    display without the package, its due time, reviews and lapses (right → forgotten)."""

    card: str
    topic: str
    fsrs: dict[str, Any]
    due: dt.datetime
    reps: int = 0
    lapses: int = 0
    last_review: dt.datetime | None = None


@dataclass(frozen=True)
class Attempt:
    """One graded answer. ``user`` is the pseudonym; ``problem`` the equivalent calculator
    request (``{"command": …, "options": …}``) or None for a concept question; ``given`` the
    letter chosen or the text typed; ``mistakes`` the catalogue tags that reproduce it."""

    id: str
    at: dt.datetime
    user: str
    guild: str | None
    card: str
    topic: str
    kind: AttemptKind
    problem: Mapping[str, Any] | None
    given: str
    correct: bool
    mistakes: tuple[str, ...] = ()


@dataclass(frozen=True)
class StudentHistory:
    """Everything kept about one student's practice: card states, and attempts (newest last)
    that the log's retention has not yet purged."""

    cards: Mapping[str, CardState] = field(default_factory=dict)
    attempts: tuple[Attempt, ...] = ()

    def due(self, now: dt.datetime) -> list[str]:
        """Card ids due at ``now``, most overdue first (ties by id, so the order is stable)."""
        moment = utc(now)
        waiting = [state for state in self.cards.values() if utc(state.due) <= moment]
        return [state.card for state in sorted(waiting, key=lambda state: (utc(state.due), state.card))]

    def practised_by_topic(self) -> Mapping[str, int]:
        """Topic slug → attempts kept (what /quiz uses to pick the least-practised topic)."""
        return dict(Counter(attempt.topic for attempt in self.attempts))

    def correct_by_topic(self) -> Mapping[str, int]:
        """Topic slug → right attempts kept."""
        return dict(Counter(attempt.topic for attempt in self.attempts if attempt.correct))

    def wrong_earlier_today(self, card: str, now: dt.datetime, *, besides: str | None = None) -> bool:
        """Whether ``card`` was answered wrong on ``now``'s UTC day before ``now`` (the attempt
        with id ``besides``, the one being rated, does not count)."""
        moment = utc(now)
        return any(
            attempt.card == card
            and not attempt.correct
            and attempt.id != besides
            and utc(attempt.at).date() == moment.date()
            and utc(attempt.at) <= moment
            for attempt in self.attempts
        )

    def streak_days(self, now: dt.datetime) -> int:
        """Consecutive UTC days with at least one attempt, ending today, or yesterday while
        today's practice may still come (a streak is not lost before the day is over)."""
        return streak_days((attempt.at for attempt in self.attempts), now)

    def after(self, attempt: Attempt) -> tuple[StudentHistory, CardState]:
        """The history with ``attempt`` added and its card reviewed: what a store keeps after
        grading (the console holds its history this way, without any store)."""
        state = review_attempt(self, attempt)
        attempts = tuple(sorted((*self.attempts, attempt), key=lambda item: (utc(item.at), item.id)))
        return StudentHistory({**self.cards, attempt.card: state}, attempts), state


_FAMILIES: Final = {"nernst": "Nernst", "ghk": "GHK", "whatif": "What-if"}


def describe_card(card: str) -> str:
    """A card id as people read it: ``nernst:Ca`` → "Nernst Ca (numeric)",
    ``concept:leak-channels:1`` → "leak-channels, concept question 2"."""
    kind, _, rest = card.partition(":")
    if kind == "concept":
        topic, _, index = rest.rpartition(":")
        if topic and index.isdigit():
            return f"{topic}, concept question {int(index) + 1}"
    if kind in _FAMILIES:
        return f"{_FAMILIES[kind]}{' ' + rest if rest else ''} (numeric)"
    return card


def rating_for(correct: bool, wrong_earlier_today: bool) -> Rating:
    """wrong → Again; right after a wrong on the same card the same UTC day → Hard; right → Good."""
    if not correct:
        return Rating.Again
    return Rating.Hard if wrong_earlier_today else Rating.Good


def card_number(card: str) -> int:
    """A stable integer id for the fsrs ``Card`` (its own default is the clock, with a sleep)."""
    return int.from_bytes(hashlib.sha256(card.encode("utf-8")).digest()[:6], "big")


def fsrs_card(state: CardState | None, card: str, now: dt.datetime) -> Card:
    """The fsrs ``Card`` of a state, or a new one due ``now``."""
    if state is None:
        return Card(card_id=card_number(card), due=utc(now))
    return Card.from_dict(state.fsrs)  # type: ignore[arg-type]


def review(
    state: CardState | None, card: str, topic: str, correct: bool, wrong_earlier_today: bool, now: dt.datetime
) -> CardState:
    """The card's state after one graded attempt at ``now``."""
    before = fsrs_card(state, card, now)
    after, _ = SCHEDULER.review_card(before, rating_for(correct, wrong_earlier_today), utc(now))
    lapsed = not correct and before.state is State.Review
    return CardState(
        card=card,
        topic=topic,
        fsrs=dict(after.to_dict()),
        due=utc(after.due),
        reps=(state.reps if state else 0) + 1,
        lapses=(state.lapses if state else 0) + int(lapsed),
        last_review=utc(after.last_review) if after.last_review else utc(now),
    )


def review_attempt(history: StudentHistory | None, attempt: Attempt) -> CardState:
    """Review the attempt's card at the attempt's time, rated from the history before it."""
    history = history or StudentHistory()
    earlier = history.wrong_earlier_today(attempt.card, attempt.at, besides=attempt.id)
    return review(history.cards.get(attempt.card), attempt.card, attempt.topic, attempt.correct, earlier, attempt.at)


def retrievability(state: CardState, now: dt.datetime) -> float:
    """FSRS's probability that the student recalls the card at ``now`` (0 if never reviewed)."""
    return float(SCHEDULER.get_card_retrievability(fsrs_card(state, state.card, now), utc(now)))


def stability(state: CardState) -> float | None:
    """Days until recall probability falls to 90 % (None before the first review)."""
    value = state.fsrs.get("stability")
    return None if value is None else float(value)


def level(state: CardState | None, now: dt.datetime) -> Level:
    """new, learning, familiar or mastered (thresholds in the module's docstring and README)."""
    if state is None or state.reps == 0:
        return "new"
    days = stability(state)
    if State(int(state.fsrs.get("state", State.Learning.value))) is not State.Review or days is None:
        return "learning"
    recall = retrievability(state, now)
    if days >= MASTERED_STABILITY_DAYS and recall >= MASTERED_RECALL:
        return "mastered"
    if days >= FAMILIAR_STABILITY_DAYS and recall >= FAMILIAR_RECALL:
        return "familiar"
    return "learning"


def topic_level(states: Iterable[CardState], now: dt.datetime) -> Level:
    """A topic is as far along as its weakest practised card (new when none is practised)."""
    levels = [level(state, now) for state in states]
    return min(levels, key=LEVELS.index) if levels else "new"


def streak_days(moments: Iterable[dt.datetime], now: dt.datetime) -> int:
    """Consecutive UTC days in ``moments`` ending today, or ending yesterday; else 0."""
    days = {utc(moment).date() for moment in moments}
    today = utc(now).date()
    day = today if today in days else today - dt.timedelta(days=1)
    count = 0
    while day in days:
        count += 1
        day -= dt.timedelta(days=1)
    return count
