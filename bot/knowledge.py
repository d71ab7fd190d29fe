"""The curated knowledge base: one Markdown topic per file, YAML front matter.

The front matter is the seed document's format (title, question, answer, subject, date,
seo.page_keywords) plus the project's own fields (slug, summary, questions, related,
sources, level, clinical, try). Files are read once at start-up and searched in memory.

Numbers the engine can compute are written as templates, ``{{nernst ion:K}}``, and
filled at load time by a function the caller passes in (the answer layer runs the same
command a student would), so a topic's text and the calculator cannot disagree. The
template text is parsed as a command, never evaluated.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import frontmatter
from rapidfuzz import fuzz

AUTOCOMPLETE_LIMIT: Final = 25
"""Discord shows at most 25 autocomplete choices (design.md, Discord's limits)."""
SUGGEST_QUERY_LIMIT: Final = 100
"""Discord's limit on an autocomplete value; ``suggest`` reads no further, whatever arrives."""
FUZZY_CUTOFF: Final = 50.0
"""The lowest similarity (0–100, RapidFuzz's normalised Indel ratio) shown as a fuzzy match."""
SUMMARY_LIMIT: Final = 300
TEMPLATE: Final = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")

Fill = Callable[[str], str]
"""Turns a template's command (``nernst ion:K``) into the text that replaces it."""


class KnowledgeError(ValueError):
    """A topic file is malformed; the message names the file and the field."""

    def __init__(self, file: str, field: str, problem: str) -> None:
        super().__init__(f"{file}: `{field}` {problem}")
        self.file, self.field, self.problem = file, field, problem


@dataclass(frozen=True, slots=True)
class ConceptQuestion:
    """One multiple-choice question on a topic's ideas; ``why[i]`` explains ``options[i]``
    (why it is right, or which misconception it reflects)."""

    question: str
    options: tuple[str, ...]
    answer: int
    why: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Topic:
    slug: str
    title: str
    summary: str
    questions: tuple[str, ...]
    body: str
    related: tuple[str, ...]
    sources: tuple[str, ...]
    keywords: tuple[str, ...]
    level: str
    subject: str
    clinical: str | None
    try_command: str | None
    date: dt.date | None = None
    quiz: tuple[ConceptQuestion, ...] = ()

    def paragraphs(self) -> list[str]:
        """The body's paragraphs (and list items), each joined into one line."""
        return [" ".join(block.split()) for block in self.body.split("\n\n") if block.strip()]


def _text_list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return tuple(" ".join(str(item).split()) for item in value if str(item).strip())


def _one_line(path: Path, data: Mapping[str, Any], field: str, *, required: bool = True) -> str | None:
    value = data.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise KnowledgeError(path.name, field, "is missing or empty")
    return " ".join(value.split())


def seed_answer_body(answer: str) -> str:
    """The seed's folded ``answer``: literal ``\\n`` sequences are its paragraph breaks."""
    return "\n\n".join(part.strip() for part in answer.replace("\\n", "\n").split("\n") if part.strip())


def fill_templates(text: str, fill: Fill | None, file: str, field: str) -> str:
    """Replace every ``{{command}}`` with what ``fill`` computes for it."""

    def replace(match: re.Match[str]) -> str:
        if fill is None:
            raise KnowledgeError(file, field, f"has a template {match.group(0)} but nothing to compute it")
        try:
            return fill(match.group(1))
        except ValueError as error:
            raise KnowledgeError(file, field, f"template {match.group(0)} does not compute: {error}") from error

    return TEMPLATE.sub(replace, text)


def _date(path: Path, value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise KnowledgeError(path.name, "date", f"is not a date (YYYY-MM-DD): {value!r}") from None


def _quiz_texts(file: str, field: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise KnowledgeError(file, field, "must be a list of non-empty texts")
    return tuple(" ".join(item.split()) for item in value)


def _concept_question(file: str, index: int, item: Any, fill: Fill | None) -> ConceptQuestion:
    """One ``quiz:`` entry, shape-checked and filled (counts and limits are ``kb check``'s)."""
    field = f"quiz[{index}]"
    if not isinstance(item, dict):
        raise KnowledgeError(file, field, "must be a mapping with question, options, answer and why")
    question = item.get("question")
    if not isinstance(question, str) or not question.strip():
        raise KnowledgeError(file, f"{field}.question", "is missing or empty")
    answer = item.get("answer")
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise KnowledgeError(file, f"{field}.answer", f"must be the right option's index (0, 1, …), not {answer!r}")
    options = _quiz_texts(file, f"{field}.options", item.get("options"))
    why = _quiz_texts(file, f"{field}.why", item.get("why"))

    def filled(text: str, part: str) -> str:
        return fill_templates(text, fill, file, f"{field}.{part}")

    return ConceptQuestion(
        question=filled(" ".join(question.split()), "question"),
        options=tuple(filled(option, f"options[{i}]") for i, option in enumerate(options)),
        answer=answer,
        why=tuple(filled(line, f"why[{i}]") for i, line in enumerate(why)),
    )


def parse_quiz(file: str, value: Any, fill: Fill | None = None) -> tuple[ConceptQuestion, ...]:
    """A topic's ``quiz:`` front matter (absent means none yet)."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise KnowledgeError(file, "quiz", "must be a list of questions")
    return tuple(_concept_question(file, index, item, fill) for index, item in enumerate(value))


def parse_topic(path: Path, fill: Fill | None = None) -> Topic:
    """Read, check and fill one topic file."""
    post = frontmatter.load(path)
    data = post.metadata
    slug = _one_line(path, data, "slug")
    if slug != path.stem:
        raise KnowledgeError(path.name, "slug", f"is {slug!r} but the file is named {path.stem!r}")
    body = post.content.strip() or seed_answer_body(str(data.get("answer") or ""))
    if not body:
        raise KnowledgeError(path.name, "body", "is empty (write the answer below the front matter)")
    seo = data.get("seo") if isinstance(data.get("seo"), dict) else {}
    questions = _text_list(data.get("questions")) or _text_list([data["question"]] if data.get("question") else [])
    sources = data.get("sources")
    if not isinstance(sources, list) or not sources:
        raise KnowledgeError(path.name, "sources", "must list at least one source")
    clinical = _one_line(path, data, "clinical", required=False)
    return Topic(
        slug=str(slug),
        title=str(_one_line(path, data, "title")),
        summary=fill_templates(str(_one_line(path, data, "summary")), fill, path.name, "summary"),
        questions=questions,
        body=fill_templates(body, fill, path.name, "body"),
        related=_text_list(data.get("related")),
        sources=_text_list(sources),
        keywords=_text_list(data.get("keywords") or seo.get("page_keywords")),
        level=str(data.get("level", "")),
        subject=str(data.get("subject", "")),
        clinical=fill_templates(clinical, fill, path.name, "clinical") if clinical else None,
        try_command=_one_line(path, data, "try", required=False),
        date=_date(path, data.get("date")),
        quiz=parse_quiz(path.name, data.get("quiz"), fill),
    )


def knowledge_dir() -> Path:
    """Where the topics are: inside the installed wheel, or the source tree's knowledge/."""
    package = Path(__file__).resolve().parent
    installed = package / "_knowledge"
    return installed if installed.is_dir() else package.parent / "knowledge"


def _normalise(text: str) -> str:
    return "-".join(text.lower().split())


_similarity = fuzz.ratio
"""RapidFuzz's C ratio, 0–100, bit-parallel: microseconds per text (difflib's is quadratic, and
in Python, so a long query stalled the event loop for seconds). A name tests can count."""


class KnowledgeBase:
    """All topics, by slug, with the lookups the commands need."""

    def __init__(self, topics: Mapping[str, Topic]) -> None:
        self._topics = MappingProxyType(dict(topics))
        self._haystacks = {
            topic: (topic.slug, topic.title.lower(), *(q.lower() for q in topic.questions))
            for topic in self._topics.values()
        }

    @classmethod
    def load(cls, directory: Path | None = None, fill: Fill | None = None) -> KnowledgeBase:
        folder = directory or knowledge_dir()
        topics = [parse_topic(path, fill) for path in sorted(folder.glob("*.md"))]
        return cls({topic.slug: topic for topic in topics})

    def __len__(self) -> int:
        return len(self._topics)

    def __iter__(self) -> Iterator[Topic]:
        return iter(self._topics.values())

    def get(self, slug: str) -> Topic | None:
        return self._topics.get(_normalise(slug))

    def suggest(self, text: str, limit: int = AUTOCOMPLETE_LIMIT) -> list[Topic]:
        """Topics for an autocomplete box: prefix matches first, then fuzzy matches.

        It runs on the event loop at every keystroke, so its cost is bounded: the query is
        cut to Discord's 100 characters, and each topic text is matched once, in C.
        """
        query = " ".join(text[:SUGGEST_QUERY_LIMIT].split()).lower()
        if not query:
            return sorted(self._topics.values(), key=lambda topic: topic.slug)[:limit]
        slug_query = _normalise(query)
        prefix = [
            t for t in self._topics.values() if t.slug.startswith(slug_query) or t.title.lower().startswith(query)
        ]
        scored = []
        for topic, haystack in self._haystacks.items():
            if topic in prefix:
                continue
            score = max(_similarity(query, text) for text in haystack)
            contains = any(query in text or slug_query in text for text in haystack)
            if contains or score >= FUZZY_CUTOFF:
                scored.append((contains, score, topic))
        scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
        return [*sorted(prefix, key=lambda t: t.slug), *(topic for _, _, topic in scored)][:limit]
