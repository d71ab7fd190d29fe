"""The curated knowledge base: one Markdown topic per file, YAML front matter.

The front matter is compatible with the seed document's format (title, question,
answer, subject) plus the project's own fields (slug, summary, questions, related,
sources, level, try). Files are read once, validated, and searched in memory: a topic
list of this size needs no index server.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import frontmatter

AUTOCOMPLETE_LIMIT = 25
"""Discord shows at most 25 autocomplete choices (design.md, Discord's limits)."""


class KnowledgeError(ValueError):
    """A topic file is malformed; the message names the file and the field."""


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
    try_command: str | None

    def paragraphs(self) -> list[str]:
        """The body's paragraphs, each joined into one line."""
        return [" ".join(block.split()) for block in self.body.split("\n\n") if block.strip()]


def _text_list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return tuple(str(item).strip() for item in value)


def _required(path: Path, data: Mapping[str, Any], field: str) -> str:
    value = data.get(field)
    if not isinstance(value, str) or not value.strip():
        raise KnowledgeError(f"{path.name}: `{field}` is missing or empty")
    return " ".join(value.split())


def parse_topic(path: Path) -> Topic:
    """Read and check one topic file."""
    post = frontmatter.load(path)
    data = post.metadata
    slug = _required(path, data, "slug")
    if slug != path.stem:
        raise KnowledgeError(f"{path.name}: `slug` is {slug!r} but the file is named {path.stem!r}")
    questions = _text_list(data.get("questions")) or _text_list([data.get("question")] if data.get("question") else [])
    return Topic(
        slug=slug,
        title=_required(path, data, "title"),
        summary=_required(path, data, "summary"),
        questions=questions,
        body=post.content.strip(),
        related=_text_list(data.get("related")),
        sources=_text_list(data.get("sources")) if isinstance(data.get("sources"), list) else (),
        keywords=_text_list(data.get("keywords")),
        level=str(data.get("level", "")),
        try_command=data.get("try"),
    )


def knowledge_dir() -> Path:
    """Where the topics are: inside the installed wheel, or the source tree's knowledge/."""
    package = Path(__file__).resolve().parent
    installed = package / "_knowledge"
    return installed if installed.is_dir() else package.parent / "knowledge"


class KnowledgeBase:
    """All topics, by slug, with the lookups the commands need."""

    def __init__(self, topics: Mapping[str, Topic]) -> None:
        self._topics = MappingProxyType(dict(topics))

    @classmethod
    def load(cls, directory: Path | None = None) -> KnowledgeBase:
        folder = directory or knowledge_dir()
        topics = [parse_topic(path) for path in sorted(folder.glob("*.md"))]
        return cls({topic.slug: topic for topic in topics})

    def __len__(self) -> int:
        return len(self._topics)

    def __iter__(self) -> Iterator[Topic]:
        return iter(self._topics.values())

    def get(self, slug: str) -> Topic | None:
        return self._topics.get("-".join(slug.lower().split()))

    def suggest(self, text: str, limit: int = AUTOCOMPLETE_LIMIT) -> list[Topic]:
        """Topics for an autocomplete box: prefix matches first, then fuzzy matches."""
        query = text.strip().lower()
        if not query:
            return sorted(self._topics.values(), key=lambda topic: topic.slug)[:limit]
        prefix = [t for t in self._topics.values() if t.slug.startswith(query) or t.title.lower().startswith(query)]
        scored = []
        for topic in self._topics.values():
            if topic in prefix:
                continue
            haystack = [topic.slug, topic.title.lower(), *(q.lower() for q in topic.questions)]
            score = max(difflib.SequenceMatcher(None, query, text).ratio() for text in haystack)
            contains = any(query in text for text in haystack)
            if contains or score >= 0.5:
                scored.append((contains, score, topic))
        scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
        return [*sorted(prefix, key=lambda t: t.slug), *(topic for _, _, topic in scored)][:limit]
