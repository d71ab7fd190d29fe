"""End to end: ``membrane-tutor run`` in its own process, against the local Discord emulator.

One bot process serves the whole module (as on a real server); the emulator runs in a
thread of the test process and plays Discord: it syncs nothing itself, dispatches the
interactions a student's client would, and validates every payload the bot sends
against Discord's OpenAPI spec and limits. ``emu.problems()`` must stay empty.
"""

from __future__ import annotations

import json
import re
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bot_process import BotProcess, is_loopback
from emulator import DiscordEmulator, EmulatorThread, EmulatorUsageError, InteractionRecord

from bot.commands import COMMANDS, OptionType

EPHEMERAL = 1 << 6
OPTION_TYPES = {OptionType.STRING: 3, OptionType.INTEGER: 4, OptionType.BOOLEAN: 5, OptionType.NUMBER: 10}


@dataclass
class World:
    thread: EmulatorThread
    emu: DiscordEmulator
    bot: BotProcess
    sync_output: str

    def ask(self, name: str, options: dict[str, Any] | None = None, **where: Any) -> InteractionRecord:
        """Invoke a command as a user and wait for the bot's initial response (and, when it
        deferred to draw figures, for the answer that replaces "thinking…")."""
        record = self.thread.call(self.emu.invoke, name, options or {}, **where)
        self.thread.run(record.response(timeout=15))
        if record.response_type == 5:
            self.thread.run(record.wait_for_final(timeout=15))
        return record


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from _world(tmp_path_factory.mktemp("bot"))


@pytest.fixture(scope="module")
def hanging_figures(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A second bot whose figures can never finish in time (a 1 ms time box)."""
    yield from _world(tmp_path_factory.mktemp("slow"), TUTOR_FIGURE_TIMEOUT="0.001")


def _world(workdir: Path, **settings: str) -> Iterator[World]:
    thread = EmulatorThread()
    emu = thread.start()
    bot = BotProcess(workdir, env={**emu.env, **settings})
    try:
        synced = bot.run_once("sync")  # as an operator does once, before the first `run`
        assert synced.returncode == 0, synced.stderr
        bot.start()
        thread.call(emu.wait_for_ready, timeout=60)
        yield World(thread, emu, bot, synced.stdout)
    finally:
        if bot.alive():
            bot.stop(signal.SIGKILL)
        thread.stop()


def _first_embed(record: InteractionRecord) -> dict[str, Any]:
    message = record.original
    assert message is not None and message.embeds, f"no embed in the answer to /{record.name}"
    return message.embeds[0]


def _assert_options(sent_options: list[dict[str, Any]], declared_options: tuple[Any, ...]) -> None:
    assert [o["name"] for o in sent_options] == [o.name for o in declared_options]
    for sent, declared in zip(sent_options, declared_options, strict=True):
        assert sent["type"] == OPTION_TYPES[declared.type]
        assert sent["description"] == declared.description
        assert bool(sent.get("required")) is declared.required
        assert [(c["name"], c["value"]) for c in sent.get("choices", [])] == [
            (c.name, c.value) for c in declared.choices
        ]
        assert bool(sent.get("autocomplete")) is declared.autocomplete
        if declared.bounds is not None:
            assert (sent["min_value"], sent["max_value"]) == (declared.bounds.low, declared.bounds.high)


def test_sync_registers_exactly_the_declaration(world: World) -> None:
    """The schema Discord stored equals bot/commands.py, field by field; instructor commands
    are guild-only (contexts [0], integration_types [0]) and need Manage Server."""
    stored = {command["name"]: command for command in world.emu.commands()}
    assert set(stored) == set(COMMANDS)
    for name, spec in COMMANDS.items():
        command = stored[name]
        assert command["description"] == spec.description
        assert sorted(command["integration_types"]) == ([0, 1] if spec.user_install else [0])
        assert sorted(command["contexts"]) == ([0, 1, 2] if spec.user_install else [0])
        if spec.manage_guild:
            assert int(command["default_member_permissions"]) == 1 << 5  # Manage Server
        options = command.get("options", [])
        if spec.is_group:
            assert [(o["name"], o["type"]) for o in options] == [(sub.name, 1) for sub in spec.subcommands]
            for sent, sub in zip(options, spec.subcommands, strict=True):
                assert sent["description"] == sub.description
                _assert_options(sent.get("options", []), sub.options)
        else:
            _assert_options(options, spec.options)
    assert f"synced {len(COMMANDS)} commands" in world.sync_output


ANSWERS = [
    ("restpot", {}, r"V_m = −69\.9 mV"),
    ("restpot", {"k_out": 10.0}, r"V_m = −5\d\.\d mV"),
    ("restpot", {"preset": "squid-giant-axon", "detail": "steps"}, r"V_m = −59\.6 mV"),
    ("nernst", {"ion": "K", "inside": 140.0, "outside": 5.0}, r"E_K = −89\.1 mV"),
    ("nernst", {"ion": "Ca", "inside": 0.0001, "outside": 2.0, "detail": "steps"}, r"E_Ca = \+132\.3 mV"),
    ("nernst", {"ion": "custom", "valence": -2, "inside": 10.0, "outside": 1.0}, r"E_X = \+30\.\d mV"),
    ("whatif", {"scenario": "hyperkalemia"}, r"V_m −69\.9 mV → −65\.5 mV: depolarizes"),
    ("whatif", {"scenario": "pump-block", "preset": "cardiac-myocyte"}, r"depolarizes"),
    ("explain", {"topic": "leak-channels"}, r"Leak channels are always open"),
    ("help", {}, r"Membrane physiology"),
]


@pytest.mark.parametrize(("name", "options", "expected"), ANSWERS, ids=[f"{a[0]}-{i}" for i, a in enumerate(ANSWERS)])
def test_every_command_answers_in_time_with_the_number_first(
    world: World, name: str, options: dict[str, Any], expected: str
) -> None:
    record = world.ask(name, options)
    assert record.deadline_met
    message = record.original
    assert message is not None and not message.ephemeral
    assert message.allowed_mentions_set and message.allowed_mentions == {"parse": []}
    embed = _first_embed(record)
    description = embed["description"]
    assert re.search(expected, description.splitlines()[0] + "\n" + description), description
    assert len(description) <= 400  # the answer leads, the details follow in fields


def test_a_private_answer_can_be_shared_to_the_channel(world: World) -> None:
    private = world.ask("nernst", {"ion": "Na", "private": True})
    message = private.original
    assert message is not None and message.ephemeral
    share_ids = [custom_id for custom_id in message.custom_ids() if custom_id.startswith("share:")]
    assert len(share_ids) == 1
    click = world.thread.call(world.emu.click, message, share_ids[0])
    world.thread.run(click.response(timeout=15))
    shared = click.original
    assert shared is not None and not shared.ephemeral
    assert shared.embeds[0]["description"] == message.embeds[0]["description"]
    assert not shared.custom_ids()  # a public answer needs no share button


def test_explain_autocomplete_stays_within_25_choices(world: World) -> None:
    for typed in ("", "leak", "resting potential", "zzzz"):
        record = world.thread.call(world.emu.autocomplete, "explain", {"topic": typed}, "topic")
        world.thread.run(record.response(timeout=15))
        assert len(record.choices) <= 25
        if typed in ("", "leak", "resting potential"):
            assert "leak-channels" in [choice["value"] for choice in record.choices]


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"ion": "Mg"}, "no Mg²⁺ values"),
        ({"ion": "custom"}, "needs a `valence`"),
        ({"ion": "custom", "valence": 0, "inside": 1.0, "outside": 2.0}, "non-zero"),
        ({"ion": "K", "valence": 2}, "valence +1"),
    ],
)
def test_bad_values_get_a_private_one_line_message(world: World, options: dict[str, Any], says: str) -> None:
    record = world.ask("nernst", options)
    message = record.original
    assert message is not None and message.ephemeral
    assert says in message.content and "\n" not in message.content
    assert not message.embeds and message.allowed_mentions == {"parse": []}


def test_ask_answers_from_the_notes(world: World) -> None:
    record = world.ask("ask", {"question": "why is the resting membrane potential negative inside"})
    embed = _first_embed(record)
    assert record.deadline_met and not record.original.ephemeral  # type: ignore[union-attr]
    assert embed["title"] != "That is not in my notes"
    assert "From my notes:" in embed["footer"]["text"]


def test_ask_declines_what_is_not_in_the_notes(world: World) -> None:
    record = world.ask("ask", {"question": "how do i calculate an iv drip rate in drops per minute"})
    embed = _first_embed(record)
    assert embed["title"] == "That is not in my notes"
    assert embed["description"].count("Nearest:") == 3


def test_ask_too_long_never_leaves_the_client_and_blank_gets_a_clear_message(world: World) -> None:
    with pytest.raises(EmulatorUsageError):  # Discord's client enforces the declared max_length
        world.thread.call(world.emu.invoke, "ask", {"question": "why " * 100})
    record = world.ask("ask", {"question": "   "})
    message = record.original
    assert message is not None and message.ephemeral and "`question` is empty" in message.content


def test_restpot_with_no_permeant_ion_is_refused_privately(world: World) -> None:
    record = world.ask("restpot", {"p_k": 0.0, "p_na": 0.0, "p_cl": 0.0})
    assert record.original is not None and record.original.ephemeral
    assert "must be above 0" in record.original.content


def test_out_of_range_values_never_leave_the_discord_client(world: World) -> None:
    """Discord's client enforces the declared bounds, so these are not even sendable."""
    for options in ({"ion": "K", "inside": -1.0}, {"ion": "K", "temperature": 500.0}, {"ion": "K", "valence": 4}):
        with pytest.raises(EmulatorUsageError):
            world.thread.call(world.emu.invoke, "nernst", options)


def test_a_user_install_command_from_a_dm_is_answered(world: World) -> None:
    record = world.ask("nernst", {"ion": "K", "inside": 140.0, "outside": 5.0}, guild=False)
    payload = record.payload
    assert "guild_id" not in payload and "member" not in payload and "user" in payload
    assert payload["context"] in (1, 2)
    assert payload["authorizing_integration_owners"] == {"1": str(record.user.id)}
    assert "E_K = −89.1 mV" in _first_embed(record)["description"]


def test_the_bots_dm_context_is_answered_too(world: World) -> None:
    record = world.ask("explain", {"topic": "leak-channels"}, guild=False, context=1)
    assert record.payload["context"] == 1
    assert _first_embed(record)["title"].startswith("What role do leak channels play")


def test_cooldown_answers_privately_and_other_users_are_unaffected(world: World) -> None:
    answered = [world.ask("nernst", {"ion": "K"}, user="instructor") for _ in range(11)]
    assert all(record.original is not None and record.original.embeds for record in answered[:10])
    refused = answered[10].original
    assert refused is not None and refused.ephemeral and "you can ask again" in refused.content
    other = world.ask("nernst", {"ion": "K"}, user="admin")
    assert other.original is not None and other.original.embeds


def test_the_bot_resumes_after_the_gateway_drops(world: World) -> None:
    world.thread.call(world.emu.drop_gateway)
    world.thread.call(world.emu.wait_for_resume, timeout=60)
    record = world.ask("restpot", {})
    assert record.deadline_met and "V_m = −69.9 mV" in _first_embed(record)["description"]


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _figures(record: InteractionRecord) -> list[Any]:
    message = record.original
    assert message is not None and not message.loading
    return [attachment for attachment in message.attachments if attachment.filename.endswith(".png")]


def test_detail_plot_is_deferred_and_arrives_with_described_figures(world: World) -> None:
    record = world.ask("restpot", {"detail": "plot"})
    assert record.response_type == 5 and record.deadline_met  # "thinking…" within 3 s, the figure after
    figures = _figures(record)
    assert len(figures) == 2
    for figure in figures:
        assert figure.data.startswith(PNG_SIGNATURE) and figure.size < 10 * 1024 * 1024
        assert figure.description and len(figure.description) <= 1024
    assert any("−69.9 mV" in figure.description for figure in figures)
    embed = _first_embed(record)
    assert embed["description"].startswith("**V_m = −69.9 mV**")
    assert embed["image"]["url"] == f"attachment://{figures[0].filename}"


def test_steps_come_with_an_equation_image_described_in_unicode(world: World) -> None:
    record = world.ask("restpot", {"detail": "steps"})
    equations = [figure for figure in _figures(record) if figure.description.startswith("Step")]
    assert equations, "the GHK equation's fraction should come as an image"
    assert "V_m = RT/F · ln(" in equations[0].description


def test_whatif_shows_before_and_after_on_one_number_line(world: World) -> None:
    record = world.ask("whatif", {"scenario": "hypokalemia"})
    (line,) = _figures(record)
    assert "−69.9 mV" in line.description and "−76.8 mV" in line.description


def test_a_figure_that_misses_its_time_box_leaves_the_text_and_says_so(hanging_figures: World) -> None:
    record = hanging_figures.ask("restpot", {"detail": "plot"})
    assert record.deadline_met
    message = record.original
    assert message is not None and not message.attachments
    assert message.embeds[0]["description"].startswith("**V_m = −69.9 mV**")
    text = json.dumps(message.embeds, ensure_ascii=False) + message.content
    assert "could not be drawn" in text or "couldn't be drawn" in text
    assert hanging_figures.emu.problems() == []


def test_a_rejected_token_is_one_readable_line(hanging_figures: World, tmp_path: Path) -> None:
    """(Against the second emulator, whose records the other tests have finished with.)"""
    impostor = BotProcess(tmp_path, env={**hanging_figures.emu.env, "DISCORD_TOKEN": "not.the.token"})
    result = impostor.run_once("run")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: Discord rejected DISCORD_TOKEN")
    assert "Traceback" not in result.stderr and "not.the.token" not in result.stderr + result.stdout


def test_nothing_the_bot_sent_broke_a_rule_and_nothing_left_loopback(world: World) -> None:
    assert world.emu.problems() == []
    assert world.emu.messages_without_allowed_mentions == []
    assert world.emu.requests and {request.peer for request in world.emu.requests} == {"127.0.0.1"}
    contacted = world.bot.hosts_contacted()
    assert contacted, "the audit hook saw no connection at all"
    assert all(is_loopback(host) for host in contacted), contacted


def test_sigterm_shuts_the_bot_down_cleanly(world: World) -> None:
    """Last in the module: the process exits 0 on SIGTERM, with no traceback and no token."""
    assert world.bot.alive()
    assert world.bot.stop(signal.SIGTERM) == 0
    stderr = world.bot.stderr()
    assert "Traceback" not in stderr
    assert world.emu.token not in stderr
