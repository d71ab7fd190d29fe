"""``/ask``: find the curated topic a free-text question is about, or say honestly that
it is not in the notes.

Ranking is BM25 (bm25s, sparse matrices, milliseconds for a corpus this size) over each
topic's title, questions, keywords, summary and body, after the same normalisation of
question and topic text: ion symbols and the usual abbreviations spelled out (K+ →
potassium, RMP → resting membrane potential), English stemming, and a misspelled word
mapped to the nearest word the notes use, and the words students use for an idea
(``knowledge/vocabulary.yaml``: "numbing shot", "heart attack", "formula") joined by the
words the notes use for it. Confidence is the share of the question's
information the best topic explains: its BM25 score over the most any topic could score
for those words, where a word the notes never use counts as unexplained. The threshold
below which the bot declines comes from the calibration questions alone
(``knowledge/ask-calibration.yaml``), computed when the index is built.
"""

from __future__ import annotations

import difflib
import functools
import itertools
import logging
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import bm25s
import numpy as np
import Stemmer
import yaml
from spellchecker import SpellChecker

from bot.knowledge import KnowledgeBase, KnowledgeError, Topic, knowledge_dir

logging.getLogger("bm25s").setLevel(logging.WARNING)  # it announces every index build at DEBUG

K1: Final = 1.2
B: Final = 0.75
CLOSE_RUNNER_UP: Final = 0.8
"""A runner-up scoring at least this share of the best is offered as "did you mean"."""
CALIBRATION_FILE: Final = "ask-calibration.yaml"
VOCABULARY_FILE: Final = "vocabulary.yaml"
RANKING_CACHE_SIZE: Final = 4096

# Written out so that "K+", "Na⁺", "RMP" and "potassium" meet in the index.
_EXPANSIONS: Final = (
    (r"\bk\s*(?:\+|⁺)", " potassium "),
    (r"\bna\s*(?:\+|⁺)", " sodium "),
    (r"\bcl\s*(?:-|⁻|−)", " chloride "),
    (r"\bca\s*(?:2\+|\+\+|²⁺)", " calcium "),
    (r"\bmg\s*(?:2\+|\+\+|²⁺)", " magnesium "),
    (r"\bh\s*(?:\+|⁺)", " hydrogen proton "),
    (r"\brmp\b", " resting membrane potential "),
    (r"\baps?\b", " action potential "),
    (r"\bv_?m\b", " membrane potential "),
    (r"\be_?k\b", " potassium equilibrium potential "),
    (r"\be_?na\b", " sodium equilibrium potential "),
    (r"\be_?cl\b", " chloride equilibrium potential "),
    (r"\bghk\b", " goldman hodgkin katz "),
    (r"\batp-?ase\b", " atpase pump "),
    (r"\bnmj\b", " neuromuscular junction "),
    (r"\becg\b|\bekg\b", " ecg electrocardiogram "),
    (r"\bpot\b", " potassium "),
    (r"\bhyperkal[a-z]*", " hyperkalemia high potassium "),
    (r"\bhypokal[a-z]*", " hypokalemia low potassium "),
    (r"\bhyponat[a-z]*", " hyponatremia low sodium "),
    (r"\bhypernat[a-z]*", " hypernatremia high sodium "),
    (r"\bhypocal[a-z]*", " hypocalcemia low calcium "),
    (r"\bhypercal[a-z]*", " hypercalcemia high calcium "),
    (r"\bmv\b", " millivolt "),
)
_COMPILED: Final = tuple((re.compile(pattern), replacement) for pattern, replacement in _EXPANSIONS)
_WORD: Final = re.compile(r"[a-z0-9]+")
_STOPWORDS: Final = frozenset(
    """a about an and are as at be been being but by can could did do does doing during each for from had
    has have having how i if in into is it its just me might more most much must my no not of on once
    only or other our out over own please same should so some such than that the their them then there
    these they this those through to too under until up very was we were what when where which while who
    whom why will with would you your explain tell describe mean means meant happen happens happening
    get gets got really actually exactly thing things someone something anything like kind also still
    even""".split()  # noqa: SIM905 - a word list reads best as words
)


_LAB_VALUE: Final = re.compile(
    r"\b(?P<ion>k|potassium|na|sodium)(?![a-z])\s*(?:\+|⁺)?"
    r"(?:\s*(?:serum|levels?|values?|results?|readings?|labs?|of|is|at|was|came|comes|back|now|today|=|:)(?![a-z]))*"
    r"\s*(?P<value>\d+(?:\.\d+)?)"
)
"""An ion, the words a chart or a nurse puts between it and a number ("K+ came back at
6.7", "sodium level is 118"), then the number. Only those words: "K+ pump moves 3" is no lab value."""


def _lab_words(match: re.Match[str]) -> str:
    """A serum value read as a nurse reads it: K 6.9 is hyperkalemia, Na 118 hyponatremia.

    Reference ranges: K⁺ 3.5–5.0 mmol/L, Na⁺ 135–145 mmol/L (see the hyperkalemia,
    hypokalemia and sodium-disorders topics and their sources).
    """
    value = float(match["value"])
    if match["ion"] in ("k", "potassium") and 1 <= value <= 10:
        judged = "hyperkalemia high potassium" if value > 5.0 else "hypokalemia low potassium" if value < 3.5 else ""
    elif match["ion"] in ("na", "sodium") and 90 <= value <= 190:
        judged = "hyponatremia low sodium" if value < 135 else "hypernatremia high sodium" if value > 145 else ""
    else:
        judged = ""
    return f"{match.group(0)} {judged} "


def normalise(text: str) -> list[str]:
    """Lower-case words with symbols and abbreviations spelled out, stop words dropped."""
    lowered = _LAB_VALUE.sub(_lab_words, text.lower().replace("’", "'"))
    for pattern, replacement in _COMPILED:
        lowered = pattern.sub(replacement, lowered)
    return [word for word in _WORD.findall(lowered) if word not in _STOPWORDS]


@functools.cache
def _english_words() -> frozenset[str]:
    """English words (pyspellchecker's dictionary, from subtitles and Wikipedia)."""
    return frozenset(SpellChecker().word_frequency.keys())


def _same_word(word: str, other: str) -> bool:
    """Two forms of one word: they differ only in their last two letters or so."""
    shorter = min(len(word), len(other))
    shared = next((i for i, (a, b) in enumerate(zip(word, other, strict=False)) if a != b), shorter)
    return shared >= max(4, shorter - 2)


@dataclass(frozen=True, slots=True)
class Synonym:
    """Words students use for an idea (``say``), and the words the notes use for it (``means``).

    Curated beside the notes in ``knowledge/vocabulary.yaml``, because no ranking function
    knows that a "numbing shot" is a local anaesthetic or that a "formula" is the
    equation. A question keeps its own words; the notes' words are added to them.
    """

    say: tuple[str, ...]
    means: str


def load_vocabulary(path: Path | None = None) -> list[Synonym]:
    """The curated student vocabulary; a malformed entry is an error that names it, since a
    silently skipped entry would only show as /ask quietly misunderstanding a word."""
    file = path or knowledge_dir() / VOCABULARY_FILE
    if not file.exists():
        return []
    entries = yaml.safe_load(file.read_text(encoding="utf-8")) or []
    vocabulary = []
    for number, entry in enumerate(entries, start=1):
        say = entry.get("say") if isinstance(entry, dict) else None
        means = entry.get("means") if isinstance(entry, dict) else None
        if not isinstance(say, list) or not say or not isinstance(means, str) or not means.strip():
            problem = "needs `say` (a list of words) and `means` (the notes' words)"
            raise KnowledgeError(file.name, f"entry {number}", problem)
        vocabulary.append(Synonym(tuple(str(words) for words in say), means))
    return vocabulary


@dataclass(frozen=True, slots=True)
class Match:
    topic: Topic
    score: float


@dataclass(frozen=True, slots=True)
class Ranking:
    """The answer to "which topic is this?": best first, with the bot's confidence."""

    matches: tuple[Match, ...]
    confidence: float
    threshold: float

    @property
    def answered(self) -> bool:
        return bool(self.matches) and self.confidence >= self.threshold

    @property
    def best(self) -> Topic | None:
        return self.matches[0].topic if self.matches else None

    def close_runners_up(self) -> list[Topic]:
        if not self.matches or self.matches[0].score <= 0:
            return []
        top = self.matches[0].score
        return [m.topic for m in self.matches[1:3] if m.score >= CLOSE_RUNNER_UP * top]

    def nearest(self, count: int = 3) -> list[Topic]:
        return [m.topic for m in self.matches[:count]]


FIELDS: Final = (("asked", 3.0), ("keywords", 2.0), ("summary", 1.0), ("body", 0.5))
"""Where a topic's words come from, and how much a match there counts: how students ask
(title and questions) most, the prose least, since body text mentions neighbouring ideas."""


def _fields(topic: Topic) -> dict[str, str]:
    return {
        "asked": " ".join([topic.title, *topic.questions]),
        "keywords": " ".join(topic.keywords),
        "summary": topic.summary,
        "body": " ".join([topic.body, topic.clinical or ""]),
    }


@dataclass(slots=True)
class _FieldIndex:
    bm25: bm25s.BM25
    idf: dict[str, float]
    weight: float


class AskIndex:
    """Weighted BM25 over the knowledge base's fields, plus the calibrated threshold."""

    def __init__(
        self,
        knowledge: KnowledgeBase,
        calibration: list[tuple[str, str | None]] | None = None,
        vocabulary: list[Synonym] | None = None,
    ) -> None:
        self.topics = list(knowledge)
        self._stemmer = Stemmer.Stemmer("english")
        texts = [_fields(topic) for topic in self.topics]
        self._words = {word for text in texts for value in text.values() for word in normalise(value)}
        self._synonyms, self.vocabulary_problems = self._read_vocabulary(vocabulary or [])
        self._words |= {word for synonym in vocabulary or [] for say in synonym.say for word in normalise(say)}
        self._by_initial: dict[str, list[str]] = {}
        for word in sorted(self._words):
            self._by_initial.setdefault(word[0], []).append(word)
        count = len(self.topics)
        self._unknown_idf = math.log(1 + (count + 0.5) / 0.5)  # a word no topic uses
        self._fields: list[_FieldIndex] = []
        for name, weight in FIELDS:
            documents = [self._stems(normalise(text[name])) or [""] for text in texts]
            bm25 = bm25s.BM25(k1=K1, b=B)
            bm25.index(documents, show_progress=False)
            frequency = Counter(stem for document in documents for stem in set(document))
            idf = {stem: math.log(1 + (count - df + 0.5) / (df + 0.5)) for stem, df in frequency.items()}
            self._fields.append(_FieldIndex(bm25, idf, weight))
        self._cache: dict[str, Ranking] = {}
        self.threshold = 0.0  # until calibrated just below
        self.threshold = calibrate(self, calibration or [])

    def _stems(self, words: list[str]) -> list[str]:
        return self._stemmer.stemWords(words)

    def _read_vocabulary(self, vocabulary: list[Synonym]) -> tuple[dict[tuple[str, ...], list[str]], list[str]]:
        """Student phrases as stems, each with the notes' stems it adds; and what is wrong
        with the file (a ``means`` word the notes never use, a phrase listed twice)."""
        synonyms: dict[tuple[str, ...], list[str]] = {}
        problems = []
        for synonym in vocabulary:
            means = normalise(synonym.means)
            unknown = [word for word in means if word not in self._words]
            if unknown or not means:
                problems.append(f"`means` of {synonym.say[0]!r}: {', '.join(unknown) or 'no words'} not in the notes")
            for say in synonym.say:
                phrase = tuple(self._stems(normalise(say)))
                if not phrase or phrase in synonyms:
                    problems.append(f"`say` {say!r} is {'listed twice' if phrase else 'only stop words'}")
                synonyms[phrase] = self._stems(means)
        return synonyms, problems

    def _with_synonyms(self, stems: list[str]) -> list[str]:
        """The question's stems, then the notes' stems for every student phrase in it."""
        longest = max(map(len, self._synonyms), default=0)
        added = [
            stem
            for start in range(len(stems))
            for length in range(1, longest + 1)
            for stem in self._synonyms.get(tuple(stems[start : start + length]), ())
        ]
        return stems + added

    def _correct(self, word: str) -> str:
        """A misspelled word, replaced by the closest one the notes use (potasium → potassium).

        A real English word is only ever taken for another form of itself (twitchy →
        twitch): "weather" is not a typo of "whether", nor "glycolysis" of "glycosides",
        and a question about them is not one the notes can answer.
        """
        if len(word) < 5 or word.isdigit():
            return word
        candidates = [w for w in self._by_initial.get(word[0], ()) if abs(len(w) - len(word)) <= 2]
        if word in _english_words():
            candidates = [w for w in candidates if _same_word(word, w)]
        found = difflib.get_close_matches(word, candidates, n=1, cutoff=0.8)
        return found[0] if found else word

    def _query(self, question: str) -> list[str]:
        words = [word if word in self._words else self._correct(word) for word in normalise(question)]
        return list(dict.fromkeys(self._with_synonyms(self._stems(words))))

    def rank(self, question: str) -> Ranking:
        """Rankings are remembered: a class asks the same question many times."""
        key = " ".join(question.split()).lower()
        ranking = self._cache.get(key)
        if ranking is None:
            if len(self._cache) >= RANKING_CACHE_SIZE:
                self._cache.clear()
            ranking = self._cache[key] = self._rank_uncached(key)
        return ranking

    def _rank_uncached(self, question: str) -> Ranking:
        stems = self._query(question)
        if not stems:
            return Ranking((), 0.0, self.threshold)
        scores = np.zeros(len(self.topics))
        for field in self._fields:
            known = [stem for stem in stems if stem in field.idf]
            if known:
                scores += field.weight * np.asarray(field.bm25.get_scores(known), dtype=float)
        order = np.argsort(-scores)[:5]
        confidence = float(scores[order[0]] / self._ceiling(stems))
        matches = tuple(Match(self.topics[i], float(scores[i])) for i in order)
        return Ranking(matches, confidence, self.threshold)

    def _ceiling(self, stems: list[str]) -> float:
        """The most a topic could score for these words: each word's best field, saturated."""
        best_weight = max(field.weight for field in self._fields)
        total = 0.0
        for stem in stems:
            seen = [field.weight * field.idf[stem] for field in self._fields if stem in field.idf]
            total += (max(seen) if seen else best_weight * self._unknown_idf) * (K1 + 1)
        return total


def calibrate(index: AskIndex, calibration: list[tuple[str, str | None]]) -> float:
    """The confidence threshold that gets the most calibration questions right.

    Right means: an on-topic question answered with its topic, or an off-topic one
    declined. Ties go to the middle of the widest gap, so the threshold does not sit on
    one question's score. Without calibration data nothing is declined but empty input.
    """
    if not calibration:
        return 1e-9
    rows = []
    for question, topic in calibration:
        ranking = index._rank_uncached(" ".join(question.split()).lower())
        correct_topic = ranking.best is not None and topic is not None and ranking.best.slug == topic
        rows.append((ranking.confidence, topic is None, correct_topic))
    candidates = sorted({0.0, *(confidence for confidence, _, _ in rows), 1.01})
    best: tuple[int, float] = (-1, 0.0)
    best_threshold = 0.0
    for low, high in itertools.pairwise(candidates):
        threshold = (low + high) / 2
        right = sum(
            (off_topic and confidence < threshold) or (correct and confidence >= threshold)
            for confidence, off_topic, correct in rows
        )
        if (right, high - low) > best:
            best, best_threshold = (right, high - low), threshold
    return best_threshold


def load_calibration(path: Path | None = None) -> list[tuple[str, str | None]]:
    """The calibration questions: the only data the threshold is computed from."""
    file = path or knowledge_dir() / CALIBRATION_FILE
    if not file.exists():
        return []
    entries = yaml.safe_load(file.read_text(encoding="utf-8")) or []
    return [(str(entry["question"]), entry.get("topic")) for entry in entries]
