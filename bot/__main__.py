"""The command line: ``membrane-tutor [console | demo | ask …]``.

With no subcommand it starts the offline console, or the demo tour when standard input
is not a terminal (a pipe, CI, a container without a TTY); neither needs a token or a
network. Bad input prints one line and exits with status 2; nothing prints a traceback
for something a user typed.

Start-up is part of the answer's time: this module imports only the standard library and
``bot.__version__``; each command imports what it uses (the engine, sympy, NumPy,
pydantic-settings, discord.py) inside its function, so ``--version`` and ``--help`` take
a blink. ``bench/bench_cold_start.py`` measures it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, TypeVar

from bot import __version__

if TYPE_CHECKING:  # imported where they are used: --version and --help load none of them
    from bot.answers import Answer
    from bot.answers.model import QuizView
    from bot.log.api import LogStore
    from bot.settings import Settings
    from bot.tutoring.scheduling import StudentHistory

T = TypeVar("T")

log = logging.getLogger("membrane_tutor")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2

DEMO_TOUR: tuple[tuple[str, str], ...] = (
    ("Why is the resting potential negative, and why is it not E_K?", "/restpot"),
    ("Each ion's equilibrium potential, derived step by step:", "/nernst ion:K inside:140 outside:5 detail:steps"),
    ("What a clinical change does to V_m:", "/whatif scenario:hyperkalemia"),
    ("The idea behind it, from the curated notes:", "/explain topic:leak-channels"),
    (
        "A question in your own words, answered only from those notes:",
        "/ask question:why is the inside of a neuron negative",
    ),
    ("Everything the bot can do:", "/help"),
)


def answer_text(text: str, *, seed: int | None = None, history: StudentHistory | None = None) -> Answer:
    """Parse and answer one line of terminal input; bad input becomes an error answer.

    ``seed`` chooses a /quiz question (the same seed, the same question: ``ask --seed 7``);
    ``history`` is the console session's practice, which /quiz and /progress show read.
    """
    from dataclasses import replace

    from bot.answers import Answer, answer
    from bot.answers.practice import PERSONAL, SEED_OPTION
    from bot.commands import parse_invocation
    from bot.physiology import InputError

    try:
        request = parse_invocation(text)
    except InputError as error:
        return Answer(command="", title="That input can't be used", headline=str(error), error=True)
    if request.command == "quiz" and seed is not None:
        request = replace(request, options={**request.options, SEED_OPTION: seed})
    if request.command in PERSONAL:
        request = replace(request, history=history)
    return answer(request)


def _print_answer(result: Answer, as_json: bool) -> int:
    from bot.render.terminal import render_text

    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        print(render_text(result), file=sys.stderr if result.error else sys.stdout)
    return EXIT_BAD_INPUT if result.error else EXIT_OK


def cmd_ask(args: argparse.Namespace) -> int:
    result = answer_text(" ".join(args.command), seed=args.seed)
    status = _print_answer(result, args.json)
    if result.error or not result.figures:
        return status
    stream = sys.stderr if args.json else sys.stdout  # --json keeps standard output pure JSON
    if args.out is None:
        if not args.json:
            print(f"\nAdd --out DIR to save the {_figures_noun(result)} as PNG.", file=stream)
        return status
    return _save_figures(result, args.out, stream)


def _figures_noun(result: Answer) -> str:
    return "figure" if len(result.figures) == 1 else f"{len(result.figures)} figures"


def _save_figures(result: Answer, directory: Path, stream: TextIO) -> int:
    """Draw the answer's figures (matplotlib is imported only now) and print each path."""
    from bot.render.figures import save_figures

    try:
        paths = save_figures(result.figures, directory)
    except OSError as error:
        print(f"error: cannot write the figures to {directory}: {error.strerror or error}", file=sys.stderr)
        return EXIT_FAILED
    if stream is sys.stdout:
        print(file=stream)
    for path in paths:
        print(path, file=stream)
    return EXIT_OK


def cmd_demo(_: argparse.Namespace) -> int:
    from bot.physiology import warm_up
    from bot.render.terminal import render_text

    warm_up()
    print(f"membrane-tutor {__version__}: a short tour. Every command here works the same in Discord.\n")
    for caption, command in DEMO_TOUR:
        print(f'» {caption}\n$ membrane-tutor ask "{command}"\n')
        print(render_text(answer_text(command)))
        print("\n")
    print('Start the console with `membrane-tutor console`, or ask one question with `membrane-tutor ask "/restpot"`.')
    return EXIT_OK


def _history_file() -> Path:
    state = Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state"))
    return state / "membrane-tutor" / "history"


def _enable_history() -> Path | None:
    """Line editing and history where readline exists (it does not on every platform)."""
    try:
        import readline
    except ImportError:  # pragma: no cover - Windows without pyreadline
        return None
    path = _history_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            readline.read_history_file(path)
    except OSError:
        return None
    readline.set_history_length(1000)
    return path


def _save_history(path: Path | None) -> None:
    if path is None:
        return
    import readline

    try:
        readline.write_history_file(path)
    except OSError as error:
        log.warning("could not save console history: %s", error)


CONSOLE_HELP = (
    "Type a command as you would in Discord, e.g. /nernst ion:K inside:140 outside:5\n"
    "  /quiz           a practice question: answer it on the next line (b, or -89.1 mV)\n"
    "  help            list the commands\n"
    "  help COMMAND    one command's options (e.g. help nernst)\n"
    "  quit            leave (or Ctrl-D)"
)


class ConsoleSession:
    """What the console remembers between lines: the /quiz question waiting for its reply, and
    this session's practice (nothing is written to disk), which the next /quiz and /progress
    show read. ``seed`` makes a session's questions repeatable (tests); else each is fresh."""

    def __init__(self, seed: int | None = None) -> None:
        from bot.tutoring.scheduling import StudentHistory

        self.pending: QuizView | None = None
        self.history = StudentHistory()
        self._seed = seed

    def answer(self, text: str) -> Answer:
        """A command, with this session's history; a /quiz question becomes the pending one."""
        seed = None if self._seed is None else self._seed + len(self.history.attempts)
        result = answer_text(text, seed=seed, history=self.history)
        if result.quiz is not None and result.verdict is None and not result.error:
            self.pending = result.quiz
        return result

    def grade(self, text: str) -> Answer:
        """The line after a question graded; a reply that cannot be read keeps the question."""
        import datetime as dt
        import uuid

        from bot.answers import grade_reply
        from bot.answers.practice import attempt_of

        assert self.pending is not None
        result = grade_reply(self.pending, text)
        if result.error:
            return result
        self.pending = None
        attempt = attempt_of(result, text, attempt_id=uuid.uuid4().hex, at=dt.datetime.now(dt.UTC), user="console")
        self.history, _ = self.history.after(attempt)
        return result


def console_line(line: str, session: ConsoleSession | None = None) -> str | None:
    """The console's reply to one line, or None to quit. After a /quiz question, a line that
    is not a command (``b``, ``-89.1 mV``) is its reply, graded."""
    from bot.answers import answer
    from bot.commands import COMMANDS, Request
    from bot.render.terminal import render_text

    session = session or ConsoleSession()
    text = line.strip()
    if not text:
        return ""
    word, _, rest = text.partition(" ")
    if word in ("quit", "exit"):
        return None
    if word in ("help", "?"):
        topic = rest.strip().removeprefix("/")
        if topic and topic not in COMMANDS:
            return f"error: no command /{topic}; the commands are {', '.join(COMMANDS)}."
        request = Request("help", {"command": topic} if topic else {})
        return CONSOLE_HELP + "\n\n" + render_text(answer(request))
    if session.pending is not None and not text.startswith("/"):
        return render_text(session.grade(text))
    return render_text(session.answer(text))


def cmd_console(_: argparse.Namespace) -> int:
    from bot.physiology import warm_up

    warm_up()
    history = _enable_history()
    session = ConsoleSession()
    print(f"membrane-tutor {__version__} console. {CONSOLE_HELP.splitlines()[0]}\nType help for more, quit to leave.")
    try:
        while True:
            try:
                line = input("tutor> ")
            except EOFError:
                print()
                return EXIT_OK
            except KeyboardInterrupt:
                print()
                continue
            reply = console_line(line, session)
            if reply is None:
                return EXIT_OK
            if reply:
                print(reply + "\n")
    finally:
        _save_history(history)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="membrane-tutor",
        description="Membrane physiology tutor: Nernst, GHK, what-if scenarios. "
        "With no command: the console (or the demo tour when input is not a terminal).",
    )
    parser.add_argument("--version", action="version", version=f"membrane-tutor {__version__}")
    commands = parser.add_subparsers(dest="subcommand", metavar="COMMAND")
    ask = commands.add_parser("ask", help='answer one command, e.g. ask "/nernst ion:K inside:140 outside:5"')
    ask.add_argument("command", nargs="+", help="the command as typed in Discord")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON (schemas/answer.v1.json)")
    ask.add_argument(
        "--seed",
        type=_seed,
        metavar="N",
        help="choose the /quiz question (0 to 4294967295; the same seed asks the same question)",
    )
    ask.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="save the answer's figures (detail:plot, /whatif, equations of detail:steps) as PNG files in DIR",
    )
    ask.set_defaults(handler=cmd_ask)
    commands.add_parser("console", help="an interactive console with history and help").set_defaults(
        handler=cmd_console
    )
    commands.add_parser("demo", help="a short tour that shows each command once").set_defaults(handler=cmd_demo)
    kb = commands.add_parser("kb", help="list or check the knowledge base, or import a document in the seed's format")
    kb_commands = kb.add_subparsers(dest="kb_command", metavar="ACTION", required=True)
    kb_check = kb_commands.add_parser("check", help="validate every topic file; exit 1 on any problem")
    kb_check.add_argument("directory", nargs="?", type=Path, help="the topics' folder (the same as --dir)")
    _add_dir_option(kb_check)
    kb_check.set_defaults(handler=cmd_kb_check)
    kb_list = kb_commands.add_parser("list", help="each topic's slug and title, one a line (for /explain topic:SLUG)")
    _add_dir_option(kb_list)
    kb_list.set_defaults(handler=cmd_kb_list)
    kb_import = kb_commands.add_parser("import", help="turn a seed-format document into a topic file")
    kb_import.add_argument("file", type=Path)
    kb_import.add_argument("--to", type=Path, default=Path("knowledge"), help="folder to write to (default: knowledge)")
    kb_import.add_argument("--force", action="store_true", help="overwrite a topic with the same slug")
    kb_import.set_defaults(handler=cmd_kb_import)
    commands.add_parser("run", help="connect to Discord (needs DISCORD_TOKEN)").set_defaults(handler=cmd_run)
    sync = commands.add_parser("sync", help="register the slash commands with Discord and exit")
    sync.add_argument(
        "--guild", type=int, metavar="ID", help="copy the commands to this server only (instant; for testing)"
    )
    sync.set_defaults(handler=cmd_sync)
    health = commands.add_parser(
        "health", help="exit 0 only if the running bot is connected to Discord (health checks)"
    )
    health.add_argument(
        "--max-age", type=float, default=60.0, metavar="SECONDS", help="oldest acceptable health record (default 60)"
    )
    health.set_defaults(handler=cmd_health)
    stats = commands.add_parser(
        "stats", help="a server's interaction statistics from the log, as /stats show; without --guild, the servers"
    )
    stats.add_argument("--db", type=Path, metavar="PATH", help="the interaction log (default: TUTOR_DB)")
    stats.add_argument(
        "--guild", type=int, metavar="ID", help="the server's id (Discord: Copy Server ID); omit it to list the servers"
    )
    stats.add_argument("--days", type=int, default=None, metavar="N", help="days back, 1 to 365 (default 30)")
    stats.set_defaults(handler=cmd_stats)
    db = commands.add_parser("db", help="operate on the interaction log")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    backup = db_commands.add_parser("backup", help="a consistent copy of the log, also while the bot runs")
    backup.add_argument("target", type=Path, metavar="PATH", help="where to write the copy")
    backup.add_argument("--db", type=Path, metavar="PATH", help="the interaction log (default: TUTOR_DB)")
    backup.set_defaults(handler=cmd_db_backup)
    return parser


def _seed(text: str) -> int:
    """``--seed``: a whole number 0 … 2³² − 1 (the bound of bot.answers.practice.SEED_LIMIT)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be from 0 to {2**32 - 1}, not {value}")
    return value


def log_level(name: str) -> int | None:
    """LOG_LEVEL as logging's number; None, said in one line on stderr, for a name logging lacks."""
    level = logging.getLevelName(name.strip().upper())
    if isinstance(level, int):
        return level
    print(f"error: LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL (got {name!r})", file=sys.stderr)
    return None


def _settings() -> Settings | None:
    """The typed settings; None, with one line per bad variable on stderr, when one is invalid."""
    import pydantic

    from bot.settings import Settings

    try:
        return Settings()
    except pydantic.ValidationError as invalid:
        for error in invalid.errors():
            name = str(error["loc"][0]).upper() if error["loc"] else "settings"
            print(f"error: invalid setting {name}: {error['msg']}", file=sys.stderr)
        return None


def _discord_settings() -> Settings | None:
    """Settings for the Discord commands, with discord.py's own log format at LOG_LEVEL,
    coloured only on a terminal (:func:`bot.app.runner.setup_logging`)."""
    from bot.app import runner

    settings = _settings()
    level = None if settings is None else log_level(settings.log_level)
    if settings is None or level is None:
        return None
    runner.setup_logging(level)
    return settings


PROJECT_NAME = "membrane-tutor"


def _add_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dir",
        type=Path,
        metavar="PATH",
        help="the topics' folder (default: knowledge/ of the checkout you are in, else the installed copy)",
    )


def checkout_knowledge(start: Path) -> Path | None:
    """knowledge/ of the membrane-tutor checkout that ``start`` is in (it, or a parent, holds
    this project's pyproject.toml and a knowledge/ folder); None outside one."""
    import tomllib

    for folder in (start, *start.parents):
        project = folder / "pyproject.toml"
        try:
            name = tomllib.loads(project.read_text(encoding="utf-8")).get("project", {}).get("name", "")
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, AttributeError):
            continue
        if str(name).lower().replace("_", "-") == PROJECT_NAME and (folder / "knowledge").is_dir():
            return folder / "knowledge"
    return None


def knowledge_folder(args: argparse.Namespace) -> tuple[Path, str] | None:
    """The topics' folder a kb command works on and why that one: ``--dir`` (or the positional
    folder), else the checkout's knowledge/ (the files being edited, not an installed copy
    that ``pip install .`` left in site-packages), else the installed package's. None, with
    one line on stderr, when the folder given does not exist."""
    given: Path | None = args.dir
    positional: Path | None = getattr(args, "directory", None)
    if given is not None and positional is not None and given != positional:
        print(f"error: give the folder once: --dir {given} or {positional}", file=sys.stderr)
        return None
    given = given or positional
    if given is not None:
        if not given.is_dir():
            print(f"error: no folder {given}", file=sys.stderr)
            return None
        return given, "chosen with --dir"
    checkout = checkout_knowledge(Path.cwd())
    if checkout is not None:
        return checkout, "this checkout"
    from bot.knowledge import knowledge_dir

    return knowledge_dir(), "installed with membrane-tutor"


def cmd_kb_check(args: argparse.Namespace) -> int:
    import yaml

    from bot.kb_check import check
    from bot.knowledge import KnowledgeError
    from bot.retrieval import VOCABULARY_FILE, load_vocabulary

    chosen = knowledge_folder(args)
    if chosen is None:
        return EXIT_BAD_INPUT
    directory, why = chosen
    where = f"{directory} ({why})"
    count = len(list(directory.glob("*.md")))
    try:
        problems = check(directory) if count else [f"no topic files (*.md) in {directory}"]
    except (KnowledgeError, yaml.YAMLError) as error:  # a file that cannot be loaded at all
        problems = [str(error)]
    try:  # the checked folder's own vocabulary, which is what the report counts
        vocabulary = load_vocabulary(directory / VOCABULARY_FILE)
    except (KnowledgeError, yaml.YAMLError) as error:
        vocabulary = []
        problems += [] if str(error) in problems else [str(error)]
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) in the knowledge base at {where}", file=sys.stderr)
        return EXIT_FAILED
    print(f"knowledge base OK: {count} topics, {len(vocabulary)} vocabulary entries in {where}")
    return EXIT_OK


def cmd_kb_list(args: argparse.Namespace) -> int:
    """Each topic's slug and title, aligned, read from the front matter alone (no engine, no
    index: it works offline in a blink); where they came from goes to stderr."""
    import frontmatter
    import yaml

    chosen = knowledge_folder(args)
    if chosen is None:
        return EXIT_BAD_INPUT
    directory, why = chosen
    rows: list[tuple[str, str]] = []
    unreadable = 0
    for path in sorted(directory.glob("*.md")):
        try:
            data = frontmatter.load(path).metadata
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
            print(f"error: {path.name}: cannot be read: {' '.join(str(error).split())}", file=sys.stderr)
            unreadable += 1
            continue
        title = " ".join(str(data.get("title") or "(no title)").split())
        rows.append((" ".join(str(data.get("slug") or path.stem).split()), title))
    rows.sort()
    width = max((len(slug) for slug, _ in rows), default=0)
    for slug, title in rows:
        print(f"{slug:<{width}}  {title}")
    print(f"{len(rows)} topics in {directory} ({why}); explain one with /explain topic:SLUG", file=sys.stderr)
    return EXIT_FAILED if unreadable else EXIT_OK


def cmd_kb_import(args: argparse.Namespace) -> int:
    from bot.kb_check import import_seed
    from bot.knowledge import KnowledgeError

    if not args.file.is_file():
        print(f"error: no file {args.file}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        target, needs = import_seed(args.file, args.to, force=args.force)
    except (KnowledgeError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(f"wrote {target}; before `kb check` accepts it:")
    for need in needs:
        print(f"  - {need}")
    return EXIT_OK


def cmd_run(_: argparse.Namespace) -> int:
    from bot.app import runner  # discord is imported only for the Discord commands

    settings = _discord_settings()
    return EXIT_BAD_INPUT if settings is None else runner.run(settings)


def cmd_sync(args: argparse.Namespace) -> int:
    from bot.app import runner

    settings = _discord_settings()
    return EXIT_BAD_INPUT if settings is None else runner.sync(settings, args.guild)


def cmd_health(args: argparse.Namespace) -> int:
    from bot.app import health  # no discord import: a container health check runs this every 30 s

    verdict = health.check_settings(max_age=args.max_age)
    print(verdict.line, file=sys.stdout if verdict.healthy else sys.stderr)
    return health.EXIT_HEALTHY if verdict.healthy else health.EXIT_UNHEALTHY


def _database(args: argparse.Namespace) -> Path | None:
    """``--db``, else TUTOR_DB; None (with one line on stderr) when there is no such file."""
    path: Path | None = args.db
    if path is None:
        settings = _settings()
        if settings is None:
            return None
        path = settings.tutor_db
    if not path.is_file():
        print(f"error: no interaction log at {path}: give --db PATH or set TUTOR_DB", file=sys.stderr)
        return None
    return path


def _open_store(path: Path) -> LogStore:
    """The SQLite store of the interaction log (imported only for the log's commands)."""
    from bot.log import SqliteStore

    return SqliteStore(path)


async def _with_store(path: Path, work: Callable[[LogStore], Awaitable[T]]) -> T:
    store = _open_store(path)
    await store.open()
    try:
        return await work(store)
    finally:
        await store.close()


def _store_failed(path: Path, error: Exception) -> int:
    print(f"error: cannot use the interaction log {path}: {error}", file=sys.stderr)
    return EXIT_FAILED


def cmd_stats(args: argparse.Namespace) -> int:
    import asyncio
    import sqlite3

    from bot.instructor import servers_show, stats_show
    from bot.physiology import InputError
    from bot.render.terminal import render_text

    path = _database(args)
    if path is None:
        return EXIT_BAD_INPUT
    guild = str(args.guild) if args.guild is not None else None
    try:
        result = asyncio.run(
            _with_store(
                path,
                lambda store: stats_show(store, guild, args.days) if guild else servers_show(store, args.days),
            )
        )
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (OSError, RuntimeError, sqlite3.Error) as error:
        return _store_failed(path, error)
    print(render_text(result))
    return EXIT_OK


def cmd_db_backup(args: argparse.Namespace) -> int:
    import asyncio
    import sqlite3

    path = _database(args)
    if path is None:
        return EXIT_BAD_INPUT
    target: Path = args.target
    if target.resolve() == path.resolve():
        print("error: the copy must go to another file than the log itself", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not target.parent.is_dir():
        print(f"error: no folder {target.parent} to write the copy into", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        asyncio.run(_with_store(path, lambda store: store.backup(str(target))))
    except (OSError, RuntimeError, sqlite3.Error) as error:
        return _store_failed(path, error)
    print(f"backed up {path} to {target}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        handler = cmd_console if sys.stdin.isatty() else cmd_demo
    if handler not in (cmd_run, cmd_sync):  # those use discord.py's log format
        level = log_level(os.environ.get("LOG_LEVEL", "WARNING"))
        if level is None:
            return EXIT_BAD_INPUT
        logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")  # never coloured
    try:
        return handler(args)
    except BrokenPipeError:  # e.g. piped into `head`
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
