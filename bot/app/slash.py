"""Slash commands generated from the one declaration in :mod:`bot.commands`.

discord.py reads a command's options from its callback's signature; here the signature
is built from :class:`~bot.commands.CommandSpec` (names, bounds as ``Range``, choices,
descriptions), so Discord's client validates what a student types with exactly the
bounds the engine and the terminal use. Nothing is declared twice.
"""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Optional

import discord
from discord import app_commands

from bot.commands import COMMANDS, CommandSpec, OptionSpec, OptionType, check_required, shown
from bot.physiology import InputError

Handler = Callable[[discord.Interaction, dict[str, Any]], Awaitable[None]]

DISCORD_TYPES = {OptionType.STRING: 3, OptionType.INTEGER: 4, OptionType.BOOLEAN: 5, OptionType.NUMBER: 10}
"""Discord's ApplicationCommandOptionType for each declared type."""
SUBCOMMAND = 1
DAMAGED = "This command arrived damaged: type it again, or refresh Discord (Ctrl+R)."


def _annotation(option: OptionSpec) -> Any:
    if option.type is OptionType.BOOLEAN:
        base: Any = bool
    elif option.type is OptionType.STRING:
        base = str if option.max_length is None else app_commands.Range[str, 1, option.max_length]
    else:
        kind = int if option.type is OptionType.INTEGER else float
        if option.bounds is None:
            base = kind
        else:
            base = app_commands.Range[kind, kind(option.bounds.low), kind(option.bounds.high)]
    return base if option.required else Optional[base]  # noqa: UP045 - discord.py reads typing.Optional


def _signature(spec: CommandSpec) -> inspect.Signature:
    parameters = [
        inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction)
    ]
    for option in spec.options:
        parameters.append(
            inspect.Parameter(
                option.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=inspect.Parameter.empty if option.required else None,
                annotation=_annotation(option),
            )
        )
    return inspect.Signature(parameters)


Autocomplete = Callable[[discord.Interaction, str], Awaitable[list[app_commands.Choice[str]]]]


def _command(
    spec: CommandSpec,
    handler: Handler,
    checks: tuple[Callable[[discord.Interaction], Any], ...],
    autocomplete: dict[str, Autocomplete] | None,
) -> app_commands.Command[Any, ..., None]:
    """The command itself: signature, descriptions, choices, checks, autocomplete."""
    suggesters = autocomplete or {}
    wanted = {option.name for option in spec.options if option.autocomplete}
    if wanted != set(suggesters):
        raise ValueError(
            f"/{spec.qualified_name}: autocomplete callbacks for {sorted(wanted)}, got {sorted(suggesters)}"
        )

    async def callback(interaction: discord.Interaction, **options: Any) -> None:
        await handler(interaction, {name: value for name, value in options.items() if value is not None})

    callback.__name__ = spec.name
    callback.__qualname__ = spec.name
    callback.__signature__ = _signature(spec)  # type: ignore[attr-defined]
    callback.__discord_app_commands_param_description__ = {o.name: o.description for o in spec.options}  # type: ignore[attr-defined]
    callback.__discord_app_commands_param_choices__ = {  # type: ignore[attr-defined]
        o.name: [app_commands.Choice(name=c.name, value=c.value) for c in o.choices] for o in spec.options if o.choices
    }
    command = app_commands.Command(name=spec.name, description=spec.description, callback=callback)
    for check in checks:
        command.add_check(check)
    for name, suggest in suggesters.items():
        command.autocomplete(name)(suggest)
    return command


def _installs(spec: CommandSpec) -> tuple[app_commands.AppInstallationType, app_commands.AppCommandContext]:
    """Where a top-level command may be installed and used.

    User-installable commands work everywhere; the others (and every ``guild_only`` one)
    only in a server, declared explicitly (design.md: ``guild_only=True`` alone leaves
    the installs and contexts unset).
    """
    installs = app_commands.AppInstallationType(guild=True, user=spec.user_install)
    everywhere = spec.user_install and not spec.guild_only
    contexts = app_commands.AppCommandContext(guild=True, dm_channel=everywhere, private_channel=everywhere)
    return installs, contexts


def build_command(
    spec: CommandSpec,
    handler: Handler,
    *,
    checks: tuple[Callable[[discord.Interaction], Any], ...] = (),
    autocomplete: dict[str, Autocomplete] | None = None,
) -> app_commands.Command[Any, ..., None]:
    """An ``app_commands.Command`` for ``spec`` whose callback hands the options to ``handler``.

    Every option the declaration marks ``autocomplete`` needs its callback here, so the
    declaration and the built command cannot disagree.
    """
    if spec.is_group:
        raise ValueError(f"/{spec.name} is a group: build it with build_group")
    command = _command(spec, handler, (*_permission_checks(spec), *checks), autocomplete)
    command.allowed_installs, command.allowed_contexts = _installs(spec)
    command.guild_only = spec.guild_only
    if spec.manage_guild:
        command.default_permissions = discord.Permissions(manage_guild=True)
    return command


def in_a_server(interaction: discord.Interaction) -> bool:
    """A check: the command runs in a server (Discord enforces the contexts too; a stale or
    forged invocation still gets the tree's one-line answer)."""
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    return True


def manages_server(interaction: discord.Interaction) -> bool:
    """A check: the member has Manage Server here. Discord's default permission hides the
    command from others, but a server's admins can change that; this does not depend on it."""
    if not interaction.permissions.manage_guild:
        raise app_commands.MissingPermissions(["manage_guild"])
    return True


def _permission_checks(spec: CommandSpec) -> tuple[Callable[[discord.Interaction], Any], ...]:
    checks: list[Callable[[discord.Interaction], Any]] = []
    if spec.guild_only or not spec.user_install:
        checks.append(in_a_server)
    if spec.manage_guild:
        checks.append(manages_server)
    return tuple(checks)


def build_group(
    spec: CommandSpec,
    handler: Handler | Mapping[str, Handler],
    *,
    checks: tuple[Callable[[discord.Interaction], Any], ...] = (),
    autocomplete: Mapping[str, dict[str, Autocomplete]] | None = None,
) -> app_commands.Group:
    """An ``app_commands.Group`` for a group ``spec``, its subcommands built as :func:`build_command`
    builds a command.

    ``handler`` serves every subcommand, or is a mapping from each subcommand's name to its
    own. Installs, contexts and the default permission are the group's (Discord reads them
    on the top-level command only); the permission checks run on every subcommand.
    ``autocomplete`` maps a subcommand's name to its option callbacks.
    """
    if not spec.is_group:
        raise ValueError(f"/{spec.name} has no subcommands: build it with build_command")
    names = {sub.name for sub in spec.subcommands}
    if isinstance(handler, Mapping) and set(handler) != names:
        raise ValueError(f"/{spec.name}: handlers for {sorted(names)}, got {sorted(handler)}")
    installs, contexts = _installs(spec)
    group = app_commands.Group(
        name=spec.name,
        description=spec.description,
        guild_only=spec.guild_only,  # the deprecated dm_permission, consistent with the contexts
        allowed_installs=installs,
        allowed_contexts=contexts,
        default_permissions=discord.Permissions(manage_guild=True) if spec.manage_guild else None,
    )
    suggesters = autocomplete or {}
    for sub in spec.subcommands:
        served = handler[sub.name] if isinstance(handler, Mapping) else handler
        group.add_command(_command(sub, served, (*_permission_checks(spec), *checks), suggesters.get(sub.name)))
    return group


# --- what arrives: the payload checked against the declaration before discord.py reads it ------


def declared_command(data: Mapping[str, Any]) -> tuple[CommandSpec, list[Any]] | None:
    """The declared (sub)command a chat-input interaction's ``data`` names and its raw options;
    None for a command the declaration does not have (discord.py answers that as unknown).
    InputError when a group's subcommand is missing or unknown."""
    spec = COMMANDS.get(data.get("name"))  # type: ignore[arg-type]
    if spec is None:
        return None
    options = data.get("options") or []
    if not isinstance(options, list):
        raise InputError(DAMAGED)
    if spec.is_group:
        first = options[0] if len(options) == 1 and isinstance(options[0], dict) else {}
        sub = spec.subcommand(first.get("name")) if first.get("type") == SUBCOMMAND else None  # type: ignore[arg-type]
        if sub is None:
            check_required(spec, {})  # raises: the group needs a subcommand, named with the choices
        assert sub is not None
        spec, options = sub, first.get("options") or []
        if not isinstance(options, list):
            raise InputError(DAMAGED)
    return spec, options


def checked_options(data: Mapping[str, Any], *, autocomplete: bool = False) -> dict[str, Any] | None:
    """The options of a chat-input interaction as the declaration allows them, exactly.

    Discord's client validates types, choices and bounds, but a forged or modified client
    need not, and discord.py trusts the payload (``float()`` on a NUMBER's value, any value
    for a choice or a boolean). Here a choice must be one of its values, a boolean a JSON
    boolean, a number a finite JSON number (not a boolean, not a string) within its bounds,
    text a string within its length; required options and a group's subcommand present; no
    unknown or repeated option. InputError names the option and what it allows. For
    ``autocomplete`` the focused option (raw text so far) must be one with suggestions and
    required options may still be missing. None for a command not in the declaration.
    """
    found = declared_command(data)
    if found is None:
        return None
    spec, raw_options = found
    values: dict[str, Any] = {}
    focused = 0
    for raw in raw_options:
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise InputError(DAMAGED)
        name = raw["name"]
        option = spec.option(name)
        if option is None:
            names = ", ".join(o.name for o in spec.options)
            known = f"its options are {names}" if names else "it takes no options"
            raise InputError(f"Unknown option `{shown(name)}` for /{spec.qualified_name}: {known}.", option=None)
        if name in values:
            raise InputError(f"`{option.name}` is given twice: give it once.", option=option.name)
        if raw.get("focused"):
            focused += 1
            if not autocomplete or not option.autocomplete or not isinstance(raw.get("value"), str):
                raise InputError(f"`{option.name}` has no suggestions.", option=option.name)
            values[name] = raw["value"]
            continue
        if raw.get("type") != DISCORD_TYPES[option.type]:
            raise _not_allowed(option, raw.get("value"))
        values[name] = checked_value(option, raw.get("value"))
    if autocomplete:
        if focused != 1:
            raise InputError(DAMAGED)
        return values
    return check_required(spec, values)


def checked_value(option: OptionSpec, value: Any) -> Any:
    """``value`` as Discord's JSON carried it, if the declaration allows it exactly."""
    if option.choices:
        ok = isinstance(value, str) and value in {choice.value for choice in option.choices}
    elif option.type is OptionType.BOOLEAN:
        ok = isinstance(value, bool)
    elif option.type in (OptionType.NUMBER, OptionType.INTEGER):
        ok = _number_ok(option, value)
    else:
        ok = isinstance(value, str) and (option.max_length is None or len(value) <= option.max_length)
    if not ok:
        raise _not_allowed(option, value)
    return value


def _number_ok(option: OptionSpec, value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if option.type is OptionType.INTEGER and not isinstance(value, int):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    bounds = option.bounds  # ints compare exactly with the float bounds, even 10**400
    return bounds is None or bounds.low <= value <= bounds.high


def _not_allowed(option: OptionSpec, value: Any) -> InputError:
    if isinstance(value, str):
        text = value.encode("utf-8", "replace").decode("utf-8")  # a lone surrogate is not echoed
    else:
        try:
            text = json.dumps(value)
        except (TypeError, ValueError):
            text = type(value).__name__
    return InputError(f"`{option.name}` must be {option.allowed()} (got `{shown(text)}`).", option=option.name)
