"""The one declaration of every command: names, descriptions, options, bounds, choices.

Discord's slash commands and the terminal are both built from this module, so an option
is declared once and the bounds a Discord client enforces are the ones the terminal and
the engine enforce. No discord import here: the Discord adapter translates
:class:`CommandSpec` into ``app_commands`` objects.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote, unquote

from bot.physiology import IONS, PRESETS, InputError, scenarios
from bot.physiology.ions import CUSTOM
from bot.physiology.validation import CONCENTRATION, PERMEABILITY, TEMPERATURE, VALENCE, Bounds, check_in_bounds

if TYPE_CHECKING:  # the scheduler imports fsrs: not at start-up, not for a calculator answer
    from bot.tutoring.scheduling import StudentHistory


class OptionType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"


@dataclass(frozen=True, slots=True)
class Choice:
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """One option. ``quantity`` names the value in error messages ("a concentration")."""

    name: str
    description: str
    type: OptionType
    required: bool = False
    choices: tuple[Choice, ...] = ()
    bounds: Bounds | None = None
    quantity: str = "a value"
    autocomplete: bool = False
    max_length: int | None = None

    @property
    def free_text(self) -> bool:
        """A string the user writes in their own words (not a choice, not a slug to complete)."""
        return self.type is OptionType.STRING and not self.choices and not self.autocomplete

    def allowed(self) -> str:
        """What a user may type here, in words."""
        if self.choices:
            return "one of " + ", ".join(choice.value for choice in self.choices)
        if self.type is OptionType.BOOLEAN:
            return "true or false"
        if self.bounds is not None:
            kind = "a whole number" if self.type is OptionType.INTEGER else "a number"
            return f"{kind} from {self.bounds.describe()}"
        return "text"


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """A command, or a group of subcommands.

    ``user_install`` marks commands a student may add to their own account; ``guild_only``
    keeps a command out of DMs; ``manage_guild`` makes it an instructor's (Discord's
    "Manage Server" permission, by default and checked again in code). A group has
    ``subcommands`` and no options of its own: Discord cannot invoke a group itself.
    Install, context and permission settings belong to the top-level command; a
    subcommand's ``parent`` is its group's name (set by :func:`group`).
    """

    name: str
    description: str
    options: tuple[OptionSpec, ...] = ()
    examples: tuple[str, ...] = ()
    user_install: bool = True
    subcommands: tuple[CommandSpec, ...] = ()
    guild_only: bool = False
    manage_guild: bool = False
    parent: str = ""

    def option(self, name: str) -> OptionSpec | None:
        return next((option for option in self.options if option.name == name), None)

    @property
    def is_group(self) -> bool:
        return bool(self.subcommands)

    @property
    def qualified_name(self) -> str:
        """What a user types after the slash, e.g. ``stats show``; a request's ``command``."""
        return f"{self.parent} {self.name}" if self.parent else self.name

    def subcommand(self, name: str) -> CommandSpec | None:
        return next((sub for sub in self.subcommands if sub.name == name), None)


def group(
    name: str,
    description: str,
    subcommands: tuple[CommandSpec, ...],
    *,
    user_install: bool = True,
    guild_only: bool = False,
    manage_guild: bool = False,
) -> CommandSpec:
    """A command group: its subcommands learn their parent; its examples are theirs."""
    if not subcommands:
        raise ValueError(f"/{name}: a group needs at least one subcommand")
    children = tuple(replace(sub, parent=name, user_install=user_install) for sub in subcommands)
    return CommandSpec(
        name,
        description,
        examples=tuple(example for sub in children for example in sub.examples),
        user_install=user_install,
        subcommands=children,
        guild_only=guild_only,
        manage_guild=manage_guild,
    )


def _concentration(name: str, where: str) -> OptionSpec:
    return OptionSpec(
        name,
        f"{where} (mM); default: the preset's",
        OptionType.NUMBER,
        bounds=CONCENTRATION,
        quantity="a concentration",
    )


def _permeability(name: str, ion: str) -> OptionSpec:
    return OptionSpec(
        name,
        f"Relative permeability to {ion} (P_K = 1 in the presets); default: the preset's",
        OptionType.NUMBER,
        bounds=PERMEABILITY,
        quantity="a relative permeability",
    )


PRESET_OPTION: Final = OptionSpec(
    "preset",
    "Cell type whose concentrations, permeabilities and temperature to use",
    OptionType.STRING,
    choices=tuple(Choice(f"{p.name} ({p.temperature_c:g} °C)", key) for key, p in PRESETS.items()),
)
TEMPERATURE_OPTION: Final = OptionSpec(
    "temperature",
    "Temperature (°C); default: the preset's",
    OptionType.NUMBER,
    bounds=TEMPERATURE,
    quantity="the temperature",
)
DETAIL_OPTION: Final = OptionSpec(
    "detail",
    "How much to show: the summary, every step of the derivation, or a figure",
    OptionType.STRING,
    choices=(Choice("summary", "summary"), Choice("steps: the derivation", "steps"), Choice("plot: a figure", "plot")),
)
PRIVATE_OPTION: Final = OptionSpec("private", "Only you see the answer (default: false)", OptionType.BOOLEAN)

RESTPOT: Final = CommandSpec(
    "restpot",
    "Resting membrane potential (GHK) and each ion's equilibrium potential",
    (
        PRESET_OPTION,
        _concentration("k_in", "[K⁺] inside"),
        _concentration("k_out", "[K⁺] outside"),
        _concentration("na_in", "[Na⁺] inside"),
        _concentration("na_out", "[Na⁺] outside"),
        _concentration("cl_in", "[Cl⁻] inside"),
        _concentration("cl_out", "[Cl⁻] outside"),
        _permeability("p_k", "K⁺"),
        _permeability("p_na", "Na⁺"),
        _permeability("p_cl", "Cl⁻"),
        TEMPERATURE_OPTION,
        DETAIL_OPTION,
        PRIVATE_OPTION,
    ),
    examples=("/restpot", "/restpot k_out:10", "/restpot preset:squid-giant-axon detail:steps"),
)
NERNST: Final = CommandSpec(
    "nernst",
    "Equilibrium (Nernst) potential of one ion",
    (
        OptionSpec(
            "ion",
            "The ion; custom needs a valence",
            OptionType.STRING,
            required=True,
            choices=(
                *(Choice(f"{ion.symbol} ({ion.name})", key) for key, ion in IONS.items()),
                Choice("custom (give a valence)", CUSTOM),
            ),
        ),
        _concentration("inside", "Concentration inside the cell"),
        _concentration("outside", "Concentration outside the cell"),
        PRESET_OPTION,
        TEMPERATURE_OPTION,
        OptionSpec(
            "valence",
            "Charge z of a custom ion: a non-zero whole number from -3 to 3",
            OptionType.INTEGER,
            bounds=VALENCE,
            quantity="the valence",
        ),
        DETAIL_OPTION,
        PRIVATE_OPTION,
    ),
    examples=("/nernst ion:K", "/nernst ion:K inside:140 outside:5", "/nernst ion:Ca detail:steps"),
)
WHATIF: Final = CommandSpec(
    "whatif",
    "What happens to the resting potential in a clinical or experimental scenario",
    (
        OptionSpec(
            "scenario",
            "What changes",
            OptionType.STRING,
            required=True,
            choices=tuple(Choice(s.title[:100], slug) for slug, s in scenarios().items()),
        ),
        PRESET_OPTION,
        PRIVATE_OPTION,
    ),
    examples=("/whatif scenario:hyperkalemia", "/whatif scenario:pump-block preset:cardiac-myocyte"),
)
LAB_K: Final = Bounds(0.5, 20.0, "mmol/L")
LAB_NA: Final = Bounds(80.0, 200.0, "mmol/L")
LAB_CL: Final = Bounds(50.0, 160.0, "mmol/L")
LAB_CA: Final = Bounds(0.1, 25.0, "")
"""Calcium in any of ``ca_unit``'s units; bot/answers/labs.py checks the range of each unit."""
LAB_ALBUMIN: Final = Bounds(0.5, 7.0, "g/dL")
CA_UNITS: Final = (
    Choice("mg/dL (total)", "mg/dL"),
    Choice("mmol/L (total)", "mmol/L"),
    Choice("mmol/L ionized", "ionized"),
)
LABS: Final = CommandSpec(
    "labs",
    "Serum K⁺, Na⁺, Cl⁻, Ca²⁺ as a nurse reads them: converted, flagged, and what they do to V_m",
    (
        OptionSpec("k", "Serum K⁺ (mmol/L = mEq/L)", OptionType.NUMBER, bounds=LAB_K, quantity="serum K⁺"),
        OptionSpec("na", "Serum Na⁺ (mmol/L = mEq/L)", OptionType.NUMBER, bounds=LAB_NA, quantity="serum Na⁺"),
        OptionSpec("cl", "Serum Cl⁻ (mmol/L = mEq/L)", OptionType.NUMBER, bounds=LAB_CL, quantity="serum Cl⁻"),
        OptionSpec(
            "ca",
            "Serum calcium, in the unit chosen in ca_unit",
            OptionType.NUMBER,
            bounds=LAB_CA,
            quantity="serum calcium",
        ),
        OptionSpec(
            "ca_unit", "Unit of ca: mg/dL total, mmol/L total or mmol/L ionized", OptionType.STRING, choices=CA_UNITS
        ),
        OptionSpec(
            "albumin",
            "Serum albumin (g/dL), to correct a total calcium",
            OptionType.NUMBER,
            bounds=LAB_ALBUMIN,
            quantity="serum albumin",
        ),
        PRIVATE_OPTION,
    ),
    examples=("/labs k:6.8 na:128", "/labs ca:7.6 ca_unit:mg/dL albumin:2.5", "/labs k:3.1 cl:95"),
)
EXPLAIN: Final = CommandSpec(
    "explain",
    "Explain a topic from the curated notes: summary first, then key points and sources",
    (
        OptionSpec(
            "topic",
            "Start typing: e.g. leak channels",
            OptionType.STRING,
            required=True,
            autocomplete=True,
            max_length=100,
        ),
        PRIVATE_OPTION,
    ),
    examples=("/explain topic:leak-channels",),
)
QUESTION_LIMIT: Final = 300
"""Characters in an /ask question: a question, not an essay (Discord's client enforces it)."""
ASK: Final = CommandSpec(
    "ask",
    "Ask in your own words; answered only from the curated notes, never made up",
    (
        OptionSpec(
            "question",
            "Your question, e.g. why is the resting potential negative?",
            OptionType.STRING,
            required=True,
            max_length=QUESTION_LIMIT,
            quantity="a question, e.g. why is the resting potential negative?",
        ),
        PRIVATE_OPTION,
    ),
    examples=("/ask question:why is the resting potential negative?",),
)
DAYS: Final = Bounds(1, 365, "days")
DAYS_OPTION: Final = OptionSpec(
    "days",
    "How many days back to look, 1 to 365 (default 30)",
    OptionType.INTEGER,
    bounds=DAYS,
    quantity="a number of days",
)
STATS: Final = group(
    "stats",
    "Instructors: what the class asks, by command, day and topic; the server's logging switch",
    (
        CommandSpec(
            "show",
            "Interactions in this server: by command, by day, top topics, unanswered questions",
            (DAYS_OPTION,),
            examples=("/stats show", "/stats show days:7"),
        ),
        CommandSpec(
            "export",
            "This server's interaction log as a CSV file (users are pseudonyms)",
            (DAYS_OPTION,),
            examples=("/stats export", "/stats export days:90"),
        ),
        CommandSpec(
            "logging",
            "Turn logging of this server's interactions on or off",
            (
                OptionSpec(
                    "state",
                    "on: log interactions here; off: stop logging here",
                    OptionType.STRING,
                    required=True,
                    choices=(Choice("on", "on"), Choice("off", "off")),
                ),
            ),
            examples=("/stats logging state:off", "/stats logging state:on"),
        ),
    ),
    user_install=False,
    guild_only=True,
    manage_guild=True,
)
PRIVACY: Final = group(
    "privacy",
    "What this bot stores about you, and erasing it",
    (
        CommandSpec(
            "show",
            "What this bot keeps about you, and why (only you see it)",
            examples=("/privacy show",),
        ),
        CommandSpec(
            "forget",
            "Erase everything this bot keeps about you (asks first)",
            examples=("/privacy forget",),
        ),
    ),
)
QUIZ_KINDS: Final = ("numeric", "concept", "any")
QUIZ: Final = CommandSpec(
    "quiz",
    "A practice question just for you: pick an option or type your number; the mistake is named",
    (
        OptionSpec(
            "topic",
            "Start typing: e.g. nernst equation (default: what is due for you)",
            OptionType.STRING,
            autocomplete=True,
            max_length=100,
        ),
        OptionSpec(
            "kind",
            "numeric: a calculation; concept: an idea; any (default)",
            OptionType.STRING,
            choices=tuple(Choice(kind, kind) for kind in QUIZ_KINDS),
        ),
    ),
    examples=("/quiz", "/quiz topic:nernst-equation", "/quiz kind:concept"),
)
ANSWER_LIMIT: Final = 40
"""Characters in a typed answer: a number and its unit (``−89.1 mV``), with room to spare."""
ANSWER_OPTION: Final = OptionSpec(
    "answer",
    "Your answer with its unit, e.g. -89.1 mV or -0.089 V",
    OptionType.STRING,
    required=True,
    max_length=ANSWER_LIMIT,
    quantity="your answer with its unit, e.g. -89.1 mV",
)


def _with_answer(spec: CommandSpec) -> tuple[OptionSpec, ...]:
    """A calculator's own options with ``answer`` after its required ones (Discord wants
    required options first), so /check takes exactly what the calculator takes."""
    required = tuple(option for option in spec.options if option.required)
    optional = tuple(option for option in spec.options if not option.required)
    return (*required, ANSWER_OPTION, *optional)


CHECK: Final = group(
    "check",
    "Check your own homework number: right or wrong, and which mistake gives it",
    (
        CommandSpec(
            "nernst",
            "Check your Nernst potential: the options of /nernst plus your answer",
            _with_answer(NERNST),
            examples=("/check nernst ion:K inside:140 outside:5 answer:-89.1 mV",),
        ),
        CommandSpec(
            "restpot",
            "Check your resting potential (GHK): the options of /restpot plus your answer",
            _with_answer(RESTPOT),
            examples=("/check restpot answer:-70 mV", "/check restpot k_out:10 answer:-60 mV"),
        ),
    ),
)
PROGRESS: Final = group(
    "progress",
    "Your practice: mastery by topic, what is due, your streak",
    (
        CommandSpec(
            "show",
            "Your mastery by topic, what is due and your day streak (only you see it)",
            examples=("/progress show",),
        ),
    ),
)
HELP: Final = CommandSpec(
    "help",
    "What this bot can do, with an example for each command",
    (
        OptionSpec(
            "command",
            "Show one command's options",
            OptionType.STRING,
            choices=tuple(
                Choice(spec.name, spec.name)
                for spec in (RESTPOT, NERNST, WHATIF, LABS, EXPLAIN, ASK, QUIZ, CHECK, PROGRESS, STATS, PRIVACY)
            ),
        ),
    ),
    examples=("/help", "/help command:nernst"),
)

COMMANDS: Final[Mapping[str, CommandSpec]] = MappingProxyType(
    {
        spec.name: spec
        for spec in (RESTPOT, NERNST, WHATIF, LABS, EXPLAIN, ASK, QUIZ, CHECK, PROGRESS, HELP, STATS, PRIVACY)
    }
)
"""Every top-level command, groups included (what Discord's tree holds)."""


def resolve(command: str) -> CommandSpec | None:
    """The declaration of ``command``: a top-level name or a qualified one (``stats show``)."""
    top, _, sub = command.partition(" ")
    spec = COMMANDS.get(top)
    if spec is None or not sub:
        return spec
    return spec.subcommand(sub)


def invocable() -> list[CommandSpec]:
    """Every command a user can actually run: plain commands and each group's subcommands."""
    return [sub for spec in COMMANDS.values() for sub in (spec.subcommands or (spec,))]


@dataclass(frozen=True, slots=True)
class Request:
    """A platform-neutral request: what was asked and by whom, never how it arrived.

    ``user`` and ``guild`` are opaque strings (the Discord adapter fills them; the
    terminal leaves them empty).
    """

    command: str
    options: Mapping[str, Any] = field(default_factory=dict)
    user: str | None = None
    guild: str | None = None
    locale: str = "en-US"
    # The student's practice record, loaded by the adapter for /quiz, /check and /progress so
    # that handlers stay pure. Not part of the request's identity (equality, hash, repr): the
    # answer cache keys on command and options, and never serves these commands anyway.
    history: StudentHistory | None = field(default=None, compare=False, hash=False, repr=False)


_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def coerce(option: OptionSpec, raw: str) -> Any:
    """Turn typed text into the option's value, with the same checks Discord applies."""
    text = raw.strip()
    if option.choices:
        for choice in option.choices:
            if text.casefold() in (choice.value.casefold(), choice.name.casefold()):
                return choice.value
        raise InputError(f"`{option.name}` must be {option.allowed()} (got `{shown(text)}`).", option=option.name)
    if option.type is OptionType.BOOLEAN:
        if text.casefold() in _TRUE | _FALSE:
            return text.casefold() in _TRUE
        raise InputError(f"`{option.name}` must be true or false (got `{shown(text)}`).", option=option.name)
    if option.type in (OptionType.NUMBER, OptionType.INTEGER):
        return _number(option, text)
    return check_text(option, text) if option.free_text else text


def check_text(option: OptionSpec, text: str) -> str:
    """Free text: not empty once spaces are stripped, and no longer than the option allows."""
    text = " ".join(text.split())
    if not text:
        raise InputError(f"`{option.name}` is empty: type {option.quantity}.", option=option.name)
    if option.max_length is not None and len(text) > option.max_length:
        raise InputError(
            f"`{option.name}` is {len(text):,} characters long; at most {option.max_length} fit. Shorten it.",
            option=option.name,
        )
    return text


def _number(option: OptionSpec, text: str) -> float | int:
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        raise InputError(
            f"`{option.name}` must be {option.allowed()} (got `{shown(text)}`).", option=option.name
        ) from None
    if option.type is OptionType.INTEGER:
        if not math.isfinite(value) or value != int(value):
            raise InputError(f"`{option.name}` must be {option.allowed()} (got `{shown(text)}`).", option=option.name)
        value = int(value)
    if option.bounds is not None:
        check_in_bounds(option.name, value, option.bounds, option.quantity)
    return value


def shown(text: str, limit: int = 40) -> str:
    """User text echoed back safely: short, one line, no backticks."""
    cleaned = " ".join(text.split()).replace("`", "'")
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


_QUOTES: Final = "'\""
_UNBALANCED: Final = "Unbalanced quotes: close the quote or leave it out."


def takes_the_rest(option: OptionSpec) -> bool:
    """Text the user writes in words (a question, a topic): in typed text its value runs to the
    next ``name:`` of one of the command's options, as Discord's client reads it, so an
    apostrophe or a lone quote in it is just a character."""
    return option.type is OptionType.STRING and not option.choices


def _word(text: str, start: int) -> tuple[str, int]:
    """One word of typed text from ``start`` and where it ends: a quote ('…' or "…") groups
    spaces into the word and is removed, as in a shell; there are no backslash escapes."""
    parts: list[str] = []
    at = start
    while at < len(text) and not text[at].isspace():
        if text[at] in _QUOTES:
            close = text.find(text[at], at + 1)
            if close < 0:
                raise InputError(_UNBALANCED)
            parts.append(text[at + 1 : close])
            at = close + 1
        else:
            parts.append(text[at])
            at += 1
    return "".join(parts), at


def _skip_spaces(text: str, at: int) -> int:
    while at < len(text) and text[at].isspace():
        at += 1
    return at


def _next_word(text: str, at: int) -> tuple[str, int] | None:
    """The word after any spaces from ``at`` and where it ends; None at the end of the text."""
    at = _skip_spaces(text, at)
    return _word(text, at) if at < len(text) else None


def _rest_of_text(text: str, start: int, spec: CommandSpec) -> tuple[str, int]:
    """A free-text value from ``start``: up to the next word that begins with the ``name:`` of
    one of ``spec``'s options (or the end), spaces trimmed, and one pair of quotes around the
    whole value removed (``question:"…"``)."""
    names = "|".join(re.escape(option.name) for option in spec.options)
    following = re.compile(rf"\s[{_QUOTES}]?(?:{names}):", re.IGNORECASE).search(text, start)
    end = following.start() if following else len(text)
    value = text[start:end].strip()
    if len(value) >= 2 and value[0] in _QUOTES and value[-1] == value[0]:
        value = value[1:-1]
    return value, end


def parse_invocation(text: str) -> Request:
    """Parse terminal text such as ``/nernst ion:K inside:140 outside:5``.

    Options are ``name:value`` words; a value with spaces may be quoted (``ion:"K⁺ (potassium)"``).
    A free-text value (``/ask question:what's the resting potential?``) needs no quotes: it
    runs to the next ``name:`` of a known option, as on Discord (:func:`takes_the_rest`).
    """
    head = _next_word(text, 0)
    if head is None:
        raise InputError("Type a command, e.g. /restpot or /nernst ion:K (or `help`).")
    typed, at = head
    name = typed.removeprefix("/").lower()
    spec = COMMANDS.get(name)
    if spec is None:
        known = ", ".join(f"/{command}" for command in COMMANDS)
        raise InputError(f"Unknown command `{shown(typed)}`: the commands are {known}.")
    if spec.is_group:  # the first word after a group's name is the subcommand
        spec, at = _subcommand(spec, text, at)
    raw_values: dict[str, str] = {}
    while (at := _skip_spaces(text, at)) < len(text):
        option, raw, at = _option_at(text, at, spec)
        if option.name in raw_values:
            raise InputError(f"`{option.name}` is given twice: give it once.", option=option.name)
        raw_values[option.name] = raw
    options: dict[str, Any] = {}
    for option_name, raw in raw_values.items():
        option = spec.option(option_name)
        assert option is not None
        options[option_name] = coerce(option, raw)
    return Request(spec.qualified_name, check_required(spec, options))


def _option_at(text: str, at: int, spec: CommandSpec) -> tuple[OptionSpec, str, int]:
    """The option whose ``name:value`` starts at ``at``, its raw value, and where it ends."""
    if text[at] in _QUOTES:  # the whole option quoted: "preset:skeletal-muscle"
        token, end = _word(text, at)
        key, separator, raw = token.partition(":")
        option = spec.option(key.lower()) if separator else None
    else:
        token = text[at:].split(maxsplit=1)[0]
        key, separator, _ = token.partition(":")
        option = spec.option(key.lower()) if separator else None
        if option is not None:
            start = at + len(key) + 1
            raw, end = _rest_of_text(text, start, spec) if takes_the_rest(option) else _word(text, start)
    if not separator:
        example = spec.examples[-1] if spec.examples else f"/{spec.qualified_name}"
        raise InputError(f"Write options as name:value, e.g. {example} (got `{shown(token)}`).")
    if option is None:
        names = ", ".join(o.name for o in spec.options)
        known = f"its options are {names}" if names else "it takes no options"
        raise InputError(f"Unknown option `{shown(key)}` for /{spec.qualified_name}: {known}.")
    return option, raw, end


def _subcommand(group: CommandSpec, text: str, at: int) -> tuple[CommandSpec, int]:
    """The subcommand a group's next word (from ``at``) names, and where that word ends."""
    names = ", ".join(sub.name for sub in group.subcommands)
    found = _next_word(text, at)
    if found is None or ":" in found[0]:
        raise InputError(f"/{group.name} needs a subcommand: {names} (e.g. {group.examples[0]}).")
    word, end = found
    sub = group.subcommand(word.lower())
    if sub is None:
        raise InputError(f"Unknown subcommand `{shown(word)}` for /{group.name}: its subcommands are {names}.")
    return sub, end


def check_required(spec: CommandSpec, options: dict[str, Any]) -> dict[str, Any]:
    for option in spec.options:
        if option.required and option.name not in options:
            raise InputError(f"/{spec.qualified_name} needs `{option.name}`: {option.allowed()}.", option=option.name)
    if spec.is_group:  # Discord cannot invoke a group itself
        names = ", ".join(sub.name for sub in spec.subcommands)
        raise InputError(f"/{spec.name} needs a subcommand: {names} (e.g. {spec.examples[0]}).")
    return options


SHARE_PREFIX: Final = "share"
_SHARE_SEPARATOR: Final = "|"
_OPTION_DIGITS: Final = "0123456789abcdefghijklmnopqrstuvwxyz"
"""One character per option position: enough for Discord's 25 options per command."""


def encode_request(request: Request) -> str:
    """A compact, stateless form of a request for a button's ``custom_id``.

    Options are written by their position in the declaration, choices by their index,
    so any worker can rebuild the request from the id alone (design.md: buttons are
    stateless). ``private`` is left out: sharing means showing it to everyone. Groups
    (/stats, /privacy) are not shareable: what they show is an instructor's or a user's own.
    """
    spec = COMMANDS.get(request.command)
    if spec is None or spec.is_group:
        raise ValueError(f"/{request.command} is not shareable: only plain top-level commands are")
    parts = [request.command]
    for index, option in enumerate(spec.options):
        value = request.options.get(option.name)
        if value is None or option.name == "private":
            continue
        if option.choices:
            value = next(i for i, choice in enumerate(option.choices) if choice.value == value)
        elif option.type is OptionType.BOOLEAN:
            value = int(value)
        text = repr(value) if isinstance(value, float) else quote(str(value), safe="")
        parts.append(_OPTION_DIGITS[index] + text)
    return _SHARE_SEPARATOR.join(parts)


def decode_request(encoded: str) -> Request:
    """The request :func:`encode_request` wrote; InputError if it was tampered with."""
    command, *parts = encoded.split(_SHARE_SEPARATOR)
    spec = COMMANDS.get(command)
    if spec is None or spec.is_group:  # groups (stats, privacy) are never shared
        raise InputError("This button no longer matches a command.")
    options: dict[str, Any] = {}
    for part in parts:
        try:
            option = spec.options[_OPTION_DIGITS.index(part[0])]
        except (ValueError, IndexError):
            raise InputError("This button's data is damaged.") from None
        raw = unquote(part[1:])
        if option.choices:
            if not raw.isdigit() or int(raw) >= len(option.choices):
                raise InputError("This button's data is damaged.")
            options[option.name] = option.choices[int(raw)].value
        elif option.type is OptionType.BOOLEAN:
            options[option.name] = raw == "1"
        else:
            options[option.name] = coerce(option, raw)
    return Request(spec.name, check_required(spec, options))
