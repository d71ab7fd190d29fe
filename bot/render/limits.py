"""Discord's limits, in one place, and the text splitting that respects them.

Values from design.md's list (which follows Discord's developer documentation:
Message Resource → Embed Limits, Create Message; Interactions → Application Commands,
Receiving and Responding; Message Components). No discord import: the splitting is
plain text work, tested on its own.
"""

from __future__ import annotations

import re
from typing import Final

MESSAGE_CONTENT: Final = 2000
EMBEDS_PER_MESSAGE: Final = 10
EMBED_TITLE: Final = 256
EMBED_DESCRIPTION: Final = 4096
EMBED_FIELDS: Final = 25
FIELD_NAME: Final = 256
FIELD_VALUE: Final = 1024
EMBED_FOOTER: Final = 2048
EMBED_AUTHOR: Final = 256
EMBEDS_TOTAL: Final = 6000
ATTACHMENT_DESCRIPTION: Final = 1024
AUTOCOMPLETE_CHOICES: Final = 25
CHOICE_NAME: Final = 100
CHOICE_VALUE: Final = 100
ACTION_ROWS: Final = 5
BUTTONS_PER_ROW: Final = 5
BUTTON_LABEL: Final = 80
CUSTOM_ID: Final = 100
FILES_PER_MESSAGE: Final = 10
UPLOAD_BYTES: Final = 10 * 1024 * 1024
USER_INSTALL_FOLLOWUPS: Final = 5

LEAD_BUDGET: Final = 400
"""Characters a phone shows before the first field: the answer must fit in them."""


def split_text(text: str, limit: int) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` characters, never mid-word.

    Prefers paragraph breaks, then line breaks, then sentence ends, then spaces. A
    single "word" longer than the limit (a URL, say) is the only thing ever cut.
    """
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = _best_break(window)
        if cut <= 0:
            cut = limit  # one unbreakable token longer than the limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _best_break(window: str) -> int:
    """The latest good break point in the window, by preference of break kind."""
    for pattern in (r"\n\n", r"\n", r"(?<=[.;:!?])\s", r"\s"):
        positions = [match.start() for match in re.finditer(pattern, window)]
        good = [position for position in positions if position >= len(window) // 3]
        if good:
            return good[-1]
        if positions and pattern == r"\s":
            return positions[-1]
    return -1


def shorten(text: str, limit: int, ellipsis: str = "…") -> str:
    """At most ``limit`` characters, cut at a word boundary with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = split_text(text, limit - len(ellipsis))[0]
    return head + ellipsis
