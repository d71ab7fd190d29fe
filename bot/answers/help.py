"""/help: the command list, one command's options, and (offline) the topics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from bot import __version__
from bot.answers.model import Answer, AnswerField, line_fields
from bot.commands import (
    COMMANDS,
    CommandSpec,
    Request,
)

if TYPE_CHECKING:
    # Types only. The knowledge base (YAML front matter) and the /ask index (bm25s) are
    # imported by Services.load, and the derivations (sympy) by the calculator on
    # detail:steps, so a calculator answer in a fresh process loads none of them.
    from bot.knowledge import KnowledgeBase


def _usage(spec: CommandSpec) -> str:
    return " ".join(f"{o.name}:…" if o.required else f"[{o.name}]" for o in spec.options)


def _help_fields(spec: CommandSpec) -> list[AnswerField]:
    """One field per command a user can run: a group's subcommands each get their own."""
    note = " Instructors only (Manage Server), in a server." if spec.manage_guild else ""
    return [
        AnswerField(
            f"/{sub.qualified_name} {_usage(sub)}".rstrip(), f"{sub.description}.{note} Example: {sub.examples[0]}"
        )
        for sub in (spec.subcommands or (spec,))
    ]


def _option_lines(spec: CommandSpec) -> tuple[AnswerField, ...]:
    """One field per option (a command), or one per subcommand listing its options (a group)."""
    if spec.is_group:  # /check's subcommands carry a calculator's options: a field may not hold them all
        return tuple(
            field
            for sub in spec.subcommands
            for field in line_fields(
                f"/{sub.qualified_name} {_usage(sub)}".rstrip(),
                [f"{sub.description}."]
                + [f"{option.name}: {option.description}. Allowed: {option.allowed()}." for option in sub.options],
            )
        )
    return tuple(
        AnswerField(
            option.name + (" (required)" if option.required else ""),
            f"{option.description}. Allowed: {option.allowed()}.",
        )
        for option in spec.options
    )


CHAT_LINE: Final = (
    "Or just ask: DM me, or mention me in a channel (every follow-up there must mention me too: "
    "without it I cannot read the message)."
)
"""The chat in one line: the bot reads a channel message only when it is mentioned (no Message Content intent)."""


LISTS_TOPICS: Final = "explain"
"""The command whose help lists the topics: offline there is no autocomplete to show them."""


def _topic_list(knowledge: KnowledgeBase) -> tuple[AnswerField, ...]:
    """Every topic as "slug — title", one a line."""
    lines = [f"{topic.slug} — {topic.title}" for topic in sorted(knowledge, key=lambda topic: topic.slug)]
    return line_fields("Topics", lines, first=f"Topics ({len(lines)})")


def help_answer(request: Request, knowledge: KnowledgeBase | None = None) -> Answer:
    """The command list, or one command's options; ``/help command:explain`` also lists
    the topics (``knowledge``) by slug, since the terminal has no autocomplete."""
    wanted = request.options.get("command")
    if wanted:
        spec = COMMANDS[wanted]
        topics = _topic_list(knowledge) if wanted == LISTS_TOPICS and knowledge is not None else ()
        return Answer(
            command="help",
            title=f"/{spec.name}",
            headline=spec.description,
            lines=tuple(f"Example: {example}" for example in spec.examples),
            fields=(*_option_lines(spec), *topics),
        )
    return Answer(
        command="help",
        title=f"membrane-tutor {__version__}",
        headline="Membrane physiology, computed and explained. Try one of these:",
        lines=(CHAT_LINE,),
        fields=tuple(field for spec in COMMANDS.values() for field in _help_fields(spec)),
        footer="Concentrations in mM, temperature in °C, potentials in mV. "
        f"/help command:{LISTS_TOPICS} lists the topics.",
    )
