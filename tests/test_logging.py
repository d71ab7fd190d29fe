"""Log lines in colour only on a terminal (bot/app/runner.py ``setup_logging``).

discord.py's ``setup_logging`` colours whenever ``stream_supports_colour`` says so, and that
says yes inside Docker even when nothing is a terminal: ``docker logs``, journald and log
files then carry ANSI escape codes. The bot's own setup asks for a terminal, and honours
NO_COLOR and TERM=dumb.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import discord
import pytest

import bot.__main__ as cli
from bot.app import runner

ESCAPE = "\x1b["


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def root_logger(monkeypatch: pytest.MonkeyPatch) -> Iterator[logging.Logger]:
    """Each test gets the root logger back as it found it, and a colour-capable environment."""
    for name in ("NO_COLOR", "PYCHARM_HOSTED", "TERM_PROGRAM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)


def _logged(stream: io.StringIO) -> str:
    runner.setup_logging(logging.INFO, stream)
    logging.getLogger("membrane_tutor.test").warning("the figure worker took %d s", 5)
    return stream.getvalue()


@pytest.mark.parametrize("in_docker", [False, True], ids=["host", "docker"])
def test_a_stream_that_is_not_a_terminal_gets_no_escape_codes(monkeypatch: pytest.MonkeyPatch, in_docker: bool) -> None:
    monkeypatch.setattr(discord.utils, "is_docker", lambda: in_docker)
    assert discord.utils.stream_supports_colour(io.StringIO()) is in_docker  # discord.py's own answer differs
    text = _logged(io.StringIO())
    assert ESCAPE not in text
    assert "[WARNING ] membrane_tutor.test: the figure worker took 5 s" in text


def test_a_terminal_gets_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discord.utils, "stream_supports_colour", lambda stream: True)  # not on a Windows console
    assert ESCAPE in _logged(FakeTerminal())


@pytest.mark.parametrize(("name", "value"), [("NO_COLOR", "1"), ("TERM", "dumb")])
def test_no_color_and_a_dumb_terminal_turn_colour_off(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setattr(discord.utils, "stream_supports_colour", lambda stream: True)
    monkeypatch.setenv(name, value)
    assert ESCAPE not in _logged(FakeTerminal())


def test_run_and_sync_log_to_a_pipe_without_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    """What ``membrane-tutor run`` sets up, in a container whose standard error is a pipe."""
    monkeypatch.setattr(discord.utils, "is_docker", lambda: True)
    stderr = io.StringIO()
    monkeypatch.setattr("sys.stderr", stderr)
    monkeypatch.setenv("LOG_LEVEL", "info")
    assert cli._discord_settings() is not None
    logging.getLogger("discord.client").info("logging in using static token")
    assert "logging in using static token" in stderr.getvalue()
    assert ESCAPE not in stderr.getvalue()


@pytest.mark.parametrize("command", [["ask", "/restpot"], ["run"]])
def test_an_unknown_log_level_is_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "verbose")
    assert cli.main(command) == 2
    err = capsys.readouterr().err
    assert err == "error: LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL (got 'verbose')\n"


def test_an_invalid_setting_is_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TUTOR_RETENTION_DAYS", "0")
    assert cli.main(["run"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("error: invalid setting TUTOR_RETENTION_DAYS: ")
