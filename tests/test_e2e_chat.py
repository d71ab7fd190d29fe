"""End to end: the chat, with the real bot process against the emulator.

A student mentions the bot in a server channel, or writes to it in a DM; the emulator
delivers MESSAGE_CREATE with Discord's content rules for the intents the bot declared
(no Message Content: only mentions and DMs carry text) and checks every reply against
Discord's OpenAPI spec and limits. Each question is answered once, as a reply that cannot
ping; a follow-up in the DM reuses the previous question; a channel message without a
mention, and another bot's message, get nothing.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from bot_process import BotProcess
from emulator import DiscordEmulator, EmulatorThread, MessageRecord

from bot.conversation import numeric_reader

NO_PINGS = {"parse": [], "replied_user": False}


@dataclass
class World:
    thread: EmulatorThread
    emu: DiscordEmulator
    bot: BotProcess

    def say(self, content: str, **where: object) -> MessageRecord:
        return self.thread.call(self.emu.send_message, content, **where)

    def replies(self, message: MessageRecord, n: int = 1) -> list[MessageRecord]:
        return self.thread.call(self.emu.wait_for_replies, message, n, 15.0)

    def mention(self, text: str) -> str:
        return f"{self.emu.bot_user.mention} {text}"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    workdir: Path = tmp_path_factory.mktemp("chat")
    thread = EmulatorThread()
    emu = thread.start()
    bot = BotProcess(workdir, env={**emu.env, "TUTOR_DB": str(workdir / "tutor.db")})
    try:
        synced = bot.run_once("sync")  # for /privacy forget
        assert synced.returncode == 0, synced.stderr
        bot.start()
        thread.call(emu.wait_for_ready, timeout=60)
        yield World(thread, emu, bot)
    finally:
        if bot.alive():
            bot.stop(signal.SIGKILL)
        thread.stop()


def _text(message: MessageRecord) -> str:
    return message.content + json.dumps(message.embeds, ensure_ascii=False)


def _assert_reply_that_cannot_ping(reply: MessageRecord, question: MessageRecord) -> None:
    assert reply.is_reply and reply.referenced is question
    assert reply.message_reference is not None and reply.message_reference["message_id"] == str(question.id)
    assert reply.allowed_mentions == NO_PINGS and reply.allowed_mentions_set
    assert reply.mentions == [] and reply.channel_id == question.channel_id


def _settle(world: World, seconds: float = 1.0) -> None:
    """Give the bot time to (wrongly) answer something it should ignore."""
    time.sleep(seconds)


def test_the_bot_declares_the_message_intents_but_not_message_content(world: World) -> None:
    identify = world.emu._gateway.session.identify  # type: ignore[union-attr]
    intents = identify["intents"]
    assert intents & (1 << 9) and intents & (1 << 12)  # GUILD_MESSAGES, DIRECT_MESSAGES
    assert not intents & (1 << 15) and not intents & (1 << 1) and not intents & (1 << 8)  # no privileged intent


def test_a_mention_in_a_channel_is_answered_once_as_a_reply_that_cannot_ping(world: World) -> None:
    question = world.say(world.mention("why is the resting membrane potential negative inside?"))
    assert question.delivered is not None and question.delivered["content"] == question.content
    (reply,) = world.replies(question)
    _assert_reply_that_cannot_ping(reply, question)
    assert reply.embeds and "From my notes:" in reply.embeds[0]["footer"]["text"]
    assert reply.embeds[0]["title"] != "That is not in my notes"
    _settle(world)
    assert len(world.emu.replies_to(question)) == 1


def test_a_dm_is_answered_and_a_follow_up_reuses_the_previous_question(world: World) -> None:
    first = world.say("what is the nernst equation?", guild=False)
    (answer,) = world.replies(first)
    _assert_reply_that_cannot_ping(answer, first)
    assert answer.guild_id is None and answer.embeds
    topic_title = answer.embeds[0]["title"]
    follow = world.say("why?", guild=False)
    (more,) = world.replies(follow)
    _assert_reply_that_cannot_ping(more, follow)
    assert "Following up on your last question" in _text(more)
    assert more.embeds[0]["title"] == topic_title  # the same topic's entry, not a search for "why?"


@pytest.mark.skipif(numeric_reader() is None, reason="bot.reading.numeric (part R) has not landed")
def test_a_numeric_follow_up_in_the_dm_reuses_the_previous_numbers(world: World) -> None:
    first = world.say("what's E_Na if it's 12 inside and 145 outside?", user="friend", guild=False)
    (computed,) = world.replies(first)
    assert computed.embeds[0]["description"].startswith("**E_Na = +66.")  # the number first
    assert "/nernst ion:Na inside:12 outside:145" in _text(computed)
    follow = world.say("now at 20 °C", user="friend", guild=False)
    (reused,) = world.replies(follow)
    _assert_reply_that_cannot_ping(reused, follow)
    text = _text(reused)
    assert reused.embeds[0]["description"].startswith("**E_Na = +6")
    assert "Reused from your last question" in text and "/nernst ion:Na inside:12 outside:145 temperature:20" in text
    switched = world.say("and for potassium?", user="friend", guild=False)  # follows the 20 °C request
    (potassium,) = world.replies(switched)
    assert potassium.embeds[0]["description"].startswith("**E_K = −")


def test_a_channel_message_without_a_mention_and_another_bots_message_get_nothing(world: World) -> None:
    other_bot = world.thread.call(world.emu.add_user, "helper-bot", "Helper", bot=True)
    unmentioned = world.say("why is the resting potential negative?")
    assert unmentioned.delivered is not None and unmentioned.delivered["content"] == ""  # Discord's content rule
    from_bot = world.say(world.mention("why is the resting potential negative?"), user=other_bot)
    assert from_bot.delivered is not None and from_bot.delivered["content"]  # delivered whole, and still ignored
    answered = world.say(world.mention("what do leak channels do?"))  # in order after the two above
    world.replies(answered)
    _settle(world)
    assert world.emu.replies_to(unmentioned) == [] and world.emu.replies_to(from_bot) == []


def test_a_mention_alone_or_a_too_long_message_gets_a_short_help_line(world: World) -> None:
    alone = world.say(world.emu.bot_user.mention)
    (help_line,) = world.replies(alone)
    _assert_reply_that_cannot_ping(help_line, alone)
    assert "Ask me a question" in help_line.content and "\n" not in help_line.content and not help_line.embeds
    essay = world.say(world.mention("why " * 200))
    (short,) = world.replies(essay)
    assert "up to 300 characters" in short.content


def test_privacy_forget_also_clears_the_conversation(world: World) -> None:
    first = world.say(world.mention("what is the nernst equation?"), user="admin")
    world.replies(first)
    remembered = world.say(world.mention("tell me more"), user="admin")
    assert "Following up" in _text(world.replies(remembered)[0])
    prompt = world.thread.call(world.emu.invoke, "privacy forget", {}, user="admin")
    world.thread.run(prompt.response(timeout=15))
    if prompt.response_type == 5:
        world.thread.run(prompt.wait_for_final(timeout=15))
    assert prompt.original is not None and "privacy:forget" in prompt.original.custom_ids()
    press = world.thread.call(world.emu.click, prompt.original, "privacy:forget", user="admin")
    world.thread.run(press.wait_for_edit(timeout=15))
    after = world.say(world.mention("tell me more"), user="admin")
    assert "Following up" not in _text(world.replies(after)[0])  # nothing left to follow up on


def test_nothing_the_chat_sent_broke_a_rule(world: World) -> None:
    """Every reply: within Discord's limits and the OpenAPI spec (the emulator refused none),
    a reply referencing its question, and pinging nobody."""
    assert world.emu.problems() == []
    assert world.emu.messages_without_allowed_mentions == []
    replies = [m for m in world.emu.messages if m.kind == "channel"]
    assert replies and all(m.is_reply and m.allowed_mentions == NO_PINGS for m in replies)
    asked = [m for m in world.emu.user_messages if m.referenced is None]
    answered = {id(m.referenced) for m in replies}
    assert all(len(world.emu.replies_to(m)) <= 1 for m in asked) and answered
    posts = [r for r in world.emu.requests if r.method == "POST" and r.path.startswith("/channels/")]
    assert posts and {r.operation_id for r in posts} == {"create_message"} and {r.status for r in posts} == {200}


def test_the_bot_stops_cleanly_and_logged_one_chat_row_per_answered_message(world: World) -> None:
    """Last: SIGTERM exits 0 with no traceback; every message the chat answered has its row
    (command ``chat``, the question as its option, a pseudonym), the ignored ones none."""
    assert world.bot.stop(signal.SIGTERM) == 0
    stderr = world.bot.stderr()
    assert "Traceback" not in stderr and "Ignoring exception" not in stderr
    assert world.emu.token not in stderr
    with sqlite3.connect(world.bot.workdir / "tutor.db") as db:
        rows = db.execute("SELECT pseudonym, options, outcome FROM interactions WHERE command = 'chat'").fetchall()
    answered = {id(m.referenced) for m in world.emu.messages if m.kind == "channel"}
    assert len(rows) == len(answered) - 2  # the admin's two rows before /privacy forget are gone
    assert any(json.loads(options) == {"length": 799} for _, options, _ in rows)  # the essay: its length only
    questions = {json.loads(options).get("question") for _, options, _ in rows}
    assert "why?" in questions and "what is the nernst equation?" in questions
    assert "why is the resting potential negative?" not in questions  # the unmentioned and the bot's message
    ids = {str(user.id) for user in world.emu.users.values()}
    assert all(pseudonym not in ids for pseudonym, _, _ in rows)
    assert {outcome for _, _, outcome in rows} <= {"ok", "input"}
