"""End to end: the interaction log of a real bot process, through the emulator.

Every interaction the bot answered is in the database after SIGTERM, even mid-burst;
users are stored only as pseudonyms; the raw Discord id appears nowhere on disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from bot_process import BotProcess
from emulator import EmulatorThread, EmulatorUsageError, InteractionRecord
from emulator.models import Member, User


def test_sigterm_mid_burst_loses_no_answered_interaction(tmp_path: Path) -> None:
    database = tmp_path / "data" / "tutor.db"
    database.parent.mkdir()
    with EmulatorThread() as thread:
        emu = thread.emulator
        bot = BotProcess(tmp_path / "bot", env={**emu.env, "TUTOR_DB": str(database)})
        assert bot.run_once("sync").returncode == 0
        bot.start()
        thread.call(emu.wait_for_ready, timeout=60)

        def add_users() -> list[User]:
            users = []
            for number in range(40):
                user = User(emu.snowflake(), f"student{number}", f"Student {number}")
                emu.users[user.username] = user
                emu.guild.members[user.id] = Member(user)
                users.append(user)
            return users

        users = thread.call(add_users)
        records: list[InteractionRecord] = []

        async def burst() -> None:
            gate = asyncio.Semaphore(10)

            async def one(index: int) -> None:
                async with gate:
                    with contextlib.suppress(Exception):  # the bot may stop before the last ones
                        record = await emu.invoke(
                            "nernst", {"ion": "K", "inside": 100.0 + index}, user=users[index % 40]
                        )
                        records.append(record)
                        await record.response(timeout=5)

            tasks = [asyncio.ensure_future(one(i)) for i in range(240)]
            await asyncio.sleep(0.15)  # mid-burst
            assert bot.process is not None
            bot.process.send_signal(signal.SIGTERM)
            await asyncio.to_thread(bot.process.wait, 30)  # the bot drains its log and exits
            await asyncio.sleep(0.5)  # replies already on the wire arrive
            for task in tasks:
                task.cancel()  # what the bot never took, it cannot answer (nor log)
            await asyncio.gather(*tasks, return_exceptions=True)

        thread.run(burst(), timeout=120)
        assert bot.stop(signal.SIGTERM, timeout=30) == 0
        answered = [r for r in records if r.initial is not None]
        assert answered, "the bot answered nothing before it stopped"

    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = db.execute("SELECT count(*) FROM interactions WHERE command = 'nernst'").fetchone()[0]
        users_stored = {row[0] for row in db.execute("SELECT DISTINCT pseudonym FROM interactions")}
    assert stored >= len(answered), f"{len(answered)} answered, {stored} logged"
    raw_ids = {str(user.id) for user in users}
    assert not raw_ids & users_stored
    on_disk = b"".join(path.read_bytes() for path in database.parent.iterdir() if path.is_file())
    assert not any(raw.encode() in on_disk for raw in raw_ids), "a raw Discord user id reached the disk"


def test_instructor_stats_and_a_students_forget_through_the_emulator(tmp_path: Path) -> None:
    """/stats show for an instructor (Manage Server), not offered to a student; /privacy forget
    behind its confirm button erases the student's rows."""
    database = tmp_path / "tutor.db"
    with EmulatorThread() as thread:
        emu = thread.emulator
        bot = BotProcess(tmp_path / "bot", env={**emu.env, "TUTOR_DB": str(database)})
        assert bot.run_once("sync").returncode == 0
        bot.start()
        try:
            thread.call(emu.wait_for_ready, timeout=60)

            def ask(name: str, options: dict[str, object], user: str) -> InteractionRecord:
                record = thread.call(emu.invoke, name, options, user=user)
                thread.run(record.response(timeout=15))
                if record.response_type == 5:
                    thread.run(record.wait_for_final(timeout=15))
                return record

            for ion in ("K", "Na", "Cl"):
                ask("nernst", {"ion": ion}, "student")
            declined = ask("ask", {"question": "how do i calculate an iv drip rate"}, "student").original
            assert declined is not None and declined.embeds  # a server with the log: the promise is kept below
            assert "Passed on to this server's instructors" in json.dumps(declined.embeds, ensure_ascii=False)
            time.sleep(0.6)  # the writer commits within its 0.2 s flush interval

            stats = ask("stats show", {"days": 7}, "instructor").original
            assert stats is not None and stats.ephemeral
            text = json.dumps(stats.embeds, ensure_ascii=False)
            assert "nernst" in text and "iv drip rate" in text

            with pytest.raises(EmulatorUsageError):  # Discord offers /stats only to Manage Server
                thread.call(emu.invoke, "stats show", {}, user="student")

            prompt = ask("privacy forget", {}, "student").original
            assert prompt is not None and prompt.ephemeral and "privacy:forget" in prompt.custom_ids()
            click = thread.call(emu.click, prompt, "privacy:forget")
            thread.run(click.response(timeout=15))
            thread.run(asyncio.sleep(1.0))
            assert emu.problems() == []
        finally:
            assert bot.stop(signal.SIGTERM) == 0
    with sqlite3.connect(database) as db:
        student_rows = db.execute(
            "SELECT count(*) FROM interactions WHERE command IN ('nernst', 'ask') AND guild IS NOT NULL"
        ).fetchone()[0]
    assert student_rows == 0, "the student's rows survived /privacy forget"
