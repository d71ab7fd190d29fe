"""/ask: retrieval over the curated notes, a threshold from the calibration set only,
and an honest decline; measured on a held-out set written independently of the topics."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from bot.answers import Answer, AnswerField, Services, answer
from bot.commands import QUESTION_LIMIT, Request, parse_invocation
from bot.knowledge import KnowledgeError, knowledge_dir
from bot.log import InteractionLog, SqliteStore, default_journal
from bot.render.discord import render_messages
from bot.render.terminal import render_text
from bot.retrieval import (
    AskIndex,
    ConfidenceModel,
    Synonym,
    fit_confidence,
    load_calibration,
    load_vocabulary,
    normalise,
)
from bot.unanswered import MemoryUnanswered

DATA = Path(__file__).parent / "data"
HELD_OUT = DATA / "ask-heldout.yaml"
"""The issue's held-out set: its misses were studied while tuning, so it is the least blind."""
SECOND_HELD_OUT = DATA / "ask-heldout-2.yaml"
THIRD_HELD_OUT = DATA / "ask-heldout-3.yaml"
"""Written later by other authors who saw only the topics' titles and summaries; their
misses were never read. The third is in the voice of exam prompts, ICU nurses, students
writing English as a second language and curious outsiders."""
FOURTH_HELD_OUT = DATA / "ask-heldout-4.yaml"
"""Written after the tuning was finished and scored once: a study server's mix of voices."""
QUESTION_SETS = [HELD_OUT, SECOND_HELD_OUT, THIRD_HELD_OUT, FOURTH_HELD_OUT]


@pytest.fixture(scope="module")
def services() -> Services:
    return Services.load(unanswered=MemoryUnanswered())


def _held_out(path: Path = HELD_OUT) -> list[tuple[str, str | None]]:
    return [(entry["question"], entry["topic"]) for entry in yaml.safe_load(path.read_text(encoding="utf-8"))]


def _scores(services: Services, held: list[tuple[str, str | None]]) -> tuple[float, float]:
    """Share of on-topic questions answered with their topic, share of off-topic ones declined,
    through the whole /ask handler (calculations read first), as a student meets it."""
    on = [(q, t) for q, t in held if t is not None]
    off = [q for q, t in held if t is None]

    def ask(question: str) -> Answer:
        return answer(Request("ask", {"question": question}), services)

    answered_right = sum(bool((a := ask(q)).answered) and a.topic == topic for q, topic in on)
    declined = sum(not ask(question).answered for question in off)
    return answered_right / len(on), declined / len(off)


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9+]+", text.lower()))


def _jaccard(a: str, b: str) -> float:
    x, y = _words(a), _words(b)
    return len(x & y) / len(x | y) if x and y else 0.0


@pytest.mark.parametrize("path", QUESTION_SETS, ids=lambda path: path.stem)
def test_the_sets_are_big_enough_and_the_held_out_sets_are_independent(services: Services, path: Path) -> None:
    """No held-out question shares more than 60 % of its words with an entry's questions or a
    calibration question: it measures understanding, not recall of the notes' own wording."""
    held, calibration = _held_out(path), load_calibration()
    assert len(calibration) >= 40 and len(held) >= 80
    assert sum(topic is None for _, topic in held) >= 15
    known = [q for topic in services.knowledge for q in topic.questions] + [q for q, _ in calibration]
    for question, _ in held:
        worst = max(known, key=lambda other: _jaccard(question, other))
        assert _jaccard(question, worst) <= 0.6, (question, worst)
    slugs = {topic.slug for topic in services.knowledge}
    assert all(topic in slugs for _, topic in held + calibration if topic is not None)


@pytest.mark.parametrize(
    ("path", "on_topic", "off_topic"),
    [
        # Measured 2026-11-25 (right answers / declined): 91.3 % (94/103) and 96.2 % (25/26).
        (HELD_OUT, 0.90, 0.90),  # the target
        # 92.1 % (82/89) and 92.9 % (26/28).
        (SECOND_HELD_OUT, 0.90, 0.90),
        # 85.0 % (85/100; 87 % have the right topic first) and 96.7 % (29/30): exam
        # prompts, patient stories and ESL phrasing. Below target.
        (THIRD_HELD_OUT, 0.84, 0.93),
        # 92.2 % (94/102) and 92.6 % (25/27), scored once, after the tuning.
        (FOURTH_HELD_OUT, 0.90, 0.90),
    ],
    ids=lambda value: value.stem if isinstance(value, Path) else "",
)
def test_accuracy_on_questions_the_tuning_never_read(
    services: Services, path: Path, on_topic: float, off_topic: float
) -> None:
    """Issue target: top-1 ≥ 90 % on-topic and ≥ 90 % of off-topic declined. The sets
    below target are guarded at today's measurement against regressions."""
    answered_right, declined = _scores(services, _held_out(path))
    assert answered_right >= on_topic
    assert declined >= off_topic


def test_the_threshold_comes_from_the_calibration_set_alone(services: Services) -> None:
    uncalibrated = AskIndex(services.knowledge, [])
    assert uncalibrated.threshold < services.ask.threshold  # without data: decline nothing
    only_off_topic = AskIndex(services.knowledge, [("what is the weather like today", None)])
    assert only_off_topic.threshold != services.ask.threshold
    assert (knowledge_dir() / "ask-calibration.yaml").exists()  # shipped with the package


def test_symbols_abbreviations_lab_values_and_typos_are_understood(services: Services) -> None:
    assert "potassium" in normalise("why does K+ leak out")
    assert {"resting", "membrane", "potential"} <= set(normalise("what sets the RMP"))
    assert "hyperkalemia" in normalise("pt with a K of 6.9")
    assert "hypokalemia" in normalise("potassium 2.8 on the labs")
    assert "hyponatremia" in normalise("Na 118 and confused")
    assert "hyperkalemia" in normalise("K+ came back at 6.7, why is the nurse worried")
    assert not {"hypokalemia", "hyperkalemia"} & set(normalise("the na+ k+ pump moves 3 na out"))
    assert services.ask.rank("whats the nernest equasion").best.slug == "nernst-equation"  # type: ignore[union-attr]


def test_an_answered_question_shows_only_curated_text(services: Services) -> None:
    result = answer(Request("ask", {"question": "why is the resting membrane potential negative inside"}), services)
    assert not result.error and result.title != "That is not in my notes"
    topic = next(t for t in services.knowledge if t.title == result.title)
    assert result.headline == topic.summary
    assert list(result.lines) == topic.paragraphs()  # nothing before the body, nothing but the body


def test_close_alternatives_come_after_the_answer_not_before_it(services: Services) -> None:
    """A right answer that opens with "Did you mean …?" reads as a miss: the close
    runners-up are a last field, "Also close", below the entry's own fields."""
    question = next(
        q
        for q, topic in load_calibration()
        if topic and services.ask.rank(q).answered and services.ask.rank(q).close_runners_up()
    )
    result = answer(Request("ask", {"question": question}), services)
    close = services.ask.rank(question).close_runners_up()
    assert result.fields[-1] == AnswerField(
        "Also close", "\n".join(f"/explain topic:{t.slug} — {t.title}" for t in close)
    )
    assert not any("Did you mean" in line for line in result.lines)
    (message,) = render_messages(result)
    assert "/explain" not in (message.embeds[0].description or "")  # the first screen is the answer
    assert message.embeds[-1].fields[-1].name == "Also close"  # still there, after the body and sources
    assert render_text(result).index("Also close:") > render_text(result).index("Sources:")


def test_an_off_topic_question_is_declined_with_three_nearest_and_recorded() -> None:
    log = MemoryUnanswered()
    services = Services.load(unanswered=log)
    result = answer(Request("ask", {"question": "what is the capital of france"}), services)
    assert result.title == "That is not in my notes" and not result.error
    assert sum(line.startswith("Nearest:") for line in result.lines) == 3
    (recorded,) = log.recent()
    assert recorded.question == "what is the capital of france" and len(recorded.nearest) == 3
    # Kept in this process only (the terminal, tests): no instructor will read it, so none is promised.
    assert result.lines[-1] == "Not passed on to an instructor: if the notes should cover it, tell yours."
    assert not any("Passed on to" in line for line in result.lines)


async def test_a_declined_question_is_said_to_be_passed_on_only_where_instructors_read_it(
    services: Services, tmp_path: Path
) -> None:
    """Instructors read unanswered questions in /stats show, per server, from the interaction
    log: the promise is made only for a question stored there and asked in a server."""
    log = InteractionLog(SqliteStore(tmp_path / "log.db"), journal=default_journal(tmp_path / "log.db"))
    await log.start()
    try:
        stored = Services(services.knowledge, services.ask, log.store.unanswered_log())
        question = {"question": "what is the capital of france"}
        in_a_server = answer(Request("ask", question, user="1", guild="42"), stored)
        in_a_dm = answer(Request("ask", question, user="1"), stored)
        offline = answer(Request("ask", question, guild="42"), services)  # memory only, as in the terminal
    finally:
        await log.close()
    assert in_a_server.lines[-1] == "Passed on to this server's instructors as a question the notes should cover."
    for unseen in (in_a_dm, offline):
        assert unseen.lines[-1] == "Not passed on to an instructor: if the notes should cover it, tell yours."
        assert not any("Passed on to" in line for line in unseen.lines)
    reopened = InteractionLog(SqliteStore(tmp_path / "log.db"), journal=default_journal(tmp_path / "log.db"))
    await reopened.start()
    try:  # both stored questions were really kept, on disk
        assert [item.question for item in reopened.store.unanswered_log().recent()] == [question["question"]] * 2
    finally:
        await reopened.close()


def test_a_question_the_log_could_not_keep_is_not_said_to_be_passed_on(services: Services, tmp_path: Path) -> None:
    """A store with no interaction log and no event loop cannot write the row: it says so."""
    unwritable = SqliteStore(tmp_path / "log.db").unanswered_log()
    assert unwritable.record("what is a synapse", (), 0.1) is False
    result = answer(
        Request("ask", {"question": "what is a synapse"}, guild="42"),
        Services(services.knowledge, services.ask, unwritable),
    )
    assert result.lines[-1].startswith("Not passed on to an instructor")


@pytest.mark.parametrize("question", ["   ", "\n\t", "why " * (QUESTION_LIMIT // 4 + 1)])
def test_empty_or_too_long_questions_get_a_clear_message(services: Services, question: str) -> None:
    result = answer(Request("ask", {"question": question}), services)
    assert result.error and "question" in result.headline and "\n" not in result.headline


def test_the_terminal_takes_a_question_in_plain_words(services: Services) -> None:
    request = parse_invocation("/ask question:why is the resting potential negative?")
    assert request.options == {"question": "why is the resting potential negative?"}
    assert answer(request, services).command == "ask"


def test_student_words_bring_in_the_notes_words(services: Services) -> None:
    """The curated vocabulary adds the notes' words for a student's phrase; the phrase stays."""
    vocabulary = [Synonym(("numbing shot", "novocaine"), "local anesthetic")]
    index = AskIndex(services.knowledge, [], vocabulary)
    plain = AskIndex(services.knowledge, [], [])
    assert index._query("why does a numbing shot work") == plain._query("why does a numbing shot work local anesthetic")
    assert set(index._query("novocain")) >= set(plain._query("local anesthetic"))  # misspelled, still known
    assert "anesthet" not in plain._query("why does a numbing shot work")
    assert index.vocabulary_problems == []


def test_vocabulary_mistakes_are_reported_with_the_entry(services: Services, tmp_path: Path) -> None:
    index = AskIndex(
        services.knowledge, [], [Synonym(("zap",), "electroshock"), Synonym(("jolt", "zaps"), "action potential")]
    )
    assert index.vocabulary_problems == [
        "`means` of 'zap': electroshock not in the notes",
        "`say` 'zaps' is listed twice",  # zap and zaps are one stem
    ]
    broken = tmp_path / "vocabulary.yaml"
    broken.write_text("- say: numb\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"vocabulary.yaml: `entry 1` needs `say`"):
        load_vocabulary(broken)


def test_the_shipped_vocabulary_is_sound(services: Services) -> None:
    assert len(load_vocabulary()) >= 100
    assert services.ask.vocabulary_problems == []


def test_confidence_is_a_probability_fitted_on_the_calibration_set() -> None:
    """Logistic regression on log share and log score: more of either means more confidence."""
    rng = np.random.default_rng(7)
    share, score = rng.uniform(0.02, 1, 400), rng.uniform(0.5, 30, 400)
    right = (rng.uniform(size=400) < 1 / (1 + np.exp(-(2 * np.log(share) + 1.5 * np.log(score) - 1)))).astype(float)
    model = fit_confidence(np.column_stack([share, score]), right)
    assert model.share_weight == pytest.approx(2, abs=0.8) and model.score_weight == pytest.approx(1.5, abs=0.6)
    assert 0 < model.confidence(0.1, 2) < model.confidence(0.5, 2) < model.confidence(0.5, 20) < 1
    assert ConfidenceModel().confidence(0.3, 12.0) == 0.3  # uncalibrated: the share itself


def test_only_misspellings_are_corrected(services: Services) -> None:
    """A typo becomes the notes' word; a real English word stays itself, however close a
    notes word is (weather is not whether, numbed is not number)."""
    correct = services.ask._correct
    assert correct("potasium") == "potassium" and correct("refactory") == "refractory"
    assert correct("weather") == "weather" and correct("glycolysis") == "glycolysis"
    assert correct("numbed") == "numbed"
    assert services.ask._query("calculating") == services.ask._query("calculation")  # one stem


@pytest.mark.parametrize(
    "question",
    [
        "what's a good dentist near me",
        "how do I fix a leaky pipe",
        "what is a door jamb",
        "is hot weather bad for dogs",
        "what is the formula for the area of a circle",
        "how does a rc circuit work",
        "how do I convert celsius to fahrenheit",
        "how long does a flu shot last",
    ],
)
def test_everyday_words_the_vocabulary_could_claim_are_not_physiology(services: Services, question: str) -> None:
    """The student vocabulary lists only words that mean one thing in physiology and little
    outside it: an analogy (a door for a gate, a garden hose for a cable) or an everyday
    word (dentist, formula) would drag everyday questions into the notes."""
    assert not services.ask.rank(question).answered


@pytest.mark.parametrize(
    ("question", "slug"),
    [
        ("what is the resting membrane potential", "resting-membrane-potential"),
        ("what is an action potential", "action-potential"),
        ("what is depolarization", "depolarization-hyperpolarization-repolarization"),
        ("what is the equilibrium potential", "equilibrium-potential"),
        ("what is the nernst equation", "nernst-equation"),
        ("what are leak channels", "leak-channels"),
        ("what is hyperkalemia", "hyperkalemia"),
        ("refractory period", "refractory-periods"),
    ],
)
def test_the_plainest_questions_are_answered(services: Services, question: str, slug: str) -> None:
    """A topic's own name, asked bare: the commonest questions, and the ones with the least
    evidence (few words, all common in the notes), so the first a stricter model would drop."""
    ranking = services.ask.rank(question)
    assert ranking.answered and ranking.best is not None and ranking.best.slug == slug


def _short_name(title: str) -> str:
    """A title as a student shortens it: the head before a colon, nothing in parentheses."""
    return " ".join(re.sub(r"\([^()]*\)", " ", title.partition(":")[0]).split()).lower()


def test_every_topic_is_answered_when_asked_by_its_name(services: Services) -> None:
    """Each topic's title, its slug's words and its short name, asked as a question, are
    answered with that topic (the terminal has no autocomplete: a name is how one asks)."""
    misses = []
    for topic in services.knowledge:
        slug_words = topic.slug.replace("-", " ")
        for question in (topic.title, slug_words, f"what is {slug_words}", f"what is {_short_name(topic.title)}?"):
            ranking = services.ask.rank(question)
            if not (ranking.answered and ranking.best is not None and ranking.best.slug == topic.slug):
                misses.append((question, topic.slug, ranking.best.slug if ranking.best else None))
    assert misses == []


@pytest.mark.parametrize(
    "question",
    [
        "what is the resting potential",
        "what is resting potential",
        "resting potential",
        "the resting membrane potential?",
        "/ask question:what is the resting potential",
    ],
)
def test_a_short_form_of_a_name_is_that_topic_not_a_narrower_one(services: Services, question: str) -> None:
    """ "Resting potential" leaves out "membrane" (in every topic: little information) and
    not "cardiac" (in few): it is the resting membrane potential, not the cardiac one."""
    request = parse_invocation(question) if question.startswith("/") else Request("ask", {"question": question})
    result = answer(request, services)
    assert result.answered and result.topic == "resting-membrane-potential"


@pytest.mark.parametrize("question", ["what is the resting potential of a banana", "what is a potential well"])
def test_a_name_inside_a_longer_off_topic_question_is_no_answer(services: Services, question: str) -> None:
    assert not services.ask.rank(question).answered
