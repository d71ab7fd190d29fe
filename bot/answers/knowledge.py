"""/explain and /ask from the curated notes, and the templates that fill the notes' numbers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from bot.answers.calculator import nernst_answer, restpot, whatif_answer
from bot.answers.model import Answer, AnswerField, line_fields, millivolts
from bot.commands import (
    COMMANDS,
    Request,
    check_text,
    parse_invocation,
    shown,
)
from bot.physiology import (
    DEFAULT_PRESET,
    PRESETS,
    InputError,
)
from bot.reading.numeric import NumericReading, command_line, read_numeric

if TYPE_CHECKING:
    from bot.answers import Services

    # Types only. The knowledge base (YAML front matter) and the /ask index (bm25s) are
    # imported by Services.load, and the derivations (sympy) by the calculator on
    # detail:steps, so a calculator answer in a fresh process loads none of them.
    from bot.knowledge import KnowledgeBase, Topic
    from bot.retrieval import Ranking


def _topic_fields(topic: Topic) -> tuple[AnswerField, ...]:
    fields = []
    if topic.clinical:
        fields.append(AnswerField("Clinical note", topic.clinical))
    if topic.related:
        fields.append(AnswerField("Related", ", ".join(topic.related)))
    if topic.try_command:
        fields.append(AnswerField("Try it", topic.try_command))
    fields.extend(line_fields("Sources", [f"[{n}] {source}" for n, source in enumerate(topic.sources, 1)]))
    return tuple(fields)


def topic_answer(
    command: str,
    topic: Topic,
    *,
    lead: tuple[str, ...] = (),
    after: tuple[AnswerField, ...] = (),
    footer: str = "",
    confidence: float | None = None,
) -> Answer:
    """A curated entry as an answer: summary first, then the key points, then the rest;
    ``after`` comes last, below the entry's own fields."""
    return Answer(
        command=command,
        title=topic.title,
        headline=topic.summary,
        lines=(*lead, *topic.paragraphs()),
        fields=(*_topic_fields(topic), *after),
        footer=footer,
        topic=topic.slug,
        confidence=confidence,
        answered=True if command == "ask" else None,
    )


def explain_answer(request: Request, knowledge: KnowledgeBase) -> Answer:
    wanted = str(request.options["topic"])
    topic = knowledge.get(wanted)
    if topic is None:
        near = ", ".join(t.slug for t in knowledge.suggest(wanted, limit=3)) or "none yet"
        raise InputError(f"No topic `{shown(wanted)}` in my notes. Nearest: {near}.", option="topic")
    return topic_answer("explain", topic)


ALSO_CLOSE: Final = "Also close"
PASSED_ON: Final = "Passed on to this server's instructors as a question the notes should cover."
NOT_PASSED_ON: Final = "Not passed on to an instructor: if the notes should cover it, tell yours."


NUMERIC_TOPICS: Final = {
    "nernst": "nernst-equation",
    "restpot": "ghk-equation",
    "hyperkalemia": "hyperkalemia",
    "hypokalemia": "hypokalemia",
    "hyponatremia": "sodium-disorders",
    "pump-block": "sodium-potassium-pump",
    "na-permeability-up": "relative-permeability",
    "resting-membrane-potential": "resting-membrane-potential",
}
"""The topic whose summary follows a computed answer: the idea behind the number."""


def _numeric_topic(request: Request) -> str:
    """Which idea a computed answer points to: the scenario's topic; for a resting potential, the
    clinical topic a serum value outside its range belongs to (K⁺ 3.5–5.0, Na⁺ 135–145 mmol/L, the
    ranges the notes give), the permeability topic when only permeabilities changed, the resting
    potential itself when nothing did; else the equation's."""
    options = request.options
    if request.command == "whatif":
        return str(options["scenario"])
    if request.command != "restpot":
        return request.command
    k_out, na_out = options.get("k_out"), options.get("na_out")
    if isinstance(k_out, float | int) and k_out > 5.0:
        return "hyperkalemia"
    if isinstance(k_out, float | int) and k_out < 3.5:
        return "hypokalemia"
    if isinstance(na_out, float | int) and not 135 <= na_out <= 145:
        return "hyponatremia"
    numbers = {name for name in options if name not in ("preset", "temperature")}
    if not numbers:
        return "resting-membrane-potential"
    if all(name.startswith("p_") for name in numbers):
        return "na-permeability-up"
    return "restpot"


def numeric_answer(reading: NumericReading, services: Services, ranking: Ranking | None = None) -> Answer:
    """A calculation read from free text: the number first, then the command that computes it (so
    the student learns the form), the assumptions, and the idea from the notes; or, declined, why
    not and which command to use. The calculators' own answers supply the numbers."""
    if reading.request is None:
        return Answer(
            command="ask",
            title="Not computed",
            headline=f"Not computed: {reading.declined}.".replace("..", "."),
            lines=(
                "I compute only what the engine computes, from the numbers you give: "
                "/nernst ion:K inside:140 outside:5 · /restpot k_out:7 · /whatif scenario:pump-block",
                *(f"Assumed: {line}" for line in reading.assumptions),
            ),
            answered=False,
        )
    calculated = {"nernst": nernst_answer, "restpot": restpot, "whatif": whatif_answer}[reading.request.command](
        reading.request
    )
    if ranking is not None and ranking.answered and ranking.best is not None:
        topic = ranking.best  # the notes' entry for the question as asked, as /ask would choose it
    else:
        topic = services.knowledge.get(NUMERIC_TOPICS.get(_numeric_topic(reading.request), ""))
    lines = [f"= {command_line(reading.request)}"]
    if reading.reused:
        lines.append("Reused from your last question: " + ", ".join(reading.reused))
    lines.extend(f"Assumed: {line}" for line in reading.assumptions)
    if topic is not None:
        lines.append(f"The idea: {topic.summary} (/explain topic:{topic.slug})")
    lines.extend(calculated.lines)
    return Answer(
        command="ask",
        title=calculated.title,
        headline=calculated.headline,
        lines=tuple(lines),
        fields=calculated.fields,
        footer=calculated.footer,
        result=calculated.result,
        topic=topic.slug if topic is not None else None,
        answered=True,
    )


def ask_answer(request: Request, services: Services) -> Answer:
    """A calculation asked in words, computed (:mod:`bot.reading.numeric`); otherwise the curated
    entry that answers the question, or an honest "not in my notes"."""
    spec = COMMANDS["ask"]
    question = check_text(spec.options[0], str(request.options["question"]))
    reading = read_numeric(question)
    ranking = services.ask.rank(question)
    if reading is not None and reading.request is not None:
        return numeric_answer(reading, services, ranking)
    lead = (f"Not computed: {reading.declined}.".replace("..", "."),) if reading is not None else ()
    if lead and ranking.answered and ranking.best is not None:
        # Not computed, but the notes answer the question: the reason first, then the entry.
        footer = f"From my notes: {ranking.best.title} (match {ranking.confidence:.0%})."
        return topic_answer("ask", ranking.best, lead=lead, footer=footer, confidence=ranking.confidence)
    if ranking.answered and ranking.best is not None:
        # Close runners-up come after the answer, not before it: a right answer that opens
        # with "Did you mean …?" reads as a miss.
        close = tuple(f"/explain topic:{t.slug} — {t.title}" for t in ranking.close_runners_up())
        after = (AnswerField(ALSO_CLOSE, "\n".join(close)),) if close else ()
        footer = f"From my notes: {ranking.best.title} (match {ranking.confidence:.0%})."
        return topic_answer("ask", ranking.best, after=after, footer=footer, confidence=ranking.confidence)
    nearest = ranking.nearest(3)
    recorded = services.unanswered.record(question, tuple(t.slug for t in nearest), ranking.confidence)
    # Instructors read unanswered questions in /stats show, per server: only a question
    # stored in the interaction log and asked in a server reaches them.
    passed_on = PASSED_ON if recorded and request.guild else NOT_PASSED_ON
    return Answer(
        command="ask",
        title="That is not in my notes",
        headline="I only answer from curated, sourced notes, and none of them covers that question.",
        lines=(*(f"Nearest: {t.title} (/explain topic:{t.slug})" for t in nearest), *lead, passed_on),
        confidence=ranking.confidence,
        answered=False,
    )


def _nearest_five(value: float) -> str:
    """A potential as a textbook rounds it: to the nearest 5 mV (−90.9 → "about −90 mV")."""
    return "about " + f"{5 * round(value / 5):+d} mV".replace("-", "−").replace("+0 ", "0 ")


def template_cell(template: str) -> str | None:
    """The preset a template's number depends on, or None when the template gives every
    number itself (``nernst ion:K inside:140 outside:5``) or names no cell."""
    words = template.split()
    if words and words[0] in ("about", "change"):
        words = words[1:]
    if not words:
        return None
    if words[0] in ("cell", "slope"):
        return None
    request = parse_invocation("/" + " ".join(words).removeprefix("/"))
    if request.command == "nernst" and {"inside", "outside"} <= set(request.options):
        return None
    if request.command == "nernst":
        return nernst_answer(request).result.preset  # type: ignore[union-attr]
    return str(request.options.get("preset") or DEFAULT_PRESET)


def engine_value(template: str) -> str:
    """What a knowledge-base template such as ``nernst ion:K`` stands for: the number a
    student gets from the same command, so the notes and the calculator always agree.

    ``about nernst ion:K`` rounds it as a textbook does ("about −90 mV"), ``change whatif …``
    is a scenario's change in V_m ("+12.3 mV"), ``cell preset:…`` names a cell and its source
    ("typical mammalian neuron (Sherwood 2016)"), ``slope temperature:20`` is the Nernst slope
    per tenfold gradient for z = +1. The text is parsed as a command, never evaluated.
    """
    word, _, rest = template.strip().partition(" ")
    if word == "cell":
        options = parse_invocation("/restpot " + rest).options
        preset = PRESETS[str(options.get("preset") or DEFAULT_PRESET)]
        author = preset.citation.split()[0].rstrip(",")
        return f"{preset.name} ({preset.citation.split()[-1] if author in preset.name else preset.citation})"
    if word == "slope":
        request = parse_invocation("/nernst ion:K " + rest)
        return f"{nernst_answer(request).result.slope_mv_per_decade:.2f} mV"  # type: ignore[union-attr]
    if word == "about":
        return _nearest_five(_potential(rest))
    if word == "change":
        request = parse_invocation("/" + rest.strip().removeprefix("/"))
        if request.command != "whatif":
            raise InputError("`change` goes with /whatif")
        return millivolts(whatif_answer(request).result.change_mv)  # type: ignore[union-attr]
    request = parse_invocation("/" + template.strip().removeprefix("/"))
    if request.command == "whatif":
        result = whatif_answer(request).result
        return f"{millivolts(result.before_mv)} → {millivolts(result.after_mv)}"  # type: ignore[union-attr]
    return millivolts(_potential(template))


def _potential(template: str) -> float:
    """The one potential a /nernst or /restpot template computes, in mV."""
    request = parse_invocation("/" + template.strip().removeprefix("/"))
    if request.command == "nernst":
        return nernst_answer(request).result.ion.equilibrium_mv  # type: ignore[union-attr]
    if request.command == "restpot":
        return restpot(request).result.vm_mv  # type: ignore[union-attr]
    raise InputError(f"/{request.command} computes no single potential; use /nernst or /restpot")
