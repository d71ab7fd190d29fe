"""The gateway: HELLO, IDENTIFY → READY + GUILD_CREATE, heartbeats, dispatches, RESUME, INVALID_SESSION.

It follows Discord's gateway documentation (https://discord.com/developers/docs/events/gateway) and
what discord.py 2.7's ``gateway.py`` does with it:

* HELLO first; the client heartbeats at once and then every ``heartbeat_interval`` ms; each op 1 gets
  an op 11 ACK.
* IDENTIFY with the right token gets READY (``v``, ``user``, ``guilds`` as unavailable stubs,
  ``session_id``, ``resume_gateway_url``, ``application``) and then one GUILD_CREATE per guild, if
  the GUILDS intent was asked for. A wrong token closes with 4004, as Discord does.
* Every dispatch gets the session's next sequence number and is kept, so that a RESUME with the last
  sequence the client saw replays what it missed, in order, followed by RESUMED.
* ``compress=zlib-stream`` in the URL is honoured like Discord: binary frames from one zlib stream,
  each message ending in a Z_SYNC_FLUSH. Without it (or with ``zstd-stream``, which needs a library
  this environment may not have) frames are plain text, which discord.py also accepts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from . import limits as L
from .models import ConnectionRecord

if TYPE_CHECKING:
    from .server import DiscordEmulator

log = logging.getLogger(__name__)

# Opcodes: https://discord.com/developers/docs/topics/opcodes-and-status-codes#gateway-gateway-opcodes
OP_DISPATCH, OP_HEARTBEAT, OP_IDENTIFY, OP_PRESENCE, OP_VOICE_STATE = 0, 1, 2, 3, 4
OP_RESUME, OP_RECONNECT, OP_REQUEST_MEMBERS, OP_INVALID_SESSION, OP_HELLO, OP_HEARTBEAT_ACK = 6, 7, 8, 9, 10, 11
# Intents: https://discord.com/developers/docs/events/gateway#list-of-intents
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15  # privileged: without it, message content arrives only for mentions and DMs


@dataclass
class Event:
    """A dispatch kept for replay; ``on_sent`` records when it actually reached the client."""

    seq: int
    name: str
    data: dict[str, Any]
    on_sent: Callable[[], None] | None = None
    sent: bool = False


@dataclass
class Session:
    """A gateway session: survives reconnects until invalidated, holds the sequence and the events."""

    session_id: str
    intents: int
    identify: dict[str, Any]
    seq: int = 0
    events: list[Event] = field(default_factory=list)
    conn: Connection | None = None
    valid: bool = True
    resumes: int = 0


class Connection:
    """One websocket: sends (compressed if asked), in order, one at a time."""

    def __init__(
        self, ws: web.WebSocketResponse, request: web.Request, record: ConnectionRecord, compress: bool
    ) -> None:
        self.ws = ws
        self.request = request
        self.record = record
        self.lock = asyncio.Lock()
        self.session: Session | None = None
        self.live = False  # READY (or the RESUME replay) has gone out; dispatches go straight through
        self._zlib = zlib.compressobj() if compress else None

    async def send(self, payload: dict[str, Any]) -> None:
        """Serialise and send one gateway payload (callers hold ``lock`` when order matters)."""
        text = json.dumps(payload, separators=(",", ":"))
        if self._zlib is not None:
            data = self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
            await self.ws.send_bytes(data)
        else:
            await self.ws.send_str(text)


class Gateway:
    """All gateway state of one emulator: sessions, connections, dispatch and disruption."""

    def __init__(self, emulator: DiscordEmulator, *, heartbeat_interval_ms: int, compress: bool) -> None:
        self.emu = emulator
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.compress = compress
        self.sessions: dict[str, Session] = {}
        self.session: Session | None = None  # the current (latest identified) session
        self.connections: list[Connection] = []
        self.log: list[dict[str, Any]] = []  # every frame both ways: direction, op, t, s, at

    # --- helpers ---------------------------------------------------------------------------------

    def _log(self, direction: str, payload: dict[str, Any]) -> None:
        self.log.append(
            {
                "dir": direction,
                "op": payload.get("op"),
                "t": payload.get("t"),
                "s": payload.get("s"),
                "at": time.monotonic(),
            }
        )

    async def _send(self, conn: Connection, payload: dict[str, Any]) -> bool:
        try:
            await conn.send(payload)
        except (ConnectionError, RuntimeError) as exc:  # closing/closed transport
            log.debug("gateway send failed: %s", exc)
            conn.live = False
            return False
        self._log("out", payload)
        return True

    async def _flush(self, conn: Connection, session: Session, after: int) -> None:
        """Send every kept event with seq > ``after`` (caller holds the lock), then go live."""
        i = 0
        while i < len(session.events):
            event = session.events[i]
            i += 1
            if event.seq <= after:
                continue
            ok = await self._send(conn, {"op": OP_DISPATCH, "t": event.name, "s": event.seq, "d": event.data})
            if not ok:
                return
            if not event.sent:
                event.sent = True
                if event.on_sent:
                    event.on_sent()
        conn.live = True
        self.emu.signal.pulse()

    def _next(self, session: Session, name: str, data: dict[str, Any], on_sent: Callable[[], None] | None) -> Event:
        session.seq += 1
        event = Event(session.seq, name, data, on_sent)
        session.events.append(event)
        return event

    # --- public operations ------------------------------------------------------------------------

    async def dispatch(self, name: str, data: dict[str, Any], on_sent: Callable[[], None] | None = None) -> Event:
        """Queue a dispatch on the current session and send it if the bot is connected.

        If it is not (the gateway was dropped), the event waits for the RESUME replay, as on Discord.
        """
        session = self.session
        if session is None or not session.valid:
            raise RuntimeError("no gateway session: the bot has not identified")
        event = self._next(session, name, data, on_sent)
        conn = session.conn
        if conn is not None and conn.live:
            async with conn.lock:
                if conn.live and not event.sent:
                    ok = await self._send(conn, {"op": OP_DISPATCH, "t": name, "s": event.seq, "d": data})
                    if ok:
                        event.sent = True
                        if on_sent:
                            on_sent()
        self.emu.signal.pulse()
        return event

    def current(self) -> Connection | None:
        """The live connection of the current session, if any."""
        if self.session and self.session.conn and not self.session.conn.ws.closed:
            return self.session.conn
        return None

    async def drop(self, code: int | None = None) -> None:
        """Cut the current connection: abruptly (no close frame) or with a close ``code``."""
        conn = self.current()
        if conn is None:
            raise RuntimeError("no live gateway connection to drop")
        conn.live = False
        conn.record.closed_by = "drop"
        if code is None:
            transport = conn.request.transport
            if transport is not None:
                transport.abort()
            else:  # pragma: no cover - aiohttp always keeps it while the handler runs
                await conn.ws.close(code=L.CLOSE_UNKNOWN_ERROR)
        else:
            conn.record.close_code = code
            with contextlib.suppress(asyncio.TimeoutError, ConnectionError):
                await asyncio.wait_for(conn.ws.close(code=code, message=b"emulator drop"), 2.0)

    async def invalidate(self, *, resumable: bool = False) -> None:
        """Send op 9: ``d=false`` ends the session (the client re-IDENTIFYs), ``true`` lets it RESUME."""
        conn = self.current()
        if conn is None or self.session is None:
            raise RuntimeError("no live gateway connection to invalidate")
        if not resumable:
            self.session.valid = False
        conn.live = False
        async with conn.lock:
            await self._send(conn, {"op": OP_INVALID_SESSION, "d": resumable, "s": None, "t": None})

    async def reconnect(self) -> None:
        """Send op 7 RECONNECT; discord.py closes and RESUMEs."""
        conn = self.current()
        if conn is None:
            raise RuntimeError("no live gateway connection")
        conn.live = False
        async with conn.lock:
            await self._send(conn, {"op": OP_RECONNECT, "d": None, "s": None, "t": None})

    async def close_all(self) -> None:
        """Close every open websocket (emulator shutdown)."""
        for conn in list(self.connections):
            conn.live = False
            if not conn.ws.closed:
                if conn.record.closed_by is None:
                    conn.record.closed_by = "server"
                with contextlib.suppress(asyncio.TimeoutError, ConnectionError, RuntimeError):
                    await asyncio.wait_for(conn.ws.close(code=1001, message=b"emulator stopping"), 1.0)

    # --- the websocket handler --------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """aiohttp handler for ``/gateway`` and the ``resume_gateway_url`` path."""
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        query = dict(request.query)
        peer = request.transport.get_extra_info("peername") if request.transport else None
        record = ConnectionRecord(
            peer=f"{peer[0]}:{peer[1]}" if peer else "?", path=request.path, query=query, opened_at=time.monotonic()
        )
        self.emu.connections.append(record)
        conn = Connection(ws, request, record, compress=self.compress and query.get("compress") == "zlib-stream")
        self.connections.append(conn)
        self.emu.signal.pulse()
        try:
            if query.get("v") != "10":
                await self._close(conn, L.CLOSE_INVALID_API_VERSION, "Invalid API version")
                return ws
            if query.get("encoding", "json") != "json":
                await self._close(conn, L.CLOSE_DECODE_ERROR, "Only the json encoding is emulated")
                return ws
            async with conn.lock:
                await self._send(conn, {"op": OP_HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    raw: str | bytes = msg.data
                elif msg.type == WSMsgType.BINARY:
                    raw = msg.data
                else:
                    break
                try:
                    payload = json.loads(raw)
                    if not isinstance(payload, dict):
                        raise ValueError("not an object")
                except ValueError:
                    await self._close(conn, L.CLOSE_DECODE_ERROR, "Error while decoding payload")
                    break
                self._log("in", payload)
                await self._on_payload(conn, payload)
                if ws.closed:
                    break
        finally:
            conn.live = False
            if record.closed_at is None:
                record.closed_at = time.monotonic()
            if record.close_code is None:
                record.close_code = ws.close_code
            if record.closed_by is None:
                record.closed_by = "client"
            session = conn.session
            if session is not None and session.conn is conn:
                session.conn = None
                if record.closed_by == "client" and record.close_code in (1000, 1001):
                    # "Closing with 1000 or 1001 invalidates the session" (Gateway docs, Disconnecting);
                    # discord.py closes that way on Client.close() and after op 9 d=false.
                    session.valid = False
            self.emu.signal.pulse()
        return ws

    async def _close(self, conn: Connection, code: int, reason: str) -> None:
        conn.live = False
        conn.record.close_code = code
        conn.record.closed_by = "server"
        self.emu.note_gateway_error(conn.record, code, reason)
        with contextlib.suppress(asyncio.TimeoutError, ConnectionError):
            await asyncio.wait_for(conn.ws.close(code=code, message=reason.encode()), 2.0)

    async def _on_payload(self, conn: Connection, payload: dict[str, Any]) -> None:
        op, d = payload.get("op"), payload.get("d")
        if op == OP_HEARTBEAT:
            conn.record.heartbeats += 1
            async with conn.lock:
                await self._send(conn, {"op": OP_HEARTBEAT_ACK})
        elif op == OP_IDENTIFY:
            await self._identify(conn, d if isinstance(d, dict) else {})
        elif op == OP_RESUME:
            await self._resume(conn, d if isinstance(d, dict) else {})
        elif op in (OP_PRESENCE, OP_VOICE_STATE, OP_REQUEST_MEMBERS):
            if conn.session is None:
                await self._close(conn, L.CLOSE_NOT_AUTHENTICATED, "Not authenticated.")
                return
            if op == OP_PRESENCE:
                self.emu.presence_updates.append(payload)
            elif op == OP_REQUEST_MEMBERS and isinstance(d, dict):
                await self._members_chunk(conn, d)
        else:
            await self._close(conn, L.CLOSE_UNKNOWN_OPCODE, "Unknown opcode.")

    async def _authenticated(self, conn: Connection, d: dict[str, Any]) -> bool:
        """IDENTIFY and RESUME alike: once per connection, with the bot's token; else Discord's close."""
        if conn.session is not None:
            await self._close(conn, L.CLOSE_ALREADY_AUTHENTICATED, "Already authenticated.")
            return False
        if d.get("token") != self.emu.token:
            await self._close(conn, L.CLOSE_AUTHENTICATION_FAILED, "Authentication failed.")
            return False
        return True

    async def _identify(self, conn: Connection, d: dict[str, Any]) -> None:
        if not await self._authenticated(conn, d):
            return
        intents = d.get("intents")
        if not isinstance(intents, int) or intents < 0:
            await self._close(conn, L.CLOSE_INVALID_INTENTS, "Invalid intent(s).")
            return
        if self.emu.allowed_intents is not None and intents & ~self.emu.allowed_intents:
            await self._close(conn, 4014, "Disallowed intent(s).")
            return
        session = Session(session_id=secrets.token_hex(16), intents=intents, identify=d)
        self.sessions[session.session_id] = session
        if self.session is not None and self.session.conn is not None and self.session.conn is not conn:
            self.session.conn.live = False
        self.session = session
        session.conn = conn
        conn.session = session
        conn.record.op = "IDENTIFY"
        conn.record.session_id = session.session_id
        ready = self.emu.ready_payload(session.session_id, shard=d.get("shard"))
        self._next(session, "READY", ready, None)
        if intents & INTENT_GUILDS:
            for guild in self.emu.guilds:
                payload = guild.create_payload(
                    bot_id=self.emu.bot_user.id, all_members=bool(intents & INTENT_GUILD_MEMBERS)
                )
                self._next(session, "GUILD_CREATE", payload, None)
        async with conn.lock:
            await self._flush(conn, session, after=0)

    async def _resume(self, conn: Connection, d: dict[str, Any]) -> None:
        if not await self._authenticated(conn, d):
            return
        session = self.sessions.get(str(d.get("session_id")))
        seq = d.get("seq")
        conn.record.op = "RESUME"
        if session is None or not session.valid or not isinstance(seq, int) or seq > session.seq:
            # Discord answers an unresumable RESUME with op 9 d=false; the client then identifies anew.
            async with conn.lock:
                await self._send(conn, {"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        old = session.conn
        if old is not None and old is not conn:
            old.live = False
        session.conn = conn
        conn.session = session
        conn.record.session_id = session.session_id
        session.resumes += 1
        self._next(session, "RESUMED", {}, None)
        async with conn.lock:
            await self._flush(conn, session, after=seq)
        conn.record.resumed = True
        self.emu.signal.pulse()

    async def _members_chunk(self, conn: Connection, d: dict[str, Any]) -> None:
        guild = next((g for g in self.emu.guilds if str(g.id) == str(d.get("guild_id"))), None)
        if guild is None or conn.session is None:
            return
        ids = {str(u) for u in d.get("user_ids") or []}
        members = [m.payload() for uid, m in guild.members.items() if not ids or str(uid) in ids]
        chunk = {"guild_id": str(guild.id), "members": members, "chunk_index": 0, "chunk_count": 1, "not_found": []}
        if d.get("nonce"):
            chunk["nonce"] = d["nonce"]
        await self.dispatch("GUILD_MEMBERS_CHUNK", chunk)
