"""``membrane-tutor kb check`` and ``kb import``: keep the knowledge base honest.

``check`` loads every topic exactly as the bot does (templates computed by the engine)
and reports every problem as ``file: `field` problem``, not just the first: front
matter, summary length, phrasings, related slugs, sources (an ISBN-13 with a valid check
digit or a DOI, for at least one), the ``try`` command, and the rendered answer fitting
one Discord message. ``import`` turns a document in the seed's format into a topic file
and says what it still needs before ``check`` accepts it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import frontmatter
import yaml

from bot.answers import Services, answer, engine_value, topic_answer
from bot.commands import parse_invocation
from bot.knowledge import SUMMARY_LIMIT, KnowledgeError, Topic, knowledge_dir, parse_topic, seed_answer_body
from bot.physiology import InputError
from bot.render import limits
from bot.render.discord import render_messages
from bot.retrieval import VOCABULARY_FILE

LEVELS: Final = ("introductory", "intermediate", "advanced")
MIN_QUESTIONS: Final = 3
ISBN: Final = re.compile(r"ISBN(?:-13)?:?\s*([0-9][0-9-]{11,16}[0-9X])", re.IGNORECASE)
DOI: Final = re.compile(r"\b(10\.\d{4,9}/[-._;()/:A-Za-z0-9]+[A-Za-z0-9)])")
"""Crossref's recommended pattern for modern DOIs."""


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


def _messages_problem(topic: Topic) -> str | None:
    messages = render_messages(topic_answer("explain", topic))
    if len(messages) > 1:
        return f"renders as {len(messages)} Discord messages; shorten the body so it fits one"
    embeds = messages[0].embeds
    if sum(len(embed) for embed in embeds) > limits.EMBEDS_TOTAL or len(embeds) > limits.EMBEDS_PER_MESSAGE:
        return "does not fit Discord's limits"
    return None


def topic_problems(topic: Topic, metadata: dict[str, Any], slugs: set[str], services: Services) -> Iterator[str]:
    """Everything wrong with one loaded topic, as "`field` problem" strings."""
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
    loaded: list[tuple[Path, Topic, dict[str, Any]]] = []
    for path in paths:
        try:
            loaded.append((path, parse_topic(path, engine_value), frontmatter.load(path).metadata))
        except KnowledgeError as error:
            problems.append(str(error))
        except yaml.YAMLError as error:
            problems.append(f"{path.name}: front matter is not valid YAML: {error}")
    slugs = {topic.slug for _, topic, _ in loaded}
    for path, topic, metadata in loaded:
        problems.extend(f"{path.name}: {problem}" for problem in topic_problems(topic, metadata, slugs, services))
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
