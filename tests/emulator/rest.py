"""The REST API under ``/api/v10``: login, application info, gateway discovery, command sync,
interaction callbacks, webhook follow-ups and edits, channel messages, and attachment downloads.

Every request is logged. Every body goes through the OpenAPI schema of its operation (after the
documented relaxations) and through the limits list; a body that fails either is refused with the
status and JSON error Discord uses, and the refusal is recorded in ``validation_failures``. Status
codes and JSON codes follow https://discord.com/developers/docs/topics/opcodes-and-status-codes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

from aiohttp import hdrs, web

from . import limits as L
from .models import (
    CallbackRecord,
    Channel,
    InteractionRecord,
    MessageRecord,
    RequestRecord,
    SyncRecord,
    ValidationFailure,
)
from .spec import find_operation, validate_body
from .validation import (
    Issue,
    UploadedFile,
    check_autocomplete,
    check_commands,
    check_message,
    check_modal,
    form_errors,
    is_empty_message,
    merge,
)

if TYPE_CHECKING:
    from .server import DiscordEmulator

API_PREFIX = "/api/v10"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Which callback types each interaction type may answer with:
# https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-response-object-interaction-callback-type
ALLOWED_CALLBACKS: dict[int, set[int]] = {
    2: {4, 5, 9, 12},  # APPLICATION_COMMAND
    3: {4, 5, 6, 7, 9},  # MESSAGE_COMPONENT
    4: {8},  # APPLICATION_COMMAND_AUTOCOMPLETE
    5: {4, 5, 6, 7},  # MODAL_SUBMIT
}


def json_response(data: Any, status: int = 200) -> web.Response:
    """JSON with the bare ``application/json`` content type: discord.py's ``json_or_text`` compares
    the header for equality and would otherwise hand the caller a string."""
    return web.Response(body=json.dumps(data).encode(), status=status, content_type="application/json")


def discord_error(status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> web.Response:
    """Discord's error body: ``{"message", "code"}`` plus ``errors`` for form errors."""
    body: dict[str, Any] = {"message": message, "code": code}
    if errors:
        body["errors"] = errors
    return json_response(body, status)


class Refused(Exception):
    """Raised by a route's checks with Discord's error response; the middleware sends it, so
    handlers read as the happy path instead of passing error responses back up."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def query_bool(value: str | None) -> bool:
    """Discord's boolean query strings: True, true or 1 (https://discord.com/developers/docs/reference#boolean-query-strings)."""
    return value in ("True", "true", "1")


@dataclass
class Body:
    """A parsed request body: the JSON (or ``payload_json``) and any ``files[n]`` parts."""

    data: Any = None
    files: list[UploadedFile] = field(default_factory=list)
    multipart: bool = False


BODY_KEY = web.RequestKey("emulator_body", Body)
RESPONSE_KEY = web.RequestKey("emulator_response_body", object)


class BodyError(Exception):
    """The body could not be parsed at all (Discord: 50109 invalid JSON)."""


async def read_body(request: web.Request) -> Body:
    """Parse JSON or ``multipart/form-data`` (``payload_json`` + ``files[n]``) as Discord does."""
    if request.content_type.startswith("multipart/"):
        body = Body(multipart=True)
        form: dict[str, Any] = {}
        reader = await request.multipart()
        async for part in reader:
            name = getattr(part, "name", None) or ""
            if not hasattr(part, "read"):
                continue
            if name == "payload_json":
                try:
                    body.data = json.loads(await part.text())  # type: ignore[union-attr]
                except ValueError as exc:
                    raise BodyError(str(exc)) from exc
            elif name.startswith("files[") and name.endswith("]"):
                try:
                    index = int(name[6:-1])
                except ValueError as exc:
                    raise BodyError(f"bad file field name {name!r}") from exc
                data = await part.read(decode=False)  # type: ignore[union-attr]
                body.files.append(
                    UploadedFile(
                        index=index,
                        field_name=name,
                        filename=getattr(part, "filename", None) or f"file{index}",
                        content_type=part.headers.get(hdrs.CONTENT_TYPE, "application/octet-stream"),
                        data=bytes(data),
                    )
                )
            elif name:
                form[name] = await part.text()  # type: ignore[union-attr]
        if body.data is None:
            body.data = form
        return body
    text = await request.text()
    if not text:
        return Body()
    try:
        return Body(data=json.loads(text))
    except ValueError as exc:
        raise BodyError(str(exc)) from exc


class Rest:
    """Route table and handlers; state lives on the emulator so tests see one place."""

    def __init__(self, emulator: DiscordEmulator) -> None:
        self.emu = emulator

    def routes(self) -> list[web.RouteDef]:
        """aiohttp routes; ``@original`` before ``{message_id}`` so the literal wins."""
        p = API_PREFIX
        wh = p + "/webhooks/{app_id}/{token}"
        return [
            web.get(p + "/users/@me", self.get_me),
            web.get(p + "/oauth2/applications/@me", self.get_application),
            web.get(p + "/applications/@me", self.get_application),
            web.get(p + "/gateway", self.get_gateway),
            web.get(p + "/gateway/bot", self.get_gateway_bot),
            web.get(p + "/applications/{app_id}/commands", self.get_commands),
            web.put(p + "/applications/{app_id}/commands", self.put_commands),
            web.get(p + "/applications/{app_id}/guilds/{guild_id}/commands", self.get_commands),
            web.put(p + "/applications/{app_id}/guilds/{guild_id}/commands", self.put_commands),
            web.post(p + "/interactions/{interaction_id}/{token}/callback", self.post_callback),
            web.post(wh, self.post_followup),
            web.get(wh + "/messages/@original", self.get_webhook_message),
            web.patch(wh + "/messages/@original", self.patch_webhook_message),
            web.delete(wh + "/messages/@original", self.delete_webhook_message),
            web.get(wh + "/messages/{message_id}", self.get_webhook_message),
            web.patch(wh + "/messages/{message_id}", self.patch_webhook_message),
            web.delete(wh + "/messages/{message_id}", self.delete_webhook_message),
            web.get(p + "/channels/{channel_id}", self.get_channel),
            web.post(p + "/channels/{channel_id}/messages", self.post_channel_message),
            web.get("/attachments/{attachment_id}/{filename}", self.get_attachment),
        ]

    # --- plumbing ------------------------------------------------------------------------------------

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Log every API request, and answer unknown routes like Discord (JSON 404/405)."""
        if not request.path.startswith(API_PREFIX + "/"):
            return await handler(request)
        started = time.monotonic()
        sub = request.path[len(API_PREFIX) :]
        unknown = False
        try:
            response = await handler(request)
        except Refused as refused:
            response = refused.response
        except web.HTTPMethodNotAllowed:
            response, unknown = discord_error(405, 0, "405: Method Not Allowed"), True
        except web.HTTPNotFound:
            response, unknown = discord_error(404, 0, "404: Not Found"), True
        body: Body | None = request.get(BODY_KEY)
        operation = find_operation(request.method, sub)
        record = RequestRecord(
            method=request.method,
            path=sub,
            query=dict(request.query),
            status=response.status,
            body=body.data if body else None,
            files=body.files if body else [],
            operation_id=operation.operation_id if operation else None,
            at=started,
            duration=time.monotonic() - started,
            response=request.get(RESPONSE_KEY),
            peer=request.remote,
        )
        self.emu.requests.append(record)
        if unknown:
            self.emu.unknown_routes.append(record)
        self.emu.signal.pulse()
        return response

    def _auth(self, request: web.Request) -> None:
        """Bot routes need ``Authorization: Bot <token>``; anything else is Discord's bare 401."""
        if request.headers.get(hdrs.AUTHORIZATION) != f"Bot {self.emu.token}":
            self._refuse(request, 401, 0, "401: Unauthorized", [])

    def _refuse(
        self,
        request: web.Request,
        status: int,
        code: int,
        message: str,
        issues: list[Issue],
        interaction: InteractionRecord | None = None,
    ) -> NoReturn:
        """Answer like Discord and record why, so a test can assert nothing was refused."""
        errors = form_errors(issues) if issues else {}
        body: Body | None = request.get(BODY_KEY)
        sub = request.path[len(API_PREFIX) :]
        operation = find_operation(request.method, sub)
        self.emu.validation_failures.append(
            ValidationFailure(
                method=request.method,
                path=sub,
                operation_id=operation.operation_id if operation else None,
                status=status,
                code=code,
                message=message,
                errors=errors,
                issues=issues,
                body=body.data if body else None,
                interaction_id=interaction.id if interaction else None,
            )
        )
        raise Refused(discord_error(status, code, message, errors))

    def _invalid(
        self, request: web.Request, issues: list[Issue], interaction: InteractionRecord | None = None
    ) -> NoReturn:
        self._refuse(request, 400, L.ERR_INVALID_FORM_BODY, "Invalid Form Body", issues, interaction)

    async def _body(self, request: web.Request) -> Body:
        try:
            body = await read_body(request)
        except BodyError:
            request[BODY_KEY] = Body()
            self._refuse(request, 400, L.ERR_INVALID_JSON, "The request body contains invalid JSON.", [])
        request[BODY_KEY] = body
        return body

    def _schema_issues(self, request: web.Request, body: Body) -> list[Issue]:
        sub = request.path[len(API_PREFIX) :]
        operation = find_operation(request.method, sub)
        if operation is None or body.data is None or not self.emu.validate_schemas:
            return []
        issues, applied = validate_body(operation, body.data, multipart=body.multipart)
        for relaxation in applied:
            self.emu.relaxations_applied.append((f"{request.method} {sub}", relaxation))
        return [Issue.from_schema(i) for i in issues]

    def _too_large(self, files: list[UploadedFile], limit: int) -> bool:
        return sum(f.size for f in files) > L.FILES_TOTAL_BYTES_MAX or any(f.size > limit for f in files)

    def _ok(self, request: web.Request, data: Any, status: int = 200) -> web.Response:
        request[RESPONSE_KEY] = data
        return json_response(data, status)

    # --- identity and discovery ------------------------------------------------------------------------

    async def get_me(self, request: web.Request) -> web.Response:
        """``GET /users/@me``: what ``Client.login`` (``static_login``) calls first."""
        self._auth(request)
        me = self.emu.bot_user.payload() | {"verified": True, "mfa_enabled": False, "locale": "en-US", "email": None}
        return self._ok(request, me)

    async def get_application(self, request: web.Request) -> web.Response:
        """``GET /oauth2/applications/@me``: ``Client.login`` reads the application id and flags here."""
        self._auth(request)
        return self._ok(request, self.emu.application_payload())

    async def get_gateway(self, request: web.Request) -> web.Response:
        """``GET /gateway``: the websocket URL (no auth needed, as on Discord)."""
        return self._ok(request, {"url": self.emu.gateway_base})

    async def get_gateway_bot(self, request: web.Request) -> web.Response:
        """``GET /gateway/bot``: URL, shard count and session start limits."""
        self._auth(request)
        limit = {"total": 1000, "remaining": 999, "reset_after": 86_400_000, "max_concurrency": 1}
        return self._ok(request, {"url": self.emu.gateway_base, "shards": 1, "session_start_limit": limit})

    # --- commands ----------------------------------------------------------------------------------------

    def _scope(self, request: web.Request) -> int | None:
        if request.match_info["app_id"] != str(self.emu.application_id):
            self._refuse(request, 403, 50001, "Missing Access", [])
        guild_id = request.match_info.get("guild_id")
        if guild_id is None:
            return None
        if not any(str(g.id) == guild_id for g in self.emu.guilds):
            self._refuse(request, 403, 50001, "Missing Access", [])
        return int(guild_id)

    async def get_commands(self, request: web.Request) -> web.Response:
        """List the stored commands of a scope."""
        self._auth(request)
        scope = self._scope(request)
        return self._ok(request, self.emu.commands(scope))

    async def put_commands(self, request: web.Request) -> web.Response:
        """Bulk overwrite (what ``CommandTree.sync`` sends): validate, assign ids, store, return."""
        self._auth(request)
        body = await self._body(request)
        scope = self._scope(request)
        issues = merge(check_commands(body.data), self._schema_issues(request, body))
        if issues:
            self.emu.syncs.append(SyncRecord(scope, body.data, [], 400))
            self._invalid(request, issues)
        stored = self.emu.store_commands(scope, body.data or [])
        self.emu.syncs.append(SyncRecord(scope, body.data, stored, 200))
        return self._ok(request, stored)

    # --- interaction callback ------------------------------------------------------------------------------

    async def post_callback(self, request: web.Request) -> web.Response:
        """``POST /interactions/{id}/{token}/callback``: the one initial response.

        discord.py 2.7 always adds ``?with_response=1`` and builds an ``InteractionCallbackResponse``
        from the 200 body; without it Discord answers 204.
        """
        received = time.monotonic()
        body = await self._body(request)
        rec = self.emu.interaction_by_id(request.match_info["interaction_id"])
        if rec is None or rec.token != request.match_info["token"]:
            self._refuse(request, 404, L.ERR_UNKNOWN_INTERACTION, "Unknown interaction", [])
        elapsed = received - (rec.dispatched_at if rec.dispatched_at is not None else received)
        data = body.data if isinstance(body.data, dict) else {}
        ctype = data.get("type") if isinstance(data.get("type"), int) else None
        attempt = CallbackRecord(ctype, data.get("data"), 0, False, received, elapsed, body.files)
        rec.callbacks.append(attempt)
        if rec.initial is not None:
            attempt.status = 400
            self._refuse(
                request, 400, L.ERR_ALREADY_ACKNOWLEDGED, "Interaction has already been acknowledged.", [], rec
            )
        if elapsed > rec.deadline:
            attempt.status = 404
            rec.late = True
            self.emu.signal.pulse()
            self._refuse(request, 404, L.ERR_UNKNOWN_INTERACTION, "Unknown interaction", [], rec)
        issues: list[Issue] = []
        cdata = data.get("data")
        if ctype is not None and ctype not in ALLOWED_CALLBACKS.get(rec.type, set()):
            issues.append(
                Issue(
                    ("type",),
                    "INTERACTION_CALLBACK_TYPE_INVALID",
                    f"Callback type {ctype} is not valid for interaction type {rec.type}",
                    "limits",
                )
            )
        if ctype in (4, 7):
            issues += check_message(cdata, ("data",), files=body.files, allowed_flags=L.CALLBACK_MESSAGE_FLAGS)
        elif ctype == 5 and isinstance(cdata, dict):
            issues += check_message(cdata, ("data",), allowed_flags=L.DEFERRED_CALLBACK_FLAGS)
        elif ctype == 8:
            issues += check_autocomplete(cdata, ("data",), option_type=rec.focused_type)
        elif ctype == 9:
            issues += check_modal(cdata, ("data",))
        issues = merge(issues, self._schema_issues(request, body))
        if issues:
            attempt.status = 400
            self.emu.signal.pulse()
            self._invalid(request, issues, rec)
        if ctype == 4 and is_empty_message(cdata if isinstance(cdata, dict) else {}, body.files):
            attempt.status = 400
            self._refuse(request, 400, L.ERR_EMPTY_MESSAGE, "Cannot send an empty message", [], rec)
        if self._too_large(body.files, rec.attachment_size_limit):
            attempt.status = 413
            self._refuse(request, 413, L.ERR_REQUEST_TOO_LARGE, "Request entity too large", [], rec)
        message = self.emu.accept_callback(rec, ctype or 0, cdata if isinstance(cdata, dict) else {}, body.files)
        attempt.status = 200 if query_bool(request.query.get("with_response")) else 204
        attempt.accepted = True
        attempt.message = message
        rec.initial = attempt
        rec.responded_at = received
        self.emu.signal.pulse()
        if attempt.status == 204:
            return web.Response(status=204)
        return self._ok(request, self.emu.callback_response(rec, ctype or 0, message))

    # --- webhooks (follow-ups and edits) ---------------------------------------------------------------------

    def _webhook_interaction(self, request: web.Request) -> InteractionRecord:
        if request.match_info["app_id"] != str(self.emu.application_id):
            self._refuse(request, 404, L.ERR_UNKNOWN_WEBHOOK, "Unknown Webhook", [])
        rec = self.emu.interaction_by_token(request.match_info["token"])
        if rec is None:
            self._refuse(request, 401, L.ERR_INVALID_WEBHOOK_TOKEN, "Invalid Webhook Token", [])
        now = time.monotonic()
        start = rec.dispatched_at if rec.dispatched_at is not None else rec.created_at
        if now - start > rec.token_lifetime or (rec.initial is None and now - start > rec.deadline):
            # "If the 3 second deadline is exceeded, the token will be invalidated"; tokens last 15 min.
            self._refuse(request, 401, L.ERR_INVALID_WEBHOOK_TOKEN, "Invalid Webhook Token", [], rec)
        if rec.initial is None:
            self._refuse(request, 404, L.ERR_UNKNOWN_WEBHOOK, "Unknown Webhook", [], rec)
        return rec

    def _webhook_message(self, request: web.Request) -> tuple[InteractionRecord, MessageRecord]:
        """The interaction and the message a ``…/messages/{id|@original}`` route names, or Discord's error."""
        rec = self._webhook_interaction(request)
        msg = self._target(request, rec)
        return rec, msg

    def _target(self, request: web.Request, rec: InteractionRecord) -> MessageRecord:
        mid = request.match_info.get("message_id")
        msg = rec.original if mid is None else next((m for m in rec.messages() if str(m.id) == mid), None)
        if msg is None or msg.deleted:
            self._refuse(request, 404, L.ERR_UNKNOWN_MESSAGE, "Unknown Message", [], rec)
        return msg

    async def post_followup(self, request: web.Request) -> web.Response:
        """``POST /webhooks/{app}/{token}``: a follow-up (``wait`` is always true for interactions)."""
        body = await self._body(request)
        rec = self._webhook_interaction(request)
        data = body.data if isinstance(body.data, dict) else {}
        issues = merge(
            check_message(data, files=body.files, allowed_flags=L.CALLBACK_MESSAGE_FLAGS),
            self._schema_issues(request, body),
        )
        if issues:
            self._invalid(request, issues, rec)
        if is_empty_message(data, body.files):
            self._refuse(request, 400, L.ERR_EMPTY_MESSAGE, "Cannot send an empty message", [], rec)
        if self._too_large(body.files, rec.attachment_size_limit):
            self._refuse(request, 413, L.ERR_REQUEST_TOO_LARGE, "Request entity too large", [], rec)
        if rec.original is not None and rec.original.loading and not rec.followups:
            # "When using this endpoint directly after responding … with DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
            # this endpoint will function as Edit Original Interaction Response" (ephemeral flag ignored).
            message = self.emu.edit_message(rec, rec.original, data, body.files, via_followup=True)
            return self._ok(request, message.payload())
        if rec.user_install_only and len(rec.followups) >= L.USER_INSTALL_FOLLOWUPS_MAX:
            rec.rejected_followups += 1
            self._refuse(
                request,
                400,
                L.ERR_MAX_FOLLOWUPS,
                "This interaction has hit the maximum number of follow up messages",
                [],
                rec,
            )
        message = self.emu.create_followup(rec, data, body.files)
        return self._ok(request, message.payload())

    async def get_webhook_message(self, request: web.Request) -> web.Response:
        """``GET …/messages/@original`` or ``/{id}``."""
        request[BODY_KEY] = Body()
        found = self._webhook_message(request)
        _, msg = found
        return self._ok(request, msg.payload())

    async def patch_webhook_message(self, request: web.Request) -> web.Response:
        """``PATCH …/messages/@original`` or ``/{id}``: edit, with Discord's attachment semantics."""
        body = await self._body(request)
        found = self._webhook_message(request)
        rec, msg = found
        data = body.data if isinstance(body.data, dict) else {}
        issues = merge(check_message(data, files=body.files), self._schema_issues(request, body))
        if issues:
            self._invalid(request, issues, rec)
        if self._too_large(body.files, rec.attachment_size_limit):
            self._refuse(request, 413, L.ERR_REQUEST_TOO_LARGE, "Request entity too large", [], rec)
        message = self.emu.edit_message(rec, msg, data, body.files)
        return self._ok(request, message.payload())

    async def delete_webhook_message(self, request: web.Request) -> web.Response:
        """``DELETE …/messages/@original`` or ``/{id}``: 204."""
        request[BODY_KEY] = Body()
        found = self._webhook_message(request)
        _, msg = found
        msg.deleted = True
        self.emu.signal.pulse()
        return web.Response(status=204)

    # --- channels -----------------------------------------------------------------------------------------------

    async def get_channel(self, request: web.Request) -> web.Response:
        """``GET /channels/{id}`` for the guild's channels and known DMs."""
        self._auth(request)
        channel = self.emu.channel_by_id(request.match_info["channel_id"])
        if channel is None:
            self._refuse(request, 404, 10003, "Unknown Channel", [])
        return self._ok(request, channel.payload())

    async def post_channel_message(self, request: web.Request) -> web.Response:
        """``POST /channels/{id}/messages``: a plain bot message, validated like the rest."""
        self._auth(request)
        body = await self._body(request)
        channel = self.emu.channel_by_id(request.match_info["channel_id"])
        if channel is None:
            self._refuse(request, 404, 10003, "Unknown Channel", [])
        data = body.data if isinstance(body.data, dict) else {}
        issues = merge(check_message(data, files=body.files), self._schema_issues(request, body))
        if issues:
            self._invalid(request, issues)
        if is_empty_message(data, body.files):
            self._refuse(request, 400, L.ERR_EMPTY_MESSAGE, "Cannot send an empty message", [])
        if self._too_large(body.files, L.DEFAULT_ATTACHMENT_SIZE_LIMIT):
            self._refuse(request, 413, L.ERR_REQUEST_TOO_LARGE, "Request entity too large", [])
        replying_to = self._reply_target(request, channel, data.get("message_reference"))
        self._check_channel_permissions(request, channel, reply=replying_to is not None)
        message = await self.emu.create_channel_message(channel, data, body.files, replying_to=replying_to)
        return self._ok(request, message.payload())

    def _reply_target(self, request: web.Request, channel: Channel, reference: Any) -> MessageRecord | None:
        """The message a reply references: in the same channel, existing, or (``fail_if_not_exists``
        true, the default) Discord's 50035 on ``message_reference``; false sends it as a plain message.
        Only DEFAULT (type 0) references are replies; forwards (type 1) are not emulated."""
        if not isinstance(reference, dict):
            return None
        if reference.get("type") not in (None, 0):
            self._invalid(
                request,
                [
                    Issue(
                        ("message_reference", "type"),
                        "MESSAGE_REFERENCE_TYPE_INVALID",
                        "Forwards are not emulated",
                        "limits",
                    )
                ],
            )
        target = self.emu.any_message(str(reference.get("message_id")))
        same_channel = target is not None and target.channel_id == channel.id and not target.deleted
        claimed = reference.get("channel_id")
        if claimed is not None and str(claimed) != str(channel.id):
            same_channel = False
        if same_channel:
            return target
        if reference.get("fail_if_not_exists") is False:
            return None
        self._invalid(
            request, [Issue(("message_reference",), "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message", "limits")]
        )

    def _check_channel_permissions(self, request: web.Request, channel: Channel, *, reply: bool) -> None:
        """In a guild channel the bot needs Send Messages, and Read Message History to reply
        (Create Message: "if replying to a message, READ_MESSAGE_HISTORY permission is required")."""
        if channel.guild_id is None:
            return
        guild = next((g for g in self.emu.guilds if g.id == channel.guild_id), None)
        if guild is None:
            return
        have = guild.permissions_for(self.emu.bot_user.id)
        needed = L.PERM_VIEW_CHANNEL | L.PERM_SEND_MESSAGES | (L.PERM_READ_MESSAGE_HISTORY if reply else 0)
        if have & needed != needed:
            self._refuse(request, 403, L.ERR_MISSING_PERMISSIONS, "Missing Permissions", [])

    async def get_attachment(self, request: web.Request) -> web.Response:
        """The "CDN": serves stored attachment bytes at the URL given in the attachment object."""
        att = self.emu.attachment_by_id(request.match_info["attachment_id"])
        if att is None:
            return discord_error(404, 0, "404: Not Found")
        return web.Response(body=att.data, content_type=att.content_type)
