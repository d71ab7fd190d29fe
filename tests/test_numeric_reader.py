"""The free-text reader of calculation requests (bot/reading/numeric.py), on questions written the
way students write them. Every expected value is computed here with the Nernst or GHK formula
written out, never with the engine, and each reading is checked through /ask end to end."""

from __future__ import annotations

import math

import pytest

from bot.answers import answer
from bot.commands import Request
from bot.physiology import nernst, resting_potential, what_if
from bot.reading.numeric import command_line, follow_up, read_numeric

R, F = 8.314462618, 96485.33212


def nernst_mv(z: int, inside: float, outside: float, celsius: float = 37.0) -> float:
    return 1000 * R * (celsius + 273.15) / (z * F) * math.log(outside / inside)


def ghk_mv(ions: dict[str, tuple[float, float, float]], celsius: float = 37.0) -> float:
    """ions: K/Na/Cl → (P, inside, outside); Cl⁻ enters with its sides swapped."""
    top = sum(p * (i if k == "Cl" else o) for k, (p, i, o) in ions.items())
    bottom = sum(p * (o if k == "Cl" else i) for k, (p, i, o) in ions.items())
    return 1000 * R * (celsius + 273.15) / F * math.log(top / bottom)


NEURON = {"K": (1.0, 150.0, 5.0), "Na": (1 / 25, 15.0, 150.0)}


def computed(question: str) -> float:
    reading = read_numeric(question)
    assert reading is not None and reading.request is not None, reading
    options = dict(reading.request.options)
    if reading.request.command == "nernst":
        return nernst(options.pop("ion"), **options).ion.equilibrium_mv
    if reading.request.command == "restpot":
        return resting_potential(**options).vm_mv
    return what_if(options["scenario"], preset=options.get("preset")).after_mv


NERNST_CASES = [
    ("what's E_Na if it's 12 inside and 145 outside?", nernst_mv(1, 12, 145)),
    ("calculate Ek with [K]o = 5 mM and [K]i = 140 mM at 20 °C", nernst_mv(1, 140, 5, 20)),
    ("whats ena 12 in 145 out at 37c", nernst_mv(1, 12, 145)),
    ("E_K at room temperature, K 140 inside 5 outside", nernst_mv(1, 140, 5, 20)),
    ("ECl with 4 mM intracellular and 110 extracellular at 310 K", nernst_mv(-1, 4, 110, 36.85)),
    ("E_Na 98.6 F 15 mM ICF 145 mEq/L ECF", nernst_mv(1, 15, 145, 37)),
    ("equilibrium potential of Ca2+ if intracellular is 100 nM and extracellular 2 mM", nernst_mv(2, 1e-4, 2)),
    ("nernst for chloride: Cl- 10 mM ICF / 110 mM ECF", nernst_mv(-1, 10, 110)),
    ("Ca 9.2 mg/dL serum, Ca inside 0.0001, E_Ca?", nernst_mv(2, 1e-4, 9.2 / 4.008)),
    ("reversal potential for Mg²⁺, 0.5 mM inside, 1 mM outside", nernst_mv(2, 0.5, 1)),
    ("[K+]i = 400, [K+]o = 20, squid axon, E_K?", nernst_mv(1, 400, 20, 18.5)),
    ("what's the membrane potential if the membrane is only permeable to K, K 140 in 5 out", nernst_mv(1, 140, 5)),
    ("calculate E_K for a typical neuron", nernst_mv(1, 150, 5)),
    ("E_K when [K]o doubles in a typical neuron", nernst_mv(1, 150, 10)),
]


@pytest.mark.parametrize(("question", "expected"), NERNST_CASES)
def test_nernst_questions_compute_the_intended_value(question: str, expected: float) -> None:
    assert computed(question) == pytest.approx(expected, abs=0.05)


RESTPOT_CASES = [
    ("pt's K came back 6.8, what does that do to the RMP?", ghk_mv({**NEURON, "K": (1.0, 150.0, 6.8)})),
    ("what happens to the resting potential if extracellular K doubles?", ghk_mv({**NEURON, "K": (1.0, 150.0, 10.0)})),
    ("K goes from 4 to 7, what happens to the RMP?", ghk_mv({**NEURON, "K": (1.0, 150.0, 7.0)})),
    (
        "resting potential with K 140 in 5 out, Na 15 in 145 out, P_K:P_Na:P_Cl = 1:0.04:0.45, "
        "Cl 10 inside 110 outside",
        ghk_mv({"K": (1, 140, 5), "Na": (0.04, 15, 145), "Cl": (0.45, 10, 110)}),
    ),
    (
        "Vm if P_Na/P_K 0.05, K+ 150/5 and Na+ 15/150 at body temperature",
        ghk_mv({"K": (1, 150, 5), "Na": (0.05, 15, 150)}),
    ),
    ("RMP with P_K = 5e-7 cm/s and P_Na = 2.5e-8 cm/s", ghk_mv({**NEURON, "Na": (0.05, 15.0, 150.0)})),
    ("what's the RMP at 20 °C", ghk_mv(NEURON, 20)),
]


@pytest.mark.parametrize(("question", "expected"), RESTPOT_CASES)
def test_resting_potential_questions_compute_the_intended_value(question: str, expected: float) -> None:
    assert computed(question) == pytest.approx(expected, abs=0.05)


@pytest.mark.parametrize(
    ("question", "scenario"),
    [
        ("what is the RMP with the pump blocked", "pump-block"),
        ("what happens to the resting potential if you give ouabain?", "pump-block"),
        ("what does hyperkalemia do to the RMP", "hyperkalemia"),
        ("what happens to Vm if sodium permeability increases tenfold", "na-permeability-up"),
    ],
)
def test_named_scenarios_go_to_whatif(question: str, scenario: str) -> None:
    reading = read_numeric(question)
    assert reading is not None and reading.request is not None
    assert reading.request.command == "whatif"
    assert reading.request.options["scenario"] == scenario


def test_the_command_line_is_the_form_a_student_types() -> None:
    reading = read_numeric("what's E_Na if it's 12 inside and 145 outside?")
    assert reading is not None and reading.request is not None
    assert command_line(reading.request) == "/nernst ion:Na inside:12 outside:145"


@pytest.mark.parametrize(
    ("question", "said"),
    [
        ("E_K with 140 and 5 mM?", "larger [K⁺] (140 mM) is inside"),
        ("E_Na, 145 and 12?", "larger [Na⁺] (145 mM) is outside"),
        ("E_K at room temperature, K 140 inside 5 outside", "room temperature taken as 20 °C"),
        ("E_Na 98.6 F 15 mM ICF 145 mM ECF", "98.6 °F is 37 °C"),
        ("pt's K came back 6.8, what does that do to the RMP?", "serum (extracellular)"),
        ("what's E_Na if it's 12 inside and 145 outside?", "37 °C (body temperature"),
        ("what happens to the resting potential if extracellular K doubles?", "× 2 = 10 mM"),
    ],
)
def test_assumptions_are_stated_in_one_line(question: str, said: str) -> None:
    reading = read_numeric(question)
    assert reading is not None
    assert any(said in line for line in reading.assumptions), reading.assumptions
    assert all("\n" not in line for line in reading.assumptions)


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("what is the osmolarity of 150 mM NaCl", "osmolarity is not something the engine computes"),
        ("calculate the conduction velocity of a 10 um myelinated axon", "conduction velocity"),
        ("K is 2.9, how much KCl dose should the patient get?", "a dose"),
        ("calculate E_Mg", "a needed number is missing: [Mg²⁺]"),
        ("E_K if [K]o is 10", "a needed number is missing: [K⁺] inside"),
        ("what [K]o gives an E_K of -80 mV?", "not a concentration"),
        ("E_K 140 inside 5 outside at 80 C", "out of range"),
        ("E_K 1e308 inside 5 outside", "out of range"),
        ("what's the driving force on Na if Vm is -70 mV and ENa +60 mV", "driving force"),
    ],
)
def test_what_cannot_be_computed_is_declined_with_the_reason(question: str, reason: str) -> None:
    reading = read_numeric(question)
    assert reading is not None and reading.request is None
    assert reason in (reading.declined or "")


@pytest.mark.parametrize(
    "question",
    [
        "why is the resting potential negative?",
        "what is the nernst equation?",
        "what is hyperkalemia",
        "how do leak channels set the resting potential?",
        "explain the GHK equation",
        "the pump moves 3 Na out and 2 K in: why is it electrogenic?",
    ],
)
def test_questions_about_ideas_go_to_the_notes(question: str) -> None:
    assert read_numeric(question) is None


def test_a_computed_ask_leads_with_the_number_then_the_command_then_the_idea() -> None:
    result = answer(Request("ask", {"question": "what's E_Na if it's 12 inside and 145 outside?"}))
    assert result.headline == f"E_Na = +{nernst_mv(1, 12, 145):.1f} mV"
    assert result.lines[0] == "= /nernst ion:Na inside:12 outside:145"
    assert any(line.startswith("Assumed: 37 °C") for line in result.lines)
    assert any(line.startswith("The idea:") and "nernst-equation" in line for line in result.lines)
    assert result.topic == "nernst-equation"


def test_a_declined_ask_says_why_and_names_the_commands() -> None:
    result = answer(Request("ask", {"question": "what is the osmolarity of 150 mM NaCl"}))
    (reason,) = [line for line in result.lines if line.startswith("Not computed:")]
    assert reason.startswith("Not computed: osmolarity is not something the engine computes")
    assert "/nernst" in reason and "/restpot" in reason
    assert result.result is None and not result.error


PREVIOUS = Request("nernst", {"ion": "K", "inside": 140.0, "outside": 5.0})


def test_follow_up_for_another_ion_uses_the_cell_and_says_so() -> None:
    reading = follow_up("and for sodium?", PREVIOUS)
    assert reading is not None and reading.request is not None
    assert reading.request.options["ion"] == "Na"


def test_follow_up_at_another_temperature_reuses_the_numbers() -> None:
    reading = follow_up("now at 20 °C", PREVIOUS)
    assert reading is not None and reading.request is not None
    assert dict(reading.request.options) == {"ion": "K", "inside": 140.0, "outside": 5.0, "temperature": 20.0}
    assert "inside:140" in reading.reused and "outside:5" in reading.reused


def test_follow_up_doubling_outside_k_reuses_the_rest() -> None:
    reading = follow_up("what if outside K doubles?", PREVIOUS)
    assert reading is not None and reading.request is not None
    assert reading.request.options["outside"] == 10.0
    assert "inside:140" in reading.reused
    restpot = follow_up("what if outside K doubles?", Request("restpot", {"k_out": 6.8}))
    assert restpot is not None and restpot.request is not None
    assert restpot.request.options["k_out"] == pytest.approx(13.6)


def test_follow_up_and_inside_140() -> None:
    reading = follow_up("and inside 140?", Request("nernst", {"ion": "K", "inside": 150.0, "outside": 5.0}))
    assert reading is not None and reading.request is not None
    assert reading.request.options["inside"] == 140.0
    assert reading.reused == ("outside:5",)
    assert computed_request(reading.request) == pytest.approx(nernst_mv(1, 140, 5), abs=0.05)


def computed_request(request: Request) -> float:
    options = dict(request.options)
    return nernst(options.pop("ion"), **options).ion.equilibrium_mv


def test_follow_up_why_is_not_a_calculation() -> None:
    assert follow_up("why?", PREVIOUS) is None


@pytest.mark.parametrize(
    "text",
    [
        "E_K " * 1250,
        "x" * 5000,
        "1" * 5000,
        "**E_K** for <@123> with 140/5 @everyone `code` > quote ||spoiler||",
        "E_K NaN inside 5 outside",
        "E_K nan nan",
        "E_K 1e308 1e308",
        "E_K 1e999 inside 5 outside",
        "E_K 10^999 inside",
        "RMP with P_K:P_Na = 0:0 and K 140/5",
        "RMP with P_K = 0 cm/s",
        "E_K -5 inside 5 outside",
        "[[[[K]]]]o = = = 5 ]]",
        "E_K 0 inside 0 outside at -300 °C",
        "from 4 to to from 5 doubles halves triples",
        "\u0000\u202e E_K 140/5",
    ],
)
def test_hostile_input_never_crashes(text: str) -> None:
    reading = read_numeric(text)
    if reading is not None:
        assert (reading.request is None) != (reading.declined is None)
        assert all("@everyone" not in line for line in reading.assumptions)
    result = answer(Request("ask", {"question": text[:300]}))
    assert result.headline
    assert follow_up(text, PREVIOUS) is None or True
