"""The engine's front door: validated inputs in, result dataclasses out.

Keyword names are the command options' names, so a request's options can be passed
straight through. Values the user leaves out come from the preset. Every failure a user
can cause raises :class:`~bot.physiology.validation.InputError`.

The numbers come from the NumPy functions of :mod:`bot.physiology.equations`; the
derivations (sympy) are imported only when ``steps`` is asked for, so a summary answer
in a fresh process never loads sympy.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from bot.physiology.equations import (
    conductance_shares,
    decade_slope,
    ghk_voltage,
    mullins_noda_voltage,
    nernst_potential,
)
from bot.physiology.ions import GHK_IONS, IONS, Ion, ion_for
from bot.physiology.presets import PRESETS, Concentrations, Preset, ion_names_in, preset_for, presets_with
from bot.physiology.results import Change, IonPotential, NernstResult, RestingPotentialResult, WhatIfResult
from bot.physiology.validation import (
    InputError,
    check_concentration,
    check_permeabilities,
    check_temperature,
)

_OPTION_PREFIX = {"K": "k", "Na": "na", "Cl": "cl"}


def _temperature(preset: Preset, temperature: float | None) -> float:
    if temperature is None:
        return preset.temperature_c
    return check_temperature("temperature", temperature)


def _concentrations(
    preset: Preset, ion: Ion, inside: float | None, outside: float | None, names: tuple[str, str]
) -> Concentrations:
    """The user's values where given, the preset's otherwise, all range-checked."""
    given_inside = None if inside is None else check_concentration(names[0], inside)
    given_outside = None if outside is None else check_concentration(names[1], outside)
    default = preset.concentration(ion.key)
    if default is None and (given_inside is None or given_outside is None):
        raise InputError(
            f"The {preset.name} preset has no {ion.symbol} values (it has {ion_names_in(preset)}): "
            f"give both `{names[0]}` and `{names[1]}` in mM"
            + (
                f", or choose a preset that has it ({', '.join(others)})." if (others := presets_with(ion.key)) else "."
            ),
            option=names[0] if given_inside is None else names[1],
        )
    return Concentrations(
        given_inside if given_inside is not None else default.inside,  # type: ignore[union-attr]
        given_outside if given_outside is not None else default.outside,  # type: ignore[union-attr]
    )


def _ion_potential(ion: Ion, values: Concentrations, temperature_c: float, **weights: float | None) -> IonPotential:
    potential = float(nernst_potential(ion.valence, values.inside, values.outside, temperature_c))
    return IonPotential(ion.key, ion.symbol, ion.valence, values.inside, values.outside, potential, **weights)


def _cell_with(ion: Ion, default: Preset) -> Preset:
    """The default cell, or, when it lists no values for this ion (Sherwood's neuron gives only
    K⁺ and Na⁺), the first mammalian preset that does, so `/nernst ion:Ca` needs no numbers."""
    if default.concentration(ion.key) is not None:
        return default
    return next((p for p in PRESETS.values() if p.mammalian and p.concentration(ion.key) is not None), default)


def nernst(
    ion: str,
    *,
    inside: float | None = None,
    outside: float | None = None,
    preset: str | None = None,
    temperature: float | None = None,
    valence: int | None = None,
    steps: bool = False,
) -> NernstResult:
    """Equilibrium potential of one ion (Nernst), with its derivation on request."""
    chosen_ion = ion_for(ion, valence)
    chosen_preset = (
        _cell_with(chosen_ion, preset_for(preset))
        if preset is None and None in (inside, outside)
        else preset_for(preset)
    )
    temperature_c = _temperature(chosen_preset, temperature)
    values = _concentrations(chosen_preset, chosen_ion, inside, outside, ("inside", "outside"))
    potential = _ion_potential(chosen_ion, values, temperature_c)
    derivation = None
    if steps:
        from bot.physiology.derivation import nernst_derivation  # sympy: only for detail:steps

        derivation = nernst_derivation(
            chosen_ion, values.inside, values.outside, temperature_c, potential.equilibrium_mv
        )
    slope = float(decade_slope(chosen_ion.valence, temperature_c))
    return NernstResult(potential, temperature_c, chosen_preset.key, slope, derivation)


@dataclass(frozen=True, slots=True)
class _Membrane:
    """The GHK inputs after defaults and checks: ion key → (permeability, values)."""

    temperature_c: float
    ions: dict[str, tuple[float, Concentrations]] = field(default_factory=dict)

    def ghk_inputs(self) -> dict[str, tuple[float, float, float]]:
        """Permeabilities relative to the largest: V_m and the shares depend only on the ratios,
        and a tiny (subnormal) permeability times a concentration would otherwise underflow to 0/0."""
        top = max(p for p, _ in self.ions.values())  # > 0: check_permeabilities, and a permeant ion is never skipped
        return {key: (p / top, values.inside, values.outside) for key, (p, values) in self.ions.items()}


def _membrane(preset: Preset, temperature: float | None, options: dict[str, Any]) -> _Membrane:
    permeabilities = {
        f"p_{_OPTION_PREFIX[key]}": options.get(f"p_{_OPTION_PREFIX[key]}", preset.permeabilities.get(key, 0.0))
        for key in GHK_IONS
    }
    permeabilities = check_permeabilities(permeabilities)
    membrane = _Membrane(_temperature(preset, temperature))
    for key in GHK_IONS:
        prefix = _OPTION_PREFIX[key]
        inside, outside = options.get(f"{prefix}_in"), options.get(f"{prefix}_out")
        permeability = permeabilities[f"p_{prefix}"]
        absent = preset.concentration(key) is None and inside is None and outside is None
        if absent and permeability == 0:
            continue  # e.g. Cl⁻ in a model that has none: nothing to show, nothing it changes
        values = _concentrations(preset, IONS[key], inside, outside, (f"{prefix}_in", f"{prefix}_out"))
        membrane.ions[key] = (permeability, values)
    return membrane


def _dominant(shares: dict[str, float]) -> str:
    return max(shares, key=lambda key: shares[key])


def resting_potential(
    *,
    preset: str | None = None,
    temperature: float | None = None,
    steps: bool = False,
    **options: float | None,
) -> RestingPotentialResult:
    """V_m from the GHK voltage equation, each ion's E, and which ion dominates.

    ``options`` are the command's concentration and permeability options (``k_in``,
    ``p_na``, …); ``None`` means "the preset's value".
    """
    unknown = (
        set(options)
        - {f"{p}_{side}" for p in _OPTION_PREFIX.values() for side in ("in", "out")}
        - {f"p_{p}" for p in _OPTION_PREFIX.values()}
    )
    if unknown:
        raise InputError(f"Unknown option `{sorted(unknown)[0]}` for /restpot.", option=sorted(unknown)[0])
    given = {name: value for name, value in options.items() if value is not None}
    chosen = preset_for(preset)
    membrane = _membrane(chosen, temperature, given)
    vm = float(ghk_voltage(membrane.temperature_c, membrane.ghk_inputs()))
    shares = conductance_shares(
        vm,
        membrane.temperature_c,
        {key: (IONS[key], p, inside, outside) for key, (p, inside, outside) in membrane.ghk_inputs().items()},
    )
    ions = [
        _ion_potential(IONS[key], values, membrane.temperature_c, permeability=p, conductance_share=shares[key])
        for key, (p, values) in membrane.ions.items()
    ]
    for key, values in chosen.concentrations.items():  # the preset's other ions, for the number line
        if key not in membrane.ions:
            ions.append(_ion_potential(IONS[key], values, membrane.temperature_c))
    derivation = None
    if steps:
        from bot.physiology.derivation import ghk_derivation  # sympy: only for detail:steps

        values = tuple((key, p, v.inside, v.outside) for key, (p, v) in membrane.ions.items())
        derivation = ghk_derivation(membrane.temperature_c, values, vm)
    defaults = _preset_values(chosen) | {"temperature": chosen.temperature_c}
    changed = frozenset(
        name
        for name, value in (given | ({} if temperature is None else {"temperature": temperature})).items()
        if defaults.get(name) != value
    )
    return RestingPotentialResult(
        preset=chosen.key,
        preset_name=chosen.name,
        temperature_c=membrane.temperature_c,
        vm_mv=vm,
        ions=tuple(ions),
        dominant_ion=_dominant(shares),
        reference_vm_mv=chosen.reference_vm_mv if not changed else None,
        source=chosen.source,
        note=" ".join(chosen.notes_for(changed)),
        derivation=derivation,
    )


@dataclass(frozen=True, slots=True)
class Scenario:
    slug: str
    title: str
    model: str
    clinical: bool
    parameter_source: str
    mechanism: str
    consequence: str
    set: dict[str, float] = field(default_factory=dict)
    scale: dict[str, float] = field(default_factory=dict)
    coupling_ratio_before: float = 1.0
    coupling_ratio_after: float = 1.0
    model_statement: str = ""


@cache
def scenarios() -> dict[str, Scenario]:
    """The what-if scenarios, read once from ``scenarios.toml`` beside this module."""
    text = resources.files("bot.physiology").joinpath("scenarios.toml").read_text(encoding="utf-8")
    return {slug: Scenario(slug=slug, **entry) for slug, entry in tomllib.loads(text).items()}


def _preset_values(preset: Preset) -> dict[str, float]:
    """A preset's GHK inputs under their option names (k_in, p_na, …)."""
    values: dict[str, float] = {}
    for key, prefix in _OPTION_PREFIX.items():
        values[f"p_{prefix}"] = preset.permeabilities.get(key, 0.0)
        if (concentration := preset.concentration(key)) is not None:
            values[f"{prefix}_in"], values[f"{prefix}_out"] = concentration.inside, concentration.outside
    return values


def what_if(scenario: str, *, preset: str | None = None) -> WhatIfResult:
    """V_m before and after a scenario, by the scenario's stated model."""
    try:
        chosen = scenarios()[scenario]
    except KeyError:
        raise InputError(
            f"Unknown scenario `{scenario}`: choose one of {', '.join(scenarios())}.", option="scenario"
        ) from None
    cell = preset_for(preset)
    if chosen.clinical and not cell.mammalian:
        mammalian = ", ".join(key for key, p in PRESETS.items() if p.mammalian)
        raise InputError(
            f"{chosen.title} is a clinical scenario for human cells: choose a mammalian preset ({mammalian}).",
            option="preset",
        )
    before = _preset_values(cell)
    after = dict(before) | chosen.set | {name: before[name] * factor for name, factor in chosen.scale.items()}
    changes = tuple(
        Change(name, before[name], after[name], "" if name.startswith("p_") else "mM")
        for name in after
        if after[name] != before[name]
    )
    membrane_before = _membrane(cell, None, before)
    membrane_after = _membrane(cell, None, after)
    if chosen.model == "mullins-noda":
        vm_before = float(
            mullins_noda_voltage(chosen.coupling_ratio_before, cell.temperature_c, membrane_before.ghk_inputs())
        )
        vm_after = float(
            mullins_noda_voltage(chosen.coupling_ratio_after, cell.temperature_c, membrane_after.ghk_inputs())
        )
        model = chosen.model_statement
    else:
        vm_before = float(ghk_voltage(cell.temperature_c, membrane_before.ghk_inputs()))
        vm_after = float(ghk_voltage(cell.temperature_c, membrane_after.ghk_inputs()))
        model = "Goldman–Hodgkin–Katz voltage equation with the preset's permeabilities, before and after the change."
    delta = vm_after - vm_before
    direction = "depolarizes" if delta > 0.05 else "hyperpolarizes" if delta < -0.05 else "barely changes"
    return WhatIfResult(
        scenario=chosen.slug,
        title=chosen.title,
        preset=cell.key,
        temperature_c=cell.temperature_c,
        model=model,
        changes=changes,
        before_mv=vm_before,
        after_mv=vm_after,
        direction=direction,
        mechanism=chosen.mechanism,
        consequence=chosen.consequence,
        sources=(chosen.parameter_source, cell.source),
    )
