"""Instructor analytics and privacy (bot/instructor.py, cogs/instructors.py, cogs/privacy.py,
``membrane-tutor stats`` and ``db backup``), on a small in-memory store that follows
bot/log/api.py's :class:`~bot.log.api.LogStore`.

The answers are checked as a user meets them: rendered for Discord within every limit, user
text (an unanswered question) unable to ping or format, the CSV readable by the csv module,
and the forget flow erasing exactly the clicker's rows after a restart-proof button.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import discord
import pytest
from helpers import mock_interaction, sent_kwargs

import bot.__main__ as cli
from bot import instructor
from bot.answers import Answer, Services
from bot.app.bot import TutorBot
from bot.app.cooldowns import MemoryCooldowns
from bot.app.recording import Recorder
from bot.log import SqliteStore
from bot.log.api import DayCount, LogRow, LogStore, Stats
from bot.physiology import InputError
from bot.render import limits
from bot.render.discord import render_messages
from bot.render.terminal import render_text
from bot.tutoring.memory import MemoryProgress
from bot.tutoring.scheduling import Attempt, review_attempt
from cogs.privacy import CANCEL_ID, FORGET_ID, NOT_SET_UP, CancelButton, ForgetButton

GUILD = "777888999000111222"
OTHER_GUILD = "123"
TODAY = dt.date(2025, 3, 14)
NOW = dt.datetime(2025, 3, 14, 12, 0, tzinfo=dt.UTC)
NASTY = "@everyone **free** <@123> [click](https://evil.example) ||spoiler|| `code`\n# heading \u202eevil"


# --- a fake store that follows bot/log/api.py ---------------------------------------------------


class FakeStore(MemoryProgress):
    """In memory; ``now`` fixes the clock so that ``days`` windows are deterministic. Practice
    progress is the terminal's memory store (record_attempt, history, save_card)."""

    def __init__(self, rows: list[LogRow] | None = None, *, unwritten: int = 0, now: dt.datetime = NOW) -> None:
        super().__init__()
        self.rows: list[LogRow] = list(rows or [])
        self.unwritten = unwritten
        self.now = now
        self.logging: dict[str, bool] = {}
        self.asked_days: list[int] = []
        self.backups: list[str] = []
        self.opened = self.closed = False

    async def open(self) -> None:
        self.opened = True

    async def close(self) -> None:
        self.closed = True

    async def write(self, rows: list[LogRow]) -> None:
        known = {row.id for row in self.rows}
        self.rows.extend(row for row in rows if row.id not in known)

    def _window(self, guild: str, days: int) -> list[LogRow]:
        since = self.now - dt.timedelta(days=days)
        return [row for row in self.rows if row.guild == guild and row.at >= since]

    async def stats(self, guild: str, days: int) -> Stats:
        self.asked_days.append(days)
        rows = self._window(guild, days)
        by_day = Counter((row.at.date(), row.command) for row in rows)
        unanswered = Counter(str(row.options.get("question")) for row in rows if row.answered is False)
        return Stats(
            days=days,
            total=len(rows),
            by_command=dict(Counter(row.command for row in rows).most_common()),
            by_day=[DayCount(day, command, n) for (day, command), n in sorted(by_day.items())],
            top_topics=Counter(row.topic for row in rows if row.topic and row.answered is not False).most_common(10),
            unanswered=unanswered.most_common(10),
            errors=dict(Counter(row.outcome for row in rows if row.outcome != "ok")),
            unwritten=self.unwritten,
        )

    async def servers(self, days: int) -> list[tuple[str, int]]:
        self.asked_days.append(days)
        since = self.now - dt.timedelta(days=days)
        counts = Counter(row.guild for row in self.rows if row.guild is not None and row.at >= since)
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    async def export_csv(self, guild: str, days: int) -> str:
        self.asked_days.append(days)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["id", "at", "command", "options", "outcome", "question"])
        for row in self._window(guild, days):
            writer.writerow(
                [row.id, row.at.isoformat(), row.command, row.options, row.outcome, row.options.get("question")]
            )
        return out.getvalue()

    async def rows_for(self, user: str) -> list[LogRow]:
        return [row for row in self.rows if row.user == user]

    async def forget(self, user: str) -> int:
        before = len(self.rows)
        self.rows = [row for row in self.rows if row.user != user]
        return before - len(self.rows) + await super().forget(user)

    async def purge(self, before: dt.datetime) -> int:
        kept = [row for row in self.rows if row.at >= before]
        gone, self.rows = len(self.rows) - len(kept), kept
        return gone

    async def set_logging(self, guild: str, enabled: bool) -> None:
        self.logging[guild] = enabled

    async def logging_enabled(self, guild: str) -> bool:
        return self.logging.get(guild, True)

    async def backup(self, target: str) -> None:
        self.backups.append(target)
        Path(target).write_text("a consistent copy", encoding="utf-8")


def _store(_: LogStore) -> None:
    """The fake satisfies the Protocol (checked by a type checker; a no-op at run time)."""


_store(FakeStore())


class FakePseudonyms:
    def of(self, user_id: int | str) -> str:
        return f"p-{user_id}"


def row(
    n: int,
    command: str = "nernst",
    *,
    days_ago: float = 0,
    user: str = "p-1",
    guild: str | None = GUILD,
    **extra: Any,
) -> LogRow:
    return LogRow(
        id=f"row-{n}",
        at=NOW - dt.timedelta(days=days_ago),
        kind="interaction",
        guild=guild,
        channel="555",
        user=user,
        command=command,
        **extra,
    )


def class_rows() -> list[LogRow]:
    """Three weeks of a class: commands on most days, topics, unanswered and failed asks."""
    rows: list[LogRow] = []
    n = 0
    for day in range(21):
        for _ in range(day % 5 + (day % 3 == 0) * 4):  # some days quiet, none negative
            n += 1
            rows.append(row(n, "nernst", days_ago=day + 0.1, options={"ion": "K"}))
    for topic, count in (("leak-channels", 6), ("nernst-equation", 3)):
        for _ in range(count):
            n += 1
            rows.append(row(n, "explain", days_ago=2, options={"topic": topic}, topic=topic))
    for question, count in ((NASTY, 3), ("how do i calculate an iv drip rate", 1)):
        for _ in range(count):
            n += 1
            rows.append(row(n, "ask", days_ago=1, options={"question": question}, answered=False, confidence=0.1))
    n += 1
    rows.append(row(n, "restpot", days_ago=3, outcome="input"))
    n += 1
    rows.append(row(n, "restpot", days_ago=3, outcome="internal"))
    n += 1
    rows.append(row(n, "nernst", days_ago=1, guild=OTHER_GUILD))  # another server: never counted here
    return rows


def assert_fits_discord(answer: Answer) -> list[Any]:
    messages = render_messages(answer)
    assert len(messages) == 1, "one message on a phone"
    for message in messages:
        assert len(message.embeds) <= limits.EMBEDS_PER_MESSAGE
        assert message.size() <= limits.EMBEDS_TOTAL
        for embed in message.embeds:
            assert len(embed.title or "") <= limits.EMBED_TITLE
            assert len(embed.description or "") <= limits.EMBED_DESCRIPTION
            assert len(embed.fields) <= limits.EMBED_FIELDS
            for field in embed.fields:
                assert len(field.name or "") <= limits.FIELD_NAME and len(field.value or "") <= limits.FIELD_VALUE
    return messages


def _everything(answer: Answer) -> str:
    return "\n".join([answer.title, answer.headline, *answer.lines, *(f.name + f.value for f in answer.fields)])


# --- safe text --------------------------------------------------------------------------------


def test_harmless_defuses_mentions_markup_links_and_invisible_characters() -> None:
    text = instructor.harmless(NASTY, limit=200)
    assert "@everyone" not in text and "<@" not in text and "](" not in text and "://" not in text
    assert not set(text) & set("*_~`|<>[]\\#@")
    assert "\n" not in text and "\u202e" not in text
    assert "everyone" in text and "free" in text and "click" in text  # still readable
    short = instructor.harmless("why " * 100)
    assert len(short) <= instructor.QUESTION_CHARS and short.endswith("…")
    assert instructor.harmless("a\x00b\u200bc\u2028d") == "a bc d"


# --- /stats show ------------------------------------------------------------------------------


def test_the_bar_grows_in_eighths_and_never_hides_a_count() -> None:
    assert instructor.bar(10, 10) == "█" * instructor.BAR_WIDTH
    assert instructor.bar(5, 10) == "█" * (instructor.BAR_WIDTH // 2)
    assert instructor.bar(1, 1000) == "▏"  # one interaction still shows
    assert instructor.bar(0, 10) == "" and instructor.bar(3, 0) == ""
    lengths = [len(instructor.bar(n, 80).rstrip("▏▎▍▌▋▊▉")) for n in range(0, 81, 8)]
    assert lengths == sorted(lengths)


def test_the_day_chart_shows_at_most_14_days_oldest_first_with_empty_days() -> None:
    by_day = [DayCount(TODAY - dt.timedelta(days=d), "nernst", d + 1) for d in range(0, 30, 2)]
    name, chart = instructor.day_chart(by_day, 30, TODAY)
    lines = chart.splitlines()
    assert name == "By day (the last 14 of 30 days)" and len(lines) == 14
    assert lines[-1].startswith(f"{TODAY:%m-%d} ") and lines[-1].endswith(" 1")
    assert lines[0].startswith(f"{TODAY - dt.timedelta(days=13):%m-%d} ")
    assert f"{TODAY - dt.timedelta(days=1):%m-%d} · 0" in lines  # a quiet day
    assert all(len(line) <= 30 for line in lines), "fits a phone without wrapping"
    name, chart = instructor.day_chart(by_day, 7, TODAY)
    assert name == "By day" and len(chart.splitlines()) == 7


async def test_stats_show_on_a_class_fits_discord_and_quotes_questions_harmlessly() -> None:
    store = FakeStore(class_rows())
    answer = await instructor.stats_show(store, GUILD, 30, today=TODAY)
    total = len([r for r in store.rows if r.guild == GUILD])
    assert answer.headline == f"{total:,} interactions in the last 30 days."
    fields = {field.name.split(" (")[0]: field.value for field in answer.fields}
    assert set(fields) >= {"By command", "By day", "Most explained topics", "Unanswered questions", "Errors"}
    assert fields["By command"].splitlines()[0].startswith("/nernst ")
    assert "█" in fields["By day"] and len(fields["By day"].splitlines()) == instructor.CHART_DAYS
    assert fields["Most explained topics"].splitlines() == ["leak-channels 6", "nernst-equation 3"]
    questions = fields["Unanswered questions"].splitlines()
    assert questions[0].startswith("“") and questions[0].endswith("” ×3")
    assert "iv drip rate” ×1" in questions[1]
    assert "bad input 1" in fields["Errors"] and "bot errors 1" in fields["Errors"]
    assert "Not stored" not in fields
    shown = _everything(answer)
    assert "@everyone" not in shown and "<@123>" not in shown and "**free**" not in shown and "://" not in shown
    (message,) = assert_fits_discord(answer)
    rendered = "".join(str(embed.to_dict()) for embed in message.embeds)
    assert "@everyone" not in rendered and "<@123>" not in rendered and "||spoiler||" not in rendered
    assert "Class activity" in message.embeds[0].title


async def test_stats_show_reports_what_could_not_be_stored_and_logging_off() -> None:
    store = FakeStore([row(1)], unwritten=42)
    await store.set_logging(GUILD, False)
    answer = await instructor.stats_show(store, GUILD, 7, today=TODAY)
    (not_stored,) = [f.value for f in answer.fields if f.name == "Not stored"]
    assert "42 interactions could not be written" in not_stored
    assert any("Logging is off" in line for line in answer.lines)
    assert_fits_discord(answer)


async def test_stats_show_without_data_says_so_briefly() -> None:
    answer = await instructor.stats_show(FakeStore(), GUILD, None, today=TODAY)
    assert answer.headline == "No interactions logged in the last 30 days." and answer.fields == ()
    assert_fits_discord(answer)


async def test_the_days_default_to_30_and_are_bounded() -> None:
    store = FakeStore()
    await instructor.stats_show(store, GUILD, None)
    await instructor.stats_show(store, GUILD, 365)
    assert store.asked_days == [30, 365]
    for bad in (0, 366, -1, True, 7.5):
        with pytest.raises(InputError, match="days"):
            await instructor.stats_show(store, GUILD, bad)  # type: ignore[arg-type]


def test_a_huge_stats_still_fits_one_message() -> None:
    long = "why " * 200
    stats = Stats(
        days=365,
        total=10**7,
        by_command={f"command-{n}": 10**6 - n for n in range(40)},
        by_day=[DayCount(TODAY - dt.timedelta(days=d), "nernst", 10**5 + d) for d in range(365)],
        top_topics=[(f"topic-{n}-" + "x" * 80, 1000 - n) for n in range(40)],
        unanswered=[(f"{n} {long}", 100 - n) for n in range(40)],
        errors={f"kind-{n}": n + 1 for n in range(20)},
        unwritten=12345,
    )
    answer = instructor.stats_answer(stats, today=TODAY)
    assert_fits_discord(answer)
    assert "12,345" in next(f.value for f in answer.fields if f.name == "Not stored")


# --- /stats export and /stats logging ------------------------------------------------------------


async def test_the_export_is_csv_the_csv_module_reads_with_formulas_defused() -> None:
    rows = [*class_rows(), row(999, "ask", options={"question": '=HYPERLINK("x")'}, answered=False)]
    store = FakeStore(rows)
    answer, data = await instructor.stats_export(store, GUILD, 30)
    assert store.asked_days == [30]
    records = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    expected = [r for r in rows if r.guild == GUILD]
    assert len(records) == len(expected)
    assert [r["id"] for r in records] == [r.id for r in expected]
    assert records[-1]["question"] == '\'=HYPERLINK("x")'  # a spreadsheet shows it, never runs it
    assert f"{len(expected):,} interactions" in answer.headline and instructor.CSV_NAME in answer.headline
    assert "question" in answer.fields[0].value
    assert_fits_discord(answer)


def test_safe_csv_keeps_numbers_and_counts_rows() -> None:
    data, rows = instructor.safe_csv('a,b\n-65.2,-x\n"+1",@me\n')
    assert rows == 2
    assert list(csv.reader(io.StringIO(data.decode("utf-8-sig")))) == [["a", "b"], ["-65.2", "'-x"], ["'+1", "'@me"]]
    assert instructor.safe_csv("")[1] == 0


async def test_set_logging_switches_the_server_and_says_what_it_means() -> None:
    store = FakeStore()
    off = await instructor.set_logging(store, GUILD, False)
    assert store.logging == {GUILD: False} and "off" in off.headline
    on = await instructor.set_logging(store, GUILD, True)
    assert store.logging == {GUILD: True} and "on" in on.headline and "/privacy" in _everything(on)


# --- /privacy ---------------------------------------------------------------------------------


async def test_privacy_show_says_what_is_kept_and_why() -> None:
    store = FakeStore(
        [
            row(1, "nernst", days_ago=10, user="p-7"),
            row(2, "ask", days_ago=1, user="p-7", guild=None),
            row(3, "nernst", days_ago=2, user="p-7"),
            row(4, "restpot", user="p-8"),
        ]
    )
    answer = await instructor.privacy_show(store, "p-7")
    first, last = NOW - dt.timedelta(days=10), NOW - dt.timedelta(days=1)
    assert answer.headline == f"3 interactions of yours, from {first:%Y-%m-%d} to {last:%Y-%m-%d}."
    fields = {f.name: f.value for f in answer.fields}
    assert fields["Commands"] == "/nernst 2, /ask 1"
    assert fields["Where"] == "1 server and direct messages"
    assert "pseudonym" in answer.lines[0] and "Why" in answer.lines[0]
    assert_fits_discord(answer)
    nothing = await instructor.privacy_show(store, "p-nobody")
    assert nothing.headline.startswith("Nothing") and instructor.PRIVACY_SENTENCE in nothing.lines


async def test_privacy_forget_erases_only_that_pseudonym_and_counts() -> None:
    store = FakeStore([row(1, user="p-7"), row(2, user="p-7"), row(3, user="p-8")])
    prompt, anything = await instructor.forget_prompt(store, "p-7")
    assert anything and "2 interactions" in prompt.headline and len(store.rows) == 3  # asking erases nothing
    answer = await instructor.privacy_forget(store, "p-7")
    assert answer.headline == "Erased 2 interactions kept about you."
    assert [r.user for r in store.rows] == ["p-8"]
    again = await instructor.privacy_forget(store, "p-7")
    assert again.headline.startswith("Nothing to erase")
    assert (await instructor.forget_prompt(store, "p-7"))[1] is False


# --- practice: /stats, /stats export, /privacy ------------------------------------------------------


def graded(n: int, user: str, card: str, correct: bool, *tags: str, days_ago: float = 0) -> Attempt:
    return Attempt(
        id=f"attempt-{n}",
        at=NOW - dt.timedelta(days=days_ago),
        user=user,
        guild=GUILD,
        card=card,
        topic="leak-channels" if card.startswith("concept:") else "nernst-equation",
        kind="concept" if card.startswith("concept:") else "numeric",
        problem=None,
        given="-130 mV",
        correct=correct,
        mistakes=tags,
    )


async def practised(store: Any, *attempts: Attempt) -> None:
    for attempt in attempts:
        history = await store.history(attempt.user)
        await store.record_attempt(attempt)
        await store.save_card(attempt.user, review_attempt(history, attempt))


async def test_stats_show_names_the_most_missed_questions_and_the_commonest_mistakes() -> None:
    stats = Stats(
        days=30,
        total=12,
        by_command={"quiz": 12},
        by_day=[DayCount(TODAY, "quiz", 12)],
        top_topics=[],
        unanswered=[],
        errors={},
        unwritten=0,
        attempts=12,
        missed=[("nernst:Ca", 5, 7), ("concept:leak-channels:1", 2, 3), ("ghk:3", 1, 2)],
        mistakes=[("valence-ignored", 4), ("log10-without-2.303", 2), ("sign-flipped", 1)],
    )
    answer = instructor.stats_answer(stats, today=TODAY)
    fields = {field.name: field.value for field in answer.fields}
    assert fields["Most missed questions (12 graded answers)"].splitlines() == [
        "Nernst Ca (numeric): 5 of 7 wrong",
        "leak-channels, concept question 2: 2 of 3 wrong",
        "GHK 3 (numeric): 1 of 2 wrong",
    ]
    assert fields["Commonest mistakes (by tag)"] == "valence-ignored 4 · log10-without-2.303 2 · sign-flipped 1"
    assert_fits_discord(answer)
    quiet = instructor.stats_answer(replace(stats, missed=[], mistakes=[]), today=TODAY)
    assert {field.name: field.value for field in quiet.fields}["Practice"] == "12 graded answers, none wrong."
    none = instructor.stats_answer(replace(stats, attempts=0, missed=[], mistakes=[]), today=TODAY)
    assert not any(field.name.startswith(("Most missed", "Practice", "Commonest")) for field in none.fields)


def test_card_labels_are_readable_and_harmless() -> None:
    assert instructor.card_label("nernst:K") == "Nernst K (numeric)"
    assert instructor.card_label("whatif") == "What-if (numeric)"
    assert instructor.card_label("concept:resting-membrane-potential:0") == (
        "resting-membrane-potential, concept question 1"
    )
    assert "@" not in instructor.card_label("@everyone")


async def test_stats_and_export_from_the_database_include_attempts(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "log.db")
    await store.open()
    try:
        now = dt.datetime.now(dt.UTC)  # stats_show reads the real clock's last 30 days
        await store.write([replace(row(1, "quiz", user="p-7"), at=now)])
        attempts = (
            graded(1, "p-7", "nernst:Ca", False, "valence-ignored"),
            graded(2, "p-8", "nernst:Ca", False, "valence-ignored", "rule-of-60"),
            graded(3, "p-8", "concept:leak-channels:0", True),
        )
        await practised(store, *(replace(attempt, at=now) for attempt in attempts))
        answer = await instructor.stats_show(store, GUILD, 30, today=TODAY)
        fields = {field.name: field.value for field in answer.fields}
        assert fields["Most missed questions (3 graded answers)"] == "Nernst Ca (numeric): 2 of 2 wrong"
        assert fields["Commonest mistakes (by tag)"] == "valence-ignored 2 · rule-of-60 1"
        export, data = await instructor.stats_export(store, GUILD, 30)
        assert export.headline == "4 rows (1 interaction, 3 graded answers) from the last 30 days, in interactions.csv."
        records = list(csv.DictReader(io.StringIO(data.decode(instructor.CSV_ENCODING))))
        assert [record["kind"] for record in records].count("attempt") == 3
        assert {record["mistakes"] for record in records if record["kind"] == "attempt"} == {
            "valence-ignored",
            "valence-ignored rule-of-60",
            "",
        }
        assert all("p-7" not in value and "p-8" not in value for record in records for value in record.values())
    finally:
        await store.close()


async def test_privacy_show_lists_the_progress_kept_and_forget_erases_it() -> None:
    store = FakeStore([row(1, "quiz", days_ago=3, user="p-7"), row(2, "quiz", user="p-8")])
    await practised(
        store,
        graded(1, "p-7", "nernst:Ca", False, "valence-ignored", days_ago=3),
        graded(2, "p-7", "concept:leak-channels:0", True, days_ago=1),
        graded(3, "p-8", "nernst:K", True),
    )
    shown = await instructor.privacy_show(store, "p-7")
    first, last = NOW - dt.timedelta(days=3), NOW - dt.timedelta(days=1)
    assert shown.headline == (
        f"1 interaction, 2 graded answers and 2 practice cards of yours, from {first:%Y-%m-%d} to {last:%Y-%m-%d}."
    )
    fields = {field.name: field.value for field in shown.fields}
    assert fields["Practice"].startswith("2 cards in 2 topics (kept until you erase them), 2 graded answers")
    assert instructor.PRACTICE_SENTENCE in shown.lines
    assert_fits_discord(shown)
    prompt, anything = await instructor.forget_prompt(store, "p-7")
    assert anything and "2 graded answers" in prompt.headline
    erased = await instructor.privacy_forget(store, "p-7")
    assert erased.headline == "Erased 1 interaction, 2 graded answers and 2 practice cards kept about you."
    assert (await instructor.forget_prompt(store, "p-7"))[1] is False
    assert len((await store.history("p-8")).attempts) == 1  # another student's practice stays


async def test_practice_alone_is_shown_and_erasable() -> None:
    """Attempts from a DM with no interaction row left (e.g. purged): still listed, still erased."""
    store = FakeStore()
    await practised(store, graded(1, "p-7", "nernst:K", True))
    await store.purge(NOW + dt.timedelta(days=1))  # FakeStore's purge: interactions only
    assert (await instructor.privacy_show(store, "p-7")).headline.startswith("1 graded answer and 1 practice card")
    assert (await instructor.privacy_forget(store, "p-7")).headline.startswith("Erased 1 graded answer")


# --- the cogs -----------------------------------------------------------------------------------


@pytest.fixture
async def tutor_bot() -> AsyncIterator[TutorBot]:
    async with TutorBot(services=Services.load(), cooldowns=MemoryCooldowns()) as created:
        await created.setup_hook()
        yield created


def with_log(bot: TutorBot, store: FakeStore, **log: Any) -> None:
    bot.recorder = Recorder(SimpleNamespace(store=store, **log), FakePseudonyms())  # type: ignore[arg-type]


def without_log(bot: TutorBot) -> None:
    bot.recorder = Recorder(None, None)


def _subcommand(bot: TutorBot, qualified: str) -> Any:
    group, name = qualified.split()
    command = bot.tree.get_command(group).get_command(name)  # type: ignore[union-attr]
    assert command is not None
    return command


async def test_stats_show_on_discord_is_private_and_deferred(tutor_bot: TutorBot) -> None:
    with_log(tutor_bot, FakeStore(class_rows()))
    interaction = mock_interaction(command="stats show")
    await _subcommand(tutor_bot, "stats show").callback(interaction, days=7)
    interaction.response.defer.assert_awaited_once_with(thinking=True, ephemeral=True)
    (sent,) = sent_kwargs(interaction)
    assert sent["ephemeral"] is True and sent["embeds"][0].title == "Class activity · last 7 days"
    assert sent["allowed_mentions"].everyone is False


async def test_stats_export_on_discord_attaches_the_csv_with_a_description(tutor_bot: TutorBot) -> None:
    store = FakeStore(class_rows())
    with_log(tutor_bot, store)
    interaction = mock_interaction(command="stats export")
    await _subcommand(tutor_bot, "stats export").callback(interaction, days=None)
    assert store.asked_days == [instructor.DEFAULT_DAYS]
    (sent,) = sent_kwargs(interaction)
    (attached,) = sent["files"]
    assert attached.filename == "interactions.csv" and sent["ephemeral"] is True
    assert attached.description and len(attached.description) <= limits.ATTACHMENT_DESCRIPTION
    data = attached.fp.read().decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(data)))) == 1 + len([r for r in store.rows if r.guild == GUILD])


async def test_stats_logging_on_discord_switches_the_servers_setting(tutor_bot: TutorBot) -> None:
    store = FakeStore()
    with_log(tutor_bot, store)
    interaction = mock_interaction(command="stats logging")
    await _subcommand(tutor_bot, "stats logging").callback(interaction, state="off")
    assert store.logging == {str(interaction.guild_id): False}
    (sent,) = sent_kwargs(interaction)
    assert sent["ephemeral"] is True and "off" in sent["embeds"][0].description


@pytest.mark.parametrize("qualified", ["stats show", "stats export", "stats logging", "privacy show", "privacy forget"])
async def test_without_logging_every_command_says_so_privately(tutor_bot: TutorBot, qualified: str) -> None:
    without_log(tutor_bot)
    interaction = mock_interaction(command=qualified)
    options = {"state": "on"} if qualified == "stats logging" else {}
    await _subcommand(tutor_bot, qualified).callback(interaction, **options)
    (sent,) = sent_kwargs(interaction)
    assert sent["ephemeral"] is True and sent["content"].startswith("Logging is not set up on this bot.")


async def test_privacy_show_on_discord_is_ephemeral(tutor_bot: TutorBot) -> None:
    with_log(tutor_bot, FakeStore([row(1, user="p-42"), row(2, user="p-43")]))
    interaction = mock_interaction(command="privacy show", user_id=42, guild_id=None)
    await _subcommand(tutor_bot, "privacy show").callback(interaction)
    (sent,) = sent_kwargs(interaction)
    assert sent["ephemeral"] is True and sent["embeds"][0].description.startswith("**1 interaction of yours")


# --- the forget flow ------------------------------------------------------------------------------


def test_the_forget_buttons_have_stable_ids_and_are_registered(tutor_bot: TutorBot) -> None:
    assert ForgetButton().custom_id == FORGET_ID == "privacy:forget"
    assert CancelButton().custom_id == CANCEL_ID and ForgetButton().custom_id == ForgetButton().custom_id
    assert ForgetButton().item.style is discord.ButtonStyle.danger and ForgetButton().item.label == "Forget my data"
    # What discord.py dispatches clicks to (the cog's module is loaded afresh by load_extension: compare by name).
    registered = tutor_bot._connection._view_store._dynamic_items
    by_name = {item.__name__: pattern for pattern, item in registered.items()}
    assert by_name["ForgetButton"].fullmatch(FORGET_ID) and by_name["CancelButton"].fullmatch(CANCEL_ID)


async def _click(bot: TutorBot, factory: type[Any], custom_id: str, user_id: int) -> Any:
    """A click as discord.py handles it after a restart: the item rebuilt from its custom_id alone."""
    interaction = mock_interaction(command=None, user_id=user_id)
    interaction.client = bot
    match = factory.__discord_ui_compiled_template__.fullmatch(custom_id)
    assert match is not None
    item = await factory.from_custom_id(interaction, discord.ui.Button(custom_id=custom_id), match)
    await item.callback(interaction)
    return interaction


async def test_forget_asks_first_then_erases_the_clickers_rows(tutor_bot: TutorBot) -> None:
    store = FakeStore([row(1, user="p-42"), row(2, user="p-42"), row(3, user="p-43")])
    with_log(tutor_bot, store)
    asked = mock_interaction(command="privacy forget", user_id=42)
    await _subcommand(tutor_bot, "privacy forget").callback(asked)
    (prompt,) = sent_kwargs(asked)
    assert prompt["ephemeral"] is True and "2 interactions" in prompt["embeds"][0].description
    forget, cancel = prompt["view"].children
    assert (forget.custom_id, cancel.custom_id) == (FORGET_ID, CANCEL_ID)
    assert len(store.rows) == 3, "nothing is erased before the click"

    clicked = await _click(tutor_bot, ForgetButton, FORGET_ID, user_id=42)
    clicked.response.defer.assert_awaited_once()
    edit = clicked.edit_original_response.await_args.kwargs
    assert edit["view"] is None and edit["embeds"][0].description.startswith("**Erased 2 interactions")
    assert [r.user for r in store.rows] == ["p-43"]


async def test_a_click_erases_the_clicker_not_whoever_asked(tutor_bot: TutorBot) -> None:
    store = FakeStore([row(1, user="p-42"), row(2, user="p-43")])
    with_log(tutor_bot, store)
    clicked = await _click(tutor_bot, ForgetButton, FORGET_ID, user_id=43)
    assert [r.user for r in store.rows] == ["p-42"]
    assert "Erased 1 interaction " in clicked.edit_original_response.await_args.kwargs["embeds"][0].description


async def test_cancel_erases_nothing(tutor_bot: TutorBot) -> None:
    store = FakeStore([row(1, user="p-42")])
    with_log(tutor_bot, store)
    clicked = await _click(tutor_bot, CancelButton, CANCEL_ID, user_id=42)
    assert len(store.rows) == 1
    edit = clicked.edit_original_response.await_args.kwargs
    assert edit["content"] == "Nothing was erased." and edit["view"] is None


async def test_nothing_stored_means_no_buttons(tutor_bot: TutorBot) -> None:
    with_log(tutor_bot, FakeStore())
    asked = mock_interaction(command="privacy forget", user_id=42)
    await _subcommand(tutor_bot, "privacy forget").callback(asked)
    (prompt,) = sent_kwargs(asked)
    assert "view" not in prompt and "Nothing to erase" in prompt["embeds"][0].description


async def test_a_click_without_logging_gets_one_private_line(tutor_bot: TutorBot) -> None:
    without_log(tutor_bot)
    clicked = await _click(tutor_bot, ForgetButton, FORGET_ID, user_id=42)
    (sent,) = sent_kwargs(clicked)
    assert sent["ephemeral"] is True and sent["content"] == NOT_SET_UP


async def test_forget_waits_for_queued_rows_first(tutor_bot: TutorBot) -> None:
    store = FakeStore([row(1, user="p-42")])
    queued = [row(2, user="p-42")]

    async def flush(timeout: float | None = None) -> None:
        await store.write(queued)

    with_log(tutor_bot, store, flush=flush)
    clicked = await _click(tutor_bot, ForgetButton, FORGET_ID, user_id=42)
    assert store.rows == []
    assert "Erased 2 interactions" in clicked.edit_original_response.await_args.kwargs["embeds"][0].description


# --- the command line ------------------------------------------------------------------------------


@pytest.fixture
def fake_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[FakeStore]]:
    """A database file and the stores the CLI opened on it (the fake, not SQLite)."""
    path = tmp_path / "log.db"
    path.write_bytes(b"")
    opened: list[FakeStore] = []

    def open_store(where: Path) -> FakeStore:
        assert where == path
        now = dt.datetime.now(dt.UTC)
        store = FakeStore([replace(r, at=r.at + (now - NOW)) for r in class_rows()], now=now)
        opened.append(store)
        return store

    monkeypatch.setattr(cli, "_open_store", open_store)
    return path, opened


def test_cli_stats_prints_the_same_stats_as_text(
    fake_db: tuple[Path, list[FakeStore]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, opened = fake_db
    assert cli.main(["stats", "--db", str(path), "--guild", GUILD, "--days", "7"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Class activity · last 7 days")
    assert "By day:" in out and "█" in out and "Unanswered questions" in out and "@everyone" not in out
    day_lines = [line for line in out.splitlines() if re.match(r"^  \d\d-\d\d ", line)]
    assert len(day_lines) == 7  # one line per day, as on Discord
    (store,) = opened
    assert store.opened and store.closed and store.asked_days == [7]


def test_cli_stats_refuses_bad_input_in_one_line(
    fake_db: tuple[Path, list[FakeStore]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = fake_db
    assert cli.main(["stats", "--db", str(tmp_path / "missing.db"), "--guild", "1"]) == 2
    assert "no interaction log" in capsys.readouterr().err
    assert cli.main(["stats", "--db", str(path), "--guild", "1", "--days", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: `days`") and err.count("\n") == 1


def test_cli_stats_without_a_server_lists_the_servers(
    fake_db: tuple[Path, list[FakeStore]], capsys: pytest.CaptureFixture[str]
) -> None:
    """An operator at a terminal has no server id at hand: the log's servers, busiest first."""
    path, _ = fake_db
    assert cli.main(["stats", "--db", str(path), "--days", "30"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Servers · last 30 days" and "2 servers, busiest first" in lines[2]
    listed = [line.strip() for line in lines if line.strip().startswith((GUILD, OTHER_GUILD))]
    assert listed[0].startswith(f"{GUILD}  ") and listed[1] == f"{OTHER_GUILD}  1 interaction"
    assert cli.main(["stats", "--db", str(path), "--days", "0"]) == 2
    assert capsys.readouterr().err.startswith("error: `days`")


async def test_servers_show_with_an_empty_log_says_so() -> None:
    answer = await instructor.servers_show(FakeStore([]))
    assert answer.headline == "No server interactions logged." and not answer.lines


def test_cli_db_backup_copies_through_the_store(
    fake_db: tuple[Path, list[FakeStore]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, opened = fake_db
    target = tmp_path / "copy.db"
    assert cli.main(["db", "backup", str(target), "--db", str(path)]) == 0
    assert opened[0].backups == [str(target)] and target.read_text() == "a consistent copy"
    assert "backed up" in capsys.readouterr().out
    assert cli.main(["db", "backup", str(path), "--db", str(path)]) == 2
    assert cli.main(["db", "backup", str(tmp_path / "nowhere" / "copy.db"), "--db", str(path)]) == 2


def test_cli_stats_and_backup_on_a_real_sqlite_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The same commands on ``bot.log.SqliteStore``, once the log package exports it."""
    log_package = pytest.importorskip("bot.log")
    if not hasattr(log_package, "SqliteStore"):
        pytest.skip("bot.log does not export SqliteStore yet")
    import asyncio

    path = tmp_path / "log.db"

    async def fill() -> None:
        store = log_package.SqliteStore(path)
        await store.open()
        try:
            now = dt.datetime.now(dt.UTC)
            await store.write(
                [
                    LogRow(f"r{n}", now - dt.timedelta(hours=n), "interaction", GUILD, "5", "p", "nernst")
                    for n in range(30)
                ]
                + [LogRow("dm", now, "interaction", None, "6", "p", "nernst")]
            )
        finally:
            await store.close()

    asyncio.run(fill())
    assert cli.main(["stats", "--db", str(path), "--guild", GUILD]) == 0
    out = capsys.readouterr().out
    assert "30 interactions in the last 30 days." in out and "/nernst 30" in out
    assert cli.main(["stats", "--db", str(path)]) == 0
    servers = capsys.readouterr().out
    assert f"{GUILD}  30 interactions" in servers and "None" not in servers  # a DM has no server
    target = tmp_path / "copy.db"
    assert cli.main(["db", "backup", str(target), "--db", str(path)]) == 0
    assert target.stat().st_size > 0


def test_terminal_text_keeps_a_charts_lines() -> None:
    answer = instructor.stats_answer(
        Stats(7, 3, {"nernst": 3}, [DayCount(TODAY, "nernst", 3)], [], [], {}, 0), today=TODAY
    )
    text = render_text(answer)
    assert f"  {TODAY:%m-%d} {'█' * instructor.BAR_WIDTH} 3" in text.splitlines()


async def test_an_export_too_big_for_discord_says_to_choose_fewer_days(
    tutor_bot: TutorBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_log(tutor_bot, FakeStore(class_rows()))
    monkeypatch.setattr(limits, "UPLOAD_BYTES", 100)
    interaction = mock_interaction(command="stats export")
    await _subcommand(tutor_bot, "stats export").callback(interaction, days=60)
    (sent,) = sent_kwargs(interaction)
    assert "files" not in sent and sent["ephemeral"] is True
    assert "choose fewer days, e.g. /stats export days:15" in sent["content"]
