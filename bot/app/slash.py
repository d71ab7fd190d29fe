"""Slash commands generated from the one declaration in :mod:`bot.commands`.

discord.py reads a command's options from its callback's signature; here the signature
is built from :class:`~bot.commands.CommandSpec` (names, bounds as ``Range``, choices,
descriptions), so Discord's client validates what a student types with exactly the
bounds the engine and the terminal use. Nothing is declared twice.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Optional

import discord
from discord import app_commands

from bot.commands import CommandSpec, OptionSpec, OptionType

Handler = Callable[[discord.Interaction, dict[str, Any]], Awaitable[None]]


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
