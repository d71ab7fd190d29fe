"""Figures through the Discord adapter: defer first, draw off the loop, attach with alt text.

A text answer stays on the fast path (one response, no defer). An answer with figures is
deferred with ``thinking`` (ephemeral when private), its figures are drawn by the bot's
figure service and attached as ``discord.File`` objects with their alt text as the
description; the first plot is the main embed's image. A renderer that raises or hangs past
the time box never costs the student the text answer: it arrives with one short line saying
the figure could not be drawn. Interactions are mocks with ``spec_set`` from discord.py's own
classes (tests/helpers.py); the renderer is injected through the service's test hook.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from unittest import mock

import discord
import pytest
from helpers import mock_interaction, sent_kwargs
from PIL import Image

from bot.answers import Answer, Figure, Services, answer
from bot.app.bot import TutorBot
from bot.app.cooldowns import MemoryCooldowns
from bot.app.replies import defer_thinking, safe_reply
from bot.commands import Request
from bot.render.discord import FIGURE_MISSING, FileAttachment, OutgoingMessage, render_messages
from bot.render.figures import PARENT_CHECK_SECONDS, FigureService, render_png

# design.md: Discord's limits.
FILES_PER_MESSAGE = 10
UPLOAD = 10 * 1024 * 1024
ALT_TEXT = 1024
CONTENT = 2000
PNG = b"\x89PNG\r\n\x1a\n"


def _bot(renderer: Callable[[Figure], bytes] = render_png, **service: Any) -> TutorBot:
    return TutorBot(
        services=Services.load(),
        cooldowns=MemoryCooldowns(),
        figures=FigureService(renderer=renderer, **service),
    )


@pytest.fixture
async def drawing_bot() -> AsyncIterator[TutorBot]:
    async with _bot() as created:
        yield created


def _files(sent: dict[str, Any]) -> list[discord.File]:
    return list(sent.get("files", []))


def _png_of(file: discord.File) -> bytes:
    file.reset()
    return file.fp.read()


# --- the fast path and the deferred path ------------------------------------------------------


async def test_a_text_answer_is_not_deferred(drawing_bot: TutorBot) -> None:
    interaction = mock_interaction(command="restpot")
    await drawing_bot.respond(interaction, {"detail": "summary"})
    interaction.response.defer.assert_not_awaited()
    interaction.response.send_message.assert_awaited_once()
    (sent,) = sent_kwargs(interaction)
    assert "files" not in sent and drawing_bot.figures.stats.misses == 0


async def test_a_plot_is_deferred_then_sent_with_files_alt_text_and_the_embed_image(drawing_bot: TutorBot) -> None:
    interaction = mock_interaction(command="restpot")
    await drawing_bot.respond(interaction, {"detail": "plot"})
    interaction.response.defer.assert_awaited_once_with(thinking=True, ephemeral=False)
    interaction.response.send_message.assert_not_awaited()
    (sent,) = sent_kwargs(interaction)  # one follow-up replaces "thinking…"
    expected = answer(Request("restpot", {"detail": "plot"})).figures
    files = _files(sent)
    assert [file.filename for file in files] == [figure.filename for figure in expected]
    assert [file.description for file in files] == [figure.alt_text for figure in expected]
    for file in files:
        png = _png_of(file)
        assert png.startswith(PNG) and Image.open(file.fp).size[0] == 800
        assert 0 < len(file.description or "") <= ALT_TEXT
    assert sent["embeds"][0].image.url == "attachment://restpot-vm-vs-k-out.png"
    assert sent["embeds"][0].description.startswith("**V_m = −69.9 mV**")
    assert "content" not in sent and sent["ephemeral"] is False


async def test_a_private_plot_is_deferred_privately_and_keeps_its_share_button(drawing_bot: TutorBot) -> None:
    interaction = mock_interaction(command="nernst")
    await drawing_bot.respond(interaction, {"ion": "K", "detail": "plot", "private": True})
    interaction.response.defer.assert_awaited_once_with(thinking=True, ephemeral=True)
    (sent,) = sent_kwargs(interaction)
    assert sent["ephemeral"] is True and sent["view"] is not None
    assert [file.filename for file in _files(sent)] == ["nernst-k.png"]


async def test_steps_attach_equation_images_without_replacing_the_embed(drawing_bot: TutorBot) -> None:
    interaction = mock_interaction(command="restpot")
    await drawing_bot.respond(interaction, {"detail": "steps"})
    interaction.response.defer.assert_awaited_once()
    sends = sent_kwargs(interaction)
    files = [file for sent in sends for file in _files(sent)]
    expected = [figure.filename for figure in answer(Request("restpot", {"detail": "steps"})).figures]
    assert [file.filename for file in files] == expected and [name[-11:] for name in expected] == [
        "-step-1.png",
        "-step-2.png",
        "-step-3.png",
    ]
    assert all(name.startswith("restpot-") for name in expected)  # named after the command and its inputs
    assert all((file.description or "").startswith("Step ") for file in files)
    assert all(embed.image.url is None for sent in sends for embed in sent["embeds"])


async def test_the_same_figure_is_drawn_once_for_two_students(drawing_bot: TutorBot) -> None:
    for user in (1, 2):
        await drawing_bot.respond(mock_interaction(command="whatif", user_id=user), {"scenario": "hyperkalemia"})
    stats = drawing_bot.figures.stats
    assert (stats.misses, stats.hits, stats.rendered) == (1, 1, 1)


async def test_an_error_answer_has_no_figures_and_is_not_deferred(drawing_bot: TutorBot) -> None:
    interaction = mock_interaction(command="nernst")
    await drawing_bot.respond(interaction, {"ion": "K", "inside": 0.0, "detail": "plot"})
    interaction.response.defer.assert_not_awaited()
    (sent,) = sent_kwargs(interaction)
    assert sent["ephemeral"] is True and "files" not in sent


# --- when drawing fails, the text still arrives --------------------------------------------------


def _raising(figure: Figure) -> bytes:
    raise RuntimeError("matplotlib fell over")


async def test_a_renderer_that_raises_still_sends_the_text_with_a_short_line(caplog: pytest.LogCaptureFixture) -> None:
    async with _bot(_raising) as bot:
        interaction = mock_interaction(command="whatif")
        with caplog.at_level(logging.ERROR, logger="bot.render.figures"):
            await bot.respond(interaction, {"scenario": "hyperkalemia"})
    interaction.response.defer.assert_awaited_once()
    (sent,) = sent_kwargs(interaction)
    assert sent["content"] == FIGURE_MISSING and len(sent["content"]) <= CONTENT
    assert "files" not in sent and sent["embeds"][0].image.url is None
    assert sent["embeds"][0].description.startswith("**V_m −69.9 mV → −65.5 mV")
    assert any("whatif-hyperkalemia.png" in record.getMessage() for record in caplog.records)


async def test_a_renderer_that_hangs_past_the_time_box_still_sends_the_text() -> None:
    release = threading.Event()

    def hanging(figure: Figure) -> bytes:
        release.wait(30)
        return render_png(figure)

    try:
        async with _bot(hanging, timeout=0.3) as bot:
            interaction = mock_interaction(command="restpot")
            start = time.perf_counter()
            await bot.respond(interaction, {"detail": "plot"})
            assert time.perf_counter() - start < 3.0
            assert bot.figures.stats.timeouts == 2
    finally:
        release.set()
    (sent,) = sent_kwargs(interaction)
    assert sent["content"] == "2 of 2 figures could not be drawn this time; every number is in the text."
    assert "files" not in sent and sent["embeds"][0].description.startswith("**V_m = −69.9 mV**")


async def test_one_figure_failing_leaves_the_other_attached() -> None:
    def half(figure: Figure) -> bytes:
        if figure.kind == "vm-vs-k-out":
            raise RuntimeError("no")
        return render_png(figure)

    async with _bot(half) as bot:
        interaction = mock_interaction(command="restpot")
        await bot.respond(interaction, {"detail": "plot"})
    (sent,) = sent_kwargs(interaction)
    assert [file.filename for file in _files(sent)] == ["restpot-potentials.png"]
    assert sent["content"].startswith("1 of 2 figures could not be drawn")
    assert sent["embeds"][0].image.url is None  # the main image is the plot that failed


async def test_closing_the_bot_stops_the_figure_pool() -> None:
    async with _bot() as bot:
        await bot.respond(mock_interaction(command="whatif"), {"scenario": "hypokalemia"})
        assert bot.figures._pool is not None
    assert bot.figures._pool is None


# --- the reply helpers ---------------------------------------------------------------------------


async def test_defer_thinking_once_and_never_after_a_response() -> None:
    fresh = mock_interaction()
    await defer_thinking(fresh, ephemeral=True)
    fresh.response.defer.assert_awaited_once_with(thinking=True, ephemeral=True)
    done = mock_interaction(done=True)
    await defer_thinking(done, ephemeral=False)
    done.response.defer.assert_not_awaited()


async def test_defer_thinking_logs_an_expired_interaction(caplog: pytest.LogCaptureFixture) -> None:
    interaction = mock_interaction()
    interaction.response.defer.side_effect = discord.NotFound(
        mock.Mock(status=404, reason="Not Found"), {"code": 10062, "message": "Unknown interaction"}
    )
    with caplog.at_level(logging.WARNING, logger="bot.app.replies"):
        await defer_thinking(interaction, ephemeral=False)
    assert any("expired" in record.getMessage() for record in caplog.records)


async def test_safe_reply_builds_fresh_files_for_every_send() -> None:
    message = OutgoingMessage(content="x", files=[FileAttachment("a.png", PNG + b"a", "alt a")])
    first, second = mock_interaction(), mock_interaction()
    await safe_reply(first, message, ephemeral=False)
    await safe_reply(second, message, ephemeral=False)
    (a,) = sent_kwargs(first)[0]["files"]
    (b,) = sent_kwargs(second)[0]["files"]
    assert a is not b and a.filename == "a.png" and a.description == "alt a"
    assert _png_of(a) == _png_of(b) == PNG + b"a"


# --- render_messages: files within Discord's per-message limits ----------------------------------


def test_the_alt_text_limit_is_discords_in_both_places() -> None:
    from bot.answers import ALT_TEXT_LIMIT
    from bot.render import limits

    assert ALT_TEXT_LIMIT == limits.ATTACHMENT_DESCRIPTION == ALT_TEXT


def _answer_with(figures: list[Figure]) -> Answer:
    base = answer(Request("restpot", {"detail": "steps"}))
    return Answer(
        command=base.command,
        title=base.title,
        headline=base.headline,
        lines=base.lines,
        fields=base.fields,
        steps=base.steps,
        footer=base.footer,
        result=base.result,
        figures=tuple(figures),
    )


def test_text_only_rendering_ignores_figures() -> None:
    result = answer(Request("restpot", {"detail": "plot"}))
    messages = render_messages(result)
    assert all(not message.files and message.content is None for message in messages)


def test_files_are_spread_within_ten_per_message_and_alt_text_is_capped() -> None:
    figures = [Figure("equation", f"step-{n}.png", "x" * 2000, (("n", n),)) for n in range(12)]
    result = _answer_with(figures)
    text_only = render_messages(result)
    messages = render_messages(result, {figure: PNG for figure in figures})
    files = [len(message.files) for message in messages]
    assert sum(files) == 12 and max(files) == FILES_PER_MESSAGE and files[0] == FILES_PER_MESSAGE
    assert len(messages) == len(text_only) + (1 if len(text_only) == 1 else 0)
    for message in messages:
        assert message.upload_bytes() <= UPLOAD
        assert all(len(attached.description) <= ALT_TEXT for attached in message.files)
        assert message.files or message.embeds or message.content, "no empty message"
    assert messages[0].content is None  # nothing missing, nothing to say


def test_figures_too_big_for_one_message_get_their_own_and_one_too_big_to_upload_is_reported() -> None:
    big = PNG + b"0" * (6 * 1024 * 1024)
    huge = PNG + b"0" * UPLOAD
    figures = [Figure("equation", f"step-{n}.png", "alt", (("n", n),)) for n in range(4)]
    drawn = {figures[0]: big, figures[1]: big, figures[2]: big, figures[3]: huge}
    messages = render_messages(_answer_with(figures), drawn)
    assert sum(len(message.files) for message in messages) == 3
    assert all(message.upload_bytes() <= UPLOAD for message in messages)
    assert messages[0].content == "1 of 4 figures could not be drawn this time; every number is in the text."


_HOLDS_A_FIGURE_POOL = """
import sys, time
from bot.render.figures import FigureService
service = FigureService(workers=2, processes=True)
service.warm_up()
print("started", flush=True)
time.sleep(120)
"""


def _children(pid: int) -> set[int]:
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                children.add(int(stat.parent.name))
    return children


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's zombie lingers where nothing reaps it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")
def test_figure_workers_exit_when_the_bot_is_killed() -> None:
    """kill -9 (or the OOM killer) gives the bot no chance to stop its pool; the workers
    must notice on their own rather than wait forever, 100+ MB each."""
    bot = subprocess.Popen([sys.executable, "-c", _HOLDS_A_FIGURE_POOL], stdout=subprocess.PIPE, text=True)
    try:
        assert bot.stdout is not None and bot.stdout.readline().strip() == "started"
        deadline = time.monotonic() + 30
        while len(workers := _children(bot.pid) - {bot.pid}) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(workers) >= 2, "the figure pool never started its workers"
    finally:
        bot.kill()
        bot.wait()
    deadline = time.monotonic() + 10 * PARENT_CHECK_SECONDS
    while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_running(pid) for pid in workers), "figure workers outlived the bot"
