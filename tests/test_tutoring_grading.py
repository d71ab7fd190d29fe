"""Grading: each catalogue mistake, made on fresh inputs with this file's formulas, is named by
``check``; right answers in every unit form are right; bad answers and bad options get a message;
letters and typed answers for generated problems."""

from __future__ import annotations

from typing import Any

import pytest
from test_tutoring_problems import TAGS, ghk_case, ghk_mv, nernst_case, nernst_mv, restpot_ions

from bot.physiology import InputError
from bot.tutoring.grading import CheckResult, check, grade_answer, grade_choice
from bot.tutoring.problems import FAMILIES, generate

# Inputs no preset and no generator list uses, so nothing is copied from the engine's tables.
NERNST: dict[str, dict[str, Any]] = {
    "K37": {"ion": "K", "inside": 138, "outside": 4.2, "temperature": 37},
    "K18": {"ion": "K", "inside": 410, "outside": 22, "temperature": 18},
    "Na37": {"ion": "Na", "inside": 11, "outside": 143, "temperature": 37},
    "Cl37": {"ion": "Cl", "inside": 8, "outside": 117, "temperature": 37},
    "Ca37": {"ion": "Ca", "inside": 0.00015, "outside": 2.2, "temperature": 37},
    "Mg24": {"ion": "Mg", "inside": 0.6, "outside": 1.1, "temperature": 24},
}
RESTPOT: dict[str, dict[str, Any]] = {
    "three37": {
        "k_in": 138, "k_out": 4.2, "p_k": 1, "na_in": 11, "na_out": 143, "p_na": 0.03,
        "cl_in": 8, "cl_out": 117, "p_cl": 0.3, "temperature": 37,
    },
    "two22": {
        "k_in": 138, "k_out": 4.2, "p_k": 1, "na_in": 11, "na_out": 143, "p_na": 0.06, "p_cl": 0, "temperature": 22,
    },
}  # fmt: skip
VALENCE = {"K": 1, "Na": 1, "Cl": -1, "Ca": 2, "Mg": 2}

# tag -> (command, inputs) on which the mistake applies and stands apart from the right answer
WHERE: dict[str, tuple[str, str]] = {
    "sign-flipped": ("nernst", "K37"),
    "inside-outside-swapped": ("restpot", "three37"),
    "log10-without-2.303": ("nernst", "Na37"),
    "ln-with-61.5": ("restpot", "two22"),
    "celsius-as-kelvin": ("nernst", "K18"),
    "valence-ignored": ("nernst", "Ca37"),
    "valence-sign": ("nernst", "Cl37"),
    "cl-not-inverted": ("restpot", "three37"),
    "room-temperature": ("nernst", "K37"),
    "temperature-ignored": ("restpot", "two22"),
    "rule-of-60": ("nernst", "Na37"),
    "nernst-not-ghk": ("restpot", "three37"),
    "permeability-ratio-inverted": ("restpot", "two22"),
}


def _exact_and_case(command: str, options: dict[str, Any]) -> tuple[float, dict[str, float]]:
    if command == "nernst":
        args = (VALENCE[options["ion"]], options["inside"], options["outside"], options["temperature"])
        return nernst_mv(*args), nernst_case(*args)
    ions = restpot_ions(options)
    return ghk_mv(options["temperature"], ions), ghk_case(options["temperature"], ions)


def _options(command: str, name: str) -> dict[str, Any]:
    return dict((NERNST if command == "nernst" else RESTPOT)[name])


def test_every_tag_has_a_case() -> None:
    assert set(WHERE) == set(TAGS)


@pytest.mark.parametrize("tag", TAGS)
def test_check_names_each_mistake_made_on_fresh_inputs(tag: str) -> None:
    command, name = WHERE[tag]
    options = _options(command, name)
    exact, case = _exact_and_case(command, options)
    wrong = case[tag]
    assert abs(wrong - exact) > max(0.5, 0.005 * abs(exact)), "the mistake must change the answer here"
    for typed in (f"{wrong:.1f} mV", f"{wrong / 1000:.5f} V".replace(".", ",")):
        result = check(command, options, typed)
        assert result.verdict == "wrong"
        assert tag in result.mistakes, (typed, result)
        assert result.expected_mv == pytest.approx(exact, rel=1e-9)
        assert result.given_mv == pytest.approx(wrong, abs=0.051)


@pytest.mark.parametrize(("command", "name"), [*(("nernst", n) for n in NERNST), *(("restpot", n) for n in RESTPOT)])
def test_named_mistakes_are_exactly_those_that_reproduce_the_number(command: str, name: str) -> None:
    options = _options(command, name)
    _, case = _exact_and_case(command, options)
    for value in case.values():
        result = check(command, options, f"{value:.2f}mV")
        if result.verdict == "right":
            continue
        expected = [tag for tag in TAGS if tag in case and abs(case[tag] - value) <= max(0.5, 0.005 * abs(case[tag]))]
        assert list(result.mistakes) == expected


def test_only_mistakes_that_apply_are_named() -> None:
    _, case = _exact_and_case("nernst", _options("nernst", "K37"))
    assert "valence-ignored" not in case and "valence-sign" not in case and "temperature-ignored" not in case
    _, case = _exact_and_case("nernst", _options("nernst", "Mg24"))
    assert "valence-ignored" in case and "room-temperature" not in case
    result = check("nernst", _options("nernst", "K37"), f"{nernst_mv(1, 138, 4.2, 37) * 2:.1f} mV")
    assert result.verdict == "wrong" and result.mistakes == ()  # z = 2 for K⁺ is not in the catalogue


def test_an_unrecognised_wrong_answer() -> None:
    result = check("nernst", {"ion": "K", "inside": 140, "outside": 5}, "-50 mV")
    assert result == CheckResult("wrong", (), result.expected_mv, -50.0, None)
    assert result.expected_mv == pytest.approx(nernst_mv(1, 140, 5, 37))  # the default cell is at 37 °C


@pytest.mark.parametrize(
    "typed", ["-89", "−89.1 mV", "-0.089 V", "-89,1 mV", "−89 mv", "-89.06mV", "-0.0891 V", "-0.089", "E_K = -89.1 mV"]
)
def test_right_answers_in_every_unit_form(typed: str) -> None:
    result = check("nernst", {"ion": "K", "inside": 140, "outside": 5, "temperature": 37}, typed)
    assert result.verdict == "right" and result.mistakes == ()
    assert result.expected_mv == pytest.approx(nernst_mv(1, 140, 5, 37))
    assert (result.note is not None) == (typed == "-0.089")


def test_right_within_half_a_percent_and_no_further() -> None:
    options = _options("nernst", "Ca37")
    exact = nernst_mv(2, 0.00015, 2.2, 37)
    limit = max(0.5, 0.005 * abs(exact))
    assert check("nernst", options, f"{exact + 0.98 * limit:.3f} mV").verdict == "right"
    assert check("nernst", options, f"{exact + 1.05 * limit:.3f} mV").verdict == "wrong"
    assert check("nernst", {"ion": "Na", "inside": 15, "outside": 150}, "+61.5mV").verdict == "right"


def test_restpot_defaults_are_the_engines_and_display_options_are_ignored() -> None:
    result = check("restpot", {"detail": "steps", "private": True, "answer": "x"}, "-70 mV")
    neuron = {"K": (1, 150, 5), "Na": (1 / 25, 15, 150)}  # Sherwood 2016, the default cell
    assert result.expected_mv == pytest.approx(ghk_mv(37, neuron))
    assert result.verdict == "right"


def test_whatif_requests_grade_too() -> None:
    result = check("whatif", {"scenario": "hyperkalemia", "preset": "mammalian-neuron"}, "+4.5 mV")
    neuron = {"K": (1, 150, 5), "Na": (1 / 25, 15, 150)}
    assert result.expected_mv == pytest.approx(ghk_mv(37, neuron | {"K": (1, 150, 7)}) - ghk_mv(37, neuron))
    assert result.verdict == "right"


@pytest.mark.parametrize(
    ("command", "options", "answer", "says"),
    [
        ("nernst", {"ion": "K", "inside": -5, "outside": 5}, "-89 mV", "inside"),
        ("nernst", {"ion": "Zz"}, "-89 mV", "Unknown ion"),
        ("nernst", {"inside": 140}, "-89 mV", "ion"),
        ("nernst", {"ion": "K", "colour": 3}, "-89 mV", "colour"),
        ("restpot", {"p_k": 0, "p_na": 0, "p_cl": 0}, "-70 mV", "permeability"),
        ("restpot", {"k_in": float("nan")}, "-70 mV", "finite"),
        ("frobnicate", {}, "-70 mV", "nernst or restpot"),
        ("nernst", {"ion": "K"}, "-89 mM", "concentration"),
        ("nernst", {"ion": "K"}, "", "empty"),
        ("nernst", {"ion": "K"}, "z" * 500, "too long"),
    ],
)
def test_bad_options_and_bad_answers_are_input_errors(
    command: str, options: dict[str, Any], answer: str, says: str
) -> None:
    with pytest.raises(InputError) as caught:
        check(command, options, answer)
    assert says in str(caught.value)
    assert "zzzzzzzzzz" not in str(caught.value)


@pytest.mark.parametrize("family", FAMILIES)
def test_grade_choice_by_letter_in_either_case(family: str) -> None:
    problem = generate(family, 11)
    for choice in problem.choices:
        assert grade_choice(problem, choice.letter) == choice
        assert grade_choice(problem, f" {choice.letter.lower()} ") == choice
    for bad in ("E", "e", "Z", "", "AB", "1", "`@everyone`"):
        with pytest.raises(InputError) as caught:
            grade_choice(problem, bad)
        assert "A, B, C, D" in str(caught.value) and "@everyone" not in str(caught.value)


@pytest.mark.parametrize("family", FAMILIES)
def test_a_typed_option_grades_as_that_option(family: str) -> None:
    for seed in range(40):
        problem = generate(family, seed)
        for choice in problem.choices:
            typed = choice.text.split(" (")[0]
            by_problem = grade_answer(problem, typed)
            assert (by_problem.verdict == "right") == choice.correct
            assert by_problem.mistakes == choice.mistakes
            by_request = check(problem.command, problem.options, typed)  # what the modal and /check do
            assert (by_request.verdict, by_request.mistakes) == (by_problem.verdict, by_problem.mistakes)
