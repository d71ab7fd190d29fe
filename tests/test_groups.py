"""Command groups: /stats (instructors, guild-only) and /privacy (everyone, everywhere).

The declaration (bot/commands.py), the payload Discord receives (``Group.to_dict(tree)``,
what ``sync`` uploads; Discord's option and context numbers are typed in here), the
terminal parser, the permission checks in code, and the bot's tree after ``setup_hook``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import discord
import pytest
from discord import app_commands
from helpers import mock_interaction, sent_kwargs

from bot.answers import Services, answer
from bot.app.bot import TutorBot, TutorTree, _error_message
from bot.app.cooldowns import MemoryCooldowns
from bot.app.slash import build_command, build_group, in_a_server, manages_server
from bot.commands import (
    COMMANDS,
    PRIVACY,
    STATS,
    CommandSpec,
    OptionType,
    Request,
    decode_request,
    encode_request,
    invocable,
    parse_invocation,
    resolve,
)
from bot.physiology import InputError
from bot.render.terminal import render_text

NAME = re.compile(r"^[-_a-z0-9]{1,32}$")
SUBCOMMAND, INTEGER, STRING = 1, 4, 3  # Discord's ApplicationCommandOptionType
GUILD_INSTALL, USER_INSTALL = 0, 1
GUILD, BOT_DM, PRIVATE_CHANNEL = 0, 1, 2
MANAGE_GUILD = 1 << 5
GROUPS = [spec for spec in COMMANDS.values() if spec.is_group]


async def _ignore(interaction: discord.Interaction, options: dict[str, Any]) -> None:
    raise AssertionError("not called in these tests")


@pytest.fixture
def tree() -> app_commands.CommandTree[discord.Client]:
    return app_commands.CommandTree(discord.Client(intents=discord.Intents.none()))


# --- the declaration ---------------------------------------------------------------------------


def test_the_groups_are_declared_once_in_the_command_table() -> None:
    assert COMMANDS["stats"] is STATS and COMMANDS["privacy"] is PRIVACY
    assert [sub.name for sub in STATS.subcommands] == ["show", "export", "logging"]
    assert [sub.name for sub in PRIVACY.subcommands] == ["show", "forget"]
    assert {sub.qualified_name for sub in invocable()} >= {
        "stats show",
        "stats export",
        "stats logging",
        "privacy show",
        "privacy forget",
    }
    assert not any(spec.is_group for spec in invocable())


@pytest.mark.parametrize("spec", GROUPS, ids=lambda spec: spec.name)
def test_a_group_and_its_subcommands_obey_discords_limits(spec: CommandSpec) -> None:
    assert spec.options == (), "a group has subcommands, not options"
    assert 1 <= len(spec.subcommands) <= 25
    for command in (spec, *spec.subcommands):
        assert NAME.match(command.name), command.name
        assert 1 <= len(command.description) <= 100, command.description
        for option in command.options:
            assert NAME.match(option.name) and 1 <= len(option.description) <= 100
    for sub in spec.subcommands:
        assert sub.parent == spec.name and sub.qualified_name == f"{spec.name} {sub.name}"
        assert sub.examples and all(parse_invocation(e).command == sub.qualified_name for e in sub.examples)
        assert resolve(sub.qualified_name) is sub
    assert resolve(spec.name) is spec and resolve(f"{spec.name} zombie") is None


def test_stats_is_guild_only_for_managers_and_privacy_is_for_everyone() -> None:
    assert STATS.guild_only and STATS.manage_guild and not STATS.user_install
    assert PRIVACY.user_install and not PRIVACY.guild_only and not PRIVACY.manage_guild
    for name in ("show", "export"):
        days = STATS.subcommand(name).option("days")  # type: ignore[union-attr]
        assert days is not None and days.type is OptionType.INTEGER and not days.required
        assert days.bounds is not None and (days.bounds.low, days.bounds.high) == (1, 365)
    state = STATS.subcommand("logging").option("state")  # type: ignore[union-attr]
    assert state is not None and state.required and [c.value for c in state.choices] == ["on", "off"]
    assert all(sub.options == () for sub in PRIVACY.subcommands)


# --- the payload Discord receives -------------------------------------------------------------


def test_the_stats_payload_is_guild_only_with_manage_server(tree: app_commands.CommandTree[Any]) -> None:
    payload = build_group(STATS, _ignore).to_dict(tree)
    assert payload["name"] == "stats" and payload["type"] == 1
    assert payload["contexts"] == [GUILD]
    assert payload["integration_types"] == [GUILD_INSTALL]
    assert payload["default_member_permissions"] in (str(MANAGE_GUILD), MANAGE_GUILD)
    assert payload["dm_permission"] is False
    subs = {option["name"]: option for option in payload["options"]}
    assert list(subs) == ["show", "export", "logging"]
    assert all(option["type"] == SUBCOMMAND for option in subs.values())
    for name in ("show", "export"):
        (days,) = subs[name]["options"]
        assert days["name"] == "days" and days["type"] == INTEGER and days["required"] is False
        assert (days["min_value"], days["max_value"]) == (1, 365)
    (state,) = subs["logging"]["options"]
    assert state["name"] == "state" and state["type"] == STRING and state["required"] is True
    assert [choice["value"] for choice in state["choices"]] == ["on", "off"]
    for sub in subs.values():  # Discord reads installs, contexts and permissions on the top level only
        assert not {"contexts", "integration_types", "default_member_permissions"} & set(sub)


def test_the_privacy_payload_is_user_installable_everywhere(tree: app_commands.CommandTree[Any]) -> None:
    payload = build_group(PRIVACY, _ignore).to_dict(tree)
    assert sorted(payload["integration_types"]) == [GUILD_INSTALL, USER_INSTALL]
    assert sorted(payload["contexts"]) == [GUILD, BOT_DM, PRIVATE_CHANNEL]
    assert payload["default_member_permissions"] is None
    assert [(option["name"], option["type"], option.get("options", [])) for option in payload["options"]] == [
        ("show", SUBCOMMAND, []),
        ("forget", SUBCOMMAND, []),
    ]


def test_groups_and_commands_are_built_by_their_own_builder() -> None:
    with pytest.raises(ValueError, match="build_group"):
        build_command(STATS, _ignore)
    with pytest.raises(ValueError, match="build_command"):
        build_group(COMMANDS["nernst"], _ignore)
    with pytest.raises(ValueError, match="handlers"):
        build_group(STATS, {"show": _ignore})


async def test_a_handler_per_subcommand_gets_its_options() -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    def handler(name: str) -> Any:
        async def handle(interaction: discord.Interaction, options: dict[str, Any]) -> None:
            seen.append((name, options))

        return handle

    group = build_group(STATS, {name: handler(name) for name in ("show", "export", "logging")})
    show = group.get_command("show")
    assert isinstance(show, app_commands.Command) and show.qualified_name == "stats show"
    await show.callback(mock_interaction(command="stats show"), days=None)  # type: ignore[call-arg]
    await group.get_command("logging").callback(mock_interaction(), state="off")  # type: ignore[union-attr,call-arg]
    assert seen == [("show", {}), ("logging", {"state": "off"})]


@pytest.fixture
async def tutor_bot() -> AsyncIterator[TutorBot]:
    async with TutorBot(services=Services.load(), cooldowns=MemoryCooldowns()) as created:
        await created.setup_hook()
        yield created


async def test_the_bots_tree_holds_both_groups(tutor_bot: TutorBot) -> None:
    payloads = {command.name: command.to_dict(tutor_bot.tree) for command in tutor_bot.tree.get_commands()}
    assert payloads["stats"]["contexts"] == [GUILD] and payloads["stats"]["integration_types"] == [GUILD_INSTALL]
    assert payloads["stats"]["default_member_permissions"] in (str(MANAGE_GUILD), MANAGE_GUILD)
    assert sorted(payloads["privacy"]["contexts"]) == [GUILD, BOT_DM, PRIVATE_CHANNEL]
    assert [o["name"] for o in payloads["stats"]["options"]] == [s.name for s in STATS.subcommands]
    assert [o["name"] for o in payloads["privacy"]["options"]] == [s.name for s in PRIVACY.subcommands]
    for spec in GROUPS:
        group = tutor_bot.tree.get_command(spec.name)
        assert isinstance(group, app_commands.Group) and group.description == spec.description


# --- permission checks in code --------------------------------------------------------------


def _checks(group: app_commands.Group, name: str) -> list[Any]:
    command = group.get_command(name)
    assert isinstance(command, app_commands.Command)
    return command.checks


@pytest.mark.parametrize("name", ["show", "export", "logging"])
def test_a_member_without_manage_server_is_refused(name: str) -> None:
    checks = _checks(build_group(STATS, _ignore), name)
    assert in_a_server in checks and manages_server in checks
    student = mock_interaction(command=f"stats {name}", permissions=discord.Permissions(send_messages=True))
    with pytest.raises(app_commands.MissingPermissions) as refused:
        for check in checks:
            check(student)
    assert refused.value.missing_permissions == ["manage_guild"]
    teacher = mock_interaction(command=f"stats {name}", permissions=discord.Permissions(manage_guild=True))
    assert all(check(teacher) for check in checks)


def test_stats_in_a_dm_is_refused_before_permissions_are_read() -> None:
    checks = _checks(build_group(STATS, _ignore), "show")
    dm = mock_interaction(command="stats show", guild_id=None, permissions=discord.Permissions(manage_guild=True))
    with pytest.raises(app_commands.NoPrivateMessage):
        for check in checks:
            check(dm)


def test_privacy_has_no_permission_checks() -> None:
    group = build_group(PRIVACY, _ignore)
    assert _checks(group, "show") == [] and _checks(group, "forget") == []


async def test_the_tree_tells_a_student_privately_what_is_missing() -> None:
    student = mock_interaction(command="stats show", permissions=discord.Permissions.none())
    with pytest.raises(app_commands.MissingPermissions) as refused:
        manages_server(student)
    assert "Manage Server" in (_error_message(refused.value) or "")
    tree = TutorTree(discord.Client(intents=discord.Intents.none()))
    tree.client.recorder = SimpleNamespace(record=lambda *args, **kwargs: None)  # type: ignore[attr-defined]
    await tree.on_error(student, refused.value)
    (sent,) = sent_kwargs(student)
    assert sent["ephemeral"] is True and "Manage Server" in sent["content"]


# --- the terminal ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "command", "options"),
    [
        ("/stats show days:7", "stats show", {"days": 7}),
        ("/stats show", "stats show", {}),
        ("stats SHOW days:365", "stats show", {"days": 365}),
        ("/stats export days:90", "stats export", {"days": 90}),
        ("/stats logging state:off", "stats logging", {"state": "off"}),
        ("/stats logging state:ON", "stats logging", {"state": "on"}),
        ("/privacy forget", "privacy forget", {}),
        ("/privacy show", "privacy show", {}),
    ],
)
def test_the_terminal_parses_group_commands(text: str, command: str, options: dict[str, Any]) -> None:
    assert parse_invocation(text) == Request(command, options)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("/stats", "needs a subcommand: show, export, logging"),
        ("/stats days:7", "needs a subcommand: show, export, logging"),
        ("/stats zombie", "Unknown subcommand `zombie` for /stats: its subcommands are show, export, logging"),
        ("/privacy erase", "its subcommands are show, forget"),
        ("/stats show days:0", "days"),
        ("/stats show days:366", "days"),
        ("/stats show days:1.5", "whole number"),
        ("/stats logging", "/stats logging needs `state`"),
        ("/stats logging state:maybe", "one of on, off"),
        ("/privacy forget everything:yes", "it takes no options"),
        ("/stats show 7", "name:value"),
    ],
)
def test_the_terminal_rejects_bad_group_commands_in_one_line(text: str, says: str) -> None:
    with pytest.raises(InputError) as refused:
        parse_invocation(text)
    assert says in str(refused.value) and "\n" not in str(refused.value)


@pytest.mark.parametrize("command", ["stats show", "stats export", "stats logging", "privacy forget", "stats"])
def test_answer_refuses_group_commands_politely(command: str) -> None:
    options = {"state": "on"} if command == "stats logging" else {}
    result = answer(Request(command, options))
    assert result.error and "Discord" in result.headline
    if command.startswith("stats"):
        assert "membrane-tutor stats" in result.headline


def test_groups_are_not_shareable() -> None:
    with pytest.raises(ValueError, match="not shareable"):
        encode_request(Request("stats show", {"days": 7}))
    for encoded in ("stats", "stats show", "privacy|0", "privacy forget"):
        with pytest.raises(InputError):
            decode_request(encoded)


def test_help_lists_each_subcommand_and_explains_a_group() -> None:
    overview = answer(Request("help"))
    names = [field.name for field in overview.fields]
    assert "/stats show [days]" in names and "/stats logging state:…" in names and "/privacy forget" in names
    assert len(overview.fields) <= 25
    stats = answer(Request("help", {"command": "stats"}))
    assert not stats.error and stats.title == "/stats"
    assert [field.name for field in stats.fields] == [
        "/stats show [days]",
        "/stats export [days]",
        "/stats logging state:…",
    ]
    assert "1 to 365" in render_text(stats)
