"""``membrane-tutor kb check`` and ``kb import``: keep the knowledge base honest.

``check`` loads every topic exactly as the bot does (templates computed by the engine)
and reports every problem as ``file: `field` problem``, not just the first: front
matter, summary length, phrasings, related slugs, sources (an ISBN-13 with a valid check
digit or a DOI, for at least one), the ``try`` command, the rendered answer fitting
one Discord message, and the concept questions (``quiz:``). ``import`` turns a document in the seed's
format into a topic file and says what it still needs before ``check`` accepts it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import frontmatter
import yaml

from bot.answers import Services, answer, engine_value, template_cell, topic_answer
from bot.commands import parse_invocation
from bot.knowledge import (
    SUMMARY_LIMIT,
    TEMPLATE,
    ConceptQuestion,
    KnowledgeError,
    Topic,
    knowledge_dir,
    parse_topic,
    seed_answer_body,
)
from bot.physiology import PRESETS, InputError
from bot.render import limits
from bot.render.discord import render_messages
from bot.retrieval import VOCABULARY_FILE

LEVELS: Final = ("introductory", "intermediate", "advanced")
MIN_QUESTIONS: Final = 3
ISBN: Final = re.compile(r"ISBN(?:-13)?:?\s*([0-9][0-9-]{11,16}[0-9X])", re.IGNORECASE)
DOI: Final = re.compile(r"\b(10\.\d{4,9}/[-._;()/:A-Za-z0-9]+[A-Za-z0-9)])")
"""Crossref's recommended pattern for modern DOIs."""
MILLIVOLTS: Final = re.compile(r"(?<![\w.])(?!0\s?mV)[−+-]?\d+(?:\.\d+)?\s?mV\b")
"""A stated potential; a bare "0 mV" is the reference point, not a claim."""
CITATION: Final = re.compile(r"\[(\d+)\]")
"""A cited fact: ``[2]`` after it names the topic's second source."""
SENTENCE: Final = re.compile(r"(?<=[.!?;:])\s+|\n\s*\n|\n\s*(?:\d+\.|[-*])\s")
CLAIM_FIELDS: Final = ("summary", "clinical")
MIN_REVIEW_NOTE: Final = 20
MIN_CONCEPT_QUESTIONS: Final = 2
"""Every topic is practised: at least two concept questions each (issue 11)."""
OPTIONS_RANGE: Final = (2, limits.BUTTONS_PER_ROW)
"""2–5 options: one button per option, A–E, in one row."""
QUESTION_LIMIT: Final = limits.EMBED_TITLE
"""A question is shown as an embed title (or the start of a description)."""
OPTION_LIMIT: Final = limits.BUTTON_LABEL - len("A · ")
"""An option is a button label; the room left is for the letter the button may show before it."""
WHY_LIMIT: Final = 300
"""A *why* is one line under the verdict, read on a phone: as short as a summary."""


def isbn13_valid(isbn: str) -> bool:
    digits = [int(c) for c in isbn if c.isdigit()]
    if len(digits) != 13 or digits[:3] not in ([9, 7, 8], [9, 7, 9]):
        return False
    return sum(d * (1 if i % 2 == 0 else 3) for i, d in enumerate(digits)) % 10 == 0


def source_problems(sources: tuple[str, ...]) -> list[str]:
    """Each ISBN must check out; at least one source must carry a valid ISBN or a DOI."""
    problems, checkable = [], 0
    for source in sources:
        for isbn in ISBN.findall(source):
            if isbn13_valid(isbn):
                checkable += 1
            else:
                problems.append(f"has an ISBN whose check digit is wrong: {isbn}")
        checkable += len(DOI.findall(source))
    if not checkable:
        problems.append("needs at least one checkable source: a textbook with its ISBN-13, or a paper with its DOI")
    return problems


def claim_texts(metadata: dict[str, Any], body: str) -> dict[str, str]:
    """The raw text of every field that states facts: summary, clinical note and body."""
    texts = {field: str(metadata[field]) for field in CLAIM_FIELDS if metadata.get(field)}
    texts["body"] = body
    return texts


def number_problems(texts: dict[str, str], source_count: int) -> Iterator[str]:
    """Every potential a topic states comes from the engine (a ``{{…}}`` template) or is a cited
    fact (``[n]`` in the same sentence, n one of its sources): a bare "−65 mV" is how the notes
    and the calculator came to disagree."""
    for field, text in texts.items():
        for sentence in SENTENCE.split(TEMPLATE.sub("(computed)", text)):
            cited = [int(number) for number in CITATION.findall(sentence)]
            for number in cited:
                if not 1 <= number <= source_count:
                    yield f"`{field}` cites [{number}], but `sources` lists {source_count}"
            if not cited:
                for stated in MILLIVOLTS.findall(sentence):
                    yield (
                        f"`{field}` states {stated} with neither a template nor a citation: write "
                        f"{{{{nernst …}}}}/{{{{restpot …}}}} (or {{{{about …}}}}), or cite it with [n] "
                        f"({' '.join(sentence.split())[:80]!r})"
                    )


def _unnamed_cells(texts: dict[str, str], rendered: str) -> Iterator[tuple[str, str, str]]:
    """(field, template, preset key) for each computed number whose cell ``rendered`` never names."""
    named = " ".join(rendered.split()).lower()
    for field, text in texts.items():
        for template in TEMPLATE.findall(text):
            try:
                key = template_cell(template)
            except (InputError, ValueError):
                continue  # the template itself is reported by parse_topic
            if key is not None and PRESETS[key].name.lower() not in named:
                yield field, template, key


def cell_problems(texts: dict[str, str], topic: Topic) -> Iterator[str]:
    """A computed number belongs to a cell, and the text must say which."""
    for field, template, key in _unnamed_cells(texts, " ".join((topic.summary, topic.body, topic.clinical or ""))):
        yield (
            f"`{field}` computes {{{{{template}}}}} for the {PRESETS[key].name} but never names that cell "
            f"(write {{{{cell preset:{key}}}}} or its name)"
        )


def _quiz_raw(metadata: dict[str, Any]) -> list[dict[str, Any]]:
    quiz = metadata.get("quiz")
    return [item for item in quiz if isinstance(item, dict)] if isinstance(quiz, list) else []


def quiz_claim_texts(item: dict[str, Any], index: int) -> dict[str, str]:
    """One raw ``quiz:`` entry's texts (templates unfilled), keyed by the field a curator edits."""
    field = f"quiz[{index}]"
    texts = {f"{field}.question": str(item.get("question", ""))}
    texts.update({f"{field}.options[{i}]": str(text) for i, text in enumerate(item.get("options") or ())})
    texts.update({f"{field}.why[{i}]": str(text) for i, text in enumerate(item.get("why") or ())})
    return texts


def _question_cell_problems(texts: dict[str, str], question: ConceptQuestion) -> Iterator[str]:
    """A question is read without the topic's body, so it must name its own cell."""
    for field, template, key in _unnamed_cells(texts, " ".join((question.question, *question.options, *question.why))):
        yield (
            f"`{field}` computes {{{{{template}}}}} for the {PRESETS[key].name}, but the question never "
            f"names that cell (write {{{{cell preset:{key}}}}} or its name in the question)"
        )


def _question_shape_problems(field: str, question: ConceptQuestion) -> Iterator[str]:
    """One answer, distinct options, one *why* each, every text within Discord's limits."""
    low, high = OPTIONS_RANGE
    if not low <= len(question.options) <= high:
        yield f"`{field}.options` has {len(question.options)}; give {low}–{high} (one button each)"
    folded = [" ".join(option.casefold().split()) for option in question.options]
    for i, option in enumerate(folded):
        if option in folded[:i]:
            yield f"`{field}.options[{i}]` repeats an earlier option: {question.options[i]!r}"
    if not 0 <= question.answer < len(question.options):
        yield f"`{field}.answer` is {question.answer}, not an index into its {len(question.options)} options"
    if len(question.why) != len(question.options):
        yield f"`{field}.why` has {len(question.why)} lines for {len(question.options)} options; give one each"
    if len(question.question) > QUESTION_LIMIT:
        yield f"`{field}.question` is {len(question.question)} characters; at most {QUESTION_LIMIT} fit a title"
    for i, option in enumerate(question.options):
        if len(option) > OPTION_LIMIT:
            yield f"`{field}.options[{i}]` is {len(option)} characters; at most {OPTION_LIMIT} fit a button"
    for i, line in enumerate(question.why):
        if len(line) > WHY_LIMIT:
            yield f"`{field}.why[{i}]` is {len(line)} characters; keep it to one line (≤ {WHY_LIMIT})"


def quiz_problems(topic: Topic, metadata: dict[str, Any]) -> Iterator[str]:
    """The concept questions a student is asked on this topic: enough of them, each with one
    right answer among distinct options that fit a button, a *why* for every option, and
    every stated potential computed or cited, as in the body."""
    if len(topic.quiz) < MIN_CONCEPT_QUESTIONS:
        yield f"`quiz` has {len(topic.quiz)} questions; write at least {MIN_CONCEPT_QUESTIONS}"
    seen: set[str] = set()
    for index, (item, question) in enumerate(zip(_quiz_raw(metadata), topic.quiz, strict=False)):
        field = f"quiz[{index}]"
        if question.question.casefold() in seen:
            yield f"`{field}.question` repeats an earlier question"
        seen.add(question.question.casefold())
        texts = quiz_claim_texts(item, index)
        yield from number_problems(texts, len(topic.sources))
        yield from _question_cell_problems(texts, question)
        yield from _question_shape_problems(field, question)


def review_problems(metadata: dict[str, Any], today: dt.date | None = None) -> Iterator[str]:
    """``reviewed:`` records when an instructor's review happened and what it checked."""
    reviewed = metadata.get("reviewed")
    if not isinstance(reviewed, dict):
        yield "`reviewed` is missing: give `date: YYYY-MM-DD` and `checked:` what the review checked"
        return
    date = reviewed.get("date")
    if not isinstance(date, dt.date):
        try:
            date = dt.date.fromisoformat(str(date))
        except ValueError:
            yield f"`reviewed.date` is not a date (YYYY-MM-DD): {date!r}"
            date = None
    if date is not None and date > (today or dt.date.today()):
        yield f"`reviewed.date` {date} is in the future"
    checked = reviewed.get("checked")
    if not isinstance(checked, str) or len(checked.strip()) < MIN_REVIEW_NOTE:
        yield f"`reviewed.checked` must say what was checked (at least {MIN_REVIEW_NOTE} characters)"


def _messages_problem(topic: Topic) -> str | None:
    messages = render_messages(topic_answer("explain", topic))
    if len(messages) > 1:
        return f"renders as {len(messages)} Discord messages; shorten the body so it fits one"
    embeds = messages[0].embeds
    if sum(len(embed) for embed in embeds) > limits.EMBEDS_TOTAL or len(embeds) > limits.EMBEDS_PER_MESSAGE:
        return "does not fit Discord's limits"
    return None


def topic_problems(
    topic: Topic, metadata: dict[str, Any], slugs: set[str], services: Services, body: str = ""
) -> Iterator[str]:
    """Everything wrong with one loaded topic, as "`field` problem" strings (``body`` is the
    raw Markdown below the front matter, templates unfilled)."""
    texts = claim_texts(metadata, body)
    yield from number_problems(texts, len(topic.sources))
    yield from cell_problems(texts, topic)
    yield from review_problems(metadata)
    yield from quiz_problems(topic, metadata)
    if len(topic.summary) > SUMMARY_LIMIT:
        yield f"`summary` is {len(topic.summary)} characters; at most {SUMMARY_LIMIT} show first on a phone"
    if len(topic.questions) < MIN_QUESTIONS:
        yield f"`questions` has {len(topic.questions)}; write at least {MIN_QUESTIONS} ways students ask it"
    if topic.level not in LEVELS:
        yield f"`level` is {topic.level!r}; use one of {', '.join(LEVELS)}"
    for slug in topic.related:
        if slug not in slugs:
            yield f"`related` names {slug!r}, which is not a topic"
    if topic.slug in topic.related:
        yield "`related` lists the topic itself"
    for problem in source_problems(topic.sources):
        yield f"`sources` {problem}"
    if topic.try_command:
        try:
            tried = answer(parse_invocation(topic.try_command), services)
        except InputError as error:
            yield f"`try` is not a command the bot understands: {error}"
        else:
            if tried.error:
                yield f"`try` gives an error: {tried.headline}"
    if not isinstance(metadata.get("questions"), list):
        yield "`questions` must be a list"
    problem = _messages_problem(topic)
    if problem:
        yield f"`body` {problem}"


def check(directory: Path | None = None) -> list[str]:
    """Every problem in the knowledge base, as ``file: `field` problem`` lines."""
    services = Services.load()
    paths = sorted((directory or knowledge_dir()).glob("*.md"))
    problems: list[str] = []
    loaded: list[tuple[Path, Topic, frontmatter.Post]] = []
    for path in paths:
        try:
            loaded.append((path, parse_topic(path, engine_value), frontmatter.load(path)))
        except KnowledgeError as error:
            problems.append(str(error))
        except yaml.YAMLError as error:
            problems.append(f"{path.name}: front matter is not valid YAML: {error}")
    slugs = {topic.slug for _, topic, _ in loaded}
    for path, topic, post in loaded:
        problems.extend(
            f"{path.name}: {problem}" for problem in topic_problems(topic, post.metadata, slugs, services, post.content)
        )
    problems.extend(f"{VOCABULARY_FILE}: {problem}" for problem in services.ask.vocabulary_problems)
    return problems


def _summary_from(body: str) -> str:
    """The first sentences of an answer that fit the summary limit, never cut mid-word."""
    text = " ".join(body.replace("**", "").split())
    sentences = re.split(r"(?<=[.!?])\s+", text)
    summary = ""
    for sentence in sentences:
        if len(summary) + len(sentence) + 1 > SUMMARY_LIMIT:
            break
        summary = f"{summary} {sentence}".strip()
    return summary or limits.shorten(text, SUMMARY_LIMIT)


def import_seed(source: Path, directory: Path, *, force: bool = False) -> tuple[Path, list[str]]:
    """Write a topic file from a seed-format document; returns its path and what it still needs."""
    post = frontmatter.load(source)
    data = post.metadata
    title = str(data.get("title") or data.get("question") or "").strip()
    if not title:
        raise KnowledgeError(source.name, "title", "is missing: the seed format needs a title or question")
    name = str(data.get("file_name") or "").removesuffix(".md") or title
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60].strip("-")
    body = post.content.strip().replace("&nbsp;", "").strip() or seed_answer_body(str(data.get("answer") or ""))
    seo = data.get("seo") if isinstance(data.get("seo"), dict) else {}
    question = " ".join(str(data.get("question") or title).split())
    topic = {
        "slug": slug,
        "title": title,
        "question": question,
        "questions": [question],
        "summary": _summary_from(body),
        "subject": data.get("subject", ""),
        "level": "introductory",
        "date": data.get("date"),
        "keywords": " ".join(str(data.get("keywords") or seo.get("page_keywords") or "").split()),
        "related": [],
        "sources": [],
    }
    target = directory / f"{slug}.md"
    if target.exists() and not force:
        raise KnowledgeError(target.name, "slug", "already exists; pass --force to overwrite it")
    target.write_text(frontmatter.dumps(frontmatter.Post(body, **topic), sort_keys=False) + "\n", encoding="utf-8")
    needs = [
        f"`questions`: add at least {MIN_QUESTIONS - 1} more ways students ask it",
        "`sources`: add a textbook with its ISBN-13 or a paper with its DOI",
        "`related`: list the slugs of related topics",
        "`summary`: check that the first sentences make a good summary",
    ]
    return target, needs
