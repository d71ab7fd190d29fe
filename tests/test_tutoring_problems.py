"""Generated numeric problems: the key recomputed by formulas written here, not the engine's;
every distractor reproduced by this file's own version of its mistake; spacing; determinism.

The module also holds the test-side catalogue (``nernst_case``, ``ghk_case``, ``whatif_case``),
which tests/test_tutoring_grading.py reuses.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from bot.physiology import PRESETS, InputError, scenarios
from bot.tutoring.mistakes import CATALOGUE
from bot.tutoring.problems import FAMILIES, GENERATOR_VERSION, Problem, family_for_topic, generate
from bot.tutoring.reading import read_potential

ROOT = Path(__file__).resolve().parents[1]
R = 8.314462618  # J mol⁻¹ K⁻¹, CODATA 2018
F = 96485.33212  # C mol⁻¹
SEEDS = range(1000)
VALENCE = {"K": 1, "Na": 1, "Cl": -1, "Ca": 2}
TAGS = (
    "sign-flipped",
    "inside-outside-swapped",
    "log10-without-2.303",
    "ln-with-61.5",
    "celsius-as-kelvin",
    "valence-ignored",
    "valence-sign",
    "cl-not-inverted",
    "room-temperature",
    "temperature-ignored",
    "rule-of-60",
    "nernst-not-ghk",
    "permeability-ratio-inverted",
)


def tol(value: float) -> float:
    return max(0.5, 0.005 * abs(value))


def rt_over_f(celsius: float) -> float:
    """RT/F in mV."""
    return R * (celsius + 273.15) / F * 1000


# ---- Nernst, and each mistake a student makes with it -------------------------------------


def nernst_mv(z: int, inside: float, outside: float, celsius: float) -> float:
    return rt_over_f(celsius) / z * math.log(outside / inside)


def nernst_case(z: int, inside: float, outside: float, celsius: float) -> dict[str, float]:
    """Tag → what the mistake gives, for the mistakes that apply to these inputs."""
    decades = math.log10(outside / inside)
    e = nernst_mv(z, inside, outside, celsius)
    case = {
        "sign-flipped": -e,
        "inside-outside-swapped": nernst_mv(z, outside, inside, celsius),
        "log10-without-2.303": rt_over_f(celsius) / z * decades,
        "ln-with-61.5": 61.5 / z * math.log(outside / inside),
    }
    if celsius > 0:
        case["celsius-as-kelvin"] = R * celsius / (z * F) * 1000 * math.log(outside / inside)
    if abs(z) == 2:
        case["valence-ignored"] = nernst_mv(1 if z > 0 else -1, inside, outside, celsius)
    if z < 0:
        case["valence-sign"] = nernst_mv(-z, inside, outside, celsius)
    if celsius == 37:
        case["room-temperature"] = nernst_mv(z, inside, outside, 20)
        case["rule-of-60"] = 60 / z * decades
    else:
        case["temperature-ignored"] = 61.5 / z * decades
    return case


# ---- GHK (with the Mullins–Noda ratio r on P_K), and its mistakes ---------------------------

Ions = Mapping[str, tuple[float, float, float]]  # key -> (P, inside, outside)


def ghk_ratio(ions: Ions, r: float = 1.0) -> float:
    top = bottom = 0.0
    for key, (p, inside, outside) in ions.items():
        weight = p * r if key == "K" else p
        if key == "Cl":  # the anion: inside on top
            top, bottom = top + weight * inside, bottom + weight * outside
        else:
            top, bottom = top + weight * outside, bottom + weight * inside
    return top / bottom


def ghk_mv(celsius: float, ions: Ions, r: float = 1.0) -> float:
    return rt_over_f(celsius) * math.log(ghk_ratio(ions, r))


def ghk_case(celsius: float, ions: Ions, r: float = 1.0) -> dict[str, float]:
    v = ghk_mv(celsius, ions, r)
    swapped = {key: (p, o, i) for key, (p, i, o) in ions.items()}
    case = {
        "sign-flipped": -v,
        "inside-outside-swapped": ghk_mv(celsius, swapped, r),
        "log10-without-2.303": rt_over_f(celsius) * math.log10(ghk_ratio(ions, r)),
        "ln-with-61.5": 61.5 * math.log(ghk_ratio(ions, r)),
    }
    if celsius > 0:
        case["celsius-as-kelvin"] = R * celsius / F * 1000 * math.log(ghk_ratio(ions, r))
    if ions.get("Cl", (0,))[0] > 0:
        cl_p, cl_in, cl_out = ions["Cl"]
        cation_way = dict(ions) | {"Cl": (cl_p, cl_out, cl_in)}
        case["valence-sign"] = case["cl-not-inverted"] = ghk_mv(celsius, cation_way, r)
    if celsius == 37:
        case["room-temperature"] = ghk_mv(20, ions, r)
        case["rule-of-60"] = 60 * math.log10(ghk_ratio(ions, r))
    else:
        case["temperature-ignored"] = 61.5 * math.log10(ghk_ratio(ions, r))
    others = [key for key, (p, _, _) in ions.items() if p > 0 and key != "K"]
    if ions.get("K", (0,))[0] > 0 and others:
        case["nernst-not-ghk"] = nernst_mv(1, ions["K"][1], ions["K"][2], celsius)
    if "K" in ions and "Na" in ions and ions["K"][0] != ions["Na"][0]:
        exchanged = dict(ions) | {"K": (ions["Na"][0], *ions["K"][1:]), "Na": (ions["K"][0], *ions["Na"][1:])}
        case["permeability-ratio-inverted"] = ghk_mv(celsius, exchanged, r)
    return case


# ---- What-if: the cell before and after, from the preset's and the scenario's data ----------


def whatif_states(slug: str, preset_key: str) -> tuple[float, Ions, Ions, float, float]:
    """(temperature, before, after, r before, r after) built here from the data files' numbers."""
    scenario, cell = scenarios()[slug], PRESETS[preset_key]
    before = {
        key: (cell.permeabilities.get(key, 0.0), cell.concentrations[key].inside, cell.concentrations[key].outside)
        for key in ("K", "Na", "Cl")
        if key in cell.concentrations
    }
    after = {}
    for key, (p, inside, outside) in before.items():
        prefix = key.lower()
        p = scenario.set.get(f"p_{prefix}", p) * scenario.scale.get(f"p_{prefix}", 1.0)
        inside = scenario.set.get(f"{prefix}_in", inside) * scenario.scale.get(f"{prefix}_in", 1.0)
        outside = scenario.set.get(f"{prefix}_out", outside) * scenario.scale.get(f"{prefix}_out", 1.0)
        after[key] = (p, inside, outside)
    if scenario.model == "mullins-noda":
        return cell.temperature_c, before, after, scenario.coupling_ratio_before, scenario.coupling_ratio_after
    return cell.temperature_c, before, after, 1.0, 1.0


def whatif_key(slug: str, preset_key: str) -> float:
    celsius, before, after, r0, r1 = whatif_states(slug, preset_key)
    return ghk_mv(celsius, after, r1) - ghk_mv(celsius, before, r0)


def whatif_case(slug: str, preset_key: str) -> dict[str, float]:
    celsius, before, after, r0, r1 = whatif_states(slug, preset_key)
    first, second = ghk_case(celsius, before, r0), ghk_case(celsius, after, r1)
    return {tag: second[tag] - first[tag] for tag in first if tag in second}


def restpot_ions(options: Mapping[str, float]) -> dict[str, tuple[float, float, float]]:
    return {
        key: (options[f"p_{key.lower()}"], options[f"{key.lower()}_in"], options[f"{key.lower()}_out"])
        for key in ("K", "Na", "Cl")
        if f"{key.lower()}_in" in options
    }


def recomputed(problem: Problem) -> tuple[float, dict[str, float]]:
    """The key and every applicable mistake, from ``problem.command``/``options`` alone."""
    options = problem.options
    if problem.command == "nernst":
        z = VALENCE[options["ion"]]
        args = (z, options["inside"], options["outside"], options["temperature"])
        return nernst_mv(*args), nernst_case(*args)
    if problem.command == "restpot":
        ions = restpot_ions(options)
        return ghk_mv(options["temperature"], ions), ghk_case(options["temperature"], ions)
    assert problem.command == "whatif"
    return whatif_key(options["scenario"], options["preset"]), whatif_case(options["scenario"], options["preset"])


# ---- the tests --------------------------------------------------------------------------------


def test_the_catalogue_is_the_issues_thirteen_tags_in_order() -> None:
    assert tuple(CATALOGUE) == TAGS
    for tag, mistake in CATALOGUE.items():
        assert mistake.tag == tag
        assert mistake.words.startswith("you ") and len(mistake.words) < 200
    assert CATALOGUE["log10-without-2.303"].words == "you used log₁₀ with RT/F: the 2.303 is missing"


def _spaced(first: float, second: float) -> bool:
    return abs(first - second) >= max(1.0, 0.01 * max(abs(first), abs(second)))


def _check_problem(problem: Problem) -> None:
    key, case = recomputed(problem)
    assert problem.expected_mv == pytest.approx(key, rel=1e-9, abs=1e-9)
    assert set(problem.mistakes) == set(case), "the mistakes that apply to these inputs"
    assert [c.letter for c in problem.choices] == ["A", "B", "C", "D"]
    correct = [c for c in problem.choices if c.correct]
    assert len(correct) == 1 and correct[0].mistakes == () and correct[0].value_mv == problem.expected_mv
    values = [c.value_mv for c in problem.choices]
    for i, first in enumerate(values):
        for second in values[i + 1 :]:
            assert _spaced(first, second), (problem.family, problem.seed, values)
    for choice in problem.choices:
        # the text says the value (to its one decimal)
        assert read_potential(choice.text.split(" (")[0], key).value_mv == pytest.approx(choice.value_mv, abs=0.051)
        if choice.correct:
            continue
        assert choice.mistakes, "every distractor is a mistake"
        shown = round(choice.value_mv, 1)  # the button's text, which a student may type back
        reproducing = {
            tag for tag, value in case.items() if min(abs(choice.value_mv - value), abs(shown - value)) <= tol(value)
        }
        assert set(choice.mistakes) == reproducing, (problem.family, problem.seed, choice)
        assert list(choice.mistakes) == [tag for tag in TAGS if tag in reproducing]


@pytest.mark.parametrize("family", FAMILIES)
def test_a_thousand_seeds_keyed_spaced_and_every_distractor_a_real_mistake(family: str) -> None:
    for seed in SEEDS:
        problem = generate(family, seed)
        assert (problem.family, problem.seed, problem.card) == (family, seed, family)
        _check_problem(problem)


def _textbook(value: float) -> bool:
    """Printed as a book prints it: at most four significant figures, no float noise."""
    return len(f"{value:.4g}") <= 6 and float(f"{value:.4g}") == value


@pytest.mark.parametrize("family", FAMILIES)
def test_inputs_are_realistic_textbook_numbers_named_in_the_question(family: str) -> None:
    for seed in range(300):
        problem = generate(family, seed)
        options = problem.options
        if problem.command == "whatif":
            assert options["preset"] in PRESETS and options["scenario"] == family.split(":")[1]
            assert PRESETS[options["preset"]].name in problem.question
            continue
        assert 0 <= options["temperature"] <= 50 and f"{options['temperature']:g} °C" in problem.question
        for name, value in options.items():
            if name in ("ion", "preset", "temperature") or name.startswith("p_"):
                continue
            assert 1e-6 <= value <= 1000 and _textbook(value), (name, value)
            assert f"{value:.10f}".rstrip("0").rstrip(".") in problem.question
        if "preset" in options:
            assert PRESETS[options["preset"]].name in problem.question
        if problem.command == "nernst" and "preset" not in options:  # a named cell has its own (squid: 400 mM)
            low, high = {"K": (90, 160), "Na": (3, 25), "Cl": (3, 60), "Ca": (1e-5, 1e-3)}[options["ion"]]
            assert low <= options["inside"] <= high


def test_both_temperatures_and_presets_occur() -> None:
    temperatures = {generate("nernst:K", seed).options["temperature"] for seed in range(200)}
    assert 37 in temperatures and len(temperatures) >= 4
    assert any("preset" in generate("ghk:3", seed).options for seed in range(50))
    cells = {generate("whatif:pump-block", seed).options["preset"] for seed in range(100)}
    assert "squid-giant-axon" in cells  # a non-clinical scenario may use the squid axon
    clinical = {generate("whatif:hyperkalemia", seed).options["preset"] for seed in range(100)}
    assert clinical and all(PRESETS[key].mammalian for key in clinical)


def test_the_issue_example_request_shape() -> None:
    problem = next(p for p in (generate("nernst:Ca", s) for s in range(200)) if "preset" not in p.options)
    assert set(problem.options) == {"ion", "inside", "outside", "temperature"}
    assert problem.options["ion"] == "Ca" and problem.command == "nernst"
    assert problem.topic == "nernst-equation"


def test_same_family_and_seed_give_the_same_problem() -> None:
    for family in FAMILIES:
        for seed in (0, 7, 2**40 + 3):
            assert generate(family, seed) == generate(family, seed)
    assert generate("nernst:K", 1) != generate("nernst:K", 2) or generate("nernst:K", 3) != generate("nernst:K", 4)


def test_the_same_problem_in_another_process_with_another_hash_seed() -> None:
    code = (
        "from bot.tutoring.problems import generate, FAMILIES\n"
        "print(repr([generate(f, s) for f in FAMILIES for s in (3, 99)]))"
    )
    outputs = [
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=os.environ | {"PYTHONHASHSEED": hash_seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for hash_seed in ("1", "2")
    ]
    assert outputs[0] == outputs[1] == repr([generate(f, s) for f in FAMILIES for s in (3, 99)]) + "\n"


def test_generator_version_and_families() -> None:
    assert GENERATOR_VERSION == 1
    for family in ("nernst:K", "nernst:Na", "nernst:Cl", "nernst:Ca", "ghk:2", "ghk:3"):
        assert family in FAMILIES
    assert all(len(family) <= 32 for family in FAMILIES)  # room in a 100-character custom_id


def test_topics_are_real_knowledge_slugs_and_round_trip() -> None:
    slugs = {path.stem for path in (ROOT / "knowledge").glob("*.md")}
    for family in FAMILIES:
        topic = generate(family, 0).topic
        assert topic in slugs
        assert family in family_for_topic(topic), (family, topic)
    for topic in ("nernst-equation", "ghk-equation", "hyperkalemia", "chloride", "calcium-gradients"):
        assert family_for_topic(topic)
        assert all(family in FAMILIES for family in family_for_topic(topic))
    assert family_for_topic("refractory-periods") == ()
    assert family_for_topic("no-such-topic") == ()


@pytest.mark.parametrize(
    ("family", "seed"), [("nernst:Xx", 1), ("", 1), ("nernst:K", -(2**64)), ("ghk:2", 1.5), ("ghk:2", True)]
)
def test_unknown_family_or_bad_seed_is_an_input_error(family: str, seed: object) -> None:
    with pytest.raises(InputError):
        generate(family, seed)  # type: ignore[arg-type]


def _tags_offered(families: tuple[str, ...], seeds: range) -> set[str]:
    return {tag for f in families for s in seeds for c in generate(f, s).choices for tag in c.mistakes}


def test_every_tag_is_offered_somewhere() -> None:
    assert _tags_offered(FAMILIES, range(200)) == set(TAGS)


def test_inputs_with_too_few_distinct_mistakes_are_redrawn_from_the_same_stream(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import bot.tutoring.problems as problems

    draws: list[str] = []
    original = problems._draft

    def counting(family: str, rng: object) -> object:
        draws.append(family)
        return original(family, rng)  # type: ignore[arg-type]

    monkeypatch.setattr(problems, "_draft", counting)
    redrawn = []
    for seed in range(100):
        draws.clear()
        problem = generate("whatif:hyponatremia", seed)  # a small change: some cells give < 3 apart
        if len(draws) > 1:
            redrawn.append(seed)
            _check_problem(problem)
    assert redrawn, "some seed needs a second draw"
    monkeypatch.undo()
    assert all(generate("whatif:hyponatremia", seed) == generate("whatif:hyponatremia", seed) for seed in redrawn)
