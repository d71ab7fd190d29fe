"""The command declaration (bot/commands.py): Discord's limits, the public contract, the parser.

Discord rejects a whole command tree when one name, description or choice breaks its
limits (design.md, "Discord's limits"), so each is checked here rather than found at
``sync`` time. The option names are the public contract of design.md's command table.
"""

from __future__ import annotations

import ast
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

from bot.answers import HANDLERS, answer
from bot.commands import COMMANDS, CommandSpec, OptionSpec, OptionType, invocable, parse_invocation, resolve
from bot.physiology import PRESETS, InputError
from bot.physiology.validation import CONCENTRATION, PERMEABILITY, TEMPERATURE, VALENCE

NAME = re.compile(r"^[-_a-z0-9]{1,32}$")

SPECS = [*COMMANDS.values(), *(sub for spec in COMMANDS.values() for sub in spec.subcommands)]  # subcommands too
OPTIONS = [(spec, option) for spec in SPECS for option in spec.options]


def _spec_id(spec: CommandSpec) -> str:
    return spec.qualified_name


def _option_id(pair: tuple[CommandSpec, OptionSpec]) -> str:
    return f"{pair[0].qualified_name}.{pair[1].name}"


# --- Discord's limits ------------------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS, ids=_spec_id)
def test_command_obeys_discords_limits(spec: CommandSpec) -> None:
    assert NAME.match(spec.name), spec.name
    assert 1 <= len(spec.description) <= 100, spec.description
    assert len(spec.options) <= 25
    names = [option.name for option in spec.options]
    assert len(names) == len(set(names)), "option names must be unique"
    required = [option.required for option in spec.options]
    assert required == sorted(required, reverse=True), "required options must come before optional ones"
    assert spec.examples, "every command has an example for /help"
    for example in spec.examples:
        assert parse_invocation(example).command in (spec.qualified_name, *(s.qualified_name for s in spec.subcommands))


@pytest.mark.parametrize("pair", OPTIONS, ids=_option_id)
def test_option_obeys_discords_limits(pair: tuple[CommandSpec, OptionSpec]) -> None:
    _, option = pair
    assert NAME.match(option.name), option.name
    assert 1 <= len(option.description) <= 100, option.description
    assert len(option.choices) <= 25
    for choice in option.choices:
        assert 1 <= len(choice.name) <= 100, choice.name
        assert 1 <= len(choice.value) <= 100, choice.value
    assert len({choice.value for choice in option.choices}) == len(option.choices)
    if option.choices:
        assert option.type is OptionType.STRING
    if option.bounds is not None:
        assert option.type in (OptionType.NUMBER, OptionType.INTEGER)
        assert option.bounds.low <= option.bounds.high
    if option.type is OptionType.BOOLEAN:
        assert not option.choices and option.bounds is None


ANSWERED_BY_COGS = {"stats", "privacy"}
"""Groups that read the interaction log or the user's account: answered by cogs on Discord."""


def test_command_names_are_unique_and_every_command_has_a_handler() -> None:
    assert all(name == spec.name for name, spec in COMMANDS.items())
    runnable = {spec.qualified_name for spec in invocable() if (spec.parent or spec.name) not in ANSWERED_BY_COGS}
    assert runnable == set(HANDLERS)
    assert {"quiz", "check nernst", "check restpot", "progress show"} <= set(HANDLERS)


# --- the public contract (design.md's command table) ------------------------------------

CONTRACT = {
    "restpot": (
        {"preset", "k_in", "k_out", "na_in", "na_out", "cl_in", "cl_out", "p_k", "p_na", "p_cl"}
        | {"temperature", "detail", "private"},
        set(),
    ),
    "nernst": ({"ion", "inside", "outside", "preset", "temperature", "valence", "detail", "private"}, {"ion"}),
    "whatif": ({"scenario", "preset", "private"}, {"scenario"}),
}


@pytest.mark.parametrize("command", sorted(CONTRACT))
def test_option_names_are_those_of_the_design(command: str) -> None:
    names, required = CONTRACT[command]
    spec = COMMANDS[command]
    assert {option.name for option in spec.options} == names
    assert {option.name for option in spec.options if option.required} == required


PRACTICE_CONTRACT = {
    "quiz": ({"topic", "kind"}, set()),
    "check nernst": (CONTRACT["nernst"][0] | {"answer"}, {"ion", "answer"}),
    "check restpot": (CONTRACT["restpot"][0] | {"answer"}, {"answer"}),
    "progress show": (set(), set()),
}


@pytest.mark.parametrize("command", sorted(PRACTICE_CONTRACT))
def test_practice_option_names_are_those_of_the_issue(command: str) -> None:
    names, required = PRACTICE_CONTRACT[command]
    spec = resolve(command)
    assert spec is not None and not spec.is_group
    assert {option.name for option in spec.options} == names
    assert {option.name for option in spec.options if option.required} == required


@pytest.mark.parametrize("calculator", ["nernst", "restpot"])
def test_check_reuses_the_calculators_own_options(calculator: str) -> None:
    """The same OptionSpec objects, so a bound or a choice changed in /nernst changes /check."""
    check = resolve(f"check {calculator}")
    assert check is not None
    reused = [option for option in check.options if option.name != "answer"]
    assert reused == list(COMMANDS[calculator].options)
    assert all(mine is theirs for mine, theirs in zip(reused, COMMANDS[calculator].options, strict=True))
    answer_option = check.option("answer")
    assert answer_option is not None and answer_option.required and answer_option.free_text
    assert answer_option.max_length is not None and answer_option.max_length <= 100


def test_quiz_topic_completes_like_explain_and_kind_defaults_to_any() -> None:
    topic, explain_topic = COMMANDS["quiz"].option("topic"), COMMANDS["explain"].option("topic")
    assert topic is not None and explain_topic is not None
    assert topic.autocomplete and not topic.required and topic.max_length == explain_topic.max_length
    assert _choices("quiz", "kind") == {"numeric", "concept", "any"}
    assert "any (default)" in COMMANDS["quiz"].option("kind").description  # type: ignore[union-attr]
    assert "seed" not in {option.name for option in COMMANDS["quiz"].options}  # internal, never a Discord option


def test_progress_has_show_and_nothing_of_issue_14_yet() -> None:
    assert [sub.name for sub in COMMANDS["progress"].subcommands] == ["show"]
    assert COMMANDS["progress"].user_install and not COMMANDS["progress"].guild_only
    assert [sub.name for sub in COMMANDS["check"].subcommands] == ["nernst", "restpot"]


@pytest.mark.parametrize(
    ("text", "command", "options"),
    [
        ("/quiz", "quiz", {}),
        ("/quiz topic:nernst-equation kind:numeric", "quiz", {"topic": "nernst-equation", "kind": "numeric"}),
        (
            "/check nernst ion:K inside:140 outside:5 answer:-38.7mV",
            "check nernst",
            {"ion": "K", "inside": 140.0, "outside": 5.0, "answer": "-38.7mV"},
        ),
        (
            "/check nernst ion:K answer:-89.1 mV inside:140",
            "check nernst",
            {"ion": "K", "answer": "-89.1 mV", "inside": 140.0},
        ),
        ("/check restpot answer:−70 mv k_out:10", "check restpot", {"answer": "−70 mv", "k_out": 10.0}),
        ("/progress show", "progress show", {}),
    ],
)
def test_practice_commands_parse(text: str, command: str, options: dict[str, object]) -> None:
    request = parse_invocation(text)
    assert (request.command, dict(request.options)) == (command, options)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("/check nernst ion:K inside:140 outside:5", "`answer`"),
        ("/check", "needs a subcommand"),
        ("/check ghk answer:1", "Unknown subcommand"),
        ("/quiz kind:hard", "`kind`"),
        ("/quiz seed:7", "Unknown option"),
        ("/check restpot answer:" + "9" * 60, "`answer`"),
        ("/progress board", "Unknown subcommand"),
    ],
)
def test_practice_commands_refuse(text: str, named: str) -> None:
    with pytest.raises(InputError, match=re.escape(named)):
        parse_invocation(text)


BOUNDS = {
    **{name: CONCENTRATION for name in ("k_in", "k_out", "na_in", "na_out", "cl_in", "cl_out", "inside", "outside")},
    **{name: PERMEABILITY for name in ("p_k", "p_na", "p_cl")},
    "temperature": TEMPERATURE,
    "valence": VALENCE,
}


def test_the_validation_ranges_are_the_designs() -> None:
    assert (CONCENTRATION.low, CONCENTRATION.high) == (1e-6, 1000)
    assert (PERMEABILITY.low, PERMEABILITY.high) == (0, 1000)
    assert (TEMPERATURE.low, TEMPERATURE.high) == (0, 50)
    assert (VALENCE.low, VALENCE.high) == (-3, 3)


@pytest.mark.parametrize("pair", [p for p in OPTIONS if p[1].name in BOUNDS], ids=_option_id)
def test_number_bounds_are_the_engines(pair: tuple[CommandSpec, OptionSpec]) -> None:
    _, option = pair
    assert option.bounds == BOUNDS[option.name]
    expected = OptionType.INTEGER if option.name == "valence" else OptionType.NUMBER
    assert option.type is expected


def test_every_number_option_has_bounds() -> None:
    unbounded = [
        _option_id(pair)
        for pair in OPTIONS
        if pair[1].type in (OptionType.NUMBER, OptionType.INTEGER) and not pair[1].bounds
    ]
    assert unbounded == []


def _choices(command: str, option: str) -> set[str]:
    spec = COMMANDS[command].option(option)
    assert spec is not None
    return {choice.value for choice in spec.choices}


def test_choices_are_the_designs() -> None:
    assert _choices("nernst", "ion") == {"K", "Na", "Cl", "Ca", "Mg", "H", "custom"}
    assert _choices("whatif", "scenario") >= {
        "hyperkalemia",
        "hypokalemia",
        "hyponatremia",
        "pump-block",
        "na-permeability-up",
    }
    for command in ("restpot", "nernst", "whatif"):
        assert _choices(command, "preset") == set(PRESETS)
    for command in ("restpot", "nernst"):
        assert _choices(command, "detail") >= {"summary", "steps"}
    assert _choices("help", "command") <= set(COMMANDS)


# --- no discord below the adapters --------------------------------------------------------

CORE = sorted(
    [
        *(ROOT / "bot" / "physiology").glob("*.py"),
        *(ROOT / "bot" / "answers").glob("*.py"),
        *(ROOT / "bot" / "tutoring").glob("*.py"),
        ROOT / "bot" / "commands.py",
        ROOT / "bot" / "knowledge.py",
    ]
)


def _imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
            "import_module",
            "__import__",
        ):
            modules.update(arg.value for arg in node.args[:1] if isinstance(arg, ast.Constant))
    return modules


@pytest.mark.parametrize("path", CORE, ids=lambda path: str(path.relative_to(ROOT)))
def test_core_module_does_not_import_discord(path: Path) -> None:
    discord = {module for module in _imported_modules(path) if module.split(".")[0] == "discord"}
    assert not discord, f"{path.name} imports {discord}"


def test_importing_the_core_loads_no_discord() -> None:
    probe = (
        "import sys, bot.answers, bot.commands, bot.physiology; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'discord'))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "[]"


# --- parse_invocation: good input ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "command", "options"),
    [
        ("/restpot", "restpot", {}),
        ("restpot", "restpot", {}),
        ("  /restpot   k_out:10  ", "restpot", {"k_out": 10.0}),
        ("/nernst ion:K inside:140 outside:5", "nernst", {"ion": "K", "inside": 140.0, "outside": 5.0}),
        ("/NERNST ION:k INSIDE:140", "nernst", {"ion": "K", "inside": 140.0}),
        (
            "/nernst ion:na preset:Squid-Giant-Axon detail:STEPS",
            "nernst",
            {"ion": "Na", "preset": "squid-giant-axon", "detail": "steps"},
        ),
        ('/nernst ion:"K⁺ (potassium)"', "nernst", {"ion": "K"}),
        (
            "/nernst ion:CUSTOM valence:-2 inside:1 outside:10",
            "nernst",
            {"ion": "custom", "valence": -2, "inside": 1.0, "outside": 10.0},
        ),
        (
            "/nernst ion:custom valence:2.0 inside:1 outside:2",
            "nernst",
            {"ion": "custom", "valence": 2, "inside": 1.0, "outside": 2.0},
        ),
        ("/nernst ion:Ca inside:1e-4 outside:2", "nernst", {"ion": "Ca", "inside": 1e-4, "outside": 2.0}),
        ("/nernst ion:K inside:1,000", "nernst", {"ion": "K", "inside": 1000.0}),
        (
            "/nernst ion:K inside:0.000001 outside:1000 temperature:0",
            "nernst",
            {"ion": "K", "inside": 1e-6, "outside": 1000.0, "temperature": 0.0},
        ),
        ("/restpot temperature:50 p_na:0", "restpot", {"temperature": 50.0, "p_na": 0.0}),
        ("/restpot preset:'squid-giant-axon'", "restpot", {"preset": "squid-giant-axon"}),
        ('/restpot "preset:skeletal-muscle" private:yes', "restpot", {"preset": "skeletal-muscle", "private": True}),
        ("/restpot private:OFF", "restpot", {"private": False}),
        (
            "/whatif scenario:Pump-Block preset:cardiac-myocyte",
            "whatif",
            {"scenario": "pump-block", "preset": "cardiac-myocyte"},
        ),
        ("/help", "help", {}),
        ("/help command:NERNST", "help", {"command": "nernst"}),
    ],
)
def test_parse_invocation_accepts(text: str, command: str, options: dict[str, object]) -> None:
    request = parse_invocation(text)
    assert request.command == command
    assert dict(request.options) == options
    for name, value in options.items():
        assert type(request.options[name]) is type(value), name
    assert not answer(request).error


FREE_TEXT = [
    pytest.param(
        "/ask question:what's the resting potential?",
        {"question": "what's the resting potential?"},
        id="apostrophe",
    ),
    pytest.param(
        "/ask question:why isn't V_m at E_K's value? private:true",
        {"question": "why isn't V_m at E_K's value?", "private": True},
        id="apostrophes, then an option",
    ),
    pytest.param('/ask question:is a 3" axon real', {"question": 'is a 3" axon real'}, id="lone double quote"),
    pytest.param(
        '/ask question:"why is it negative?" private:yes',
        {"question": "why is it negative?", "private": True},
        id="quoted value",
    ),
    pytest.param('/ask "question:what\'s up with K⁺"', {"question": "what's up with K⁺"}, id="whole option quoted"),
    pytest.param(
        "/ask private:on question:the Na⁺/K⁺ pump's job   in  short",
        {"private": True, "question": "the Na⁺/K⁺ pump's job in short"},
        id="after another option, spaces collapsed",
    ),
    pytest.param("/ask question:why? PRIVATE:True", {"question": "why?", "private": True}, id="names in any case"),
    pytest.param(
        "/ask question:is E_K: -90 mV? what's k_out:",
        {"question": "is E_K: -90 mV? what's k_out:"},
        id="not its options",
    ),
    pytest.param("/explain topic:leak channels", {"topic": "leak channels"}, id="autocompleted text takes spaces too"),
    pytest.param(
        "/explain topic:o'clock private:true", {"topic": "o'clock", "private": True}, id="autocompleted apostrophe"
    ),
]


@pytest.mark.parametrize(("text", "options"), FREE_TEXT)
def test_free_text_runs_to_the_next_option_as_on_discord(text: str, options: dict[str, object]) -> None:
    """Discord's client reads a text option up to the next option's ``name:``; so does the terminal,
    so a student's apostrophe is a character, not a shell quote."""
    request = parse_invocation(text)
    assert dict(request.options) == options


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("/nernst ion:K's", "quote"),  # a choice is one word: its quotes still mean quotes
        ("/restpot preset:'squid-giant-axon", "quote"),
        ("/ask what's the resting potential?", "name:value"),  # no option named: say how, not "quotes"
        ("/ask colour:what's up", "colour"),
        ("/ask question:why? private:it's", "quote"),
        ("/ask question:a question:b", "given twice"),
    ],
)
def test_quotes_outside_free_text_still_need_closing(text: str, named: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_invocation(text)
    assert named in str(caught.value) and "\n" not in str(caught.value)


# --- parse_invocation: bad input ------------------------------------------------------------

BAD = [
    # (text, what the message must name, InputError.option or None)
    pytest.param("", "/restpot", None, id="empty"),
    pytest.param("/zombie ion:K", "zombie", None, id="unknown command"),
    pytest.param("/nernst ion:K colour:blue", "colour", None, id="unknown option"),
    pytest.param("/nernst ion:K ion:Na", "`ion`", "ion", id="duplicate option"),
    pytest.param("/nernst inside:140", "`ion`", "ion", id="missing required ion"),
    pytest.param("/whatif", "`scenario`", "scenario", id="missing required scenario"),
    pytest.param("/nernst ion:K inside:abc", "`inside`", "inside", id="word for a number"),
    pytest.param("/restpot temperature:warm", "`temperature`", "temperature", id="word for temperature"),
    pytest.param("/nernst ion:K inside:0", "`inside`", "inside", id="zero"),
    pytest.param("/nernst ion:K outside:-5", "`outside`", "outside", id="negative"),
    pytest.param("/restpot k_in:1e-7", "`k_in`", "k_in", id="below the range"),
    pytest.param("/restpot p_na:-0.1", "`p_na`", "p_na", id="negative permeability"),
    pytest.param("/nernst ion:K inside:nan", "`inside`", "inside", id="NaN"),
    pytest.param("/nernst ion:K inside:inf", "`inside`", "inside", id="inf"),
    pytest.param("/nernst ion:K inside:-Infinity", "`inside`", "inside", id="-inf"),
    pytest.param("/nernst ion:K inside:1e308", "`inside`", "inside", id="1e308"),
    pytest.param("/nernst ion:K inside:" + "9" * 400, "`inside`", "inside", id="400 digits"),
    pytest.param("/nernst ion:K temperature:500", "`temperature`", "temperature", id="temperature 500"),
    pytest.param("/restpot temperature:-1", "`temperature`", "temperature", id="temperature -1"),
    pytest.param("/nernst ion:custom valence:1.5", "`valence`", "valence", id="valence 1.5"),
    pytest.param("/nernst ion:custom valence:4", "`valence`", "valence", id="valence 4"),
    pytest.param("/nernst ion:custom valence:-4", "`valence`", "valence", id="valence -4"),
    pytest.param("/nernst ion:custom valence:two", "`valence`", "valence", id="valence word"),
    pytest.param("/nernst ion:Xe", "`ion`", "ion", id="unknown ion"),
    pytest.param("/restpot preset:frog", "`preset`", "preset", id="unknown preset"),
    pytest.param("/whatif scenario:zombies", "`scenario`", "scenario", id="unknown scenario"),
    pytest.param("/restpot private:maybe", "`private`", "private", id="not a boolean"),
    pytest.param("/restpot detail:everything", "`detail`", "detail", id="unknown detail"),
    pytest.param('/nernst ion:"K inside:140', "quote", None, id="unbalanced quote"),
    pytest.param("/nernst ion:K 140", "name:value", None, id="token without colon"),
    pytest.param("/nernst ion:K inside:", "`inside`", "inside", id="empty value"),
]


@pytest.mark.parametrize(("text", "named", "option"), BAD)
def test_parse_invocation_rejects(text: str, named: str, option: str | None) -> None:
    with pytest.raises(InputError) as caught:
        parse_invocation(text)
    message = str(caught.value)
    assert message and "\n" not in message
    assert named in message
    assert caught.value.option == option
    assert len(message) <= 300


def test_valence_zero_passes_the_bounds_and_is_refused_by_the_engine() -> None:
    """Discord's bounds can say −3 … 3 but not "non-zero": the engine refuses 0, naming it."""
    request = parse_invocation("/nernst ion:custom valence:0 inside:1 outside:10")
    refused = answer(request)
    assert refused.error
    assert "`valence`" in refused.headline and "non-zero" in refused.headline


@pytest.mark.parametrize(
    "text",
    [
        "/nernst ion:custom inside:1 outside:10",  # custom without valence
        "/nernst ion:K valence:2",  # K⁺ is +1
        "/restpot p_k:0 p_na:0 p_cl:0",  # nothing permeant
        "/nernst ion:Mg",  # the default preset has no Mg²⁺
        "/whatif scenario:hyperkalemia preset:squid-giant-axon",  # clinical needs a mammalian cell
    ],
)
def test_what_the_parser_lets_through_the_engine_refuses_in_one_line(text: str) -> None:
    refused = answer(parse_invocation(text))
    assert refused.error and refused.headline and "\n" not in refused.headline


# --- user text echoed back -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "typed"),
    [
        ("/`@everyone` ion:K", "`@everyone`"),
        ("/nernst ion:K inside:'1`2'", "1`2"),
        ("/nernst ion:K fo`o:1", "fo`o"),
        ("/nernst ion:K`", "K`"),
        ("/restpot private:'``` code'", "```"),
    ],
)
def test_echoed_text_never_carries_a_backtick_from_the_input(text: str, typed: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_invocation(text)
    message = str(caught.value)
    assert typed not in message
    assert typed.replace("`", "'") in message


@pytest.mark.parametrize(
    "text",
    [
        "/nernst ion:K inside:" + "x" * 5000,
        "/" + "z" * 5000,
        "/nernst ion:K " + "q" * 5000 + ":1",
        "/restpot private:'" + "word " * 1000 + "'",
        "/nernst ion:K " + "y" * 5000,
    ],
    ids=["value", "command", "option", "spaces", "token"],
)
def test_echoed_text_is_shortened_to_one_line(text: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_invocation(text)
    message = str(caught.value)
    assert len(message) <= 300
    assert "…" in message
    assert "\n" not in message


def test_echoed_text_keeps_newlines_out() -> None:
    with pytest.raises(InputError) as caught:
        parse_invocation("/nernst ion:K inside:'1\n2\n3'")
    assert "\n" not in str(caught.value)
    assert "1 2 3" in str(caught.value)


def test_parsed_values_are_finite_and_in_range() -> None:
    request = parse_invocation("/nernst ion:custom valence:-3 inside:1e-6 outside:1000 temperature:50")
    assert all(math.isfinite(v) for v in request.options.values() if isinstance(v, (int, float)))
