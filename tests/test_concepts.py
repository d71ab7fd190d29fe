"""Concept questions (issue 11): the knowledge base's ``quiz:`` lists parse, fill their templates
like the body, pass kb check's rules (tested on crafted questions below), and become practice
cards ``concept:<slug>:<index>`` that a seed picks the same way every time."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import frontmatter
import pytest
from test_kb_numbers import expected_text

from bot.answers import Services, engine_value
from bot.kb_check import OPTION_LIMIT, QUESTION_LIMIT, WHY_LIMIT, quiz_claim_texts, quiz_problems
from bot.knowledge import TEMPLATE, ConceptQuestion, KnowledgeBase, KnowledgeError, Topic, knowledge_dir, parse_topic
from bot.render import limits
from bot.tutoring.concepts import card_id, concept_questions, lookup, parse_card, pick

TOPIC_FILES = sorted(knowledge_dir().glob("*.md"))
GOOD: dict[str, Any] = {
    "question": "What is true of K⁺ when V_m equals E_K?",
    "options": ["No K⁺ crosses", "Net K⁺ flux is zero", "K⁺ is equal on both sides"],
    "answer": 1,
    "why": ["Ions still cross.", "Right: influx equals efflux.", "The gradient is what E balances."],
}


@pytest.fixture(scope="module")
def knowledge() -> KnowledgeBase:
    return Services.load().knowledge


def _crafted(tmp_path: Path, quiz: Any) -> tuple[Topic, dict[str, Any]]:
    """equilibrium-potential with its quiz replaced, loaded as the bot loads it."""
    post = frontmatter.load(knowledge_dir() / "equilibrium-potential.md")
    post.metadata["quiz"] = quiz
    path = tmp_path / "equilibrium-potential.md"
    path.write_text(frontmatter.dumps(post), encoding="utf-8")
    return parse_topic(path, engine_value), frontmatter.load(path).metadata


def _problems(tmp_path: Path, *questions: dict[str, Any]) -> list[str]:
    topic, metadata = _crafted(tmp_path, [GOOD, *questions])
    return list(quiz_problems(topic, metadata))


# --- the shipped questions ---------------------------------------------------------------------


@pytest.mark.parametrize("path", TOPIC_FILES, ids=lambda path: path.stem)
def test_every_shipped_question_passes_the_quiz_rules(path: Path, knowledge: KnowledgeBase) -> None:
    topic = knowledge.get(path.stem)
    assert topic is not None
    assert list(quiz_problems(topic, frontmatter.load(path).metadata)) == []
    for question in topic.quiz:  # the limits restated here, from Discord's list
        assert 2 <= len(question.options) <= 5 and 0 <= question.answer < len(question.options)
        assert len(question.why) == len(question.options)
        assert len(question.question) <= limits.EMBED_TITLE
        assert all(len(option) <= limits.BUTTON_LABEL for option in question.options)
        assert len({option.casefold() for option in question.options}) == len(question.options)
        assert "{{" not in question.question + "".join(question.options + question.why)


@pytest.mark.parametrize("path", TOPIC_FILES, ids=lambda path: path.stem)
def test_every_computed_number_in_a_question_agrees_with_a_hand_computation(
    path: Path, knowledge: KnowledgeBase
) -> None:
    topic = knowledge.get(path.stem)
    assert topic is not None
    raw = frontmatter.load(path).metadata.get("quiz") or []
    for index, (item, question) in enumerate(zip(raw, topic.quiz, strict=True)):
        rendered = " ".join((question.question, *question.options, *question.why))
        for text in quiz_claim_texts(item, index).values():
            for template in TEMPLATE.findall(text):
                assert expected_text(" ".join(template.split())) in rendered, (path.name, index, template)


def test_the_first_topic_with_questions_reads_as_written(knowledge: KnowledgeBase) -> None:
    topic = knowledge.get("equilibrium-potential")
    assert topic is not None and len(topic.quiz) >= 2
    first = topic.quiz[0]
    assert first.question.startswith("In the typical mammalian neuron (Sherwood 2016), E_K is −90.9 mV.")
    assert first.options[first.answer] == "K⁺ crosses both ways equally: its net flux is zero"
    assert first.why[first.answer].startswith("Right:")


def test_every_topic_has_at_least_two_concept_questions(knowledge: KnowledgeBase) -> None:
    assert len(knowledge) >= 30
    assert [topic.slug for topic in knowledge if len(topic.quiz) < 2] == []


# --- the parser ----------------------------------------------------------------------------------


def test_templates_are_filled_in_question_options_and_why(tmp_path: Path) -> None:
    question = {
        "question": "In the {{cell}}, which is E_K?",
        "options": ["{{nernst ion:K}}", "{{nernst ion:Na}}"],
        "answer": 0,
        "why": ["Right: {{nernst ion:K inside:140 outside:5}} for 140/5.", "That is E_Na, {{about nernst ion:Na}}."],
    }
    topic, metadata = _crafted(tmp_path, [GOOD, question])
    filled = topic.quiz[1]
    assert filled.question == "In the typical mammalian neuron (Sherwood 2016), which is E_K?"
    assert filled.options == ("−90.9 mV", "+61.5 mV")  # 61.54·log10(5/150), 61.54·log10(150/15)
    assert filled.why == ("Right: −89.1 mV for 140/5.", "That is E_Na, about +60 mV.")
    assert list(quiz_problems(topic, metadata)) == []


def test_a_topic_without_quiz_has_none_and_is_reported(tmp_path: Path) -> None:
    topic, metadata = _crafted(tmp_path, None)
    assert topic.quiz == ()
    assert list(quiz_problems(topic, metadata)) == ["`quiz` has 0 questions; write at least 2"]


@pytest.mark.parametrize(
    ("quiz", "field"),
    [
        ("Which ion?", "quiz"),
        (["Which ion?"], "quiz[0]"),
        ([{**GOOD, "question": " "}], "quiz[0].question"),
        ([{**GOOD, "answer": "1"}], "quiz[0].answer"),
        ([{**GOOD, "answer": True}], "quiz[0].answer"),
        ([{**GOOD, "options": "K⁺, Na⁺"}], "quiz[0].options"),
        ([{**GOOD, "why": ["ok", "", "ok"]}], "quiz[0].why"),
        ([GOOD, {**GOOD, "options": ["{{nernst ion:Xe}}", "b"], "why": ["a", "b"]}], "quiz[1].options[0]"),
    ],
)
def test_a_malformed_quiz_names_the_file_and_field(tmp_path: Path, quiz: Any, field: str) -> None:
    with pytest.raises(KnowledgeError) as raised:
        _crafted(tmp_path, quiz)
    assert raised.value.file == "equilibrium-potential.md" and raised.value.field == field


# --- kb check's rules, on crafted questions ------------------------------------------------------


def test_a_crafted_good_question_passes(tmp_path: Path) -> None:
    assert _problems(tmp_path, {**GOOD, "question": "Another question?"}) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"options": ["Only one"], "why": ["w"], "answer": 0}, "`quiz[1].options` has 1; give 2–5"),
        ({"options": list("ABCDEF"), "why": list("abcdef"), "answer": 0}, "`quiz[1].options` has 6"),
        ({"options": ["K⁺", "Na⁺", "k⁺ "], "answer": 0}, "`quiz[1].options[2]` repeats an earlier option"),
        ({"answer": 3}, "`quiz[1].answer` is 3, not an index"),
        ({"answer": -1}, "`quiz[1].answer` is -1"),
        ({"why": ["one", "two"]}, "`quiz[1].why` has 2 lines for 3 options"),
        ({"question": "Why " + "x" * QUESTION_LIMIT}, f"at most {QUESTION_LIMIT} fit a title"),
        ({"options": ["a", "b", "c" * (OPTION_LIMIT + 1)]}, f"`quiz[1].options[2]` is {OPTION_LIMIT + 1} characters"),
        ({"why": ["a", "b", "c" * (WHY_LIMIT + 1)]}, f"`quiz[1].why[2]` is {WHY_LIMIT + 1} characters"),
        ({"question": GOOD["question"]}, "`quiz[1].question` repeats an earlier question"),
        ({"why": ["a", "E_K is about −90 mV.", "c"]}, "`quiz[1].why[1]` states −90 mV with neither"),
        ({"options": ["−90 mV", "b", "c"]}, "`quiz[1].options[0]` states −90 mV"),
        ({"question": "Is V_m −70 mV here?"}, "`quiz[1].question` states −70 mV"),
        ({"why": ["a", "E_K is about −90 mV [9].", "c"]}, "`quiz[1].why[1]` cites [9], but `sources` lists 4"),
        ({"options": ["{{nernst ion:K preset:squid-giant-axon}}", "b", "c"]}, "never names that cell"),
    ],
)
def test_each_rule_reports_its_field(tmp_path: Path, change: dict[str, Any], problem: str) -> None:
    question = {**GOOD, "question": "Another question?", **change}
    problems = _problems(tmp_path, question)
    assert [p for p in problems if problem in p], problems


def test_a_cited_potential_and_a_named_cell_pass(tmp_path: Path) -> None:
    cited = {**GOOD, "question": "Q2?", "why": ["a", "E_K is about −90 mV [4].", "c"]}
    named = {
        **GOOD,
        "question": "In the squid giant axon, which is E_K?",
        "options": ["{{nernst ion:K preset:squid-giant-axon}}", "b", "c"],
        "answer": 0,
    }
    assert _problems(tmp_path, cited, named) == []


def test_one_question_is_too_few(tmp_path: Path) -> None:
    topic, metadata = _crafted(tmp_path, [GOOD])
    assert [p for p in quiz_problems(topic, metadata) if "`quiz` has 1 questions; write at least 2" in p]


# --- cards and picking ---------------------------------------------------------------------------


def test_every_question_is_a_card_named_by_topic_and_index(knowledge: KnowledgeBase) -> None:
    cards = concept_questions(knowledge)
    assert len(cards) == sum(len(topic.quiz) for topic in knowledge) >= 3
    for topic in knowledge:
        for index, question in enumerate(topic.quiz):
            card = f"concept:{topic.slug}:{index}"
            assert cards[card] == (topic.slug, question)
            assert len(card) <= 60  # room left in a 100-character custom_id
            found = lookup(knowledge, card)
            assert found is not None and (found.card, found.topic, found.index) == (card, topic.slug, index)
            assert found.question is question


@pytest.mark.parametrize(
    "card",
    [
        "nernst:K",
        "concept:equilibrium-potential",
        "concept:equilibrium-potential:-1",
        "concept:equilibrium-potential:01",
        "concept:equilibrium-potential:99",
        "concept:Equilibrium-Potential:0",
        "concept:../knowledge:0",
        "concept:no-such-topic:0",
        "concept:equilibrium-potential:0 ",
        "concept:equilibrium potential:0",
    ],
)
def test_a_garbled_or_stale_card_finds_no_question(knowledge: KnowledgeBase, card: str) -> None:
    assert lookup(knowledge, card) is None


def test_card_ids_round_trip() -> None:
    assert card_id("ghk-equation", 2) == "concept:ghk-equation:2"
    assert parse_card("concept:ghk-equation:2") == ("ghk-equation", 2)
    assert parse_card("concept:ghk-equation:x") is None


def _small_base() -> KnowledgeBase:
    base = Services.load().knowledge
    one, two, none = (base.get(slug) for slug in ("equilibrium-potential", "nernst-equation", "threshold"))
    assert one is not None and two is not None and none is not None
    quiz = tuple(ConceptQuestion(f"Q{i}?", ("a", "b"), 0, ("x", "y")) for i in range(2))
    return KnowledgeBase(
        {
            one.slug: dataclasses.replace(one, quiz=(*quiz, ConceptQuestion("Q2?", ("a", "b"), 1, ("x", "y")))),
            two.slug: dataclasses.replace(two, quiz=quiz),
            none.slug: dataclasses.replace(none, quiz=()),
        }
    )


def test_pick_is_a_function_of_the_seed_and_reaches_every_question() -> None:
    base = _small_base()
    picked = {seed: pick(base, "equilibrium-potential", seed) for seed in range(30)}
    assert all(card is not None and card.topic == "equilibrium-potential" for card in picked.values())
    assert {card.index for card in picked.values() if card} == {0, 1, 2}
    assert all(pick(base, "equilibrium-potential", seed) == card for seed, card in picked.items())
    anywhere = {card.card for seed in range(50) if (card := pick(base, None, seed))}
    assert anywhere == {f"concept:equilibrium-potential:{i}" for i in range(3)} | {
        f"concept:nernst-equation:{i}" for i in range(2)
    }
    assert pick(base, "Equilibrium Potential", 4) == pick(base, "equilibrium-potential", 4)


def test_pick_on_a_topic_without_questions_or_an_unknown_topic_is_none() -> None:
    base = _small_base()
    assert pick(base, "threshold", 1) is None
    assert pick(base, "no-such-topic", 1) is None
    assert pick(KnowledgeBase({}), None, 1) is None
