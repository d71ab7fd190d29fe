"""``DiscordEmulator``: a local Discord (gateway + REST) for end-to-end tests of a discord.py bot.

Typical use (async test, bot in the same loop or in another process)::

    async with DiscordEmulator() as emu:
        # bot: discord.http.Route.BASE = emu.rest_base
        #      discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(emu.gateway_url)
        #      token = emu.token
        await emu.wait_for_ready()
        await emu.wait_for_commands_synced()
        rec = await emu.invoke("nernst", {"ion": "K"})
        response = await rec.response()
        assert rec.deadline_met and not emu.validation_failures

The emulator plays Discord *and* the user: ``invoke``/``autocomplete``/``click`` do what the Discord
client would do (refusing what it would not offer, such as a guild-only command in a DM), then
deliver INTERACTION_CREATE over the gateway exactly as Discord documents it.
"""

from __future__ import annotations

import copy
import mimetypes
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Self

from aiohttp import web

from . import limits as L
from .gateway import INTENT_DIRECT_MESSAGES, INTENT_GUILD_MESSAGES, INTENT_MESSAGE_CONTENT, Gateway
from .interactions import (
    CONTEXT_BOT_DM,
    CONTEXT_GUILD,
    CONTEXT_PRIVATE_CHANNEL,
    GUILD_INSTALL,
    USER_INSTALL,
    EmulatorUsageError,
    UserActions,
)
from .models import (
    EVERYONE_PERMS,
    AttachmentRecord,
    Channel,
    ConnectionRecord,
    Guild,
    InteractionRecord,
    Member,
    MessageRecord,
    RequestRecord,
    Role,
    Signal,
    SnowflakeFactory,
    SyncRecord,
    User,
    ValidationFailure,
    utcnow,
)
from .rest import Rest
from .spec import RELAXATIONS, AppliedRelaxation, Relaxation, load_spec
from .validation import UploadedFile

__all__ = [
    "CONTEXT_BOT_DM",
    "CONTEXT_GUILD",
    "CONTEXT_PRIVATE_CHANNEL",
    "DiscordEmulator",
    "EmulatorUsageError",
    "SyncedCommands",
]


@dataclass
class SyncedCommands:
    """Commands as the bot last sent them and as stored (with ids), globally and per guild."""

    global_sent: list[dict[str, Any]] | None
    global_stored: list[dict[str, Any]]
    guild_sent: dict[int, list[dict[str, Any]]]
    guild_stored: dict[int, list[dict[str, Any]]]

    def names(self, guild: int | None = None) -> set[str]:
        """Names of the stored commands of one scope (None: global)."""
        stored = self.global_stored if guild is None else self.guild_stored.get(guild, [])
        return {c["name"] for c in stored}


class DiscordEmulator(UserActions):
    """A local Discord: REST under :attr:`rest_base`, gateway at :attr:`gateway_url`.

    The user's actions (``invoke``, ``autocomplete``, ``click``) come from :class:`UserActions`.
    All records are plain lists the test can read; everything happens on the event loop that called
    :meth:`start` (use :class:`~emulator.thread.EmulatorThread` to host it for synchronous code).
    """

    relaxations: tuple[Relaxation, ...] = RELAXATIONS

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        ack_deadline: float = L.INITIAL_RESPONSE_DEADLINE_S,
        token_lifetime: float = L.TOKEN_LIFETIME_S,
        heartbeat_interval_ms: int = 41_250,
        compress: bool = True,
        allowed_intents: int | None = None,
        install_types: Iterable[int] = (GUILD_INSTALL, USER_INSTALL),
    ) -> None:
        self.host = host
        self._requested_port = port
        self.port = 0
        self.snowflake = SnowflakeFactory()
        self.application_id = self.snowflake()
        self.token = token or f"{secrets.token_urlsafe(18)}.emulator.{secrets.token_urlsafe(27)}"
        self.ack_deadline = ack_deadline
        self.token_lifetime = token_lifetime
        self.allowed_intents = allowed_intents
        self.install_types = list(install_types)
        #: Validate request bodies against the OpenAPI spec. Only a benchmark that wants to time the bot,
        #: not the emulator's jsonschema work, turns this off (limits and protocol rules still apply).
        self.validate_schemas = True
        self.application_flags = 1 << 23  # APPLICATION_COMMAND_BADGE

        # --- the world: a bot, a few users, one guild with two text channels ---
        self.bot_user = User(self.application_id, "membrane-tutor-emu", "Membrane Tutor (emulated)", bot=True)
        self.users: dict[str, User] = {
            name: User(self.snowflake(), name, display)
            for name, display in (
                ("student", "Sam Student"),
                ("instructor", "Dr. Ina Instructor"),
                ("admin", "Ada Admin"),
                ("outsider", "Otto Outsider"),
                ("friend", "Frieda Friend"),
            )
        }
        gid = self.snowflake()
        instructor_role = Role(self.snowflake(), "Instructor", L.PERM_MANAGE_GUILD, position=1)
        bot_role = Role(self.snowflake(), self.bot_user.username, EVERYONE_PERMS, position=2, managed=True)
        self.guild = Guild(
            id=gid,
            name="Membrane Physiology Study Group",
            owner_id=self.users["admin"].id,
            roles=[Role(gid, "@everyone", EVERYONE_PERMS), instructor_role, bot_role],
            channels=[
                Channel(self.snowflake(), "general", 0, gid, 0, "Questions welcome"),
                Channel(self.snowflake(), "office-hours", 0, gid, 1, None),
            ],
            members={},
        )
        self.guild.members[self.bot_user.id] = Member(self.bot_user, [bot_role.id])
        self.guild.members[self.users["student"].id] = Member(self.users["student"])
        self.guild.members[self.users["instructor"].id] = Member(self.users["instructor"], [instructor_role.id])
        self.guild.members[self.users["admin"].id] = Member(self.users["admin"])
        self.guilds: list[Guild] = [self.guild]
        self._dm_channels: dict[tuple[int, ...], Channel] = {}

        # --- records ---
        self.signal = Signal()
        self.requests: list[RequestRecord] = []
        self.unknown_routes: list[RequestRecord] = []
        self.validation_failures: list[ValidationFailure] = []
        self.relaxations_applied: list[tuple[str, AppliedRelaxation]] = []
        self.gateway_errors: list[tuple[ConnectionRecord, int, str]] = []
        self.connections: list[ConnectionRecord] = []
        self.presence_updates: list[dict[str, Any]] = []
        self.syncs: list[SyncRecord] = []
        self.interactions: list[InteractionRecord] = []
        self.messages: list[MessageRecord] = []
        #: Messages users wrote (``send_message``), with what the bot received of each.
        self.user_messages: list[MessageRecord] = []
        self._commands: dict[int | None, list[dict[str, Any]]] = {}
        self._interactions_by_id: dict[int, InteractionRecord] = {}
        self._interactions_by_token: dict[str, InteractionRecord] = {}
        self._attachments: dict[int, AttachmentRecord] = {}
        self._disruption_index = 0

        self._gateway = Gateway(self, heartbeat_interval_ms=heartbeat_interval_ms, compress=compress)
        self._rest = Rest(self)
        self._runner: web.AppRunner | None = None
        load_spec()  # fail at construction, not at the first request, if the spec is missing

    # --- lifecycle ------------------------------------------------------------------------------------

    async def start(self) -> Self:
        """Bind (port 0 picks a free one) and serve REST and gateway on this event loop."""
        app = web.Application(middlewares=[self._rest.middleware], client_max_size=64 * 1024 * 1024)
        app.add_routes(self._rest.routes())
        app.router.add_get("/gateway", self._gateway.handle)
        app.router.add_get("/gateway-resume", self._gateway.handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        """Close every websocket and the server; idempotent."""
        if self._runner is None:
            return
        await self._gateway.close_all()
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- addresses ------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def rest_base(self) -> str:
        """The value for ``DISCORD_API_BASE`` / ``discord.http.Route.BASE``."""
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        """The value for ``DISCORD_GATEWAY_URL`` / ``DiscordWebSocket.DEFAULT_GATEWAY``."""
        return f"ws://{self.host}:{self.port}/gateway"

    @property
    def gateway_base(self) -> str:
        """What ``GET /gateway`` answers (same as :attr:`gateway_url`)."""
        return self.gateway_url

    @property
    def resume_gateway_url(self) -> str:
        """READY's ``resume_gateway_url``: a different path, so tests can see the client used it."""
        return f"ws://{self.host}:{self.port}/gateway-resume"

    @property
    def channel(self) -> Channel:
        """The default guild's default text channel."""
        return self.guild.text_channel

    @property
    def user(self) -> User:
        """The default invoking user (a guild member without special permissions)."""
        return self.users["student"]

    @property
    def env(self) -> dict[str, str]:
        """Environment for a bot process: token, REST base and gateway URL."""
        return {
            "DISCORD_TOKEN": self.token,
            "DISCORD_API_BASE": self.rest_base,
            "DISCORD_GATEWAY_URL": self.gateway_url,
        }

    # --- payloads other modules ask for -----------------------------------------------------------------

    def ready_payload(self, session_id: str, *, shard: Any = None) -> dict[str, Any]:
        """READY: what discord.py's ``parse_ready`` and ``received_message`` read."""
        me = self.bot_user.payload() | {"verified": True, "mfa_enabled": False}
        data: dict[str, Any] = {
            "v": 10,
            "user": me,
            "guilds": [{"id": str(g.id), "unavailable": True} for g in self.guilds],
            "session_id": session_id,
            "resume_gateway_url": self.resume_gateway_url,
            "application": {"id": str(self.application_id), "flags": self.application_flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "user_settings": {},
            "session_type": "normal",
            "geo_ordered_rtc_regions": ["local"],
        }
        if shard is not None:
            data["shard"] = shard
        return data

    def application_payload(self) -> dict[str, Any]:
        """The application object for ``GET /oauth2/applications/@me``."""
        install = {"scopes": ["applications.commands", "bot"], "permissions": str(EVERYONE_PERMS)}
        return {
            "id": str(self.application_id),
            "name": self.bot_user.global_name,
            "icon": None,
            "description": "Emulated application",
            "summary": "",
            "type": None,
            "hook": True,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": self.application_flags,
            "owner": self.users["admin"].payload(),
            "team": None,
            "bot": self.bot_user.payload(),
            "rpc_origins": [],
            "redirect_uris": [],
            "tags": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "approximate_guild_count": len(self.guilds),
            "approximate_user_install_count": 1,
            "install_params": install,
            "integration_types_config": {
                str(t): {"oauth2_install_params": install if t == GUILD_INSTALL else None} for t in self.install_types
            },
        }

    def note_gateway_error(self, record: ConnectionRecord, code: int, reason: str) -> None:
        """A gateway close the emulator chose (bad token, unknown opcode, …), kept for assertions."""
        self.gateway_errors.append((record, code, reason))

    # --- commands -------------------------------------------------------------------------------------

    def _scope_id(self, guild: bool | int | Guild | None) -> int | None:
        if guild is None or guild is False:
            return None
        if guild is True:
            return self.guild.id
        return guild.id if isinstance(guild, Guild) else int(guild)

    def commands(self, guild: bool | int | Guild | None = None) -> list[dict[str, Any]]:
        """Stored commands of a scope: global (None) or a guild (True for the default guild)."""
        return copy.deepcopy(self._commands.get(self._scope_id(guild), []))

    @property
    def synced_commands(self) -> SyncedCommands:
        """The last successful sync per scope, as sent and as stored."""
        global_sent = None
        guild_sent: dict[int, list[dict[str, Any]]] = {}
        for sync in self.syncs:
            if sync.status != 200:
                continue
            if sync.guild_id is None:
                global_sent = sync.sent
            else:
                guild_sent[sync.guild_id] = sync.sent
        return SyncedCommands(
            global_sent=global_sent,
            global_stored=self.commands(None),
            guild_sent=guild_sent,
            guild_stored={k: copy.deepcopy(v) for k, v in self._commands.items() if k is not None},
        )

    def store_commands(self, guild_id: int | None, sent: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Replace a scope's commands like a bulk overwrite: same name and type keep their id."""
        previous = {(c["type"], c["name"]): c for c in self._commands.get(guild_id, [])}
        stored = []
        for cmd in sent:
            kind = cmd.get("type") or 1
            prev = previous.get((kind, cmd["name"]))
            dmp = cmd.get("default_member_permissions")
            item: dict[str, Any] = {
                "id": prev["id"] if prev else str(self.snowflake()),
                "application_id": str(self.application_id),
                "version": str(self.snowflake()),
                "type": kind,
                "name": cmd["name"],
                "name_localizations": cmd.get("name_localizations"),
                "description": cmd.get("description") or "",
                "description_localizations": cmd.get("description_localizations"),
                "default_member_permissions": None if dmp is None else str(dmp),
                "nsfw": bool(cmd.get("nsfw", False)),
            }
            if cmd.get("options"):
                item["options"] = copy.deepcopy(cmd["options"])
            if guild_id is None:
                item["dm_permission"] = cmd.get("dm_permission", True)
                item["contexts"] = cmd.get("contexts")
                item["integration_types"] = cmd.get("integration_types") or list(self.install_types)
            else:
                item["guild_id"] = str(guild_id)
            stored.append(item)
        self._commands[guild_id] = stored
        self.signal.pulse()
        return copy.deepcopy(stored)

    async def wait_for_commands_synced(
        self, guild: bool | int | Guild | None = None, *, names: Iterable[str] = (), timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        """Wait for a successful bulk overwrite of the scope (containing ``names``, if given)."""
        scope = self._scope_id(guild)
        wanted = set(names)

        def done() -> list[dict[str, Any]] | None:
            for sync in reversed(self.syncs):
                if sync.guild_id == scope and sync.status == 200:
                    if wanted <= {c["name"] for c in sync.stored}:
                        return copy.deepcopy(sync.stored)
                    return None
            return None

        return await self.signal.wait_for(done, timeout, f"a command sync of scope {scope}")

    # --- gateway control --------------------------------------------------------------------------------

    async def wait_for_ready(self, timeout: float = 10.0) -> ConnectionRecord:
        """Wait until a session is identified and READY + GUILD_CREATE have been sent on a live socket."""
        return await self.signal.wait_for(self._live_record, timeout, "the bot to IDENTIFY and get READY")

    def _live_record(self) -> ConnectionRecord | None:
        conn = self._gateway.current()
        return conn.record if conn is not None and conn.live else None

    async def drop_gateway(self, code: int | None = None) -> None:
        """Cut the bot's websocket (abruptly by default, or with a close code) to make it RESUME."""
        self._disruption_index = len(self.connections)
        await self._gateway.drop(code)

    async def invalidate_session(self, *, resumable: bool = False) -> None:
        """Send INVALID_SESSION; ``resumable=False`` forces a fresh IDENTIFY (discord.py waits 5 s
        before re-identifying unless ``before_identify_hook`` is overridden)."""
        self._disruption_index = len(self.connections)
        await self._gateway.invalidate(resumable=resumable)

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT (discord.py closes and RESUMEs)."""
        self._disruption_index = len(self.connections)
        await self._gateway.reconnect()

    async def wait_for_resume(self, timeout: float = 10.0) -> ConnectionRecord:
        """Wait until, after the last disruption, a new connection RESUMEd and replayed."""

        def done() -> ConnectionRecord | None:
            for record in self.connections[self._disruption_index :]:
                if record.op == "RESUME" and record.resumed and self._live_record() is record:
                    return record
            return None

        return await self.signal.wait_for(done, timeout, "the bot to RESUME")

    async def wait_for_identify(self, timeout: float = 15.0) -> ConnectionRecord:
        """Wait until, after the last disruption, a new connection IDENTIFYed and is live."""

        def done() -> ConnectionRecord | None:
            for record in self.connections[self._disruption_index :]:
                if record.op == "IDENTIFY" and self._live_record() is record:
                    return record
            return None

        return await self.signal.wait_for(done, timeout, "the bot to IDENTIFY again")

    @property
    def gateway_log(self) -> list[dict[str, Any]]:
        """Every gateway frame both ways: ``{"dir", "op", "t", "s", "at"}``."""
        return self._gateway.log

    @property
    def session_id(self) -> str | None:
        """The current gateway session id."""
        return self._gateway.session.session_id if self._gateway.session else None

    # --- lookups for the REST side ---------------------------------------------------------------------

    def interaction_by_id(self, iid: str) -> InteractionRecord | None:
        """The interaction with this id (from the callback URL)."""
        return self._interactions_by_id.get(int(iid)) if iid.isdigit() else None

    def interaction_by_token(self, token: str) -> InteractionRecord | None:
        """The interaction whose token a webhook URL carries."""
        return self._interactions_by_token.get(token)

    def channel_by_id(self, cid: str) -> Channel | None:
        """A guild channel or a DM channel by id."""
        for g in self.guilds:
            for c in g.channels:
                if str(c.id) == cid:
                    return c
        return next((c for c in self._dm_channels.values() if str(c.id) == cid), None)

    def message(self, mid: int | str) -> MessageRecord | None:
        """A message the bot created, by id."""
        return next((m for m in self.messages if str(m.id) == str(mid)), None)

    def any_message(self, mid: int | str) -> MessageRecord | None:
        """A message anyone wrote (the bot or a user), by id: what a reply may reference."""
        return self.message(mid) or next((m for m in self.user_messages if str(m.id) == str(mid)), None)

    def attachment_by_id(self, aid: str) -> AttachmentRecord | None:
        """A stored attachment by id (the emulator's CDN)."""
        return self._attachments.get(int(aid)) if aid.isdigit() else None

    # --- creating and editing messages ------------------------------------------------------------------

    def _attachments_for(
        self, data: dict[str, Any], files: list[UploadedFile], existing: list[AttachmentRecord], ephemeral: bool
    ) -> list[AttachmentRecord]:
        """Discord's rules: ``attachments`` lists what the message keeps (existing ids) and adds (file
        indexes); without it, existing files stay and uploads are appended."""
        by_index = {f.index: f for f in files}
        used: set[int] = set()
        entries = data.get("attachments")
        out: list[AttachmentRecord] = list(existing) if entries is None else []
        for entry in entries or []:
            if not isinstance(entry, dict):
                continue
            try:
                aid = int(entry.get("id"))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                continue
            kept = next((a for a in existing if a.id == aid), None)
            if kept is not None:
                if "description" in entry:
                    kept.description = entry["description"]
                out.append(kept)
            elif aid in by_index:
                used.add(aid)
                f = by_index[aid]
                out.append(
                    self._new_attachment(entry.get("filename") or f.filename, entry.get("description"), f, ephemeral)
                )
        for f in files:
            if f.index not in used:
                out.append(self._new_attachment(f.filename, None, f, ephemeral))
        return out

    def _new_attachment(
        self, filename: str, description: str | None, f: UploadedFile, ephemeral: bool
    ) -> AttachmentRecord:
        guessed = mimetypes.guess_type(filename)[0]
        ctype = guessed or (
            f.content_type if f.content_type != "application/octet-stream" else "application/octet-stream"
        )
        aid = self.snowflake()
        att = AttachmentRecord(
            aid, filename, description, ctype, f.data, f"{self.base_url}/attachments/{aid}/{filename}", ephemeral
        )
        self._attachments[aid] = att
        return att

    def _new_message(
        self,
        kind: str,
        rec: InteractionRecord | None,
        channel_id: int,
        guild_id: int | None,
        data: dict[str, Any],
        flags: int,
    ) -> MessageRecord:
        msg = MessageRecord(
            id=self.snowflake(),
            channel_id=channel_id,
            guild_id=guild_id,
            author=self.bot_user,
            kind=kind,
            interaction_id=rec.id if rec else None,
            interaction_type=rec.type if rec else None,
            interaction_name=rec.name if rec else None,
            interaction_user=rec.user if rec else None,
            application_id=self.application_id if rec else None,
            content=data.get("content") or "",
            embeds=list(data.get("embeds") or []),
            components=list(data.get("components") or []),
            flags=flags,
            tts=bool(data.get("tts")),
            allowed_mentions=data.get("allowed_mentions"),
            allowed_mentions_set="allowed_mentions" in data,
        )
        msg.history.append(copy.deepcopy(data))
        self.messages.append(msg)
        return msg

    def accept_callback(
        self, rec: InteractionRecord, ctype: int, data: dict[str, Any], files: list[UploadedFile]
    ) -> MessageRecord | None:
        """Apply an accepted initial response: create, defer or update the message it concerns."""
        flags = data.get("flags") or 0
        if ctype == 4:
            msg = self._new_message(
                "original", rec, rec.channel_id, rec.guild_id, data, flags & L.CALLBACK_MESSAGE_FLAGS
            )
            msg.attachments = self._attachments_for(data, files, [], msg.ephemeral)
            rec.original = msg
            return msg
        if ctype == 5:
            # The "thinking…" placeholder: empty, LOADING, ephemeral if asked.
            msg = self._new_message(
                "original", rec, rec.channel_id, rec.guild_id, {}, L.FLAG_LOADING | (flags & L.FLAG_EPHEMERAL)
            )
            msg.allowed_mentions_set = True  # nothing to mention yet; the edit that fills it is judged
            rec.original = msg
            return msg
        if ctype == 9:
            # The modal opens on the user's screen; ``submit_modal`` fills it in and sends it back.
            rec.modal = copy.deepcopy(data)
            return None
        if ctype in (6, 7) and rec.source_message is not None:
            rec.original = rec.source_message
            if ctype == 7:
                self._apply_edit(rec.source_message, data, files)
            return rec.source_message
        return None

    def callback_response(self, rec: InteractionRecord, ctype: int, msg: MessageRecord | None) -> dict[str, Any]:
        """The interaction callback response object (``?with_response=true``)."""
        interaction: dict[str, Any] = {"id": str(rec.id), "type": rec.type}
        if msg is not None and ctype in (4, 5, 7):
            interaction.update(
                response_message_id=str(msg.id),
                response_message_loading=ctype == 5,
                response_message_ephemeral=msg.ephemeral,
            )
        out: dict[str, Any] = {"interaction": interaction}
        if msg is not None and ctype in (4, 7):
            # "message … Only present if type is either CHANNEL_MESSAGE_WITH_SOURCE or UPDATE_MESSAGE"
            out["resource"] = {"type": ctype, "message": msg.payload()}
        return out

    def _apply_edit(self, msg: MessageRecord, data: dict[str, Any], files: list[UploadedFile]) -> None:
        if "content" in data:
            msg.content = data["content"] or ""
        if "embeds" in data:
            msg.embeds = list(data["embeds"] or [])
        if "components" in data:
            msg.components = list(data["components"] or [])
        if isinstance(data.get("flags"), int):
            keep = L.FLAG_SUPPRESS_EMBEDS | L.FLAG_IS_COMPONENTS_V2
            msg.flags = (msg.flags & ~keep) | (data["flags"] & keep)
        if "attachments" in data or files:
            msg.attachments = self._attachments_for(data, files, msg.attachments, msg.ephemeral)
        if not msg.loading:
            msg.edited_at = utcnow()
        msg.flags &= ~L.FLAG_LOADING
        msg.allowed_mentions = data.get("allowed_mentions", msg.allowed_mentions)
        msg.allowed_mentions_set = msg.allowed_mentions_set and "allowed_mentions" in data
        msg.history.append(copy.deepcopy(data))

    def edit_message(
        self,
        rec: InteractionRecord,
        msg: MessageRecord,
        data: dict[str, Any],
        files: list[UploadedFile],
        *,
        via_followup: bool = False,
    ) -> MessageRecord:
        """A PATCH of ``@original`` or a follow-up (or the first follow-up after a defer)."""
        if via_followup:
            data = {k: v for k, v in data.items() if k != "flags"}  # "The ephemeral flag will be ignored"
        self._apply_edit(msg, data, files)
        if msg is rec.original:
            rec.edits.append(copy.deepcopy(data))
        self.signal.pulse()
        return msg

    def create_followup(self, rec: InteractionRecord, data: dict[str, Any], files: list[UploadedFile]) -> MessageRecord:
        """A follow-up message in the interaction's channel."""
        flags = (data.get("flags") or 0) & L.CALLBACK_MESSAGE_FLAGS
        msg = self._new_message("followup", rec, rec.channel_id, rec.guild_id, data, flags)
        msg.attachments = self._attachments_for(data, files, [], msg.ephemeral)
        rec.followups.append(msg)
        self.signal.pulse()
        return msg

    async def create_channel_message(
        self,
        channel: Channel,
        data: dict[str, Any],
        files: list[UploadedFile],
        *,
        replying_to: MessageRecord | None = None,
    ) -> MessageRecord:
        """A plain bot message (a reply when ``replying_to``); MESSAGE_CREATE goes out if the bot
        identified with the intent."""
        flags = (data.get("flags") or 0) & (L.FLAG_SUPPRESS_EMBEDS | L.FLAG_SUPPRESS_NOTIFICATIONS)
        msg = self._new_message("channel", None, channel.id, channel.guild_id, data, flags)
        msg.attachments = self._attachments_for(data, files, [], False)
        if replying_to is not None:
            msg.referenced = replying_to
            msg.message_reference = {"type": 0, "message_id": str(replying_to.id), "channel_id": str(channel.id)}
            if channel.guild_id is not None:
                msg.message_reference["guild_id"] = str(channel.guild_id)
            if (data.get("allowed_mentions") or {}).get("replied_user"):
                msg.mentions.append(replying_to.author)  # the reply pings its author
        await self._deliver(msg)
        self.signal.pulse()
        return msg

    # --- users writing messages ----------------------------------------------------------------------

    def add_user(self, name: str, display: str | None = None, *, bot: bool = False, member: bool = True) -> User:
        """Another user (or another bot: ``bot=True``), a member of the default guild unless not ``member``."""
        if name in self.users:
            raise EmulatorUsageError(f"there is already a user {name!r}")
        user = User(self.snowflake(), name, display, bot=bot)
        self.users[name] = user
        if member:
            self.guild.members[user.id] = Member(user)
        return user

    async def send_message(
        self,
        content: str,
        *,
        user: User | str | None = None,
        guild: bool | Guild = True,
        channel: Channel | None = None,
        embeds: list[dict[str, Any]] | None = None,
    ) -> MessageRecord:
        """A user writes a message in a guild channel (default) or, with ``guild=False``, in their DM
        with the bot. Mentions are parsed from ``<@id>`` in the text, as Discord does. The bot gets
        MESSAGE_CREATE only if it identified with GUILD_MESSAGES / DIRECT_MESSAGES, and, without the
        MESSAGE_CONTENT intent, with content, embeds, attachments and components emptied unless the
        message mentions it or is a DM (Discord's message content rules). ``delivered`` is what it got.
        """
        who = self._user(user)
        if guild:
            place = self.guild if guild is True else guild
            if who.id not in place.members:
                raise EmulatorUsageError(f"{who.username} is not a member of {place.name}")
            where, guild_id = channel or place.text_channel, place.id
        else:
            if who.bot:  # Discord: 50007 "Cannot send messages to this user"
                raise EmulatorUsageError("bots cannot open a DM with another bot")
            where, guild_id = channel or self.dm_channel(who, self.bot_user), None
        if not content.strip() and not embeds:
            raise EmulatorUsageError("the Discord client does not send an empty message")
        if len(content) > L.MESSAGE_CONTENT_MAX:
            raise EmulatorUsageError(f"the Discord client does not send more than {L.MESSAGE_CONTENT_MAX} characters")
        known = [self.bot_user, *self.users.values()]
        mentions = [u for u in known if f"<@{u.id}>" in content or f"<@!{u.id}>" in content]
        msg = MessageRecord(
            id=self.snowflake(),
            channel_id=where.id,
            guild_id=guild_id,
            author=who,
            kind="user",
            content=content,
            embeds=list(embeds or []),
            mentions=mentions,
        )
        msg.history.append({"content": content, "embeds": msg.embeds})
        self.user_messages.append(msg)
        await self._deliver(msg)
        self.signal.pulse()
        return msg

    def content_visible(self, msg: MessageRecord, intents: int) -> bool:
        """Discord's rule: without MESSAGE_CONTENT an app sees the content of its own messages, of DMs
        with it, and of messages that mention it; nothing else."""
        return bool(
            intents & INTENT_MESSAGE_CONTENT
            or msg.author.id == self.bot_user.id
            or msg.guild_id is None
            or any(u.id == self.bot_user.id for u in msg.mentions)
        )

    async def _deliver(self, msg: MessageRecord) -> None:
        """MESSAGE_CREATE for ``msg``, if the session's intents ask for it, with the content rules applied."""
        session = self._gateway.session
        wanted = INTENT_GUILD_MESSAGES if msg.guild_id else INTENT_DIRECT_MESSAGES
        if session is None or not session.valid or not session.intents & wanted:
            return
        payload = msg.payload()
        if not self.content_visible(msg, session.intents):
            payload.update(content="", embeds=[], attachments=[], components=[])
        if msg.guild_id is not None:
            member = next((g.members.get(msg.author.id) for g in self.guilds if g.id == msg.guild_id), None)
            if member is not None:  # MESSAGE_CREATE carries a partial member (no user) in guilds
                payload["member"] = {k: v for k, v in member.payload().items() if k != "user"}
        msg.delivered = payload
        await self._gateway.dispatch("MESSAGE_CREATE", payload)

    def replies_to(self, msg: MessageRecord) -> list[MessageRecord]:
        """The bot's messages that reply to ``msg``, in order."""
        return [m for m in self.messages if m.referenced is msg]

    async def wait_for_replies(self, msg: MessageRecord, n: int = 1, timeout: float = 10.0) -> list[MessageRecord]:
        """Wait until the bot has replied to ``msg`` at least ``n`` times; returns the replies."""
        return await self.signal.wait_for(
            lambda: self.replies_to(msg) if len(self.replies_to(msg)) >= n else None,
            timeout,
            f"{n} repl(ies) to message {msg.id} (have {len(self.replies_to(msg))})",
        )

    # --- assertions and housekeeping -------------------------------------------------------------------

    @property
    def messages_without_allowed_mentions(self) -> list[MessageRecord]:
        """Messages some body of which did not set ``allowed_mentions`` (the design wants it off everywhere;
        Discord does not require it, so this is reported, never refused)."""
        return [m for m in self.messages if not m.allowed_mentions_set]

    def problems(self) -> list[str]:
        """Everything Discord would have objected to, as readable lines (empty when all is well)."""
        out = [str(f) for f in self.validation_failures]
        out += [f"unknown route {r.method} {r.path} -> {r.status}" for r in self.unknown_routes]
        out += [f"gateway closed {code}: {reason} ({rec.path})" for rec, code, reason in self.gateway_errors]
        out += [
            f"interaction {r.name!r} ({r.id}) missed the {r.deadline:.1f}s deadline"
            for r in self.interactions
            if r.deadline_met is False
        ]
        return out

    def assert_clean(self) -> None:
        """Raise AssertionError listing every problem; a one-line end-of-test check."""
        problems = self.problems()
        if problems:
            raise AssertionError("Discord emulator saw problems:\n" + "\n".join(problems))

    def clear_records(self) -> None:
        """Forget requests, failures and interactions (keeps commands, messages and sessions)."""
        self.requests.clear()
        self.unknown_routes.clear()
        self.validation_failures.clear()
        self.relaxations_applied.clear()
        self.gateway_errors.clear()
        self.interactions.clear()
