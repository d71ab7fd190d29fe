"""Discord's limits as constants, and the text splitting that keeps answers within them (bot/render/limits.py).

The constants are compared with values typed in here from design.md ("Discord's limits", the one
list), not with anything the bot computes. ``split_text`` is checked as a property: whatever the
words and breaks, no piece exceeds the limit, no word is cut when every word fits, and the pieces
give back the original words in order.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.render import limits
from bot.render.limits import shorten, split_text

# design.md: Discord's limits — "Message content 2,000 characters; ≤ 10 embeds; embed title 256,
# description 4,096, ≤ 25 fields (name 256, value 1,024), footer 2,048, author 256, all embeds of a
# message together 6,000; attachment description (alt text) 1,024; autocomplete ≤ 25 choices with name
# and value ≤ 100; ≤ 5 action rows of ≤ 5 buttons, label 80, custom_id 100; ≤ 10 files of ≤ 10 MiB in
# all per message (the default upload limit); … a user-installed app gets at most 5 follow-ups".
DESIGN_LIMITS = {
    "MESSAGE_CONTENT": 2000,
    "EMBEDS_PER_MESSAGE": 10,
    "EMBED_TITLE": 256,
    "EMBED_DESCRIPTION": 4096,
    "EMBED_FIELDS": 25,
    "FIELD_NAME": 256,
    "FIELD_VALUE": 1024,
    "EMBED_FOOTER": 2048,
    "EMBED_AUTHOR": 256,
    "EMBEDS_TOTAL": 6000,
    "ATTACHMENT_DESCRIPTION": 1024,
    "AUTOCOMPLETE_CHOICES": 25,
    "CHOICE_NAME": 100,
    "CHOICE_VALUE": 100,
    "ACTION_ROWS": 5,
    "BUTTONS_PER_ROW": 5,
    "BUTTON_LABEL": 80,
    "CUSTOM_ID": 100,
    "FILES_PER_MESSAGE": 10,
    "UPLOAD_BYTES": 10 * 1024 * 1024,
    "USER_INSTALL_FOLLOWUPS": 5,
}


@pytest.mark.parametrize(("name", "value"), DESIGN_LIMITS.items())
def test_each_limit_is_the_one_in_design_md(name: str, value: int) -> None:
    """design.md: Discord's limits."""
    assert getattr(limits, name) == value


def test_every_limit_constant_is_checked_against_design_md() -> None:
    """A limit added to limits.py without a line in the table above fails here."""
    constants = {name for name in vars(limits) if re.fullmatch(r"[A-Z][A-Z_]+", name)}
    assert constants - {"LEAD_BUDGET"} == set(DESIGN_LIMITS)


def test_the_lead_fits_well_inside_a_description() -> None:
    assert 0 < limits.LEAD_BUDGET < limits.EMBED_DESCRIPTION


# --- split_text ------------------------------------------------------------------------------

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzÄé0123456789,'()−→·²⁺", min_size=1, max_size=12)
SEPARATOR = st.sampled_from([" ", " ", " ", "  ", "\n", "\n\n", ". ", "; ", "! ", "\t", " \n "])


@st.composite
def prose(draw: st.DrawFn, max_words: int = 120) -> str:
    """Random words joined by random breaks: spaces, line and paragraph breaks, sentence ends."""
    words = draw(st.lists(WORD, min_size=0, max_size=max_words))
    text = ""
    for word in words:
        text += word + draw(SEPARATOR)
    return text


def _words(pieces: list[str]) -> list[str]:
    return " ".join(pieces).split()


@given(text=prose(), limit=st.integers(min_value=12, max_value=300))
def test_split_text_keeps_every_word_whole_and_within_the_limit(text: str, limit: int) -> None:
    assume(all(len(word) <= limit for word in text.split()))  # every word fits
    pieces = split_text(text, limit)
    assert all(len(piece) <= limit for piece in pieces)
    assert all(piece and piece == piece.strip() for piece in pieces)
    # Rejoining the pieces' words gives back the original words: nothing lost, nothing cut mid-word.
    assert _words(pieces) == text.split()


@given(text=prose(max_words=40), limit=st.integers(min_value=12, max_value=300))
def test_text_that_fits_comes_back_as_one_piece(text: str, limit: int) -> None:
    assume(len(text.strip()) <= limit)
    assert split_text(text, limit) == ([text.strip()] if text.strip() else [])


@given(
    words=st.lists(st.text(alphabet="abcdefgh", min_size=1, max_size=60), min_size=1, max_size=30),
    limit=st.integers(min_value=1, max_value=20),
)
def test_only_a_word_longer_than_the_limit_is_cut_and_no_letter_is_lost(words: list[str], limit: int) -> None:
    text = " ".join(words)
    pieces = split_text(text, limit)
    assert all(0 < len(piece) <= limit for piece in pieces)
    assert "".join("".join(piece.split()) for piece in pieces) == "".join(words)
    tokens = iter(_words(pieces))
    for word in words:
        if len(word) <= limit:  # a word that fits is never cut, even next to one that does not
            assert next(tokens) == word
        else:  # a longer one is cut into consecutive chunks, in order
            chunks = next(tokens)
            while len(chunks) < len(word):
                chunks += next(tokens)
            assert chunks == word
    assert next(tokens, None) is None


@st.composite
def blocks(draw: st.DrawFn, min_len: int, max_len: int, end: str = "") -> str:
    """One paragraph or sentence of min_len … max_len characters (``end`` included), no inner breaks."""
    target = draw(st.integers(min_value=min_len, max_value=max_len))
    words: list[str] = []
    while len(" ".join(words)) + len(end) < target:
        words.append(draw(st.text(alphabet="abcdefghij", min_size=1, max_size=8)))
    block = " ".join(words) + end
    while len(block) > max_len:  # the last word overshot: drop words until it fits again
        words.pop()
        block = " ".join(words) + end
    assume(len(block) >= min_len and words)
    return block


@given(data=st.data(), limit=st.integers(min_value=30, max_value=400))
def test_split_text_breaks_between_paragraphs_when_it_can(data: st.DataObject, limit: int) -> None:
    """Paragraphs that each fit (and fill at least a third of a piece) are never broken up."""
    paragraphs = data.draw(st.lists(blocks((limit + 1) // 3 + 1, limit), min_size=2, max_size=8))
    pieces = split_text("\n\n".join(paragraphs), limit)
    assert [paragraph for piece in pieces for paragraph in piece.split("\n\n")] == paragraphs


@given(data=st.data(), limit=st.integers(min_value=30, max_value=400))
def test_split_text_breaks_after_a_sentence_when_there_is_no_paragraph_break(data: st.DataObject, limit: int) -> None:
    sentences = data.draw(st.lists(blocks((limit + 1) // 3 + 1, limit, end="."), min_size=2, max_size=8))
    pieces = split_text(" ".join(sentences), limit)
    assert all(piece.endswith(".") for piece in pieces)
    assert _words(pieces) == " ".join(sentences).split()


def test_split_text_prefers_a_paragraph_break_to_a_later_sentence_end() -> None:
    first = "Potassium leaks out. " * 3 + "It sets the rest."
    second = "Sodium leaks in. A little."
    text = first + "\n\n" + second + " " + "Then the pump restores the gradients."
    pieces = split_text(text, len(first) + 20)
    assert pieces[0] == first.strip()
    assert pieces[1].startswith("Sodium leaks in.")


def test_split_text_of_nothing_is_nothing() -> None:
    assert split_text("", 10) == []
    assert split_text(" \n\n ", 10) == []


# --- shorten ---------------------------------------------------------------------------------


@given(text=prose(max_words=60), limit=st.integers(min_value=14, max_value=200))
def test_shorten_ends_at_a_word_boundary_with_an_ellipsis(text: str, limit: int) -> None:
    words = text.split()
    short = shorten(text, limit)
    assert len(short) <= limit
    if len(" ".join(words)) <= limit:
        assert short == " ".join(words)  # whitespace collapsed, nothing cut
        return
    assert short.endswith("…")
    kept = short.removesuffix("…").split()
    assert kept == words[: len(kept)], "the kept part is whole words from the start"
    assert kept, "every word fits the limit, so at least the first one is kept"


def test_shorten_examples() -> None:
    assert shorten("The sodium-potassium pump keeps the gradients", 21) == "The sodium-potassium…"
    assert shorten("The sodium-potassium pump keeps the gradients", 20) == "The…"  # never "The sodium-potassiu…"
    assert shorten("short", 20) == "short"
    assert shorten("one\n  two\tthree", 50) == "one two three"
    assert shorten("x" * 30, 10) == "x" * 9 + "…"  # one word longer than the limit: the only cut
