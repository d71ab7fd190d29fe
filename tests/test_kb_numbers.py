"""Every potential a topic states agrees with the calculator for the cell it names (issue 10).

Each ``{{…}}`` template in every shipped topic is recomputed here from the preset's cited numbers
with this file's own Nernst and GHK formulas (math.log, CODATA constants, not the engine), and the
rendered topic must contain that value. Every other "N mV" must cite one of the topic's sources
(kb check's rule, tested on crafted text below), and every computed number's cell must be named.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re

import frontmatter
import pytest
from helpers import F, R, nernst_mv

from bot.answers import Services
from bot.commands import parse_invocation
from bot.kb_check import cell_problems, claim_texts, number_problems, review_problems
from bot.knowledge import TEMPLATE, Topic, knowledge_dir
from bot.physiology import DEFAULT_PRESET, IONS, PRESETS, what_if

TOPIC_FILES = sorted(knowledge_dir().glob("*.md"))
_PREFIX = {"K": "k", "Na": "na", "Cl": "cl"}


def _mv(value: float) -> str:
    text = f"{value:+.1f}"
    return "0.0 mV" if text in ("+0.0", "-0.0") else text.replace("-", "−") + " mV"


def _about(value: float) -> str:
    return "about " + f"{5 * round(value / 5):+d} mV".replace("-", "−").replace("+0 ", "0 ")


def _cell_for_nernst(ion: str, preset: str | None) -> str:
    """The design's fallback: the default cell, or the first mammalian preset listing the ion."""
    if preset:
        return preset
    if ion in PRESETS[DEFAULT_PRESET].concentrations:
        return DEFAULT_PRESET
    return next(key for key, p in PRESETS.items() if p.mammalian and ion in p.concentrations)


def _nernst(options: dict) -> float:
    ion = str(options["ion"])
    cell = PRESETS[_cell_for_nernst(ion, options.get("preset"))]
    values = cell.concentrations.get(ion)
    inside = options.get("inside", values.inside if values else None)
    outside = options.get("outside", values.outside if values else None)
    return nernst_mv(IONS[ion].valence, inside, outside, options.get("temperature", cell.temperature_c))


def _ghk(options: dict) -> float:
    """GHK by hand: V = RT/F ln(Σ P·[cation]o + P_Cl[Cl]i / Σ P·[cation]i + P_Cl[Cl]o)."""
    cell = PRESETS[str(options.get("preset") or DEFAULT_PRESET)]
    celsius = options.get("temperature", cell.temperature_c)
    top = bottom = 0.0
    for ion, prefix in _PREFIX.items():
        permeability = options.get(f"p_{prefix}", cell.permeabilities.get(ion, 0.0))
        values = cell.concentrations.get(ion)
        if not permeability:
            continue
        inside = options.get(f"{prefix}_in", values.inside if values else None)
        outside = options.get(f"{prefix}_out", values.outside if values else None)
        top += permeability * (inside if ion == "Cl" else outside)
        bottom += permeability * (outside if ion == "Cl" else inside)
    return 1000.0 * R * (273.15 + celsius) / F * math.log(top / bottom)


def expected_text(template: str) -> str:
    """What a template must read as, computed without the engine (what-ifs excepted: their
    before/after numbers are checked against hand-computed GHK in tests/test_answers.py)."""
    word, _, rest = template.partition(" ")
    if word == "cell":
        preset = PRESETS[str(parse_invocation("/restpot " + rest).options.get("preset") or DEFAULT_PRESET)]
        return preset.name
    if word == "slope":
        celsius = parse_invocation("/nernst ion:K " + rest).options.get("temperature", 37.0)
        return f"{1000.0 * R * (273.15 + celsius) / F * math.log(10):.2f} mV"
    about = word == "about"
    change = word == "change"
    request = parse_invocation("/" + (rest if about or change else template))
    options = dict(request.options)
    if request.command == "whatif":
        result = what_if(str(options["scenario"]), preset=options.get("preset"))
        if change:
            return _mv(result.after_mv - result.before_mv)
        return f"{_mv(result.before_mv)} → {_mv(result.after_mv)}"
    value = _nernst(options) if request.command == "nernst" else _ghk(options)
    return _about(value) if about else _mv(value)


@pytest.fixture(scope="module")
def topics() -> dict[str, Topic]:
    return {topic.slug: topic for topic in Services.load().knowledge}


def _rendered(topic: Topic) -> str:
    return " ".join((topic.summary, topic.body, topic.clinical or ""))


@pytest.mark.parametrize("path", TOPIC_FILES, ids=lambda path: path.stem)
def test_every_computed_potential_agrees_with_a_hand_computation_for_its_cell(path, topics: dict[str, Topic]) -> None:
    post = frontmatter.load(path)
    texts = claim_texts(post.metadata, post.content)
    rendered = _rendered(topics[path.stem])
    for text in texts.values():
        for template in TEMPLATE.findall(text):
            expected = expected_text(" ".join(template.split()))
            assert expected in rendered, (path.name, template, expected)


@pytest.mark.parametrize("path", TOPIC_FILES, ids=lambda path: path.stem)
def test_every_other_potential_is_cited_and_every_computed_one_names_its_cell(path, topics: dict[str, Topic]) -> None:
    post = frontmatter.load(path)
    texts = claim_texts(post.metadata, post.content)
    topic = topics[path.stem]
    assert list(number_problems(texts, len(topic.sources))) == []
    assert list(cell_problems(texts, topic)) == []


def test_the_seeds_entry_says_what_the_calculator_says(topics: dict[str, Topic]) -> None:
    """The seed: K⁺ alone would settle at about −90 mV; the small Na⁺ leak gives about −70 mV.
    The default cell (Sherwood 9th ed., Table 3-3) must agree: E_K −88…−95, V_m −68…−72 mV."""
    e_k = nernst_mv(1, 150.0, 5.0, 37.0)
    v_m = _ghk({})
    assert -95.0 <= e_k <= -88.0 and -72.0 <= v_m <= -68.0
    assert _about(e_k) == "about −90 mV" and _about(v_m) == "about −70 mV"
    seed = _rendered(topics["leak-channels"])
    assert "about −90 mV" in seed and "about −70 mV" in seed
    raw = (knowledge_dir() / "leak-channels.md").read_text(encoding="utf-8")
    assert not re.search(r"(?<!\{\{)about −[79]0 mV", raw), "the seed's numbers come from the engine"
    assert "typical mammalian neuron" in seed


# --- the rules themselves, on crafted text ---------------------------------------------------


def test_a_bare_potential_is_reported_and_a_cited_one_is_not() -> None:
    bare = {"body": "The threshold is about −55 mV in most neurons."}
    assert [p for p in number_problems(bare, 2) if "−55 mV" in p]
    assert list(number_problems({"body": "The threshold is about −55 mV [2]."}, 2)) == []
    assert list(number_problems({"body": "E_K is {{nernst ion:K}} here."}, 1)) == []
    assert list(number_problems({"body": "It crosses 0 mV."}, 1)) == []


def test_a_citation_must_name_a_listed_source() -> None:
    problems = list(number_problems({"summary": "Peaks near +30 mV [3]."}, 2))
    assert problems and "[3]" in problems[0]


def test_a_computed_number_whose_cell_is_never_named_is_reported(topics: dict[str, Topic]) -> None:
    topic = topics["nernst-equation"]
    anonymous = dataclasses.replace(topic, summary="s", body="b", clinical=None)
    problems = list(cell_problems({"body": "E_K is {{nernst ion:K preset:squid-giant-axon}}."}, anonymous))
    assert problems and "squid giant axon" in problems[0]
    assert list(cell_problems({"body": "E is {{nernst ion:K inside:140 outside:5}}."}, anonymous)) == []
    wrapped = dataclasses.replace(topic, summary="s", body="In the squid giant\naxon, E_K is …", clinical=None)
    assert list(cell_problems({"body": "{{nernst ion:K preset:squid-giant-axon}}"}, wrapped)) == []


@pytest.mark.parametrize(
    ("reviewed", "problem"),
    [
        (None, "missing"),
        ({"date": "yesterday", "checked": "every potential against the engine"}, "not a date"),
        ({"date": dt.date(2999, 1, 1), "checked": "every potential against the engine"}, "future"),
        ({"date": dt.date(2026, 12, 4), "checked": "ok"}, "what was checked"),
    ],
)
def test_a_missing_or_empty_review_is_reported(reviewed: object, problem: str) -> None:
    metadata = {} if reviewed is None else {"reviewed": reviewed}
    problems = list(review_problems(metadata, today=dt.date(2026, 12, 4)))
    assert problems and problem in problems[0]


def test_a_complete_review_passes() -> None:
    reviewed = {"date": dt.date(2026, 12, 4), "checked": "every potential computed or cited, cell named"}
    assert list(review_problems({"reviewed": reviewed}, today=dt.date(2026, 12, 4))) == []
