"""The discord.py adapter (bot/app): extensions, the tree's error handler, safe replies, cooldowns,
the share button's stateless custom_id, and the request a handler sees.

Real parts where they are cheap (a real ``TutorBot`` with its ``setup_hook``, the real cogs, the
real command tree); where an interaction is needed it is a mock with ``spec_set`` from discord.py's
own classes (tests/helpers.py ``mock_interaction``), so a call discord.py does not have fails here.
"""

from __future__ import annotations

import importlib
import logging
import string
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from unittest import mock

import discord
import pytest
from discord import app_commands
from helpers import mock_interaction, sent_kwargs
from hypothesis import given
from hypothesis import strategies as st

import cogs
from bot.answers import Services
from bot.app.bot import TutorBot, TutorTree, _error_message, extension_names, request_from
from bot.app.cooldowns import Cooldown, MemoryCooldowns
from bot.app.replies import ShareButton, safe_reply, send_messages, share_view
from bot.app.slash import build_command
from bot.commands import COMMANDS, CommandSpec, OptionType, Request, decode_request, encode_request, parse_invocation
from bot.physiology import InputError
from bot.render.discord import OutgoingMessage

EXPECTED_EXTENSIONS = [
    "cogs.calculator",
    "cogs.chat",
    "cogs.instructors",
    "cogs.knowledge",
    "cogs.meta",
    "cogs.practice",
    "cogs.privacy",
    "cogs.progress",
]
CUSTOM_ID = 100  # design.md: Discord's limits
BUTTON_LABEL = 80


def assert_no_mentions(allowed: discord.AllowedMentions) -> None:
    assert allowed.everyone is False
    assert allowed.users is False
    assert allowed.roles is False
    assert allowed.replied_user is False


# --- extensions and the bot --------------------------------------------------------------------


def test_extension_names_are_the_cogs() -> None:
    assert extension_names() == EXPECTED_EXTENSIONS


def test_extension_names_skip_private_modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "_helpers.py").write_text("raise AssertionError('a private module is never loaded')\n")
    (tmp_path / "quiz.py").write_text("")
    (tmp_path / "notes.txt").write_text("not a module")
    monkeypatch.setattr(cogs, "__path__", [*cogs.__path__, str(tmp_path)])
    assert extension_names() == sorted([*EXPECTED_EXTENSIONS, "cogs.quiz"])


@pytest.mark.parametrize("name", EXPECTED_EXTENSIONS)
def test_every_extension_imports_on_its_own_and_has_a_setup(name: str) -> None:
    module = importlib.import_module(name)
    assert callable(module.setup)


@pytest.fixture
async def tutor_bot() -> AsyncIterator[TutorBot]:
    async with TutorBot(services=Services.load(), cooldowns=MemoryCooldowns()) as created:
        yield created
    assert created.is_closed()


async def test_setup_hook_loads_every_extension_once_and_exactly_the_declared_commands(
    tutor_bot: TutorBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads = mock.AsyncMock(wraps=tutor_bot.load_extension)
    monkeypatch.setattr(tutor_bot, "load_extension", loads)
    await tutor_bot.setup_hook()
    assert [call.args[0] for call in loads.await_args_list] == EXPECTED_EXTENSIONS
    assert sorted(tutor_bot.extensions) == EXPECTED_EXTENSIONS
    # load_extension imports each module afresh: the loaded module is the one in sys.modules.
    assert all(sys.modules[name] is tutor_bot.extensions[name] for name in EXPECTED_EXTENSIONS)
    names = [command.name for command in tutor_bot.tree.get_commands()]
    assert len(names) == len(set(names)), "no two commands share a name"
    assert sorted(names) == sorted(COMMANDS)
    assert tutor_bot.tree.get_commands(guild=discord.Object(1)) == []  # nothing guild-specific
    assert {type(cog).__name__ for cog in tutor_bot.cogs.values()} == {
        "Calculator",
        "Chat",
        "Instructors",
        "Knowledge",
        "Meta",
        "Practice",
        "Privacy",
        "Progress",
    }


async def test_extensions_unload_their_commands_and_load_again_without_collisions(tutor_bot: TutorBot) -> None:
    await tutor_bot.setup_hook()
    for name in EXPECTED_EXTENSIONS:
        await tutor_bot.unload_extension(name)
    assert tutor_bot.tree.get_commands() == []
    for name in EXPECTED_EXTENSIONS:
        await tutor_bot.load_extension(name)
    assert sorted(command.name for command in tutor_bot.tree.get_commands()) == sorted(COMMANDS)


async def test_the_bot_pings_nobody_and_asks_for_no_privileged_intent(tutor_bot: TutorBot) -> None:
    assert isinstance(tutor_bot.tree, TutorTree)
    assert tutor_bot.allowed_mentions is not None
    assert_no_mentions(tutor_bot.allowed_mentions)
    intents = tutor_bot.intents
    assert not intents.members and not intents.presences and not intents.message_content
    assert intents.value & discord.Intents(members=True, presences=True, message_content=True).value == 0
    assert intents.guilds
    assert intents.guild_messages and intents.dm_messages  # the chat: mentions and DMs, not privileged
    assert tutor_bot.help_command is None


async def test_the_calculator_commands_carry_the_cooldown_check(tutor_bot: TutorBot) -> None:
    await tutor_bot.setup_hook()
    for name in ("restpot", "nernst", "whatif"):
        command = tutor_bot.tree.get_command(name)
        assert isinstance(command, app_commands.Command) and len(command.checks) == 1
    for name in ("explain", "help"):
        command = tutor_bot.tree.get_command(name)
        assert isinstance(command, app_commands.Command) and command.checks == []


# --- cooldowns ---------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_memory_cooldowns_allow_the_rate_and_refuse_one_more_until_the_window_passes() -> None:
    clock = FakeClock()
    cooldowns = MemoryCooldowns(clock=clock)
    for _ in range(10):
        assert cooldowns.hit("nernst:1", 10, 10.0) is None
        clock.now += 0.5
    wait = cooldowns.hit("nernst:1", 10, 10.0)
    assert wait is not None and 0 < wait <= 10.0
    assert wait == pytest.approx(10.0 - 5.0)  # the first use was 5 s ago
    assert cooldowns.hit("nernst:2", 10, 10.0) is None, "another user is not limited"
    assert cooldowns.hit("restpot:1", 10, 10.0) is None, "another command is not limited"
    clock.now += wait
    assert cooldowns.hit("nernst:1", 10, 10.0) is None, "allowed again once the first use left the window"
    assert cooldowns.hit("nernst:1", 10, 10.0) is not None, "the window slides: the second use is still inside"
    clock.now += 10.0
    for _ in range(10):
        assert cooldowns.hit("nernst:1", 10, 10.0) is None


def test_refused_hits_do_not_count() -> None:
    clock = FakeClock()
    cooldowns = MemoryCooldowns(clock=clock)
    assert cooldowns.hit("k", 1, 10.0) is None
    for _ in range(5):
        clock.now += 1.0
        assert cooldowns.hit("k", 1, 10.0) is not None
    clock.now += 5.0
    assert cooldowns.hit("k", 1, 10.0) is None


async def test_cooldown_check_raises_command_on_cooldown_per_user(tutor_bot: TutorBot) -> None:
    clock = FakeClock()
    tutor_bot.cooldowns = MemoryCooldowns(clock=clock)
    check = tutor_bot.cooldown_check(Cooldown(rate=2, per=10.0))
    alice, bob = mock_interaction(user_id=1), mock_interaction(user_id=2)
    assert check(alice) and check(alice)
    with pytest.raises(app_commands.CommandOnCooldown) as refused:
        check(alice)
    assert refused.value.retry_after > 0
    assert check(bob)
    clock.now += 10.0
    assert check(alice)


# --- the error handler -------------------------------------------------------------------------


def _command() -> app_commands.Command[Any, ..., None]:
    async def ignore(interaction: discord.Interaction, options: dict[str, Any]) -> None:
        return None

    return build_command(COMMANDS["nernst"], ignore)


class _Numbers(app_commands.Transformer):
    async def transform(self, interaction: discord.Interaction, value: Any) -> Any:
        return value


ERRORS: dict[str, tuple[app_commands.AppCommandError, str]] = {
    "input": (
        app_commands.CommandInvokeError(
            _command(), InputError("`inside` must be a concentration from 0.000001 to 1000 mM.")
        ),
        "`inside` must be",
    ),
    "cooldown": (app_commands.CommandOnCooldown(app_commands.Cooldown(10, 10.0), 4.2), "4 s"),
    "cooldown-short": (app_commands.CommandOnCooldown(app_commands.Cooldown(10, 10.0), 0.01), "1 s"),
    "permissions": (app_commands.MissingPermissions(["manage_guild"]), "Manage Server"),
    "dm": (app_commands.NoPrivateMessage(), "server"),
    "transformer": (
        app_commands.TransformerError("@everyone " + "x" * 500, discord.AppCommandOptionType.number, _Numbers()),
        "can't be used",
    ),
    "not-found": (app_commands.CommandNotFound("zombie", []), "membrane-tutor sync"),
    "check": (app_commands.CheckFailure(), "can't use"),
}


@pytest.mark.parametrize("kind", ERRORS)
def test_each_expected_error_becomes_one_short_line(kind: str) -> None:
    error, expected = ERRORS[kind]
    message = _error_message(error)
    assert message is not None
    assert expected in message
    assert "\n" not in message and 0 < len(message) <= 200
    assert "Traceback" not in message


@pytest.mark.parametrize(
    "error",
    [
        app_commands.CommandInvokeError(_command(), ZeroDivisionError("division by zero")),
        app_commands.CommandInvokeError(_command(), KeyError("ion")),
        app_commands.AppCommandError("something else"),
    ],
    ids=["zero-division", "key-error", "bare"],
)
def test_an_unexpected_error_is_ours_and_gets_no_message(error: app_commands.AppCommandError) -> None:
    assert _error_message(error) is None


@pytest.fixture
def tree() -> TutorTree:
    return TutorTree(discord.Client(intents=discord.Intents.none()))  # type: ignore[arg-type]


def _only_call(interaction: Any) -> dict[str, Any]:
    sends = sent_kwargs(interaction)
    assert len(sends) == 1, f"expected exactly one message, got {len(sends)}"
    return sends[0]


@pytest.mark.parametrize("done", [False, True], ids=["respond", "follow-up"])
@pytest.mark.parametrize("kind", ["input", "cooldown", "permissions", "dm", "transformer", "not-found"])
async def test_on_error_answers_once_privately_without_mentions(
    tree: TutorTree, kind: str, done: bool, caplog: pytest.LogCaptureFixture
) -> None:
    interaction = mock_interaction(done=done)
    error, expected = ERRORS[kind]
    await tree.on_error(interaction, error)
    sent = _only_call(interaction)
    responder = interaction.followup.send if done else interaction.response.send_message
    responder.assert_awaited_once()
    assert sent["ephemeral"] is True
    assert_no_mentions(sent["allowed_mentions"])
    assert expected in sent["content"] and "embeds" not in sent
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


async def test_on_error_logs_an_unexpected_error_and_tells_the_user_briefly(
    tree: TutorTree, caplog: pytest.LogCaptureFixture
) -> None:
    interaction = mock_interaction(command="restpot")
    error = app_commands.CommandInvokeError(_command(), ZeroDivisionError("division by zero"))
    with caplog.at_level(logging.ERROR, logger="bot.app.bot"):
        await tree.on_error(interaction, error)
    sent = _only_call(interaction)
    assert sent["ephemeral"] is True
    assert "went wrong" in sent["content"] and "ZeroDivision" not in sent["content"]
    (record,) = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert "/restpot" in record.getMessage()
    assert record.exc_info is not None and record.exc_info[1] is error  # the traceback is the operator's


# --- safe_reply and send_messages ---------------------------------------------------------------


async def test_safe_reply_responds_when_nobody_has() -> None:
    interaction = mock_interaction(done=False)
    embed = discord.Embed(title="E_K")
    await safe_reply(interaction, OutgoingMessage(embeds=[embed]), ephemeral=False)
    interaction.response.send_message.assert_awaited_once()
    interaction.followup.send.assert_not_awaited()
    sent = interaction.response.send_message.await_args.kwargs
    assert sent["embeds"] == [embed] and sent["ephemeral"] is False and "content" not in sent and "view" not in sent
    assert_no_mentions(sent["allowed_mentions"])


async def test_safe_reply_follows_up_when_the_response_is_done() -> None:
    interaction = mock_interaction(done=True)
    view = discord.ui.View()
    await safe_reply(interaction, OutgoingMessage(content="@everyone hi"), ephemeral=True, view=view)
    interaction.response.send_message.assert_not_awaited()
    interaction.followup.send.assert_awaited_once()
    sent = interaction.followup.send.await_args.kwargs
    assert sent["content"] == "@everyone hi" and sent["view"] is view and sent["ephemeral"] is True
    assert_no_mentions(sent["allowed_mentions"])


@pytest.mark.parametrize("done", [False, True])
async def test_safe_reply_swallows_and_logs_an_expired_interaction(
    done: bool, caplog: pytest.LogCaptureFixture
) -> None:
    interaction = mock_interaction(done=done)
    expired = discord.NotFound(
        mock.Mock(status=404, reason="Not Found"), {"code": 10062, "message": "Unknown interaction"}
    )
    (interaction.followup.send if done else interaction.response.send_message).side_effect = expired
    with caplog.at_level(logging.WARNING, logger="bot.app.replies"):
        await safe_reply(interaction, OutgoingMessage(content="late"), ephemeral=True)
    assert len(sent_kwargs(interaction)) == 1, "tried once, never both ways"
    assert any("expired" in record.getMessage() for record in caplog.records)


async def test_safe_reply_does_not_hide_other_http_errors() -> None:
    interaction = mock_interaction()
    interaction.response.send_message.side_effect = discord.Forbidden(mock.Mock(status=403, reason="Forbidden"), "no")
    with pytest.raises(discord.Forbidden):
        await safe_reply(interaction, OutgoingMessage(content="x"), ephemeral=True)


async def test_send_messages_responds_once_then_follows_up_with_the_view_last() -> None:
    interaction = mock_interaction()
    messages = [OutgoingMessage(embeds=[discord.Embed(title=f"part {i}")]) for i in range(3)]
    view = discord.ui.View()
    await send_messages(interaction, messages, ephemeral=True, view=view)
    interaction.response.send_message.assert_awaited_once()
    assert interaction.followup.send.await_count == 2
    sends = sent_kwargs(interaction)
    assert [sent["embeds"][0].title for sent in sends] == ["part 0", "part 1", "part 2"]
    assert ["view" in sent for sent in sends] == [False, False, True]
    assert all(sent["ephemeral"] is True for sent in sends)


async def test_send_messages_never_exceeds_the_user_install_follow_up_limit(caplog: pytest.LogCaptureFixture) -> None:
    interaction = mock_interaction()
    messages = [OutgoingMessage(content=f"part {i}") for i in range(9)]
    with caplog.at_level(logging.WARNING, logger="bot.app.replies"):
        await send_messages(interaction, messages, ephemeral=False)
    assert interaction.response.send_message.await_count == 1
    assert interaction.followup.send.await_count == 5  # design.md: at most 5 follow-ups
    assert any("9 messages" in record.getMessage() for record in caplog.records)


# --- answering through the bot ------------------------------------------------------------------


async def test_a_private_answer_is_ephemeral_and_carries_a_share_button(tutor_bot: TutorBot) -> None:
    interaction = mock_interaction(command="nernst")
    await tutor_bot.respond(interaction, {"ion": "K", "inside": 140.0, "outside": 5.0, "private": True})
    sent = _only_call(interaction)
    assert sent["ephemeral"] is True
    assert sent["embeds"][0].description.startswith("**E_K = −89.1 mV**")
    (button,) = sent["view"].children
    assert isinstance(button, ShareButton)
    assert decode_request(button.encoded) == Request("nernst", {"ion": "K", "inside": 140.0, "outside": 5.0})


async def test_a_public_answer_has_no_button_and_an_error_is_private(tutor_bot: TutorBot) -> None:
    public = mock_interaction(command="restpot")
    await tutor_bot.respond(public, {})
    sent = _only_call(public)
    assert sent["ephemeral"] is False and "view" not in sent
    wrong = mock_interaction(command="explain")
    await tutor_bot.respond(wrong, {"topic": "@everyone <@123> zombies", "private": False})
    sent = _only_call(wrong)
    assert sent["ephemeral"] is True and "view" not in sent and "embeds" not in sent
    assert "No topic" in sent["content"]
    assert_no_mentions(sent["allowed_mentions"])


async def test_the_share_button_posts_the_same_answer_publicly(tutor_bot: TutorBot) -> None:
    interaction = mock_interaction(command=None, user_id=42)
    await tutor_bot.share(interaction, encode_request(Request("whatif", {"scenario": "hyperkalemia"})))
    sent = _only_call(interaction)
    assert sent["ephemeral"] is False and "view" not in sent
    assert sent["embeds"][0].title.startswith("What if: Hyperkalemia")


async def test_a_damaged_share_button_gets_a_private_line(tutor_bot: TutorBot) -> None:
    interaction = mock_interaction(command=None)
    await tutor_bot.share(interaction, "nernst|0zz")
    sent = _only_call(interaction)
    assert sent["ephemeral"] is True and "damaged" in sent["content"]


async def test_a_click_on_a_share_button_from_another_process_is_answered(tutor_bot: TutorBot) -> None:
    """Stateless: the button is rebuilt from its custom_id alone, as discord.py does on a click."""
    custom_id = f"share:{encode_request(Request('nernst', {'ion': 'Na', 'detail': 'steps'}))}"
    match = ShareButton.__discord_ui_compiled_template__.fullmatch(custom_id)  # type: ignore[attr-defined]
    assert match is not None
    interaction = mock_interaction(command=None)
    interaction.client = tutor_bot
    item = discord.ui.Button[discord.ui.View](custom_id=custom_id)
    button = await ShareButton.from_custom_id(interaction, item, match)
    await button.callback(interaction)
    sent = _only_call(interaction)
    assert sent["ephemeral"] is False
    assert sent["embeds"][0].description.startswith("**E_Na = ")
    assert sent["embeds"][1].title == "Derivation"


# --- the share button's custom_id ---------------------------------------------------------------


def _value(option: Any) -> st.SearchStrategy[Any]:
    if option.choices:
        return st.sampled_from([choice.value for choice in option.choices])
    if option.type is OptionType.BOOLEAN:
        return st.booleans()
    if option.type is OptionType.INTEGER:
        assert option.bounds is not None
        return st.integers(int(option.bounds.low), int(option.bounds.high))
    if option.type is OptionType.NUMBER:
        assert option.bounds is not None
        return st.floats(option.bounds.low, option.bounds.high, allow_nan=False, allow_infinity=False)
    # Free text (/explain topic). "|" separates the encoded options and Discord's max_length is 100;
    # surrounding spaces are stripped, as the terminal and decode_request strip them.
    text = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=100)
    if option.free_text:  # a question arrives with its spaces collapsed (bot.commands.check_text)
        return text.map(lambda words: " ".join(words.split())).filter(bool)
    return text.map(str.strip).filter(bool)


@st.composite
def requests(draw: st.DrawFn) -> Request:
    spec: CommandSpec = draw(st.sampled_from([spec for spec in COMMANDS.values() if not spec.is_group]))
    options: dict[str, Any] = {}
    for option in spec.options:
        if option.required or draw(st.booleans()):
            options[option.name] = draw(_value(option))
    return Request(spec.name, options)


@given(request=requests())
def test_encode_then_decode_gives_back_the_request(request: Request) -> None:
    encoded = encode_request(request)
    shared = {name: value for name, value in request.options.items() if name != "private"}
    assert decode_request(encoded) == Request(request.command, shared)


TYPICAL = [
    *(example for spec in COMMANDS.values() if not spec.is_group for example in spec.examples),  # groups: not shared
    "/restpot k_out:10 k_in:140 na_in:15 na_out:145 temperature:37 detail:steps private:true",
    "/restpot preset:cardiac-myocyte p_na:0.05 p_cl:0.45 k_out:7.5",
    "/nernst ion:custom valence:-2 inside:0.0001 outside:1.2 preset:squid-giant-axon temperature:18.5 detail:steps",
    "/nernst ion:Ca inside:0.0001 outside:2.5 temperature:37",
    "/whatif scenario:na-permeability-up preset:skeletal-muscle private:true",
    "/explain topic:leak-channels private:true",
    "/help command:nernst",
]


@pytest.mark.parametrize("typed", TYPICAL)
def test_a_typical_request_fits_a_custom_id(typed: str) -> None:
    request = parse_invocation(typed)
    encoded = encode_request(request)
    assert len(f"share:{encoded}") <= CUSTOM_ID
    view = share_view(encoded)
    assert view is not None and view.timeout is None, "the button outlives the process (state in the id)"
    (button,) = view.children
    assert isinstance(button, ShareButton)
    assert button.custom_id == f"share:{encoded}"
    assert button.item.label is not None and len(button.item.label) <= BUTTON_LABEL
    assert ShareButton.__discord_ui_compiled_template__.fullmatch(button.custom_id)["request"] == encoded  # type: ignore[attr-defined]


def test_share_view_is_none_when_the_id_would_not_fit() -> None:
    numbers = {option.name: 123.45678901234567 for option in COMMANDS["restpot"].options if option.bounds}
    encoded = encode_request(Request("restpot", numbers))
    assert len(f"share:{encoded}") > CUSTOM_ID
    assert share_view(encoded) is None
    assert share_view("x" * (CUSTOM_ID - len("share:"))) is not None  # exactly 100 still fits
    assert share_view("x" * (CUSTOM_ID - len("share:") + 1)) is None


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        "zombie",
        "zombie|00",
        "nernst",  # the required ion is missing
        "nernst|",
        "nernst|09",  # choice index out of range
        "nernst|0x",
        "nernst|0-1",
        "nernst|z0",  # not a hex option index
        "nernst|f0",  # no such option
        "nernst|00|1abc",  # not a number
        "nernst|00|1-5.0",  # below the bounds
        "nernst|00|1nan",
        "nernst|00|1inf",
        "nernst|00|51.5",  # valence must be whole
        "nernst|00|59",  # valence beyond -3 … 3
        "restpot|1 ",
    ],
)
def test_a_tampered_id_raises_input_error(encoded: str) -> None:
    with pytest.raises(InputError):
        decode_request(encoded)


@given(encoded=st.text(alphabet=string.ascii_letters + string.digits + "|.-+e ", max_size=40))
def test_any_id_decodes_to_a_valid_request_or_raises_input_error(encoded: str) -> None:
    try:
        request = decode_request(encoded)
    except InputError:
        return
    spec = COMMANDS[request.command]
    assert set(request.options) <= {option.name for option in spec.options}
    assert all(option.name in request.options for option in spec.options if option.required)


# --- request_from -------------------------------------------------------------------------------


def test_request_from_builds_a_plain_request_with_string_ids() -> None:
    interaction = mock_interaction(
        command="nernst", user_id=123456789012345678, guild_id=987654321098765432, locale=discord.Locale.british_english
    )
    request = request_from(interaction, {"ion": "K"})
    assert request == Request(
        command="nernst", options={"ion": "K"}, user="123456789012345678", guild="987654321098765432", locale="en-GB"
    )


def test_request_from_in_a_dm_has_no_guild() -> None:
    request = request_from(mock_interaction(command="restpot", user_id=5, guild_id=None), {})
    assert request.guild is None and request.user == "5" and request.command == "restpot"


def test_the_answer_cache_is_least_recently_used_and_ignores_delivery() -> None:
    from bot.app.answer_cache import MemoryAnswerCache, request_key

    cache = MemoryAnswerCache(max_items=2)
    first, second, third = (Request("nernst", {"ion": ion}) for ion in ("K", "Na", "Cl"))
    cache.put(first, ("k", []))  # type: ignore[arg-type]
    cache.put(second, ("na", []))  # type: ignore[arg-type]
    assert cache.get(first) == ("k", [])  # first is now the most recent
    cache.put(third, ("cl", []))  # type: ignore[arg-type]
    assert cache.get(second) is None and cache.get(first) is not None and cache.get(third) is not None
    assert request_key(Request("nernst", {"ion": "K", "private": True})) == request_key(first)
    assert request_key(Request("nernst", {"ion": "K", "inside": 1.0})) != request_key(first)


async def test_deliver_computes_an_answer_once_per_request() -> None:
    async with TutorBot(services=Services.load(), cooldowns=MemoryCooldowns()) as bot:
        with mock.patch("bot.app.bot.answer", wraps=__import__("bot.answers").answers.answer) as computed:
            for private in (False, True, False):
                interaction = mock_interaction(command="restpot")
                await bot.deliver(interaction, Request("restpot", {"k_out": 7.0}), private=private)
                assert sent_kwargs(interaction)[0]["embeds"][0].description.startswith("**V_m = ")
            await bot.deliver(mock_interaction(command="restpot"), Request("restpot", {"k_out": 8.0}), private=False)
        assert computed.call_count == 2


def test_a_request_with_a_list_or_dict_is_answered_uncached_not_raised() -> None:
    """Issue 13: a list in /explain's topic raised TypeError (unhashable) in the cache."""
    from bot.app.answer_cache import MemoryAnswerCache

    cache = MemoryAnswerCache(max_items=4)
    for value in (["leak-channels"], {"a": 1}):
        request = Request("explain", {"topic": value})
        assert cache.get(request) is None
        cache.put(request, ("x", []))  # type: ignore[arg-type]
        assert cache.get(request) is None


def test_a_signature_mismatch_is_a_stale_registration_not_our_fault() -> None:
    """Issue 13: a missing option or subcommand (CommandSignatureMismatch) ended in "Something
    went wrong" and a traceback; it is one line saying how to refresh the commands."""
    command = build_command(COMMANDS["nernst"], mock.AsyncMock())
    message = _error_message(app_commands.CommandSignatureMismatch(command))
    assert message is not None and "membrane-tutor sync" in message
