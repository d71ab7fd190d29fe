"""Slash commands generated from the one declaration in :mod:`bot.commands`.

discord.py reads a command's options from its callback's signature; here the signature
is built from :class:`~bot.commands.CommandSpec` (names, bounds as ``Range``, choices,
descriptions), so Discord's client validates what a student types with exactly the
bounds the engine and the terminal use. Nothing is declared twice.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
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
    suggesters = autocomplete or {}
    wanted = {option.name for option in spec.options if option.autocomplete}
    if wanted != set(suggesters):
        raise ValueError(f"/{spec.name}: autocomplete callbacks for {sorted(wanted)}, got {sorted(suggesters)}")

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
    if spec.user_install:
        app_commands.allowed_installs(guilds=True, users=True)(command)
        app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)(command)
    else:
        app_commands.allowed_installs(guilds=True, users=False)(command)
        app_commands.allowed_contexts(guilds=True, dms=False, private_channels=False)(command)
    return command
