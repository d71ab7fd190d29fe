"""The health file (bot/app/health.py) and ``membrane-tutor health``.

The container's HEALTHCHECK and an operator's monitor run ``membrane-tutor health``: exit 0 only
when the running bot wrote, recently, that it is connected to Discord. The writer is tested on a
real ``TutorBot`` (its ``setup_hook``, events and ``close``) and, at the end, on the real bot
process against the local Discord emulator: healthy while connected, unhealthy once it stops.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT, cli_env

from bot.__main__ import main
from bot.answers import Services
from bot.app import health
from bot.app.bot import TutorBot
from bot.app.cooldowns import MemoryCooldowns
from bot.app.health import HealthFile, check, snapshot, write_atomic
from bot.settings import Settings

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def record(*, connected: bool = True, age: float = 5.0, **extra: Any) -> dict[str, Any]:
    at = (NOW - timedelta(seconds=age)).isoformat(timespec="seconds")
    return {"connected": connected, "latency_ms": 41.7, "guilds": 3, "at": at, "pid": 4242, **extra}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No setting from the developer's shell, and a working directory without a .env."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- check: the verdict ---------------------------------------------------------------------------


def test_fresh_and_connected_is_healthy(tmp_path: Path) -> None:
    path = tmp_path / "health.json"
    write_atomic(path, record())
    verdict = check(path, now=NOW)
    assert verdict.healthy
    assert verdict.line == "healthy: connected to Discord, 3 servers, latency 42 ms (as of 5 s ago)"


def test_a_stale_file_is_unhealthy_even_if_it_says_connected(tmp_path: Path) -> None:
    path = tmp_path / "health.json"
    write_atomic(path, record(age=61))
    verdict = check(path, max_age=60, now=NOW)
    assert not verdict.healthy
    assert verdict.line.startswith("unhealthy: the health file is stale (61 s old, max 60 s)")
    assert check(path, max_age=90, now=NOW).healthy


def test_disconnected_is_unhealthy(tmp_path: Path) -> None:
    path = tmp_path / "health.json"
    write_atomic(path, record(connected=False, latency_ms=None))
    verdict = check(path, now=NOW)
    assert not verdict.healthy
    assert verdict.line == "unhealthy: not connected to Discord (as of 5 s ago)"


def test_a_missing_file_is_unhealthy(tmp_path: Path) -> None:
    verdict = check(tmp_path / "nowhere" / "health.json", now=NOW)
    assert not verdict.healthy
    assert verdict.line.startswith("unhealthy: no health file at ") and "membrane-tutor run" in verdict.line


@pytest.mark.parametrize(
    "text",
    ["", "{", "[]", "null", '{"connected": true}', '{"connected": true, "at": "yesterday"}', '{"at": "2025-03-01"}'],
)
def test_anything_but_a_health_record_is_unhealthy(tmp_path: Path, text: str) -> None:
    path = tmp_path / "health.json"
    path.write_text(text, encoding="utf-8")
    verdict = check(path, now=NOW)
    assert not verdict.healthy and "not a health record" in verdict.line


def test_connected_must_be_exactly_true(tmp_path: Path) -> None:
    path = tmp_path / "health.json"
    write_atomic(path, record(connected="yes"))
    assert not check(path, now=NOW).healthy


# --- the CLI ------------------------------------------------------------------------------------


def _health(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["health", *args])
    out, err = capsys.readouterr()
    return status, out, err


def _fresh(path: Path, **fields: Any) -> None:
    at = datetime.now(UTC) - timedelta(seconds=fields.pop("age", 1))
    write_atomic(path, {**record(**fields), "at": at.isoformat(timespec="seconds")})


def test_cli_fresh_and_connected_exits_0(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TUTOR_HEALTH_FILE", str(tmp_path / "state" / "health.json"))
    _fresh(tmp_path / "state" / "health.json")
    status, out, err = _health(capsys)
    assert (status, err) == (0, "")
    assert out.startswith("healthy: connected to Discord, 3 servers") and out.count("\n") == 1


@pytest.mark.parametrize(
    ("fields", "args", "why"),
    [
        ({"age": 120}, (), "s old, max 60 s): the bot stopped updating it"),
        ({"age": 20}, ("--max-age", "10"), "s old, max 10 s)"),
        ({"connected": False}, (), "not connected to Discord"),
        (None, (), "no health file at "),
    ],
    ids=["stale", "stale-for-max-age", "disconnected", "missing"],
)
def test_cli_unhealthy_exits_1_with_one_line_saying_why(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    fields: dict[str, Any] | None,
    args: tuple[str, ...],
    why: str,
) -> None:
    path = tmp_path / "health.json"
    monkeypatch.setenv("TUTOR_HEALTH_FILE", str(path))
    if fields is not None:
        _fresh(path, **fields)
    status, out, err = _health(capsys, *args)
    assert (status, out) == (1, "")
    assert err.count("\n") == 1 and err.startswith("unhealthy: ") and why in err, err


def test_cli_finds_the_file_beside_the_database_by_default(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TUTOR_DB", str(tmp_path / "data" / "membrane-tutor.db"))
    assert Settings().health_file() == tmp_path / "data" / "health.json"
    _fresh(tmp_path / "data" / "health.json")
    assert _health(capsys)[0] == 0
    monkeypatch.setenv("TUTOR_HEALTH_FILE", "")  # an empty value means "not set", never the current directory
    assert Settings().health_file() == tmp_path / "data" / "health.json"


@pytest.mark.parametrize("max_age", ["0", "-5", "nan"])
def test_cli_refuses_a_max_age_that_is_not_positive(capsys: pytest.CaptureFixture[str], max_age: str) -> None:
    status, _, err = _health(capsys, "--max-age", max_age)
    assert status == 1 and "--max-age must be" in err


def test_cli_with_invalid_settings_is_one_line_not_a_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUTOR_RETENTION_DAYS", "0")
    status, _, err = _health(capsys)
    assert status == 1 and err == "unhealthy: invalid settings: TUTOR_RETENTION_DAYS\n"


def test_health_as_an_operator_runs_it_imports_no_discord(tmp_path: Path) -> None:
    """``python -m bot health`` in a subprocess: exit 1 without a file, and discord.py never loaded."""
    probe = (
        "import runpy, sys\n"
        "sys.argv = ['membrane-tutor', 'health']\n"
        "try:\n"
        "    runpy.run_module('bot', run_name='__main__')\n"
        "except SystemExit as exit:\n"
        "    print('discord' in sys.modules, exit.code)\n"
    )
    env = {
        key: value for key, value in cli_env().items() if key.upper() not in {n.upper() for n in Settings.model_fields}
    }
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout.strip() == "False 1", done.stdout + done.stderr
    assert done.stderr.startswith("unhealthy: no health file at ") and "Traceback" not in done.stderr


# --- the writer ------------------------------------------------------------------------------------


class FakeSocket:
    def __init__(self, *, open: bool, latency: float = 0.0421) -> None:
        self.open = open
        self.latency = latency


class FakeBot:
    """The attributes of ``discord.Client`` the health file reads, and nothing else."""

    def __init__(self, *, ready: bool = True, closed: bool = False, ws: FakeSocket | None = None) -> None:
        self.ready, self.closed = ready, closed
        self.ws = FakeSocket(open=True) if ws is None else ws
        self.guilds = [object(), object()]

    @property
    def latency(self) -> float:
        return self.ws.latency if self.ws else math.nan

    def is_ready(self) -> bool:
        return self.ready

    def is_closed(self) -> bool:
        return self.closed


def test_snapshot_of_a_connected_bot() -> None:
    data = snapshot(FakeBot())
    assert data["connected"] is True and data["latency_ms"] == 42.1 and data["guilds"] == 2
    assert data["pid"] == os.getpid()
    at = datetime.fromisoformat(data["at"])
    assert at.tzinfo is not None and abs((datetime.now(UTC) - at).total_seconds()) < 5


@pytest.mark.parametrize(
    "bot",
    [
        FakeBot(ready=False),
        FakeBot(closed=True),
        FakeBot(ws=FakeSocket(open=False)),  # is_ready() stays true after a drop: the socket decides
    ],
    ids=["not-ready", "closed", "socket-closed"],
)
def test_snapshot_is_disconnected_unless_ready_open_and_not_closed(bot: FakeBot) -> None:
    data = snapshot(bot)
    assert data["connected"] is False and data["latency_ms"] is None


def test_snapshot_without_a_websocket_and_with_an_infinite_latency_is_still_json() -> None:
    bot = FakeBot()
    bot.ws = None  # type: ignore[assignment]
    assert snapshot(bot)["connected"] is False
    bot = FakeBot(ws=FakeSocket(open=True, latency=math.inf))  # before the first heartbeat ACK
    data = snapshot(bot)
    assert data["connected"] is True and data["latency_ms"] is None
    json.dumps(data, allow_nan=False)


def test_write_atomic_never_leaves_a_partial_file(tmp_path: Path) -> None:
    """A reader polling the file while it is rewritten always parses a whole record."""
    path = tmp_path / "health.json"
    write_atomic(path, {"n": -1, "padding": "x" * 200_000})
    stop = threading.Event()
    seen: list[int] = []
    broken: list[str] = []

    def reader() -> None:
        while not stop.is_set():
            text = path.read_text(encoding="utf-8")
            try:
                seen.append(json.loads(text)["n"])
            except ValueError:
                broken.append(text[-40:])

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for n in range(200):
            write_atomic(path, {"n": n, "padding": "x" * (200_000 + n)})
    finally:
        stop.set()
        thread.join()
    assert not broken, broken[:3]
    assert seen and json.loads(path.read_text(encoding="utf-8"))["n"] == 199
    assert [p.name for p in tmp_path.iterdir()] == ["health.json"]  # no temporary file left behind


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "health.json"
    write_atomic(path, record())
    before = path.read_bytes()
    with pytest.raises(ValueError):
        write_atomic(path, record(latency_ms=math.nan))  # not JSON: fails halfway through the dump
    assert path.read_bytes() == before

    def refuse(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(health.os, "replace", refuse)
    with pytest.raises(OSError):
        write_atomic(path, record(connected=False))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["health.json"]


def test_an_unwritable_health_file_is_logged_not_raised(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "health.json").mkdir()  # a directory where the file should be
    assert HealthFile(tmp_path / "health.json").write(FakeBot()) is False
    assert "could not write the health file" in caplog.text


# --- wired into the real bot ------------------------------------------------------------------------


async def _settle(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


def _read(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


async def test_the_bot_writes_while_it_runs_and_follows_connect_and_disconnect(tmp_path: Path) -> None:
    path = tmp_path / "health.json"
    beat = HealthFile(path, interval=0.05)
    async with TutorBot(services=Services.load(), cooldowns=MemoryCooldowns(), health=beat) as bot:
        await bot.setup_hook()  # what login() runs: the writer starts here
        await _settle(lambda: _read(path) is not None)
        assert _read(path)["connected"] is False  # type: ignore[index]  # logged in, not yet READY

        bot.ws = FakeSocket(open=True)  # type: ignore[assignment]  # the gateway is up …
        bot._handle_ready()  # … and READY arrived: what discord.py does, then it dispatches on_ready
        bot.dispatch("ready")
        await _settle(lambda: (_read(path) or {}).get("connected") is True)
        first = _read(path)
        assert first is not None and first["latency_ms"] == 42.1 and first["pid"] == os.getpid()

        bot.dispatch("disconnect")  # written at once, whatever the socket says
        await _settle(lambda: (_read(path) or {}).get("connected") is False)
        bot.ws = FakeSocket(open=False)  # type: ignore[assignment]
        await asyncio.sleep(0.15)  # the periodic writes agree
        assert _read(path)["connected"] is False  # type: ignore[index]

        bot.ws = FakeSocket(open=True)  # type: ignore[assignment]
        bot.dispatch("resumed")
        await _settle(lambda: (_read(path) or {}).get("connected") is True)
        bot.ws = None  # type: ignore[assignment]  # nothing for close() to close
        task = beat._task
    assert task is not None and task.done()  # close() stopped the writer …
    assert _read(path)["connected"] is False  # type: ignore[index]  # … and left "disconnected" behind
    assert not any(p.name.endswith(".tmp") for p in tmp_path.iterdir())


async def test_sync_never_writes_a_health_file(tmp_path: Path) -> None:
    """Only ``run`` proves a connection; a bot without a HealthFile (``sync``, tests) writes nothing."""
    async with TutorBot(services=Services.load(), cooldowns=MemoryCooldowns()) as bot:
        await bot.setup_hook()
    assert list(tmp_path.iterdir()) == []


# --- the real bot process against the emulator -------------------------------------------------------


def _health_cli(workdir: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "health", "--max-age", "60"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_health_follows_the_real_connection(tmp_path: Path) -> None:
    """``membrane-tutor run`` against the emulator: healthy once READY, unhealthy after SIGTERM."""
    bot_process = pytest.importorskip("bot_process")
    emulator = pytest.importorskip("emulator")
    thread = emulator.EmulatorThread()
    emu = thread.start()
    data = tmp_path / "data"
    env = {**emu.env, "TUTOR_DB": str(data / "membrane-tutor.db")}
    bot = bot_process.BotProcess(tmp_path / "bot", env=env)
    check_env = {**cli_env(), "TUTOR_DB": env["TUTOR_DB"]}
    try:
        before = _health_cli(tmp_path, check_env)
        assert before.returncode == 1 and "no health file" in before.stderr
        bot.start()
        thread.call(emu.wait_for_ready, timeout=60)
        deadline = time.monotonic() + 30
        while (done := _health_cli(tmp_path, check_env)).returncode != 0:
            assert bot.alive(), bot.stderr()
            assert time.monotonic() < deadline, done.stderr
            time.sleep(0.2)
        assert done.stdout.startswith("healthy: connected to Discord, 1 servers"), done.stdout
        assert json.loads((data / "health.json").read_text(encoding="utf-8"))["pid"] == bot.process.pid  # type: ignore[union-attr]

        assert bot.stop(signal.SIGTERM) == 0, bot.stderr()
        after = _health_cli(tmp_path, check_env)
        assert after.returncode == 1 and after.stderr.startswith("unhealthy: not connected to Discord"), after.stderr
    finally:
        if bot.alive():
            bot.stop(signal.SIGKILL)
        thread.stop()
