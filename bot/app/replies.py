"""Sending answers: one reply helper that never answers an interaction twice.

The first message goes as the interaction's response (or, if the response is already
done, as a follow-up); further messages of a long answer go as follow-ups, never more
than Discord allows for a user-installed app.
"""

from __future__ import annotations

import io
import logging
import re
from typing import Any

import discord

from bot.render import limits
from bot.render.discord import OutgoingMessage

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
TOO_LONG = (
    "This answer goes on for {parts} more parts than Discord allows in one reply; "
    "ask a narrower question, or run the same command in the terminal (`membrane-tutor ask`)."
)


async def safe_reply(
    interaction: discord.Interaction,
    message: OutgoingMessage,
    *,
    ephemeral: bool,
    view: discord.ui.View | None = None,
) -> None:
    """Respond if nobody has yet, follow up otherwise; an expired interaction is logged, not raised."""
    kwargs: dict[str, Any] = {"ephemeral": ephemeral, "allowed_mentions": NO_MENTIONS}
    if message.content:
        kwargs["content"] = message.content
    if message.embeds:
        kwargs["embeds"] = message.embeds
    if message.files:  # built now: a discord.File's stream is used up by one send
        kwargs["files"] = [
            discord.File(io.BytesIO(attached.data), filename=attached.filename, description=attached.description)
            for attached in message.files
        ]
    if view is not None:
        kwargs["view"] = view
    try:
        if interaction.response.is_done():
            await interaction.followup.send(**kwargs)
        else:
            await interaction.response.send_message(**kwargs)
    except discord.NotFound:
        log.warning("interaction %s expired before the reply could be sent", interaction.id)


async def defer_thinking(interaction: discord.Interaction, *, ephemeral: bool) -> None:
    """Acknowledge now and show "thinking…" (slow work follows: figures); the answer then goes
    as a follow-up, which may come from any worker holding the token for 15 minutes."""
    if interaction.response.is_done():
        return
    try:
        await interaction.response.defer(thinking=True, ephemeral=ephemeral)
    except discord.NotFound:
        log.warning("interaction %s expired before it could be deferred", interaction.id)


async def send_messages(
    interaction: discord.Interaction,
    messages: list[OutgoingMessage],
    *,
    ephemeral: bool,
    view: discord.ui.View | None = None,
) -> None:
    """Send an answer's messages in order; the view (buttons) goes on the last one."""
    allowed = 1 + limits.USER_INSTALL_FOLLOWUPS
    if len(messages) > allowed:  # say so rather than drop the rest silently
        log.warning("answer needs %d messages; Discord allows %d per interaction", len(messages), allowed)
        notice = OutgoingMessage(content=TOO_LONG.format(parts=len(messages) - allowed + 1))
        messages = [*messages[: allowed - 1], notice]
    for index, message in enumerate(messages):
        last = index == len(messages) - 1
        await safe_reply(interaction, message, ephemeral=ephemeral, view=view if last else None)


class ShareButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=r"share:(?P<request>.+)"):
    """ "Share to channel" on a private answer. Its state is the request itself, encoded
    in the custom_id, so any process can handle the click and a restart loses nothing."""

    def __init__(self, encoded: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Share to channel",
                style=discord.ButtonStyle.secondary,
                custom_id=f"share:{encoded}",
                emoji="📣",
            )
        )
        self.encoded = encoded

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[discord.ui.View], match: re.Match[str], /
    ) -> ShareButton:
        return cls(match["request"])

    async def callback(self, interaction: discord.Interaction) -> None:
        responder = getattr(interaction.client, "share", None)
        if responder is None:  # pragma: no cover - only TutorBot registers this item
            return
        await responder(interaction, self.encoded)


def share_view(encoded: str) -> discord.ui.View | None:
    """A view with the share button, or None when the request does not fit a custom_id."""
    if len(f"share:{encoded}") > limits.CUSTOM_ID:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(ShareButton(encoded))
    return view
