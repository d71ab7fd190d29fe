"""How a :class:`~bot.log.api.LogRow` becomes text and back, in one place.

The database and the journal must agree on the exact form of a row, or a replayed row
would differ from one written directly. Timestamps are fixed-width ISO 8601 in UTC
(``2025-01-31T09:05:00.000000Z``) so that they sort and compare as plain strings, in
SQLite as in PostgreSQL, and their first ten characters are the day.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import re
import uuid
from collections.abc import Mapping
from typing import Any, TypeVar

from bot.log.api import LogRow

_INTERACTION_NAMESPACE = uuid.UUID("6f8f4a3d-c120-4f1b-9c4e-6d656d62726e")
"""Namespace of ids derived from Discord interaction ids (any worker derives the same id)."""


def row_id(interaction_id: int | str | None = None) -> str:
    """A row id: derived from the interaction id when there is one, so that two workers (or a
    retry) logging the same interaction produce one row; otherwise a random UUID."""
    if interaction_id is None:
        return uuid.uuid4().hex
    return uuid.uuid5(_INTERACTION_NAMESPACE, f"discord-interaction:{interaction_id}").hex


def utc(moment: dt.datetime) -> dt.datetime:
    """``moment`` in UTC; a naive datetime is taken to be UTC already (the bot only makes UTC ones)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def format_time(moment: dt.datetime) -> str:
    """Fixed-width UTC text, so string order is time order."""
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> dt.datetime:
    return utc(dt.datetime.fromisoformat(text))


_SURROGATE = re.compile("[\ud800-\udfff]")
_T = TypeVar("_T")


def storable_text(text: str) -> str:
    """``text`` as UTF-8 can hold it: each lone surrogate (which Discord's JSON can carry, and
    which SQLite and the journal refuse) becomes U+FFFD; any other text is returned as it is."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


def storable_value(value: Any) -> Any:
    """Every string in ``value`` (dict keys, nested lists and dicts included) made storable;
    other values as they are (options are made JSON by :func:`_jsonable` later)."""
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, dict):
        return {storable_value(key): storable_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [storable_value(item) for item in value]
    if isinstance(value, tuple):
        return tuple(storable_value(item) for item in value)
    return value


def storable(record: _T) -> _T:
    """A row (or an attempt: any dataclass) with every string field, and every string in its
    option values, made storable; the same object when nothing needed changing.

    A row without a guild (a DM) keeps no channel id: a DM channel is one per user, so its
    raw Discord id would be a quasi-identifier that undoes the pseudonym. No keyed pseudonym
    of it either: nothing reads the channel of a DM row (``/stats`` and the export are per
    server), so there is nothing to keep. A server's channel id is the server's, not a
    person's, and is kept.
    """
    changes: dict[str, Any] = {}
    for item in dataclasses.fields(record):  # type: ignore[arg-type]
        value = getattr(record, item.name)
        if isinstance(value, Mapping) and not isinstance(value, dict):
            value = dict(value)  # an attempt's problem may be read-only
        elif not isinstance(value, str | dict | list | tuple):
            continue
        cleaned = storable_value(value)
        if cleaned is not value and cleaned != value:
            changes[item.name] = cleaned
    if isinstance(record, LogRow) and record.guild is None and record.channel is not None:
        changes["channel"] = None  # a DM: see the docstring
    return dataclasses.replace(record, **changes) if changes else record  # type: ignore[type-var]


def _jsonable(value: Any) -> Any:
    """Options as strict JSON (PostgreSQL's jsonb refuses NaN): odd values become strings."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(item) for item in value]
    return str(value)


def options_json(options: dict[str, Any]) -> str:
    return json.dumps(_jsonable(options), sort_keys=True, ensure_ascii=False, allow_nan=False)


def question_of(row: LogRow) -> str | None:
    """The text of an unanswered /ask: ``row.question``, else the command's own option."""
    if row.question is not None:
        return row.question
    if row.answered is False:
        text = row.options.get("question")
        return text if isinstance(text, str) else None
    return None


def to_record(row: LogRow) -> dict[str, Any]:
    """The row as plain JSON-able values (the journal's line, the database's parameters)."""
    return {
        "id": row.id,
        "at": format_time(row.at),
        "kind": row.kind,
        "guild": row.guild,
        "channel": row.channel,
        "user": row.user,
        "command": row.command,
        "options": _jsonable(row.options),
        "outcome": row.outcome,
        "latency_ms": float(row.latency_ms) if math.isfinite(row.latency_ms) else None,
        "topic": row.topic,
        "confidence": row.confidence if row.confidence is None or math.isfinite(row.confidence) else None,
        "answered": row.answered,
        "question": question_of(row),
    }


def from_record(record: dict[str, Any]) -> LogRow:
    """The inverse of :func:`to_record`; raises ``KeyError``/``ValueError`` on a damaged record."""
    options = record.get("options") or {}
    if isinstance(options, str):
        options = json.loads(options)
    answered = record.get("answered")
    confidence = record.get("confidence")
    return LogRow(
        id=str(record["id"]),
        at=parse_time(str(record["at"])),
        kind=str(record["kind"]),
        guild=record.get("guild"),
        channel=record.get("channel"),
        user=str(record["user"]),
        command=str(record["command"]),
        options=dict(options),
        outcome=str(record.get("outcome") or "ok"),
        latency_ms=float(record.get("latency_ms") or 0.0),
        topic=record.get("topic"),
        confidence=None if confidence is None else float(confidence),
        answered=None if answered is None else bool(answered),
        question=record.get("question"),
    )


def to_json_line(row: LogRow) -> str:
    """One journal line (without the newline)."""
    return json.dumps(to_record(row), ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def from_json_line(line: str) -> LogRow:
    record = json.loads(line)
    if not isinstance(record, dict):
        raise ValueError("a journal line must hold a JSON object")
    return from_record(record)
