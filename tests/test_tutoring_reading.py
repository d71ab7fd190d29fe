"""Reading a typed answer: every ordinary way of writing one potential, and a message that
says what to type for everything else (never an echo of long text, never eval)."""

from __future__ import annotations

import pytest

from bot.physiology import InputError
from bot.tutoring.reading import Reading, read_potential


@pytest.mark.parametrize(
    ("text", "expected_mv", "value"),
    [
        ("-89", -89.06, -89.0),
        ("−89.1 mV", -89.06, -89.1),
        ("-0.089 V", -89.06, -89.0),
        ("-89,1 mV", -89.06, -89.1),
        ("−89 mv", -89.06, -89.0),
        ("+61.5mV", 61.5, 61.5),
        ("61.5 MV", 61.5, 61.5),
        ("  -89.1  mV ", -89.06, -89.1),
        ("–89.1 mV", -89.06, -89.1),  # an en dash, as phones autocorrect
        ("-0,0891 V", -89.06, -89.1),
        ("-8.91e1 mV", -89.06, -89.1),
        ("E_K = -89.1 mV", -89.06, -89.1),
        ("Vm=-70mV", -70.0, -70.0),
        ("≈ -89 mV", -89.06, -89.0),
        ("-89.1 millivolts", -89.06, -89.1),
        ("0.5", 2.4, 0.5),  # a small expected value: a bare 0.5 is 0.5 mV
        ("0", 0.0, 0.0),
        ("-.5 mV", -0.4, -0.5),
    ],
)
def test_one_potential_in_any_ordinary_form(text: str, expected_mv: float, value: float) -> None:
    reading = read_potential(text, expected_mv)
    assert reading.value_mv == pytest.approx(value)
    assert reading.note is None


def test_a_bare_small_number_is_read_as_volts_and_said_so() -> None:
    assert read_potential("-0.089", -89.06) == Reading(-89.0, "read as −0.089 V = −89 mV: give a unit next time")
    reading = read_potential("0,0615", 61.5)
    assert reading.value_mv == pytest.approx(61.5)
    assert reading.note == "read as 0.0615 V = 61.5 mV: give a unit next time"
    assert read_potential("-0.089", -4.9).value_mv == pytest.approx(-0.089)  # |expected| < 5 mV: millivolts


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("-89 mM", "concentration"),
        ("4.5 mmol/L", "concentration"),
        ("37 °C", "temperature"),
        ("37C", "temperature"),
        ("310 K", "kelvin"),
        ("-80 to -90", "range"),
        ("-80 - -90", "range"),
        ("-80–-90 mV", "range"),
        ("-80, -90", "one number"),
        ("-80 -90 mV", "one number"),
        ("NaN", "finite"),
        ("inf", "finite"),
        ("-∞ mV", "finite"),
        ("", "empty"),
        ("   ", "empty"),
        ("x" * 500, "too long"),
        ("-" * 500, "too long"),
        ("minus eighty-nine", "not a number"),
        ("abc", "not a number"),
        ("-89 µV", "not mV or V"),
        ("-89 mV mV", "not mV or V"),
        ("1e400", "far beyond"),
        ("1e308 mV", "far beyond"),
        ("__import__('os')", "not"),
    ],
)
def test_bad_answers_say_what_to_type(text: str, says: str) -> None:
    with pytest.raises(InputError) as caught:
        read_potential(text, -89.06)
    message = str(caught.value)
    assert says in message
    assert "`-89.1 mV`" in message  # what to type
    assert len(message) < 160
    assert "xxxxxxxxxxxxxxxxxxxxxxxx" not in message and "-----------" not in message
    assert caught.value.option == "answer"


@pytest.mark.parametrize("text", ["<@123456789> ok", "@everyone", "`rm` 5 6", "<@&42>"])
def test_mentions_and_backticks_in_an_echo_are_neutralised(text: str) -> None:
    with pytest.raises(InputError) as caught:
        read_potential(text, -89.06)
    message = str(caught.value)
    assert "<@1" not in message and "@everyone" not in message and "<@&" not in message
    assert "`rm`" not in message


def test_a_non_string_answer_is_refused_not_crashed() -> None:
    with pytest.raises(InputError):
        read_potential(None, -89.0)  # type: ignore[arg-type]
