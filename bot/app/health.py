"""A health file that proves the bot is connected to Discord, not only that its process lives.

While ``membrane-tutor run`` runs, :class:`HealthFile` rewrites a small JSON file every
:data:`INTERVAL` seconds::

    {"connected": true, "latency_ms": 42.1, "guilds": 3, "at": "2025-01-01T12:00:00+00:00", "pid": 7}

``connected`` is true only when the bot is ready, not closed, and its gateway websocket is
open; a disconnect writes ``false`` at once. The file is written to a temporary file and
moved into place with :func:`os.replace`, so a reader sees the old file or the new one, never
half of one. ``membrane-tutor health`` (:func:`check`) reads it: exit 0 only when connected
and fresh. A stale file means the process died or its event loop is stuck, which is exactly
what a container health check or a monitor should notice.

This module does not import discord: the health check stays light, and the bot is duck-typed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

INTERVAL = 15.0
"""Seconds between writes; well under the health check's default maximum age."""
DEFAULT_MAX_AGE = 60.0
"""Seconds after which ``membrane-tutor health`` calls the file stale (four missed writes)."""

EXIT_HEALTHY = 0
EXIT_UNHEALTHY = 1


class Connectable(Protocol):
    """The part of ``discord.Client`` the health file reads."""

    @property
    def ws(self) -> Any: ...

    @property
    def latency(self) -> float: ...

    @property
    def guilds(self) -> Any: ...

    def is_ready(self) -> bool: ...

    def is_closed(self) -> bool: ...


def is_connected(bot: Connectable) -> bool:
    """Ready, not closed, and the gateway websocket open (``is_ready`` alone stays true after a drop)."""
    ws = getattr(bot, "ws", None)
    return bool(bot.is_ready() and not bot.is_closed() and ws is not None and ws.open)


def snapshot(bot: Connectable, *, connected: bool | None = None) -> dict[str, Any]:
    """The health record for ``bot`` now; ``connected`` overrides the computed value (e.g. on disconnect)."""
    up = is_connected(bot) if connected is None else connected
    latency = bot.latency
    return {
        "connected": up,
        "latency_ms": round(latency * 1000, 1) if up and math.isfinite(latency) else None,
        "guilds": len(bot.guilds),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "pid": os.getpid(),
    }


def write_atomic(path: Path, record: dict[str, Any]) -> None:
    """Write ``record`` as JSON to ``path`` so that a reader never sees a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temporary.open("w", encoding="utf-8") as file:
            json.dump(record, file, allow_nan=False)
            file.write("\n")
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


class HealthFile:
    """Keeps ``path`` up to date while the bot runs: every ``interval`` seconds and on each change."""

    def __init__(self, path: Path, *, interval: float = INTERVAL) -> None:
        self.path = path
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    def write(self, bot: Connectable, *, connected: bool | None = None) -> bool:
        """Write the record now; a full or read-only disk is logged, never raised (the bot keeps answering)."""
        try:
            write_atomic(self.path, snapshot(bot, connected=connected))
        except (OSError, ValueError) as error:
            log.warning("could not write the health file %s: %s", self.path, error)
            return False
        return True

    def start(self, bot: Any) -> None:
        """Start the background writer and follow the bot's connect and disconnect events.

        ``bot`` is a ``discord.Client``; call this from ``setup_hook`` (the event loop is running).
        """
        if self._task is not None and not self._task.done():
            return

        async def on_connected() -> None:
            self.write(bot)

        async def on_disconnect() -> None:
            self.write(bot, connected=False)

        bot.add_listener(on_connected, "on_ready")
        bot.add_listener(on_connected, "on_resumed")
        bot.add_listener(on_disconnect, "on_disconnect")
        self._task = asyncio.get_running_loop().create_task(self._keep_writing(bot), name="membrane-tutor health")

    async def _keep_writing(self, bot: Connectable) -> None:
        while True:
            self.write(bot)
            await asyncio.sleep(self.interval)

    async def stop(self, bot: Connectable) -> None:
        """Cancel the writer and leave ``connected: false`` behind (the bot is closing)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.write(bot, connected=False)


# --- membrane-tutor health ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    healthy: bool
    line: str


def check(path: Path, *, max_age: float = DEFAULT_MAX_AGE, now: datetime | None = None) -> Verdict:
    """Whether the health file at ``path`` says connected and is at most ``max_age`` seconds old."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Verdict(False, f"unhealthy: no health file at {path.absolute()} (is `membrane-tutor run` running?)")
    except OSError as error:
        return Verdict(False, f"unhealthy: cannot read the health file {path}: {error.strerror or error}")
    try:
        record = json.loads(text)
        at = datetime.fromisoformat(record["at"])
        connected = record["connected"]
    except (ValueError, KeyError, TypeError):
        return Verdict(False, f"unhealthy: the health file {path} is not a health record")
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    age = ((now or datetime.now(UTC)) - at).total_seconds()
    if age > max_age:
        return Verdict(
            False,
            f"unhealthy: the health file is stale ({age:.0f} s old, max {max_age:g} s): the bot stopped updating it",
        )
    if connected is not True:
        return Verdict(False, f"unhealthy: not connected to Discord (as of {max(age, 0):.0f} s ago)")
    latency = record.get("latency_ms")
    shown = f", latency {latency:.0f} ms" if isinstance(latency, int | float) else ""
    guilds = record.get("guilds", "?")
    return Verdict(True, f"healthy: connected to Discord, {guilds} servers{shown} (as of {max(age, 0):.0f} s ago)")


def check_settings(*, max_age: float = DEFAULT_MAX_AGE) -> Verdict:
    """:func:`check` on the health file the settings name (TUTOR_HEALTH_FILE, else beside TUTOR_DB)."""
    import pydantic

    from bot.settings import Settings

    if not max_age > 0:  # also refuses NaN, which no age would ever exceed
        return Verdict(False, f"unhealthy: --max-age must be a number of seconds above 0, not {max_age}")
    try:
        settings = Settings()
    except pydantic.ValidationError as invalid:
        fields = ", ".join(str(error["loc"][0]).upper() for error in invalid.errors() if error["loc"])
        return Verdict(False, f"unhealthy: invalid settings: {fields or 'see `membrane-tutor run`'}")
    return check(settings.health_file(), max_age=max_age)
