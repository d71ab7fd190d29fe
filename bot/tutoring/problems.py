"""Numeric practice problems, generated from a seed, keyed by the engine, with mistakes as distractors.

A problem is rebuilt from ``(family, seed)`` alone (``random.Random(seed)``), so a button
carries only those two numbers and the generator's version and still grades after a
restart. The inputs are drawn from short lists of values a textbook prints (140, 4.5,
0.0001 mM; 37 °C or a lab temperature) inside the accepted ranges; the keyed value comes
from the engine (:func:`bot.physiology.nernst`, :func:`~bot.physiology.resting_potential`,
:func:`~bot.physiology.what_if`), never from a table; every distractor is a mistake of
:mod:`bot.tutoring.mistakes` done on the same inputs.

Change ``GENERATOR_VERSION`` whenever the same (family, seed) would give another problem:
buttons made by an older generator then expire instead of grading the wrong question.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from bot.physiology import IONS, PRESETS, InputError, nernst, resting_potential, scenarios, what_if
from bot.physiology.constants import BODY_TEMPERATURE_C
from bot.tutoring.mistakes import GhkIons, change_mistakes, ghk_mistakes, nernst_mistakes, reproduces

GENERATOR_VERSION: Final[int] = 1
LETTERS: Final = "ABCDE"
DISTRACTORS: Final = 3
MAX_DRAWS: Final = 64
"""Fresh inputs drawn from the same stream when one draw has fewer than three usable mistakes."""

NERNST_IONS: Final = ("K", "Na", "Cl", "Ca")
WHATIF_TOPICS: Final[Mapping[str, str]] = {
    "hyperkalemia": "hyperkalemia",
    "hypokalemia": "hypokalemia",
    "hyponatremia": "sodium-disorders",
    "pump-block": "sodium-potassium-pump",
    "na-permeability-up": "relative-permeability",
}
"""What-if scenario → the knowledge topic a student reads after a wrong answer."""

FAMILIES: Final[tuple[str, ...]] = (
    *(f"nernst:{ion}" for ion in NERNST_IONS),
    "ghk:2",
    "ghk:3",
    *(f"whatif:{slug}" for slug in WHATIF_TOPICS),
)

_NERNST_FAMILIES: Final = tuple(f"nernst:{ion}" for ion in NERNST_IONS)
_GHK_FAMILIES: Final = ("ghk:2", "ghk:3")
_TOPIC_FAMILIES: Final[Mapping[str, tuple[str, ...]]] = {
    "nernst-equation": _NERNST_FAMILIES,
    "equilibrium-potential": _NERNST_FAMILIES,
    "concentration-gradients": _NERNST_FAMILIES,
    "temperature-effects": _NERNST_FAMILIES,
    "chloride": ("nernst:Cl",),
    "calcium-gradients": ("nernst:Ca",),
    "ghk-equation": _GHK_FAMILIES,
    "resting-membrane-potential": _GHK_FAMILIES,
    "leak-channels": ("ghk:2",),
    "relative-permeability": (*_GHK_FAMILIES, "whatif:na-permeability-up"),
    "hyperkalemia": ("whatif:hyperkalemia",),
    "hypokalemia": ("whatif:hypokalemia",),
    "sodium-disorders": ("whatif:hyponatremia",),
    "sodium-potassium-pump": ("whatif:pump-block",),
    "digoxin-and-ouabain": ("whatif:pump-block",),
}

# Values as textbooks print them (mM, inside then outside), all inside the accepted ranges.
_TEXTBOOK: Final[Mapping[str, tuple[tuple[float, ...], tuple[float, ...]]]] = {
    "K": ((100, 120, 135, 140, 145, 150, 155), (3, 3.5, 4, 4.5, 5, 5.5, 6, 7, 8)),
    "Na": ((5, 10, 12, 14, 15, 18, 20), (135, 140, 142, 145, 150)),
    "Cl": ((4, 7, 9, 10, 13, 20), (100, 103, 110, 115, 120, 125)),
    "Ca": ((0.00005, 0.0001, 0.0002, 0.0005), (1, 1.2, 1.5, 1.8, 2, 2.5)),
}
_OTHER_TEMPERATURES: Final = (6.3, 18.5, 20, 25, 30)
"""Lab temperatures (Hodgkin–Huxley's 6.3 °C, squid axon 18.5 °C, room, bath) beside 37 °C."""
_P_NA: Final = (0.01, 0.02, 0.025, 0.04, 0.05, 0.1)
_P_CL: Final = (0.1, 0.2, 0.45, 0.5, 1, 2)
_PRESET_SHARE: Final = 0.25
"""How often a problem uses a named cell's own numbers instead of drawn ones."""
_OPTION_WORDS: Final = {"k": "K⁺", "na": "Na⁺", "cl": "Cl⁻"}


@dataclass(frozen=True)
class Choice:
    """One lettered option: its value, whether it is the key, and the mistakes that give it."""

    letter: str
    text: str
    value_mv: float | None
    correct: bool
    mistakes: tuple[str, ...]


@dataclass(frozen=True)
class Problem:
    """A generated numeric question; ``command``/``options`` are the equivalent calculator request."""

    family: str
    seed: int
    card: str
    command: str
    options: Mapping[str, Any]
    question: str
    topic: str
    expected_mv: float
    choices: tuple[Choice, ...]
    mistakes: Mapping[str, float]
    """Every catalogue mistake that applies to these inputs (tag → mV), for grading a typed answer."""


@dataclass(frozen=True)
class _Draft:
    """One draw of inputs, before the options are chosen."""

    command: str
    options: dict[str, Any]
    question: str
    topic: str
    expected_mv: float
    mistakes: dict[str, float]
    text: Callable[[float], str]


def millivolts(value: float) -> str:
    """A potential as students write it: sign, one decimal, Unicode minus (−65.2 mV)."""
    text = f"{value:+.1f}"
    return "0.0 mV" if text in ("+0.0", "-0.0") else text.replace("-", "−") + " mV"


def _change_text(value: float) -> str:
    """A what-if option: the signed change and what it does to the cell."""
    direction = "depolarizes" if value > 0.05 else "hyperpolarizes" if value < -0.05 else "no change"
    return f"{millivolts(value)} ({direction})"


def number(value: float) -> str:
    """A number as a book prints it: 140, 4.5, 0.0001 (no exponent, no trailing zeros)."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    if abs(value) < 1e-3:
        return f"{value:.10f}".rstrip("0")
    return f"{value:.6g}"


def _plain(value: float) -> int | float:
    """Whole numbers as ints, so a request reads ``"outside": 2`` as the issue writes it."""
    return int(value) if value == int(value) else float(value)


def _apart(first: float, second: float) -> bool:
    """Options differ by more than max(1 mV, 1 %), so a typed answer can match at most one."""
    return abs(first - second) > max(1.0, 0.01 * max(abs(first), abs(second)))


def _temperature(rng: random.Random) -> float:
    return BODY_TEMPERATURE_C if rng.random() < 0.6 else rng.choice(_OTHER_TEMPERATURES)


def _cell(name: str) -> str:
    """The cell as a question names it: "a squid giant axon", "Bear et al.'s mammalian neuron"."""
    return name if "'s " in name else f"a {name}"


def _nernst_draft(ion_key: str, rng: random.Random) -> _Draft:
    ion = IONS[ion_key]
    named = [key for key, p in PRESETS.items() if p.concentration(ion_key) is not None]
    options: dict[str, Any] = {"ion": ion_key}
    if rng.random() < _PRESET_SHARE and named:
        preset = PRESETS[rng.choice(named)]
        values = preset.concentration(ion_key)
        inside, outside, celsius = values.inside, values.outside, preset.temperature_c  # type: ignore[union-attr]
        where = f"In {_cell(preset.name)} ({preset.citation}) at {number(celsius)} °C"
        options["preset"] = preset.key
    else:
        insides, outsides = _TEXTBOOK[ion_key]
        inside, outside, celsius = rng.choice(insides), rng.choice(outsides), _temperature(rng)
        where = f"In a cell at {number(celsius)} °C"
    options |= {"inside": _plain(inside), "outside": _plain(outside), "temperature": _plain(celsius)}
    result = nernst(**options)
    question = (
        f"{where}, [{ion.symbol}] is {number(inside)} mM inside and {number(outside)} mM outside. "
        f"What is E_{ion.element}, the {ion.symbol} equilibrium potential?"
    )
    return _Draft(
        command="nernst",
        options=options,
        question=question,
        topic="nernst-equation",
        expected_mv=result.potential_mv,
        mistakes=nernst_mistakes(ion.valence, inside, outside, celsius),
        text=millivolts,
    )


def _ratio(permeabilities: Mapping[str, float]) -> str:
    names = " : ".join(f"P_{key}" for key in permeabilities)
    return f"{names} = {' : '.join(number(p) for p in permeabilities.values())}"


def _membrane_words(ions: GhkIons) -> str:
    """ "[K⁺] 140/4.5 mM, [Na⁺] 15/145 mM (inside/outside), P_K : P_Na = 1 : 0.04"."""
    gradients = [f"[{IONS[key].symbol}] {number(i)}/{number(o)} mM" for key, (_, i, o) in ions.items()]
    listed = ", ".join(gradients[:-1]) + f" and {gradients[-1]}" if len(gradients) > 1 else gradients[0]
    return f"{listed} (inside/outside), {_ratio({key: p for key, (p, _, _) in ions.items()})}"


def _ghk_draft(count: int, rng: random.Random) -> _Draft:
    keys = ("K", "Na", "Cl")[:count]
    named = [key for key, p in PRESETS.items() if (p.permeabilities.get("Cl", 0.0) > 0) == (count == 3)]
    options: dict[str, Any] = {}
    if rng.random() < _PRESET_SHARE and named:
        preset = PRESETS[rng.choice(named)]
        ions = {
            key: (preset.permeabilities[key], preset.concentrations[key].inside, preset.concentrations[key].outside)
            for key in keys
        }
        celsius = preset.temperature_c
        where = f"In {_cell(preset.name)} ({preset.citation}) at {number(celsius)} °C, the membrane has"
        options["preset"] = preset.key
    else:
        permeabilities = {"K": 1.0, "Na": rng.choice(_P_NA), "Cl": rng.choice(_P_CL)}
        ions = {
            key: (permeabilities[key], rng.choice(_TEXTBOOK[key][0]), rng.choice(_TEXTBOOK[key][1])) for key in keys
        }
        celsius = _temperature(rng)
        where = f"A membrane at {number(celsius)} °C has"
    for key, (p, inside, outside) in ions.items():
        prefix = key.lower()
        options |= {f"{prefix}_in": _plain(inside), f"{prefix}_out": _plain(outside), f"p_{prefix}": _plain(p)}
    if count == 2:
        options["p_cl"] = 0
    options["temperature"] = _plain(celsius)
    result = resting_potential(**options)
    question = f"{where} {_membrane_words(ions)}. What is the resting membrane potential V_m (GHK)?"
    return _Draft(
        command="restpot",
        options=options,
        question=question,
        topic="ghk-equation",
        expected_mv=result.vm_mv,
        mistakes=ghk_mistakes(celsius, ions),
        text=millivolts,
    )


def _state(values: Mapping[str, float]) -> dict[str, tuple[float, float, float]]:
    """GHK inputs from option-named values (k_in, p_na, …), for the ions the cell has."""
    return {
        key: (values.get(f"p_{prefix}", 0.0), values[f"{prefix}_in"], values[f"{prefix}_out"])
        for key, prefix in (("K", "k"), ("Na", "na"), ("Cl", "cl"))
        if f"{prefix}_in" in values
    }


def _change_words(option: str, before: float, after: float) -> str:
    prefix, _, side = option.partition("_")
    if prefix == "p":
        return f"P_{side.capitalize()} rises from {number(before)} to {number(after)}"
    outside = "o" if side == "out" else "i"
    verb = "rises" if after > before else "falls"
    return f"[{_OPTION_WORDS[prefix]}]{outside} {verb} from {number(before)} to {number(after)} mM"


@dataclass(frozen=True)
class _WhatIfStates:
    """A what-if's cell before and after, as option-named values, and the pump's coupling ratios."""

    before: dict[str, float]
    after: dict[str, float]
    coupling: tuple[float, float]


def _whatif_states(slug: str, preset_key: str) -> _WhatIfStates:
    """The scenario applied to the preset the way the engine applies it (set, then scale)."""
    scenario = scenarios()[slug]
    preset = PRESETS[preset_key]
    before: dict[str, float] = {f"p_{k.lower()}": p for k, p in preset.permeabilities.items()}
    for key, values in preset.concentrations.items():
        if key in ("K", "Na", "Cl"):
            before |= {f"{key.lower()}_in": values.inside, f"{key.lower()}_out": values.outside}
    after = before | scenario.set | {name: before[name] * factor for name, factor in scenario.scale.items()}
    pump = scenario.model == "mullins-noda"
    coupling = (scenario.coupling_ratio_before, scenario.coupling_ratio_after) if pump else (1.0, 1.0)
    return _WhatIfStates(before, after, coupling)


def whatif_mistakes(slug: str, preset_key: str) -> dict[str, float]:
    """Tag → the change of V_m (mV) each mistake gives for this scenario in this cell."""
    states = _whatif_states(slug, preset_key)
    return change_mistakes(
        PRESETS[preset_key].temperature_c,
        _state(states.before),
        _state(states.after),
        coupling_before=states.coupling[0],
        coupling_after=states.coupling[1],
    )


def _whatif_draft(slug: str, rng: random.Random) -> _Draft:
    scenario = scenarios()[slug]
    cells = [key for key, p in PRESETS.items() if p.mammalian or not scenario.clinical]
    preset = PRESETS[rng.choice(cells)]
    result = what_if(slug, preset=preset.key)
    states = _whatif_states(slug, preset.key)
    if scenario.model == "mullins-noda":
        what = (
            f"the Na⁺/K⁺ pump stops: in the Mullins–Noda equation the coupling ratio r that multiplies P_K "
            f"falls from {number(states.coupling[0])} to {number(states.coupling[1])}"
        )
    else:
        what = " and ".join(_change_words(c.option, c.before, c.after) for c in result.changes)
    ions = {key: value for key, value in _state(states.before).items() if value[0] > 0 or key != "Cl"}
    question = (
        f"{scenario.title} in {_cell(preset.name)} ({preset.citation}; {_membrane_words(ions)}, "
        f"{number(preset.temperature_c)} °C): {what}. By how much does V_m change (after − before; "
        f"+ is depolarization)?"
    )
    return _Draft(
        command="whatif",
        options={"scenario": slug, "preset": preset.key},
        question=question,
        topic=WHATIF_TOPICS[slug],
        expected_mv=result.change_mv,
        mistakes=whatif_mistakes(slug, preset.key),
        text=_change_text,
    )


def _draft(family: str, rng: random.Random) -> _Draft:
    kind, _, which = family.partition(":")
    if kind == "nernst":
        return _nernst_draft(which, rng)
    if kind == "ghk":
        return _ghk_draft(int(which), rng)
    return _whatif_draft(which, rng)


def _distractors(rng: random.Random, draft: _Draft) -> list[tuple[float, tuple[str, ...]]] | None:
    """Three mistakes' values, each apart from the key and from each other, with every tag that
    reproduces it (or its one-decimal text, which a student may type back); a value too close to
    one already taken gives way to another mistake."""
    tags = list(draft.mistakes)
    rng.shuffle(tags)
    picked: list[tuple[float, tuple[str, ...]]] = []
    for tag in tags:
        value = draft.mistakes[tag]
        if all(_apart(value, other) for other in (draft.expected_mv, *(v for v, _ in picked))):
            shown = round(value, 1)  # what the student reads on the button and may type back
            same = tuple(t for t, v in draft.mistakes.items() if reproduces(v, value) or reproduces(v, shown))
            picked.append((value, same))
            if len(picked) == DISTRACTORS:
                return picked
    return None


def check_family(family: str) -> str:
    """The family, or :class:`InputError` naming the ones there are (a forged button, a typo)."""
    if family not in FAMILIES:
        raise InputError(f"Unknown problem family `{family[:40]}`: choose one of {', '.join(FAMILIES)}.")
    return family


def generate(family: str, seed: int) -> Problem:
    """The problem of this family and seed: the same every time, on every machine."""
    check_family(family)
    if isinstance(seed, bool) or not isinstance(seed, int) or abs(seed) >= 2**64:
        raise InputError("A problem's seed is a whole number below 2⁶⁴.")
    rng = random.Random(seed)
    for _ in range(MAX_DRAWS):
        draft = _draft(family, rng)
        distractors = _distractors(rng, draft)
        if distractors is not None:
            return _problem(family, seed, draft, distractors, rng)
    raise RuntimeError(f"{family} seed {seed}: no inputs with three distinct mistakes in {MAX_DRAWS} draws")


def _problem(
    family: str, seed: int, draft: _Draft, distractors: list[tuple[float, tuple[str, ...]]], rng: random.Random
) -> Problem:
    options = [(draft.expected_mv, ()), *distractors]
    rng.shuffle(options)
    choices = tuple(
        Choice(letter, draft.text(value), value, not tags, tags)
        for letter, (value, tags) in zip(LETTERS, options, strict=False)
    )
    return Problem(
        family=family,
        seed=seed,
        card=family,
        command=draft.command,
        options=draft.options,
        question=draft.question,
        topic=draft.topic,
        expected_mv=draft.expected_mv,
        choices=choices,
        mistakes=draft.mistakes,
    )


def family_for_topic(topic: str) -> tuple[str, ...]:
    """The families that practise a knowledge topic (empty when it has no numeric problems)."""
    return _TOPIC_FAMILIES.get(topic, ())
