"""The knowledge base: every topic valid and sourced, templates computed by the engine,
the seed's own format readable, and `kb check` / `kb import` as a curator uses them."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from helpers import run_cli

from bot.answers import Services, answer, engine_value
from bot.commands import parse_invocation
from bot.kb_check import check, import_seed, isbn13_valid, source_problems
from bot.knowledge import TEMPLATE, KnowledgeBase, KnowledgeError, knowledge_dir, parse_topic, seed_answer_body

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT.parent / "shared" / "seeds" / "000_6f8f4a3dc1204f1b.txt"


@pytest.fixture(scope="module")
def services() -> Services:
    return Services.load()


def test_kb_check_passes_on_at_least_30_topics(services: Services) -> None:
    assert check() == []
    assert len(services.knowledge) >= 30


def test_every_topic_has_a_checkable_source_and_three_phrasings(services: Services) -> None:
    for topic in services.knowledge:
        assert len(topic.questions) >= 3, topic.slug
        assert source_problems(topic.sources) == [], topic.slug
        assert len(topic.summary) <= 300, topic.slug


def test_the_design_list_of_topics_is_covered(services: Services) -> None:
    required = {
        "leak-channels", "resting-membrane-potential", "concentration-gradients", "electrochemical-gradient",
        "equilibrium-potential", "nernst-equation", "ghk-equation", "relative-permeability", "sodium-potassium-pump",
        "potassium-channels", "sodium-channels", "chloride", "calcium-gradients",
        "depolarization-hyperpolarization-repolarization", "graded-potentials", "action-potential", "threshold",
        "refractory-periods", "channel-gating", "conduction-and-myelination", "hyperkalemia", "hypokalemia",
        "sodium-disorders", "calcium-disorders", "cardiac-resting-potential", "local-anesthetics",
        "digoxin-and-ouabain", "membrane-capacitance", "ischemia-and-atp-loss", "temperature-effects",
        "sign-conventions",
    }  # fmt: skip
    assert required <= {topic.slug for topic in services.knowledge}


def test_template_numbers_are_the_calculators_numbers(services: Services) -> None:
    """Text and calculator cannot disagree: a template is replaced by the command's own answer."""
    raw = {path.stem: path.read_text(encoding="utf-8") for path in knowledge_dir().glob("*.md")}
    templates = {match.group(1) for text in raw.values() for match in TEMPLATE.finditer(text)}
    assert len(templates) >= 5
    for template in templates:
        word = template.partition(" ")[0]
        if word in ("cell", "slope", "about", "change"):
            continue  # the words beside a command: tests/test_kb_numbers.py recomputes them by hand
        value = engine_value(template)
        headline = answer(parse_invocation("/" + template)).headline
        for number in re.findall(r"[+−]?\d+\.\d mV", value):
            assert number in headline, (template, value, headline)
    assert engine_value("about nernst ion:K") == "about −90 mV"  # the seed's "about −90 mV"
    assert engine_value("change whatif scenario:hyperkalemia") == "+4.5 mV"
    for topic in services.knowledge:
        assert "{{" not in topic.body + topic.summary + (topic.clinical or ""), topic.slug
    assert engine_value("nernst ion:K inside:140 outside:5") == "−89.1 mV"
    assert engine_value("whatif scenario:hyperkalemia") == "−69.9 mV → −65.5 mV"


def test_a_template_that_does_not_compute_names_the_file_and_field(tmp_path: Path) -> None:
    topic = (knowledge_dir() / "nernst-equation.md").read_text(encoding="utf-8")
    (tmp_path / "nernst-equation.md").write_text(topic.replace("{{", "{{nernst ion:Xe ", 1), encoding="utf-8")
    with pytest.raises(KnowledgeError) as raised:
        parse_topic(tmp_path / "nernst-equation.md", engine_value)
    assert raised.value.file == "nernst-equation.md" and raised.value.field in ("body", "summary", "clinical")


def test_isbn_and_doi_checks() -> None:
    assert isbn13_valid("978-0-07-139011-8") and isbn13_valid("9780781778176")
    assert not isbn13_valid("978-0-07-139011-7") and not isbn13_valid("12345")
    assert source_problems(("Goldman DE. J Gen Physiol. 1943;27:37–60. doi:10.1085/jgp.27.1.37",)) == []
    assert source_problems(("Some website about cells",))
    assert any("check digit" in p for p in source_problems(("Book. ISBN 978-0-07-139011-7",)))


def test_the_seed_format_reads_literal_newlines_as_paragraphs() -> None:
    assert seed_answer_body("One.\\n\\nTwo.\\nThree.") == "One.\n\nTwo.\n\nThree."


@pytest.mark.skipif(not SEED.exists(), reason="the shared seed is beside the repository only in the workspace")
def test_kb_import_turns_the_seed_into_a_topic_that_says_what_it_needs(tmp_path: Path) -> None:
    target, needs = import_seed(SEED, tmp_path)
    topic = _front_matter(target)
    assert topic["title"].startswith("What role do leak channels play")
    assert "-70 mV" in topic["body"] and "\\n" not in topic["body"]
    assert "leak channels" in topic["keywords"]
    assert any("sources" in need for need in needs)
    with pytest.raises(KnowledgeError):
        import_seed(SEED, tmp_path)  # no silent overwrite


def _front_matter(path: Path) -> dict[str, str]:
    import frontmatter

    post = frontmatter.load(path)
    return {"title": post["title"], "body": post.content, "keywords": post["keywords"]}


def test_kb_check_cli_names_the_file_and_field_and_exits_1(tmp_path: Path) -> None:
    for path in knowledge_dir().glob("*.md"):
        shutil.copy(path, tmp_path / path.name)
    broken = tmp_path / "threshold.md"
    broken.write_text(broken.read_text(encoding="utf-8").replace("related:", "related:\n  - no-such-topic", 1))
    result = run_cli("kb", "check", str(tmp_path))
    assert result.returncode == 1
    assert "threshold.md: `related` names 'no-such-topic'" in result.stderr
    good = run_cli("kb", "check")
    assert good.returncode == 0 and "topics" in good.stdout


def test_explain_autocomplete_ranks_prefix_matches_first_and_caps_at_25(services: Services) -> None:
    knowledge: KnowledgeBase = services.knowledge
    assert [t.slug for t in knowledge.suggest("hyper")][:1] == ["hyperkalemia"]
    assert len(knowledge.suggest("")) == 25
    assert "nernst-equation" in [t.slug for t in knowledge.suggest("nernest")]  # fuzzy
    assert all(len(knowledge.suggest(text)) <= 25 for text in ("a", "potential", "zzzz"))


def test_autocomplete_matches_at_most_the_capped_query_once_per_topic_text(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13: suggest() runs on the event loop at every keystroke, so its work is bounded
    whatever the payload carries: the fuzzy matcher sees at most Discord's 100 characters of
    the query, and is called at most once per topic text (slug, title, phrasings) per call.
    Counted, not timed: difflib on a 6,000-character query stalled the loop for ~4 s."""
    import bot.knowledge as module

    knowledge: KnowledgeBase = services.knowledge
    real = getattr(module, "_similarity", None)
    seen: list[tuple[int, int]] = []

    def spy(query: str, text: str, **kwargs: object) -> float:
        seen.append((len(query), len(text)))
        return real(query, text, **kwargs) if real else 0.0

    monkeypatch.setattr(module, "_similarity", spy, raising=False)
    texts = sum(2 + len(topic.questions) for topic in knowledge)
    for length in (100, 6000):
        query = ("potassium gradient across the membrane " * 200)[:length]
        seen.clear()
        found = knowledge.suggest(query)
        assert seen, "the fuzzy matcher is not the bounded one"
        assert max(q for q, _ in seen) <= 100
        assert len(seen) <= texts
        assert len(found) <= 25
        assert [t.slug for t in found] == [t.slug for t in knowledge.suggest(query[:100])]


def test_explain_shows_summary_first_then_points_clinical_related_sources(services: Services) -> None:
    result = answer(parse_invocation("/explain topic:hyperkalemia"), services)
    topic = services.knowledge.get("hyperkalemia")
    assert topic is not None and result.headline == topic.summary
    names = [field.name for field in result.fields]
    assert names[0] == "Clinical note" and names[-1] == "Sources" and "Try it" in names
