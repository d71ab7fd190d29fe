"""FSRS scheduling (bot/tutoring/scheduling.py) with a fake clock: ratings, what is due and in
which order, the four levels and their thresholds, the UTC day streak.

Numbers are checked against FSRS-6's published formulas written out here (default weights
w0…w20), not against the package's own functions.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest
from fsrs import Rating, State

from bot.tutoring import scheduling
from bot.tutoring.scheduling import (
    Attempt,
    CardState,
    StudentHistory,
    level,
    rating_for,
    review,
    review_attempt,
    streak_days,
    topic_level,
)

T0 = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC)  # a Monday, 09:00 UTC
W = (0.212, 1.2931, 2.3065, 8.2956, 6.4133, 0.8334, 3.0194, 0.001, 1.8722, 0.1666, 0.796)
"""FSRS-6's first default weights: w0..w3 the initial stability per rating, w4, w5 the initial difficulty."""
DECAY = -0.1542  # -w20
FACTOR = 0.9 ** (1 / DECAY) - 1  # so that R = 0.9 when t = S


def recall(elapsed_days: float, stability_days: float) -> float:
    """FSRS-6's forgetting curve: R(t, S) = (1 + FACTOR·t/S)^DECAY."""
    return (1 + FACTOR * elapsed_days / stability_days) ** DECAY


_count = iter(range(1_000_000))


def attempt(card: str, correct: bool, at: dt.datetime, topic: str = "nernst-equation") -> Attempt:
    return Attempt(
        id=f"a{next(_count)}",
        at=at,
        user="p-1",
        guild=None,
        card=card,
        topic=topic,
        kind="numeric",
        problem=None,
        given="b",
        correct=correct,
    )


def practise(history: StudentHistory, card: str, correct: bool, at: dt.datetime) -> StudentHistory:
    history, _ = history.after(attempt(card, correct, at))
    return history


def card_in_review(stability: float, reviewed: dt.datetime, card: str = "nernst:K") -> CardState:
    """A card FSRS has graduated, with a chosen stability, last reviewed at ``reviewed``."""
    due = reviewed + dt.timedelta(days=round(stability))
    fsrs = {
        "card_id": 1,
        "state": State.Review.value,
        "step": None,
        "stability": stability,
        "difficulty": 5.0,
        "due": due.isoformat(),
        "last_review": reviewed.isoformat(),
    }
    return CardState(card, "nernst-equation", fsrs, due, reps=4, lapses=0, last_review=reviewed)


# --- the rating rule ---------------------------------------------------------------------------


def test_rating_rule() -> None:
    assert rating_for(correct=False, wrong_earlier_today=False) is Rating.Again
    assert rating_for(correct=False, wrong_earlier_today=True) is Rating.Again
    assert rating_for(correct=True, wrong_earlier_today=True) is Rating.Hard
    assert rating_for(correct=True, wrong_earlier_today=False) is Rating.Good


def test_a_new_card_starts_at_fsrs_initial_stability_and_difficulty() -> None:
    """S0(G) = w[G-1]; D0(G) = w4 − e^(w5·(G−1)) + 1."""
    for correct, earlier, grade in ((False, False, 1), (True, True, 2), (True, False, 3)):
        state = review(None, "nernst:K", "nernst-equation", correct, earlier, T0)
        assert state.fsrs["stability"] == pytest.approx(W[grade - 1])
        assert state.fsrs["difficulty"] == pytest.approx(W[4] - math.exp(W[5] * (grade - 1)) + 1, abs=1e-9)
        assert state.reps == 1 and state.lapses == 0 and state.last_review == T0


def test_right_after_a_wrong_the_same_utc_day_is_hard_and_the_next_day_good() -> None:
    wrong = attempt("nernst:Ca", False, T0)
    history, _ = StudentHistory().after(wrong)
    later_today = attempt("nernst:Ca", True, T0.replace(hour=23, minute=59))
    assert history.wrong_earlier_today("nernst:Ca", later_today.at)
    assert not history.wrong_earlier_today("nernst:K", later_today.at)  # another card
    hard = review_attempt(history, later_today)
    expected = review(history.cards["nernst:Ca"], "nernst:Ca", "nernst-equation", True, True, later_today.at)
    good = review(history.cards["nernst:Ca"], "nernst:Ca", "nernst-equation", True, False, later_today.at)
    assert hard == expected and hard.fsrs["stability"] < good.fsrs["stability"]  # Hard, visibly not Good

    next_day = attempt("nernst:Ca", True, T0 + dt.timedelta(days=1))  # a new UTC day: the wrong is forgotten
    assert not history.wrong_earlier_today("nernst:Ca", next_day.at)
    assert review_attempt(history, next_day) == review(
        history.cards["nernst:Ca"], "nernst:Ca", "nernst-equation", True, False, next_day.at
    )


def test_a_wrong_answer_on_a_review_card_is_a_lapse_and_comes_back_within_minutes() -> None:
    state = card_in_review(20.0, T0 - dt.timedelta(days=20))
    after = review(state, "nernst:K", "nernst-equation", False, False, T0)
    assert after.lapses == 1 and after.reps == 5
    assert after.fsrs["state"] == State.Relearning.value
    assert after.due - T0 == dt.timedelta(minutes=10)  # fsrs's one relearning step
    assert after.fsrs["stability"] < 20.0


# --- what is due, in which order --------------------------------------------------------------


def test_due_cards_after_right_and_wrong_answers_most_overdue_first() -> None:
    history = StudentHistory()
    history = practise(history, "nernst:K", True, T0)  # learning step 2: back in 10 min
    history = practise(history, "nernst:Na", False, T0 + dt.timedelta(minutes=1))  # again: back in 1 min
    history = practise(history, "nernst:Cl", True, T0 + dt.timedelta(minutes=2))
    assert history.due(T0 + dt.timedelta(minutes=1)) == []
    assert history.due(T0 + dt.timedelta(minutes=2)) == ["nernst:Na"]  # the wrong one first, after 1 min
    assert history.due(T0 + dt.timedelta(minutes=15)) == ["nernst:Na", "nernst:K", "nernst:Cl"]

    # Each answered right again: K and Cl graduate (due in days), Na is Hard (wrong earlier today).
    history = practise(history, "nernst:K", True, T0 + dt.timedelta(minutes=15))
    history = practise(history, "nernst:Cl", True, T0 + dt.timedelta(minutes=16))
    history = practise(history, "nernst:Na", True, T0 + dt.timedelta(minutes=17))
    cards = history.cards
    assert cards["nernst:K"].due.date() > T0.date() and cards["nernst:Cl"].due > cards["nernst:K"].due
    assert cards["nernst:Na"].due < cards["nernst:K"].due  # the missed card comes back soonest
    assert history.due(T0 + dt.timedelta(minutes=18)) == []
    later = max(state.due for state in cards.values())
    assert history.due(later) == ["nernst:Na", "nernst:K", "nernst:Cl"]

    # A wrong answer on K, days later, puts it ahead of Cl and Na at once.
    history = practise(history, "nernst:K", False, later)
    assert history.due(later + dt.timedelta(minutes=10))[0] == "nernst:Na"
    assert history.due(later + dt.timedelta(minutes=10))[-1] == "nernst:K"  # due now, the others overdue
    assert history.cards["nernst:K"].lapses == 1


def test_due_order_is_stable_on_ties() -> None:
    history = StudentHistory()
    for card in ("concept:b:0", "concept:a:1", "concept:a:0"):
        history = practise(history, card, False, T0)
    assert history.due(T0 + dt.timedelta(hours=1)) == ["concept:a:0", "concept:a:1", "concept:b:0"]


# --- levels ------------------------------------------------------------------------------------


def test_levels_new_and_learning() -> None:
    assert level(None, T0) == "new"
    learning = review(None, "nernst:K", "nernst-equation", True, False, T0)
    assert learning.fsrs["state"] == State.Learning.value and level(learning, T0) == "learning"
    assert level(card_in_review(6.99, T0), T0) == "learning"  # graduated, but under a week's memory


def test_level_thresholds_on_stability() -> None:
    assert scheduling.FAMILIAR_STABILITY_DAYS == 7 and scheduling.MASTERED_STABILITY_DAYS == 30
    assert level(card_in_review(7.0, T0), T0) == "familiar"  # R = 1 on the day of review
    assert level(card_in_review(29.99, T0), T0) == "familiar"
    assert level(card_in_review(30.0, T0), T0) == "mastered"


@pytest.mark.parametrize(
    ("stability", "threshold", "above", "below"),
    [(100.0, 0.85, "mastered", "familiar"), (10.0, 0.70, "familiar", "learning")],
)
def test_level_thresholds_on_retrievability(stability: float, threshold: float, above: str, below: str) -> None:
    # The elapsed days at which R(t, S) falls to the threshold: t = S/FACTOR · (R^(1/DECAY) − 1).
    crossing = stability / FACTOR * (threshold ** (1 / DECAY) - 1)
    before, after = math.floor(crossing), math.ceil(crossing)
    assert recall(before, stability) >= threshold > recall(after, stability)
    state = card_in_review(stability, T0)
    assert level(state, T0 + dt.timedelta(days=before)) == above
    assert level(state, T0 + dt.timedelta(days=after)) == below
    assert scheduling.retrievability(state, T0 + dt.timedelta(days=after)) == pytest.approx(recall(after, stability))


def test_answering_right_when_due_climbs_through_the_levels() -> None:
    """The all-right path: learning the first day, familiar from the third review, mastered by
    the fourth, about two weeks in (S: 2.3 → 11 → 46 days)."""
    history, now, seen = StudentHistory(), T0, []
    for _ in range(5):
        history = practise(history, "nernst:K", True, now)
        state = history.cards["nernst:K"]
        seen.append(level(state, now))
        now = state.due
    assert seen == ["learning", "learning", "familiar", "mastered", "mastered"]
    assert now - T0 > dt.timedelta(days=13)


def test_a_topic_is_as_far_along_as_its_weakest_practised_card() -> None:
    strong, weak = card_in_review(40.0, T0, "concept:x:0"), card_in_review(8.0, T0, "concept:x:1")
    assert topic_level([strong, weak], T0) == "familiar"
    assert topic_level([strong], T0) == "mastered"
    assert topic_level([], T0) == "new"


# --- streak ------------------------------------------------------------------------------------


def test_streak_counts_utc_days_ending_today_or_yesterday() -> None:
    days = [T0 - dt.timedelta(days=n) for n in (0, 1, 2, 4)]  # today, the two before, then a gap
    assert streak_days(days, T0) == 3
    assert streak_days(days, T0.replace(hour=23, minute=59)) == 3
    assert streak_days(days, T0 + dt.timedelta(days=1)) == 3  # today's practice may still come
    assert streak_days(days, T0 + dt.timedelta(days=2)) == 0
    assert streak_days([], T0) == 0
    late = dt.datetime(2025, 3, 2, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))  # 04:30 UTC on the 3rd
    assert streak_days([late], T0) == 1


def test_practised_by_topic_counts_attempts() -> None:
    history = StudentHistory()
    history = practise(history, "nernst:K", True, T0)
    history, _ = history.after(attempt("concept:leak-channels:0", False, T0, topic="leak-channels"))
    history = practise(history, "nernst:Na", True, T0)
    assert history.practised_by_topic() == {"nernst-equation": 2, "leak-channels": 1}
    assert history.correct_by_topic() == {"nernst-equation": 2}
