"""Settings (bot/settings.py) and ``membrane-tutor run`` / ``sync`` (bot/app/runner.py).

The token is a secret: it never appears in a repr, a dump, or anything the process prints, not
even when Discord cannot be reached. Without it ``run`` exits 2 with one line that says how to set
it (design.md, "Running"). The subprocess tests run ``python -m bot`` in an empty temporary
directory with every setting removed from the environment, so neither the developer's shell nor a
``.env`` file beside the repository changes what they see.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import discord
import pydantic
import pytest
import yarl
from helpers import DESIGN_SETTINGS, cli_env

from bot.app import runner
from bot.app.bot import TutorBot
from bot.settings import Settings

SETTINGS_ENV = DESIGN_SETTINGS
TOKEN = "MTA5ODc2NTQzMjEwOTg3NjU0Mw.GhIjKl.secret-token-value-do-not-print_0123456789"
HASH_KEY = "hash-key-that-must-stay-secret-42"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No setting from the developer's shell, and a working directory without a .env."""
    for name in SETTINGS_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- Settings -----------------------------------------------------------------------------------


def test_defaults_without_environment_or_env_file() -> None:
    settings = Settings()
    assert settings.discord_token is None and settings.token() is None
    assert settings.tutor_db == Path("membrane-tutor.db")
    assert settings.discord_api_base is None and settings.discord_gateway_url is None
    assert settings.tutor_hash_key is None
    assert settings.tutor_retention_days == 180
    assert settings.log_level == "INFO"


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    monkeypatch.setenv("TUTOR_DB", str(tmp_path / "log.db"))
    monkeypatch.setenv("DISCORD_API_BASE", "http://127.0.0.1:8080/api/v10")
    monkeypatch.setenv("DISCORD_GATEWAY_URL", "ws://127.0.0.1:8080/gateway")
    monkeypatch.setenv("TUTOR_HASH_KEY", HASH_KEY)
    monkeypatch.setenv("TUTOR_RETENTION_DAYS", "30")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    settings = Settings()
    assert settings.token() == TOKEN
    assert settings.tutor_db == tmp_path / "log.db"
    assert settings.discord_api_base == "http://127.0.0.1:8080/api/v10"
    assert settings.discord_gateway_url == "ws://127.0.0.1:8080/gateway"
    assert settings.tutor_hash_key is not None and settings.tutor_hash_key.get_secret_value() == HASH_KEY
    assert settings.tutor_retention_days == 30
    assert settings.log_level == "debug"


def test_settings_come_from_a_env_file_and_the_environment_wins(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text(
        f"DISCORD_TOKEN={TOKEN}\nTUTOR_RETENTION_DAYS=90\nLOG_LEVEL=WARNING\nSOMETHING_ELSE=ignored\n",
        encoding="utf-8",
    )
    settings = Settings()
    assert settings.token() == TOKEN
    assert settings.tutor_retention_days == 90
    assert settings.log_level == "WARNING"
    monkeypatch.setenv("LOG_LEVEL", "ERROR")
    assert Settings().log_level == "ERROR"


@pytest.mark.parametrize("empty", ["", "   ", "\t"])
def test_an_empty_token_counts_as_missing(monkeypatch: pytest.MonkeyPatch, empty: str) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", empty)
    assert Settings().token() is None


def test_a_token_with_stray_spaces_is_trimmed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", f"  {TOKEN}\n")
    assert Settings().token() == TOKEN


def test_secrets_never_print(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    monkeypatch.setenv("TUTOR_HASH_KEY", HASH_KEY)
    settings = Settings()
    shown = [
        repr(settings),
        str(settings),
        f"{settings}",
        settings.model_dump_json(),
        str(settings.model_dump()),
        repr(settings.discord_token),
        str(settings.discord_token),
    ]
    for text in shown:
        assert TOKEN not in text and HASH_KEY not in text
    assert settings.token() == TOKEN  # still there for discord.py


def test_a_bad_setting_is_reported_without_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    monkeypatch.setenv("TUTOR_RETENTION_DAYS", "0")
    with pytest.raises(pydantic.ValidationError) as invalid:
        Settings()
    assert "tutor_retention_days" in str(invalid.value)
    assert TOKEN not in str(invalid.value) and TOKEN not in repr(invalid.value)


# --- point_at -----------------------------------------------------------------------------------


@pytest.fixture
def restore_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever point_at changes, monkeypatch puts back after the test."""
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    )


@pytest.mark.usefixtures("restore_endpoints")
def test_point_at_replaces_the_rest_base_and_the_gateway() -> None:
    runner.point_at(
        Settings(discord_api_base="http://127.0.0.1:8123/api/v10/", discord_gateway_url="ws://127.0.0.1:8123/gw")
    )
    assert discord.http.Route.BASE == "http://127.0.0.1:8123/api/v10"
    assert discord.http.Route("GET", "/users/@me").url == "http://127.0.0.1:8123/api/v10/users/@me"
    gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    assert isinstance(gateway, yarl.URL)  # discord.py 2.7 builds the gateway URL with yarl
    assert gateway == yarl.URL("ws://127.0.0.1:8123/gw")


@pytest.mark.usefixtures("restore_endpoints")
def test_point_at_without_overrides_keeps_discords_endpoints() -> None:
    base = discord.http.Route.BASE
    gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    runner.point_at(Settings())
    assert discord.http.Route.BASE == base == "https://discord.com/api/v10"
    assert gateway == discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY


# --- run and sync, in this process --------------------------------------------------------------


@pytest.mark.parametrize("command", ["run", "sync"])
def test_without_a_token_run_and_sync_exit_2_in_one_line(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    status = runner.run(Settings()) if command == "run" else runner.sync(Settings(), None)
    assert status == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error: DISCORD_TOKEN is not set")


@pytest.mark.usefixtures("restore_endpoints")
def test_a_rejected_token_is_one_line_and_never_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def refuse(self: TutorBot, token: str, *, reconnect: bool = True) -> None:
        assert token == TOKEN
        raise discord.LoginFailure("Improper token has been passed.")

    monkeypatch.setattr(TutorBot, "start", refuse)
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    assert runner.run(Settings()) == 1
    out, err = capsys.readouterr()
    assert err.strip() == runner.REJECTED_TOKEN
    assert TOKEN not in out + err


# --- python -m bot run, as an operator runs it -------------------------------------------------


def _bot(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in cli_env().items() if key not in SETTINGS_ENV}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )


def test_run_without_a_token_exits_2_with_one_line(tmp_path: Path) -> None:
    assert not (tmp_path / ".env").exists()
    done = _bot(tmp_path, "run")
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert "DISCORD_TOKEN" in lines[0] and lines[0].startswith("error:")
    assert "Traceback" not in done.stderr


def test_run_with_an_empty_token_in_env_file_exits_2(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DISCORD_TOKEN=\n", encoding="utf-8")
    done = _bot(tmp_path, "run")
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1 and "DISCORD_TOKEN" in done.stderr


def _closed_port() -> int:
    """A loopback port nobody listens on: bound, read, closed."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("command", ["run", "sync"])
def test_an_unreachable_discord_is_one_error_line_without_the_token(tmp_path: Path, command: str) -> None:
    port = _closed_port()
    done = _bot(
        tmp_path,
        command,
        DISCORD_TOKEN=TOKEN,
        DISCORD_API_BASE=f"http://127.0.0.1:{port}/api/v10",
        DISCORD_GATEWAY_URL=f"ws://127.0.0.1:{port}/",
        LOG_LEVEL="DEBUG",  # even the most talkative logging must not print the token
    )
    assert done.returncode not in (0, 2), done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: cannot reach Discord at http://127.0.0.1:{port}/api/v10: ClientConnectorError"]
    assert TOKEN not in done.stdout and TOKEN not in done.stderr
    assert TOKEN.split(".")[-1] not in done.stderr  # not even the secret part


def test_the_subprocess_tests_do_not_inherit_a_token() -> None:
    """Guard for the tests above: the fixture really removed the settings from this process too."""
    assert "DISCORD_TOKEN" not in os.environ
