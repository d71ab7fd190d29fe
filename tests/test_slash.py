"""Slash commands generated from the declaration (bot/app/slash.py), compared with it field by field.

What Discord receives is ``Command.to_dict(tree)``: the payload ``sync`` uploads. Each command
is built with ``build_command`` and, separately, taken from a real ``TutorBot``'s tree after
``setup_hook`` (where the cogs also attach autocomplete), and every field is compared with
bot/commands.py. The option type numbers are Discord's (ApplicationCommandOptionType), typed in
here rather than taken from discord.py.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import discord
import pytest
from discord import app_commands

from bot.answers import Services
from bot.app.bot import TutorBot
from bot.app.cooldowns import MemoryCooldowns
from bot.app.slash import build_command
from bot.commands import COMMANDS, CommandSpec, OptionSpec, OptionType
from bot.physiology.validation import Bounds

# Discord's ApplicationCommandOptionType.
DISCORD_TYPES = {OptionType.STRING: 3, OptionType.INTEGER: 4, OptionType.BOOLEAN: 5, OptionType.NUMBER: 10}
GUILD_INSTALL, USER_INSTALL = 0, 1
GUILD, BOT_DM, PRIVATE_CHANNEL = 0, 1, 2

SPECS = [spec for spec in COMMANDS.values() if not spec.is_group]  # groups (build_group): test_groups.py


async def _ignore(interaction: discord.Interaction, options: dict[str, Any]) -> None:
    raise AssertionError("not called in these tests")


@pytest.fixture
def tree() -> app_commands.CommandTree[discord.Client]:
    return app_commands.CommandTree(discord.Client(intents=discord.Intents.none()))


def assert_matches_declaration(payload: dict[str, Any], spec: CommandSpec, *, autocomplete_attached: bool) -> None:
    assert payload["name"] == spec.name
    assert payload["description"] == spec.description
    assert payload["type"] == 1  # CHAT_INPUT
    options = payload.get("options", [])
    assert [option["name"] for option in options] == [option.name for option in spec.options]
    required = [option["required"] for option in options]
    assert required == sorted(required, reverse=True), "required options first"
    for sent, declared in zip(options, spec.options, strict=True):
        where = f"/{spec.name} {declared.name}"
        assert sent["description"] == declared.description, where
        assert sent["type"] == DISCORD_TYPES[declared.type], where
        assert sent["required"] is declared.required, where
        if declared.bounds is None:
            assert "min_value" not in sent and "max_value" not in sent, where
        else:
            assert sent["min_value"] == declared.bounds.low, where
            assert sent["max_value"] == declared.bounds.high, where
            assert type(sent["min_value"]) is (int if declared.type is OptionType.INTEGER else float), where
        assert [(choice["name"], choice["value"]) for choice in sent.get("choices", [])] == [
            (choice.name, choice.value) for choice in declared.choices
        ], where
        if declared.max_length is None:
            assert "max_length" not in sent, where
        else:
            assert sent["max_length"] == declared.max_length, where
            assert sent["min_length"] == 1, where
        if autocomplete_attached:
            assert sent.get("autocomplete", False) is declared.autocomplete, where
    if spec.user_install:
        assert sorted(payload["integration_types"]) == [GUILD_INSTALL, USER_INSTALL]
        assert sorted(payload["contexts"]) == [GUILD, BOT_DM, PRIVATE_CHANNEL]
    else:
        assert payload["integration_types"] == [GUILD_INSTALL]
        assert payload["contexts"] == [GUILD]


async def _suggest(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    return []


def _built(spec: CommandSpec) -> app_commands.Command[Any, ..., None]:
    return build_command(spec, _ignore, autocomplete={o.name: _suggest for o in spec.options if o.autocomplete})


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.name)
def test_a_built_command_is_its_declaration(spec: CommandSpec, tree: app_commands.CommandTree[Any]) -> None:
    payload = _built(spec).to_dict(tree)
    assert_matches_declaration(payload, spec, autocomplete_attached=True)


def test_an_autocomplete_option_without_its_callback_is_refused() -> None:
    with pytest.raises(ValueError, match="topic"):
        build_command(COMMANDS["explain"], _ignore)
    with pytest.raises(ValueError, match="ion"):
        build_command(COMMANDS["nernst"], _ignore, autocomplete={"ion": _suggest})


async def test_the_bots_commands_are_the_declaration_with_autocomplete_attached() -> None:
    async with TutorBot(services=Services.load(), cooldowns=MemoryCooldowns()) as bot:
        await bot.setup_hook()
        payloads = {command.name: command.to_dict(bot.tree) for command in bot.tree.get_commands()}
    assert set(payloads) == set(COMMANDS)
    for spec in SPECS:
        assert_matches_declaration(payloads[spec.name], spec, autocomplete_attached=True)
    topic = next(option for option in payloads["explain"]["options"] if option["name"] == "topic")
    assert topic["autocomplete"] is True
    assert "choices" not in topic  # Discord refuses an option with both


def test_the_types_and_bounds_that_matter_most() -> None:
    """Spot checks in Discord's own terms, independent of the loop above."""
    tree = app_commands.CommandTree(discord.Client(intents=discord.Intents.none()))
    nernst = build_command(COMMANDS["nernst"], _ignore).to_dict(tree)
    options = {option["name"]: option for option in nernst["options"]}
    assert nernst["options"][0]["name"] == "ion" and options["ion"]["required"] is True
    assert options["ion"]["type"] == 3
    assert options["valence"] == {
        "type": 4,
        "name": "valence",
        "description": COMMANDS["nernst"].options[5].description,
        "required": False,
        "min_value": -3,
        "max_value": 3,
    }
    assert (options["inside"]["type"], options["inside"]["min_value"], options["inside"]["max_value"]) == (
        10,
        1e-6,
        1000.0,
    )
    assert (options["temperature"]["min_value"], options["temperature"]["max_value"]) == (0.0, 50.0)
    assert options["private"]["type"] == 5
    explain = _built(COMMANDS["explain"]).to_dict(tree)
    assert explain["options"][0]["max_length"] == 100


INSTRUCTOR = CommandSpec(
    "stats-test",
    "Instructor analytics (a test command)",
    (
        OptionSpec("days", "How many days back", OptionType.INTEGER, required=True, bounds=Bounds(1, 365, "days")),
        OptionSpec("raw", "Raw numbers", OptionType.BOOLEAN),
    ),
    examples=("/stats-test days:7",),
    user_install=False,
)


def test_a_guild_only_command_is_installable_and_usable_only_in_servers(tree: app_commands.CommandTree[Any]) -> None:
    payload = build_command(INSTRUCTOR, _ignore).to_dict(tree)
    assert payload["integration_types"] == [GUILD_INSTALL]
    assert payload["contexts"] == [GUILD]
    assert_matches_declaration(payload, INSTRUCTOR, autocomplete_attached=True)


def test_checks_are_attached() -> None:
    def check(interaction: discord.Interaction) -> bool:
        return True

    command = build_command(COMMANDS["restpot"], _ignore, checks=(check,))
    assert command.checks == [check]
    assert build_command(COMMANDS["restpot"], _ignore).checks == []


def _interaction() -> Any:
    return mock.create_autospec(discord.Interaction, instance=True, spec_set=True)


async def test_the_handler_receives_only_the_options_that_were_given() -> None:
    received: list[tuple[Any, dict[str, Any]]] = []

    async def handler(interaction: discord.Interaction, options: dict[str, Any]) -> None:
        received.append((interaction, options))

    command = build_command(COMMANDS["nernst"], handler)
    interaction = _interaction()
    # discord.py fills every optional parameter that was not typed with its default, None.
    await command.callback(  # type: ignore[call-arg]
        interaction,
        ion="K",
        inside=140.0,
        outside=None,
        preset=None,
        temperature=0.0,
        valence=None,
        detail=None,
        private=False,
    )
    assert received == [(interaction, {"ion": "K", "inside": 140.0, "temperature": 0.0, "private": False})]


async def test_the_callback_signature_is_what_discord_py_reads() -> None:
    command = build_command(COMMANDS["restpot"], _ignore)
    assert [parameter.name for parameter in command.parameters] == [
        option.name for option in COMMANDS["restpot"].options
    ]
    assert all(not parameter.required for parameter in command.parameters)
    assert all(parameter.default is None for parameter in command.parameters)
    whatif = build_command(COMMANDS["whatif"], _ignore)
    assert whatif.get_parameter("scenario") is not None and whatif.get_parameter("scenario").required  # type: ignore[union-attr]
