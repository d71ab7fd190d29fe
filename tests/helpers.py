"""Shared test helpers: the answer schema, independent reference values, the CLI in a subprocess.

Imported as ``helpers`` (pytest puts ``tests/`` on ``sys.path`` for its test modules).
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_PATH = ROOT / "schemas" / "answer.v1.json"

R = 8.314462618  # J mol⁻¹ K⁻¹, CODATA 2018
F = 96485.33212  # C mol⁻¹, CODATA 2018

MILLIVOLTS = re.compile(r"([−+]?\d+\.\d) mV")


def nernst_mv(valence: int, inside: float, outside: float, celsius: float) -> float:
    """E = RT/(zF)·ln([X]o/[X]i) in mV, computed here with math.log, not by the engine."""
    return 1000.0 * R * (273.15 + celsius) / (valence * F) * math.log(outside / inside)


def parse_mv(text: str) -> float:
    """The first potential printed as the bot prints it ("−65.2 mV", "+54.8 mV") as a float."""
    match = MILLIVOLTS.search(text)
    assert match, f"no potential in {text!r}"
    return float(match.group(1).replace("−", "-"))


@cache
def answer_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@cache
def answer_validator() -> Draft202012Validator:
    schema = answer_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def assert_valid_answer_json(data: Any) -> None:
    """Valid against schemas/answer.v1.json, and real JSON (no NaN or Infinity)."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    errors = sorted(answer_validator().iter_errors(json.loads(text)), key=lambda error: list(error.absolute_path))
    assert not errors, "\n".join(f"{list(error.absolute_path)}: {error.message}" for error in errors[:5])


def cli_env(**extra: str) -> dict[str, str]:
    """The environment for the CLI: headless matplotlib, UTF-8 output, default log level, and the
    width of a pipe (no COLUMNS from the shell that runs the tests)."""
    dropped = ("LOG_LEVEL", "PYTHONWARNINGS", "COLUMNS", "LINES")
    env = {key: value for key, value in os.environ.items() if key not in dropped}
    env.update(MPLBACKEND="Agg", PYTHONIOENCODING="utf-8", **extra)
    return env


def run_cli(
    *args: str,
    input: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    cwd: Path = ROOT,
) -> subprocess.CompletedProcess[str]:
    """``python -m bot ARGS`` in a subprocess; stdin is /dev/null unless ``input`` is given.
    Outside ROOT this checkout's ``bot`` is still the one run (PYTHONPATH)."""
    if cwd != ROOT:
        env = {**(env or cli_env()), "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env or cli_env(),
        input=input,
        stdin=subprocess.DEVNULL if input is None else None,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )


# --- discord.py mocks built from the real classes (python-discord's tests/helpers.py habit) -----


def mock_interaction(
    *,
    command: str | None = "nernst",
    user_id: int = 111_222_333_444_555_666,
    guild_id: int | None = 777_888_999_000_111_222,
    done: bool = False,
    locale: Any = None,
    permissions: Any = None,
) -> Any:
    """A ``discord.Interaction`` mock with ``spec_set`` from the real classes.

    ``response`` is an ``InteractionResponse`` mock whose ``is_done()`` answers ``done`` until
    ``send_message`` or ``defer`` is awaited (then True, as in discord.py); ``followup`` is a
    ``Webhook`` mock. A typo'd attribute or a method discord.py lacks fails loudly.
    ``permissions`` (a ``discord.Permissions``) are the member's in the channel, when given.
    """
    from unittest import mock

    import discord
    from discord import app_commands

    interaction = mock.create_autospec(discord.Interaction, instance=True, spec_set=True)
    response = mock.create_autospec(discord.InteractionResponse, instance=True, spec_set=True)
    state = {"done": done}
    response.is_done.side_effect = lambda: state["done"]

    def _responded(*args: Any, **kwargs: Any) -> None:
        state["done"] = True

    response.send_message.side_effect = _responded
    response.defer.side_effect = _responded
    interaction.response = response
    interaction.followup = mock.create_autospec(discord.Webhook, instance=True, spec_set=True)
    interaction.id = 1_300_000_000_000_000_000
    user = mock.create_autospec(discord.User, instance=True, spec_set=True)
    user.id = user_id
    interaction.user = user
    interaction.guild_id = guild_id
    interaction.locale = locale if locale is not None else discord.Locale.american_english
    if permissions is not None:
        interaction.permissions = permissions
    if command is None:
        interaction.command = None
    else:
        slash = mock.create_autospec(app_commands.Command, instance=True, spec_set=True)
        slash.qualified_name = command
        interaction.command = slash
    return interaction


def sent_kwargs(interaction: Any) -> list[dict[str, Any]]:
    """The keyword arguments of every message sent through a mocked interaction, in order."""
    calls = [*interaction.response.send_message.await_args_list, *interaction.followup.send.await_args_list]
    return [call.kwargs for call in calls]


DESIGN_SETTINGS: tuple[str, ...] = (
    "DISCORD_TOKEN",
    "TUTOR_DB",
    "DISCORD_API_BASE",
    "DISCORD_GATEWAY_URL",
    "TUTOR_HASH_KEY",
    "TUTOR_RETENTION_DAYS",
    "LOG_LEVEL",
)
"""Every setting design.md's "Running" section names."""
