"""End to end: practice through the emulator with the real bot process.

A student asks ``/quiz``, answers wrong and right with the buttons (the bot restarted between
question and press, and still grades: the question lives in the buttons' custom_ids), types an
answer in the modal, sees the attempts in ``/progress show`` and erases them with ``/privacy
forget``. A stranger's press, a garbled custom_id, a press from an older generator version and
a modal submitted empty or with 500 characters each get a clear private message and a log line,
never a traceback. Every payload is validated by the emulator (``emu.problems()`` stays empty).
"""

from __future__ import annotations

import json
import math
import re
import signal
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bot_process import BotProcess
from emulator import DiscordEmulator, EmulatorThread, InteractionRecord, MessageRecord

from bot.tutoring import problems

EPHEMERAL = 1 << 6
R, F = 8.314462618, 96485.33212  # CODATA, J mol⁻¹ K⁻¹ and C mol⁻¹
VALENCE = {"K": 1, "Na": 1, "Cl": -1, "Ca": 2}


@dataclass
class World:
    thread: EmulatorThread
    emu: DiscordEmulator
    bot: BotProcess
    database: Path

    def ask(self, name: str, options: dict[str, Any] | None = None, **where: Any) -> InteractionRecord:
        record = self.thread.call(self.emu.invoke, name, options or {}, **where)
        return self.settled(record)

    def settled(self, record: InteractionRecord) -> InteractionRecord:
        """Wait for the initial response (and, when deferred, the message that replaces "thinking…")."""
        self.thread.run(record.response(timeout=15))
        if record.response_type == 5:
            self.thread.run(record.wait_for_final(timeout=15))
        return record

    def press(self, message: MessageRecord, custom_id: str, **how: Any) -> InteractionRecord:
        return self.settled(self.thread.call(self.emu.click, message, custom_id, **how))

    def submit(self, opened_by: InteractionRecord, text: str, **how: Any) -> InteractionRecord:
        return self.settled(self.thread.call(self.emu.submit_modal, opened_by, {"answer": text}, **how))

    def restart(self) -> None:
        """SIGTERM, then a new process on the same database and key: a fresh IDENTIFY."""
        before = len(self.emu.connections)
        assert self.bot.stop(signal.SIGTERM, timeout=30) == 0
        self.bot.start()
        deadline = time.monotonic() + 60
        while len(self.emu.connections) <= before and time.monotonic() < deadline:
            time.sleep(0.05)
        self.thread.call(self.emu.wait_for_ready, timeout=60)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    workdir = tmp_path_factory.mktemp("practice")
    database = workdir / "tutor.db"
    thread = EmulatorThread()
    emu = thread.start()
    env = {**emu.env, "TUTOR_DB": str(database), "TUTOR_HASH_KEY": "e2e-practice-key-0123456789"}
    bot = BotProcess(workdir / "bot", env=env)
    try:
        synced = bot.run_once("sync")
        assert synced.returncode == 0, synced.stderr
        bot.start()
        thread.call(emu.wait_for_ready, timeout=60)
        yield World(thread, emu, bot, database)
    finally:
        if bot.alive():
            bot.stop(signal.SIGKILL)
        thread.stop()


def _text(message: MessageRecord | None) -> str:
    """Everything a student reads in a message: content and embeds."""
    assert message is not None
    return message.content + "\n" + json.dumps(message.embeds, ensure_ascii=False)


def _reply(record: InteractionRecord) -> MessageRecord:
    """The bot's (private) reply to a press or a submission."""
    message = record.original
    assert message is not None, f"no reply to {record.name!r}"
    assert message.ephemeral, f"the reply to {record.name!r} is not private"
    return message


def _buttons(message: MessageRecord) -> dict[str, dict[str, Any]]:
    """custom_id → button, for every button of the message."""
    return {c["custom_id"]: c for row in message.components for c in row.get("components", []) if "custom_id" in c}


def _parts(custom_id: str) -> list[str]:
    return custom_id.split("|")


def _nernst_mv(options: dict[str, Any]) -> float:
    """E = RT/(zF) · ln(out/in), written here, not taken from the engine."""
    kelvin = options["temperature"] + 273.15
    return 1000 * R * kelvin / (VALENCE[options["ion"]] * F) * math.log(options["outside"] / options["inside"])


def _letters(message: MessageRecord) -> tuple[str, str, str]:
    """(right letter's id, a wrong letter's id, the right value typed as a student types it),
    the keyed value recomputed from the problem's inputs with the formula above."""
    buttons = _buttons(message)
    letter_ids = [cid for cid in buttons if _parts(cid)[-1] in "ABCDE"]
    _, version, card, seed, _, _ = _parts(letter_ids[0])
    problem = problems.generate(card, int(seed))
    assert problem.command == "nernst" and int(version) == problems.GENERATOR_VERSION
    keyed = _nernst_mv(dict(problem.options))

    def value(cid: str) -> float:
        label = buttons[cid]["label"]
        number = re.search(r"[−+-]?\d+(?:\.\d+)?", label.split(". ", 1)[1])
        assert number is not None, label
        return float(number.group().replace("−", "-"))

    right = [cid for cid in letter_ids if abs(value(cid) - keyed) <= 0.051]
    assert len(right) == 1, (keyed, [buttons[c]["label"] for c in letter_ids])
    wrong = next(cid for cid in letter_ids if cid not in right)
    return right[0], wrong, f"{keyed:.1f} mV".replace("-", "−")


def _question(world: World, **where: Any) -> MessageRecord:
    record = world.ask("quiz", {"topic": "nernst-equation", "kind": "numeric"}, **where)
    message = record.original
    assert message is not None and message.ephemeral
    ids = list(_buttons(message))
    assert len(ids) == 5 and all(len(cid) <= 100 for cid in ids)
    assert [_parts(cid)[-1] for cid in ids] == ["A", "B", "C", "D", "T"]
    return message


def _attempts(world: World) -> int:
    with sqlite3.connect(world.database) as db:
        return int(db.execute("SELECT count(*) FROM attempts").fetchone()[0])


def test_a_student_practises_through_a_restart_and_then_forgets(world: World) -> None:
    question = _question(world)
    right, wrong, typed = _letters(question)

    graded = _reply(world.press(question, wrong))
    assert "Not quite" in _text(graded)

    world.restart()  # the question lives only in its buttons
    graded = _reply(world.press(question, right))
    assert "Right" in _text(graded)

    type_id = next(cid for cid in _buttons(question) if cid.endswith("|T"))
    opened = world.press(question, type_id)
    assert opened.response_type == 9 and opened.modal is not None
    assert len(opened.modal["title"]) <= 45 and len(opened.modal["components"]) <= 5
    graded = _reply(world.submit(opened, typed))
    assert "Right" in _text(graded), _text(graded)

    concept = world.ask("quiz", {"topic": "leak-channels", "kind": "concept"}).original
    assert concept is not None and concept.ephemeral
    letters = [cid for cid in _buttons(concept) if _parts(cid)[2].startswith("concept:leak-channels:")]
    assert letters and not any(cid.endswith("|T") for cid in _buttons(concept))  # no number to type
    said = _text(_reply(world.press(concept, letters[0])))
    assert "Right" in said or "Not quite" in said

    # /check: the student's own homework number, E_K = 61.54 mV · log10(5/140) = −89.06 mV at 37 °C
    homework = {"ion": "K", "inside": 140.0, "outside": 5.0, "temperature": 37.0, "answer": "-89.1 mV"}
    assert "Right" in _text(world.ask("check nernst", homework).original)

    time.sleep(0.6)  # the interaction log's writer commits within its flush interval
    assert _attempts(world) == 4  # three on the numeric question, one on the concept one; /check is not practice
    shown = _text(_reply(world.ask("progress show")))
    assert re.search(r"nernst-equation: \w+, 3 answers, 67 % right", shown), shown  # wrong, right, right
    assert re.search(r"leak-channels: \w+, 1 answer, (0|100) % right", shown), shown
    assert "4 graded answers" in shown, shown

    prompt = world.ask("privacy forget").original
    assert prompt is not None and "privacy:forget" in prompt.custom_ids()
    erased = world.press(prompt, "privacy:forget")
    world.thread.run(erased.wait_for_edit(1, timeout=15))
    assert _attempts(world) == 0
    with sqlite3.connect(world.database) as db:
        assert db.execute("SELECT count(*) FROM cards").fetchone()[0] == 0
    assert "Nothing practised yet" in _text(_reply(world.ask("progress show")))
    assert not world.emu.problems(), world.emu.problems()


def test_refused_presses_and_modals_get_a_private_line_and_no_traceback(world: World) -> None:
    question = _question(world)
    right, _, _ = _letters(question)

    stranger = _reply(world.press(question, right, user="instructor", check=False))
    assert "someone else's question" in _text(stranger)

    forged = _reply(world.press(question, "quiz|1|nernst:K|x|zz|A", check=False))  # not on the message
    assert "not one I made" in _text(forged)

    damaged = _question(world)  # a question whose button ids were damaged (or made by a broken build)
    a, b = [cid for cid in _buttons(damaged) if cid[-1] in "AB"]
    world.thread.call(damaged.rewrite_custom_id, a, a.replace("|", "/", 2))
    assert "not one I made" in _text(_reply(world.press(damaged, a.replace("|", "/", 2))))

    parts = _parts(b)  # a question asked before the generator changed: never graded, a new one instead
    older = "|".join([parts[0], str(problems.GENERATOR_VERSION - 1), *parts[2:]])
    world.thread.call(damaged.rewrite_custom_id, b, older)
    expired = world.press(damaged, older)
    assert "expired" in _text(_reply(expired))
    fresh = world.thread.run(expired.wait_for_followups(1, timeout=15))[-1]
    assert fresh.ephemeral and any(cid.endswith("|A") for cid in _buttons(fresh)), "no new question"
    assert all(_parts(cid)[1] == str(problems.GENERATOR_VERSION) for cid in _buttons(fresh))

    type_id = next(cid for cid in _buttons(question) if cid.endswith("|T"))
    for text, says in (("", "empty"), ("   ", "empty"), ("9" * 500, "500 characters")):
        opened = world.press(question, type_id)
        forged = text == "" or len(text) > 40  # the client itself refuses these (required, max_length)
        said = _text(_reply(world.submit(opened, text, check=not forged)))
        assert says in said, said

    time.sleep(0.3)
    stderr = world.bot.stderr()
    assert "Traceback" not in stderr
    for outcome in ("someone-else", "garbled", "input"):
        assert f"quiz press refused ({outcome})" in stderr
    assert "generator version" in stderr
    assert not world.emu.problems(), world.emu.problems()
