"""The held-out numeric question set (issue 12) stays consistent with the calculator.

Only the file's shape and its keyed values are checked here: every ``command`` (and
``before_command``) parses and computes, with the current engine, the ``expected_mv`` (and
``before_mv``) the set records. No reader is scored: the set is scored once, at the end.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.answers import answer
from bot.commands import parse_invocation
from bot.physiology.results import NernstResult, RestingPotentialResult, WhatIfResult

SET = Path(__file__).parent / "data" / "ask-numeric-heldout.yaml"
VOICES = {"exam", "nursing", "texting", "esl", "plain"}
QUANTITIES = {"E_ion", "V_m", "change"}
TOLERANCE_MV = 0.05

COMPUTED_KEYS = {"question", "command", "expected_mv", "quantity", "assumptions", "voice"}
COMPUTED_OPTIONAL = {"before_mv", "before_command"}
AMBIGUOUS_KEYS = {"question", "assumption", "command", "expected_mv", "quantity", "voice"}
NOT_COMPUTABLE_KEYS = {"question", "reason", "voice"}


def _load() -> dict[str, list[dict[str, Any]]]:
    return yaml.safe_load(SET.read_text(encoding="utf-8"))


DATA = _load()


def _engine(command: str) -> tuple[float, float | None]:
    """The value the engine gives for ``command``: E_ion, V_m, or a what-if's after and before."""
    result = answer(parse_invocation(command))
    assert not result.error, f"{command}: {result.headline}"
    value = result.result
    if isinstance(value, WhatIfResult):
        return value.after_mv, value.before_mv
    if isinstance(value, RestingPotentialResult):
        return value.vm_mv, None
    assert isinstance(value, NernstResult), command
    return value.ion.equilibrium_mv, None


def test_sections_and_sizes() -> None:
    assert set(DATA) == {"computed", "ambiguous", "not_computable"}
    assert len(DATA["computed"]) >= 70
    assert len(DATA["ambiguous"]) >= 8
    assert len(DATA["not_computable"]) >= 15


def test_shape() -> None:
    for entry in DATA["computed"]:
        assert COMPUTED_KEYS <= set(entry) <= COMPUTED_KEYS | COMPUTED_OPTIONAL, entry
        assert entry["quantity"] in QUANTITIES, entry
        assert isinstance(entry["assumptions"], list), entry
        assert all(isinstance(item, str) and item for item in entry["assumptions"]), entry
        assert ("before_mv" in entry) == (entry["quantity"] == "change"), entry
        if "before_command" in entry:
            assert not entry["command"].startswith("/whatif"), entry
        elif entry["quantity"] == "change":
            assert entry["command"].startswith("/whatif"), entry
    for entry in DATA["ambiguous"]:
        assert set(entry) == AMBIGUOUS_KEYS, entry
        assert entry["quantity"] in QUANTITIES - {"change"}, entry
    for entry in DATA["not_computable"]:
        assert set(entry) == NOT_COMPUTABLE_KEYS, entry
        assert entry["reason"].strip(), entry
    everything = [entry for section in DATA.values() for entry in section]
    assert all(entry["voice"] in VOICES for entry in everything)
    assert set(Counter(entry["voice"] for entry in DATA["computed"])) == VOICES
    questions = [entry["question"].strip().lower() for entry in everything]
    assert len(questions) == len(set(questions)), "a question appears twice"


def test_covers_every_ion_and_command() -> None:
    commands = [entry["command"] for entry in DATA["computed"]]
    for ion in ("K", "Na", "Cl", "Ca", "Mg"):
        assert any(f"/nernst ion:{ion}" in command for command in commands), ion
    for head in ("/nernst", "/restpot", "/whatif scenario:pump-block"):
        assert any(command.startswith(head) for command in commands), head


@pytest.mark.parametrize("entry", DATA["computed"] + DATA["ambiguous"], ids=lambda entry: entry["command"][:60])
def test_command_computes_expected_value(entry: dict[str, Any]) -> None:
    value, before = _engine(entry["command"])
    assert value == pytest.approx(entry["expected_mv"], abs=TOLERANCE_MV)
    if "before_command" in entry:
        before, _ = _engine(entry["before_command"])
    if "before_mv" in entry:
        assert before is not None, entry["command"]
        assert before == pytest.approx(entry["before_mv"], abs=TOLERANCE_MV)
