"""The command line, run as a student runs it: ``python -m bot …`` in a subprocess.

Each launch costs a fraction of a second, so the cases are few and each checks much.
Standard input is /dev/null (not a terminal) unless a test feeds it.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT, cli_env, run_cli

from bot import __version__
from bot.knowledge import knowledge_dir


def _no_traceback(*streams: str) -> None:
    for stream in streams:
        assert "Traceback" not in stream


def test_ask_prints_the_answer_and_exits_0() -> None:
    done = run_cli("ask", "/nernst ion:K inside:140 outside:5")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Nernst potential · K⁺")
    assert "E_K = −89.1 mV" in lines[:4]  # the headline leads, under the title
    assert done.stderr == ""


def test_version() -> None:
    done = run_cli("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"membrane-tutor {__version__}"


def test_no_subcommand_without_a_terminal_runs_the_demo() -> None:
    done = run_cli()
    assert done.returncode == 0, done.stderr
    _no_traceback(done.stdout, done.stderr)
    out = done.stdout
    for command in ("/restpot", "/nernst", "/whatif"):
        shown = [line for line in out.splitlines() if line.startswith(f'$ membrane-tutor ask "{command}')]
        assert len(shown) == 1, (command, shown)
    assert out.count("Resting potential · ") == 1
    assert out.count("Nernst potential · ") == 1
    assert out.count("What if: ") == 1
    assert "V_m = " in out and "E_K = −89.1 mV" in out and "→" in out
    assert "Derivation:" in out  # the tour shows one derivation
    assert "error:" not in out and done.stderr == ""


def test_console_answers_lines_until_end_of_input(tmp_path: Path) -> None:
    lines = ["/nernst ion:K", "help", "help nernst", "/nernst ion:K inside:abc"]
    env = cli_env(HOME=str(tmp_path), XDG_STATE_HOME=str(tmp_path / "state"))
    done = run_cli("console", input="\n".join(lines) + "\n", env=env)
    assert done.returncode == 0, done.stderr
    _no_traceback(done.stdout, done.stderr)
    out = done.stdout
    assert out.startswith(f"membrane-tutor {__version__} console.")
    assert "E_K = −90.9 mV" in out  # /nernst ion:K with the typical mammalian neuron's 150/5 mM
    assert "/restpot [preset]" in out  # help: the command list
    assert "/nernst\n" in out and "ion (required):" in out  # help nernst: its options
    errors = [line for line in out.splitlines() if "error:" in line]
    assert len(errors) == 1
    assert "`inside`" in errors[0] and "abc" in errors[0]
    assert done.stderr == ""
    if importlib.util.find_spec("readline") is not None:  # history goes under XDG_STATE_HOME, not the real home
        assert (tmp_path / "state" / "membrane-tutor" / "history").is_file()


def test_an_apostrophe_or_a_lone_quote_in_a_question_just_works(tmp_path: Path) -> None:
    """What a newcomer types first: free text is read as Discord reads it, not as a shell would."""
    done = run_cli("ask", "/ask question:what's the resting potential?")
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and done.stdout.strip()
    lines = ["/ask question:why isn't the resting potential at E_K?", '/ask question:is a 3" axon real? private:true']
    env = cli_env(HOME=str(tmp_path), XDG_STATE_HOME=str(tmp_path / "state"))
    console = run_cli("console", input="\n".join(lines) + "\n", env=env)
    assert console.returncode == 0, console.stderr
    _no_traceback(console.stdout, console.stderr)
    assert "error:" not in console.stdout and "quote" not in console.stdout.lower()
    assert "leak channels" in console.stdout.lower()  # the first question reached /ask whole and was answered


BAD_INPUT = [
    pytest.param("/nernst ion:K inside:0", "inside", id="zero"),
    pytest.param("/nernst ion:K outside:-5", "outside", id="negative"),
    pytest.param("/nernst ion:K inside:nan", "inside", id="NaN"),
    pytest.param("/nernst ion:K inside:inf", "inside", id="inf"),
    pytest.param("/nernst ion:K inside:1e308", "inside", id="1e308"),
    pytest.param("/nernst ion:K inside:lots", "inside", id="word for a number"),
    pytest.param("/nernst ion:K temperature:500", "temperature", id="temperature 500"),
    pytest.param("/nernst ion:K colour:blue", "colour", id="unknown option"),
    pytest.param("/nernst ion:custom inside:1 outside:2", "valence", id="custom without valence"),
    pytest.param("/zombie", "zombie", id="unknown command"),
]


@pytest.mark.parametrize(("command", "named"), BAD_INPUT)
def test_bad_input_exits_2_with_one_line_on_stderr(command: str, named: str) -> None:
    done = run_cli("ask", command)
    assert done.returncode == 2
    _no_traceback(done.stdout, done.stderr)
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    assert named in lines[0]


def _checkout(root: Path, pyproject: str = '[project]\nname = "membrane-tutor"\n') -> Path:
    """A fresh clone in miniature: this project's pyproject.toml and a knowledge/ with an invalid topic."""
    knowledge = root / "knowledge"
    knowledge.mkdir(parents=True)
    (root / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    (knowledge / "broken.md").write_text("---\ntitle: A topic without its slug\n---\nSome body.\n", encoding="utf-8")
    return knowledge


def test_kb_check_in_a_checkout_checks_its_knowledge_not_the_installed_copy(tmp_path: Path) -> None:
    """After ``pip install .`` the package's own copy is valid; the file being edited is not,
    and kb check run anywhere in the checkout must say so, naming the folder it checked."""
    knowledge = _checkout(tmp_path / "clone")
    assert knowledge.resolve() != knowledge_dir().resolve()  # the installed copy is somewhere else
    for cwd in (tmp_path / "clone", knowledge):  # the checkout's root, or a folder inside it
        done = run_cli("kb", "check", cwd=cwd)
        assert done.returncode == 1, done.stdout
        _no_traceback(done.stdout, done.stderr)
        assert "error: broken.md: `slug` is missing or empty" in done.stderr
        assert done.stderr.splitlines()[-1].endswith(f"{knowledge} (this checkout)")
    other = tmp_path / "other"
    other.mkdir()
    (other / "lonely.md").write_text("---\nslug: lonely\n---\n", encoding="utf-8")
    chosen = run_cli("kb", "check", "--dir", str(other), cwd=tmp_path / "clone")
    assert chosen.returncode == 1
    assert "lonely.md" in chosen.stderr and "broken.md" not in chosen.stderr
    assert chosen.stderr.splitlines()[-1].endswith(f"{other} (chosen with --dir)")
    missing = run_cli("kb", "check", "--dir", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and missing.stderr == f"error: no folder {tmp_path / 'nowhere'}\n"


def test_kb_check_outside_a_checkout_checks_the_installed_copy(tmp_path: Path) -> None:
    """Another project's pyproject.toml is not a checkout of this one."""
    _checkout(tmp_path / "elsewhere", pyproject='[project]\nname = "someone-else"\n')
    done = run_cli("kb", "check", cwd=tmp_path / "elsewhere")
    _no_traceback(done.stdout, done.stderr)
    assert "broken.md" not in done.stderr
    assert (done.stdout + done.stderr).splitlines()[-1].endswith(f"{knowledge_dir()} (installed with membrane-tutor)")


def _topic(folder: Path, slug: str, title: str) -> None:
    front = f"slug: {slug}\ntitle: {json.dumps(title)}"  # a JSON string is a YAML string
    (folder / f"{slug}.md").write_text(f"---\n{front}\n---\nBody.\n", encoding="utf-8")


def test_kb_list_prints_each_topics_slug_and_title_aligned_from_the_folder_kb_check_uses(tmp_path: Path) -> None:
    knowledge = _checkout(tmp_path / "clone")
    (knowledge / "broken.md").unlink()
    _topic(knowledge, "nernst-equation", "The Nernst equation")
    _topic(knowledge, "ghk", "The GHK voltage equation")
    _topic(knowledge, "leak-channels", "Leak channels: why K⁺ sets the rest")
    done = run_cli("kb", "list", cwd=knowledge)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "ghk              The GHK voltage equation",
        "leak-channels    Leak channels: why K⁺ sets the rest",
        "nernst-equation  The Nernst equation",
    ]
    assert f"3 topics in {knowledge} (this checkout)" in done.stderr
    (knowledge / "bad.md").write_text("---\nslug: [unclosed\n---\n", encoding="utf-8")
    other = tmp_path / "other"
    other.mkdir()
    _topic(other, "threshold", "Threshold")
    chosen = run_cli("kb", "list", "--dir", str(other), cwd=knowledge)
    assert chosen.returncode == 0 and chosen.stdout == "threshold  Threshold\n"
    broken = run_cli("kb", "list", cwd=knowledge)
    assert broken.returncode == 1 and len(broken.stdout.splitlines()) == 3
    _no_traceback(broken.stdout, broken.stderr)
    (line,) = [line for line in broken.stderr.splitlines() if line.startswith("error:")]
    assert line.startswith("error: bad.md: cannot be read")


def test_kb_list_of_the_shipped_topics_names_every_file() -> None:
    done = run_cli("kb", "list")
    assert done.returncode == 0, done.stderr
    slugs = [line.split()[0] for line in done.stdout.splitlines()]
    assert slugs == sorted(path.stem for path in knowledge_dir().glob("*.md"))
    assert "leak-channels" in slugs and "nernst-equation" in slugs


@pytest.mark.parametrize("argument", ["--version", "--help"])
def test_version_and_help_load_no_heavy_module(argument: str) -> None:
    """--version and --help answer from the standard library: the engine (sympy, NumPy),
    the settings (pydantic) and discord.py are imported by the commands that use them.
    (How long a cold start takes is bench/bench_cold_start.py's business, not a test's.)"""
    heavy = ("sympy", "numpy", "pydantic", "pydantic_settings", "discord", "frontmatter", "bot.answers", "bot.commands")
    probe = (
        "import runpy, sys\n"
        f"sys.argv = ['membrane-tutor', {argument!r}]\n"
        "try:\n"
        "    runpy.run_module('bot', run_name='__main__')\n"
        "except SystemExit as exit:\n"
        "    code = exit.code\n"
        f"print(code, sorted(name for name in {heavy!r} if name in sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=cli_env(), capture_output=True, text=True)
    assert done.stderr.strip() == "0 []", done.stderr
    assert "membrane-tutor" in done.stdout


CALCULATOR_ANSWERS = ("/nernst ion:K", "/restpot", "/whatif scenario:hyperkalemia", "/restpot detail:plot")
"""One-shot text answers that need neither a derivation nor the notes (a plot is only asked for)."""


def _modules_after_ask(command: str, names: tuple[str, ...]) -> tuple[object, list[str]]:
    """Run ``membrane-tutor ask COMMAND`` in a fresh interpreter: its exit code, and which of
    ``names`` ended up in sys.modules (as the probe's last line of standard error, in JSON)."""
    probe = (
        "import json, runpy, sys\n"
        f"sys.argv = ['membrane-tutor', 'ask', {command!r}]\n"
        "try:\n"
        "    runpy.run_module('bot', run_name='__main__')\n"
        "except SystemExit as exit:\n"
        "    code = exit.code\n"
        f"print(json.dumps([code, sorted(name for name in {names!r} if name in sys.modules)]), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=cli_env(), capture_output=True, text=True)
    code, loaded = json.loads(done.stderr.strip().splitlines()[-1])
    return code, loaded


SYMBOLIC_AND_NOTES = (
    "sympy",
    "bot.physiology.symbolic",
    "bot.physiology.derivation",
    "bot.physiology.notation",
    "pydantic",
    "pydantic_settings",
    "discord",
    "matplotlib",
    "yaml",
    "frontmatter",
    "bm25s",
    "bot.knowledge",
    "bot.retrieval",
)


@pytest.mark.parametrize("command", CALCULATOR_ANSWERS)
def test_calculator_ask_loads_no_sympy_module(command: str) -> None:
    """A cold calculator answer computes with the NumPy functions: no sympy (only a
    derivation needs it), no settings, no discord.py, no matplotlib, no knowledge base or
    /ask index. (How long it takes is bench/bench_cold_start.py's business, not a test's.)"""
    code, loaded = _modules_after_ask(command, (*SYMBOLIC_AND_NOTES, "numpy"))
    assert code == 0
    assert loaded == ["numpy"]  # NumPy computes the answer (and shows the probe sees what is loaded)


def test_steps_load_sympy_on_demand() -> None:
    """The other side of the test above: ``detail:steps`` imports the derivations (sympy)."""
    code, loaded = _modules_after_ask("/nernst ion:K detail:steps", ("sympy", "bot.physiology.derivation", "yaml"))
    assert (code, loaded) == (0, ["bot.physiology.derivation", "sympy"])


# --- practice offline (issue 11) -------------------------------------------------------------


def test_ask_quiz_with_a_seed_prints_the_question_and_lettered_options_the_same_each_time() -> None:
    first = run_cli("ask", "/quiz topic:nernst-equation", "--seed", "7")
    assert first.returncode == 0, first.stderr
    _no_traceback(first.stdout, first.stderr)
    lines = first.stdout.splitlines()
    assert lines[0].startswith("Practice · ")
    letters = [line[:3] for line in lines if line[:3] in ("A. ", "B. ", "C. ", "D. ", "E. ")]
    assert letters == ["A. ", "B. ", "C. ", "D. "]
    assert any("What is E_" in line for line in lines)
    assert run_cli("ask", "/quiz topic:nernst-equation", "--seed", "7").stdout == first.stdout
    printed = run_cli("ask", "--json", "--seed", "7", "/quiz topic:nernst-equation")
    assert printed.returncode == 0 and printed.stderr == ""
    data = json.loads(printed.stdout)
    assert data["problem"]["command"] == "nernst" and data["topic"] == "nernst-equation"
    assert [choice["letter"] for choice in data["choices"]] == ["A", "B", "C", "D"]
    assert sum(choice["correct"] for choice in data["choices"]) == 1


def test_ask_check_grades_in_one_line_and_as_json() -> None:
    command = "/check nernst ion:K inside:140 outside:5 answer:-38.7mV"
    done = run_cli("ask", command)
    assert done.returncode == 0, done.stderr
    assert "Not quite: you gave −38.7 mV; E_K = −89.1 mV" in done.stdout.splitlines()
    assert "You used log₁₀ with RT/F: the 2.303 is missing." in done.stdout
    data = json.loads(run_cli("ask", "--json", command).stdout)
    assert (data["verdict"], data["mistakes"], data["given_mv"]) == ("wrong", ["log10-without-2.303"], -38.7)
    bad = run_cli("ask", "/check nernst ion:K inside:140 outside:5 answer:12 mM")
    assert bad.returncode == 2 and bad.stdout == "" and len(bad.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("seed", ["-1", "4294967296", "seven"])
def test_a_bad_seed_exits_2_in_one_line(seed: str) -> None:
    done = run_cli("ask", "/quiz", "--seed", seed)
    assert done.returncode == 2 and "--seed" in done.stderr
    _no_traceback(done.stderr)


def test_the_console_grades_the_line_after_a_question(tmp_path: Path) -> None:
    lines = [
        "/quiz topic:nernst-equation kind:numeric",
        "12 mM",  # not a potential: said so, the question still waits
        "z",
        "B",  # graded now
        "/quiz kind:numeric topic:ghk-equation",
        "-1000 mV",  # typed: graded like /check
        "/quiz kind:concept topic:chloride",
        "a",
        "b",  # no question waits now: not a command
    ]
    env = cli_env(HOME=str(tmp_path), XDG_STATE_HOME=str(tmp_path / "state"))
    done = run_cli("console", input="\n".join(lines) + "\n", env=env)
    assert done.returncode == 0, done.stderr
    _no_traceback(done.stdout, done.stderr)
    out = done.stdout
    assert out.count("Practice · ") == 3
    errors = [line for line in out.splitlines() if "error:" in line]
    assert len(errors) == 3, errors  # 12 mM, z, and the last b
    assert "mM" in errors[0] and "one of A, B, C, D" in errors[1]
    replies = [line.removeprefix("tutor> ") for line in out.splitlines()]
    graded = [line for line in replies if line.startswith(("Right", "Not quite"))]
    assert len(graded) == 3 * 2  # title and headline of each graded reply
    assert "Not quite: you gave −1000.0 mV" in out
    assert out.count("Read: /explain topic:") == 3
