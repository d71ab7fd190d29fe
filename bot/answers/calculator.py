"""/restpot, /nernst and /whatif: the engine's results as answers, with their figures."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

from bot.answers.model import (
    ALT_TEXT_LIMIT,
    EQUATION,
    EQUATIONS_PER_ANSWER,
    NERNST_VERSUS_RATIO,
    POTENTIAL_LINE,
    VM_VERSUS_K_OUT,
    WHATIF_LINE,
    Answer,
    AnswerField,
    Figure,
    _celsius,
    millivolts,
)
from bot.commands import (
    Request,
)
from bot.physiology import (
    DEFAULT_PRESET,
    PRESETS,
    NernstResult,
    RestingPotentialResult,
    WhatIfResult,
    nernst,
    nernst_potential,
    resting_potential,
    what_if,
)
from bot.physiology.formatting import format_number
from bot.physiology.presets import Preset
from bot.physiology.results import IonPotential
from bot.physiology.sweeps import log_range, nernst_versus_ratio, vm_versus_k_out
from bot.physiology.validation import CONCENTRATION

if TYPE_CHECKING:
    # Types only. The knowledge base (YAML front matter) and the /ask index (bm25s) are
    # imported by Services.load, and the derivations (sympy) by the calculator on
    # detail:steps, so a calculator answer in a fresh process loads none of them.
    from bot.physiology.derivation import Step


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


def _wants_plot(request: Request) -> bool:
    return request.options.get("detail") == "plot"


# --- figures: what each picture shows, and its alt text with the same numbers ------------------


def _alt(text: str) -> str:
    """Alt text within Discord's limit: the texts are built short; this is only the guard."""
    return text if len(text) <= ALT_TEXT_LIMIT else text[: ALT_TEXT_LIMIT - 1] + "…"


def _mm(value: float) -> str:
    return f"{format_number(value)} mM"


def _moves(start: float, end: float) -> str:
    if abs(end - start) < 0.05:
        return f"stays at {millivolts(start)}"
    return f"{'rises' if end > start else 'falls'} from {millivolts(start)} to {millivolts(end)}"


def _vm_versus_k_out(result: RestingPotentialResult, potassium: IonPotential) -> Figure:
    """V_m (GHK) and E_K (Nernst) against [K⁺]o on a log axis, today's point marked."""
    ions = tuple(
        (ion.ion, ion.permeability, ion.inside_mm, ion.outside_mm)
        for ion in result.ions
        if ion.permeability is not None
    )
    temperature, k_in, k_out = result.temperature_c, potassium.inside_mm, potassium.outside_mm
    low, high = log_range(k_out, 1.0, 100.0, CONCENTRATION.low, CONCENTRATION.high)
    vm_low, vm_high = (float(vm_versus_k_out(temperature, ions, k)) for k in (low, high))
    ek_low, ek_high = (float(nernst_potential(1, k_in, k, temperature)) for k in (low, high))
    alt = (
        f"Graph: V_m (GHK, solid line) and E_K (Nernst, dashed line) against [K⁺]o on a log scale from "
        f"{_mm(low)} to {_mm(high)}; {result.preset_name}, [K⁺]i {_mm(k_in)}, {_celsius(temperature)}. "
        f"Marked: V_m = {millivolts(result.vm_mv)} at [K⁺]o = {_mm(k_out)}, where E_K = "
        f"{millivolts(potassium.equilibrium_mv)}. From {_mm(low)} to {_mm(high)}, V_m {_moves(vm_low, vm_high)} "
        f"and E_K {_moves(ek_low, ek_high)}."
    )
    return Figure(
        VM_VERSUS_K_OUT,
        "restpot-vm-vs-k-out.png",
        _alt(alt),
        (
            ("preset_name", result.preset_name),
            ("temperature_c", temperature),
            ("ions", ions),
            ("k_in", k_in),
            ("k_out", k_out),
            ("vm_mv", result.vm_mv),
            ("ek_mv", potassium.equilibrium_mv),
            ("k_out_range", (low, high)),
        ),
    )


def _potential_line(result: RestingPotentialResult) -> Figure:
    """Every equilibrium potential and V_m on one number line."""
    marks = sorted(
        [(_potential_name(ion), ion.ion, ion.equilibrium_mv) for ion in result.ions] + [("V_m", "Vm", result.vm_mv)],
        key=lambda mark: mark[2],
    )
    listed = ", ".join(f"{name} {millivolts(value)}" for name, _, value in marks)
    where = f"{result.preset_name}, {_celsius(result.temperature_c)}"
    alt = f"Number line of potentials, {where}, from left to right: {listed}."
    potassium = result.ion("K")
    if potassium is not None:
        gap = result.vm_mv - potassium.equilibrium_mv
        side = "above" if gap >= 0 else "below"
        alt += f" V_m sits {abs(gap):.1f} mV {side} E_K."
    return Figure(
        POTENTIAL_LINE,
        "restpot-potentials.png",
        _alt(alt),
        (
            ("preset_name", result.preset_name),
            ("temperature_c", result.temperature_c),
            ("marks", tuple(marks)),
        ),
    )


def _restpot_figures(result: RestingPotentialResult) -> tuple[Figure, ...]:
    potassium = result.ion("K")
    sweep = () if potassium is None or potassium.permeability is None else (_vm_versus_k_out(result, potassium),)
    return (*sweep, _potential_line(result))


def _nernst_figure(result: NernstResult) -> Figure:
    """E against [X]o/[X]i on a log axis: a straight line, today's point marked."""
    ion, temperature = result.ion, result.temperature_c
    name = _potential_name(ion)
    ratio = ion.outside_mm / ion.inside_mm
    low, high = log_range(ratio, 1e-3, 1e3, 1e-10, 1e10)
    e_low, e_high = (float(nernst_versus_ratio(ion.valence, r, temperature)) for r in (low, high))
    slope = format_number(abs(result.slope_mv_per_decade), 4)
    alt = (
        f"Graph: {name} (Nernst) against [{ion.symbol}]o/[{ion.symbol}]i on a log scale from {format_number(low, 3)} "
        f"to {format_number(high, 3)}, z = {ion.valence:+d}, {_celsius(temperature)}: a straight line through 0 mV "
        f"at equal concentrations, {slope} mV per tenfold ratio. Marked: {name} = {millivolts(ion.equilibrium_mv)} "
        f"at a ratio of {format_number(ratio, 3)} ({_mm(ion.outside_mm)} outside, {_mm(ion.inside_mm)} inside). "
        f"The line {_moves(e_low, e_high)} across the range."
    )
    return Figure(
        NERNST_VERSUS_RATIO,
        f"nernst-{ion.ion.lower()}.png",
        _alt(alt),
        (
            ("name", name),
            ("symbol", ion.symbol),
            ("ion", ion.ion),
            ("valence", ion.valence),
            ("temperature_c", temperature),
            ("inside_mm", ion.inside_mm),
            ("outside_mm", ion.outside_mm),
            ("e_mv", ion.equilibrium_mv),
            ("ratio_range", (low, high)),
        ),
    )


WHATIF_ZOOM_SHARE: Final = 0.55
"""Share of the magnified panel's width the V_m arrow spans, whatever the size of the change."""
WHATIF_ZOOM_MIN_MV: Final = 1.0
"""The magnified panel never spans less, so a change of hundredths of a mV does not look large."""


def _whatif_zoom(before_mv: float, after_mv: float) -> tuple[float, float]:
    """The stretch of membrane potential a /whatif figure magnifies: the change, centred, with room."""
    width = max(abs(after_mv - before_mv) / WHATIF_ZOOM_SHARE, WHATIF_ZOOM_MIN_MV)
    centre = (before_mv + after_mv) / 2
    return centre - width / 2, centre + width / 2


def _whatif_figure(result: WhatIfResult) -> Figure:
    """Two number lines: above, the E of each ion in the model and where V_m moves; below,
    that stretch magnified, so that a change of a few mV can be seen on a phone."""
    before = resting_potential(preset=result.preset)
    after = resting_potential(preset=result.preset, **{change.option: change.after for change in result.changes})
    rows = tuple(
        (_potential_name(old), old.ion, old.equilibrium_mv, new.equilibrium_mv)
        for old, new in zip(before.ions, after.ions, strict=True)
        if old.permeability is not None  # the model's own ions; Ca²⁺ plays no part in it
    )
    moved = [f"{name} {millivolts(old)} → {millivolts(new)}" for name, _, old, new in rows if abs(new - old) >= 0.05]
    still = [f"{name} {millivolts(old)}" for name, _, old, new in rows if abs(new - old) < 0.05]
    change = result.change_mv
    size = f" by {abs(change):.1f} mV" if result.direction != "barely changes" else ""
    zoom = _whatif_zoom(result.before_mv, result.after_mv)
    alt = (
        f"Two number lines, before (open marks) and after (filled marks): {result.title}, "
        f"{PRESETS[result.preset].name}. V_m {millivolts(result.before_mv)} → {millivolts(result.after_mv)}: "
        f"{result.direction}{size}. Top, the equilibrium potentials."
    )
    if moved:
        alt += " Moves: " + ", ".join(moved) + "."
    if still:
        alt += " Unchanged: " + ", ".join(still) + "."
    near = [f"{name} {millivolts(new)}" for name, _, _, new in rows if zoom[0] <= new <= zoom[1]]
    arrow = (
        f"an arrow from {millivolts(result.before_mv)} to {millivolts(result.after_mv)}, labelled "
        + f"{change:+.1f} mV".replace("-", "−")
        if result.direction != "barely changes"
        else "V_m barely moves"
    )
    alt += f" Bottom, V_m magnified from {millivolts(zoom[0])} to {millivolts(zoom[1])}: {arrow}"
    alt += f"; also there: {', '.join(near)}." if near else "."
    return Figure(
        WHATIF_LINE,
        f"whatif-{result.scenario}.png",
        _alt(alt),
        (
            ("title", result.title),
            ("preset_name", PRESETS[result.preset].name),
            ("vm_mv", (result.before_mv, result.after_mv)),
            ("potentials", rows),
            ("zoom_mv", zoom),
        ),
    )


_UNSAFE_IN_NAMES: Final = re.compile(r"[^a-z0-9]+")


def _equation_figures(steps: tuple[Step, ...], command: str = "equation") -> tuple[Figure, ...]:
    """The steps whose fractions are hard to read in Unicode, drawn from the engine's LaTeX
    (never from user text); the Unicode form is the alt text.

    Files are named after the command (``nernst-k``) and a digest of the derivation, which
    holds every input number, so a second command's images saved into the same folder
    never overwrite the first's, and the same derivation always gets the same names:
    ``nernst-k-1a2b3c4d-step-3.png``. Only ``a-z``, ``0-9`` and ``-``.
    """
    digest = hashlib.sha256("\n".join(step.latex for step in steps).encode("utf-8")).hexdigest()[:8]
    stem = _UNSAFE_IN_NAMES.sub("-", command.lower()).strip("-") or "equation"
    chosen = [(number, step) for number, step in enumerate(steps, start=1) if r"\frac" in step.latex]
    return tuple(
        Figure(
            EQUATION,
            f"{stem}-{digest}-step-{number}.png",
            _alt(f"Step {number}: {step.unicode}"),
            (("latex", step.latex),),
        )
        for number, step in chosen[:EQUATIONS_PER_ANSWER]
    )


_PREFIXES: Final = {"K": "k", "Na": "na", "Cl": "cl"}


def _restpot_footer(result: RestingPotentialResult, options: Mapping[str, object]) -> str:
    """The preset's source, unless every number the result depends on was given: then the
    preset contributed nothing and citing it would misattribute the user's (or a quiz's) numbers."""
    needed = {"temperature"}
    for ion in result.ions:
        if ion.permeability and ion.ion in _PREFIXES:
            prefix = _PREFIXES[ion.ion]
            needed |= {f"{prefix}_in", f"{prefix}_out", f"p_{prefix}"}
    if needed <= {name for name, value in options.items() if value is not None}:
        return "GHK voltage equation, exact constants (CODATA); every number as given."
    return f"GHK voltage equation. Source: {result.source}"


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
    steps = result.derivation.steps if result.derivation else ()
    return Answer(
        command="restpot",
        title=f"Resting potential · {result.preset_name} · {_celsius(result.temperature_c)}",
        headline=f"V_m = {millivolts(result.vm_mv)}",
        lines=tuple(lines),
        fields=tuple(fields),
        steps=steps,
        footer=_restpot_footer(result, request.options),
        result=result,
        figures=_restpot_figures(result) if _wants_plot(request) else _equation_figures(steps, "restpot"),
    )


def _gradient(ion: IonPotential) -> str:
    if ion.inside_mm == ion.outside_mm:
        return "equal on both sides"
    higher, ratio = ("inside", ion.inside_mm / ion.outside_mm)
    if ion.outside_mm > ion.inside_mm:
        higher, ratio = "outside", ion.outside_mm / ion.inside_mm
    return f"{format_number(ratio, 3)}× higher {higher}"


def _concentration_notes(preset: Preset, ion_key: str, options: Mapping[str, object]) -> tuple[str, ...]:
    """The preset's notes about this ion's concentrations (why textbooks' E_K differ), while the
    preset's values are the ones used."""
    prefix = {"K": "k", "Na": "na", "Cl": "cl"}.get(ion_key)
    if prefix is None:
        return ()
    mine = {f"{prefix}_in", f"{prefix}_out"}
    changed = frozenset(
        f"{prefix}_{side}" for side, name in (("in", "inside"), ("out", "outside")) if options[name] is not None
    )
    return tuple(
        note.text for note in preset.notes if note.while_default and note.while_default <= mine and note.holds(changed)
    )


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
    if uses_preset and options["preset"] is None and result.preset != DEFAULT_PRESET:
        default = PRESETS[DEFAULT_PRESET]
        lines.append(
            f"The default cell ({default.name}, {default.citation}) lists no {ion.symbol}, "
            f"so these are the {preset.name}'s values."
        )
    lines.extend(_concentration_notes(preset, ion.ion, options))
    footer = "Nernst equation, exact constants (CODATA)."
    if uses_preset:
        footer += f" Concentrations from the {preset.name} preset. Source: {preset.source}"
    elif options["temperature"] is None:
        footer += f" {_celsius(result.temperature_c)} is the {preset.name} preset's temperature."
    steps = result.derivation.steps if result.derivation else ()
    return Answer(
        command="nernst",
        title=f"Nernst potential · {ion.symbol} · {_celsius(result.temperature_c)}",
        headline=f"{_potential_name(ion)} = {millivolts(ion.equilibrium_mv)}",
        lines=tuple(lines),
        steps=steps,
        footer=footer,
        result=result,
        figures=(_nernst_figure(result),) if _wants_plot(request) else _equation_figures(steps, f"nernst-{ion.ion}"),
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
        figures=(_whatif_figure(result),),
    )
