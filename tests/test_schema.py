"""schemas/answer.v1.json describes every answer the bot can give, and nothing else.

Every command × preset × scenario × ion (custom ones of each valence), with and without
the derivation and with figures (detail:plot), /help, and error answers (from the engine, the request check and the
terminal parser) are validated against the schema; so is what ``membrane-tutor ask
--json`` prints. The schema is closed (additionalProperties: false everywhere), so a field
added, renamed or retyped in the code fails here until the schema says so.
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import pytest
from helpers import answer_schema, answer_validator, assert_valid_answer_json, nernst_mv, run_cli
from jsonschema import Draft202012Validator

from bot.__main__ import answer_text
from bot.answers import HANDLERS, Answer, answer, millivolts
from bot.commands import COMMANDS, Request
from bot.physiology import IONS, PRESETS, scenarios

CUSTOM_VALENCES = (-3, -2, -1, 1, 2, 3)


def _requests() -> list[tuple[str, Request]]:
    cases: list[tuple[str, Request]] = []

    def add(command: str, /, **options: Any) -> None:
        label = " ".join(f"{key}:{value}" for key, value in options.items())
        cases.append((f"/{command} {label}".strip(), Request(command, options)))

    for preset in PRESETS:
        for detail in ("summary", "steps", "plot"):
            add("restpot", preset=preset, detail=detail)
            for ion in IONS:
                add("nernst", ion=ion, preset=preset, detail=detail)  # some presets lack Mg, H: an error answer
                add("nernst", ion=ion, preset=preset, detail=detail, inside=2.0, outside=20.0)
        for scenario in scenarios():
            add("whatif", scenario=scenario, preset=preset)  # clinical × squid axon: an error answer
    for detail in ("summary", "steps", "plot"):
        for valence in CUSTOM_VALENCES:
            add("nernst", ion="custom", valence=valence, inside=1.0, outside=10.0, detail=detail)
        for temperature in (0.0, 20.0, 37.0, 50.0):  # the ≈ 61.5 step only at 37 °C
            add("nernst", ion="Ca", inside=1e-4, outside=2.0, temperature=temperature, detail=detail)
            add("restpot", temperature=temperature, detail=detail)
        add("restpot", k_out=10.0, detail=detail)
        add("restpot", p_na=0.0, detail=detail)  # K⁺ alone: V_m = E_K
        add("restpot", p_k=0.0, p_na=1.0, detail=detail)  # Na⁺ alone
        add("restpot", preset="cardiac-myocyte", cl_in=10.0, cl_out=120.0, p_cl=0.5, detail=detail)
        add("restpot", k_in=1e-6, k_out=1000.0, na_in=1000.0, na_out=1e-6, detail=detail)
        add("restpot", p_k=1e-320, detail=detail)  # a subnormal permeability
        add("nernst", ion="K", inside=5.0, outside=5.0, detail=detail)  # no gradient: 0 mV
    add("restpot", private=True)
    add("nernst", ion="Na", private=False)
    add("whatif", scenario="hyperkalemia")
    add("labs", k=6.8, na=128.0)
    add("labs", k=3.1, cl=95.0, ca=7.6, ca_unit="mg/dL", albumin=2.5)
    add("labs", ca=1.1, ca_unit="ionized", private=True)
    add("labs", ca=9.2)  # no ca_unit: an error answer
    add("labs")  # nothing to read: an error answer
    if "explain" in COMMANDS:
        from bot.answers import Services

        for topic in Services.load().knowledge:
            add("explain", topic=topic.slug)
        add("explain", topic="zombie " * 700)  # not in the notes: an error answer
        add("explain")
    add("ask", question="why is the resting membrane potential negative")
    add("ask", question="how do i calculate an iv drip rate")  # declined
    add("ask", question="   ")  # empty: an error answer
    add("ask", question="why " * 200)  # too long: an error answer
    add("help")
    for command in COMMANDS["help"].option("command").choices:  # type: ignore[union-attr]
        add("help", command=command.value)
    # errors the engine or the request check finds
    add("nernst", ion="custom", inside=1.0, outside=2.0)  # no valence
    add("nernst", ion="custom", valence=0, inside=1.0, outside=2.0)
    add("nernst", ion="K", valence=2)
    add("nernst", ion="K", inside=0.0)
    add("nernst", ion="K", inside=math.nan)
    add("nernst", ion="K", outside=math.inf)
    add("nernst", ion="K", temperature=500.0)
    add("nernst", ion="Xe")
    add("nernst")
    add("whatif")
    add("whatif", scenario="zombie")
    add("restpot", p_k=0.0, p_na=0.0, p_cl=0.0)
    add("restpot", k_in=-1.0)
    add("restpot", k_in=10**400)
    add("restpot", preset="frog")
    add("restpot", preset="cardiac-myocyte", p_cl=1.0)  # no Cl⁻ in that model
    add("help", command="zombie")
    add("zombie")
    _practice_requests(add)
    return cases


def _practice_requests(add: Any) -> None:
    """/quiz on every numeric family's topic and on concepts, /check right, wrong and refused."""
    from bot.tutoring.problems import FAMILIES, family_for_topic

    topics = sorted({slug for slug in _slugs() for family in family_for_topic(slug) if family in FAMILIES})
    for seed in (0, 7, 12345):
        add("quiz", seed=seed)
        add("quiz", kind="concept", seed=seed)
        add("quiz", kind="numeric", seed=seed)
        for topic in topics:
            add("quiz", topic=topic, kind="numeric", seed=seed)
    add("quiz", topic="zombie", seed=1)  # not a topic: an error answer
    add("quiz", topic="membrane-capacitance", kind="numeric", seed=1)  # no calculations there
    add("quiz", seed=-1)
    add("check nernst", ion="K", inside=140.0, outside=5.0, answer="-89.1 mV")
    add("check nernst", ion="K", inside=140.0, outside=5.0, answer="-38.7mV", detail="steps")
    add("check nernst", ion="Ca", inside=1e-4, outside=2.0, answer="0.131 V", detail="plot")
    add("check nernst", ion="K", answer="-0.089")
    add("check nernst", ion="K", inside=140.0, outside=5.0, answer="12 mM")  # wrong unit: an error
    add("check nernst", ion="K", inside=140.0, outside=5.0)  # no answer: an error
    add("check restpot", answer="−70 mV")
    add("check restpot", k_out=10.0, answer="+61 mV", private=True)
    add("check restpot", answer="-70 to -60 mV")  # a range: an error
    add("check restpot", k_in=-1.0, answer="-70 mV")  # the calculator's own refusal
    add("check")  # a group alone: an error
    add("progress show")  # no history offline: nothing practised yet


def _slugs() -> list[str]:
    from bot.answers import Services

    return sorted(topic.slug for topic in Services.load().knowledge)


REQUESTS = _requests()

# Terminal text that never becomes a request: the parser's errors (command "").
TYPED_ERRORS = (
    "",
    "/zombie",
    "/nernst",
    "/nernst ion:K inside:abc",
    "/nernst ion:K inside:1e308",
    "/nernst ion:K valence:1.5",
    '/nernst ion:"K',
    "/nernst ion:K 140",
    "/nernst ion:K ion:Na",
    "/nernst ion:K colour:blue",
    "/restpot private:maybe",
    "/nernst ion:K inside:" + "`" * 5000,
)


def test_schema_is_valid_draft_2020_12() -> None:
    schema = answer_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] and "ask --json" in schema["description"]


def _closed(node: Any, path: str = "#") -> list[str]:
    """Paths of object schemas that do not forbid extra properties."""
    found = []
    if isinstance(node, dict):
        if node.get("type") == "object" and node.get("additionalProperties") is not False:
            found.append(path)
        for key, value in node.items():
            found += _closed(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _closed(value, f"{path}/{index}")
    return found


def test_every_object_in_the_schema_is_closed() -> None:
    assert _closed(answer_schema()) == []


@pytest.mark.parametrize("request_", [request for _, request in REQUESTS], ids=[label for label, _ in REQUESTS])
def test_every_answer_matches_the_schema(request_: Request) -> None:
    result = answer(request_)
    data = result.to_json()
    assert_valid_answer_json(data)
    derivation = (data["result"] or {}).get("derivation")
    assert data["steps"] == (derivation["steps"] if derivation else [])


@pytest.mark.parametrize("text", TYPED_ERRORS, ids=[text[:40] or "empty" for text in TYPED_ERRORS])
def test_terminal_errors_match_the_schema(text: str) -> None:
    data = answer_text(text).to_json()
    assert data["error"] is True
    assert_valid_answer_json(data)


def test_the_request_set_covers_every_kind_of_answer() -> None:
    answers = [answer(request) for _, request in REQUESTS]
    kinds = {a.result.kind for a in answers if a.result is not None}
    assert kinds == {"nernst", "restpot", "whatif"}
    assert {a.command for a in answers if not a.error} == set(HANDLERS)
    assert {a.verdict.verdict for a in answers if a.verdict is not None} == {"right", "wrong"}
    assert any(a.quiz and a.quiz.problem is None for a in answers) and any(a.quiz and a.quiz.problem for a in answers)
    assert any(a.error for a in answers) and any(a.steps for a in answers)
    assert {a.result.ion.valence for a in answers if a.result is not None and a.result.kind == "nernst"} >= set(
        CUSTOM_VALENCES
    )
    assert any(step.approximate for a in answers for step in a.steps)


def _nernst_k() -> dict[str, Any]:
    return answer(Request("nernst", {"ion": "K", "inside": 140.0, "outside": 5.0, "detail": "steps"})).to_json()


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda d: d.update(extra=1), id="extra top-level key"),
        pytest.param(lambda d: d.pop("footer"), id="missing key"),
        pytest.param(lambda d: d.update(schema="answer.v2"), id="other version"),
        pytest.param(lambda d: d["result"]["ion"].update(equilibrium_mv="-89.1"), id="number as string"),
        pytest.param(lambda d: d["result"].update(kind="restpot"), id="wrong kind"),
        pytest.param(lambda d: d["result"]["ion"].update(valence=0), id="valence 0"),
        pytest.param(lambda d: d["result"]["ion"].update(inside_mm=0), id="concentration 0"),
        pytest.param(lambda d: d["steps"][0].update(expression="x"), id="extra step key"),
        pytest.param(lambda d: d["result"]["derivation"]["steps"][0].pop("latex"), id="step without latex"),
        pytest.param(lambda d: d.update(title="x" * 257), id="title over 256"),
        pytest.param(lambda d: d.update(headline="two\nlines"), id="two-line headline"),
        pytest.param(lambda d: d.update(fields=[{"name": "n", "value": "v"}] * 26), id="26 fields"),
        pytest.param(lambda d: d.update(fields=[{"name": "n", "value": "v" * 1025}]), id="field value over 1024"),
        pytest.param(lambda d: d.update(error=True), id="error with a result"),
        pytest.param(lambda d: d.update(result=None), id="nernst without a result"),
        pytest.param(lambda d: d.update(command="Nernst!"), id="bad command name"),
    ],
)
def test_schema_catches_drift(mutate: Any) -> None:
    data = copy.deepcopy(_nernst_k())
    assert answer_validator().is_valid(data)
    mutate(data)
    assert not answer_validator().is_valid(data)


def test_ask_json_prints_a_valid_answer_with_unrounded_numbers() -> None:
    command = "/nernst ion:K inside:140 outside:5"
    printed = run_cli("ask", "--json", command)
    assert printed.returncode == 0, printed.stderr
    assert printed.stderr == ""
    data = json.loads(printed.stdout)
    assert_valid_answer_json(data)
    potential = data["result"]["ion"]["equilibrium_mv"]
    assert potential == pytest.approx(-89.06, abs=0.01)
    assert potential == pytest.approx(nernst_mv(1, 140.0, 5.0, 37.0), abs=1e-9)
    assert potential != round(potential, 1)  # the JSON carries the unrounded number
    assert millivolts(potential) == "−89.1 mV"
    assert data["headline"] == "E_K = −89.1 mV"

    text = run_cli("ask", command)
    assert text.returncode == 0, text.stderr
    assert "E_K = −89.1 mV" in text.stdout.splitlines()


def test_ask_json_prints_errors_as_json_too() -> None:
    printed = run_cli("ask", "--json", "/nernst ion:K inside:-5")
    assert printed.returncode == 2
    data = json.loads(printed.stdout)
    assert_valid_answer_json(data)
    assert data["error"] is True and "`inside`" in data["headline"]
    assert "Traceback" not in printed.stdout + printed.stderr


def test_answer_to_json_is_the_schemas_top_level() -> None:
    schema = answer_schema()
    keys = list(Answer(command="help", title="t", headline="h").to_json())
    assert keys == schema["required"] == list(schema["properties"])[: len(keys)]
    assert keys == schema["$defs"]["commonKey"]["enum"]
    practice = list(schema["properties"])[len(keys) :]
    assert practice == [*QUIZ_KEYS, *VERDICT_KEYS, *PROGRESS_KEYS]


QUIZ_KEYS = ["problem", "question", "topic", "choices"]
VERDICT_KEYS = ["verdict", "mistakes", "expected_mv", "given_mv"]
PROGRESS_KEYS = ["topics", "due", "streak_days"]


def _quiz_json() -> dict[str, Any]:
    return answer(Request("quiz", {"topic": "nernst-equation", "seed": 7})).to_json()


def _check_json() -> dict[str, Any]:
    options = {"ion": "K", "inside": 140.0, "outside": 5.0, "answer": "-38.7 mV"}
    return answer(Request("check nernst", options)).to_json()


@pytest.mark.parametrize(
    ("build", "mutate"),
    [
        pytest.param(_quiz_json, lambda d: d.pop("choices"), id="quiz without choices"),
        pytest.param(_quiz_json, lambda d: d["choices"][0].update(letter="F"), id="letter F"),
        pytest.param(_quiz_json, lambda d: d["choices"][0].update(hint="x"), id="extra choice key"),
        pytest.param(_quiz_json, lambda d: d["choices"][0]["mistakes"].append("zombie"), id="unknown tag"),
        pytest.param(_quiz_json, lambda d: d["choices"][0].update(text="x" * 77), id="option too long for a button"),
        pytest.param(_quiz_json, lambda d: d["problem"].update(command="explain"), id="problem of no calculator"),
        pytest.param(_quiz_json, lambda d: d["problem"]["options"].update(seed=7), id="problem option unknown"),
        pytest.param(_quiz_json, lambda d: d.update(topics=[]), id="quiz with progress keys"),
        pytest.param(_quiz_json, lambda d: d.update(verdict="right"), id="verdict alone"),
        pytest.param(_check_json, lambda d: d.update(verdict="maybe"), id="verdict maybe"),
        pytest.param(_check_json, lambda d: d.update(given_mv=None), id="check without a number"),
        pytest.param(_check_json, lambda d: d.pop("mistakes"), id="check without mistakes"),
        pytest.param(
            _check_json, lambda d: d.update(problem=None, question="q", topic="t", choices=[]), id="check+quiz"
        ),
        pytest.param(
            _nernst_k,
            lambda d: d.update(verdict="right", mistakes=[], expected_mv=1.0, given_mv=1.0),
            id="nernst+verdict",
        ),
        pytest.param(_nernst_k, lambda d: d.update(command="check ghk"), id="unknown subcommand"),
    ],
)
def test_schema_catches_practice_drift(build: Any, mutate: Any) -> None:
    data = copy.deepcopy(build())
    assert answer_validator().is_valid(data)
    mutate(data)
    assert not answer_validator().is_valid(data)


def test_progress_show_json_shape_is_closed() -> None:
    """/progress show's keys as part C's progress_answer fills them (bot.answers.model.ProgressView)."""
    from bot.answers.model import ProgressView, TopicProgress

    view = ProgressView((TopicProgress("nernst-equation", "learning", 3, 2, 1),), ("nernst:K",), 2)
    data = Answer(command="progress show", title="Your progress", headline="1 card due", progress=view).to_json()
    assert_valid_answer_json(data)
    assert (data["topics"], data["due"], data["streak_days"]) == (
        [{"slug": "nernst-equation", "level": "learning", "attempts": 3, "correct": 2, "due": 1}],
        ["nernst:K"],
        2,
    )
    for bad in ({"level": "expert"}, {"attempts": -1}, {"extra": 1}):
        broken = copy.deepcopy(data)
        broken["topics"][0].update(bad)
        assert not answer_validator().is_valid(broken)
    assert not answer_validator().is_valid({**data, "due": ["zombie card"]})
