"""``/progress show``: a student's mastery per topic, what is due, and the day streak.

Pure: the adapter loads the student's :class:`~bot.tutoring.scheduling.StudentHistory` into
``Request.history``; nothing here reads storage or the clock unless no ``now`` is given.
The answer is compact text (one line per topic, weakest first, so the first screen says what
to practise) and a bar chart (:data:`PROGRESS_BARS`) whose alt text says the same numbers.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Final

from bot.answers.model import ALT_TEXT_LIMIT, Answer, AnswerField, Figure, ProgressView, TopicProgress
from bot.commands import Request
from bot.tutoring.scheduling import LEVELS, CardState, StudentHistory, describe_card, topic_level, utc

PROGRESS_BARS: Final = "progress-bars"
"""Figure kind: one horizontal bar per topic, its length the level (new … mastered)."""
FIGURE_TOPICS: Final = 12
"""Topics the chart shows at most (the weakest): a phone screen's worth of bars."""
DUE_LISTED: Final = 5

_LEVEL_MARK: Final = {"new": "○○○", "learning": "●○○", "familiar": "●●○", "mastered": "●●●"}


def _percent(correct: int, attempts: int) -> str:
    return f"{100 * correct / attempts:.0f} %" if attempts else "—"


def _plural(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


def topics_of(history: StudentHistory, now: dt.datetime) -> tuple[TopicProgress, ...]:
    """Every practised topic (a card state or an attempt kept), weakest first, then by name."""
    cards: dict[str, list[CardState]] = defaultdict(list)
    for state in history.cards.values():
        cards[state.topic].append(state)
    attempts, correct = history.practised_by_topic(), history.correct_by_topic()
    due: dict[str, int] = defaultdict(int)
    for card in history.due(now):
        due[history.cards[card].topic] += 1
    topics = [
        TopicProgress(
            slug=slug,
            level=topic_level(cards.get(slug, ()), now),
            attempts=attempts.get(slug, 0),
            correct=correct.get(slug, 0),
            due=due.get(slug, 0),
        )
        for slug in sorted(set(cards) | set(attempts))
    ]
    return tuple(sorted(topics, key=lambda topic: (LEVELS.index(topic.level), -topic.due, topic.slug)))  # type: ignore[arg-type]


def _topic_line(topic: TopicProgress) -> str:
    due = f" · {topic.due} due" if topic.due else ""
    return (
        f"{_LEVEL_MARK[topic.level]} {topic.slug}: {topic.level}, {_plural(topic.attempts, 'answer')}, "
        f"{_percent(topic.correct, topic.attempts)} right{due}"
    )


def _when(moment: dt.datetime, now: dt.datetime) -> str:
    wait = utc(moment) - utc(now)
    if wait < dt.timedelta(hours=1):
        return f"in {max(1, round(wait.total_seconds() / 60))} min"
    if wait < dt.timedelta(days=1):
        return f"in {round(wait.total_seconds() / 3600)} h"
    return f"on {utc(moment):%Y-%m-%d}"


def _due_field(history: StudentHistory, due: list[str], now: dt.datetime) -> AnswerField:
    if due:
        lines = [describe_card(card) for card in due[:DUE_LISTED]]
        if len(due) > DUE_LISTED:
            lines.append(f"… and {len(due) - DUE_LISTED} more")
        return AnswerField(f"Due now ({len(due)})", "\n".join(lines) + "\n/quiz asks the most overdue first.")
    upcoming = min(history.cards.values(), key=lambda state: (utc(state.due), state.card))
    return AnswerField("Due now", f"Nothing. Next: {describe_card(upcoming.card)} {_when(upcoming.due, now)}.")


def progress_figure(topics: tuple[TopicProgress, ...]) -> Figure:
    """The bar chart request: the weakest :data:`FIGURE_TOPICS` topics, alt text with their numbers."""
    shown = topics[:FIGURE_TOPICS]
    bars = tuple(
        (topic.slug, LEVELS.index(topic.level), topic.attempts, topic.correct)  # type: ignore[arg-type]
        for topic in shown
    )
    parts = [
        f"{topic.slug} {topic.level} ({topic.correct} of {topic.attempts} right)"
        if topic.attempts
        else f"{topic.slug} {topic.level}"
        for topic in shown
    ]
    alt = "Bar chart of mastery per topic, from new (no bar) to mastered (full bar): " + "; ".join(parts) + "."
    if len(topics) > len(shown):
        alt += f" {len(topics) - len(shown)} more topics are listed in the text."
    if len(alt) > ALT_TEXT_LIMIT:
        alt = alt[: ALT_TEXT_LIMIT - 1].rstrip() + "…"
    return Figure(PROGRESS_BARS, "progress.png", alt, (("bars", bars),))


def progress_answer(request: Request, now: dt.datetime | None = None) -> Answer:
    """``/progress show`` from ``request.history`` (None or empty: nothing practised yet)."""
    moment = utc(now or dt.datetime.now(dt.UTC))
    history = request.history or StudentHistory()
    title = "Your progress"
    if not history.cards and not history.attempts:
        return Answer(
            command="progress show",
            title=title,
            headline="Nothing practised yet: /quiz asks your first question.",
            lines=("Each answer is graded; the bot brings each question back when you are about to forget it.",),
            progress=ProgressView(topics=(), due=(), streak_days=0),
        )
    topics = topics_of(history, moment)
    due = history.due(moment)
    streak = history.streak_days(moment)
    attempts = len(history.attempts)
    correct = sum(1 for attempt in history.attempts if attempt.correct)
    mastered = sum(1 for topic in topics if topic.level == "mastered")
    headline = (
        f"{_plural(len(topics), 'topic')} practised, {mastered} mastered · {len(due)} due now · "
        f"streak {_plural(streak, 'day')}"
    )
    fields = [
        AnswerField("Answers", f"{_plural(attempts, 'graded answer')}, {_percent(correct, attempts)} right"),
        _due_field(history, due, moment),
    ]
    return Answer(
        command="progress show",
        title=title,
        headline=headline,
        lines=tuple(_topic_line(topic) for topic in topics),
        fields=tuple(fields),
        footer="Levels from FSRS: learning → familiar (memory lasts a week) → mastered (a month). "
        "Days in UTC. Erase it all with /privacy forget.",
        figures=(progress_figure(topics),),
        progress=ProgressView(topics=topics, due=tuple(due), streak_days=streak),
    )
