"""/quiz, /check and graded replies (bot/answers/practice.py), as a student meets them.

Keyed values are recomputed here from each problem's own request with the Nernst and GHK
formulas written in this file (not the engine's); mistakes the bot names are reproduced by
arithmetic written here too. Discord's limits are checked on the rendered messages.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pytest
from helpers import F, R, assert_valid_answer_json, nernst_mv

from bot.answers import HANDLERS, Answer, Services, answer, cacheable, grade_reply
from bot.answers.practice import (
    PERSONAL,
    SEED_OPTION,
    attempt_of,
    choice_answer,
    question_view,
    rebuild,
    reply_answer,
    typed_answer,
)
from bot.commands import Request, parse_invocation
from bot.physiology import InputError
from bot.render.discord import render_messages
from bot.tutoring.mistakes import CATALOGUE
from bot.tutoring.problems import FAMILIES
from bot.tutoring.scheduling import Attempt, CardState, StudentHistory

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
VALENCE = {"K": 1, "Na": 1, "Cl": -1, "Ca": 2}
SEEDS = (0, 1, 7, 42, 2**32 - 1)


@pytest.fixture(scope="module")
def knowledge() -> Any:
    return Services.load().knowledge


def _quiz(knowledge: Any, **options: Any) -> Answer:
    from bot.answers.practice import quiz_answer

    history = options.pop("history", None)
    return quiz_answer(Request("quiz", options, history=history), knowledge, NOW)


def ghk_mv(celsius: float, options: dict[str, Any]) -> float:
    """V_m = RT/F · ln((Σ P_c[c]o + Σ P_a[a]i) / (Σ P_c[c]i + Σ P_a[a]o)), here with math.log."""
    top = bottom = 0.0
    for ion, anion in (("k", False), ("na", False), ("cl", True)):
        p = options.get(f"p_{ion}", 0.0)
        if not p:
            continue
        inside, outside = options[f"{ion}_in"], options[f"{ion}_out"]
        top += p * (inside if anion else outside)
        bottom += p * (outside if anion else inside)
    return 1000.0 * R * (273.15 + celsius) / F * math.log(top / bottom)


def _keyed_mv(problem: dict[str, Any]) -> float | None:
    options = problem["options"]
    if problem["command"] == "nernst":
        ion = options["ion"]
        return nernst_mv(VALENCE[ion], options["inside"], options["outside"], options["temperature"])
    if problem["command"] == "restpot":
        return ghk_mv(options["temperature"], options)
    return None  # a what-if: the engine's scenario (tests/test_tutoring's business)


def _assert_fits_discord(result: Answer) -> None:
    for message in render_messages(result):
        assert message.content is None or len(message.content) <= 2000
        assert len(message.embeds) <= 10
        assert sum(len(embed) for embed in message.embeds) <= 6000
        for embed in message.embeds:
            assert len(embed.title or "") <= 256 and len(embed.description or "") <= 4096
            assert len(embed.fields) <= 25
            assert all(len(f.name) <= 256 and len(f.value) <= 1024 for f in embed.fields)


# --- /quiz: the question ----------------------------------------------------------------------


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("seed", SEEDS)
def test_a_numeric_question_is_keyed_by_formula_and_fits_discord(knowledge: Any, family: str, seed: int) -> None:
    view = question_view(family, seed, knowledge)
    assert view.problem is not None and view.card == family and view.seed == seed
    keyed = _keyed_mv(view.problem)
    right = [choice for choice in view.choices if choice.correct]
    assert len(right) == 1 and right[0].mistakes == ()
    if keyed is not None:
        assert right[0].value_mv == pytest.approx(keyed, abs=1e-6)
    assert [choice.letter for choice in view.choices] == list("ABCD")
    for choice in view.choices:
        assert len(f"{choice.letter}. {choice.text}") <= 80  # a button label
        assert set(choice.mistakes) <= set(CATALOGUE) and (choice.correct or choice.mistakes)
    shown = rebuild(family, seed, knowledge)
    assert shown.quiz == view  # card and seed rebuild the question exactly
    assert shown.headline == view.question and shown.error is False
    assert [line for line in shown.lines if line[1:3] == ". "] == [f"{c.letter}. {c.text}" for c in view.choices]
    assert_valid_answer_json(shown.to_json())
    _assert_fits_discord(shown)


def test_the_same_seed_asks_the_same_question_and_the_json_is_the_contract(knowledge: Any) -> None:
    first = _quiz(knowledge, topic="nernst-equation", seed=7)
    again = _quiz(knowledge, topic="nernst-equation", seed=7)
    assert first.to_json() == again.to_json()
    data = first.to_json()
    assert_valid_answer_json(data)
    assert set(data) >= {"problem", "question", "topic", "choices"}
    assert not set(data) & {"verdict", "topics"}
    assert data["problem"]["command"] == "nernst" and data["topic"] == "nernst-equation"
    assert {choice["letter"] for choice in data["choices"]} == set("ABCD")
    assert {tuple(sorted(choice)) for choice in data["choices"]} == {
        ("correct", "letter", "mistakes", "text", "value_mv")
    }


def test_a_concept_question_has_no_problem_and_no_values(knowledge: Any) -> None:
    result = _quiz(knowledge, kind="concept", seed=3)
    data = result.to_json()
    assert_valid_answer_json(data)
    assert data["problem"] is None
    assert all(choice["value_mv"] is None and choice["mistakes"] == [] for choice in data["choices"])
    assert sum(choice["correct"] for choice in data["choices"]) == 1
    assert result.quiz is not None and result.quiz.card.startswith("concept:")
    topic = knowledge.get(result.quiz.topic)
    index = int(result.quiz.card.rsplit(":", 1)[1])
    assert topic.quiz[index].question == data["question"]
    _assert_fits_discord(result)


@pytest.mark.parametrize("kind", ["numeric", "concept"])
def test_kind_is_obeyed_on_every_seed(knowledge: Any, kind: str) -> None:
    for seed in range(40):
        view = _quiz(knowledge, kind=kind, seed=seed).quiz
        assert view is not None
        assert (view.problem is None) == (kind == "concept"), seed


def test_with_no_topic_and_no_history_the_seeds_spread_over_topics(knowledge: Any) -> None:
    topics = {_quiz(knowledge, seed=seed).quiz.topic for seed in range(60)}  # type: ignore[union-attr]
    assert len(topics) >= 15


def test_a_topic_limits_the_question_to_it(knowledge: Any) -> None:
    for seed in range(12):
        view = _quiz(knowledge, topic="chloride", seed=seed).quiz
        assert view is not None
        assert view.card in ("nernst:Cl",) or view.card.startswith("concept:chloride:")


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"topic": "zombie"}, "No topic `zombie`"),
        ({"topic": "membrane-capacitance", "kind": "numeric"}, "no calculations on membrane-capacitance"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**32}, "seed"),
        ({"seed": "7"}, "seed"),
        ({"kind": "hard"}, "`kind`"),
    ],
)
def test_a_bad_quiz_request_is_one_clear_line(options: dict[str, Any], says: str) -> None:
    result = answer(Request("quiz", {SEED_OPTION: 1, **options}))
    assert result.error and says in result.headline and "\n" not in result.headline
    assert_valid_answer_json(result.to_json())


# --- what to ask: the student's history -------------------------------------------------------


def _state(card: str, topic: str, due: dt.datetime) -> CardState:
    return CardState(card=card, topic=topic, fsrs={}, due=due, reps=1, last_review=due - dt.timedelta(days=1))


def _attempt(card: str, topic: str, number: int) -> Attempt:
    return Attempt(
        id=f"a{number}",
        at=NOW - dt.timedelta(hours=number + 1),
        user="u",
        guild=None,
        card=card,
        topic=topic,
        kind="concept" if card.startswith("concept:") else "numeric",
        problem=None,
        given="a",
        correct=True,
    )


def test_the_most_overdue_card_comes_first(knowledge: Any) -> None:
    history = StudentHistory(
        cards={
            "nernst:Ca": _state("nernst:Ca", "nernst-equation", NOW - dt.timedelta(days=1)),
            "concept:chloride:0": _state("concept:chloride:0", "chloride", NOW - dt.timedelta(days=3)),
            "ghk:2": _state("ghk:2", "ghk-equation", NOW + dt.timedelta(days=2)),  # not due
        }
    )
    for seed in range(5):
        assert _quiz(knowledge, seed=seed, history=history).quiz.card == "concept:chloride:0"  # type: ignore[union-attr]
    numeric = _quiz(knowledge, seed=0, kind="numeric", history=history).quiz
    assert numeric is not None and numeric.card == "nernst:Ca"  # the overdue one of the kind asked


def test_with_nothing_due_a_new_card_from_the_least_practised_topic(knowledge: Any) -> None:
    slugs = sorted(topic.slug for topic in knowledge)
    attempts = tuple(_attempt(f"concept:{slug}:0", slug, n) for n, slug in enumerate(slugs) if slug != "chloride")
    cards = {a.card: _state(a.card, a.topic, NOW + dt.timedelta(days=5)) for a in attempts}
    history = StudentHistory(cards=cards, attempts=attempts)
    for seed in range(6):
        view = _quiz(knowledge, seed=seed, history=history).quiz
        assert view is not None and view.topic == "chloride"  # the one topic never practised
        assert view.card not in cards


# --- grading a reply --------------------------------------------------------------------------


def _nernst_view(knowledge: Any, seed: int = 7) -> Any:
    return question_view("nernst:K", seed, knowledge)


def test_the_right_letter_is_right_with_the_derivation_and_the_topic(knowledge: Any) -> None:
    view = _nernst_view(knowledge)
    right = next(choice for choice in view.choices if choice.correct)
    graded = reply_answer(view, right.letter.lower(), knowledge)
    assert graded.verdict is not None and graded.verdict.verdict == "right"
    assert graded.headline.startswith("Right")
    calculator = answer(Request("nernst", {**view.problem["options"], "detail": "steps"}))
    assert graded.steps == calculator.steps and graded.steps  # the steps detail:steps shows
    assert ("Read", "/explain topic:nernst-equation") in [(f.name, f.value) for f in graded.fields]
    data = graded.to_json()
    assert_valid_answer_json(data)
    assert data["verdict"] == "right" and data["mistakes"] == []
    assert data["expected_mv"] == data["given_mv"] == right.value_mv
    _assert_fits_discord(graded)


@pytest.mark.parametrize("family", FAMILIES)
def test_a_wrong_letter_names_its_mistakes_in_plain_words(knowledge: Any, family: str) -> None:
    view = question_view(family, 11, knowledge)
    for wrong in (choice for choice in view.choices if not choice.correct):
        graded = choice_answer(view, wrong.letter, knowledge)
        assert graded.verdict.verdict == "wrong"  # type: ignore[union-attr]
        assert graded.verdict.mistakes == wrong.mistakes  # type: ignore[union-attr]
        for tag in wrong.mistakes:
            words = CATALOGUE[tag].words
            assert any(words[1:] in line for line in graded.lines), tag
        assert f"/explain topic:{view.topic}" in [f.value for f in graded.fields]
        assert_valid_answer_json(graded.to_json())
        _assert_fits_discord(graded)


def test_a_typed_answer_is_graded_like_check(knowledge: Any) -> None:
    view = _nernst_view(knowledge)
    options = view.problem["options"]
    keyed = nernst_mv(1, options["inside"], options["outside"], options["temperature"])
    right = typed_answer(view, f"{keyed:.1f} mV".replace("-", "−"), knowledge)
    assert right.verdict.verdict == "right"  # type: ignore[union-attr]
    # log₁₀ with RT/F, computed here: the 2.303 left out
    slip = 1000 * R * (273.15 + options["temperature"]) / F * math.log10(options["outside"] / options["inside"])
    wrong = typed_answer(view, f"{slip:.1f}mV", knowledge)
    assert wrong.verdict.verdict == "wrong"  # type: ignore[union-attr]
    assert "log10-without-2.303" in wrong.verdict.mistakes  # type: ignore[union-attr]
    assert wrong.verdict.given_mv == pytest.approx(round(slip, 1))  # type: ignore[union-attr]
    assert any("2.303 is missing" in line for line in wrong.lines)
    volts = typed_answer(view, f"{keyed / 1000:.4f}", knowledge)
    assert volts.verdict.verdict == "right"  # type: ignore[union-attr]
    assert any("V" in line and "unit" in line for line in volts.lines)  # said so: read as volts
    unknown = typed_answer(view, "+3 mV", knowledge)
    assert unknown.verdict.mistakes == ()  # type: ignore[union-attr]
    assert any("do not recognise" in line for line in unknown.lines)


@pytest.mark.parametrize("reply", ["", "F", "12 mM", "-70 to -60 mV", "1 2", "abc", "9" * 500])
def test_a_reply_that_cannot_be_graded_gets_one_line_and_keeps_the_question(knowledge: Any, reply: str) -> None:
    view = _nernst_view(knowledge)
    graded = grade_reply(view, reply)
    assert graded.error and "\n" not in graded.headline and graded.verdict is None
    assert_valid_answer_json(graded.to_json())


def test_a_concept_reply_explains_both_options(knowledge: Any) -> None:
    result = _quiz(knowledge, kind="concept", seed=5)
    view = result.quiz
    assert view is not None
    topic = knowledge.get(view.topic)
    question = topic.quiz[int(view.card.rsplit(":", 1)[1])]
    wrong = next(choice for choice in view.choices if not choice.correct)
    graded = reply_answer(view, wrong.letter, knowledge)
    assert graded.verdict.verdict == "wrong"  # type: ignore[union-attr]
    letters = "ABCDE"
    assert f"{wrong.letter}: {question.why[letters.index(wrong.letter)]}" in graded.lines
    assert f"{letters[question.answer]}: {question.why[question.answer]}" in graded.lines
    data = graded.to_json()
    assert_valid_answer_json(data)
    assert data["expected_mv"] is None and data["given_mv"] is None and data["mistakes"] == []
    typed = grade_reply(view, "-70 mV")
    assert typed.error and "choose one of" in typed.headline


def test_a_graded_reply_is_an_attempt(knowledge: Any) -> None:
    view = _nernst_view(knowledge)
    wrong = next(choice for choice in view.choices if not choice.correct)
    graded = choice_answer(view, wrong.letter, knowledge)
    attempt = attempt_of(graded, wrong.letter, attempt_id="x1", at=NOW, user="pseudonym")
    assert (attempt.card, attempt.topic, attempt.kind, attempt.correct) == ("nernst:K", view.topic, "numeric", False)
    assert attempt.mistakes == wrong.mistakes and attempt.problem == view.problem and attempt.given == wrong.letter
    with pytest.raises(ValueError):
        attempt_of(answer(Request("nernst", {"ion": "K"})), "b", attempt_id="x2", at=NOW, user="u")


def test_a_garbled_or_stale_card_is_refused(knowledge: Any) -> None:
    for card in ("nernst:Xe", "concept:zombie:0", "concept:chloride:999", "", "x" * 100):
        with pytest.raises(InputError):
            question_view(card, 1, knowledge)


# --- /check ----------------------------------------------------------------------------------

K_CHECK = "/check nernst ion:K inside:140 outside:5 answer:"
E_K = nernst_mv(1, 140.0, 5.0, 37.0)  # −89.06 mV


@pytest.mark.parametrize("typed", ["-89", "−89.1 mV", "-0.089 V", "-89,1 mV", "−89 mv", "-89.06mV", "-0.0891"])
def test_check_accepts_a_right_answer_in_every_form(typed: str) -> None:
    result = answer(parse_invocation(K_CHECK + typed))
    assert not result.error, result.headline
    assert result.verdict is not None and result.verdict.verdict == "right"
    assert result.verdict.expected_mv == pytest.approx(E_K, abs=1e-9)
    assert abs(result.verdict.given_mv - E_K) <= max(0.5, 0.005 * abs(E_K))  # type: ignore[operator]
    assert result.headline.startswith("Right") and "E_K = −89.1 mV" in result.headline


def test_check_names_the_mistake_that_reproduces_the_number() -> None:
    slip = 1000 * R * 310.15 / F * math.log10(5 / 140)  # log₁₀ with RT/F: −38.7 mV
    result = answer(parse_invocation(f"{K_CHECK}{slip:.1f}mV"))
    data = result.to_json()
    assert_valid_answer_json(data)
    assert (data["command"], data["verdict"], data["mistakes"]) == ("check nernst", "wrong", ["log10-without-2.303"])
    assert data["expected_mv"] == pytest.approx(E_K, abs=1e-9) and data["given_mv"] == pytest.approx(-38.7)
    assert "You used log₁₀ with RT/F: the 2.303 is missing." in data["lines"]
    assert data["steps"] and data["steps"] == data["result"]["derivation"]["steps"]
    assert {"name": "Read", "value": "/explain topic:nernst-equation"} in data["fields"]
    assert not set(data) & {"problem", "choices", "topics"}
    _assert_fits_discord(result)


def test_check_restpot_grades_on_the_calculators_inputs() -> None:
    vm = answer(Request("restpot", {"k_out": 10.0})).result.vm_mv  # type: ignore[union-attr]
    right = answer(parse_invocation(f"/check restpot k_out:10 answer:{vm:.1f} mV"))
    assert right.verdict.verdict == "right" and right.result.vm_mv == vm  # type: ignore[union-attr]
    assert "/explain topic:ghk-equation" in [f.value for f in right.fields]
    unrecognised = answer(parse_invocation("/check restpot k_out:10 answer:+400 mV"))
    assert unrecognised.verdict.verdict == "wrong" and unrecognised.verdict.mistakes == ()  # type: ignore[union-attr]
    assert any("do not recognise" in line for line in unrecognised.lines)
    assert_valid_answer_json(unrecognised.to_json())


@pytest.mark.parametrize(
    "typed", ["12 mM", "37 °C", "-70 to -60 mV", "-70 -60", "about minus seventy", "nan mV", "`@everyone`"]
)
def test_check_refuses_what_is_not_one_potential_in_one_private_line(typed: str) -> None:
    result = answer(Request("check nernst", {"ion": "K", "inside": 140.0, "outside": 5.0, "answer": typed}))
    assert result.error and "\n" not in result.headline
    assert "@everyone" not in result.headline or "`" not in result.headline
    assert_valid_answer_json(result.to_json())


def test_check_detail_plot_adds_the_calculators_figure() -> None:
    result = answer(parse_invocation(K_CHECK + "-89 mV detail:plot"))
    assert [figure.kind for figure in result.figures] == ["nernst-vs-ratio"] and result.steps
    assert answer(parse_invocation(K_CHECK + "-89 mV")).figures == ()


# --- never from the cache ---------------------------------------------------------------------


def test_practice_is_never_cached_and_calculators_are() -> None:
    assert {"quiz", "check nernst", "check restpot", "progress show"} == PERSONAL <= set(HANDLERS)
    for command in PERSONAL:
        assert not cacheable(Request(command))
    for command in ("nernst", "restpot", "whatif", "explain", "ask", "help"):
        assert cacheable(Request(command))
