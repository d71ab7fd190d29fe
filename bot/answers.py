"""Platform-neutral answers: what the bot says, before anyone decides how it looks.

A handler takes a :class:`~bot.commands.Request` and returns an :class:`Answer`: a title,
a headline that carries the number, a few short lines, named fields, the derivation when
asked, and the source. Discord embeds and terminal text are both rendered from it, so a
student gets the same answer in either place. No markdown here: renderers add emphasis.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

from bot import __version__
from bot.commands import COMMANDS, CommandSpec, Request, check_required, shown
from bot.knowledge import KnowledgeBase
from bot.physiology import (
    PRESETS,
    InputError,
    NernstResult,
    RestingPotentialResult,
    WhatIfResult,
    nernst,
    resting_potential,
    to_json,
    what_if,
)
from bot.physiology.derivation import Step
from bot.physiology.notation import format_number
from bot.physiology.results import IonPotential

SCHEMA: Final = "answer.v1"


@dataclass(frozen=True, slots=True)
class AnswerField:
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class Answer:
    """What to tell the user. ``headline`` is the one line that must be seen first."""

    command: str
    title: str
    headline: str
    lines: tuple[str, ...] = ()
    fields: tuple[AnswerField, ...] = ()
    steps: tuple[Step, ...] = ()
    footer: str = ""
    result: NernstResult | RestingPotentialResult | WhatIfResult | None = None
    error: bool = False

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"schema": SCHEMA}
        for name in ("command", "title", "headline", "lines", "fields", "steps", "footer", "error"):
            data[name] = to_json(getattr(self, name))
        data["result"] = to_json(self.result) if self.result is not None else None
        return data


def millivolts(value: float) -> str:
    """A potential as students write it: sign, one decimal, Unicode minus (−65.2 mV)."""
    text = f"{value:+.1f}"
    if text in ("+0.0", "-0.0"):
        return "0.0 mV"
    return text.replace("-", "−") + " mV"


def _celsius(value: float) -> str:
    return f"{format_number(value)} °C"


def _potential_name(ion: IonPotential) -> str:
    element = ion.symbol.rstrip("⁺⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
    return f"E_{element}"


def _why_not_ek(result: RestingPotentialResult) -> str:
    """The seed's point in one line: how far V_m sits from E_K, and which leak pulls it."""
    potassium = result.ion("K")
    if potassium is None or not potassium.permeability:
        return "K⁺ is not permeant here, so E_K does not set V_m."
    gap = result.vm_mv - potassium.equilibrium_mv
    if abs(gap) < 0.05:
        return f"V_m equals E_K ({millivolts(potassium.equilibrium_mv)}): K⁺ is the only ion that sets it here."
    pullers = [
        ion
        for ion in result.ions
        if ion.ion != "K" and ion.permeability and (ion.equilibrium_mv - potassium.equilibrium_mv) * gap > 0
    ]
    leaks = " and ".join(f"{ion.symbol}" for ion in pullers)
    ratios = ", ".join(
        f"P_{ion.symbol.rstrip('⁺⁻')}/P_K = {format_number(ion.permeability / potassium.permeability, 3)}"
        for ion in pullers
        if ion.permeability is not None
    )
    targets = " and ".join(f"{_potential_name(ion)} ({millivolts(ion.equilibrium_mv)})" for ion in pullers)
    side = "above" if gap > 0 else "below"
    noun, verb = ("leaks", "pull") if len(pullers) > 1 else ("leak", "pulls")
    return (
        f"Why not E_K ({millivolts(potassium.equilibrium_mv)})? V_m sits {abs(gap):.1f} mV {side} it because "
        f"the {leaks} {noun} ({ratios}) {verb} it toward {targets}."
    )


def _dominance(result: RestingPotentialResult) -> str:
    shares = sorted(
        (ion for ion in result.ions if ion.conductance_share), key=lambda ion: ion.conductance_share or 0, reverse=True
    )
    leader, others = shares[0], shares[1:]
    rest = ", ".join(f"{ion.symbol} {100 * (ion.conductance_share or 0):.0f} %" for ion in others)
    tail = f" ({rest})" if rest else ""
    return f"{leader.symbol} dominates: {100 * (leader.conductance_share or 0):.0f} % of the resting conductance{tail}."


def _equilibrium_field(ions: tuple[IonPotential, ...]) -> AnswerField:
    ordered = sorted(ions, key=lambda ion: ion.equilibrium_mv)
    return AnswerField(
        "Equilibrium potentials",
        " · ".join(f"{_potential_name(ion)} {millivolts(ion.equilibrium_mv)}" for ion in ordered),
    )


def _wants_steps(request: Request) -> bool:
    return request.options.get("detail") == "steps"


def restpot(request: Request) -> Answer:
    options = dict(request.options)
    for delivery in ("detail", "private"):
        options.pop(delivery, None)
    result = resting_potential(steps=_wants_steps(request), **options)
    permeant = [ion for ion in result.ions if ion.permeability is not None]
    lines = [_why_not_ek(result), _dominance(result)]
    if result.reference_vm_mv is not None:
        lines.append(
            f"The cited source gives {format_number(result.reference_vm_mv)} mV for this cell.".replace("-", "−")
        )
    fields = [
        _equilibrium_field(result.ions),
        AnswerField(
            "Relative permeabilities",
            " : ".join(f"P_{ion.symbol.rstrip('⁺⁻')}" for ion in permeant)
            + " = "
            + " : ".join(format_number(ion.permeability or 0.0, 4) for ion in permeant),
        ),
        AnswerField(
            "Concentrations (inside / outside, mM)",
            " · ".join(
                f"{ion.symbol} {format_number(ion.inside_mm)} / {format_number(ion.outside_mm)}" for ion in result.ions
            ),
        ),
    ]
    if result.note:
        fields.append(AnswerField("Note", result.note))
    return Answer(
        command="restpot",
        title=f"Resting potential · {result.preset_name} · {_celsius(result.temperature_c)}",
        headline=f"V_m = {millivolts(result.vm_mv)}",
        lines=tuple(lines),
        fields=tuple(fields),
        steps=result.derivation.steps if result.derivation else (),
        footer=f"GHK voltage equation. Source: {result.source}",
        result=result,
    )


def _gradient(ion: IonPotential) -> str:
    if ion.inside_mm == ion.outside_mm:
        return "equal on both sides"
    higher, ratio = ("inside", ion.inside_mm / ion.outside_mm)
    if ion.outside_mm > ion.inside_mm:
        higher, ratio = "outside", ion.outside_mm / ion.inside_mm
    return f"{format_number(ratio, 3)}× higher {higher}"


def nernst_answer(request: Request) -> Answer:
    options = {name: request.options.get(name) for name in ("inside", "outside", "preset", "temperature", "valence")}
    result = nernst(request.options["ion"], steps=_wants_steps(request), **options)
    ion = result.ion
    preset = PRESETS[result.preset]
    uses_preset = options["inside"] is None or options["outside"] is None
    lines = [
        f"[{ion.symbol}] inside {format_number(ion.inside_mm)} mM, outside {format_number(ion.outside_mm)} mM "
        f"({_gradient(ion)}); z = {ion.valence:+d}.",
        f"{format_number(result.slope_mv_per_decade, 4)} mV per tenfold gradient at {_celsius(result.temperature_c)}.",
        f"At {millivolts(ion.equilibrium_mv)} inside, the electrical pull on {ion.symbol} balances its diffusion: "
        "no net flux.",
    ]
    footer = "Nernst equation, exact constants (CODATA)."
    if uses_preset:
        footer += f" Concentrations from the {preset.name} preset. Source: {preset.source}"
    elif options["temperature"] is None:
        footer += f" {_celsius(result.temperature_c)} is the {preset.name} preset's temperature."
    return Answer(
        command="nernst",
        title=f"Nernst potential · {ion.symbol} · {_celsius(result.temperature_c)}",
        headline=f"{_potential_name(ion)} = {millivolts(ion.equilibrium_mv)}",
        lines=tuple(lines),
        steps=result.derivation.steps if result.derivation else (),
        footer=footer,
        result=result,
    )


_OPTION_LABELS: Final = {
    "k_out": "[K⁺] outside",
    "k_in": "[K⁺] inside",
    "na_out": "[Na⁺] outside",
    "na_in": "[Na⁺] inside",
    "cl_out": "[Cl⁻] outside",
    "cl_in": "[Cl⁻] inside",
    "p_k": "P_K",
    "p_na": "P_Na",
    "p_cl": "P_Cl",
}


def whatif_answer(request: Request) -> Answer:
    result = what_if(request.options["scenario"], preset=request.options.get("preset"))
    change = result.change_mv
    size = f" by {abs(change):.1f} mV" if result.direction != "barely changes" else f" ({change:+.1f} mV)"
    lines = [
        *(
            f"{_OPTION_LABELS[c.option]}: {format_number(c.before, 4)} → {format_number(c.after, 4)}"
            + (f" {c.unit}" if c.unit else "")
            for c in result.changes
        ),
        result.mechanism,
        f"Clinically: {result.consequence}",
    ]
    return Answer(
        command="whatif",
        title=f"What if: {result.title} · {PRESETS[result.preset].name}",
        headline=f"V_m {millivolts(result.before_mv)} → {millivolts(result.after_mv)}: {result.direction}{size}",
        lines=tuple(lines),
        fields=(AnswerField("Model", result.model),),
        footer="Sources: " + " | ".join(result.sources),
        result=result,
    )


def _usage(spec: CommandSpec) -> str:
    return " ".join(f"{o.name}:…" if o.required else f"[{o.name}]" for o in spec.options)


def help_answer(request: Request) -> Answer:
    wanted = request.options.get("command")
    if wanted:
        spec = COMMANDS[wanted]
        return Answer(
            command="help",
            title=f"/{spec.name}",
            headline=spec.description,
            lines=tuple(f"Example: {example}" for example in spec.examples),
            fields=tuple(
                AnswerField(
                    option.name + (" (required)" if option.required else ""),
                    f"{option.description}. Allowed: {option.allowed()}.",
                )
                for option in spec.options
            ),
        )
    return Answer(
        command="help",
        title=f"membrane-tutor {__version__}",
        headline="Membrane physiology, computed and explained. Try one of these:",
        fields=tuple(
            AnswerField(f"/{spec.name} {_usage(spec)}", f"{spec.description}. Example: {spec.examples[0]}")
            for spec in COMMANDS.values()
        ),
        footer="Concentrations in mM, temperature in °C, potentials in mV.",
    )


def explain_answer(request: Request, knowledge: KnowledgeBase) -> Answer:
    wanted = str(request.options["topic"])
    topic = knowledge.get(wanted)
    if topic is None:
        near = ", ".join(t.slug for t in knowledge.suggest(wanted, limit=3)) or "none yet"
        raise InputError(f"No topic `{shown(wanted)}` in my notes. Nearest: {near}.", option="topic")
    fields = []
    if topic.related:
        fields.append(AnswerField("Related", ", ".join(topic.related)))
    if topic.try_command:
        fields.append(AnswerField("Try it", topic.try_command))
    fields.append(AnswerField("Sources", "\n".join(topic.sources) or "—"))
    return Answer(
        command="explain",
        title=topic.title,
        headline=topic.summary,
        lines=tuple(topic.paragraphs()),
        fields=tuple(fields),
    )


@dataclass(frozen=True, slots=True)
class Services:
    """Read-only resources the handlers need, opened once by the caller and passed in."""

    knowledge: KnowledgeBase

    @classmethod
    def load(cls) -> Services:
        return cls(knowledge=KnowledgeBase.load())


Handler = Callable[[Request, Services], Answer]
HANDLERS: Final[Mapping[str, Handler]] = {
    "restpot": lambda request, _: restpot(request),
    "nernst": lambda request, _: nernst_answer(request),
    "whatif": lambda request, _: whatif_answer(request),
    "explain": lambda request, services: explain_answer(request, services.knowledge),
    "help": lambda request, _: help_answer(request),
}


def error_answer(command: str, error: InputError) -> Answer:
    return Answer(command=command, title="That input can't be used", headline=str(error), error=True)


def _check(request: Request) -> None:
    """What Discord itself enforces, checked again for any other adapter: a known command,
    its required options present, and a choice option holding one of its choices."""
    spec = COMMANDS.get(request.command)
    if spec is None or request.command not in HANDLERS:
        known = ", ".join(f"/{name}" for name in HANDLERS)
        raise InputError(f"Unknown command `{shown(str(request.command))}`: the commands are {known}.")
    check_required(spec, dict(request.options))
    for option in spec.options:
        value = request.options.get(option.name)
        if option.choices and value is not None and value not in tuple(choice.value for choice in option.choices):
            raise InputError(f"`{option.name}` must be {option.allowed()}.", option=option.name)


@cache
def _default_services() -> Services:
    return Services.load()


def answer(request: Request, services: Services | None = None) -> Answer:
    """Answer a request; bad input becomes an error answer, never an exception.

    The bot and the console pass the services they opened; one-shot callers (a single
    ``ask``, tests) get the shipped knowledge base, loaded once.
    """
    try:
        _check(request)
        return HANDLERS[request.command](request, services or _default_services())
    except InputError as error:
        return error_answer(request.command if request.command in HANDLERS else "", error)
