"""``/ask``: find the curated topic a free-text question is about, or say honestly that
it is not in the notes.

Ranking is BM25 (bm25s, sparse matrices, milliseconds for a corpus this size) over each
topic's title, questions, keywords, summary and body, after the same normalisation of
question and topic text: ion symbols and the usual abbreviations spelled out (K+ →
potassium, RMP → resting membrane potential), a lab value read as a nurse reads it, and
English stemming. A question's misspelled words are mapped to the nearest word the
notes use, and the words students use for an idea (``knowledge/vocabulary.yaml``:
"numbing shot", "heart attack", "Q10") bring in the notes' words for it.

Confidence is the probability that the best topic is the right answer, from the share
of the question's information it explains (its score over the most any topic could
score for those words; a word the notes never use counts as unexplained) and from how
much it explains (the score itself). A topic's own name is evidence too: a question that
is (most of) a title or a slug, such as "what is the resting potential", scores for that
topic the share of the name it asks for, weighed word by word by how rare each word is in
the notes, so "resting potential" is the resting membrane potential ("membrane" is in
every topic and says little) rather than the cardiac resting potential ("cardiac" is in
few and says much). The model and the threshold below which the bot
declines come from the calibration questions alone (``knowledge/ask-calibration.yaml``),
fitted when the index is built.
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
    even predict define compare contrast discuss example examples exam exams quiz help understand
    know think confused confusing pls plz please u ur wat wut smth sth tho bc cuz coz im ive dont doesnt isnt
    whats hey hi thanks thx ok okay guys lol idk tmrw""".split()  # noqa: SIM905 - a word list reads best as words
)
"""English function words, then the words of an exam prompt ("predict", "compare") and of a
chat ("pls", "tmrw", "idk"): they say how a question is asked, not what it is about."""


_LAB_VALUE: Final = re.compile(
    r"\b(?P<prefix>(?:ioni[sz]ed|free|serum|plasma|total)\s+)?(?P<ion>k|potassium|na|sodium|ca|calcium|ica)(?![a-z])"
    r"\s*(?:2\+|\+\+|²⁺|\+|⁺)?"
    r"(?P<words>(?:\s*(?:serum|levels?|values?|results?|readings?|labs?|of|is|at|was|came|comes|back|now|today|=|:)"
    r"(?![a-z]))*)"
    r"\s*(?P<value>\d+(?:\.\d+)?)(?![\d.]|\s*[+⁺])"  # a number, not the 2 of Ca2+
    r"(?P<unit>\s*(?:mmol/l|mg/dl))?"
)
"""An ion, the words a chart or a nurse puts between it and a number ("K+ came back at
6.7", "sodium level is 118"), then the number. Only those words: "K+ pump moves 3" is no lab value."""

CALCIUM_MG_DL_PER_MMOL_L: Final = 4.008
"""Ca²⁺ 40.08 g/mol: 1 mmol/L is 4.008 mg/dL, the unit US labs report."""


@dataclass(frozen=True, slots=True)
class _ReferenceRange:
    """A serum reference range in mmol/L, the plausible values a number must lie in to
    be read as this ion at all, and what a nurse calls a value below and above it."""

    low: float
    high: float
    plausible: tuple[float, float]
    below: str
    above: str


_REFERENCE_RANGES: Final = {
    # The ranges the notes give (hyperkalemia, hypokalemia, sodium-disorders and
    # calcium-disorders topics, and their sources).
    "potassium": _ReferenceRange(3.5, 5.0, (1, 10), "hypokalemia low potassium", "hyperkalemia high potassium"),
    "sodium": _ReferenceRange(135, 145, (90, 190), "hyponatremia low sodium", "hypernatremia high sodium"),
    "calcium": _ReferenceRange(2.2, 2.6, (0.3, 5), "hypocalcemia low calcium", "hypercalcemia high calcium"),
    "ionized calcium": _ReferenceRange(1.1, 1.3, (0.3, 3), "hypocalcemia low calcium", "hypercalcemia high calcium"),
}
_ION_NAMES: Final = {"k": "potassium", "na": "sodium", "ca": "calcium", "ica": "ionized calcium"}


def _lab_words(match: re.Match[str]) -> str:
    """A serum value read as a nurse reads it: K 6.9 is hyperkalemia, Na 118 hyponatremia,
    ionized Ca 0.9 hypocalcemia. Calcium above 5 is taken to be in mg/dL, and calcium is
    read only with a lab's words or units, since textbooks give [Ca²⁺]o as 1–2 mM."""
    value = float(match["value"])
    ion = _ION_NAMES.get(match["ion"], match["ion"])
    if ion == "calcium" and match["prefix"] and match["prefix"].startswith(("ioni", "free")):
        ion = "ionized calcium"
    lab_words = match["prefix"] or match["unit"] or re.search(r"serum|level|lab|result|reading|came", match["words"])
    if ion == "calcium" and not lab_words:
        return f"{match.group(0)} "  # "Ca 1.8 mM outside" is a textbook concentration, not a lab value
    if ion in ("calcium", "ionized calcium") and 5 < value <= 20:
        value /= CALCIUM_MG_DL_PER_MMOL_L
    reference = _REFERENCE_RANGES[ion]
    judged = ""
    if reference.plausible[0] <= value <= reference.plausible[1]:
        judged = reference.below if value < reference.low else reference.above if value > reference.high else ""
    return f"{match.group(0)} {judged} "


def normalise(text: str) -> list[str]:
    """Lower-case words with symbols and abbreviations spelled out, stop words dropped."""
    lowered = _LAB_VALUE.sub(_lab_words, text.lower().replace("’", "'"))
    for pattern, replacement in _COMPILED:
        lowered = pattern.sub(replacement, lowered)
    return [word for word in _WORD.findall(lowered) if word not in _STOPWORDS]


SHORTEST_CORRECTED: Final = 5
"""Shorter words are never corrected: too many real words lie one letter from each other."""


@functools.cache
def _english_words() -> frozenset[str]:
    """pyspellchecker's English dictionary, the words long enough to be corrected at all."""
    return frozenset(word for word in SpellChecker().word_frequency if len(word) >= SHORTEST_CORRECTED)


@dataclass(frozen=True, slots=True)
class Synonym:
    """Words students use for an idea (``say``), and the words the notes use for it (``means``).

    Curated beside the notes in ``knowledge/vocabulary.yaml``, because no ranking function
    knows that a "numbing shot" is a local anaesthetic or that a "heart attack" is
    ischaemia. A question keeps its own words; the notes' words are added to them.
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


_PARENTHESES: Final = re.compile(r"\([^()]*\)")


def topic_names(topic: Topic) -> set[str]:
    """What a topic is called: its title, the title's head before a colon, both without
    what stands in parentheses, and its slug's words ("Resting potential of ventricular
    myocytes (I_K1)" is also "cardiac resting potential")."""
    head = topic.title.partition(":")[0]
    return {
        topic.title,
        head,
        *(_PARENTHESES.sub(" ", text) for text in (topic.title, head)),
        topic.slug.replace("-", " "),
    }


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
    """Weighted BM25 over the knowledge base's fields, the student vocabulary, and the
    confidence model and threshold calibrated on the calibration questions."""

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
        vocabulary = vocabulary or []
        self._synonyms, self.vocabulary_problems = self._read_vocabulary(vocabulary)
        self._longest_phrase = max(map(len, self._synonyms), default=0)
        self._words |= {word for synonym in vocabulary for say in synonym.say for word in normalise(say)}
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
        topic_frequency = Counter(
            stem for text in texts for stem in set(self._stems(normalise(" ".join(text.values()))))
        )
        self._rarity = {stem: math.log(1 + (count - df + 0.5) / (df + 0.5)) for stem, df in topic_frequency.items()}
        self._names = [
            [
                (name, self._weight(name))
                for name in {frozenset(self._stems(normalise(text))) for text in topic_names(topic)}
                if name
            ]
            for topic in self.topics
        ]
        self._cache: dict[str, Ranking] = {}
        self.model, self.threshold = calibrate(self, calibration or [])

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
        added = [
            stem
            for start in range(len(stems))
            for length in range(1, self._longest_phrase + 1)
            for stem in self._synonyms.get(tuple(stems[start : start + length]), ())
        ]
        return stems + added

    def _correct(self, word: str) -> str:
        """A misspelled word, replaced by the closest one the notes use (potasium → potassium).

        A real English word is never "corrected": "weather" is not a typo of "whether",
        nor "glycolysis" of "glycosides", and a question about them is not one the notes
        can answer. Other forms of a word the notes use meet it through the stemmer.
        """
        if len(word) < SHORTEST_CORRECTED or word.isdigit() or word in _english_words():
            return word
        candidates = [w for w in self._by_initial.get(word[0], ()) if abs(len(w) - len(word)) <= 2]
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
        matches, share = self._match(question)
        if not matches:
            return Ranking((), 0.0, self.threshold)
        return Ranking(matches, self.model.confidence(share, matches[0].score), self.threshold)

    def _match(self, question: str) -> tuple[tuple[Match, ...], float]:
        """The five best topics, and the share of the question's information the best explains:
        its score over the most any topic could score for these words. A topic whose name
        the question asks for scores at least that share (:meth:`_name_share`) of the most."""
        stems = self._query(question)
        if not stems:
            return (), 0.0
        scores = np.zeros(len(self.topics))
        for field in self._fields:
            known = [stem for stem in stems if stem in field.idf]
            if known:
                scores += field.weight * np.asarray(field.bm25.get_scores(known), dtype=float)
        ceiling = self._ceiling(stems)
        asked = set(stems)
        weight = self._weight(asked)
        named = np.array([self._name_share(asked, weight, names) for names in self._names])
        scores = np.maximum(scores, named * ceiling)
        order = np.argsort(-scores, kind="stable")[:5]
        share = float(scores[order[0]] / ceiling)
        return tuple(Match(self.topics[i], float(scores[i])) for i in order), share

    def _weight(self, stems: set[str] | frozenset[str]) -> float:
        """The information in these words: each one's rarity across the topics (a word no
        topic uses is as rare as can be)."""
        return sum(self._rarity.get(stem, self._unknown_idf) for stem in stems)

    def _name_share(self, asked: set[str], weight: float, names: list[tuple[frozenset[str], float]]) -> float:
        """How nearly the question is one of the topic's names: the share of the name's
        information it asks for, times the share of its own information that is the name.
        1 for the name itself; "resting potential" is most of "resting membrane potential"
        and little of "cardiac resting potential"; the name amid a longer question counts
        only for the part of the question it is. ``weight`` is the question's information,
        each name comes with its own."""
        best = 0.0
        for name, name_weight in names:
            common = self._weight(asked & name)
            if common > 0:
                best = max(best, common * common / (name_weight * weight))
        return best

    def _ceiling(self, stems: list[str]) -> float:
        """The most a topic could score for these words: each word's best field, saturated."""
        best_weight = max(field.weight for field in self._fields)
        total = 0.0
        for stem in stems:
            seen = [field.weight * field.idf[stem] for field in self._fields if stem in field.idf]
            total += (max(seen) if seen else best_weight * self._unknown_idf) * (K1 + 1)
        return total


TINY: Final = 1e-6
RIDGE: Final = 1e-3
"""A touch of L2 penalty, so the fit stays finite even if the calibration set separates perfectly."""


@dataclass(frozen=True, slots=True)
class ConfidenceModel:
    """How likely the best topic is the right answer, from two things about the match: the
    share of the question it explains, and how much evidence that is (its score). A short
    question fully explained and a long one with some chatter left over can both be right;
    either measure alone misjudges one of them. Fitted on the calibration set by logistic
    regression; uncalibrated, the confidence is the share alone.
    """

    share_weight: float = 1.0
    score_weight: float = 0.0
    bias: float = 0.0
    logistic: bool = False

    def confidence(self, share: float, score: float) -> float:
        if not self.logistic:
            return share
        z = self.share_weight * math.log(max(share, TINY)) + self.score_weight * math.log(max(score, TINY)) + self.bias
        return 1 / (1 + math.exp(-min(max(z, -60.0), 60.0)))


def fit_confidence(features: np.ndarray, right: np.ndarray) -> ConfidenceModel:
    """Logistic regression of "answering would be right" on log share and log score, by
    Newton's method (three parameters, a few iterations)."""
    x = np.column_stack([np.log(np.maximum(features, TINY)), np.ones(len(features))])
    weights = np.zeros(3)
    for _ in range(100):
        p = 1 / (1 + np.exp(-np.clip(x @ weights, -60, 60)))
        gradient = x.T @ (p - right) + RIDGE * weights
        hessian = (x * (p * (1 - p))[:, None]).T @ x + RIDGE * np.eye(3)
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.abs(step).max() < 1e-10:
            break
    return ConfidenceModel(float(weights[0]), float(weights[1]), float(weights[2]), logistic=True)


NOISE: Final = 1
"""Calibration questions a threshold may get wrong beyond the best and still count as
best: the count is flat over a wide range, and its exact peak moves with any one question."""


def calibrate(index: AskIndex, calibration: list[tuple[str, str | None]]) -> tuple[ConfidenceModel, float]:
    """The confidence model and the threshold that gets the most calibration questions right.

    Right means: an on-topic question answered with its topic, or an off-topic one
    declined. The threshold is the middle of the range that gets within ``NOISE`` of the
    most right, so that it does not jump when one calibration question changes. Without
    calibration data nothing is declined but empty input.
    """
    if not calibration:
        return ConfidenceModel(), 1e-9
    features, rows = [], []
    for question, topic in calibration:
        matches, share = index._match(" ".join(question.split()).lower())
        correct = bool(matches) and topic is not None and matches[0].topic.slug == topic
        features.append((share, matches[0].score if matches else 0.0))
        rows.append((topic is None, correct))
    model = fit_confidence(np.array(features), np.array([float(correct) for _, correct in rows]))
    confidences = [model.confidence(share, score) for share, score in features]
    candidates = sorted({0.0, *confidences, 1.01})
    right = {}
    for low, high in itertools.pairwise(candidates):
        threshold = (low + high) / 2
        right[threshold] = sum(
            (off_topic and confidence < threshold) or (correct and confidence >= threshold)
            for confidence, (off_topic, correct) in zip(confidences, rows, strict=True)
        )
    near_best = [threshold for threshold, count in right.items() if count >= max(right.values()) - NOISE]
    return model, (min(near_best) + max(near_best)) / 2


def load_calibration(path: Path | None = None) -> list[tuple[str, str | None]]:
    """The calibration questions: the only data the threshold is computed from."""
    file = path or knowledge_dir() / CALIBRATION_FILE
    if not file.exists():
        return []
    entries = yaml.safe_load(file.read_text(encoding="utf-8")) or []
    return [(str(entry["question"]), entry.get("topic")) for entry in entries]
