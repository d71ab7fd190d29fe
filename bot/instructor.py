"""Instructor analytics and a user's privacy, as platform-neutral answers.

``/stats show|export|logging`` and ``/privacy show|forget`` read and change the
interaction log through :class:`~bot.log.api.LogStore` only; each handler returns an
:class:`~bot.answers.Answer` that the Discord adapter (cogs/instructors.py,
cogs/privacy.py) and the terminal (``membrane-tutor stats``) render as they render every
other answer. No discord import here.

Text that users typed (an unanswered /ask question) is shown to instructors through
:func:`harmless`: one line, shortened, with the characters that chat markup, mentions and
links are made of replaced by look-alikes, so it can neither ping anyone nor format or
disguise itself.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from collections import Counter
from typing import TYPE_CHECKING, Final

from bot.answers import Answer, AnswerField
from bot.commands import DAYS
from bot.log.api import DayCount, LogRow, LogStore, Stats
from bot.physiology import InputError

if TYPE_CHECKING:
    from bot.tutoring.scheduling import StudentHistory

DEFAULT_DAYS: Final = 30
CHART_DAYS: Final = 14
"""Days the chart shows at most: one short line each, a phone screen's worth."""
BAR_WIDTH: Final = 10
"""Cells in the longest bar; with eighth blocks that is 80 steps."""
QUESTION_CHARS: Final = 90
LISTED: Final = 10
"""Commands, topics and questions listed at most (the rest are summed up in one line)."""
CSV_NAME: Final = "interactions.csv"
CSV_ENCODING: Final = "utf-8-sig"
"""UTF-8 with a byte-order mark: spreadsheet programs then read ⁺, − and accents right."""

_EIGHTHS: Final = " ▏▎▍▌▋▊▉"
_FULL: Final = "█"

_LOOK_ALIKES: Final = str.maketrans(
    {
        "*": "∗",  # emphasis
        "_": "ˍ",  # emphasis
        "~": "∼",  # strike-through
        "`": "'",  # code
        "|": "∣",  # spoilers, tables
        "<": "‹",  # <@user>, <#channel>, <t:…>, <:emoji:…>
        ">": "›",  # quotes
        "[": "(",  # [masked](links)
        "]": ")",
        "@": "＠",  # @everyone, @here
        "#": "＃",  # headings
        "\\": "∖",  # escapes
    }
)

_OUTCOMES: Final = {
    "input": "bad input",
    "cooldown": "too fast (cooldown)",
    "permission": "missing permission",
    "no-dm": "used outside a server",
    "bad-value": "unusable value",
    "unknown-command": "outdated command",
    "check": "refused by a check",
    "internal": "bot errors",
}

PRIVACY_SENTENCE: Final = (
    "For each command you use, the bot keeps when it was, the server and channel, the command "
    "and the options you typed (an /ask question, or the question of a chat message, too), whether it "
    "worked and how fast. For follow-ups the chat also remembers, in memory for 30 minutes, the numbers "
    "and topic of your last question there (never its text); /privacy forget clears that too. Your "
    "Discord id is never stored: you appear as a pseudonym, a keyed hash only this bot can compute. "
    "Why: so instructors can see, for the class as a whole, what is asked and what the notes miss. "
    "Rows are deleted after the retention period, or now with /privacy forget."
)
PRACTICE_SENTENCE: Final = (
    "Practice: each graded answer (the question, your answer, right or wrong, the mistake it matches) "
    "follows the same rules; your progress per question (when it is due again) is kept until you erase it, "
    "because remembering it is what you asked the bot to do."
)


# --- safe text ------------------------------------------------------------------------------


def harmless(text: str, limit: int = QUESTION_CHARS) -> str:
    """User text made safe to show: one line, no control or invisible characters, markup,
    mentions and links defused with look-alikes, at most ``limit`` characters."""
    visible = "".join(
        " " if unicodedata.category(char) in ("Cc", "Zl", "Zp") else char
        for char in text
        if unicodedata.category(char) not in ("Cf", "Cs", "Co")  # zero-width, bidi overrides, …
    )
    line = " ".join(visible.split()).translate(_LOOK_ALIKES).replace("://", ":⁄⁄")
    if len(line) <= limit:
        return line
    return line[: limit - 1].rstrip() + "…"


def _days(days: int | None) -> int:
    if days is None:
        return DEFAULT_DAYS
    if isinstance(days, bool) or not isinstance(days, int) or not DAYS.low <= days <= DAYS.high:
        raise InputError(f"`days` must be a whole number from {DAYS.describe()}.", option="days")
    return days


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


# --- /stats show ------------------------------------------------------------------------------


def bar(value: int, largest: int, width: int = BAR_WIDTH) -> str:
    """A horizontal bar in eighth blocks, ``width`` cells for ``largest``; any count > 0 shows."""
    if value <= 0 or largest <= 0:
        return ""
    eighths = max(1, round(8 * width * value / largest))
    full, rest = divmod(eighths, 8)
    return _FULL * full + (_EIGHTHS[rest] if rest else "")


def day_chart(by_day: list[DayCount], days: int, today: dt.date) -> tuple[str, str]:
    """The field's name and a text bar chart of the last ``min(days, 14)`` days, oldest first.

    One line per day, "03-10 ████▍ 41": the date in a fixed width first, so the bars line up
    on a phone too; a day without interactions shows "·".
    """
    totals: Counter[dt.date] = Counter()
    for row in by_day:
        totals[row.day] += row.count
    last = max([today, *totals])
    shown = min(days, CHART_DAYS)
    window = [last - dt.timedelta(days=offset) for offset in range(shown - 1, -1, -1)]
    largest = max((totals[day] for day in window), default=0)
    lines = [f"{day:%m-%d} {bar(totals[day], largest) or '·'} {totals[day]:,}" for day in window]
    name = "By day" if shown == days else f"By day (the last {shown} of {days} days)"
    return name, "\n".join(lines)


def _ranked(pairs: list[tuple[str, int]], label: str = "{}") -> str:
    lines = [f"{label.format(harmless(name, 60))} {count:,}" for name, count in pairs[:LISTED]]
    rest = sum(count for _, count in pairs[LISTED:])
    if rest:
        lines.append(f"… {rest:,} more in {len(pairs) - LISTED} others")
    return "\n".join(lines)


def stats_answer(stats: Stats, *, logging_on: bool = True, today: dt.date | None = None) -> Answer:
    """The answer for ``/stats show`` from the store's :class:`~bot.log.api.Stats`."""
    today = today or dt.datetime.now(dt.UTC).date()
    period = f"the last {_count(stats.days, 'day')}"
    lines: list[str] = []
    if not logging_on:
        lines.append("Logging is off in this server: nothing new is counted. Turn it on with /stats logging state:on.")
    fields: list[AnswerField] = []
    if stats.by_command:
        top, count = next(iter(sorted(stats.by_command.items(), key=lambda item: (-item[1], item[0]))))
        if stats.total:
            lines.append(f"Most used: /{harmless(top, 60)} ({100 * count / stats.total:.0f} %).")
        ranked = sorted(stats.by_command.items(), key=lambda item: (-item[1], item[0]))
        fields.append(AnswerField("By command", _ranked(ranked, "/{}")))
    if stats.total:
        fields.append(AnswerField(*day_chart(stats.by_day, stats.days, today)))
    if stats.top_topics:
        fields.append(AnswerField("Most explained topics", _ranked(stats.top_topics)))
    if stats.unanswered:
        asked = sum(count for _, count in stats.unanswered)
        quoted = [f"“{harmless(question)}” ×{count}" for question, count in stats.unanswered[:LISTED]]
        fields.append(AnswerField(f"Unanswered questions ({asked:,})", "\n".join(quoted)))
    fields.extend(practice_fields(stats))
    if stats.errors:
        failed = sum(stats.errors.values())
        text = " · ".join(f"{_OUTCOMES.get(kind, harmless(kind, 40))} {n:,}" for kind, n in stats.errors.items())
        fields.append(AnswerField(f"Errors ({failed:,})", text))
    if stats.unwritten > 0:
        fields.append(AnswerField("Not stored", _not_stored(stats)))
    headline = (
        f"{_count(stats.total, 'interaction')} in {period}." if stats.total else f"No interactions logged in {period}."
    )
    return Answer(
        command="stats",
        title=f"Class activity · last {_count(stats.days, 'day')}",
        headline=headline,
        lines=tuple(lines),
        fields=tuple(fields),
        footer="Users are pseudonymous; only commands and their options are kept. Days in UTC. "
        "Download the rows with /stats export.",
    )


def card_label(card: str) -> str:
    """A card id as an instructor reads it (``nernst:Ca`` → "Nernst Ca (numeric)"), made harmless."""
    from bot.tutoring.scheduling import describe_card  # the scheduler (fsrs) only when practice is shown

    return harmless(describe_card(card), 80)


def practice_fields(stats: Stats) -> list[AnswerField]:
    """/stats show's practice part: graded answers, the most-missed questions (cards, wrong of
    how many) and the commonest mistakes by catalogue tag, in the period."""
    attempts = getattr(stats, "attempts", 0)
    if not attempts:
        return []
    fields: list[AnswerField] = []
    missed = getattr(stats, "missed", [])
    if missed:
        lines = [f"{card_label(card)}: {wrong:,} of {total:,} wrong" for card, wrong, total in missed[:LISTED]]
        fields.append(AnswerField(f"Most missed questions ({_count(attempts, 'graded answer')})", "\n".join(lines)))
    else:
        fields.append(AnswerField("Practice", f"{_count(attempts, 'graded answer')}, none wrong."))
    mistakes = getattr(stats, "mistakes", [])
    if mistakes:
        text = " · ".join(f"{harmless(tag, 40)} {n:,}" for tag, n in mistakes[:LISTED])
        fields.append(AnswerField("Commonest mistakes (by tag)", text))
    return fields


def _not_stored(stats: Stats) -> str:
    text = (
        f"{_count(stats.unwritten, 'interaction')} could not be written to the database "
        "(the counts above leave them out)"
    )
    waiting, lost = getattr(stats, "in_journal", 0), getattr(stats, "lost", 0)
    if waiting or lost:
        text += f": {waiting:,} wait in the journal and will be added, {lost:,} are lost"
    return text + "."


async def stats_show(store: LogStore, guild: str, days: int | None = None, *, today: dt.date | None = None) -> Answer:
    """``/stats show``: this server's interactions of the last ``days`` days (default 30)."""
    days = _days(days)
    stats = await store.stats(guild, days)
    return stats_answer(stats, logging_on=await store.logging_enabled(guild), today=today)


async def servers_show(store: LogStore, days: int | None = None) -> Answer:
    """The servers in the log, for an operator at a terminal who has no server id at hand."""
    days = _days(days)
    servers = await store.servers(days)
    if not servers:
        return Answer(command="stats", title=f"Servers · last {days} days", headline="No server interactions logged.")
    lines = tuple(f"{guild}  {_count(count, 'interaction')}" for guild, count in servers)
    return Answer(
        command="stats",
        title=f"Servers · last {days} days",
        headline=f"{_count(len(servers), 'server')}, busiest first. For one of them: membrane-tutor stats --guild ID",
        lines=lines,
    )


# --- /stats export ----------------------------------------------------------------------------

_FORMULA_START: Final = ("=", "+", "@", "\t", "\r")


def _defused(cell: str) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP's CSV injection advice); negative
    numbers stay numbers."""
    risky = cell.startswith(_FORMULA_START) or (cell.startswith("-") and not _is_number(cell))
    return "'" + cell if risky else cell


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def safe_csv(text: str) -> tuple[bytes, int]:
    """The store's CSV with formula-like cells defused, as bytes; and how many data rows."""
    reader = csv.reader(io.StringIO(text, newline=""))
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    rows = -1  # the header is not a row of data
    for record in reader:
        writer.writerow([_defused(cell) for cell in record])
        rows += 1
    return out.getvalue().encode(CSV_ENCODING), max(rows, 0)


async def stats_export(store: LogStore, guild: str, days: int | None = None) -> tuple[Answer, bytes]:
    """``/stats export``: the answer that goes with the file, and the CSV file's bytes."""
    days = _days(days)
    data, rows = safe_csv(await store.export_csv(guild, days))
    columns = next(csv.reader(io.StringIO(data.decode(CSV_ENCODING))), [])
    graded = sum(
        1 for record in csv.DictReader(io.StringIO(data.decode(CSV_ENCODING))) if record.get("kind") == "attempt"
    )
    parts = f" ({_count(rows - graded, 'interaction')}, {_count(graded, 'graded answer')})" if graded else ""
    noun = "row" if graded else "interaction"
    answer = Answer(
        command="stats",
        title=f"Interaction log · last {_count(days, 'day')}",
        headline=f"{_count(rows, noun)}{parts} from the last {_count(days, 'day')}, in {CSV_NAME}.",
        lines=(
            "One row per interaction or graded practice answer (kind `attempt`: its card, right or wrong, the "
            "answer given and the mistake tags), oldest first; times in UTC. No Discord ids: users are left "
            "out or appear as pseudonyms, so the file says what the class asked and got wrong, not who.",
        ),
        fields=(AnswerField("Columns", ", ".join(harmless(column, 40) for column in columns) or "—"),),
        footer="UTF-8 CSV; cells that look like formulas start with ' so a spreadsheet shows them as text.",
    )
    return answer, data


def export_description(days: int) -> str:
    """The attachment's description (alt text) for the exported file."""
    return (
        f"The interaction log of this server, last {_count(days, 'day')}, as CSV "
        "(one row per interaction or graded practice answer)."
    )


# --- /stats logging ---------------------------------------------------------------------------


async def set_logging(store: LogStore, guild: str, on: bool) -> Answer:
    """``/stats logging``: switch this server's logging on or off."""
    await store.set_logging(guild, on)
    if on:
        headline = "Logging is on in this server."
        lines = (
            "Each command used here is logged with a pseudonymous user id and its options; see /stats show.",
            "Anyone can see what is kept about them with /privacy show and erase it with /privacy forget.",
        )
    else:
        headline = "Logging is off in this server."
        lines = (
            "Nothing used here is logged from now on (give the bot up to a minute to notice).",
            "Rows already kept stay until they expire or their users erase them with /privacy forget.",
        )
    return Answer(command="stats", title="Interaction log", headline=headline, lines=lines)


# --- /privacy --------------------------------------------------------------------------------


async def _kept(store: LogStore, pseudonym: str) -> tuple[list[LogRow], StudentHistory]:
    return await store.rows_for(pseudonym), await store.history(pseudonym)


def _kept_words(rows: int, history: StudentHistory) -> str:
    """ "3 interactions, 5 graded answers and 2 practice cards": what a forget erases."""
    parts = [
        _count(number, noun)
        for number, noun in (
            (rows, "interaction"),
            (len(history.attempts), "graded answer"),
            (len(history.cards), "practice card"),
        )
        if number
    ]
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else "".join(parts)


def _practice_field(history: StudentHistory) -> AnswerField:
    topics = {state.topic for state in history.cards.values()} | {attempt.topic for attempt in history.attempts}
    cards = _count(len(history.cards), "card")
    text = (
        f"{cards} in {_count(len(topics), 'topic')} (kept until you erase them), "
        f"{_count(len(history.attempts), 'graded answer')} (deleted after the retention period). "
        "See them with /progress show."
    )
    return AnswerField("Practice", text)


async def privacy_show(store: LogStore, pseudonym: str) -> Answer:
    """``/privacy show``: what is kept about this user (interactions and practice), and why."""
    rows, history = await _kept(store, pseudonym)
    practice = bool(history.cards or history.attempts)
    if not rows and not practice:
        return Answer(
            command="privacy",
            title="What this bot keeps about you",
            headline="Nothing: no interaction of yours is stored.",
            lines=(PRIVACY_SENTENCE, PRACTICE_SENTENCE),
        )
    moments = sorted([row.at for row in rows] + [attempt.at for attempt in history.attempts])
    commands = Counter(row.command for row in rows)
    places = {row.guild for row in rows} | {attempt.guild for attempt in history.attempts}
    servers = _count(len(places - {None}), "server")
    where = {
        (True, False): servers,
        (False, True): "direct messages only",
        (True, True): f"{servers} and direct messages",
        (False, False): "—",
    }
    listed = ", ".join(f"/{harmless(name, 40)} {n:,}" for name, n in commands.most_common(LISTED))
    if len(commands) > LISTED:
        listed += f", and {len(commands) - LISTED} more"
    fields = [AnswerField("Commands", listed)] if rows else []
    if practice:
        fields.append(_practice_field(history))
    if moments:
        fields.append(AnswerField("Where", where[bool(places - {None}), None in places]))
        headline = f"{_kept_words(len(rows), history)} of yours, from {moments[0]:%Y-%m-%d} to {moments[-1]:%Y-%m-%d}."
    else:
        headline = f"{_kept_words(len(rows), history)} of yours."
    fields.append(AnswerField("Erase it", "/privacy forget erases every row and your progress, after you confirm."))
    return Answer(
        command="privacy",
        title="What this bot keeps about you",
        headline=headline[0].upper() + headline[1:],
        lines=(PRIVACY_SENTENCE, PRACTICE_SENTENCE) if practice else (PRIVACY_SENTENCE,),
        fields=tuple(fields),
    )


async def forget_prompt(store: LogStore, pseudonym: str) -> tuple[Answer, bool]:
    """What ``/privacy forget`` asks before erasing; False when there is nothing to erase."""
    rows, history = await _kept(store, pseudonym)
    if not rows and not history.cards and not history.attempts:
        return (
            Answer(
                command="privacy",
                title="Forget my data",
                headline="Nothing to erase: no interaction of yours is stored.",
            ),
            False,
        )
    return (
        Answer(
            command="privacy",
            title="Forget my data",
            headline=f"Erase the {_kept_words(len(rows), history)} this bot keeps about you?",
            lines=(
                "This cannot be undone. Instructors' counts lose your rows too, and your practice starts afresh.",
                "Commands you use afterwards are logged as before; you can forget again any time.",
            ),
        ),
        True,
    )


async def privacy_forget(store: LogStore, pseudonym: str) -> Answer:
    """``/privacy forget``, once confirmed: erase every row of this pseudonym."""
    rows, history = await _kept(store, pseudonym)
    erased = await store.forget(pseudonym)
    headline = (
        f"Erased {_kept_words(len(rows), history) or _count(erased, 'row')} kept about you."
        if erased
        else "Nothing to erase: no interaction of yours was stored."
    )
    return Answer(
        command="privacy",
        title="Forget my data",
        headline=headline,
        lines=("Commands you use from now on are logged as before (where logging is on).",),
    )
