"""/quiz and /check: a practice question, and a student's reply graded with the mistake named.

A question is a *card* (a numeric problem family such as ``nernst:Ca``, or a concept question
``concept:<slug>:<index>``) and a *seed*: the two rebuild it exactly (:func:`rebuild`), so a
reply is graded without any state kept between question and reply (the console's next line, a
button pressed after a restart, a modal). Grading says right or wrong; for a wrong number, the
catalogue mistakes that reproduce it in plain words; the correct derivation (the steps
``detail:steps`` shows); and the topic to read.

The seed. A /quiz request may carry an internal option ``seed`` (:data:`SEED_OPTION`, an
integer 0 … 2³² − 1) that is never declared as a Discord option: the terminal's ``--seed N``
puts it there, and the Discord cog supplies one per question (it also goes in the buttons'
custom_id). Without one, the handler draws one from the operating system's randomness: the
only impure step, and it is recorded in the answer (:attr:`QuizView.seed`).

What to ask comes from the student's history (``Request.history``, loaded by the adapter):
the most overdue card first; else a new card from the least-practised topic. With no history
the seed alone chooses. Answers here are personal: :data:`PERSONAL` lists the commands the
answer cache must never serve (:func:`bot.answers.cacheable`).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Final

from bot.answers.calculator import nernst_answer, restpot, whatif_answer
from bot.answers.model import Answer, AnswerField, ChoiceView, Figure, QuizView, VerdictView, millivolts
from bot.commands import ANSWER_LIMIT, Request, shown
from bot.physiology import InputError
from bot.tutoring import grading, problems
from bot.tutoring.mistakes import CATALOGUE

if TYPE_CHECKING:
    from bot.knowledge import KnowledgeBase
    from bot.tutoring.concepts import ConceptCard
    from bot.tutoring.scheduling import Attempt, StudentHistory

SEED_OPTION: Final = "seed"
SEED_LIMIT: Final = 2**32
"""Seeds are 0 … 2³² − 1: ten digits at most in a button's custom_id."""
PERSONAL: Final = frozenset({"quiz", "check nernst", "check restpot", "progress show"})
"""Commands whose answer depends on who asks or on a fresh seed: never served from a cache."""
LETTERS: Final = "ABCDE"
CHECKED: Final = {"check nernst": "nernst", "check restpot": "restpot"}
"""/check's subcommands and the calculator each one checks."""
READ_FOR: Final = {"nernst": "nernst-equation", "restpot": "ghk-equation"}
"""The topic a /check of each calculator points to."""
_DELIVERY: Final = ("detail", "private")


def cacheable(command: str) -> bool:
    """Whether an answer to ``command`` may be reused for another request with the same options."""
    return command not in PERSONAL


# --- choosing the card ------------------------------------------------------------------------


def request_seed(request: Request) -> int:
    """The request's internal ``seed`` (see the module's docstring), or a fresh random one."""
    raw = request.options.get(SEED_OPTION)
    if raw is None:
        return secrets.randbelow(SEED_LIMIT)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw < SEED_LIMIT:
        raise InputError(f"The seed must be a whole number from 0 to {SEED_LIMIT - 1} (got `{shown(str(raw))}`).")
    return raw


@dataclass(frozen=True, slots=True)
class _Pool:
    """The cards a /quiz may ask, by topic slug (topics and cards in a stable order)."""

    by_topic: Mapping[str, tuple[str, ...]]

    def cards(self) -> tuple[str, ...]:
        return tuple(card for cards in self.by_topic.values() for card in cards)

    def topic_of(self, card: str) -> str | None:
        return next((slug for slug, cards in self.by_topic.items() if card in cards), None)


@cache
def _family_topic(family: str) -> str:
    """The topic a family's problems name (what its attempts count towards): the same for every seed."""
    return problems.generate(family, 0).topic


def _pool(knowledge: KnowledgeBase, topic: str | None, kind: str) -> _Pool:
    """Every card of ``kind`` (numeric, concept, any) on ``topic`` (a slug), or on every topic.

    On one topic, the families that practise it (``family_for_topic``: /quiz topic:chloride may
    ask nernst:Cl). Across topics, each family sits under the topic its problems name, the one
    its attempts count towards, so the least-practised topic is one the next attempt will count for.
    """
    from bot.tutoring import concepts  # the knowledge base's parser: only when a question is asked

    slugs = [topic] if topic is not None else sorted(t.slug for t in knowledge)
    numeric_kind = kind in ("numeric", "any")
    by_topic: dict[str, tuple[str, ...]] = {}
    for slug in slugs:
        if topic is not None:
            numeric = problems.family_for_topic(slug) if numeric_kind else ()
        else:
            numeric = tuple(f for f in problems.FAMILIES if numeric_kind and _family_topic(f) == slug)
        found = knowledge.get(slug)
        quiz = found.quiz if found is not None and kind in ("concept", "any") else ()
        cards = (*numeric, *(concepts.card_id(slug, index) for index in range(len(quiz))))
        if cards:
            by_topic[slug] = tuple(dict.fromkeys(cards))
    return _Pool(by_topic)


def _seeded(items: tuple[str, ...] | list[str], seed: int) -> str:
    return items[seed % len(items)]


def choose_card(pool: _Pool, seed: int, history: StudentHistory | None, now: datetime) -> str:
    """The card to ask: the most overdue one of the pool; else a new card (never seen) from the
    least-practised topic, ties broken by the seed; with no history, the seed alone: a topic,
    then one of its cards, so a topic with many concept questions does not crowd out the rest."""
    topics = list(pool.by_topic)
    if history is None:
        slug = _seeded(topics, seed)
        return _seeded(pool.by_topic[slug], seed // len(topics))
    offered = set(pool.cards())
    due = [card for card in history.due(now) if card in offered]
    if due:
        return due[0]
    practised = history.practised_by_topic()
    start = seed % len(topics)
    rotated = topics[start:] + topics[:start]
    slug = min(rotated, key=lambda name: practised.get(name, 0))
    cards = pool.by_topic[slug]
    new = [card for card in cards if card not in history.cards]
    return _seeded(new or list(cards), seed // len(topics))


# --- the question ------------------------------------------------------------------------------


def _numeric_view(card: str, seed: int) -> QuizView:
    problem = problems.generate(card, seed)
    choices = tuple(
        ChoiceView(choice.letter, choice.text, choice.value_mv, choice.correct, tuple(choice.mistakes))
        for choice in problem.choices
    )
    return QuizView(
        problem={"command": problem.command, "options": dict(problem.options)},
        question=" ".join(problem.question.split()),
        topic=problem.topic,
        choices=choices,
        card=problem.card,
        seed=seed,
    )


def _concept_view(found: ConceptCard, seed: int) -> QuizView:
    question = found.question
    choices = tuple(
        ChoiceView(LETTERS[index], text, None, index == question.answer) for index, text in enumerate(question.options)
    )
    return QuizView(None, question.question, found.topic, choices, card=found.card, seed=seed)


def question_view(card: str, seed: int, knowledge: KnowledgeBase) -> QuizView:
    """The question a card and a seed stand for; InputError when the card is garbled or gone
    (a forged custom_id, or a topic edited since): the caller then offers a new question."""
    from bot.tutoring import concepts  # the knowledge base's parser: only when a question is asked

    if card in problems.FAMILIES:
        return _numeric_view(card, seed)
    found = concepts.lookup(knowledge, card)
    if found is None:
        raise InputError("This question no longer exists: ask /quiz for a new one.")
    return _concept_view(found, seed)


def _title(knowledge: KnowledgeBase | None, slug: str, start: str) -> str:
    found = knowledge.get(slug) if knowledge is not None else None
    return f"{start} · {found.title if found is not None else slug}"


def _reply_hint(view: QuizView) -> str:
    letters = f"{view.choices[0].letter}–{view.choices[-1].letter}"
    if view.problem is None:
        return f"Answer with a letter, {letters}."
    return f"Answer with a letter, {letters}, or type your number with its unit (e.g. −89.1 mV)."


def question_answer(view: QuizView, knowledge: KnowledgeBase | None) -> Answer:
    """A question as an answer: the question first, then its lettered options."""
    return Answer(
        command="quiz",
        title=_title(knowledge, view.topic, "Practice"),
        headline=view.question,
        lines=(*(f"{choice.letter}. {choice.text}" for choice in view.choices), _reply_hint(view)),
        footer=f"Question {view.card}, seed {view.seed}.",
        topic=view.topic,
        quiz=view,
    )


def rebuild(card: str, seed: int, knowledge: KnowledgeBase) -> Answer:
    """The /quiz answer a card and a seed stand for (a button press, a modal, the console)."""
    return question_answer(question_view(card, seed, knowledge), knowledge)


def _topic_slug(knowledge: KnowledgeBase, wanted: str) -> str:
    found = knowledge.get(wanted)
    if found is None:
        near = ", ".join(t.slug for t in knowledge.suggest(wanted, limit=3)) or "none yet"
        raise InputError(f"No topic `{shown(wanted)}` in my notes. Nearest: {near}.", option="topic")
    return found.slug


def _no_questions(slug: str | None, kind: str) -> InputError:
    what = {"numeric": "calculations", "concept": "concept questions"}.get(kind, "practice questions")
    if slug is None:
        return InputError(f"There are no {what} yet.", option="kind")
    other = "kind:concept" if kind == "numeric" else "another topic"
    return InputError(f"There are no {what} on {slug} yet: try {other}.", option="topic")


def quiz_answer(request: Request, knowledge: KnowledgeBase, now: datetime | None = None) -> Answer:
    """/quiz [topic] [kind]: one question, chosen from the student's history (see the module's
    docstring), the seed and ``now`` (default: the current UTC time)."""
    seed = request_seed(request)
    kind = str(request.options.get("kind") or "any")
    wanted = request.options.get("topic")
    slug = _topic_slug(knowledge, str(wanted)) if wanted else None
    pool = _pool(knowledge, slug, kind)
    if not pool.by_topic:
        raise _no_questions(slug, kind)
    card = choose_card(pool, seed, request.history, now or datetime.now(UTC))
    return question_answer(question_view(card, seed, knowledge), knowledge)


# --- grading a reply ---------------------------------------------------------------------------


def _sentence(words: str) -> str:
    return words[:1].upper() + words[1:] + ("" if words.endswith(".") else ".")


def _mistake_lines(tags: tuple[str, ...], given: str) -> list[str]:
    if not tags:
        return [f"I do not recognise the mistake behind {given}: compare your steps with the derivation below."]
    return [_sentence(CATALOGUE[tag].words) for tag in tags if tag in CATALOGUE]


def _derivation(command: str, options: Mapping[str, Any], detail: str = "steps") -> Answer:
    """The calculator's own answer to the problem, with its steps (or its figure)."""
    if command == "whatif":  # a scenario has no steps: its before → after is the working
        return whatif_answer(Request(command, dict(options)))
    calculator = {"nernst": nernst_answer, "restpot": restpot}[command]
    return calculator(Request(command, {**options, "detail": detail}))


def _graded(
    view: QuizView | None,
    verdict: VerdictView,
    lines: list[str],
    derivation: Answer | None,
    *,
    command: str,
    title: str,
    headline: str,
    topic: str,
    figures: tuple[Figure, ...] = (),
) -> Answer:
    """A graded reply; figures only on /check detail:plot (a grading press draws nothing)."""
    if derivation is not None and not derivation.steps:  # /whatif: the before → after is the working
        lines = [*lines, f"The calculation: {derivation.headline}."]
    return Answer(
        command=command,
        title=title,
        headline=headline,
        lines=tuple(lines),
        fields=(AnswerField("Read", f"/explain topic:{topic}"),),
        steps=derivation.steps if derivation is not None else (),
        footer=derivation.footer if derivation is not None else "",
        result=derivation.result if derivation is not None else None,
        topic=topic,
        quiz=view,
        verdict=verdict,
        figures=figures,
    )


def _choice(view: QuizView, letter: str) -> ChoiceView:
    wanted = letter.strip().upper()
    found = next((choice for choice in view.choices if choice.letter == wanted), None)
    if found is None:
        raise InputError(f"Choose one of {', '.join(choice.letter for choice in view.choices)}.", option="answer")
    return found


def choice_answer(view: QuizView, letter: str, knowledge: KnowledgeBase | None) -> Answer:
    """A chosen letter graded: right or wrong, the mistake it stands for (or, for a concept
    question, the why of the option chosen and of the right one), the derivation, what to read."""
    from bot.tutoring import concepts  # the knowledge base's parser: only when a question is asked

    chosen = _choice(view, letter)
    right = next(choice for choice in view.choices if choice.correct)
    verdict = "right" if chosen.correct else "wrong"
    if view.problem is None:
        found = concepts.lookup(knowledge, view.card) if knowledge is not None else None
        why = found.question.why if found is not None else ()
        shown_letters = (chosen,) if chosen.correct else (chosen, right)
        lines = [f"{choice.letter}: {why[LETTERS.index(choice.letter)]}" for choice in shown_letters] if why else []
        derivation = None
    else:
        lines = [] if chosen.correct else _mistake_lines(chosen.mistakes, chosen.text)
        derivation = _derivation(view.problem["command"], view.problem["options"])
    headline = (
        f"Right: {chosen.letter}, {chosen.text}"
        if chosen.correct
        else f"Not quite: you chose {chosen.letter}, {chosen.text}; the answer is {right.letter}, {right.text}"
    )
    return _graded(
        view,
        VerdictView(verdict, chosen.mistakes, right.value_mv, chosen.value_mv),
        lines,
        derivation,
        command="quiz",
        title=_title(knowledge, view.topic, "Right" if chosen.correct else "Not quite"),
        headline=headline,
        topic=view.topic,
    )


def _check_lines(result: grading.CheckResult) -> list[str]:
    lines = [result.note] if result.note else []
    if result.verdict != "right":
        lines += _mistake_lines(tuple(result.mistakes), millivolts(result.given_mv))
    return lines


def _check_headline(result: grading.CheckResult, keyed: str) -> str:
    given = millivolts(result.given_mv)
    if result.verdict == "right":
        return f"Right: {keyed} (you gave {given})"
    return f"Not quite: you gave {given}; {keyed}"


def typed_answer(view: QuizView, text: str, knowledge: KnowledgeBase | None) -> Answer:
    """A typed number graded exactly as /check grades it, on the question's own inputs."""
    if view.problem is None:
        letters = ", ".join(choice.letter for choice in view.choices)
        raise InputError(f"This question has no number to type: choose one of {letters}.", option="answer")
    problem = problems.generate(view.card, view.seed)
    result = grading.grade_answer(problem, _typed(text))
    derivation = _derivation(problem.command, problem.options)
    return _graded(
        view,
        VerdictView(result.verdict, tuple(result.mistakes), result.expected_mv, result.given_mv),
        _check_lines(result),
        derivation,
        command="quiz",
        title=_title(knowledge, view.topic, "Right" if result.verdict == "right" else "Not quite"),
        headline=_check_headline(result, derivation.headline),
        topic=view.topic,
    )


def _typed(text: str) -> str:
    """A typed answer, not empty and not an essay, before the engine reads it."""
    cleaned = " ".join(str(text).split())
    if not cleaned:
        raise InputError("Your answer is empty: type a number with its unit, e.g. −89.1 mV.", option="answer")
    if len(cleaned) > ANSWER_LIMIT:
        raise InputError(
            f"Your answer is {len(cleaned):,} characters long; type just the number and its unit, e.g. −89.1 mV.",
            option="answer",
        )
    return cleaned


def reply_answer(view: QuizView, reply: str, knowledge: KnowledgeBase | None) -> Answer:
    """The console's next line after a question: a letter (``b``) or a typed number."""
    text = reply.strip()
    if len(text) == 1 and text.isalpha():  # a letter, offered or not
        return choice_answer(view, text, knowledge)
    return typed_answer(view, text, knowledge)


def check_answer(request: Request) -> Answer:
    """/check nernst|restpot …: the student's own number graded on the calculator's inputs."""
    command = CHECKED[request.command]
    options = {
        name: value
        for name, value in request.options.items()
        if name not in ("answer", *_DELIVERY) and value is not None
    }
    result = grading.check(command, options, _typed(str(request.options.get("answer", ""))))
    derivation = _derivation(command, options)
    plot = request.options.get("detail") == "plot"
    topic = READ_FOR[command]
    verdict = VerdictView(result.verdict, tuple(result.mistakes), result.expected_mv, result.given_mv)
    return _graded(
        None,
        verdict,
        _check_lines(result),
        derivation,
        command=request.command,
        title=f"Check · {derivation.title}",
        headline=_check_headline(result, derivation.headline),
        topic=topic,
        figures=_derivation(command, options, "plot").figures if plot else (),
    )


def attempt_of(
    graded: Answer, given: str, *, attempt_id: str, at: datetime, user: str, guild: str | None = None
) -> Attempt:
    """The attempt a graded reply to a question records (part C's storage rates it with FSRS):
    the card, its topic, the problem's request, the letter or text given, right or wrong, and
    the mistakes named. ValueError for an answer that graded no question (/check, an error)."""
    from bot.tutoring.scheduling import Attempt

    view, verdict = graded.quiz, graded.verdict
    if view is None or verdict is None:
        raise ValueError("only a graded reply to a /quiz question is an attempt")
    return Attempt(
        id=attempt_id,
        at=at,
        user=user,
        guild=guild,
        card=view.card,
        topic=view.topic,
        kind="concept" if view.problem is None else "numeric",
        problem=view.problem,
        given=" ".join(given.split())[:ANSWER_LIMIT],
        correct=verdict.verdict == "right",
        mistakes=verdict.mistakes,
    )
