"""Concept questions: the knowledge base's ``quiz:`` lists as practice cards.

Each question is one card for scheduling, ``concept:<topic slug>:<index>``: the index is the
question's place in its topic's list, so a card id (in a button's custom_id or a stored card
state) still finds its question after a restart. Picking is a pure function of the seed, so
the terminal's ``--seed`` and a test see the same question the bot would ask. No discord here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from bot.knowledge import ConceptQuestion, KnowledgeBase

PREFIX: Final = "concept"
CARD: Final = re.compile(r"concept:([a-z0-9]+(?:-[a-z0-9]+)*):(0|[1-9][0-9]{0,2})")
"""A concept card id; anything else (a forged or garbled custom_id) is not one."""


@dataclass(frozen=True, slots=True)
class ConceptCard:
    """A concept question together with what a handler needs to ask, grade and schedule it."""

    card: str
    topic: str
    index: int
    question: ConceptQuestion


def card_id(topic: str, index: int) -> str:
    """The scheduling card of a topic's ``index``-th concept question."""
    return f"{PREFIX}:{topic}:{index}"


def parse_card(card: str) -> tuple[str, int] | None:
    """(topic slug, index) of a concept card id, or None when ``card`` is not one."""
    match = CARD.fullmatch(card)
    return (match.group(1), int(match.group(2))) if match else None


def concept_questions(knowledge: KnowledgeBase) -> Mapping[str, tuple[str, ConceptQuestion]]:
    """Every concept question in the knowledge base: card id → (topic slug, question),
    topics in slug order and each topic's questions in its file's order."""
    cards = {
        card_id(topic.slug, index): (topic.slug, question)
        for topic in sorted(knowledge, key=lambda topic: topic.slug)
        for index, question in enumerate(topic.quiz)
    }
    return MappingProxyType(cards)


def lookup(knowledge: KnowledgeBase, card: str) -> ConceptCard | None:
    """The question behind a card id, or None when the id is garbled or the question is gone
    (a topic edited since the button was sent): the caller then offers a new question."""
    parsed = parse_card(card)
    if parsed is None:
        return None
    slug, index = parsed
    topic = knowledge.get(slug)
    if topic is None or topic.slug != slug or index >= len(topic.quiz):
        return None
    return ConceptCard(card, slug, index, topic.quiz[index])


def pick(knowledge: KnowledgeBase, topic: str | None, seed: int) -> ConceptCard | None:
    """The concept question a seed chooses, on one topic (its slug) or on any topic (None);
    None when there is no such question (an unknown topic, or one without a ``quiz:``)."""
    if topic is None:
        cards = [(card, slug) for card, (slug, _) in concept_questions(knowledge).items()]
    else:
        found = knowledge.get(topic)
        if found is None:
            return None
        cards = [(card_id(found.slug, index), found.slug) for index in range(len(found.quiz))]
    if not cards:
        return None
    card, _ = cards[seed % len(cards)]
    return lookup(knowledge, card)
