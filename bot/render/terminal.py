"""Answer → text for a terminal: the headline first, then lines, fields, steps, source.

Text is wrapped at the terminal's width (:func:`text_width`), so a narrow window or a
phone's terminal never re-wraps a line mid-word, and a value such as ``V_m = −65.2 mV``
is never split across two lines.
"""

from __future__ import annotations

import re
import shutil
import textwrap
from functools import partial
from typing import Final

from bot.answers import EQUATION, Answer

FALLBACK_WIDTH: Final = 80
"""Columns when the width is unknown or standard output is not a terminal (a pipe, a file)."""
MAX_WIDTH: Final = 100
"""Wider lines are hard to read; a wide window gets 100 columns and a margin."""
MIN_WIDTH: Final = 20
"""Below this the indented steps would have no room at all."""

_GLUE: Final = "\x1f"
"""Joins a value's parts while wrapping (textwrap breaks only at ASCII whitespace); never in answers."""
_VALUE_PARTS: Final = re.compile(r"(?<=\d) (?=mV|mM|°C|%)|(?<=\S) (?==[ ]?[−+-]?\d)|(?<==) (?=[−+-]?\d)")
"""The spaces inside ``V_m = −65.2 mV``: before a unit, around an ``=`` that gives a number."""


def text_width() -> int:
    """The columns to wrap at: the terminal's (``COLUMNS`` wins, as :func:`shutil.get_terminal_size`
    reads it), 80 when unknown, kept between 20 and 100."""
    columns = shutil.get_terminal_size((FALLBACK_WIDTH, 24)).columns
    return max(MIN_WIDTH, min(columns, MAX_WIDTH))


def _wrap(text: str, indent: str = "", hanging: str | None = None, *, width: int) -> list[str]:
    following = indent if hanging is None else hanging
    glued = _VALUE_PARTS.sub(_GLUE, text)
    lines = textwrap.wrap(glued, width, initial_indent=indent, subsequent_indent=following, break_on_hyphens=False)
    return [line.replace(_GLUE, " ") for line in lines] or [""]


def render_text(answer: Answer, width: int | None = None) -> str:
    """The whole answer as text, no line wider than ``width`` (default: :func:`text_width`)
    unless one word is; an error is a single line."""
    if answer.error:
        return f"error: {answer.headline}"
    wrap = partial(_wrap, width=width or text_width())
    title = wrap(answer.title)
    out = [*title, "─" * max(len(line) for line in title), *wrap(answer.headline), ""]
    for line in answer.lines:
        out.extend(wrap(line.replace("**", "")))  # knowledge bodies are Markdown
    if answer.fields:
        out.append("")
    for field in answer.fields:
        if "\n" in field.value:  # a list or a chart: one line each, under the name
            out.append(f"{field.name}:")
            for line in field.value.splitlines():
                out.extend(wrap(line, "  ", "    "))
        else:
            out.extend(wrap(f"{field.name}: {field.value}"))
    if answer.steps:
        out.extend(["", "Derivation:"])
        for number, step in enumerate(answer.steps, start=1):
            out.extend(wrap(step.sentence, f"{number:>2}. ")[:1] + wrap(step.sentence, "    ")[1:])
            out.extend(wrap(step.unicode, "      "))
    if answer.footer:
        out.append("")
        out.extend(wrap(answer.footer))
    pictures = [figure for figure in answer.figures if figure.kind != EQUATION]  # equations are printed above
    if pictures:
        out.extend(["", *wrap("Figures (described; the terminal cannot show them):")])
        for figure in pictures:
            out.extend(wrap(f"{figure.filename}: {figure.alt_text}", "  ", "    "))
    return "\n".join(out)
