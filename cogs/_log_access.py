"""Where the cogs find the interaction log and the pseudonymizer on the bot (private module:
``setup_hook`` does not load it as an extension).

The bot carries ``interaction_log`` (an object with ``.store``, a
:class:`~bot.log.api.LogStore`) and ``pseudonyms`` (``.of(user_id) -> str``); when logging
is not configured they are None. The recorder holds the same pair, so either place works.
"""

from __future__ import annotations

from typing import Any, Protocol

from bot.log.api import LogStore


class Pseudonymizer(Protocol):
    def of(self, user_id: int | str) -> str: ...


def _attribute(client: Any, name: str) -> Any:
    found = getattr(client, name, None)
    if found is None:
        found = getattr(getattr(client, "recorder", None), name, None)
    return found


def interaction_log(client: Any) -> Any:
    """The bot's interaction log (``.store``, perhaps ``.flush``), or None."""
    return _attribute(client, "interaction_log")


def log_store(client: Any) -> LogStore | None:
    """The interaction log's store, or None when logging is not configured."""
    return getattr(interaction_log(client), "store", None)


def log_parts(client: Any) -> tuple[LogStore, Pseudonymizer] | None:
    """The store and the pseudonymizer, or None when either is not configured."""
    store, pseudonyms = log_store(client), _attribute(client, "pseudonyms")
    if store is None or pseudonyms is None:
        return None
    return store, pseudonyms
