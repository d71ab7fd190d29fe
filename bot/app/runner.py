"""``membrane-tutor run`` and ``sync``: settings in, resources opened here, clean exits.

Resources are opened in one place and passed to the bot (discord.py's
advanced_startup example). The token never reaches a log line or a message: every
failure is reported as one readable sentence.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import sys
from typing import TextIO

import aiohttp
import discord
import yarl

from bot.answers import Services
from bot.app.bot import TutorBot
from bot.app.cooldowns import MemoryCooldowns
from bot.app.health import HealthFile
from bot.app.recording import Recorder
from bot.log import InteractionLog, Pseudonyms, SchemaTooNew, SqliteStore
from bot.physiology import warm_up
from bot.reading import units
from bot.render.figures import FigureService
from bot.settings import Settings

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
MISSING_TOKEN = (
    "error: DISCORD_TOKEN is not set: put the bot token from the Discord developer portal "
    "(Bot → Reset Token) in the environment or in a .env file as DISCORD_TOKEN=…"
)
REJECTED_TOKEN = (
    "error: Discord rejected DISCORD_TOKEN (401 Unauthorized): copy the token again from the developer portal."
)


PLAIN_FORMAT = "[{asctime}] [{levelname:<8}] {name}: {message}"
"""discord.py's own log line, without its colours."""


def wants_colour(stream: TextIO) -> bool:
    """Colour log lines only for a terminal that shows it.

    discord.py's ``stream_supports_colour`` also says yes inside Docker when nothing is a
    terminal (its comment: Docker "does not consistently have a tty"), so ``docker logs``,
    journald and log files got escape codes. Here a terminal is required, and NO_COLOR
    (any value, no-color.org) or TERM=dumb turn colour off; discord.py still decides for
    the terminals it knows (Windows consoles without ANSI support get none).
    """
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        is_a_terminal = bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False
    return is_a_terminal and discord.utils.stream_supports_colour(stream)


def setup_logging(level: int, stream: TextIO | None = None) -> logging.Handler:
    """discord.py's log format on the root logger (standard error by default), in colour only
    when :func:`wants_colour` says so."""
    handler = logging.StreamHandler(stream)
    if wants_colour(handler.stream):
        discord.utils.setup_logging(handler=handler, level=level, root=True)  # its colour formatter
    else:
        plain = logging.Formatter(PLAIN_FORMAT, "%Y-%m-%d %H:%M:%S", style="{")
        discord.utils.setup_logging(handler=handler, formatter=plain, level=level, root=True)
    return handler


def point_at(settings: Settings) -> None:
    """Use another REST base or gateway (a proxy, or the test emulator) when configured."""
    if settings.discord_api_base:
        discord.http.Route.BASE = settings.discord_api_base.rstrip("/")
    if settings.discord_gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


def _bot(
    settings: Settings, health: HealthFile | None = None, *, serving: bool = True, recorder: Recorder | None = None
) -> TutorBot:
    """The bot with its resources; ``serving`` warms up what answering needs (not ``sync``)."""
    figures = FigureService(
        workers=settings.tutor_figure_workers, timeout=settings.tutor_figure_timeout, processes=serving
    )
    if serving:
        warm_up()  # sympy's symbolic work happens now, not during the first command
        units.warm_up()  # Pint's registry too: the first typed answer or /labs would pay ~0.3 s
        figures.warm_up()  # matplotlib loads in a worker while the bot connects
    unanswered = recorder.interaction_log.store.unanswered_log() if recorder and recorder.interaction_log else None
    bot = TutorBot(
        services=Services.load(unanswered=unanswered),
        cooldowns=MemoryCooldowns(),
        health=health,
        figures=figures,
        recorder=recorder,
    )
    if serving:
        settle_heap()
    return bot


def settle_heap() -> None:
    """Move everything loaded so far out of the garbage collector's sight.

    sympy, NumPy and discord.py leave about a million long-lived objects; without this,
    every full collection walks them all, a 50-70 ms pause in the middle of a burst of
    answers (measured in bench/bench_discord.py). The bot calls it again once connected,
    when matplotlib has loaded too.
    """
    gc.collect()
    gc.freeze()


def open_log(settings: Settings) -> tuple[InteractionLog, Pseudonyms]:
    """The interaction log and the pseudonym key, both beside the database on its volume:
    the key file (or TUTOR_HASH_KEY) never goes into the database itself."""
    database = settings.tutor_db
    interaction_log = InteractionLog(
        SqliteStore(database),
        journal=database.with_name(database.name + ".journal"),
        retention_days=settings.tutor_retention_days,
    )
    secret = settings.tutor_hash_key.get_secret_value() if settings.tutor_hash_key else None
    return interaction_log, Pseudonyms.from_settings(secret, database.with_name(database.name + ".key"))


async def _run(token: str, settings: Settings) -> int:
    interaction_log, pseudonyms = open_log(settings) if settings.tutor_log_interactions else (None, None)
    try:
        if interaction_log is not None:
            await interaction_log.start()
    except SchemaTooNew as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    try:
        recorder = Recorder(interaction_log, pseudonyms)
        async with _bot(settings, HealthFile(settings.health_file()), recorder=recorder) as bot:
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, lambda s=signum: _stop(bot, s))
            try:
                await bot.start(token)
            except discord.LoginFailure:
                print(REJECTED_TOKEN, file=sys.stderr)
                return EXIT_FAILED
            except discord.PrivilegedIntentsRequired:
                print(
                    "error: Discord refused the gateway intents; this bot needs no privileged intent.", file=sys.stderr
                )
                return EXIT_FAILED
    finally:
        if interaction_log is not None:
            await interaction_log.close()  # every queued row reaches the database or the journal
    log.info("stopped")
    return EXIT_OK


def _stop(bot: TutorBot, signum: int) -> None:
    log.info("received %s: shutting down", signal.Signals(signum).name)
    asyncio.get_running_loop().create_task(bot.close())


async def _sync(token: str, guild_id: int | None, settings: Settings) -> int:
    async with _bot(settings, serving=False) as bot:
        try:
            await bot.login(token)
        except discord.LoginFailure:
            print(REJECTED_TOKEN, file=sys.stderr)
            return EXIT_FAILED
        if guild_id is None:
            synced = await bot.tree.sync()
            where = "globally (Discord may take a while to show them everywhere)"
        else:
            guild = discord.Object(id=guild_id)
            bot.tree.copy_global_to(guild=guild)
            synced = await bot.tree.sync(guild=guild)
            where = f"to server {guild_id}"
    print(f"synced {len(synced)} commands {where}: " + ", ".join(f"/{command.name}" for command in synced))
    return EXIT_OK


PRIVILEGED_INTENTS = "error: Discord refused the gateway intents; this bot needs no privileged intent."


def _unreachable(error: Exception) -> int:
    print(f"error: cannot reach Discord at {discord.http.Route.BASE}: {type(error).__name__}", file=sys.stderr)
    return EXIT_FAILED


def _token_and_endpoints(settings: Settings) -> str | None:
    """The token, with discord.py pointed at the configured endpoints; None, said on stderr, without one."""
    token = settings.token()
    if token is None:
        print(MISSING_TOKEN, file=sys.stderr)
        return None
    point_at(settings)
    return token


def run(settings: Settings) -> int:
    """Connect to Discord and answer until SIGTERM or SIGINT."""
    token = _token_and_endpoints(settings)
    if token is None:
        return EXIT_USAGE
    try:
        return asyncio.run(_run(token, settings))
    except (OSError, aiohttp.ClientError) as error:
        return _unreachable(error)


def sync(settings: Settings, guild_id: int | None) -> int:
    """Register the slash commands (globally, or copied to one server for testing) and exit."""
    token = _token_and_endpoints(settings)
    if token is None:
        return EXIT_USAGE
    try:
        return asyncio.run(_sync(token, guild_id, settings))
    except discord.HTTPException as error:
        print(f"error: Discord refused the commands ({error.status}): {error.text[:300]}", file=sys.stderr)
        return EXIT_FAILED
    except (OSError, aiohttp.ClientError) as error:
        return _unreachable(error)
