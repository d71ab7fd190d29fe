"""The README a newcomer follows in a fresh clone (issue 10, "the first ten minutes")."""

from __future__ import annotations

import re

from helpers import ROOT

from bot.commands import COMMANDS

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_no_placeholder_is_left_to_fill_in() -> None:
    assert not re.search(r"\b[A-Z]+_URL\b", README)


def test_bare_examples_come_after_saying_how_to_activate_the_venv() -> None:
    first_bare = README.index("$ membrane-tutor ")
    assert ". .venv/bin/activate" in README[:first_bare]


def test_it_does_not_promise_as_coming_what_is_already_here() -> None:
    assert "follow (see the issues)" not in README
    for shipped in ("Discord bot", "figures", "knowledge base", "interaction log"):
        assert shipped in README.split("## Set up", 1)[0]


def test_subcommand_options_are_written_with_their_names() -> None:
    """`/stats logging on|off` does not parse; the option is `state:`."""
    logging = next(sub for sub in COMMANDS["stats"].subcommands if sub.name == "logging")
    (option,) = logging.options
    assert f"/stats logging {option.name}:on|off" in README
    assert "/stats logging on|off" not in README
