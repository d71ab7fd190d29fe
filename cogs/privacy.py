"""/privacy show and /privacy forget: what the bot keeps about you, and erasing it.

Both replies are private. ``forget`` asks first, with two stateless buttons
(:class:`discord.ui.DynamicItem`): their custom_ids carry no user and no state, the
pseudonym is computed from whoever clicks, so a click after a restart, or on another
worker, erases exactly the clicker's rows and nobody else's.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

from bot import instructor
from bot.app.bot import TutorBot
from bot.app.replies import NO_MENTIONS, defer_thinking, safe_reply, send_messages
from bot.app.slash import build_group
from bot.commands import PRIVACY
from bot.log.api import LogStore
from bot.render.discord import OutgoingMessage, render_messages
from cogs._generated import GeneratedCommands
from cogs._log_access import interaction_log, log_parts

log = logging.getLogger(__name__)

NOT_SET_UP = "Logging is not set up on this bot. Nothing is stored about you."
FORGET_ID = "privacy:forget"
CANCEL_ID = "privacy:cancel"
CANCELLED = "Nothing was erased."


FLUSH_TIMEOUT = 2.0
"""Seconds to wait for rows still queued for the database (the reply is deferred by then)."""


async def settle(client: discord.Client) -> None:
    """Let the rows logged a moment ago reach the database, so counts include them; a log
    that is stuck (a broken disk) costs at most ``FLUSH_TIMEOUT``, never the reply."""
    flush = getattr(interaction_log(client), "flush", None)
    if flush is None:
        return
    try:
        await flush(timeout=FLUSH_TIMEOUT)
    except (TimeoutError, RuntimeError) as error:
        log.warning("interaction log not flushed before a privacy request: %s", type(error).__name__)


def forget_conversations(client: discord.Client, user_id: int) -> int:
    """The chat's follow-up memory of this user (bot/conversation.py), dropped with the rest."""
    conversations = getattr(client, "conversations", None)  # a plain Client has none
    return conversations.forget_user(str(user_id)) if conversations is not None else 0


async def _edit(interaction: discord.Interaction, message: OutgoingMessage) -> None:
    """Replace the prompt (the message the button sits on) and remove its buttons."""
    try:
        await interaction.edit_original_response(
            content=message.content, embeds=message.embeds, view=None, allowed_mentions=NO_MENTIONS
        )
    except discord.NotFound:
        log.warning("interaction %s expired before the prompt could be updated", interaction.id)


class ForgetButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=r"privacy:forget"):
    """ "Forget my data": erases the clicker's rows. Stateless: the id is always the same."""

    def __init__(self) -> None:
        super().__init__(
            discord.ui.Button(label="Forget my data", style=discord.ButtonStyle.danger, custom_id=FORGET_ID)
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[discord.ui.View], match: re.Match[str], /
    ) -> ForgetButton:
        return cls()

    async def callback(self, interaction: discord.Interaction) -> None:
        forget_conversations(interaction.client, interaction.user.id)
        parts = log_parts(interaction.client)
        if parts is None:
            await safe_reply(interaction, OutgoingMessage(content=NOT_SET_UP), ephemeral=True)
            return
        store, pseudonyms = parts
        await interaction.response.defer()  # acknowledged now; the prompt is edited once the rows are gone
        await settle(interaction.client)  # rows still queued are written first, then erased too
        answer = await instructor.privacy_forget(store, pseudonyms.of(interaction.user.id))
        await _edit(interaction, render_messages(answer)[0])


class CancelButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=r"privacy:cancel"):
    """ "Cancel": leaves everything as it was and says so."""

    def __init__(self) -> None:
        super().__init__(discord.ui.Button(label="Cancel", style=discord.ButtonStyle.secondary, custom_id=CANCEL_ID))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[discord.ui.View], match: re.Match[str], /
    ) -> CancelButton:
        return cls()

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        await _edit(interaction, OutgoingMessage(content=CANCELLED))


def forget_view() -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ForgetButton())
    view.add_item(CancelButton())
    return view


class Privacy(GeneratedCommands):
    def __init__(self, bot: TutorBot) -> None:
        self.privacy = build_group(PRIVACY, {"show": self.show, "forget": self.forget})
        super().__init__(bot, [self.privacy])

    async def cog_load(self) -> None:
        await super().cog_load()
        self.bot.add_dynamic_items(ForgetButton, CancelButton)

    async def cog_unload(self) -> None:
        await super().cog_unload()
        self.bot.remove_dynamic_items(ForgetButton, CancelButton)

    async def _own_rows(self, interaction: discord.Interaction) -> tuple[LogStore, str] | None:
        """The store and the asking user's pseudonym, with queued rows settled; None (after a
        private "not set up" line) when logging is not configured."""
        parts = log_parts(self.bot)
        if parts is None:
            await safe_reply(interaction, OutgoingMessage(content=NOT_SET_UP), ephemeral=True)
            return None
        store, pseudonyms = parts
        await defer_thinking(interaction, ephemeral=True)
        await settle(self.bot)
        return store, pseudonyms.of(interaction.user.id)

    async def show(self, interaction: discord.Interaction, options: dict[str, Any]) -> None:
        if (own := await self._own_rows(interaction)) is None:
            return
        answer = await instructor.privacy_show(*own)
        await send_messages(interaction, render_messages(answer), ephemeral=True)

    async def forget(self, interaction: discord.Interaction, options: dict[str, Any]) -> None:
        if (own := await self._own_rows(interaction)) is None:
            forget_conversations(self.bot, interaction.user.id)  # nothing logged to confirm: the chat's memory goes now
            return
        prompt, anything = await instructor.forget_prompt(*own)
        if not anything:  # no button to press: the chat's memory goes now
            forget_conversations(self.bot, interaction.user.id)
        view = forget_view() if anything else None
        await send_messages(interaction, render_messages(prompt), ephemeral=True, view=view)


async def setup(bot: TutorBot) -> None:
    await bot.add_cog(Privacy(bot))
