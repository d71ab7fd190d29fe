"""Answer → Discord messages: embeds that lead with the number and fit every limit.

Layout for a phone: the title, then the headline in bold and a few short lines (at most
:data:`~bot.render.limits.LEAD_BUDGET` characters before any field), then fields, then
the source in the footer. A derivation goes into a second embed, one field per step
with the equation as the field's name. Everything is measured against the limits in
:mod:`bot.render.limits`; what does not fit one message is carried into the next one,
split between words, never cut off.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import discord

from bot.answers import EQUATION, Answer, AnswerField, Figure
from bot.render import limits
from bot.render.limits import shorten, split_text

ANSWER_COLOUR = discord.Colour(0x2A9D8F)
ERROR_COLOUR = discord.Colour(0xE76F51)


FIGURE_MISSING = "The figure could not be drawn this time; every number is in the text. Try again in a minute."
FIGURES_MISSING = "{missing} of {total} figures could not be drawn this time; every number is in the text."


@dataclass(frozen=True, slots=True)
class FileAttachment:
    """A file to upload with a message: PNG bytes, a name and the alt text (``description``).

    Plain data, not a ``discord.File`` (whose stream is used up by one send): the reply
    helper builds the ``discord.File`` at the moment it sends.
    """

    filename: str
    data: bytes
    description: str


@dataclass(slots=True)
class OutgoingMessage:
    """One message's worth of content, embeds and files, already within Discord's limits."""

    content: str | None = None
    embeds: list[discord.Embed] = field(default_factory=list)
    files: list[FileAttachment] = field(default_factory=list)

    def size(self) -> int:
        return sum(len(embed) for embed in self.embeds)

    def upload_bytes(self) -> int:
        return sum(len(attached.data) for attached in self.files)


def _fields(name: str, value: str) -> list[AnswerField]:
    """A field whose value is too long becomes several, split between words."""
    pieces = split_text(value, limits.FIELD_VALUE) or ["—"]
    title = shorten(name, limits.FIELD_NAME)
    return [
        AnswerField(title if i == 0 else shorten(f"{name} (cont.)", limits.FIELD_NAME), piece)
        for i, piece in enumerate(pieces)
    ]


def _lead(answer: Answer) -> tuple[str, list[AnswerField]]:
    """The description (headline and the lines that fit the lead budget) and the overflow."""
    description = f"**{answer.headline}**"
    overflow: list[str] = []
    for line in answer.lines:
        if not overflow and len(description) + 1 + len(line) <= limits.LEAD_BUDGET:
            description += "\n" + line
        else:
            overflow.append(line)
    if len(description) > limits.LEAD_BUDGET:  # a headline longer than the budget: keep the words, move the rest
        pieces = split_text(answer.headline, limits.LEAD_BUDGET - 4)
        description, overflow = f"**{pieces[0]}**", [*pieces[1:], *answer.lines]
    extra = [piece for line in overflow for piece in _fields("More", line)] if overflow else []
    return description, extra


def _embed(title: str, description: str | None, colour: discord.Colour) -> discord.Embed:
    return discord.Embed(title=shorten(title, limits.EMBED_TITLE), description=description, colour=colour)


def _add_fields(embeds: list[discord.Embed], fields: list[AnswerField], title: str, colour: discord.Colour) -> None:
    for answer_field in fields:
        current = embeds[-1]
        size = len(answer_field.name) + len(answer_field.value)
        if len(current.fields) >= limits.EMBED_FIELDS or len(current) + size > limits.EMBEDS_TOTAL:
            current = _embed(f"{title} (cont.)", None, colour)
            embeds.append(current)
        current.add_field(name=answer_field.name, value=answer_field.value, inline=False)


def _step_fields(answer: Answer) -> list[AnswerField]:
    fields: list[AnswerField] = []
    for number, step in enumerate(answer.steps, start=1):
        equation = f"{number}. {step.unicode}"
        if len(equation) <= limits.FIELD_NAME:
            fields.extend(_fields(equation, step.sentence))
        else:
            fields.extend(_fields(f"Step {number}", f"{step.unicode}\n{step.sentence}"))
    return fields


def _pack(embeds: list[discord.Embed]) -> list[OutgoingMessage]:
    """Put embeds into as few messages as Discord's per-message limits allow."""
    messages = [OutgoingMessage()]
    for embed in embeds:
        current = messages[-1]
        too_many = len(current.embeds) >= limits.EMBEDS_PER_MESSAGE
        if current.embeds and (too_many or current.size() + len(embed) > limits.EMBEDS_TOTAL):
            current = OutgoingMessage()
            messages.append(current)
        current.embeds.append(embed)
    return messages


def _attach(messages: list[OutgoingMessage], answer: Answer, drawn: Mapping[Figure, bytes]) -> int:
    """Put the drawn figures on the messages, in order, within Discord's per-message file
    limits (a message of files alone when none has room); the first plot becomes the main
    embed's image. Returns how many are missing: not drawn, or too big to upload at all."""
    missing = 0
    for figure in answer.figures:
        png = drawn.get(figure)
        home = None
        if png is not None:
            home = next(
                (
                    message
                    for message in messages
                    if len(message.files) < limits.FILES_PER_MESSAGE
                    and message.upload_bytes() + len(png) <= limits.UPLOAD_BYTES
                ),
                None,
            )
        if png is not None and home is None and len(png) <= limits.UPLOAD_BYTES:
            home = OutgoingMessage()  # a message of files alone (files count as content)
            messages.append(home)
        if png is None or home is None:
            missing += 1
            continue
        home.files.append(FileAttachment(figure.filename, png, shorten(figure.alt_text, limits.ATTACHMENT_DESCRIPTION)))
    first = answer.figures[0] if answer.figures else None
    if first is not None and first.kind != EQUATION and any(f.filename == first.filename for f in messages[0].files):
        messages[0].embeds[0].set_image(url=f"attachment://{first.filename}")
    return missing


def render_messages(answer: Answer, figures: Mapping[Figure, bytes] | None = None) -> list[OutgoingMessage]:
    """The messages that carry ``answer``: usually one; the first carries the number.

    ``figures`` are the answer's figures that were drawn (PNG bytes by request); they are
    attached with their alt text, and a short line says so when some could not be drawn.
    Without ``figures`` the answer is text alone, as the fast path sends it.
    """
    messages = _render_text(answer)
    if figures is None or not answer.figures or answer.error:
        return messages
    missing = _attach(messages, answer, figures)
    if missing:
        total = len(answer.figures)
        note = FIGURE_MISSING if total == 1 else FIGURES_MISSING.format(missing=missing, total=total)
        messages[0].content = shorten(note, limits.MESSAGE_CONTENT)
    return messages


def _render_text(answer: Answer) -> list[OutgoingMessage]:
    if answer.error:
        return [OutgoingMessage(content=shorten(answer.headline, limits.MESSAGE_CONTENT))]
    description, overflow = _lead(answer)
    main = _embed(answer.title, description, ANSWER_COLOUR)
    embeds = [main]
    fields = [*overflow, *(piece for f in answer.fields for piece in _fields(f.name, f.value))]
    _add_fields(embeds, fields, answer.title, ANSWER_COLOUR)
    if answer.steps:
        embeds.append(_embed("Derivation", None, ANSWER_COLOUR))
        _add_fields(embeds, _step_fields(answer), "Derivation", ANSWER_COLOUR)
    if len(answer.footer) > limits.EMBED_FOOTER:  # too long for a footer: a field loses nothing
        _add_fields(embeds, _fields("Source", answer.footer), answer.title, ANSWER_COLOUR)
    elif answer.footer:
        if len(embeds[-1]) + len(answer.footer) > limits.EMBEDS_TOTAL:  # one embed never exceeds a message's total
            embeds.append(_embed(f"{answer.title} (cont.)", None, ANSWER_COLOUR))
        embeds[-1].set_footer(text=answer.footer)
    return _pack(embeds)
