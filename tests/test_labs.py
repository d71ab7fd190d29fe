"""/labs as a nurse meets it: every value flagged at the edges of its cited range, each conversion
shown with the published factor, V_m recomputed here with the GHK equation (not by the engine),
within Discord's limits, and one clear line for bad input. Through the command line too."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from helpers import F, R, assert_valid_answer_json, parse_mv, run_cli

from bot.answers import Answer, answer
from bot.commands import COMMANDS, Request, parse_invocation
from bot.render.discord import render_messages

# The typical mammalian neuron (Sherwood 2016), the default cell: inside values and P_Na/P_K.
K_IN, NA_IN, K_OUT, NA_OUT, P_NA, CELSIUS = 150.0, 15.0, 5.0, 150.0, 1 / 25, 37.0


def ghk_mv(k_out: float = K_OUT, na_out: float = NA_OUT) -> float:
    """V_m = RT/F · ln((P_K[K]o + P_Na[Na]o) / (P_K[K]i + P_Na[Na]i)), in mV, written here."""
    return 1000 * R * (273.15 + CELSIUS) / F * math.log((k_out + P_NA * na_out) / (K_IN + P_NA * NA_IN))


def labs(**options: Any) -> Answer:
    return answer(Request("labs", options))


def field(result: Answer, name: str) -> str:
    return next(f.value for f in result.fields if f.name.startswith(name))


@pytest.mark.parametrize(
    ("ion", "value", "level"),
    [
        # K⁺: hypokalemia below 3.5 (Kardalas 2018), hyperkalemia 5.5 or more (UK Kidney Association 2020)
        ("k", 3.4, "LOW"),
        ("k", 3.5, "normal"),
        ("k", 5.4, "normal"),
        ("k", 5.5, "HIGH"),
        # Na⁺: hyponatremia below 135 (Spasovski 2014), hypernatremia above 145 (Adrogué & Madias 2000)
        ("na", 134.9, "LOW"),
        ("na", 135, "normal"),
        ("na", 145, "normal"),
        ("na", 145.1, "HIGH"),
        # Cl⁻: 103–112 mmol/L (Guyton & Hall, Table 1-1)
        ("cl", 102.9, "LOW"),
        ("cl", 103, "normal"),
        ("cl", 112, "normal"),
        ("cl", 112.1, "HIGH"),
    ],
)
def test_flags_at_the_edges_of_each_range(ion: str, value: float, level: str) -> None:
    result = labs(**{ion: value})
    assert not result.error
    assert result.headline.split(" → ")[0].endswith(f": {level}")


@pytest.mark.parametrize(
    ("value", "level"), [(0.99, "LOW"), (1.0, "normal"), (1.4, "normal"), (1.41, "HIGH")]
)  # ionized Ca²⁺ 1.0–1.4 mmol/L (Guyton & Hall, Table 1-1)
def test_ionized_calcium_at_the_edges(value: float, level: str) -> None:
    assert labs(ca=value, ca_unit="ionized").headline.endswith(f": {level}")


@pytest.mark.parametrize(
    ("k", "words"),
    [(2.4, "severe hypokalemia"), (5.9, "mild hyperkalemia"), (6.0, "moderate"), (6.5, "severe hyperkalemia")],
)
def test_potassium_severity_bands_of_the_guidelines(k: float, words: str) -> None:
    assert words in labs(k=k).lines[0]


def test_each_range_is_shown_with_its_source() -> None:
    result = labs(k=6.8, na=128, cl=100, ca=9.2, ca_unit="mg/dL")
    text = "\n".join(result.lines)
    for shown in ("3.5–5.4 mmol/L", "135–145 mmol/L", "103–112 mmol/L", "1.0–1.4 mmol/L"):
        assert shown in text
    for cited in ("Kardalas 2018", "UK Kidney Association 2020", "Spasovski 2014", "Adrogué & Madias 2000", "Guyton"):
        assert cited in text
    sources = field(result, "Sources")
    assert "doi:10.1530/EJE-13-1020" in sources and "Treatment of Acute Hyperkalaemia" in sources


def test_monovalent_conversions_are_shown_equal() -> None:
    conversions = field(labs(k=6.8, na=128, cl=95), "Conversions")
    assert "K⁺ 6.8 mmol/L = 6.8 mEq/L = 6.8 mM" in conversions
    assert "Na⁺ 128 mmol/L = 128 mEq/L" in conversions
    assert "Cl⁻ 95 mmol/L = 95 mEq/L" in conversions


def test_calcium_in_mg_per_dl_is_divided_by_4_008_and_the_estimates_are_named() -> None:
    result = labs(ca=7.6, ca_unit="mg/dL", albumin=2.5)
    conversions = field(result, "Conversions")
    assert f"7.6 mg/dL ÷ 4.008 = {7.6 / 4.008:.2f} mmol/L" in conversions
    corrected = 7.6 + 0.8 * (4.0 - 2.5)  # written here: measured + 0.8 × (4.0 − albumin)
    assert f"0.8 × (4.0 − 2.5) = {corrected:g} mg/dL = {corrected / 4.008:.2f} mmol/L" in conversions
    assert "not a unit conversion" in conversions
    assert f"½ × {corrected / 4.008:.2f} = {corrected / 4.008 / 2:.2f} mmol/L" in conversions
    assert "estimate" in conversions
    assert "Payne" in field(result, "Calcium: approximations")
    assert "doi:10.1136/bmj.4.5893.643" in field(result, "Sources")
    assert result.headline.startswith("Ca²⁺ 7.6 mg/dL total (corrected 8.8 mg/dL), ≈ 1.10 ionized")


def test_ionized_calcium_in_mEq_is_twice_mmol_and_needs_no_correction() -> None:
    result = labs(ca=1.2, ca_unit="ionized")
    assert "Ca²⁺ ionized 1.20 mmol/L = 2.40 mEq/L" in field(result, "Conversions")
    assert "≈" not in result.headline and "Payne" not in field(result, "Sources")


def test_total_calcium_in_mmol_per_litre_without_albumin_says_it_was_not_corrected() -> None:
    result = labs(ca=2.1, ca_unit="mmol/L")
    assert "× 4.008 = 8.42 mg/dL" in field(result, "Conversions")
    assert "No albumin given" in field(result, "Calcium: approximations")


@pytest.mark.parametrize(("k", "na"), [(6.8, 128.0), (3.1, 140.0), (5.0, 150.0), (7.1, None), (None, 118.0)])
def test_resting_potential_with_these_values_beside_the_cells_own(k: float | None, na: float | None) -> None:
    options = {name: value for name, value in (("k", k), ("na", na)) if value is not None}
    result = labs(**options)
    expected = ghk_mv(k_out=k if k is not None else K_OUT, na_out=na if na is not None else NA_OUT)
    potentials = field(result, "Membrane potentials")
    assert parse_mv(potentials) == pytest.approx(expected, abs=0.051)
    assert parse_mv(potentials.split("with these values,")[1]) == pytest.approx(ghk_mv(), abs=0.051)
    assert parse_mv(result.headline.split("V_m")[1]) == pytest.approx(expected, abs=0.051)
    if k is not None:
        e_k = 1000 * R * (273.15 + CELSIUS) / F * math.log(k / K_IN)
        assert parse_mv(potentials.split("→")[1]) == pytest.approx(e_k, abs=0.051)


def test_chloride_and_calcium_where_a_cell_has_them() -> None:
    potentials = field(labs(cl=95, ca=1.2, ca_unit="ionized"), "Membrane potentials")
    assert "P_Cl = 0" in potentials and "Bear et al." in potentials
    e_cl = 1000 * R * (273.15 + CELSIUS) / (-F) * math.log(95 / 13)  # Bear's [Cl⁻]i 13 mM
    assert parse_mv(potentials.split("→")[1]) == pytest.approx(e_cl, abs=0.051)
    e_ca = 1000 * R * (273.15 + CELSIUS) / (2 * F) * math.log(1.2 / 0.0002)  # Bear's [Ca²⁺]i 0.2 µM
    assert parse_mv(potentials.split("→")[2]) == pytest.approx(e_ca, abs=0.051)


def test_what_to_watch_and_the_topic_follow_the_flags() -> None:
    result = labs(k=6.8, na=128)
    watch = field(result, "What a nurse watches for")
    assert "ECG" in watch and "IV calcium" in watch and "seizures" in watch
    assert field(result, "Related") == "/explain topic:hyperkalemia · /explain topic:sodium-disorders"
    assert result.topic == "hyperkalemia"
    assert field(labs(k=3.0), "Related") == "/explain topic:hypokalemia"
    assert "nothing to act on" in field(labs(k=4.2), "What a nurse watches for")


def test_related_topics_are_in_the_notes() -> None:
    from bot.answers import Services

    slugs = {topic.slug for topic in Services.load().knowledge}
    for options in ({"k": 6.8}, {"k": 3.0}, {"na": 120}, {"cl": 95}, {"ca": 7.0, "ca_unit": "mg/dL"}):
        for topic in field(labs(**options), "Related").split(" · "):
            assert topic.removeprefix("/explain topic:") in slugs


@pytest.mark.parametrize(
    "options",
    [
        {"k": 6.8, "na": 128},
        {"k": 2.4, "na": 118, "cl": 130, "ca": 14.5, "ca_unit": "mg/dL", "albumin": 1.5, "private": True},
        {"ca": 2.1, "ca_unit": "mmol/L", "albumin": 2.8},
    ],
)
def test_within_discords_limits_and_schema(options: dict[str, Any]) -> None:
    result = labs(**options)
    assert not result.error
    messages = render_messages(result)
    assert len(messages) == 1
    (embed, *more) = messages[0].embeds
    assert not more
    assert len(embed) <= 6000 and len(embed.fields) <= 25 and len(embed.description or "") <= 400
    assert all(len(f.value) <= 1024 and len(f.name) <= 256 for f in embed.fields)
    assert embed.footer.text and len(embed.footer.text) <= 2048
    assert str(embed.description).startswith(f"**{result.headline}**")
    assert_valid_answer_json(result.to_json())


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("/labs", "at least one serum value"),
        ("/labs ca:9.2", "`ca` needs `ca_unit`"),
        ("/labs ca_unit:mg/dL", "without `ca`"),
        ("/labs k:4 albumin:3", "corrects a total calcium"),
        ("/labs ca:9.2 ca_unit:mmol/L", "is it in mg/dL?"),
        ("/labs ca:1.2 ca_unit:mg/dL", "is it in mmol/L?"),
        ("/labs k:68", "out of range"),
        ("/labs k:abc", "must be a number"),
        ("/labs na:4.5", "out of range"),
        ("/labs ca:9 ca_unit:ounces", "must be one of"),
    ],
)
def test_bad_input_gets_one_clear_line(typed: str, says: str) -> None:
    try:
        result = answer(parse_invocation(typed))
    except Exception as error:  # the terminal's parser refuses before the handler: same sentence
        message = str(error)
    else:
        assert result.error
        message = result.headline
    assert says in message
    assert "\n" not in message and len(message) < 200


def test_request_options_are_checked_even_without_a_client() -> None:
    for options in ({"k": math.nan}, {"na": 1e9}, {"albumin": -1, "ca": 9, "ca_unit": "mg/dL"}):
        assert labs(**options).error


def test_declared_as_a_user_installable_calculator() -> None:
    spec = COMMANDS["labs"]
    assert spec.user_install and not spec.guild_only
    assert [option.name for option in spec.options] == ["k", "na", "cl", "ca", "ca_unit", "albumin", "private"]
    assert [choice.name for choice in spec.option("ca_unit").choices] == [  # type: ignore[union-attr]
        "mg/dL (total)",
        "mmol/L (total)",
        "mmol/L ionized",
    ]
    assert parse_invocation('/labs ca:1.1 ca_unit:"mmol/L ionized"').options["ca_unit"] == "ionized"


def test_the_command_line_form() -> None:
    done = run_cli("ask", "/labs k:6.8 na:128")
    assert done.returncode == 0, done.stderr
    assert "K⁺ 6.8 mmol/L: HIGH" in done.stdout and "Na⁺ 128 mmol/L: LOW" in done.stdout
    assert parse_mv(done.stdout.split("V_m")[1]) == pytest.approx(ghk_mv(6.8, 128), abs=0.051)
    done = run_cli("ask", "--json", "/labs k:6.8")
    data = json.loads(done.stdout)
    assert data["command"] == "labs" and not data["error"]
    assert_valid_answer_json(data)
