"""Where the cogs find the interaction log and the pseudonyms: the bot's recorder, the one
place they live (None when logging is not configured). Private module: ``setup_hook``
does not load it as an extension."""

from __future__ import annotations

from typing import Any, Protocol

from bot.log.api import LogStore


class Pseudonymizer(Protocol):
    def of(self, user_id: int | str) -> str: ...


def interaction_log(client: Any) -> Any:
    """The bot's interaction log (``.store``, ``.flush``), or None."""
    return getattr(getattr(client, "recorder", None), "interaction_log", None)


def log_store(client: Any) -> LogStore | None:
    """The interaction log's store, or None when logging is not configured."""
    return getattr(interaction_log(client), "store", None)


def log_parts(client: Any) -> tuple[LogStore, Pseudonymizer] | None:
    """The store and the pseudonyms, or None when either is not configured."""
    store = log_store(client)
    pseudonyms = getattr(getattr(client, "recorder", None), "pseudonyms", None)
    if store is None or pseudonyms is None:
        return None
    return store, pseudonyms
