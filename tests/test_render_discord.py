"""Answer → Discord messages (bot/render/discord.py): every limit kept, no word lost or cut.

Each real answer the commands can give, and answers built to be too big for one embed or one
message, are rendered and measured against design.md's "Discord's limits", typed in again here
rather than read from bot/render/limits.py. "No word lost" is checked as a subsequence: the words of
the answer (title, headline, lines, fields, steps, footer), in order, must appear in the words of
the rendered messages; a word cut in two would be missing from them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import discord
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.answers import HANDLERS, Answer, AnswerField, Services, answer, error_answer
from bot.commands import COMMANDS, Request
from bot.physiology import PRESETS, InputError, scenarios
from bot.physiology.derivation import Step
from bot.render.discord import OutgoingMessage, render_messages

# design.md: Discord's limits.
CONTENT = 2000
EMBEDS = 10
TITLE = 256
DESCRIPTION = 4096
FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
EMBEDS_TOTAL = 6000
LEAD_BUDGET = 400  # bot/render/limits.py: what a phone shows before the first field

# Words the renderer itself adds: continuation titles, overflow and step labels, step numbers.
RENDERER_WORDS = re.compile(r"More|\(cont\.\)|Derivation|Source|Step|\d+\.?")


# --- the answers -----------------------------------------------------------------------------


def _choices(command: str, option: str) -> list[str]:
    spec_option = COMMANDS[command].option(option)
    assert spec_option is not None
    return [choice.value for choice in spec_option.choices]


def _real_requests() -> Iterator[Request]:
    for preset in PRESETS:
        for detail in _choices("restpot", "detail"):
            yield Request("restpot", {"preset": preset, "detail": detail})
            for ion in _choices("nernst", "ion"):
                yield Request("nernst", {"ion": ion, "preset": preset, "detail": detail})
            yield Request(
                "nernst",
                {"ion": "custom", "valence": -2, "inside": 0.5, "outside": 20.0, "preset": preset, "detail": detail},
            )
        for scenario in scenarios():
            yield Request("whatif", {"scenario": scenario, "preset": preset})
    yield Request("labs", {"k": 6.8, "na": 128.0})
    yield Request("labs", {"k": 2.4, "na": 118.0, "cl": 130.0, "ca": 14.5, "ca_unit": "mg/dL", "albumin": 1.5})
    yield Request("labs", {"ca": 1.1, "ca_unit": "ionized"})
    yield Request("help")
    for command in _choices("help", "command"):
        yield Request("help", {"command": command})
    for topic in Services.load().knowledge:  # every curated entry must fit one message
        yield Request("explain", {"topic": topic.slug})
    yield Request("ask", {"question": "why is the resting membrane potential negative"})
    yield Request("ask", {"question": "how do i calculate an iv drip rate"})
    yield Request("nernst", {"ion": "K", "inside": 140.0, "outside": 5.0, "temperature": 0.0, "detail": "steps"})
    for seed in range(6):  # practice: numeric and concept questions
        yield Request("quiz", {"seed": seed})
    yield Request("check nernst", {"ion": "K", "inside": 140.0, "outside": 5.0, "answer": "-38.7 mV"})
    yield Request("check restpot", {"answer": "-70 mV", "detail": "plot"})
    yield Request("progress show")


REAL = [answer(request) for request in _real_requests()]
REAL_OK = [result for result in REAL if not result.error]
REAL_ERRORS = [result for result in REAL if result.error]


def _id(result: Answer) -> str:
    return f"{result.command}:{result.title[:40]}"


def _text(words: int, start: int = 0) -> str:
    """Distinct words (w17, w18, …) so a word cut in two cannot pass for another word."""
    return " ".join(f"w{index}" for index in range(start, start + words))


def _sized(characters: int, start: int = 0) -> str:
    """About ``characters`` characters (never more) of distinct words, at least one."""
    text, index = f"w{start}", start + 1
    while len(text) + len(f" w{index}") <= characters:
        text += f" w{index}"
        index += 1
    return text


STEP_SENTENCE = "Substitute the concentrations and evaluate the logarithm at body temperature."

SYNTHETIC = {
    "headline-5000": Answer("x", "Oversized headline", _sized(5000), lines=("A line after it.",)),
    "60-lines-of-300": Answer(
        "x", "Many lines", "V_m = −70.0 mV", lines=tuple(_sized(300, 1000 * i) for i in range(60))
    ),
    "40-fields-of-3000": Answer(
        "x",
        "Many fields",
        "E_K = −90.0 mV",
        fields=tuple(AnswerField(f"Field {i}", _sized(3000, 1000 * i)) for i in range(40)),
    ),
    "200-steps": Answer(
        "x",
        "Many steps",
        "E = 1.0 mV",
        steps=tuple(Step(f"{STEP_SENTENCE} s{i}", "x", f"E{i} = 61.5 × log10(v{i})", float(i)) for i in range(200)),
        footer="Nernst equation.",
    ),
    "long-equation-step": Answer(
        "x", "A long equation", "E = 1.0 mV", steps=(Step("A sentence.", "x", _sized(600), 1.0),)
    ),
    "300-tiny-fields": Answer(  # 12 embeds' worth of fields, small enough for one message's 6,000
        "x", "Tiny fields", "V_m = −70.0 mV", fields=tuple(AnswerField(f"n{i}", f"v{i}") for i in range(300))
    ),
    "footer-3000": Answer("x", "Long footer", "V_m = −70.0 mV", footer=_sized(3000)),
    "footer-2000-after-full-fields": Answer(
        "x",
        "Footer after fields",
        "V_m = −70.0 mV",
        fields=tuple(AnswerField(f"F{i}", _sized(1000, 1000 * i)) for i in range(5)),
        footer=_sized(2000, 90_000),
    ),
    "everything": Answer(
        "x",
        "Everything at once",
        _sized(1200),
        lines=tuple(_sized(900, 10_000 * i) for i in range(1, 8)),
        fields=tuple(AnswerField(_sized(200, 500_000 + 1000 * i), _sized(2500, 600_000 + 1000 * i)) for i in range(8)),
        steps=tuple(Step(_sized(1500, 700_000 + 1000 * i), "x", f"E{i} = {i}", float(i)) for i in range(30)),
        footer=_sized(2040, 800_000),
    ),
}


# --- the checks ------------------------------------------------------------------------------


def _strings(message: OutgoingMessage) -> Iterator[str]:
    """Every string a message shows, in reading order."""
    if message.content:
        yield message.content
    for embed in message.embeds:
        for text in (embed.title, embed.description):
            if text:
                yield text
        for embed_field in embed.fields:
            yield embed_field.name or ""
            yield embed_field.value or ""
        if embed.footer.text:
            yield embed.footer.text


def _rendered_words(messages: list[OutgoingMessage]) -> list[str]:
    return [word for message in messages for text in _strings(message) for word in text.replace("**", "").split()]


def _answer_words(result: Answer) -> list[str]:
    texts = [result.title, result.headline, *result.lines]
    for answer_field in result.fields:
        texts += [answer_field.name, answer_field.value]
    for step in result.steps:
        texts += [step.unicode, step.sentence]
    texts.append(result.footer)
    return [word for text in texts for word in text.replace("**", "").split()]  # bold is the renderer's (or a topic's)


def assert_within_limits(messages: list[OutgoingMessage]) -> None:
    assert messages
    for message in messages:
        assert message.content or message.embeds, "an empty message"
        assert message.content is None or len(message.content) <= CONTENT
        assert len(message.embeds) <= EMBEDS
        for embed in message.embeds:
            assert embed.title is None or len(embed.title) <= TITLE
            assert embed.description is None or len(embed.description) <= DESCRIPTION
            assert len(embed.fields) <= FIELDS
            for embed_field in embed.fields:
                assert embed_field.name and len(embed_field.name) <= FIELD_NAME
                assert embed_field.value and len(embed_field.value) <= FIELD_VALUE
            assert embed.footer.text is None or len(embed.footer.text) <= FOOTER
            assert len(embed) <= EMBEDS_TOTAL
        assert sum(len(embed) for embed in message.embeds) <= EMBEDS_TOTAL
        # discord.py's own count agrees with ours: the limit is over title, description, fields, footer.
        assert sum(len(embed) for embed in message.embeds) == sum(
            len(text) for text in _strings(OutgoingMessage(embeds=message.embeds))
        )


def assert_nothing_lost_or_cut(result: Answer, messages: list[OutgoingMessage]) -> None:
    rendered = _rendered_words(messages)
    # Nothing lost: the answer's words, in order, are a subsequence of the rendered words.
    position = iter(rendered)
    missing = [word for word in _answer_words(result) if not any(word == seen for seen in position)]
    assert not missing, f"lost or cut: {missing[:5]}"
    # Nothing cut: every rendered word is a word of the answer or one the renderer adds.
    known = set(_answer_words(result))
    strange = [word for word in rendered if word not in known and not RENDERER_WORDS.fullmatch(word)]
    assert not strange, f"words that are not the answer's: {strange[:5]}"


def assert_leads_with_the_headline(result: Answer, messages: list[OutgoingMessage]) -> None:
    first = messages[0].embeds[0]
    assert first.title and result.title.startswith(first.title.removesuffix("…"))
    assert first.description is not None
    assert len(first.description) <= LEAD_BUDGET
    match = re.match(r"\*\*(.+?)\*\*", first.description, re.DOTALL)
    assert match, "the description starts with the headline in bold"
    assert result.headline.startswith(match[1])
    if len(result.headline) + 4 <= LEAD_BUDGET:
        assert match[1] == result.headline


def _check(result: Answer) -> list[OutgoingMessage]:
    messages = render_messages(result)
    assert_within_limits(messages)
    assert_nothing_lost_or_cut(result, messages)
    assert_leads_with_the_headline(result, messages)
    return messages


# --- real answers ----------------------------------------------------------------------------


def test_the_real_answers_cover_every_command_and_some_errors() -> None:
    assert {result.command for result in REAL_OK} == set(HANDLERS)
    assert any(result.steps for result in REAL_OK)
    assert REAL_ERRORS


@pytest.mark.parametrize("result", REAL_OK, ids=_id)
def test_a_real_answer_fits_discord_and_loses_nothing(result: Answer) -> None:
    messages = _check(result)
    assert len(messages) == 1, "a real answer fits one message"
    assert messages[0].content is None
    assert all(embed.colour == messages[0].embeds[0].colour for embed in messages[0].embeds)


def test_a_derivation_gets_its_own_embed_with_one_field_per_step() -> None:
    result = answer(Request("nernst", {"ion": "K", "inside": 140.0, "outside": 5.0, "detail": "steps"}))
    embeds = render_messages(result)[0].embeds
    derivation = embeds[1]
    assert derivation.title == "Derivation"
    assert [embed_field.name for embed_field in derivation.fields] == [
        f"{number}. {step.unicode}" for number, step in enumerate(result.steps, start=1)
    ]
    assert [embed_field.value for embed_field in derivation.fields] == [step.sentence for step in result.steps]
    assert embeds[-1].footer.text == result.footer


@pytest.mark.parametrize("result", [*REAL_ERRORS, error_answer("nernst", InputError("`inside` must be > 0."))], ids=_id)
def test_an_error_answer_is_plain_content_only(result: Answer) -> None:
    messages = render_messages(result)
    assert len(messages) == 1
    assert messages[0].embeds == []
    assert messages[0].content == result.headline
    assert len(messages[0].content) <= CONTENT


def test_an_oversized_error_is_shortened_at_a_word() -> None:
    result = error_answer("ask", InputError(_sized(5000)))
    (message,) = render_messages(result)
    assert message.embeds == [] and message.content is not None
    assert len(message.content) <= CONTENT
    assert message.content.endswith("…")
    kept = message.content.removesuffix("…").split()
    assert kept == result.headline.split()[: len(kept)]


# --- oversized answers -----------------------------------------------------------------------


@pytest.mark.parametrize("name", SYNTHETIC)
def test_an_oversized_answer_is_split_within_every_limit(name: str) -> None:
    result = SYNTHETIC[name]
    messages = _check(result)
    if name == "headline-5000":
        assert messages[0].embeds[0].description is not None
        assert messages[0].embeds[0].description.startswith("**w0 w1 w2")


def test_the_long_footer_becomes_a_field_rather_than_being_cut() -> None:
    messages = render_messages(SYNTHETIC["footer-3000"])
    last = messages[-1].embeds[-1]
    assert last.footer.text is None
    assert [embed_field.name for embed_field in last.fields][-3:] == ["Source", "Source (cont.)", "Source (cont.)"]


def test_a_description_never_carries_a_field_worth_of_lines() -> None:
    messages = render_messages(SYNTHETIC["60-lines-of-300"])
    description = messages[0].embeds[0].description or ""
    assert description.startswith("**V_m = −70.0 mV**\nw0 ")
    assert len(description) <= LEAD_BUDGET


LINE = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789−=·.", min_size=1, max_size=9)


@st.composite
def texts(draw: st.DrawFn, max_words: int) -> str:
    """Short random words, or (so the sizes reach the limits) up to ``max_words`` × 10 characters of w-words."""
    if draw(st.booleans()):
        return " ".join(draw(st.lists(LINE, min_size=1, max_size=max_words)))
    return _sized(draw(st.integers(min_value=1, max_value=max_words * 10)), draw(st.integers(0, 10**6)))


@given(
    title=texts(20),
    headline=texts(150),
    lines=st.lists(texts(150), max_size=12),
    fields=st.lists(st.tuples(texts(20), texts(250)), max_size=30),
    steps=st.lists(st.tuples(texts(30), texts(60)), max_size=30),
    footer=st.one_of(st.just(""), texts(450)),
)
def test_any_answer_fits_discord_and_loses_nothing(
    title: str,
    headline: str,
    lines: list[str],
    fields: list[tuple[str, str]],
    steps: list[tuple[str, str]],
    footer: str,
) -> None:
    result = Answer(
        command="x",
        title=title,
        headline=headline,
        lines=tuple(lines),
        fields=tuple(AnswerField(name, value) for name, value in fields),
        steps=tuple(Step(sentence, "x", equation, 0.0) for equation, sentence in steps),
        footer=footer,
    )
    _check(result)


def test_embeds_are_real_discord_embeds_that_serialise() -> None:
    for result in [*REAL_OK[:3], *SYNTHETIC.values()]:
        for message in render_messages(result):
            for embed in message.embeds:
                assert isinstance(embed, discord.Embed)
                data = embed.to_dict()
                assert data["type"] == "rich"
                assert len(data.get("fields", [])) <= FIELDS
