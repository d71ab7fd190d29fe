"""End to end: payloads Discord's client would never send, from a forged or modified client.

``emu.invoke(..., check=False)`` sends each option's value as given, of any JSON type, with
required options or the subcommand missing. Discord validates types, but the bot must not
trust that (issue 13): anything not exactly allowed is refused in one private line that names
the option and what it allows, and the bot's log has one line for it, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from emulator import InteractionRecord
from test_e2e import World, _world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from _world(tmp_path_factory.mktemp("hostile"))


def _forged(world: World, name: str, options: dict[str, Any] | None = None, **where: Any) -> InteractionRecord:
    record = world.thread.call(world.emu.invoke, name, options or {}, check=False, **where)
    world.thread.run(record.response(timeout=15))
    return record


def _refusal(record: InteractionRecord) -> str:
    """The one private line the bot answered with."""
    message = record.original
    assert record.deadline_met and message is not None, f"no answer to /{record.name}"
    assert message.ephemeral and not message.embeds and message.allowed_mentions == {"parse": []}
    assert "\n" not in message.content and "Something went wrong" not in message.content
    return message.content


@pytest.mark.parametrize("state", ["maybe", "ON", "", True, 1])
def test_stats_logging_takes_exactly_on_or_off(world: World, state: Any) -> None:
    said = _refusal(_forged(world, "stats logging", {"state": state}, user="instructor"))
    assert "`state`" in said and "on, off" in said


@pytest.mark.parametrize("value", ["false", 0, None, "true"])
def test_a_boolean_must_be_a_json_boolean(world: World, value: Any) -> None:
    said = _refusal(_forged(world, "nernst", {"ion": "K", "private": value}))
    assert "`private`" in said and "true or false" in said


@pytest.mark.parametrize("value", [True, False, "5", "abc", 10**400, -(10**400), [5], {"v": 5}, 1e9, 0])
def test_a_number_must_be_a_finite_json_number_within_its_bounds(world: World, value: Any) -> None:
    said = _refusal(_forged(world, "nernst", {"ion": "K", "inside": value, "outside": 5.0}))
    assert "`inside`" in said and "1000" in said


def test_an_integer_must_be_a_whole_json_number(world: World) -> None:
    for value in (1.5, "2", True):
        said = _refusal(_forged(world, "nernst", {"ion": "custom", "valence": value}))
        assert "`valence`" in said and "whole number" in said


@pytest.mark.parametrize("ion", ["k", "potassium", "", 1, ["K"]])
def test_a_choice_must_be_exactly_one_of_its_values(world: World, ion: Any) -> None:
    said = _refusal(_forged(world, "nernst", {"ion": ion}))
    assert "`ion`" in said and "K, Na, Cl" in said


@pytest.mark.parametrize(
    ("name", "options", "says"),
    [
        ("nernst", {}, "`ion`"),
        ("stats logging", {}, "`state`"),
        ("explain", {}, "`topic`"),
        ("stats", {}, "show, export, logging"),
    ],
)
def test_a_missing_required_option_or_subcommand_is_named(
    world: World, name: str, options: dict[str, Any], says: str
) -> None:
    assert says in _refusal(_forged(world, name, options, user="instructor"))


@pytest.mark.parametrize(("name", "option"), [("explain", "topic"), ("ask", "question")])
@pytest.mark.parametrize("value", [["leak-channels"], {"a": 1}, 5, None])
def test_text_must_be_a_json_string(world: World, name: str, option: str, value: Any) -> None:
    said = _refusal(_forged(world, name, {option: value}))
    assert f"`{option}`" in said


def test_an_unknown_option_is_refused(world: World) -> None:
    said = _refusal(_forged(world, "nernst", {"ion": "K", "colour": "blue"}))
    assert "`colour`" in said and "inside" in said


def test_autocomplete_on_an_option_without_it_gets_no_choices(world: World) -> None:
    record = world.thread.call(world.emu.autocomplete, "nernst", {"ion": "K"}, "ion", check=False)
    world.thread.run(record.response(timeout=15))
    assert record.deadline_met and record.choices == []


def test_the_bot_logged_one_line_per_forgery_and_no_traceback(world: World) -> None:
    stderr = world.bot.stderr()
    assert "Traceback" not in stderr and "Task exception" not in stderr, stderr[-3000:]
    assert "refused" in stderr
    assert not world.emu.problems()
