"""Answer → text for a terminal: the headline first, then lines, fields, steps, source."""

from __future__ import annotations

import textwrap

from bot.answers import EQUATION, Answer

WIDTH = 88


def _wrap(text: str, indent: str = "", hanging: str | None = None) -> list[str]:
    following = indent if hanging is None else hanging
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=following, break_on_hyphens=False) or [
        ""
    ]


def render_text(answer: Answer) -> str:
    """The whole answer as text; an error is a single line."""
    if answer.error:
        return f"error: {answer.headline}"
    out = [answer.title, "─" * min(len(answer.title), WIDTH), *_wrap(answer.headline), ""]
    for line in answer.lines:
        out.extend(_wrap(line.replace("**", "")))  # knowledge bodies are Markdown
    if answer.fields:
        out.append("")
    for field in answer.fields:
        if "\n" in field.value:  # a list or a chart: one line each, under the name
            out.append(f"{field.name}:")
            for line in field.value.splitlines():
                out.extend(_wrap(line, "  ", "    "))
        else:
            out.extend(_wrap(f"{field.name}: {field.value}"))
    if answer.steps:
        out.extend(["", "Derivation:"])
        for number, step in enumerate(answer.steps, start=1):
            out.extend(_wrap(step.sentence, f"{number:>2}. ")[:1] + _wrap(step.sentence, "    ")[1:])
            out.extend(_wrap(step.unicode, "      "))
    if answer.footer:
        out.append("")
        out.extend(_wrap(answer.footer))
    pictures = [figure for figure in answer.figures if figure.kind != EQUATION]  # equations are printed above
    if pictures:
        out.extend(["", "Figures (described; the terminal cannot show them):"])
        for figure in pictures:
            out.extend(_wrap(f"{figure.filename}: {figure.alt_text}", "  ", "    "))
    return "\n".join(out)
