"""The quiz buttons' custom_ids (cogs/practice.py): every question fits Discord's 100 characters
and decodes back to itself; anything else is refused as garbled; the student digest is keyed;
the modal and the buttons pass the emulator's limits and Discord's OpenAPI schema."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import pytest
from emulator import limits as L
from emulator.spec import find_operation, validate_body
from emulator.validation import check_message, check_modal

from bot.answers import Services
from bot.log.pseudonyms import Pseudonyms
from bot.tutoring import concepts, problems
from cogs.practice import (
    LETTERS,
    MODAL,
    TYPE_BUTTON,
    GarbledId,
    QuizId,
    TypedAnswer,
    decode,
    quiz_view,
    student_tag,
    typed_text,
)

LARGEST_SEED = 2**32 - 1


@pytest.fixture(scope="module")
def cards() -> list[str]:
    knowledge = Services.load().knowledge
    return [*problems.FAMILIES, *concepts.concept_questions(knowledge)]


def test_every_card_round_trips_within_100_characters(cards: list[str]) -> None:
    for card, choice in itertools.product(cards, (*LETTERS, TYPE_BUTTON, MODAL)):
        quiz_id = QuizId(problems.GENERATOR_VERSION, card, LARGEST_SEED, "0123456789ab", choice)
        encoded = quiz_id.encode()
        assert len(encoded) <= L.CUSTOM_ID_MAX, encoded
        assert decode(encoded) == quiz_id


@pytest.mark.parametrize(
    "custom_id",
    [
        "",
        "quiz",
        "quiz|1|nernst:K|7|0123456789ab",  # no choice
        "quiz|1|nernst:K|7|0123456789ab|A|extra",
        "quiz|1|nernst:K|7|0123456789ab|F",  # no option F
        "quiz|1|nernst:K|7|0123456789AB|A",  # the digest is lower-case hex
        "quiz|1|nernst:K|7|0123456789a|A",  # 11 characters
        "quiz|1|nernst:K|-7|0123456789ab|A",
        "quiz|1|nernst:K|07|0123456789ab|A",  # no leading zeros: one id per question
        "quiz|x|nernst:K|7|0123456789ab|A",
        "quiz|1|nernst K|7|0123456789ab|A",
        "quiz|1||7|0123456789ab|A",
        "quiz|1|nernst:K|1e3|0123456789ab|A",
        "quiz|1|nernst:K|١٢|0123456789ab|A",  # Arabic-Indic digits are not ours
        "share|1|nernst:K|7|0123456789ab|A",
        "quiz/1/nernst:K|7|0123456789ab|A",
    ],
)
def test_garbled_ids_are_refused(custom_id: str) -> None:
    with pytest.raises(GarbledId):
        decode(custom_id)


def test_an_id_longer_than_discord_allows_is_a_bug_raised_at_once() -> None:
    with pytest.raises(ValueError, match="custom_id"):
        QuizId(1, "concept:" + "x" * 90, 1, "0123456789ab", "A").encode()


def _client(pseudonyms: Pseudonyms | None) -> SimpleNamespace:
    log = SimpleNamespace(store=object()) if pseudonyms is not None else None
    return SimpleNamespace(recorder=SimpleNamespace(interaction_log=log, pseudonyms=pseudonyms))


def test_the_student_digest_is_keyed_short_and_not_the_logs_pseudonym() -> None:
    one, other = Pseudonyms(b"k" * 32), Pseudonyms(b"q" * 32)
    tag = student_tag(_client(one), 1234)
    assert len(tag) == 12 and int(tag, 16) >= 0
    assert tag == student_tag(_client(one), 1234)  # stable: a press after a restart matches
    assert tag != student_tag(_client(one), 1235)
    assert tag != student_tag(_client(other), 1234)  # keyed
    assert not one.of(1234).startswith(tag)  # cannot be matched against the database
    assert student_tag(_client(None), 1234) != tag  # no logging: still tells students apart
    assert student_tag(_client(None), 1234) != student_tag(_client(None), 1235)


def test_buttons_and_modal_fit_discords_limits_and_schema() -> None:
    quiz_id = QuizId(1, "concept:sodium-potassium-pump:2", LARGEST_SEED, "0123456789ab", MODAL)
    letters = [(letter, "o" * 76) for letter in LETTERS]
    view = quiz_view(quiz_id, letters, numeric=True)
    components = view.to_components()
    assert [len(row["components"]) for row in components] == [5, 1]
    assert check_message({"content": "q", "components": components}) == []
    labels = [c["label"] for row in components for c in row["components"]]
    assert labels[0].startswith("A. ") and labels[-1] == "Type my answer"
    assert all(len(label) <= L.BUTTON_LABEL_MAX for label in labels)
    assert [decode(c["custom_id"]).choice for row in components for c in row["components"]] == [*LETTERS, "T"]
    assert [len(row["components"]) for row in quiz_view(quiz_id, letters[:3], numeric=False).to_components()] == [3]

    modal = TypedAnswer(quiz_id.encode()).to_dict()
    assert check_modal(modal) == []
    operation = find_operation("POST", "/interactions/1/token/callback")
    assert operation is not None
    issues, _ = validate_body(operation, {"type": 9, "data": modal})
    assert issues == []


def test_the_typed_text_is_found_in_either_modal_layout() -> None:
    row = {"components": [{"type": 1, "components": [{"type": 4, "custom_id": "answer", "value": "-89 mV"}]}]}
    label = {"components": [{"type": 18, "component": {"type": 4, "custom_id": "answer", "value": "-0.089 V"}}]}
    assert typed_text(row) == "-89 mV" and typed_text(label) == "-0.089 V"
    assert typed_text({"components": [{"type": 10, "id": 1}]}) == "" and typed_text(None) == ""
