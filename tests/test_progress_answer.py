"""/progress show (bot/answers/progress.py): levels per topic, attempts and accuracy, what is
due, the streak; the JSON fields; the text fits Discord; the bar chart draws and its alt text
states the numbers."""

from __future__ import annotations

import datetime as dt

from helpers import assert_valid_answer_json

from bot.answers.progress import PROGRESS_BARS, progress_answer
from bot.commands import Request
from bot.render.discord import render_messages
from bot.render.figures import PNG_SIGNATURE, render_png
from bot.render.terminal import render_text
from bot.tutoring.scheduling import Attempt, StudentHistory

T0 = dt.datetime(2025, 3, 3, 9, 0, tzinfo=dt.UTC)
_ids = iter(range(10_000))


def practise(history: StudentHistory, card: str, topic: str, correct: bool, at: dt.datetime) -> StudentHistory:
    attempt = Attempt(f"a{next(_ids)}", at, "p-1", None, card, topic, "numeric", None, "b", correct)
    return history.after(attempt)[0]


def a_fortnight() -> StudentHistory:
    """nernst:K answered right whenever due (mastered by day 13); a leak-channels concept card
    missed on day 13 then answered right (learning, Hard); GHK answered once (learning)."""
    history, at = StudentHistory(), T0
    for _ in range(4):
        history = practise(history, "nernst:K", "nernst-equation", True, at)
        last, at = at, history.cards["nernst:K"].due
    now = last + dt.timedelta(hours=1)
    history = practise(history, "concept:leak-channels:0", "leak-channels", False, now)
    history = practise(history, "concept:leak-channels:0", "leak-channels", True, now + dt.timedelta(minutes=2))
    history = practise(history, "ghk:2", "ghk-equation", True, now - dt.timedelta(days=1))
    return history


def test_progress_shows_levels_accuracy_due_and_streak() -> None:
    history = a_fortnight()
    now = history.cards["nernst:K"].last_review + dt.timedelta(hours=1, minutes=3)  # leak-channels not yet due
    answer = progress_answer(Request("progress show", history=history), now=now)
    data = answer.to_json()
    assert_valid_answer_json(data)
    topics = {topic["slug"]: topic for topic in data["topics"]}
    assert topics["nernst-equation"] == {
        "slug": "nernst-equation",
        "level": "mastered",
        "attempts": 4,
        "correct": 4,
        "due": 0,
    }
    assert topics["leak-channels"]["level"] == "learning" and topics["leak-channels"]["correct"] == 1
    assert topics["leak-channels"]["attempts"] == 2
    assert [topic["slug"] for topic in data["topics"]][-1] == "nernst-equation"  # weakest first
    assert data["due"] == history.due(now)  # the GHK card (a learning step) is due, most overdue first
    assert "ghk:2" in data["due"] and topics["ghk-equation"]["due"] == 1
    assert data["streak_days"] == 2  # yesterday (GHK) and today
    assert answer.headline == "3 topics practised, 1 mastered · 1 due now · streak 2 days"
    assert answer.lines[-1] == "●●● nernst-equation: mastered, 4 answers, 100 % right"
    fields = {field.name: field.value for field in answer.fields}
    assert fields["Answers"] == "7 graded answers, 86 % right"  # 6 of 7
    assert fields["Due now (1)"].startswith("GHK 2 (numeric)")
    (message,) = render_messages(answer, {})
    assert len(message.embeds) >= 1
    assert "nernst-equation" in render_text(answer)


def test_the_bar_chart_draws_and_its_alt_text_has_the_numbers() -> None:
    answer = progress_answer(Request("progress show", history=a_fortnight()), now=T0 + dt.timedelta(days=14))
    (figure,) = answer.figures
    assert figure.kind == PROGRESS_BARS and figure.filename == "progress.png"
    assert "nernst-equation mastered (4 of 4 right)" in figure.alt_text
    assert "leak-channels learning (1 of 2 right)" in figure.alt_text and len(figure.alt_text) <= 1024
    png = render_png(figure)
    assert png.startswith(PNG_SIGNATURE) and len(png) > 2000


def test_nothing_practised_yet_points_to_quiz() -> None:
    for history in (None, StudentHistory()):
        answer = progress_answer(Request("progress show", history=history), now=T0)
        data = answer.to_json()
        assert_valid_answer_json(data)
        assert (data["topics"], data["due"], data["streak_days"]) == ([], [], 0)
        assert "/quiz" in answer.headline and answer.figures == ()


def test_nothing_due_says_when_the_next_card_is() -> None:
    history = practise(StudentHistory(), "nernst:Na", "nernst-equation", True, T0)
    history = practise(history, "nernst:Na", "nernst-equation", True, T0 + dt.timedelta(minutes=10))
    answer = progress_answer(Request("progress show", history=history), now=T0 + dt.timedelta(minutes=11))
    fields = {field.name: field.value for field in answer.fields}
    due = history.cards["nernst:Na"].due
    assert fields["Due now"] == f"Nothing. Next: Nernst Na (numeric) on {due:%Y-%m-%d}."
    assert answer.to_json()["due"] == []
