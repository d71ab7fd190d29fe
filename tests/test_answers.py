"""Platform-neutral answers (bot/answers/): what a student reads, and that bad input never raises.

Expected numbers are computed here with math.log and CODATA constants, independently of
the engine.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from typing import Any

import pytest
from helpers import F, R, nernst_mv, parse_mv
from hypothesis import given
from hypothesis import strategies as st

from bot.answers import Answer, Services, answer, help_answer, millivolts
from bot.commands import COMMANDS, Request, parse_invocation
from bot.knowledge import KnowledgeBase
from bot.physiology import IONS, PRESETS, scenarios
from bot.render import limits
from bot.render.discord import OutgoingMessage, render_messages


def ghk_mv(celsius: float, ions: dict[str, tuple[float, float, float]]) -> float:
    """V_m from the GHK voltage equation; ion key → (permeability, inside, outside)."""
    top = sum(p * (i if key == "Cl" else o) for key, (p, i, o) in ions.items())
    bottom = sum(p * (o if key == "Cl" else i) for key, (p, i, o) in ions.items())
    return 1000.0 * R * (273.15 + celsius) / F * math.log(top / bottom)


def _one_line_error(result: Answer) -> None:
    assert result.error
    assert result.headline and "\n" not in result.headline
    assert result.result is None and not result.steps


# --- bad input never raises ----------------------------------------------------------------

BAD_REQUESTS = [
    Request("zombie"),
    Request(""),
    Request("nernst"),
    Request("whatif"),
    Request("nernst", {"ion": None}),
    Request("nernst", {"ion": "Xe"}),
    Request("nernst", {"ion": ["K"]}),
    Request("nernst", {"ion": "K", "inside": "abc"}),
    Request("nernst", {"ion": "K", "inside": 0}),
    Request("nernst", {"ion": "K", "inside": -5.0}),
    Request("nernst", {"ion": "K", "inside": math.nan}),
    Request("nernst", {"ion": "K", "outside": math.inf}),
    Request("nernst", {"ion": "K", "outside": -math.inf}),
    Request("nernst", {"ion": "K", "outside": 1e308}),
    Request("nernst", {"ion": "K", "outside": 10**400}),
    Request("nernst", {"ion": "K", "inside": True}),
    Request("nernst", {"ion": "K", "temperature": 500.0}),
    Request("nernst", {"ion": "K", "temperature": -273.15}),
    Request("nernst", {"ion": "K", "valence": 2}),
    Request("nernst", {"ion": "K", "detail": "everything"}),
    Request("nernst", {"ion": "custom"}),
    Request("nernst", {"ion": "custom", "valence": 0, "inside": 1.0, "outside": 2.0}),
    Request("nernst", {"ion": "custom", "valence": 1.5, "inside": 1.0, "outside": 2.0}),
    Request("nernst", {"ion": "custom", "valence": 4, "inside": 1.0, "outside": 2.0}),
    Request("nernst", {"ion": "custom", "valence": "2", "inside": 1.0, "outside": 2.0}),
    Request("nernst", {"ion": "custom", "valence": 10**400, "inside": 1.0, "outside": 2.0}),
    Request("nernst", {"ion": "custom", "valence": 2}),  # no preset has a custom ion
    Request("nernst", {"ion": "Mg", "preset": "squid-giant-axon"}),
    Request("restpot", {"zombie": 1.0}),
    Request("restpot", {"preset": "frog"}),
    Request("restpot", {"k_in": "x"}),
    Request("restpot", {"k_out": -(10**400)}),
    Request("restpot", {"p_k": 0.0, "p_na": 0.0, "p_cl": 0.0}),
    Request("restpot", {"p_na": math.nan}),
    Request("restpot", {"preset": "cardiac-myocyte", "p_cl": 1.0}),
    Request("restpot", {"temperature": "hot"}),
    Request("whatif", {"scenario": "zombies"}),
    Request("whatif", {"scenario": "hyperkalemia", "preset": "squid-giant-axon"}),
    Request("help", {"command": "zombie"}),
]


@pytest.mark.parametrize(
    "request_", BAD_REQUESTS, ids=[f"{r.command or 'empty'} {dict(r.options)}"[:60] for r in BAD_REQUESTS]
)
def test_bad_input_becomes_a_one_line_error_answer(request_: Request) -> None:
    result = answer(request_)
    _one_line_error(result)
    assert result.command in (*COMMANDS, "")
    assert len(result.headline) <= 400


_CHOICE_VALUES = [choice.value for spec in COMMANDS.values() for option in spec.options for choice in option.choices]
_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.integers(min_value=-4, max_value=4),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=1e-6, max_value=1000),
    st.text(max_size=60),
    st.sampled_from(_CHOICE_VALUES),
)
_OPTION_NAMES = sorted({option.name for spec in COMMANDS.values() for option in spec.options} | {"zombie"})


@given(
    command=st.sampled_from([*COMMANDS, "zombie"]),
    options=st.dictionaries(st.sampled_from(_OPTION_NAMES), _VALUES, max_size=6),
)
def test_answer_never_raises(command: str, options: dict[str, Any]) -> None:
    options.pop("detail", None)  # keep the derivations (sympy, slower) out of the fuzzing
    result = answer(Request(command, options))
    json.dumps(result.to_json(), allow_nan=False)  # real JSON: no NaN or Infinity leaks out
    if result.error:
        _one_line_error(result)
    else:
        assert result.headline and "\n" not in result.headline


# --- /restpot -----------------------------------------------------------------------------


def test_restpot_default_headline_is_a_textbook_resting_potential() -> None:
    result = answer(Request("restpot"))
    assert not result.error
    assert result.headline.startswith("V_m = ")
    vm = parse_mv(result.headline)
    assert -72 <= vm <= -68  # the seed's −70 mV
    expected = ghk_mv(37.0, {"K": (1.0, 150.0, 5.0), "Na": (1 / 25, 15.0, 150.0)})  # Sherwood, P_K = 25 P_Na
    assert result.result is not None and result.result.vm_mv == pytest.approx(expected, abs=1e-9)
    assert result.headline == f"V_m = {millivolts(expected)}"


def test_restpot_explains_in_one_line_why_vm_is_not_ek() -> None:
    result = answer(Request("restpot"))
    why = [line for line in result.lines if "E_K" in line and "Na⁺" in line]
    assert len(why) == 1
    e_k = nernst_mv(1, 150.0, 5.0, 37.0)
    assert millivolts(e_k) in why[0]  # −90.9 mV
    assert "above" in why[0]  # the Na⁺ leak pulls V_m up from E_K
    assert any(line.startswith("K⁺ dominates") for line in result.lines)


@pytest.mark.parametrize("preset", PRESETS)
def test_restpot_every_preset(preset: str) -> None:
    result = answer(Request("restpot", {"preset": preset}))
    assert not result.error
    assert result.result is not None
    assert result.headline == f"V_m = {millivolts(result.result.vm_mv)}"
    assert PRESETS[preset].name in result.title
    assert result.footer and not result.steps


def test_restpot_with_only_potassium_sits_at_ek() -> None:
    result = answer(Request("restpot", {"p_na": 0.0}))
    assert result.result is not None
    assert result.result.vm_mv == pytest.approx(nernst_mv(1, 150.0, 5.0, 37.0), abs=1e-9)
    assert any("V_m equals E_K" in line for line in result.lines)


# --- /nernst ------------------------------------------------------------------------------


def test_nernst_calcium_headline() -> None:
    result = answer(Request("nernst", {"ion": "Ca", "inside": 0.0001, "outside": 2.0}))
    assert result.headline == "E_Ca = +132.3 mV"
    assert result.result is not None
    assert result.result.ion.equilibrium_mv == pytest.approx(nernst_mv(2, 0.0001, 2.0, 37.0), abs=1e-9)


def test_nernst_potassium_headline_from_text() -> None:
    result = answer(parse_invocation("/nernst ion:K inside:140 outside:5"))
    assert result.headline == "E_K = −89.1 mV"


@pytest.mark.parametrize("ion", IONS)
def test_nernst_every_ion(ion: str) -> None:
    result = answer(Request("nernst", {"ion": ion, "inside": 2.0, "outside": 20.0, "temperature": 20.0}))
    assert not result.error
    valence = IONS[ion].valence
    expected = nernst_mv(valence, 2.0, 20.0, 20.0)
    assert result.result is not None
    assert result.result.ion.equilibrium_mv == pytest.approx(expected, abs=1e-9)
    assert result.headline == f"E_{IONS[ion].element} = {millivolts(expected)}"


@pytest.mark.parametrize("text", ["/nernst ion:custom valence:-2 inside:1 outside:10", None])
def test_nernst_custom_valence_minus_two(text: str | None) -> None:
    request = (
        parse_invocation(text)
        if text
        else Request("nernst", {"ion": "custom", "valence": -2, "inside": 1.0, "outside": 10.0})
    )
    result = answer(request)
    assert not result.error, result.headline
    expected = nernst_mv(-2, 1.0, 10.0, 37.0)  # −30.77 mV
    assert result.result is not None
    assert result.result.ion.valence == -2
    assert result.result.ion.symbol == "X²⁻"
    assert result.result.ion.equilibrium_mv == pytest.approx(expected, abs=1e-9)
    assert result.headline == f"E_X = {millivolts(expected)}" == "E_X = −30.8 mV"
    assert any("z = -2" in line for line in result.lines)


# --- /whatif ------------------------------------------------------------------------------

HEADLINE = re.compile(
    r"^V_m ([−+]?\d+\.\d mV|0\.0 mV) → ([−+]?\d+\.\d mV|0\.0 mV): (depolarizes|hyperpolarizes|barely changes)"
)
DIRECTION = {
    "hyperkalemia": "depolarizes",
    "hypokalemia": "hyperpolarizes",
    "hyponatremia": "hyperpolarizes",
    "pump-block": "depolarizes",
    "na-permeability-up": "depolarizes",
}
WHATIF = [
    (scenario, preset)
    for scenario, spec in scenarios().items()
    for preset, cell in PRESETS.items()
    if cell.mammalian or not spec.clinical
]


@pytest.mark.parametrize(("scenario", "preset"), WHATIF)
def test_whatif_headline_shows_before_and_after(scenario: str, preset: str) -> None:
    result = answer(Request("whatif", {"scenario": scenario, "preset": preset}))
    assert not result.error, result.headline
    match = HEADLINE.match(result.headline)
    assert match, result.headline
    assert result.result is not None
    assert match.group(1) == millivolts(result.result.before_mv)
    assert match.group(2) == millivolts(result.result.after_mv)
    assert match.group(3) == result.result.direction
    if scenario in DIRECTION:
        assert result.result.direction == DIRECTION[scenario]
    assert result.lines[-1].startswith("Clinically: ")
    assert result.result.mechanism in result.lines


def test_every_scenario_is_covered() -> None:
    assert {scenario for scenario, _ in WHATIF} == set(scenarios())


def test_hyperkalemia_matches_ghk_with_seven_millimolar_potassium() -> None:
    result = answer(Request("whatif", {"scenario": "hyperkalemia"}))
    assert result.result is not None
    before = ghk_mv(37.0, {"K": (1.0, 150.0, 5.0), "Na": (1 / 25, 15.0, 150.0)})
    after = ghk_mv(37.0, {"K": (1.0, 150.0, 7.0), "Na": (1 / 25, 15.0, 150.0)})
    assert result.result.before_mv == pytest.approx(before, abs=1e-9)
    assert result.result.after_mv == pytest.approx(after, abs=1e-9)


@pytest.mark.parametrize("scenario", [s for s, spec in scenarios().items() if spec.clinical])
def test_clinical_scenario_on_squid_axon_is_refused(scenario: str) -> None:
    result = answer(Request("whatif", {"scenario": scenario, "preset": "squid-giant-axon"}))
    _one_line_error(result)
    assert "mammalian" in result.headline


# --- detail:steps -------------------------------------------------------------------------

STEPS = [
    *(Request("restpot", {"preset": preset, "detail": "steps"}) for preset in PRESETS),
    Request("restpot", {"p_na": 0.0, "detail": "steps"}),
    Request("restpot", {"k_out": 10.0, "temperature": 20.0, "detail": "steps"}),
    *(Request("nernst", {"ion": ion, "inside": 2.0, "outside": 20.0, "detail": "steps"}) for ion in IONS),
    Request("nernst", {"ion": "K", "detail": "steps", "temperature": 18.5}),
    Request("nernst", {"ion": "Ca", "inside": 1e-4, "outside": 2.0, "detail": "steps"}),
    *(
        Request("nernst", {"ion": "custom", "valence": z, "inside": 1.0, "outside": 10.0, "detail": "steps"})
        for z in (-3, -2, -1, 1, 2, 3)
    ),
]


def _potential(result: Answer) -> float:
    assert result.result is not None
    if result.result.kind == "restpot":
        return result.result.vm_mv  # type: ignore[union-attr]
    return result.result.ion.equilibrium_mv  # type: ignore[union-attr]


@pytest.mark.parametrize("request_", STEPS, ids=[f"{r.command} {dict(r.options)}"[:70] for r in STEPS])
def test_steps_end_at_the_result(request_: Request) -> None:
    result = answer(request_)
    assert not result.error, result.headline
    assert len(result.steps) >= 3
    value = _potential(result)
    assert result.steps[-1].value_mv == pytest.approx(value, rel=1e-12, abs=1e-12)
    assert not result.steps[-1].approximate
    for step in result.steps:
        if step.approximate:  # the 61.5 mV rule: within 0.1 % of the exact value
            assert step.value_mv == pytest.approx(value, rel=1e-3)
        else:
            assert step.value_mv == pytest.approx(value, rel=1e-9, abs=1e-9)
    assert millivolts(result.steps[-1].value_mv) in result.headline
    assert result.result is not None and result.result.derivation is not None
    assert result.result.derivation.steps == result.steps


def test_the_shortcut_step_appears_only_at_body_temperature() -> None:
    at_37 = answer(Request("nernst", {"ion": "K", "detail": "steps"}))
    at_20 = answer(Request("nernst", {"ion": "K", "detail": "steps", "temperature": 20.0}))
    assert [step.approximate for step in at_37.steps].count(True) == 1
    assert not any(step.approximate for step in at_20.steps)


@pytest.mark.parametrize("command", ["restpot", "nernst"])
def test_summary_has_no_steps(command: str) -> None:
    options = {"ion": "K"} if command == "nernst" else {}
    for detail in (None, "summary"):
        result = answer(Request(command, {**options, **({"detail": detail} if detail else {})}))
        assert not result.steps
        assert result.result is not None and result.result.derivation is None


# --- /help --------------------------------------------------------------------------------


def test_help_lists_every_command_with_an_example() -> None:
    result = answer(Request("help"))
    assert not result.error
    for spec in COMMANDS.values():
        assert any(
            field.name.startswith(f"/{spec.name}") and spec.examples[0] in field.value for field in result.fields
        )


@pytest.mark.parametrize(
    "command",
    [c.value for c in COMMANDS["help"].option("command").choices if not COMMANDS[c.value].is_group],  # type: ignore[union-attr]
)
def test_help_for_one_command_lists_its_options(command: str) -> None:
    result = answer(Request("help", {"command": command}))
    assert not result.error
    spec = COMMANDS[command]
    assert result.title == f"/{command}"
    options = [field for field in result.fields if not field.name.startswith("Topics")]
    assert result.fields[: len(options)] == tuple(options)  # the options first, then (explain) the topics
    assert [field.name.removesuffix(" (required)") for field in options] == [o.name for o in spec.options]
    for example in spec.examples:
        assert f"Example: {example}" in result.lines


def _listed_topics(result: Answer) -> list[str]:
    topic_fields = [field for field in result.fields if field.name.startswith("Topics")]
    return [line for field in topic_fields for line in field.value.split("\n")]


def test_help_for_explain_lists_every_topic_by_slug_and_title() -> None:
    """Offline there is no autocomplete: /help command:explain is where the topics are listed."""
    knowledge = Services.load().knowledge
    result = answer(Request("help", {"command": "explain"}))  # no services passed: the terminal's one-shot ask
    expected = sorted(f"{topic.slug} — {topic.title}" for topic in knowledge)
    assert _listed_topics(result) == expected and len(expected) == len(knowledge) >= 30
    names = [field.name for field in result.fields if field.name.startswith("Topics")]
    assert names == [f"Topics ({len(knowledge)})"] + ["Topics (cont.)"] * (len(names) - 1)
    assert "/help command:explain lists the topics" in answer(Request("help")).footer
    assert not any(field.name.startswith("Topics") for field in answer(Request("help", {"command": "ask"})).fields)
    assert len(_within_discord(result)) == 1  # today's notes: one message


def test_a_long_topic_list_still_fits_discord() -> None:
    """Three times the notes, with long titles: fields of at most 1,024 characters, never
    a topic split between two, and every message within Discord's embed limits."""
    real = next(iter(Services.load().knowledge))
    many = {
        f"topic-{n:03d}": dataclasses.replace(
            real, slug=f"topic-{n:03d}", title=" ".join([f"A long title, number {n}."] * 4)
        )
        for n in range(100)
    }
    result = help_answer(Request("help", {"command": "explain"}), KnowledgeBase(many))
    assert _listed_topics(result) == sorted(f"{slug} — {topic.title}" for slug, topic in many.items())
    assert all(len(field.value) <= limits.FIELD_VALUE for field in result.fields)
    _within_discord(result)


def _within_discord(result: Answer) -> list[OutgoingMessage]:
    messages = render_messages(result)
    for message in messages:
        assert len(message.embeds) <= limits.EMBEDS_PER_MESSAGE
        assert sum(len(embed) for embed in message.embeds) <= limits.EMBEDS_TOTAL
        for embed in message.embeds:
            assert len(embed.fields) <= limits.EMBED_FIELDS
            assert all(len(field.value or "") <= limits.FIELD_VALUE for field in embed.fields)
    rendered = [
        line
        for m in messages
        for e in m.embeds
        for f in e.fields
        if f.name and f.name.startswith("Topics")
        for line in (f.value or "").split("\n")
    ]
    assert rendered == _listed_topics(result)  # the renderer had nothing to split or cut
    return messages


def test_nernst_with_the_default_cell_says_why_a_textbooks_e_k_differs() -> None:
    """Issue 10: students' books print [K⁺]i 100, 140 or 150 mM; the answer says so while it uses 150."""
    default = answer(Request("nernst", {"ion": "K"}))
    assert any(line.startswith("Textbooks differ on [K⁺] inside") for line in default.lines)
    for own in ({"ion": "K", "inside": 140.0}, {"ion": "Na"}, {"ion": "K", "preset": "bear-neuron"}):
        assert not any("Textbooks differ" in line for line in answer(Request("nernst", own)).lines), own


def test_nernst_for_an_ion_the_default_cell_lacks_names_the_cell_it_used() -> None:
    result = answer(Request("nernst", {"ion": "Ca"}))
    assert not result.error and result.result is not None and result.result.preset == "bear-neuron"
    assert any("lists no Ca²⁺" in line and "Bear et al." in line for line in result.lines)
    assert "Bear" in (result.footer or "")


def test_restpot_cites_the_preset_only_when_it_supplied_a_number() -> None:
    """A quiz's GHK problem (or a student) may give every number: the preset's source is then not
    where they came from, and the footer must not say it is."""
    given = {"k_in": 150.0, "k_out": 7.0, "na_in": 15.0, "na_out": 142.0, "p_k": 1.0, "p_na": 0.1}
    own = answer(Request("restpot", {**given, "temperature": 37.0}))
    assert own.footer and "Source:" not in own.footer and "every number as given" in own.footer
    partly = answer(Request("restpot", given))  # the temperature is the preset's
    assert partly.footer and "Sherwood" in partly.footer
