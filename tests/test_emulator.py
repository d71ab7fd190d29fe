"""The Discord emulator, driven by the real discord.py client.

The client here is a minimal ``discord.Client`` with a ``CommandTree`` defined in this file (not
membrane-tutor's code): the point is to show that the emulator speaks Discord well enough for the
real library (login, READY, GUILD_CREATE, sync, interactions, callbacks, follow-ups, edits,
multipart uploads, RESUME) and that its validator bites where Discord's would (400/50035 and a
recorded failure).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import discord
import pytest
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.webhook.async_ import async_context, interaction_response_params
from emulator import (
    CONTEXT_BOT_DM,
    CONTEXT_PRIVATE_CHANNEL,
    RELAXATIONS,
    DiscordEmulator,
    EmulatorThread,
    EmulatorUsageError,
)
from emulator import limits as L
from emulator.spec import find_operation, find_spec_path, validate_body
from emulator.validation import check_commands, check_message, check_modal, embed_length, form_errors

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)
TOPICS = ["leak-channels", "resting-potential", "nernst-equation", "ghk-equation", "na-k-pump"]


# --- a minimal bot, defined here --------------------------------------------------------------------------


class QuizView(discord.ui.View):
    """One button; clicking it edits the message (UPDATE_MESSAGE)."""

    def __init__(self) -> None:
        super().__init__(timeout=60)

    @discord.ui.button(label="K⁺ leak", custom_id="quiz:answer:k", style=discord.ButtonStyle.primary)
    async def answer(self, interaction: discord.Interaction, button: discord.ui.Button[QuizView]) -> None:
        await interaction.response.edit_message(content=f"Correct, {interaction.user.display_name}!", view=None)
        self.stop()


class AnswerModal(discord.ui.Modal, title="Type your answer"):
    """One text input; the submission is answered privately with what was typed."""

    answer: discord.ui.TextInput[AnswerModal] = discord.ui.TextInput(
        label="Your answer, with a unit", custom_id="answer", min_length=1, max_length=60
    )

    def __init__(self, seen: list[str]) -> None:
        super().__init__(custom_id="modal:answer")
        self.seen = seen

    async def on_submit(self, interaction: discord.Interaction) -> None:
        self.seen.append(self.answer.value)
        await interaction.response.send_message(f"You typed {len(self.answer.value)} characters.", ephemeral=True)


class TypeAnswerView(discord.ui.View):
    """A button that opens the modal (callback type 9 from a component interaction)."""

    def __init__(self, seen: list[str]) -> None:
        super().__init__(timeout=60)
        self.seen = seen

    @discord.ui.button(label="Type my answer", custom_id="quiz:type")
    async def type_answer(self, interaction: discord.Interaction, button: discord.ui.Button[TypeAnswerView]) -> None:
        await interaction.response.send_modal(AnswerModal(self.seen))
        self.stop()  # no timeout task outlives the test


OVERSIZED_MODAL: dict[str, Any] = {
    "custom_id": "m" * 101,
    "title": "t" * 46,
    "components": [
        {"type": 1, "components": [{"type": 4, "style": 1, "custom_id": "a", "label": "l" * 46}]},
        {"type": 1, "components": [{"type": 4, "style": 1, "custom_id": "b", "label": "b", "min_length": 4001}]},
        {"type": 1, "components": [{"type": 4, "style": 1, "custom_id": "c", "label": "c", "max_length": 0}]},
        {
            "type": 1,
            "components": [{"type": 4, "style": 1, "custom_id": "d", "label": "d", "min_length": 9, "max_length": 3}],
        },
        {"type": 18, "label": "e", "component": {"type": 4, "style": 1, "custom_id": "e", "placeholder": "p" * 101}},
        {"type": 1, "components": [{"type": 4, "style": 1, "custom_id": "f", "label": "f"}]},
    ],
}
"""Every modal limit broken once: custom_id 101, title 46, label 46, min_length 4001, max_length 0,
min above max, placeholder 101, and six components."""


class MiniBot(discord.Client):
    """A tiny slash-command bot exercising every path the emulator must support."""

    def __init__(self) -> None:
        super().__init__(
            intents=discord.Intents.default(),
            allowed_mentions=discord.AllowedMentions.none(),
            guild_ready_timeout=0.05,
        )
        self.tree = app_commands.CommandTree(self)
        self.errors: list[Exception] = []
        self.seen: list[discord.Interaction] = []
        self.extra_commands: list[app_commands.Command[Any, Any, Any]] = []
        self.typed: list[str] = []
        self._define()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py sleeps 5 s before a non-initial IDENTIFY; no need to in tests."""

    async def setup_hook(self) -> None:
        for cmd in self.extra_commands:
            self.tree.add_command(cmd)
        await self.tree.sync()

    def _define(self) -> None:
        tree = self.tree
        user_installable = (
            app_commands.allowed_installs(guilds=True, users=True),
            app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True),
        )

        @tree.command(description="Nernst potential of an ion")
        @app_commands.describe(ion="The ion", temperature="°C")
        @app_commands.choices(
            ion=[app_commands.Choice(name="K⁺", value="K"), app_commands.Choice(name="Na⁺", value="Na")]
        )
        @user_installable[0]
        @user_installable[1]
        async def nernst(
            interaction: discord.Interaction, ion: str, temperature: app_commands.Range[float, 0, 50] = 37.0
        ) -> None:
            self.seen.append(interaction)
            embed = discord.Embed(title=f"E_{ion}", description=f"at {temperature} °C: −90.1 mV")
            embed.add_field(name="equation", value="E = RT/zF · ln(out/in)")
            await interaction.response.send_message(embed=embed)

        @tree.command(description="Deferred answer with a follow-up and an edit")
        async def slow(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await asyncio.sleep(0.05)
            await interaction.edit_original_response(content="V_m = −70.2 mV")
            await interaction.followup.send("Derivation follows.", ephemeral=True)
            await interaction.edit_original_response(embed=discord.Embed(title="Resting potential"))

        @tree.command(description="A private answer")
        async def secret(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("only you see this", ephemeral=True)

        async def topic_complete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            return [app_commands.Choice(name=t, value=t) for t in TOPICS if current in t][:25]

        @tree.command(description="Explain a topic")
        @app_commands.autocomplete(topic=topic_complete)
        async def explain(interaction: discord.Interaction, topic: str) -> None:
            await interaction.response.send_message(f"**{topic}**: …")

        async def too_many(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            return [app_commands.Choice(name=f"topic {i}", value=f"t{i}") for i in range(26)]

        @tree.command(description="Autocomplete that offers 26 choices")
        @app_commands.autocomplete(topic=too_many)
        async def greedy(interaction: discord.Interaction, topic: str) -> None:
            await interaction.response.send_message(topic)

        @tree.command(description="A question with a button")
        async def quiz(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("Which leak dominates at rest?", view=QuizView())

        @tree.command(description="Opens a modal with one text input")
        async def answer(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(AnswerModal(self.typed))

        @tree.command(description="A question whose button opens a modal")
        async def numeric(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("E_K?", view=TypeAnswerView(self.typed), ephemeral=True)

        @tree.command(description="Opens a modal that breaks every limit")
        async def bigmodal(interaction: discord.Interaction) -> None:
            try:  # discord.py's Modal refuses six children itself, so go through its HTTP adapter directly
                await async_context.get().create_interaction_response(
                    interaction.id,
                    interaction.token,
                    session=interaction._session,
                    params=interaction_response_params(9, OVERSIZED_MODAL),
                )
            except discord.HTTPException as exc:
                self.errors.append(exc)

        @tree.command(description="A figure with alt text")
        async def plot(interaction: discord.Interaction) -> None:
            file = discord.File(io.BytesIO(PNG), filename="vm.png", description="V_m against [K⁺]out, log axis")
            await interaction.response.send_message("Here:", file=file)

        @tree.command(description="Too much embed text")
        @app_commands.describe(kind="which limit to break")
        async def overflow(interaction: discord.Interaction, kind: str) -> None:
            if kind == "total":  # two embeds, each within 4,096, together 6,001 characters
                embeds = [discord.Embed(description="a" * 4096), discord.Embed(description="b" * 1905)]
            else:  # one field value of 1,025 characters
                embeds = [discord.Embed(title="field").add_field(name="value", value="v" * 1025)]
            try:
                await interaction.response.send_message(embeds=embeds)
            except discord.HTTPException as exc:
                self.errors.append(exc)
                await interaction.response.send_message("That answer was too long for Discord.", ephemeral=True)

        @tree.command(description="Answers twice")
        async def twice(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("first")
            try:  # discord.py refuses a second response itself, so go through its HTTP adapter directly
                await async_context.get().create_interaction_response(
                    interaction.id,
                    interaction.token,
                    session=interaction._session,
                    params=interaction_response_params(4, {"content": "second"}),
                )
            except discord.HTTPException as exc:
                self.errors.append(exc)

        @tree.command(description="Many follow-ups")
        @user_installable[0]
        @user_installable[1]
        async def chatty(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("0")
            for i in range(1, 7):
                try:
                    await interaction.followup.send(str(i))
                except discord.HTTPException as exc:
                    self.errors.append(exc)

        @tree.command(description="Instructor statistics")
        @app_commands.allowed_installs(guilds=True, users=False)
        @app_commands.allowed_contexts(guilds=True, dms=False, private_channels=False)
        @app_commands.default_permissions(manage_guild=True)
        async def stats(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("12 questions this week", ephemeral=True)

        @tree.command(description="Takes too long")
        async def sleepy(interaction: discord.Interaction) -> None:
            await asyncio.sleep(0.4)
            try:
                await interaction.response.send_message("late")
            except discord.HTTPException as exc:
                self.errors.append(exc)


# --- fixtures --------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_leftover_threads() -> Iterator[None]:
    """No keep-alive or emulator thread may outlive a test."""
    before = set(threading.enumerate())
    yield
    for thread in set(threading.enumerate()) - before:
        thread.join(timeout=5)
    leftover = [t.name for t in set(threading.enumerate()) - before if t.is_alive()]
    assert not leftover, f"threads left behind: {leftover}"


@pytest.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    """A fresh emulator per test; checks nothing is left running in the loop afterwards."""
    async with DiscordEmulator(heartbeat_interval_ms=1000) as emulator:
        yield emulator
    pending: list[asyncio.Task[Any]] = []
    for _ in range(40):  # grace for discord.py's own short timers (e.g. _delay_ready), then insist
        await asyncio.sleep(0.025)
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
        if not pending:
            break
    assert not pending, f"tasks left behind: {pending}"


@pytest.fixture
def pointed_at(emu: DiscordEmulator) -> Iterator[DiscordEmulator]:
    """Point discord.py at the emulator (what the bot does with DISCORD_API_BASE/GATEWAY_URL), then restore."""
    old_base, old_gateway = discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = emu.rest_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(emu.gateway_url)
    try:
        yield emu
    finally:
        discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gateway


async def _run(client: MiniBot, emu: DiscordEmulator) -> asyncio.Task[None]:
    task = asyncio.create_task(client.start(emu.token))
    await emu.wait_for_ready()
    await asyncio.wait_for(client.wait_until_ready(), 10)
    return task


async def _shutdown(client: discord.Client, task: asyncio.Task[None]) -> None:
    await client.close()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)


@pytest.fixture
async def bot(pointed_at: DiscordEmulator) -> AsyncIterator[MiniBot]:
    """The mini bot, logged in, READY and synced."""
    client = MiniBot()
    task = await _run(client, pointed_at)
    try:
        yield client
    finally:
        await _shutdown(client, task)


def _failure_paths(emu: DiscordEmulator) -> list[str]:
    return [".".join(map(str, i.path)) for f in emu.validation_failures for i in f.issues]


# --- login, READY, GUILD_CREATE, sync -------------------------------------------------------------------


async def test_login_ready_guild_create_and_sync(bot: MiniBot, emu: DiscordEmulator) -> None:
    assert bot.user is not None and bot.user.id == emu.bot_user.id
    assert bot.application_id == emu.application_id
    guild = bot.get_guild(emu.guild.id)
    assert guild is not None and guild.name == emu.guild.name
    assert {c.name for c in guild.text_channels} == {"general", "office-hours"}
    assert guild.me is not None and guild.member_count == len(emu.guild.members)

    stored = await emu.wait_for_commands_synced(names=["nernst", "stats"])
    by_name = {c["name"]: c for c in stored}
    assert by_name["stats"]["default_member_permissions"] == str(L.PERM_MANAGE_GUILD)
    assert by_name["stats"]["contexts"] == [0] and by_name["stats"]["integration_types"] == [0]
    assert emu.synced_commands.global_sent is not None
    assert emu.synced_commands.names() == {c.name for c in bot.tree.get_commands()}

    # the connection: IDENTIFY with the token, zlib-stream asked for and used, READY's resume URL
    conn = emu.connections[-1]
    assert conn.op == "IDENTIFY" and conn.query["compress"] == "zlib-stream" and conn.query["v"] == "10"
    ready = next(e for e in emu.gateway_log if e["t"] == "READY")
    assert ready["s"] == 1
    assert [e["t"] for e in emu.gateway_log if e["dir"] == "out" and e["op"] == 0][:2] == ["READY", "GUILD_CREATE"]
    assert any(e["op"] == 11 for e in emu.gateway_log), "heartbeat ACK"
    assert conn.heartbeats >= 1
    emu.assert_clean()


async def test_wrong_token_is_login_failure(pointed_at: DiscordEmulator) -> None:
    client = discord.Client(intents=discord.Intents.none())
    try:
        with pytest.raises(discord.LoginFailure):
            await client.login("not-the-token")
    finally:
        await client.close()
    failure = pointed_at.validation_failures[-1]
    assert (failure.status, failure.code, failure.message) == (401, 0, "401: Unauthorized")


async def test_unknown_route_is_discord_404_and_recorded(emu: DiscordEmulator) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{emu.rest_base}/nope/nothing", headers={"Authorization": f"Bot {emu.token}"}) as r:
            assert r.status == 404
            assert r.headers["Content-Type"] == "application/json"
            assert await r.json() == {"message": "404: Not Found", "code": 0}
        async with session.get(f"{emu.rest_base}/gateway") as r:
            assert (await r.json())["url"] == emu.gateway_url
    assert [(r.method, r.path) for r in emu.unknown_routes] == [("GET", "/nope/nothing")]


# --- interactions and responses -------------------------------------------------------------------------


async def test_slash_command_embed_reply(bot: MiniBot, emu: DiscordEmulator) -> None:
    rec = await emu.invoke("nernst", {"ion": "K", "temperature": 37.0})
    response = await rec.response()
    assert response.type == 4 and response.status == 200  # discord.py always asks ?with_response=1
    assert rec.deadline_met is True and rec.latency is not None and rec.latency < L.INITIAL_RESPONSE_DEADLINE_S
    msg = rec.original
    assert msg is not None and msg.embed is not None and msg.embed["title"] == "E_K"
    assert msg.allowed_mentions == {"parse": []} and msg.allowed_mentions_set
    interaction = bot.seen[-1]
    assert interaction.guild_id == emu.guild.id and isinstance(interaction.user, discord.Member)
    assert interaction.context.guild and interaction.app_permissions.send_messages
    assert rec.payload["authorizing_integration_owners"] == {"0": str(emu.guild.id)}
    emu.assert_clean()


async def test_defer_followup_and_edit_original(bot: MiniBot, emu: DiscordEmulator) -> None:
    rec = await emu.invoke("slow")
    assert (await rec.response()).type == 5
    edited = await rec.wait_for_edit(2)
    assert edited.content == "V_m = −70.2 mV" and not edited.loading
    assert edited.embed is not None and edited.embed["title"] == "Resting potential"
    followups = await rec.wait_for_followups(1)
    assert followups[0].content == "Derivation follows." and followups[0].ephemeral
    ops = [r.operation_id for r in emu.requests if r.path.startswith("/webhooks/")]
    assert ops == ["update_original_webhook_message", "execute_webhook", "update_original_webhook_message"]
    emu.assert_clean()


async def test_ephemeral_reply(bot: MiniBot, emu: DiscordEmulator) -> None:
    rec = await emu.invoke("secret")
    await rec.response()
    assert rec.original is not None and rec.original.ephemeral
    emu.assert_clean()


async def test_autocomplete_reply(bot: MiniBot, emu: DiscordEmulator) -> None:
    rec = await emu.autocomplete("explain", {"topic": "eq"}, focused="topic")
    response = await rec.response()
    assert response.type == 8 and response.status == 200
    assert [c["value"] for c in rec.choices] == ["nernst-equation", "ghk-equation"]
    emu.assert_clean()


async def test_button_click_updates_message(bot: MiniBot, emu: DiscordEmulator) -> None:
    rec = await emu.invoke("quiz")
    await rec.response()
    question = rec.original
    assert question is not None and question.custom_ids() == ["quiz:answer:k"]
    click = await emu.click(question, "quiz:answer:k", user="instructor")
    assert (await click.response()).type == 7
    assert question.content.startswith("Correct, Dr. Ina Instructor") and question.components == []
    emu.assert_clean()


async def test_modal_opens_and_its_submit_is_built_from_it(bot: MiniBot, emu: DiscordEmulator) -> None:
    """A slash command answers with a MODAL (type 9); the submit (type 5) carries the typed text
    under the text input's custom_id, inside the action row discord.py sent; the bot answers it."""
    rec = await emu.invoke("answer")
    assert (await rec.response()).type == 9 and rec.original is None
    assert rec.modal is not None and rec.modal["title"] == "Type your answer"
    submit = await emu.submit_modal(rec, {"answer": "−89 mV"})
    assert submit.type == 5 and submit.payload["data"]["custom_id"] == "modal:answer"
    (row,) = submit.payload["data"]["components"]
    assert row["type"] == 1 and [(c["custom_id"], c["value"]) for c in row["components"]] == [("answer", "−89 mV")]
    assert (await submit.response()).type == 4
    assert bot.typed == ["−89 mV"] and submit.original is not None and submit.original.ephemeral
    with pytest.raises(EmulatorUsageError, match="already submitted"):
        await emu.submit_modal(rec, {"answer": "again"})
    emu.assert_clean()


async def test_modal_submit_refuses_what_the_client_would(bot: MiniBot, emu: DiscordEmulator) -> None:
    """Required and empty, shorter or longer than the bounds, an input the modal lacks, another user:
    the client never sends these; ``check=False`` (a forged client) does, and the bot receives it."""
    rec = await emu.invoke("answer")
    await rec.response()
    for values, match in (
        ({"answer": ""}, "required"),
        ({}, "required"),
        ({"answer": "x" * 61}, "more than 60"),
        ({"other": "1"}, "no text input"),
    ):
        with pytest.raises(EmulatorUsageError, match=match):
            await emu.submit_modal(rec, values)
    with pytest.raises(EmulatorUsageError, match="shown only to the user"):
        await emu.submit_modal(rec, {"answer": "1 mV"}, user="instructor")
    assert emu.interactions == [rec]
    forged = await emu.submit_modal(rec, {"answer": "9" * 500}, check=False)
    await forged.response()
    assert bot.typed == ["9" * 500]
    emu.assert_clean()


async def test_a_modal_from_a_button_carries_the_buttons_message(bot: MiniBot, emu: DiscordEmulator) -> None:
    rec = await emu.invoke("numeric")
    await rec.response()
    question = rec.original
    assert question is not None and question.ephemeral
    press = await emu.click(question, "quiz:type")
    assert (await press.response()).type == 9 and press.modal is not None
    submit = await emu.submit_modal(press, {"answer": "-0.089 V"})
    assert (await submit.response()).type == 4
    assert submit.payload["message"]["id"] == str(question.id)
    assert bot.typed == ["-0.089 V"]
    emu.assert_clean()


async def test_a_modal_over_discords_limits_is_refused(bot: MiniBot, emu: DiscordEmulator) -> None:
    rec = await emu.invoke("bigmodal")
    await emu.signal.wait_for(lambda: bot.errors or None, 5, "the oversized modal to be refused")
    (exc,) = bot.errors
    assert isinstance(exc, discord.HTTPException) and exc.status == 400 and exc.code == L.ERR_INVALID_FORM_BODY
    assert rec.initial is None and rec.modal is None
    paths = set(_failure_paths(emu))
    assert paths >= {
        "data.custom_id",
        "data.title",
        "data.components",
        "data.components.0.components.0.label",
        "data.components.1.components.0.min_length",
        "data.components.2.components.0.max_length",
        "data.components.3.components.0.min_length",
        "data.components.4.component.placeholder",
    }, paths


def test_modal_limits_and_the_spec_agree_on_what_discord_py_sends() -> None:
    """discord.py's own modal passes both checks; each single limit, broken, is caught."""
    sent = AnswerModal([]).to_dict()
    assert check_modal(sent) == []
    op = find_operation("POST", "/interactions/1/token/callback")
    assert op is not None
    issues, _ = validate_body(op, {"type": 9, "data": sent})
    assert issues == []
    labelled = {
        "custom_id": "m",
        "title": "Type your answer",
        "components": [{"type": 18, "label": "Answer", "component": {"type": 4, "style": 1, "custom_id": "a"}}],
    }
    assert check_modal(labelled) == []
    assert [".".join(map(str, i.path)) for i in check_modal({**labelled, "title": "t" * 45})] == []
    assert [".".join(map(str, i.path)) for i in check_modal({**labelled, "title": "t" * 46})] == ["title"]
    five = {**labelled, "components": labelled["components"] * 5}
    assert [i.code for i in check_modal(five)] == ["COMPONENT_CUSTOM_ID_DUPLICATED"] * 4
    assert [i.path for i in check_modal({**labelled, "components": []})] == [("components",)]
    row = {"type": 1, "components": [{"type": 4, "style": 1, "custom_id": "a", "label": "l", "min_length": 0}]}
    assert check_modal({**labelled, "components": [row]}) == []
    row["components"][0]["max_length"] = 4000
    assert check_modal({**labelled, "components": [row]}) == []
    row["components"][0]["max_length"] = 4001
    assert [i.path for i in check_modal({**labelled, "components": [row]})] == [
        ("components", 0, "components", 0, "max_length")
    ]


async def test_a_forged_click_reaches_the_bot(bot: MiniBot, emu: DiscordEmulator) -> None:
    """The client shows an ephemeral message's buttons to its recipient only and presses only the
    buttons a message has; ``check=False`` plays a client that does neither."""
    rec = await emu.invoke("numeric")
    await rec.response()
    assert rec.original is not None
    with pytest.raises(EmulatorUsageError, match="ephemeral"):
        await emu.click(rec.original, "quiz:type", user="instructor")
    with pytest.raises(EmulatorUsageError, match="no component"):
        await emu.click(rec.original, "quiz:garbled")
    stranger = await emu.click(rec.original, "quiz:type", user="instructor", check=False)
    assert (await stranger.response()).type == 9
    garbled = await emu.click(rec.original, "quiz:garbled", check=False)
    assert garbled.payload["data"] == {"custom_id": "quiz:garbled", "component_type": 2}
    emu.assert_clean()


async def test_multipart_file_with_alt_text(bot: MiniBot, emu: DiscordEmulator) -> None:
    rec = await emu.invoke("plot")
    await rec.response()
    assert rec.original is not None
    (att,) = rec.original.attachments
    assert (att.filename, att.description, att.content_type, att.data) == (
        "vm.png",
        "V_m against [K⁺]out, log axis",
        "image/png",
        PNG,
    )
    callback = next(r for r in emu.requests if r.operation_id == "create_interaction_response")
    assert callback.files[0].field_name == "files[0]"
    # discord.py sends the snowflake placeholder as an integer; the relaxation turned it into "0"
    fired = [(name, a.path) for name, a in emu.relaxations_applied]
    assert any(a == ("data", "attachments", 0, "id") for _, a in fired)
    async with aiohttp.ClientSession() as session, session.get(att.url) as r:
        assert await r.read() == PNG
    emu.assert_clean()


async def test_resume_after_dropped_gateway_replays_missed_interaction(bot: MiniBot, emu: DiscordEmulator) -> None:
    first_session = emu.session_id
    await emu.drop_gateway()
    rec = await emu.invoke("nernst", {"ion": "Na"})  # sent while the bot is away: must be replayed
    conn = await emu.wait_for_resume()
    assert conn.path == "/gateway-resume"  # the client used READY's resume_gateway_url
    assert emu.session_id == first_session
    assert (await rec.response()).type == 4
    replay = [e["t"] for e in emu.gateway_log if e["dir"] == "out" and e["op"] == 0][-2:]
    assert replay == ["INTERACTION_CREATE", "RESUMED"]  # missed events first, then RESUMED
    seqs = [e["s"] for e in emu.gateway_log if e["dir"] == "out" and e["op"] == 0]
    assert sorted(set(seqs)) == list(range(1, max(seqs) + 1))  # no gaps, no reuse
    after = await emu.invoke("secret")
    assert (await after.response()).type == 4
    emu.assert_clean()


async def test_invalid_session_forces_new_identify(bot: MiniBot, emu: DiscordEmulator) -> None:
    old = emu.session_id
    await emu.invalidate_session(resumable=False)
    conn = await emu.wait_for_identify()
    assert conn.op == "IDENTIFY" and emu.session_id != old
    rec = await emu.invoke("secret")
    assert (await rec.response()).type == 4
    emu.assert_clean()


async def test_user_install_dm_interaction(bot: MiniBot, emu: DiscordEmulator) -> None:
    rec = await emu.invoke("nernst", {"ion": "K"}, guild=False, user="outsider")
    await rec.response()
    payload = rec.payload
    assert "guild_id" not in payload and "member" not in payload and payload["user"]["username"] == "outsider"
    assert payload["context"] == CONTEXT_PRIVATE_CHANNEL
    assert payload["authorizing_integration_owners"] == {"1": str(emu.users["outsider"].id)}
    interaction = bot.seen[-1]
    assert interaction.guild is None and isinstance(interaction.user, discord.User)
    assert interaction.is_user_integration() and not interaction.is_guild_integration()
    bot_dm = await emu.invoke("nernst", {"ion": "Na"}, guild=False, context=CONTEXT_BOT_DM)
    await bot_dm.response()
    assert bot_dm.payload["context"] == CONTEXT_BOT_DM
    # guild-only commands are not offered in DMs, and /stats needs Manage Server
    with pytest.raises(EmulatorUsageError, match="contexts"):
        await emu.invoke("stats", guild=False)
    with pytest.raises(EmulatorUsageError, match="default_member_permissions"):
        await emu.invoke("stats", user="student")
    assert (await (await emu.invoke("stats", user="instructor")).response()).type == 4
    emu.assert_clean()


async def test_user_install_followup_cap(bot: MiniBot, emu: DiscordEmulator) -> None:
    rec = await emu.invoke("chatty", guild=False)
    await rec.wait_for_followups(L.USER_INSTALL_FOLLOWUPS_MAX)
    await emu.signal.wait_for(lambda: bot.errors or None, 5, "the sixth follow-up to fail")
    (exc,) = bot.errors
    assert isinstance(exc, discord.HTTPException) and exc.code == L.ERR_MAX_FOLLOWUPS
    assert len(rec.followups) == 5 and rec.rejected_followups == 1
    # in a guild (guild install) there is no cap
    guild_rec = await emu.invoke("chatty")
    await guild_rec.wait_for_followups(6)


async def test_invoke_refuses_what_the_client_would(bot: MiniBot, emu: DiscordEmulator) -> None:
    with pytest.raises(EmulatorUsageError, match="required"):
        await emu.invoke("nernst")
    with pytest.raises(EmulatorUsageError, match="choices"):
        await emu.invoke("nernst", {"ion": "Xe"})
    with pytest.raises(EmulatorUsageError, match="outside"):
        await emu.invoke("nernst", {"ion": "K", "temperature": 80.0})
    with pytest.raises(EmulatorUsageError, match="not a synced command"):
        await emu.invoke("nope")
    assert emu.interactions == []


# --- the validator bites -----------------------------------------------------------------------------------


async def test_embeds_totalling_6001_characters_are_refused(bot: MiniBot, emu: DiscordEmulator) -> None:
    rec = await emu.invoke("overflow", {"kind": "total"})
    await rec.response()
    (exc,) = bot.errors
    assert isinstance(exc, discord.HTTPException) and exc.status == 400 and exc.code == L.ERR_INVALID_FORM_BODY
    assert "Embed size exceeds maximum size of 6000" in exc.text
    assert rec.callbacks[0].status == 400 and rec.initial is rec.callbacks[1]  # refused, then a short private reply
    (failure,) = emu.validation_failures
    assert failure.errors == {
        "data": {
            "embeds": {
                "_errors": [{"code": "MAX_EMBED_SIZE_EXCEEDED", "message": "Embed size exceeds maximum size of 6000"}]
            }
        }
    }
    assert failure.issues[0].source == "limits"  # the spec alone lets 4,096 + 1,905 through


async def test_field_value_of_1025_characters_is_refused(bot: MiniBot, emu: DiscordEmulator) -> None:
    rec = await emu.invoke("overflow", {"kind": "field"})
    await rec.response()
    (exc,) = bot.errors
    assert exc.status == 400 and exc.code == L.ERR_INVALID_FORM_BODY
    assert _failure_paths(emu) == ["data.embeds.0.fields.0.value"]
    assert "In data.embeds.0.fields.0.value: Must be 1024 or fewer in length." in exc.text


async def test_26_autocomplete_choices_are_refused(bot: MiniBot, emu: DiscordEmulator) -> None:
    rec = await emu.autocomplete("greedy", {"topic": ""}, focused="topic")
    await emu.signal.wait_for(lambda: rec.callbacks or None, 5, "the autocomplete callback")
    assert rec.callbacks[0].status == 400 and rec.initial is None
    (failure,) = emu.validation_failures
    assert (failure.status, failure.code) == (400, L.ERR_INVALID_FORM_BODY)
    assert _failure_paths(emu) == ["data.choices"]
    assert failure.errors["data"]["choices"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"


async def test_second_initial_response_is_40060(bot: MiniBot, emu: DiscordEmulator) -> None:
    rec = await emu.invoke("twice")
    await rec.response()
    await emu.signal.wait_for(lambda: bot.errors or None, 5, "the second response to fail")
    (exc,) = bot.errors
    assert exc.status == 400 and exc.code == L.ERR_ALREADY_ACKNOWLEDGED
    assert [c.status for c in rec.callbacks] == [200, 400]
    assert emu.validation_failures[-1].code == 40060


async def test_late_initial_response_is_unknown_interaction(pointed_at: DiscordEmulator) -> None:
    emu = pointed_at
    emu.ack_deadline = 0.2
    client = MiniBot()
    task = await _run(client, emu)
    try:
        rec = await emu.invoke("sleepy")
        await emu.signal.wait_for(lambda: client.errors or None, 5, "the late response to fail")
        (exc,) = client.errors
        assert isinstance(exc, discord.NotFound) and exc.code == L.ERR_UNKNOWN_INTERACTION
        assert rec.deadline_met is False and rec.initial is None
        assert any("deadline" in p for p in emu.problems())
    finally:
        await _shutdown(client, task)


async def _sync_raw(bot: MiniBot, payload: list[dict[str, Any]]) -> discord.HTTPException:
    assert bot.application_id is not None
    with pytest.raises(discord.HTTPException) as info:
        await bot.http.bulk_upsert_global_commands(bot.application_id, payload=payload)
    return info.value


async def test_upper_case_command_name_is_refused(bot: MiniBot, emu: DiscordEmulator) -> None:
    # discord.py's own name check would stop "Nernst" before it left, so send the payload raw
    exc = await _sync_raw(bot, [{"name": "Nernst", "description": "Nernst potential", "type": 1}])
    assert (exc.status, exc.code) == (400, L.ERR_INVALID_FORM_BODY)
    assert _failure_paths(emu) == ["0.name"]
    assert emu.validation_failures[-1].issues[0].code == "APPLICATION_COMMAND_INVALID_NAME"
    assert emu.synced_commands.names() >= {"nernst"}  # a refused sync changes nothing


async def test_101_character_description_is_refused_through_tree_sync(pointed_at: DiscordEmulator) -> None:
    emu = pointed_at
    client = MiniBot()

    async def cb(interaction: discord.Interaction) -> None:  # pragma: no cover - never invoked
        await interaction.response.send_message("x")

    client.extra_commands.append(app_commands.Command(name="wordy", description="d" * 101, callback=cb))
    with pytest.raises(app_commands.CommandSyncFailure) as info:
        await client.login(emu.token)
    await client.close()
    assert (info.value.status, info.value.code) == (400, L.ERR_INVALID_FORM_BODY)
    assert "In command 'wordy'" in str(info.value)
    index = [c.name for c in client.tree.get_commands()].index("wordy")
    assert _failure_paths(emu) == [f"{index}.description"]


async def test_required_option_after_optional_is_refused(bot: MiniBot, emu: DiscordEmulator) -> None:
    command = {
        "name": "ghk",
        "description": "GHK voltage equation",
        "type": 1,
        "options": [
            {"type": 10, "name": "p_na", "description": "Na⁺ permeability", "required": False},
            {"type": 10, "name": "p_k", "description": "K⁺ permeability", "required": True},
        ],
    }
    exc = await _sync_raw(bot, [command])
    assert (exc.status, exc.code) == (400, L.ERR_INVALID_FORM_BODY)
    assert _failure_paths(emu) == ["0.options.1.required"]
    assert emu.validation_failures[-1].issues[0].code == "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID"


# --- the pieces on their own ---------------------------------------------------------------------------------


def test_relaxations_are_listed_with_reasons() -> None:
    assert {r.name for r in RELAXATIONS} == {"integer-snowflake", "permission-string"}
    assert all(r.reason and r.applies_to and r.change for r in RELAXATIONS)


def test_spec_validation_without_relaxation_would_reject_discord_py() -> None:
    op = find_operation("POST", "/webhooks/1/token")
    assert op is not None and op.operation_id == "execute_webhook"
    body = {"content": "x", "attachments": [{"id": 0, "filename": "a.png"}]}
    issues, applied = validate_body(op, body)
    assert issues == [] and [a.path for a in applied] == [("attachments", 0, "id")]
    assert body["attachments"][0]["id"] == 0  # the caller's body is untouched
    issues, _ = validate_body(op, {"content": "x" * 2001})
    assert [(i.path, i.code) for i in issues] == [(("content",), "BASE_TYPE_MAX_LENGTH")]


def test_limits_checks_and_error_tree() -> None:
    six_thousand_one = [{"title": "t" * 256, "description": "d" * 4096}, {"footer": {"text": "f" * 1649}}]
    assert sum(embed_length(e) for e in six_thousand_one) == 6001
    issues = check_message({"embeds": six_thousand_one, "content": "c" * 2001})
    assert {i.code for i in issues} == {"MAX_EMBED_SIZE_EXCEEDED", "BASE_TYPE_MAX_LENGTH"}
    row = {"type": 1, "components": [{"type": 2, "style": 1, "custom_id": f"b{i}", "label": "x"} for i in range(6)]}
    issues = check_message({"components": [row] * 6})
    assert {".".join(map(str, i.path)) for i in issues} >= {"components", "components.0.components"}
    assert (
        form_errors(check_commands([{"name": "ok", "description": ""}]))["0"]["description"]["_errors"][0]["code"]
        == "BASE_TYPE_BAD_LENGTH"
    )
    dup = check_commands([{"name": "a", "description": "x"}, {"name": "a", "description": "y"}])
    assert [i.code for i in dup] == ["APPLICATION_COMMANDS_DUPLICATE_NAME"]


def test_emulator_thread_for_synchronous_callers() -> None:
    with EmulatorThread() as runner:
        emu = runner.emulator
        assert runner.loop.is_running()
        request = urllib.request.Request(f"{emu.rest_base}/users/@me", headers={"Authorization": f"Bot {emu.token}"})
        with urllib.request.urlopen(request, timeout=5) as r:
            assert json.load(r)["id"] == str(emu.bot_user.id)
        bad = urllib.request.Request(f"{emu.rest_base}/users/@me", headers={"Authorization": "Bot nope"})
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(bad, timeout=5)
        assert info.value.code == 401 and json.load(info.value) == {"message": "401: Unauthorized", "code": 0}
        info.value.close()
        assert runner.call(emu.commands) == []
        with pytest.raises(TimeoutError):
            runner.call(emu.wait_for_ready, timeout=0.1)
        assert emu.env["DISCORD_API_BASE"] == emu.rest_base
    assert not any(t.name == "discord-emulator" for t in threading.enumerate())


async def test_gateway_speaks_zlib_stream_and_closes_bad_tokens(emu: DiscordEmulator) -> None:
    """A raw client: HELLO arrives compressed; a wrong IDENTIFY token closes with 4004 like Discord."""
    inflate = zlib.decompressobj()
    url = f"{emu.gateway_url}?v=10&encoding=json&compress=zlib-stream"
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        msg = await ws.receive(timeout=5)
        assert msg.type == aiohttp.WSMsgType.BINARY and msg.data.endswith(b"\x00\x00\xff\xff")
        hello = json.loads(inflate.decompress(msg.data))
        assert hello == {"op": 10, "d": {"heartbeat_interval": 1000}}
        await ws.send_json({"op": 1, "d": None})
        ack = json.loads(inflate.decompress((await ws.receive(timeout=5)).data))
        assert ack["op"] == 11
        await ws.send_json({"op": 2, "d": {"token": "wrong", "intents": 513, "properties": {}}})
        closing = await ws.receive(timeout=5)
        assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == L.CLOSE_AUTHENTICATION_FAILED


class RawBot:
    """A bot without discord.py: one websocket and raw HTTP, to pin down protocol details."""

    def __init__(self, emu: DiscordEmulator, session: aiohttp.ClientSession) -> None:
        self.emu, self.http = emu, session
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.auth = {"Authorization": f"Bot {emu.token}"}

    async def connect(self) -> dict[str, Any]:
        self.ws = await self.http.ws_connect(f"{self.emu.gateway_url}?v=10&encoding=json")
        assert (await self.ws.receive_json(timeout=5))["op"] == 10
        await self.ws.send_json({"op": 2, "d": {"token": self.emu.token, "intents": 1, "properties": {}}})
        ready = await self.ws.receive_json(timeout=5)
        assert ready["t"] == "READY" and (await self.ws.receive_json(timeout=5))["t"] == "GUILD_CREATE"
        return ready

    async def sync(self, commands: list[dict[str, Any]]) -> None:
        url = f"{self.emu.rest_base}/applications/{self.emu.application_id}/commands"
        async with self.http.put(url, json=commands, headers=self.auth) as r:
            assert r.status == 200, await r.text()

    async def next_interaction(self) -> dict[str, Any]:
        assert self.ws is not None
        while True:
            msg = await self.ws.receive_json(timeout=5)
            if msg.get("t") == "INTERACTION_CREATE":
                return msg["d"]

    async def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        async with self.http.request(method, self.emu.rest_base + path, **kwargs) as r:
            body = await r.json() if r.content_type == "application/json" else await r.read()
            return r.status, body


async def test_raw_protocol_details(emu: DiscordEmulator) -> None:
    async with aiohttp.ClientSession() as http:
        raw = RawBot(emu, http)
        ready = await raw.connect()
        assert ready["d"]["resume_gateway_url"] == emu.resume_gateway_url
        assert ready["d"]["application"]["id"] == str(emu.application_id)
        await raw.sync([{"name": "ping", "description": "Ping", "type": 1}])
        rec = await emu.invoke("ping")
        d = await raw.next_interaction()
        assert (d["version"], d["type"], d["token"]) == (1, 2, rec.token)
        for key in ("app_permissions", "locale", "guild_locale", "entitlements", "attachment_size_limit", "member"):
            assert key in d
        app = emu.application_id
        hook = f"/webhooks/{app}/{d['token']}"
        # a follow-up before the initial response: the webhook does not exist yet
        status, body = await raw.call("POST", hook, json={"content": "early"})
        assert (status, body["code"]) == (404, L.ERR_UNKNOWN_WEBHOOK)
        # broken JSON and an empty message are refused without acknowledging
        cb = f"/interactions/{d['id']}/{d['token']}/callback"
        status, body = await raw.call("POST", cb, data=b"{", headers={"Content-Type": "application/json"})
        assert (status, body["code"]) == (400, L.ERR_INVALID_JSON)
        status, body = await raw.call("POST", cb, json={"type": 4, "data": {"content": ""}})
        assert (status, body["code"]) == (400, L.ERR_EMPTY_MESSAGE)
        # without ?with_response the callback is 204
        status, _ = await raw.call("POST", cb, json={"type": 4, "data": {"content": "pong"}})
        assert status == 204 and rec.original is not None and rec.original.content == "pong"
        status, body = await raw.call("GET", f"{hook}/messages/@original")
        assert status == 200 and body["content"] == "pong" and body["id"] == str(rec.original.id)
        # follow-up with a file over the upload limit: 413 like Discord
        form = aiohttp.FormData()
        form.add_field("payload_json", json.dumps({"content": "big"}), content_type="application/json")
        form.add_field("files[0]", io.BytesIO(b"0" * (L.FILES_TOTAL_BYTES_MAX + 1)), filename="big.bin")
        status, body = await raw.call("POST", hook, data=form)
        assert (status, body["code"]) == (413, L.ERR_REQUEST_TOO_LARGE)
        status, body = await raw.call("POST", f"{hook}?wait=true", json={"content": "more"})
        assert status == 200 and body["content"] == "more"
        followup = f"{hook}/messages/{body['id']}"
        status, body = await raw.call("PATCH", followup, json={"content": "edited"})
        assert status == 200 and body["content"] == "edited" and body["edited_timestamp"]
        status, _ = await raw.call("DELETE", followup)
        assert status == 204 and rec.followups[0].deleted
        status, body = await raw.call("GET", followup)
        assert (status, body["code"]) == (404, L.ERR_UNKNOWN_MESSAGE)
        codes = [(f.status, f.code) for f in emu.validation_failures]
        assert codes == [(404, 10015), (400, 50109), (400, 50006), (413, 40005), (404, 10008)]
        # an unresumable RESUME gets INVALID_SESSION d=false
        async with http.ws_connect(f"{emu.gateway_url}?v=10&encoding=json") as ws:
            assert (await ws.receive_json(timeout=5))["op"] == 10
            await ws.send_json({"op": 6, "d": {"token": emu.token, "session_id": "nope", "seq": 1}})
            assert await ws.receive_json(timeout=5) == {"op": 9, "d": False, "s": None, "t": None}
        assert raw.ws is not None
        await raw.ws.close()  # code 1000: the session is over, as on Discord
        await emu.signal.wait_for(lambda: emu.connections[0].closed_at, 5, "the close")
        with pytest.raises(EmulatorUsageError, match="no bot is connected"):
            await emu.invoke("ping")


def test_vendored_spec_is_the_shared_snapshot() -> None:
    """CI has only the clone, so the spec is vendored; it must stay byte-identical to the shared one."""
    shared = Path(__file__).resolve().parents[2] / "shared" / "discord-api-spec" / "openapi.json"
    vendored = Path(__file__).resolve().parent / "emulator" / "discord-api-spec" / "openapi.json"
    if not os.environ.get("DISCORD_OPENAPI_SPEC"):
        assert find_spec_path() == vendored
    if not shared.is_file():
        pytest.skip("no shared workspace copy to compare with")
    assert shared.read_bytes() == vendored.read_bytes()


BOT_PROCESS = """
import os, discord, yarl
from discord import app_commands
discord.http.Route.BASE = os.environ["DISCORD_API_BASE"]
discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["DISCORD_GATEWAY_URL"])
client = discord.Client(intents=discord.Intents.default(), allowed_mentions=discord.AllowedMentions.none())
tree = app_commands.CommandTree(client)

@tree.command(description="Ping from another process")
async def ping(interaction: discord.Interaction) -> None:
    await interaction.response.send_message(f"pong from pid {os.getpid()}")

async def setup_hook() -> None:
    await tree.sync()

client.setup_hook = setup_hook
client.run(os.environ["DISCORD_TOKEN"], log_handler=None)
"""


def test_thread_hosted_emulator_drives_a_bot_in_another_process() -> None:
    """The e2e shape: synchronous test code, emulator in a thread, the bot in its own process."""
    with EmulatorThread() as runner:
        emu = runner.emulator
        proc = subprocess.Popen([sys.executable, "-c", BOT_PROCESS], env={**os.environ, **emu.env})
        try:
            runner.call(emu.wait_for_ready, timeout=30)
            runner.call(emu.wait_for_commands_synced, names=["ping"], timeout=30)
            rec = runner.call(emu.invoke, "ping")
            response = runner.run(rec.response(timeout=10))
            assert response.message is not None and response.message.content == f"pong from pid {proc.pid}"
            assert rec.deadline_met and emu.problems() == []
            assert {r.peer for r in emu.requests} == {"127.0.0.1"}
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def test_every_spec_path_starts_with_a_literal_segment() -> None:
    """find_operation indexes routes by their first segment; a parameter there would hide routes."""
    from emulator.spec import load_spec

    assert all(not template.strip("/").startswith("{") for template in load_spec()["paths"])


# --- messages: MESSAGE_CREATE with Discord's content rules, replies through POST /channels/{id}/messages ----


class EchoBot(discord.Client):
    """Replies to every message it can read with its length; records what it received."""

    def __init__(self, intents: discord.Intents) -> None:
        super().__init__(intents=intents, allowed_mentions=discord.AllowedMentions.none(), guild_ready_timeout=0.05)
        self.received: list[discord.Message] = []
        self.errors: list[discord.HTTPException] = []
        self.reference_override: discord.MessageReference | None = None

    async def on_message(self, message: discord.Message) -> None:
        self.received.append(message)
        if message.author.bot or not message.content:
            return
        reference = self.reference_override or message.to_reference()
        try:
            await message.channel.send(f"{len(message.content)} characters", reference=reference, mention_author=False)
        except discord.HTTPException as exc:
            self.errors.append(exc)


def _message_intents(*, content: bool = False) -> discord.Intents:
    intents = discord.Intents.none()
    intents.guilds = intents.guild_messages = intents.dm_messages = True
    intents.message_content = content
    return intents


@pytest.fixture
async def echo(pointed_at: DiscordEmulator) -> AsyncIterator[EchoBot]:
    client = EchoBot(_message_intents())
    task = asyncio.create_task(client.start(pointed_at.token))
    await pointed_at.wait_for_ready()
    await asyncio.wait_for(client.wait_until_ready(), 10)
    try:
        yield client
    finally:
        await _shutdown(client, task)


async def _wait_received(client: EchoBot, n: int) -> None:
    for _ in range(200):
        if len(client.received) >= n:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the client received {len(client.received)} messages, not {n}")


async def test_message_create_follows_the_content_rules_without_the_content_intent(
    echo: EchoBot, emu: DiscordEmulator
) -> None:
    """Without MESSAGE_CONTENT: a guild message that does not mention the bot arrives empty; a
    mention and a DM arrive whole; the bot's own reply arrives whole too (its own message)."""
    plain = await emu.send_message("what is the nernst equation?")
    mention = await emu.send_message(f"{emu.bot_user.mention} what is the nernst equation?")
    dm = await emu.send_message("and in a DM?", guild=False)
    assert plain.delivered is not None and plain.delivered["content"] == "" and plain.delivered["embeds"] == []
    assert mention.delivered is not None and mention.delivered["content"] == mention.content
    assert [u["id"] for u in mention.delivered["mentions"]] == [str(emu.bot_user.id)]
    assert dm.delivered is not None and dm.delivered["content"] == "and in a DM?" and "guild_id" not in dm.delivered
    assert "member" in mention.delivered and "member" not in dm.delivered
    (reply,) = await emu.wait_for_replies(mention)
    (dm_reply,) = await emu.wait_for_replies(dm)
    assert reply.content == f"{len(mention.content)} characters" and reply.is_reply
    assert reply.message_reference == {
        "type": 0,
        "message_id": str(mention.id),
        "channel_id": str(emu.channel.id),
        "guild_id": str(emu.guild.id),
    }
    assert reply.allowed_mentions == {"parse": [], "replied_user": False} and reply.mentions == []
    assert dm_reply.channel_id == emu.dm_channel(emu.user, emu.bot_user).id and dm_reply.guild_id is None
    assert emu.replies_to(plain) == []
    await _wait_received(echo, 5)  # three users' messages and the two replies, which the bot gets back
    by_id = {m.id: m for m in echo.received}
    assert by_id[plain.id].content == "" and by_id[mention.id].content == mention.content
    own = by_id[reply.id]
    assert own.author.id == emu.bot_user.id and own.content == reply.content
    assert own.reference is not None and own.reference.message_id == mention.id
    assert isinstance(by_id[dm.id].channel, discord.DMChannel)
    post = next(r for r in emu.requests if r.method == "POST" and r.path.startswith("/channels/"))
    assert post.operation_id == "create_message"
    emu.assert_clean()


async def test_message_intents_decide_what_is_delivered(pointed_at: DiscordEmulator) -> None:
    """A bot without GUILD_MESSAGES / DIRECT_MESSAGES gets no MESSAGE_CREATE; one with MESSAGE_CONTENT
    reads every message."""
    emu = pointed_at
    client = EchoBot(discord.Intents(guilds=True, message_content=True))
    task = asyncio.create_task(client.start(emu.token))
    await emu.wait_for_ready()
    try:
        unseen = await emu.send_message(f"{emu.bot_user.mention} hello?")
        unseen_dm = await emu.send_message("hello?", guild=False)
        assert unseen.delivered is None and unseen_dm.delivered is None
    finally:
        await _shutdown(client, task)
    reader = EchoBot(_message_intents(content=True))
    task = asyncio.create_task(reader.start(emu.token))
    await emu.wait_for_identify()
    try:
        seen = await emu.send_message("no mention, but the content intent")
        assert seen.delivered is not None and seen.delivered["content"] == seen.content
    finally:
        await _shutdown(reader, task)


async def test_user_actions_refuse_what_the_client_would_not_send(emu: DiscordEmulator) -> None:
    other = emu.add_user("helper-bot", "Helper", bot=True)
    with pytest.raises(EmulatorUsageError):
        await emu.send_message("x" * (L.MESSAGE_CONTENT_MAX + 1))
    with pytest.raises(EmulatorUsageError):
        await emu.send_message("   ")
    with pytest.raises(EmulatorUsageError):
        await emu.send_message("hi", user=other, guild=False)  # bots cannot DM bots
    with pytest.raises(EmulatorUsageError):
        await emu.send_message("hi", user="outsider")  # not a member of the guild


async def test_a_reply_to_an_unknown_message_or_without_read_history_is_refused(
    echo: EchoBot, emu: DiscordEmulator
) -> None:
    mention = await emu.send_message(f"{emu.bot_user.mention} first")
    await emu.wait_for_replies(mention)
    # A reference to a message that does not exist: 400/50035 on message_reference ...
    echo.reference_override = discord.MessageReference(message_id=1, channel_id=emu.channel.id)
    await emu.send_message(f"{emu.bot_user.mention} second")
    await _wait_received(echo, 3)  # first, its reply, second (whose reply is refused)
    for _ in range(100):
        if echo.errors:
            break
        await asyncio.sleep(0.01)
    assert echo.errors and echo.errors[0].status == 400 and echo.errors[0].code == L.ERR_INVALID_FORM_BODY
    assert "message_reference" in _failure_paths(emu)
    # ... unless fail_if_not_exists is false: then it goes as a plain message.
    emu.validation_failures.clear()
    echo.reference_override = discord.MessageReference(
        message_id=1, channel_id=emu.channel.id, fail_if_not_exists=False
    )
    third = await emu.send_message(f"{emu.bot_user.mention} the third message")
    plain = await emu.signal.wait_for(
        lambda: next((m for m in emu.messages if m.content == f"{len(third.content)} characters"), None),
        5,
        "a message",
    )
    assert not plain.is_reply and emu.validation_failures == []
    # Replying needs Read Message History in a guild channel.
    echo.reference_override = None
    bot_role = next(r for r in emu.guild.roles if r.managed)
    everyone = emu.guild.role(emu.guild.id)
    bot_role.permissions &= ~L.PERM_READ_MESSAGE_HISTORY
    everyone.permissions &= ~L.PERM_READ_MESSAGE_HISTORY
    await emu.send_message(f"{emu.bot_user.mention} fourth")
    for _ in range(100):
        if len(echo.errors) >= 2:
            break
        await asyncio.sleep(0.01)
    assert len(echo.errors) == 2 and echo.errors[-1].status == 403 and echo.errors[-1].code == L.ERR_MISSING_PERMISSIONS
