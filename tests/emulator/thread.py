"""``EmulatorThread``: the emulator on its own event loop in a daemon thread.

Why: a benchmark script or a synchronous pytest test drives a bot running in *another process*; it
has no event loop of its own to host the emulator in. The thread owns the loop, and ``run``/``call``
hop coroutines onto it with ``asyncio.run_coroutine_threadsafe`` and block for the result, so the
emulator's state is only ever touched from its own loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Self, TypeVar

from .server import DiscordEmulator

T = TypeVar("T")


class EmulatorThread:
    """Host a :class:`DiscordEmulator` in a daemon thread; use as a context manager or start/stop."""

    def __init__(self, **emulator_kwargs: Any) -> None:
        self._kwargs = emulator_kwargs
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._emulator: DiscordEmulator | None = None

    @property
    def emulator(self) -> DiscordEmulator:
        """The running emulator (read its plain attributes freely; await its methods via ``run``)."""
        if self._emulator is None:
            raise RuntimeError("EmulatorThread not started")
        return self._emulator

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The emulator's event loop."""
        if self._loop is None:
            raise RuntimeError("EmulatorThread not started")
        return self._loop

    def start(self, timeout: float = 10.0) -> DiscordEmulator:
        """Start the loop thread and the emulator in it; returns the emulator."""
        if self._thread is not None:
            return self.emulator
        ready = threading.Event()

        def main() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            ready.set()
            try:
                loop.run_forever()
            finally:
                # As asyncio.run does: what a test left waiting is cancelled and finishes, rather
                # than being destroyed pending (a "never awaited" warning at interpreter exit).
                pending = asyncio.all_tasks(loop)
                for task in pending:
                    task.cancel()
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=main, name="discord-emulator", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise RuntimeError("emulator thread did not start")

        async def boot() -> DiscordEmulator:
            return await DiscordEmulator(**self._kwargs).start()

        self._emulator = self.run(boot(), timeout=timeout)
        return self._emulator

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = 60.0) -> T:
        """Run a coroutine on the emulator's loop and wait for its result (blocking)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, fn: Callable[..., Awaitable[T] | T], *args: Any, timeout: float | None = 60.0, **kwargs: Any) -> T:
        """Call ``fn(*args, **kwargs)`` on the loop; awaited if it returns an awaitable.

        E.g. ``rec = thread.call(emu.invoke, "nernst", {"ion": "K"})``.
        """

        async def runner() -> T:
            result = fn(*args, **kwargs)
            if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
                return await result
            return result  # type: ignore[return-value]

        return self.run(runner(), timeout=timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the emulator, then the loop, then join the thread; idempotent."""
        if self._thread is None or self._loop is None:
            return
        if self._emulator is not None:
            try:
                self.run(self._emulator.stop(), timeout=timeout)
            finally:
                self._emulator = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        self._thread = None
        self._loop = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
