"""The interaction log: what every command did, for instructors, without who did it.

``InteractionLog.log(row)`` is all the reply path calls; a background task batches rows
into SQLite (WAL) and, when the database will not take them, into a journal file that is
replayed later. Users appear only as :class:`Pseudonyms` (a keyed hash). Storage sits
behind :class:`LogStore`, so a PostgreSQL store can follow. Nothing here imports discord.
"""

from __future__ import annotations

from pathlib import Path

from bot.log.api import DayCount, LogRow, LogStore, Stats
from bot.log.errors import SchemaTooNew, StoreUnavailable
from bot.log.pseudonyms import Pseudonyms, default_key_file
from bot.log.rows import row_id
from bot.log.sqlite import SCHEMA_VERSION, SqliteStore, StoredUnanswered
from bot.log.writer import InteractionLog, WriterStats

__all__ = [
    "SCHEMA_VERSION",
    "DayCount",
    "InteractionLog",
    "LogRow",
    "LogStore",
    "Pseudonyms",
    "SchemaTooNew",
    "SqliteStore",
    "Stats",
    "StoreUnavailable",
    "StoredUnanswered",
    "WriterStats",
    "default_journal",
    "default_key_file",
    "row_id",
]


def default_journal(database: Path) -> Path:
    """``<db>.journal``: beside the database, on the same volume."""
    return database.with_name(database.name + ".journal")
