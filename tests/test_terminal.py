"""Terminal text (bot/render/terminal.py): wrapped at the terminal's own width.

An 80-column terminal re-wraps any line longer than 80 mid-word, so the renderer asks
the terminal (``shutil.get_terminal_size``: ``COLUMNS``, then the terminal itself, 80
when there is none) and keeps to it; a very wide window is capped for readability.
"""

from __future__ import annotations

import os
import re
import shutil

import pytest
from helpers import cli_env, run_cli

from bot.answers import Answer, answer
from bot.commands import Request
from bot.render import terminal
from bot.render.terminal import MAX_WIDTH, render_text, text_width

VALUE = re.compile(r"[−+]?\d+(?:\.\d+)? mV")


def _long_answers() -> list[Answer]:
    return [
        answer(Request("explain", {"topic": "leak-channels"})),
        answer(Request("restpot", {"detail": "steps"})),
        answer(Request("whatif", {"scenario": "hyperkalemia"})),
    ]


def _terminal(monkeypatch: pytest.MonkeyPatch, columns: int) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(shutil, "get_terminal_size", lambda fallback=(80, 24): os.terminal_size((columns, 24)))


@pytest.mark.parametrize("columns", [44, 60, 80])
def test_lines_fit_the_terminal_and_use_it(monkeypatch: pytest.MonkeyPatch, columns: int) -> None:
    _terminal(monkeypatch, columns)
    assert text_width() == columns
    for result in _long_answers():
        lines = render_text(result).splitlines()
        assert max(len(line) for line in lines) <= columns, result.title
        assert max(len(line) for line in lines) > columns - 12, "wrapped much narrower than the terminal"


def test_a_wide_window_is_capped_for_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    _terminal(monkeypatch, 250)
    assert text_width() == MAX_WIDTH
    lines = render_text(_long_answers()[0]).splitlines()
    assert MAX_WIDTH - 12 < max(len(line) for line in lines) <= MAX_WIDTH


def test_no_terminal_means_80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """What shutil does when standard output is a pipe: COLUMNS unset and no terminal to ask."""
    monkeypatch.delenv("COLUMNS", raising=False)

    def not_a_terminal(fd: int = 1) -> os.terminal_size:
        raise OSError("not a terminal")

    monkeypatch.setattr(os, "get_terminal_size", not_a_terminal)
    assert text_width() == terminal.FALLBACK_WIDTH == 80


@pytest.mark.parametrize("width", range(24, 101, 4))
def test_a_value_is_never_split_across_lines(width: int) -> None:
    """``V_m = −65.2 mV`` stays on one line at any width: a reader scans for the number."""
    for result in _long_answers():
        text = render_text(result, width)
        lines = text.splitlines()
        assert max(len(line) for line in lines) <= width or any(" " not in line.strip() for line in lines)
        for value in VALUE.findall(" ".join([result.headline, *result.lines])):
            assert any(value in line for line in lines), (width, value)


def test_the_cli_wraps_at_the_width_it_is_given_and_at_80_in_a_pipe() -> None:
    narrow = run_cli("ask", "/explain topic:leak-channels", env=cli_env(COLUMNS="60"))
    assert narrow.returncode == 0, narrow.stderr
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 60
    piped = run_cli("ask", "/explain topic:leak-channels")  # stdout is a pipe and COLUMNS is unset
    assert piped.returncode == 0, piped.stderr
    assert 70 < max(len(line) for line in piped.stdout.splitlines()) <= 80
