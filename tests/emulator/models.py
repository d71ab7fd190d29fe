"""The emulator's world (users, a guild, channels) and its records (requests, messages, interactions).

Payload builders produce the JSON Discord documents for each object, with snowflakes as strings
and every key discord.py reads without a default, so that the real client parses them exactly as
it parses Discord's. Records are plain dataclasses the tests read and assert on; the awaitable
helpers wait on a :class:`Signal` the server pulses whenever anything is recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from . import limits as L
from .validation import Issue, UploadedFile

T = TypeVar("T")

DISCORD_EPOCH_MS = 1420070400000

#: What @everyone (and the bot's role) may do in the emulated guild: read, write, embed, attach, use apps.
EVERYONE_PERMS = (
    L.PERM_VIEW_CHANNEL
    | L.PERM_SEND_MESSAGES
    | L.PERM_EMBED_LINKS
    | L.PERM_ATTACH_FILES
    | L.PERM_READ_MESSAGE_HISTORY
    | L.PERM_USE_EXTERNAL_EMOJIS
    | L.PERM_USE_APPLICATION_COMMANDS
)


class SnowflakeFactory:
    """Real-format snowflakes (timestamp << 22 | worker | process | increment) so discord.py's
    ``created_at`` and ordering behave as with Discord's ids."""

    def __init__(self, worker: int = 1, process: int = 1) -> None:
        self._counter = itertools.count()
        self._worker = worker & 0x1F
        self._process = process & 0x1F
        self._last = 0

    def __call__(self) -> int:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        ms = max(ms, self._last)
        self._last = ms
        return (ms << 22) | (self._worker << 17) | (self._process << 12) | (next(self._counter) & 0xFFF)


def iso(ts: dt.datetime | None) -> str | None:
    """ISO-8601 with offset, the timestamp format of Discord's payloads."""
    return ts.isoformat() if ts else None


def utcnow() -> dt.datetime:
    """Aware UTC now; Discord never sends naive timestamps."""
    return dt.datetime.now(dt.UTC)


class Signal:
    """A pulse the server fires after every recorded change; waiters re-check their condition.

    One signal for everything keeps waiting simple and race-free: a waiter checks, then sleeps until
    the next pulse (or 50 ms), so a change between check and sleep cannot be missed (the event is
    replaced only after being set).
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def pulse(self) -> None:
        """Wake every waiter (called from the emulator's loop)."""
        self._event.set()
        self._event = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float, what: str) -> T:
        """Wait until ``predicate()`` returns something other than None; TimeoutError names ``what``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value is not None:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout:.1f}s waiting for {what}")
            event = self._event
            with contextlib.suppress(TimeoutError):
                # Re-check at least every 50 ms, so predicates on state outside the emulator (the
                # bot's own records, in-process tests) work too.
                await asyncio.wait_for(event.wait(), min(remaining, 0.05))


# --- The world -------------------------------------------------------------------------------------


@dataclass
class User:
    """A Discord user (or the bot user); ``payload()`` is Discord's user object."""

    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    locale: str = "en-US"

    @property
    def mention(self) -> str:
        """The mention markup, handy for asserting that nobody gets pinged."""
        return f"<@{self.id}>"

    def payload(self) -> dict[str, Any]:
        """Discord's user object; discord.py requires id, username, discriminator and avatar."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "public_flags": 0,
            "flags": 0,
        }
        if self.bot:
            data["bot"] = True
        return data


@dataclass
class Role:
    """A guild role; the @everyone role has the guild's id."""

    id: int
    name: str
    permissions: int
    position: int = 0
    managed: bool = False

    def payload(self) -> dict[str, Any]:
        """Discord's role object (permissions as a string, like every permission bit set)."""
        return {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "managed": self.managed,
            "mentionable": False,
            "flags": 0,
        }


@dataclass
class Channel:
    """A channel: guild text (0), DM (1) or group DM (3)."""

    id: int
    name: str | None
    type: int = 0
    guild_id: int | None = None
    position: int = 0
    topic: str | None = None
    recipients: list[User] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        """Discord's channel object, guild or private flavour."""
        if self.type in (1, 3):
            data: dict[str, Any] = {
                "id": str(self.id),
                "type": self.type,
                "last_message_id": None,
                "flags": 0,
                "recipients": [u.payload() for u in self.recipients],
            }
            if self.type == 3:
                data.update(name=self.name, icon=None, owner_id=str(self.recipients[0].id) if self.recipients else None)
            return data
        data = {
            "id": str(self.id),
            "type": self.type,
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [],
            "parent_id": None,
            "topic": self.topic,
            "nsfw": False,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        return data


@dataclass
class Member:
    """A user's membership of a guild."""

    user: User
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: dt.datetime = field(default_factory=utcnow)

    def payload(self, *, permissions: int | None = None) -> dict[str, Any]:
        """Discord's guild member object; ``permissions`` is added in interaction payloads only."""
        data: dict[str, Any] = {
            "user": self.user.payload(),
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "roles": [str(r) for r in self.roles],
            "joined_at": iso(self.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data


@dataclass
class Guild:
    """A guild with roles, text channels and members; ``create_payload`` is its GUILD_CREATE."""

    id: int
    name: str
    owner_id: int
    roles: list[Role]
    channels: list[Channel]
    members: dict[int, Member]
    preferred_locale: str = "en-US"
    joined_at: dt.datetime = field(default_factory=utcnow)

    @property
    def text_channel(self) -> Channel:
        """The default channel interactions come from."""
        return next(c for c in self.channels if c.type == 0)

    def role(self, role_id: int) -> Role:
        """A role by id (KeyError if absent, which is a test bug)."""
        return next(r for r in self.roles if r.id == role_id)

    def permissions_for(self, user_id: int) -> int:
        """Base permissions from @everyone and the member's roles; administrators get every bit."""
        if user_id == self.owner_id:
            return (1 << 53) - 1
        member = self.members.get(user_id)
        perms = self.role(self.id).permissions
        for rid in member.roles if member else ():
            perms |= self.role(rid).permissions
        if perms & L.PERM_ADMINISTRATOR:
            return (1 << 53) - 1
        return perms

    def create_payload(self, *, bot_id: int, all_members: bool) -> dict[str, Any]:
        """GUILD_CREATE: members are only the bot unless the GUILD_MEMBERS intent was identified with,
        as Discord sends them."""
        members = [m for uid, m in self.members.items() if all_members or uid == bot_id]
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "roles": [r.payload() for r in self.roles],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": str(self.text_channel.id),
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": self.preferred_locale,
            "nsfw_level": 0,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "incidents_data": None,
            "joined_at": iso(self.joined_at),
            "large": False,
            "unavailable": False,
            "member_count": len(self.members),
            "voice_states": [],
            "members": [m.payload() for m in members],
            "channels": [c.payload() for c in self.channels],
            "threads": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }


# --- Records -----------------------------------------------------------------------------------------


@dataclass
class RequestRecord:
    """One REST request as the emulator saw it, with the status it answered."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    body: Any
    files: list[UploadedFile]
    operation_id: str | None
    at: float
    duration: float = 0.0
    response: Any = None
    peer: str | None = None


@dataclass
class ValidationFailure:
    """A request the emulator rejected the way Discord would; tests assert this list is empty."""

    method: str
    path: str
    operation_id: str | None
    status: int
    code: int
    message: str
    errors: dict[str, Any]
    issues: list[Issue]
    body: Any
    interaction_id: int | None = None

    def __str__(self) -> str:
        lines = [f"{self.method} {self.path} -> {self.status} {self.code} {self.message}"]
        lines += [f"  {'.'.join(map(str, i.path)) or '<body>'}: {i.code} {i.message} [{i.source}]" for i in self.issues]
        return "\n".join(lines)


@dataclass
class AttachmentRecord:
    """A file attached to a message: bytes, name, alt text, as Discord would store it."""

    id: int
    filename: str
    description: str | None
    content_type: str
    data: bytes = field(repr=False)
    url: str = ""
    ephemeral: bool = False

    @property
    def size(self) -> int:
        """Size in bytes."""
        return len(self.data)

    def payload(self) -> dict[str, Any]:
        """Discord's attachment object."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": self.size,
            "url": self.url,
            "proxy_url": self.url,
            "content_type": self.content_type,
        }
        if self.description is not None:
            data["description"] = self.description
        if self.ephemeral:
            data["ephemeral"] = True
        return data


@dataclass
class MessageRecord:
    """A message the bot created (interaction response, follow-up, or channel message).

    Edits update it in place; ``history`` keeps every body that created or edited it, in order.
    """

    id: int
    channel_id: int
    guild_id: int | None
    author: User
    kind: str  # "original", "followup" or "channel"
    interaction_id: int | None = None
    interaction_type: int | None = None
    interaction_name: str | None = None
    interaction_user: User | None = None
    application_id: int | None = None
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[AttachmentRecord] = field(default_factory=list)
    flags: int = 0
    tts: bool = False
    allowed_mentions: dict[str, Any] | None = None
    #: True when every body that created or edited the message carried ``allowed_mentions``.
    allowed_mentions_set: bool = False
    created_at: dt.datetime = field(default_factory=utcnow)
    edited_at: dt.datetime | None = None
    deleted: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)
    #: Users the content mentions (``<@id>``), as Discord parses them from the text.
    mentions: list[User] = field(default_factory=list)
    #: The ``message_reference`` the message was created with (a reply), as Discord stores it.
    message_reference: dict[str, Any] | None = None
    #: The message it replies to (``referenced_message`` in its payload).
    referenced: MessageRecord | None = field(default=None, repr=False)
    #: A user's message: the MESSAGE_CREATE payload the bot received (content rules applied), or
    #: None when the bot's intents did not ask for it (then it received nothing).
    delivered: dict[str, Any] | None = None

    @property
    def is_reply(self) -> bool:
        """Whether it was sent as a reply (message reference type 0, DEFAULT)."""
        return self.message_reference is not None and self.message_reference.get("type", 0) == 0

    @property
    def ephemeral(self) -> bool:
        """Whether only the invoking user sees it (flag 1 << 6)."""
        return bool(self.flags & L.FLAG_EPHEMERAL)

    @property
    def loading(self) -> bool:
        """Whether it is still the "thinking…" placeholder of a deferred response."""
        return bool(self.flags & L.FLAG_LOADING)

    @property
    def embed(self) -> dict[str, Any] | None:
        """The first embed, which is what most assertions look at."""
        return self.embeds[0] if self.embeds else None

    def custom_ids(self) -> list[str]:
        """Every component custom_id on the message, in order (rows flattened)."""
        out: list[str] = []

        def walk(items: list[Any]) -> None:
            for c in items:
                if isinstance(c, dict):
                    if isinstance(c.get("custom_id"), str):
                        out.append(c["custom_id"])
                    walk(c.get("components") or [])

        walk(self.components)
        return out

    def find_component(self, custom_id: str) -> dict[str, Any] | None:
        """The component with this custom_id, searched through rows and containers."""

        def walk(items: list[Any]) -> dict[str, Any] | None:
            for c in items:
                if isinstance(c, dict):
                    if c.get("custom_id") == custom_id:
                        return c
                    found = walk(c.get("components") or [])
                    if found:
                        return found
            return None

        return walk(self.components)

    def rewrite_custom_id(self, old: str, new: str) -> None:
        """Change one component's custom_id in place: the message as an older (or broken) build of
        the bot would have sent it, for tests of what the current build does with such a press.
        Discord itself never changes a custom_id; a press still needs it to be on the message."""
        component = self.find_component(old)
        if component is None:
            raise KeyError(f"message {self.id} has no component {old!r}")
        component["custom_id"] = new

    def payload(self) -> dict[str, Any]:
        """Discord's message object (what REST answers and what a component interaction carries)."""
        kind = 20 if self.kind == "original" and self.interaction_type == 2 else 19 if self.is_reply else 0
        data: dict[str, Any] = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "type": kind,
            "author": self.author.payload(),
            "content": self.content,
            "timestamp": iso(self.created_at),
            "edited_timestamp": iso(self.edited_at),
            "tts": self.tts,
            "mention_everyone": False,
            "mentions": [u.payload() for u in self.mentions],
            "mention_roles": [],
            "attachments": [a.payload() for a in self.attachments],
            "embeds": [_normalise_embed(e) for e in self.embeds],
            "components": self.components,
            "pinned": False,
            "flags": self.flags,
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if self.message_reference is not None:
            data["message_reference"] = dict(self.message_reference)
            # "referenced_message … null if the message was deleted"; one level deep, as Discord sends it.
            data["referenced_message"] = (
                None
                if self.referenced is None or self.referenced.deleted
                else {k: v for k, v in self.referenced.payload().items() if k != "referenced_message"}
            )
        if self.application_id is not None:
            data["webhook_id"] = str(self.application_id)
            data["application_id"] = str(self.application_id)
        if self.interaction_id is not None and self.interaction_user is not None:
            data["interaction_metadata"] = {
                "id": str(self.interaction_id),
                "type": self.interaction_type or 2,
                "user": self.interaction_user.payload(),
                "authorizing_integration_owners": {},
            }
        return data


def _normalise_embed(embed: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in embed.items() if v is not None}
    out.setdefault("type", "rich")
    return out


@dataclass
class CallbackRecord:
    """One POST to the interaction callback endpoint, accepted or not."""

    type: int | None
    data: Any
    status: int
    accepted: bool
    at: float
    elapsed: float  # seconds since the INTERACTION_CREATE was dispatched
    files: list[UploadedFile] = field(default_factory=list)
    message: MessageRecord | None = None
    error: dict[str, Any] | None = None

    @property
    def choices(self) -> list[dict[str, Any]]:
        """Autocomplete results (type 8), or an empty list."""
        if isinstance(self.data, dict) and isinstance(self.data.get("choices"), list):
            return self.data["choices"]
        return []


@dataclass
class InteractionRecord:
    """An interaction the emulator dispatched, with everything the bot did about it.

    ``dispatched_at``/``responded_at`` are ``time.monotonic()`` values (the clock starts when the
    INTERACTION_CREATE frame is written to the bot's socket, as Discord's does when it sends it).
    """

    id: int
    token: str
    type: int
    name: str | None
    payload: dict[str, Any]
    user: User
    guild_id: int | None
    channel_id: int
    context: int
    user_install_only: bool
    signal: Signal = field(repr=False)
    deadline: float = L.INITIAL_RESPONSE_DEADLINE_S
    token_lifetime: float = L.TOKEN_LIFETIME_S
    attachment_size_limit: int = L.DEFAULT_ATTACHMENT_SIZE_LIMIT
    focused: str | None = None
    focused_type: int | None = None
    created_at: float = field(default_factory=time.monotonic)
    dispatched_at: float | None = None
    responded_at: float | None = None
    late: bool = False
    initial: CallbackRecord | None = None
    callbacks: list[CallbackRecord] = field(default_factory=list)
    original: MessageRecord | None = None
    followups: list[MessageRecord] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)
    rejected_followups: int = 0
    source_message: MessageRecord | None = None
    modal: dict[str, Any] | None = None  # the MODAL (callback type 9) the bot opened, as it sent it
    modal_submitted: bool = False  # a modal closes when submitted: the client sends it once

    @property
    def deadline_met(self) -> bool | None:
        """True if the initial response came within the deadline, False if it came late or the
        deadline has passed without one, None while the clock is still running (or before dispatch)."""
        if self.initial is not None:
            return not self.late and (self.latency or 0.0) <= self.deadline
        if self.late:
            return False
        if self.dispatched_at is not None and time.monotonic() - self.dispatched_at > self.deadline:
            return False
        return None

    def messages(self) -> list[MessageRecord]:
        """The original response and every follow-up, the messages this token may edit."""
        return ([self.original] if self.original is not None else []) + list(self.followups)

    @property
    def latency(self) -> float | None:
        """Seconds from dispatch to the accepted initial response."""
        if self.dispatched_at is None or self.responded_at is None:
            return None
        return self.responded_at - self.dispatched_at

    @property
    def response_type(self) -> int | None:
        """The accepted initial callback type (4 message, 5 deferred, 6/7 component, 8 autocomplete, 9 modal)."""
        return self.initial.type if self.initial else None

    @property
    def choices(self) -> list[dict[str, Any]]:
        """Autocomplete choices the bot answered with."""
        return self.initial.choices if self.initial else []

    async def response(self, timeout: float = 5.0) -> CallbackRecord:
        """Wait for the accepted initial response; a rejected one does not count (see ``callbacks``)."""
        return await self.signal.wait_for(lambda: self.initial, timeout, f"the initial response to {self.name!r}")

    async def wait_for_followups(self, n: int = 1, timeout: float = 5.0) -> list[MessageRecord]:
        """Wait until at least ``n`` follow-ups exist; returns them all."""
        return await self.signal.wait_for(
            lambda: list(self.followups) if len(self.followups) >= n else None,
            timeout,
            f"{n} follow-up(s) to {self.name!r} (have {len(self.followups)})",
        )

    async def wait_for_edit(self, n: int = 1, timeout: float = 5.0) -> MessageRecord:
        """Wait until the original response was edited ``n`` times; returns the original message."""
        return await self.signal.wait_for(
            lambda: self.original if self.original is not None and len(self.edits) >= n else None,
            timeout,
            f"{n} edit(s) of the original response to {self.name!r}",
        )

    async def wait_for_final(self, timeout: float = 5.0) -> MessageRecord:
        """Wait until the original response exists and is no longer a loading placeholder."""
        return await self.signal.wait_for(
            lambda: self.original if self.original is not None and not self.original.loading else None,
            timeout,
            f"a final (non-loading) response to {self.name!r}",
        )


@dataclass
class ConnectionRecord:
    """A gateway websocket connection: who connected, how it authenticated, how it ended."""

    peer: str
    path: str
    query: dict[str, str]
    opened_at: float
    op: str | None = None  # "IDENTIFY" or "RESUME"
    session_id: str | None = None
    resumed: bool = False
    heartbeats: int = 0
    closed_at: float | None = None
    close_code: int | None = None
    closed_by: str | None = None  # "client", "server" or "drop"


@dataclass
class SyncRecord:
    """One bulk overwrite of commands: what the bot sent and what the emulator stored."""

    guild_id: int | None
    sent: Any
    stored: list[dict[str, Any]]
    status: int
