"""The user's side of Discord: what a person does in the client, turned into INTERACTION_CREATE.

``invoke``/``autocomplete``/``click``/``submit_modal`` first refuse what the Discord client would not offer (a
command outside its scope, ``contexts`` or ``integration_types``; a user without its
``default_member_permissions``; a missing required option, a value outside the choices or bounds),
then build the interaction exactly as documented at
https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object and
dispatch it on the gateway. Kept apart from ``server.py`` so the emulator's two roles stay legible:
this module plays the user, the rest plays Discord.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from . import limits as L
from .models import EVERYONE_PERMS, Channel, Guild, InteractionRecord, MessageRecord, Role, Signal, User
from .validation import modal_inputs

if TYPE_CHECKING:
    from .gateway import Gateway
    from .models import SnowflakeFactory

Install = Literal["guild", "user", "both"]

# Interaction context types:
# https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object-interaction-context-types
CONTEXT_GUILD, CONTEXT_BOT_DM, CONTEXT_PRIVATE_CHANNEL = 0, 1, 2
# Application integration types:
# https://discord.com/developers/docs/resources/application#application-object-application-integration-types
GUILD_INSTALL, USER_INSTALL = 0, 1


class EmulatorUsageError(ValueError):
    """The test asked for something the Discord client would not let a user do (unknown command,
    missing required option, a choice that is not offered, a guild-only command in a DM, …)."""


@dataclass
class Where:
    """Where an interaction happens: guild (or None for a DM), channel, context, installs, user."""

    guild: Guild | None
    channel: Channel
    context: int
    owners: dict[str, str]
    user: User


class UserActions:
    """Mixin of :class:`~emulator.server.DiscordEmulator`: the user's actions."""

    if TYPE_CHECKING:
        application_id: int
        bot_user: User
        users: dict[str, User]
        guild: Guild
        guilds: list[Guild]
        install_types: list[int]
        ack_deadline: float
        token_lifetime: float
        signal: Signal
        snowflake: SnowflakeFactory
        interactions: list[InteractionRecord]
        _commands: dict[int | None, list[dict[str, Any]]]
        _dm_channels: dict[tuple[int, ...], Channel]
        _interactions_by_id: dict[int, InteractionRecord]
        _interactions_by_token: dict[str, InteractionRecord]
        _gateway: Gateway

        @property
        def user(self) -> User: ...

        @property
        def channel(self) -> Channel: ...

        def channel_by_id(self, cid: str) -> Channel | None: ...

        def message(self, mid: int | str) -> MessageRecord | None: ...

    def _where(
        self, guild: bool | Guild, user: User, context: int | None, install: Install | None, channel: Channel | None
    ) -> Where:
        """Resolve guild/DM, context and installation into the interaction's surroundings."""
        if guild:
            g = self.guild if guild is True else guild
            if user.id not in g.members:
                raise EmulatorUsageError(f"{user.username} is not a member of {g.name}")
            install = install or "guild"
            owners = {}
            if install in ("guild", "both"):
                owners["0"] = str(g.id)
            if install in ("user", "both"):
                owners["1"] = str(user.id)
            return Where(g, channel or g.text_channel, CONTEXT_GUILD, owners, user)
        context = CONTEXT_PRIVATE_CHANNEL if context is None else context
        if context == CONTEXT_BOT_DM:
            install = install or "user"
            owners = {}
            if install in ("guild", "both"):
                # "The value will be "0" if the interaction is triggered from a DM with the app's bot user"
                owners["0"] = "0"
            if install in ("user", "both"):
                owners["1"] = str(user.id)
            return Where(None, channel or self.dm_channel(user, self.bot_user), context, owners, user)
        if context == CONTEXT_PRIVATE_CHANNEL:
            if install not in (None, "user"):
                raise EmulatorUsageError("PRIVATE_CHANNEL interactions only exist for user installs")
            peer = self.users["friend"] if user is not self.users["friend"] else self.users["student"]
            return Where(None, channel or self.dm_channel(user, peer), context, {"1": str(user.id)}, user)
        raise EmulatorUsageError(f"context {context} is not a DM context; pass guild=True for GUILD")

    def dm_channel(self, *users: User) -> Channel:
        """The (single) DM channel between these users, created on first use."""
        key = tuple(sorted(u.id for u in users))
        if key not in self._dm_channels:
            self._dm_channels[key] = Channel(self.snowflake(), None, 1, None, 0, None, list(users))
        return self._dm_channels[key]

    def _find_command(self, name: str, where: Where, *, check: bool) -> dict[str, Any]:
        candidates: list[dict[str, Any]] = []
        if where.guild is not None:
            candidates += [c for c in self._commands.get(where.guild.id, []) if c["name"] == name and c["type"] == 1]
        candidates += [c for c in self._commands.get(None, []) if c["name"] == name and c["type"] == 1]
        if not candidates:
            raise EmulatorUsageError(f"/{name} is not a synced command in this scope")
        if not check:
            return candidates[0]
        reasons = []
        for cmd in candidates:
            reason = self._unavailable_reason(cmd, where)
            if reason is None:
                return cmd
            reasons.append(reason)
        raise EmulatorUsageError(f"Discord would not offer /{name} here: {'; '.join(reasons)}")

    def _unavailable_reason(self, cmd: dict[str, Any], where: Where) -> str | None:
        """Why the Discord client would not show this command here (None: it would)."""
        if "guild_id" in cmd:
            if where.guild is None or cmd["guild_id"] != str(where.guild.id):
                return "guild commands are not available outside their guild"
            if "0" not in where.owners:
                return "guild commands need the app installed in the guild"
        else:
            contexts = cmd.get("contexts")
            if contexts is None:
                contexts = [0, 1, 2] if cmd.get("dm_permission", True) else [0, 2]
            if where.context not in contexts:
                return f"contexts {contexts} exclude context {where.context}"
            types = cmd.get("integration_types") or self.install_types
            if not {int(k) for k in where.owners} & set(types):
                return f"integration_types {types} exclude the installation(s) {sorted(where.owners)}"
        dmp = cmd.get("default_member_permissions")
        if dmp is not None and where.guild is not None and "0" in where.owners:
            member_perms = where.guild.permissions_for(where.user.id)
            required = int(dmp)
            is_admin = member_perms & L.PERM_ADMINISTRATOR
            if (required == 0 and not is_admin) or (member_perms & required) != required:
                return f"the user lacks default_member_permissions {dmp}"
        return None

    def _option_defs(
        self, cmd: dict[str, Any], group: str | None, subcommand: str | None, *, strict: bool = True
    ) -> list[dict[str, Any]]:
        """The option definitions a user fills in for this (sub)command (not ``strict``: a group's
        own, when a forged client names no subcommand)."""
        options = cmd.get("options") or []
        if group is not None:
            grp = next((o for o in options if o.get("type") == 2 and o["name"] == group), None)
            if grp is None:
                raise EmulatorUsageError(f"/{cmd['name']} has no subcommand group {group!r}")
            options = grp.get("options") or []
        if subcommand is not None:
            sub = next((o for o in options if o.get("type") == 1 and o["name"] == subcommand), None)
            if sub is None:
                raise EmulatorUsageError(f"/{cmd['name']} has no subcommand {subcommand!r}")
            options = sub.get("options") or []
        if strict and any(o.get("type") in (1, 2) for o in options):
            raise EmulatorUsageError(f"/{cmd['name']} has subcommands; pass subcommand=…")
        return options

    def _convert(
        self,
        defn: dict[str, Any],
        value: Any,
        where: Where,
        resolved: dict[str, dict[str, Any]],
        *,
        strict: bool,
    ) -> Any:
        """A user's input for one option as Discord delivers it, checked as the client checks it."""
        kind, name = defn.get("type"), defn["name"]
        if kind == 3:
            if not isinstance(value, str):
                raise EmulatorUsageError(f"option {name} is a STRING")
            lo, hi = defn.get("min_length"), defn.get("max_length")
            if strict and ((lo is not None and len(value) < lo) or (hi is not None and len(value) > hi)):
                raise EmulatorUsageError(f"option {name}: length outside {lo}…{hi}")
        elif kind in (4, 10):
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or (kind == 4 and not isinstance(value, int))
            ):
                raise EmulatorUsageError(f"option {name} is {'an INTEGER' if kind == 4 else 'a NUMBER'}")
            lo, hi = defn.get("min_value"), defn.get("max_value")
            if strict and ((lo is not None and value < lo) or (hi is not None and value > hi)):
                raise EmulatorUsageError(f"option {name}: {value} outside {lo}…{hi}")
        elif kind == 5:
            if not isinstance(value, bool):
                raise EmulatorUsageError(f"option {name} is a BOOLEAN")
        elif kind in (6, 9) and isinstance(value, User):
            resolved.setdefault("users", {})[str(value.id)] = value.payload()
            if where.guild is not None and value.id in where.guild.members:
                member = where.guild.members[value.id].payload(permissions=where.guild.permissions_for(value.id))
                member.pop("user")
                resolved.setdefault("members", {})[str(value.id)] = member
            value = str(value.id)
        elif kind in (8, 9) and isinstance(value, Role):
            resolved.setdefault("roles", {})[str(value.id)] = value.payload()
            value = str(value.id)
        elif kind == 7 and isinstance(value, Channel):
            allowed = defn.get("channel_types")
            if strict and allowed and value.type not in allowed:
                raise EmulatorUsageError(f"option {name}: channel type {value.type} not in {allowed}")
            data = value.payload() | {"permissions": str(EVERYONE_PERMS)}
            resolved.setdefault("channels", {})[str(value.id)] = data
            value = str(value.id)
        else:
            raise EmulatorUsageError(f"option {name}: unsupported type {kind} / value {value!r}")
        choices = defn.get("choices")
        if strict and choices and value not in [c["value"] for c in choices]:
            raise EmulatorUsageError(f"option {name}: {value!r} is not one of the offered choices")
        return value

    def _command_data(
        self,
        cmd: dict[str, Any],
        options: Mapping[str, Any],
        where: Where,
        group: str | None,
        subcommand: str | None,
        focused: str | None,
        *,
        check: bool = True,
    ) -> tuple[dict[str, Any], int | None]:
        defs = self._option_defs(cmd, group, subcommand, strict=check)
        by_name = {d["name"]: d for d in defs}
        resolved: dict[str, dict[str, Any]] = {}
        leaf: list[dict[str, Any]] = []
        focused_type = None
        for key, value in options.items():
            defn = by_name.get(key)
            if defn is None and not check:  # a forged client: an option the command lacks, as a string
                defn = {"type": 3, "name": key}
            if defn is None:
                raise EmulatorUsageError(f"/{cmd['name']} has no option {key!r} (has {sorted(by_name)})")
            if key == focused:
                if check and not defn.get("autocomplete"):
                    raise EmulatorUsageError(f"option {key} does not have autocomplete")
                focused_type = defn.get("type")
                # While typing, the focused option's value is the raw text so far.
                leaf.append({"type": defn["type"], "name": key, "value": str(value), "focused": True})
                continue
            if check or isinstance(value, User | Role | Channel):
                value = self._convert(defn, value, where, resolved, strict=focused is None)
            leaf.append({"type": defn["type"], "name": key, "value": value})
        if focused is None and check:
            missing = [d["name"] for d in defs if d.get("required") and d["name"] not in options]
            if missing:
                raise EmulatorUsageError(f"/{cmd['name']}: required option(s) {missing} missing")
        elif focused is not None and focused not in options:
            raise EmulatorUsageError(f"focused option {focused!r} must be given in options")
        nested: list[dict[str, Any]] = leaf
        if subcommand is not None:
            nested = [{"type": 1, "name": subcommand, "options": leaf}]
            if group is not None:
                nested = [{"type": 2, "name": group, "options": nested}]
        data: dict[str, Any] = {"id": cmd["id"], "name": cmd["name"], "type": 1}
        if nested:
            data["options"] = nested
        if "guild_id" in cmd:
            data["guild_id"] = cmd["guild_id"]
        if resolved:
            data["resolved"] = resolved
        return data, focused_type

    def _interaction_payload(
        self, itype: int, data: dict[str, Any], user: User, where: Where, iid: int, token: str, locale: str
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": itype,
            "data": data,
            "channel": where.channel.payload(),
            "channel_id": str(where.channel.id),
            "token": token,
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "authorizing_integration_owners": where.owners,
            "context": where.context,
            "attachment_size_limit": L.DEFAULT_ATTACHMENT_SIZE_LIMIT,
        }
        if where.guild is not None:
            g = where.guild
            perms = g.permissions_for(user.id)
            payload["guild"] = {"id": str(g.id), "locale": g.preferred_locale, "features": []}
            payload["guild_id"] = str(g.id)
            payload["guild_locale"] = g.preferred_locale
            payload["member"] = g.members[user.id].payload(permissions=perms)
            payload["channel"]["permissions"] = str(perms)
            app_perms = g.permissions_for(self.bot_user.id) if "0" in where.owners else L.DM_APP_PERMISSIONS
            payload["app_permissions"] = str(app_perms)
        else:
            payload["user"] = user.payload()
            bot_dm = where.context == CONTEXT_BOT_DM
            payload["app_permissions"] = str(L.BOT_DM_APP_PERMISSIONS if bot_dm else L.DM_APP_PERMISSIONS)
        return payload

    async def _dispatch_interaction(
        self,
        itype: int,
        name: str | None,
        data: dict[str, Any],
        user: User,
        where: Where,
        locale: str,
        *,
        focused: str | None = None,
        focused_type: int | None = None,
        source: MessageRecord | None = None,
    ) -> InteractionRecord:
        session = self._gateway.session
        if session is None or not session.valid:
            raise EmulatorUsageError("no bot is connected: wait_for_ready() first")
        iid = self.snowflake()
        token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(96)
        payload = self._interaction_payload(itype, data, user, where, iid, token, locale)
        if source is not None:
            payload["message"] = source.payload()
        rec = InteractionRecord(
            id=iid,
            token=token,
            type=itype,
            name=name,
            payload=payload,
            user=user,
            guild_id=where.guild.id if where.guild else None,
            channel_id=where.channel.id,
            context=where.context,
            user_install_only=set(where.owners) == {"1"},
            signal=self.signal,
            deadline=self.ack_deadline,
            token_lifetime=self.token_lifetime,
            focused=focused,
            focused_type=focused_type,
            source_message=source,
        )
        self.interactions.append(rec)
        self._interactions_by_id[iid] = rec
        self._interactions_by_token[token] = rec

        def sent() -> None:
            rec.dispatched_at = time.monotonic()

        await self._gateway.dispatch("INTERACTION_CREATE", payload, on_sent=sent)
        return rec

    async def invoke(
        self,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        user: User | str | None = None,
        guild: bool | Guild = True,
        subcommand: str | None = None,
        group: str | None = None,
        context: int | None = None,
        install: Install | None = None,
        channel: Channel | None = None,
        locale: str | None = None,
        check: bool = True,
    ) -> InteractionRecord:
        """Use a slash command as a user would; returns once INTERACTION_CREATE is on the wire.

        ``name`` may carry the subcommand path (``"quiz ask"``). ``guild=False`` is a DM: by default a
        PRIVATE_CHANNEL (context 2) through a user install, ``context=1`` for the bot's DM. With
        ``check`` (default) the command must be one Discord would offer there (scope, ``contexts``,
        ``integration_types``, ``default_member_permissions``) and the options must be what the client
        lets a user submit (required present, choices, bounds). ``check=False`` plays a forged or
        modified client: each value goes as given, of any JSON type (``"5"`` or ``True`` in a NUMBER,
        ``10**400``, a list), unknown options as strings, required options and the subcommand may be
        missing; the payload is otherwise Discord's.
        """
        name, group, subcommand = _command_path(name, group, subcommand)
        who = self._user(user)
        where = self._where(guild, who, context, install, channel)
        cmd = self._find_command(name, where, check=check)
        data, _ = self._command_data(cmd, options or {}, where, group, subcommand, None, check=check)
        full = " ".join(p for p in (name, group, subcommand) if p)
        return await self._dispatch_interaction(2, full, data, who, where, locale or who.locale)

    async def autocomplete(
        self,
        name: str,
        options: Mapping[str, Any],
        focused: str,
        *,
        user: User | str | None = None,
        guild: bool | Guild = True,
        subcommand: str | None = None,
        group: str | None = None,
        context: int | None = None,
        install: Install | None = None,
        locale: str | None = None,
        check: bool = True,
    ) -> InteractionRecord:
        """Type into an autocomplete option: an APPLICATION_COMMAND_AUTOCOMPLETE interaction (type 4).
        ``check=False`` may focus an option without autocomplete (a forged client), as ``invoke``."""
        name, group, subcommand = _command_path(name, group, subcommand)
        who = self._user(user)
        where = self._where(guild, who, context, install, None)
        cmd = self._find_command(name, where, check=check)
        data, focused_type = self._command_data(cmd, options, where, group, subcommand, focused, check=check)
        full = " ".join(p for p in (name, group, subcommand) if p)
        return await self._dispatch_interaction(
            4, full, data, who, where, locale or who.locale, focused=focused, focused_type=focused_type
        )

    async def click(
        self,
        message: MessageRecord | int | str,
        custom_id: str,
        *,
        user: User | str | None = None,
        values: list[str] | None = None,
        locale: str | None = None,
        check: bool = True,
    ) -> InteractionRecord:
        """Click a button (or pick ``values`` in a select) on a message the bot sent: type 3.

        ``check=False`` plays a forged or modified client: the ``custom_id`` need not be on the
        message (a garbled one) and anyone may press a button of an ephemeral message, which
        Discord's own client never shows to anybody but its recipient.
        """
        msg = message if isinstance(message, MessageRecord) else self.message(message)
        if msg is None or msg.deleted:
            raise EmulatorUsageError(f"no such message {message!r}")
        component = msg.find_component(custom_id)
        if component is None and check:
            raise EmulatorUsageError(f"message {msg.id} has no component {custom_id!r} (has {msg.custom_ids()})")
        if component is not None and component.get("disabled") and check:
            raise EmulatorUsageError(f"component {custom_id!r} is disabled")
        origin = self._interactions_by_id.get(msg.interaction_id or -1)
        who = self._user(user) if user is not None else (origin.user if origin else self.user)
        if check and msg.ephemeral and origin is not None and who.id != origin.user.id:
            raise EmulatorUsageError("only the invoking user can see (and click) an ephemeral message")
        if origin is not None:
            guild = next((g for g in self.guilds if g.id == origin.guild_id), None)
            channel = self.channel_by_id(str(origin.channel_id))
            owners = origin.payload["authorizing_integration_owners"]
            where = Where(guild, channel or self.channel, origin.context, dict(owners), who)
            if guild is not None and who.id not in guild.members:
                raise EmulatorUsageError(f"{who.username} is not a member of {guild.name}")
        else:
            guild = next((g for g in self.guilds if g.id == msg.guild_id), None)
            channel = self.channel_by_id(str(msg.channel_id)) or self.channel
            ctx = CONTEXT_GUILD if guild else CONTEXT_BOT_DM
            where = Where(guild, channel, ctx, {"0": str(guild.id) if guild else "0"}, who)
        kind = component.get("type", 2) if component is not None else 2
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": kind}
        if values is not None:
            data["values"] = list(values)
        return await self._dispatch_interaction(3, custom_id, data, who, where, locale or who.locale, source=msg)

    async def submit_modal(
        self,
        opened_by: InteractionRecord,
        values: Mapping[str, str] | None = None,
        *,
        user: User | str | None = None,
        locale: str | None = None,
        check: bool = True,
    ) -> InteractionRecord:
        """Fill in and submit the modal the bot opened in answer to ``opened_by``: MODAL_SUBMIT, type 5.

        The submission is built from the modal the bot sent (callback type 9), as the client builds
        it: every text input by its ``custom_id`` with the text typed (``values``; an input not in it
        keeps its pre-filled ``value``), inside the same action row or Label. With ``check`` (default)
        the client's rules apply: only the user who opened it can submit it, once; a required input
        may not be empty; typed text stays within ``min_length``…``max_length``. ``check=False``
        plays a forged client that sends whatever it is given.
        """
        modal = opened_by.modal
        if modal is None:
            raise EmulatorUsageError(f"the bot opened no modal in answer to {opened_by.name!r}")
        typed = dict(values or {})
        inputs = {c.get("custom_id"): c for c, _ in modal_inputs(modal)}
        who = self._user(user) if user is not None else opened_by.user
        if check:
            _check_modal_submit(opened_by, inputs, typed, who)
        components = [_submitted(comp, typed, index) for index, comp in enumerate(modal.get("components") or [])]
        data: dict[str, Any] = {"custom_id": modal.get("custom_id"), "components": components}
        guild = next((g for g in self.guilds if g.id == opened_by.guild_id), None)
        channel = self.channel_by_id(str(opened_by.channel_id)) or self.channel
        owners = dict(opened_by.payload["authorizing_integration_owners"])
        where = Where(guild, channel, opened_by.context, owners, who)
        opened_by.modal_submitted = True
        name = str(modal.get("custom_id"))
        source = opened_by.source_message  # a modal opened from a button carries that button's message
        return await self._dispatch_interaction(5, name, data, who, where, locale or who.locale, source=source)

    def _user(self, user: User | str | None) -> User:
        if user is None:
            return self.user
        if isinstance(user, str):
            try:
                return self.users[user]
            except KeyError:
                raise EmulatorUsageError(f"no user {user!r}; have {sorted(self.users)}") from None
        return user


def _check_modal_submit(
    opened_by: InteractionRecord, inputs: dict[Any, dict[str, Any]], typed: dict[str, str], who: User
) -> None:
    """What the Discord client would refuse to send for a modal (see ``submit_modal``)."""
    if who.id != opened_by.user.id:
        raise EmulatorUsageError("a modal is shown only to the user whose interaction opened it")
    if opened_by.modal_submitted:
        raise EmulatorUsageError("this modal was already submitted (the client closed it)")
    unknown = sorted(set(typed) - set(inputs))
    if unknown:
        raise EmulatorUsageError(f"the modal has no text input(s) {unknown} (has {sorted(map(str, inputs))})")
    for custom_id, comp in inputs.items():
        text = typed.get(custom_id, comp.get("value") or "")
        low, high = comp.get("min_length"), comp.get("max_length")
        if comp.get("required", True) and not text:
            raise EmulatorUsageError(f"text input {custom_id!r} is required: the client will not submit it empty")
        if text and isinstance(low, int) and len(text) < low:
            raise EmulatorUsageError(f"text input {custom_id!r}: {len(text)} characters, fewer than {low}")
        if text and isinstance(high, int) and len(text) > high:
            raise EmulatorUsageError(f"text input {custom_id!r}: {len(text)} characters, more than {high}")


def _submitted(comp: Any, typed: dict[str, str], index: int) -> dict[str, Any]:
    """One top-level modal component as the client submits it: ids numbered in order, each text
    input with its ``value`` (Discord's "Modal Submit Data Structure", on the page
    https://discord.com/developers/docs/interactions/receiving-and-responding)."""

    def text_input(c: dict[str, Any], number: int) -> dict[str, Any]:
        value = typed.get(c.get("custom_id", ""), c.get("value") or "")
        return {"type": 4, "id": c.get("id", number), "custom_id": c.get("custom_id"), "value": value}

    base = 2 * index + 1
    if not isinstance(comp, dict):
        return {"type": 10, "id": base}
    if comp.get("type") == 1:
        children = [
            text_input(c, base + 1 + j) for j, c in enumerate(comp.get("components") or []) if c.get("type") == 4
        ]
        return {"type": 1, "id": comp.get("id", base), "components": children}
    if comp.get("type") == 18 and isinstance(comp.get("component"), dict):
        return {"type": 18, "id": comp.get("id", base), "component": text_input(comp["component"], base + 1)}
    return {"type": comp.get("type", 10), "id": comp.get("id", base)}


def _command_path(name: str, group: str | None, subcommand: str | None) -> tuple[str, str | None, str | None]:
    """``"quiz ask"`` or ``"admin quiz ask"`` split into command, group and subcommand."""
    parts = name.split()
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    if len(parts) == 2:
        return parts[0], group, parts[1]
    return name, group, subcommand
