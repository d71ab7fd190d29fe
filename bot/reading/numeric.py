"""Calculation requests in a student's own words, read into the requests the slash commands make.

"What's E_Na if it's 12 inside and 145 outside?" becomes ``/nernst ion:Na inside:12 outside:145``;
"pt's K came back 6.8, what does that do to the RMP?" becomes ``/restpot k_out:6.8``; "with the
pump blocked" becomes ``/whatif scenario:pump-block``. The reader is a tokenizer of regular
expressions and a few rules over its tokens — never an evaluator: no text a student typed reaches
``eval``, sympy or Pint's parser (units go through :mod:`bot.reading.units`' fixed spelling table).

Every choice the text does not settle is written down as one line in ``assumptions`` (which side
the larger number is on, which temperature "room temperature" is, which cell's numbers fill the
gaps), so a number never stands for a different quantity without saying so. What the engine cannot
compute (osmolarity, a dose, a concentration from a potential …) or where a number the equation
needs is missing, ``declined`` says why instead of computing something else.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from bot.commands import COMMANDS, Request
from bot.physiology import DEFAULT_PRESET, IONS, PRESETS, InputError, nernst, resting_potential, what_if
from bot.physiology.formatting import format_number
from bot.physiology.validation import check_in_bounds
from bot.reading.units import concentration_mm, temperature_c

__all__ = ["NumericReading", "command_line", "follow_up", "read_numeric"]


@dataclass(frozen=True)
class NumericReading:
    """What a calculation request in free text was read as.

    ``request`` is the platform-neutral request a slash command makes (None when declined);
    ``assumptions`` are the one-line choices the text left open; ``declined`` says why nothing was
    computed; ``reused`` names what a follow-up took from the previous request."""

    request: Request | None
    assumptions: tuple[str, ...]
    declined: str | None
    reused: tuple[str, ...] = ()


# --- normalising: one spelling for the many a student (or a phone keyboard) uses --------------

_TRANSLATE: Final = str.maketrans(
    {
        "⁺": "+",
        "⁻": "-",
        "−": "-",
        "–": "-",
        "—": " ",
        "²": "2",
        "³": "3",
        "¹": "1",
        "⁰": "0",
        "⁴": "4",
        "⁵": "5",
        "⁶": "6",
        "⁷": "7",
        "⁸": "8",
        "⁹": "9",
        "µ": "u",
        "μ": "u",
        "º": "°",
        "’": "'",
        "×": "x",
        "*": " ",
        "`": " ",
        "~": " ",
        "|": " ",
        "#": " ",
        "\\": " ",
    }
)
_MENTION: Final = re.compile(r"<[@#][!&]?\d+>|@(?:everyone|here)\b")
_ARROW: Final = re.compile(r"-+>|→|=>")
_DECIMAL_COMMA: Final = re.compile(r"(?<![\d,])(\d{1,3}),(\d{1,3})(?=\s*(?:°|mm|mmol|meq|mv|cm|um|nm|:)|(?=\b0,))")
_LEADING_ZERO_COMMA: Final = re.compile(r"(?<![\d.,])0,(\d+)")

MAX_TEXT: Final = 2000
"""Characters read: a question, not an essay (the /ask option allows 300; chat up to 2,000)."""


def _normalise(text: str) -> str:
    text = _MENTION.sub(" ", text[:MAX_TEXT])
    text = text.replace("℃", "°c").replace("℉", "°f")
    text = _ARROW.sub(" to ", text.translate(_TRANSLATE).lower())
    text = text.replace("__", " ").replace(">", " ").replace("<", " ")
    text = _LEADING_ZERO_COMMA.sub(r"0.\1", text)
    text = _DECIMAL_COMMA.sub(r"\1.\2", text)
    return " ".join(text.split())


# --- the pieces of a question ----------------------------------------------------------------

_NUM: Final = r"[-+]?(?:\d+(?:\.\d+)?|\.\d+)(?:\s*(?:e|x\s*10\s*\^?|x10\^?|10\^)\s*[-+]?\s*\d+)?"
_CONC_UNIT: Final = (
    r"(?:mmol\s*/\s*l(?:iter|itre)?|mmol|millimolar|milli\s*molar|mm|meq\s*/\s*l|meq|mequiv\s*/\s*l|"
    r"umol\s*/\s*l|um|micromolar|nmol\s*/\s*l|nm|nanomolar|mol\s*/\s*l|molar|m|mg\s*/\s*dl|mg\s*/\s*100\s*ml)"
    r"(?![a-z])"
)
_ION_WORD: Final = (
    r"potassium|potasium|pottasium|potassum|kalium|sodium|sodum|natrium|chloride|chlorine|chlorid|calcium|calcuim|"
    r"magnesium|k|na|cl|ca|mg"
)
_CHARGE: Final = r"(?:\s?(?:\+\+|2\+|\+2|\+|2-|-(?![a-z\d])))?"
_ION_KEYS: Final = {
    "k": "K",
    "potassium": "K",
    "potasium": "K",
    "pottasium": "K",
    "potassum": "K",
    "kalium": "K",
    "na": "Na",
    "sodium": "Na",
    "sodum": "Na",
    "natrium": "Na",
    "cl": "Cl",
    "chloride": "Cl",
    "chlorine": "Cl",
    "chlorid": "Cl",
    "ca": "Ca",
    "calcium": "Ca",
    "calcuim": "Ca",
    "mg": "Mg",
    "magnesium": "Mg",
}
_P: Final = rf"(?:p\s?_?\s?\(?\s?\[?(?P<{{n}}>potassium|sodium|chloride|k|na|cl)\]?{_CHARGE}\)?(?![a-z]))"


def _p(name: str) -> str:
    return _P.replace("{n}", name)


_TEMPERATURE: Final = re.compile(
    rf"(?<![\w.])(?P<value>{_NUM})\s*(?P<unit>°\s*[cfk]?"
    rf"|degrees?\s*(?:celsius|centigrade|fahrenheit|kelvin|[cfk](?![a-z]))?"
    r"|degs?\s*[cf]?(?![a-z])|celsius|centigrade|fahrenheit|kelvin|[cfk](?![a-z+\-\]]))"
)
_TEMPERATURE_WORD: Final = re.compile(
    rf"\b(?:temperature|temp|t)\s*(?:is|of|=|:|at|was|will be)?\s*(?P<value>{_NUM})(?!\s*(?:mm|meq|mv|%|x|times))"
)
_BODY: Final = re.compile(r"\b(?:body|physiological|normal body|core|human body|mammalian)\s*temp(?:erature)?s?\b")
_ROOM: Final = re.compile(r"\b(?:room|lab|ambient|bench)\s*temp(?:erature)?s?\b|\brt\b")
_POTENTIAL: Final = re.compile(rf"(?<![\w.])(?P<value>{_NUM})\s*(?:mv|millivolts?|volts?|v)(?![a-z])")
_PERCENT: Final = re.compile(rf"(?<![\w.])(?P<value>{_NUM})\s*(?:%|percent|per cent)")

_PERM_CHAIN: Final = re.compile(
    rf"{_p('a')}(?P<more>(?:\s*[:/]\s*{_P.replace('(?P<{n}>', '(?:')})+)\s*(?:="
    rf"|is|are|of|:|was|equals?|ratio|ratios)*\s*"
    rf"(?P<nums>{_NUM}(?:\s*[:/]\s*{_NUM})*)"
)
_PERM_WORD_CHAIN: Final = re.compile(
    rf"(?:permeabilit(?:y|ies)\s*(?:ratios?\s*)?(?:of|for"
    rf"|to)?\s*)?(?P<ions>(?:{_ION_WORD}){_CHARGE}(?:\s*[:/]\s*(?:{_ION_WORD}){_CHARGE})+)"
    rf"\s*(?:permeabilit(?:y|ies))?\s*(?:ratios?)?\s*(?:=|is|are|of|:|was)*\s*(?P<nums>{_NUM}(?:\s*[:/]\s*{_NUM})+)"
)
_PERM_RATIO_ONLY: Final = re.compile(
    rf"permeabilit(?:y|ies)\s*ratios?\s*(?:=|is|are|of|:|was)*\s*(?P<nums>{_NUM}(?:\s*:\s*{_NUM})+)"
)
_PERM_SINGLE: Final = re.compile(
    rf"{_p('a')}\s*(?:=|is|of|:|was|equals?)*\s*(?P<value>{_NUM})(?:\s*x?\s*{_p('b')})?"
    r"(?P<unit>\s*cm\s*/\s*s(?:ec)?|\s*cm\s*s\s*-1|\s*cm/s)?"
)
_PERM_NAMED: Final = re.compile(
    rf"(?:(?P<a>{_ION_WORD}){_CHARGE}\s+permeabilit(?:y|ies)"
    rf"|permeabilit(?:y|ies)\s+(?:to|for|of)\s+(?P<b>{_ION_WORD}){_CHARGE})"
    rf"\s*(?:=|is|of|:|was)*\s*(?P<value>{_NUM})(?P<unit>\s*cm\s*/\s*s(?:ec)?)?"
)
_PERM_FROMTO: Final = re.compile(
    rf"(?:p\s?_?\s?(?P<a>na|k|cl)\+?\s*[:/]\s*p\s?_?\s?(?P<b>na|k|cl)\+?"
    rf"|(?P<c>{_ION_WORD}){_CHARGE}\s*[:/]\s*(?P<d>{_ION_WORD}){_CHARGE}\s*permeabilit(?:y|ies)"
    rf"|(?P<e>{_ION_WORD}){_CHARGE}\s*permeabilit(?:y|ies))"
    rf"[^.?!\d]{{0,30}}?from\s+(?P<x>{_NUM})\s*(?:to)\s*(?P<y>{_NUM})"
)
_TIMES_MORE: Final = re.compile(
    rf"(?P<value>{_NUM})\s*(?:times|x|-?fold)\s*(?:more|greater|higher|bigger)\s*(?:permeable|permeability)?\s*"
    rf"(?:to|for)?\s*(?P<a>{_ION_WORD}){_CHARGE}\s*(?:than|vs|versus)\s*(?:to|for)?\s*(?P<b>{_ION_WORD}){_CHARGE}"
)

_CELL_WORDS: Final = (
    (re.compile(r"\bsquid\b"), "squid-giant-axon"),
    (re.compile(r"\bskeletal\s*muscle|\bmuscle\s*(?:fib(?:re|er)|cell)"), "skeletal-muscle"),
    (re.compile(r"\bcardiac|\bheart\s*(?:muscle|cell)|\bmyocyte|\bcardiomyocyte|\bventricular"), "cardiac-myocyte"),
    (re.compile(r"\bbear\b"), "bear-neuron"),
)
_TYPICAL_CELL: Final = re.compile(
    r"\b(?:typical|normal|resting|mammalian)\s+(?:neuron|nerve|cell)|\bneuron\b|\bnerve cell\b"
)

_PUMP_BLOCK: Final = re.compile(
    r"\b(?:ouabain|digoxin|digitalis|cardiac glycosides?)\b"
    r"|\bpumps?\s*(?:is|are|gets|get|was|were|being)?\s*(?:blocked"
    r"|inhibited|stopped|poisoned|knocked out|off|fails?|failed|"
    r"turned off|shut down|shuts down|stops|broken|not working|doesn'?t work|block(?:ed|ade|ing)?|inhibition|failure)"
    r"|\b(?:block|blocking|blocks|inhibit|inhibiting|inhibits|stop"
    r"|stopping|stops|poison|poisoning|kill|without|no|knock out)"
    r"\s+(?:of\s+)?(?:the\s+)?(?:na\+?\s*/?\s*-?\s*k\+?|sodium[- /]potassium|na-k|nak)?\s*(?:-?\s*atpase)?\s*pumps?\b"
)
_SCENARIO_WORDS: Final = (
    (re.compile(r"\bhyperkal(?:a)?emi[ac]"), "hyperkalemia"),
    (re.compile(r"\bhypokal(?:a)?emi[ac]"), "hypokalemia"),
    (re.compile(r"\bhyponat(?:r)?(?:a)?emi[ac]"), "hyponatremia"),
)
_WHAT_IF: Final = re.compile(
    r"\bwhat\s*(?:happens|happen|would happen|will happen|if|does|do"
    r"|would|'?s the effect|is the effect)|\beffect\b|\baffects?\b"
    r"|\bdo(?:es)? to\b|\bchange|\bhow (?:much|far|does|would|will)|\bnew\b|\bshift|\bmove|\bbecome|\bwhen\b|\bif\b"
)
_WHY: Final = re.compile(r"^\s*(?:why|explain|describe|what is meant|define|how come)\b")
_COMPUTE: Final = re.compile(
    r"\b(?:calc(?:s|ulat\w*)?\b|comput\w*|work(?:ing)? out|determine|find|estimate|solve|plug|"
    r"use (?:the )?(?:nernst|ghk|goldman)|"
    r"what(?:'s| is| would be| will be| are| r)|whats|wat|wats|value|how (?:much|negative|positive|big|large)|give me|"
    r"predict|get|gives?|equals?|=|\?)"
)

_NERNST_TARGET: Final = re.compile(
    rf"(?<![a-z])e\s?_?\s?\{{?\(?\s?\[?(?P<ion>{_ION_WORD})\]?{_CHARGE}\s?\)?\}}?(?![a-z])"
    rf"|(?P<word>equilibrium|reversal|nernst|nernstian)\s*(?:potential|voltage|value|equation|eq)?"
)
_VM_TARGET: Final = re.compile(
    r"\b(?:rmp|resting\s*(?:membrane\s*)?(?:potential|voltage)|resting\s*mp|membrane\s*(?:potential|voltage)|"
    r"transmembrane\s*(?:potential|voltage)|v\s?_?\s?(?:m|rest|r)|vrest|ghk|goldman|g\.h\.k)(?![a-z])"
)
_ONLY_PERMEABLE: Final = re.compile(
    rf"\bonly\s+(?:permeable\s+)?(?:to\s+)?(?P<a>{_ION_WORD})|\bpermeable\s+only\s+to\s+(?P<b>{_ION_WORD})"
    rf"|\b(?:selectively|exclusively)\s+permeable\s+to\s+(?P<c>{_ION_WORD})"
)
_NOT_COMPUTED: Final = (
    (re.compile(r"\bosmol\w*|\bosmotic|\btonicity|\bmosm"), "osmolarity"),
    (re.compile(r"\bconduction\s*velocit|\bvelocity|\bm/s\b|\bhow fast"), "conduction velocity"),
    (re.compile(r"\blength\s*constant|\bspace\s*constant|\blambda\b"), "the length constant"),
    (re.compile(r"\btime\s*constant|\btau\b"), "the membrane time constant"),
    (re.compile(r"\bcapacitance|\bfarad|\buf/cm"), "membrane capacitance"),
    (
        re.compile(
            r"\bdos(?:e|es|age|ing)\b|\bhow much (?:kcl|potassium chloride|insulin|calcium gluconate|saline|fluid|iv)"
            r"|\binfus|\bdrip\b|\bmg/kg|\bmeq to (?:give|replace)|\breplace(?:ment)?\b|\bml/h|\bbolus"
        ),
        "a dose",
    ),
    (re.compile(r"\banion gap"), "the anion gap"),
    (re.compile(r"\bdriving force|\belectrochemical driving|\bnet force"), "the driving force"),
    (re.compile(r"\bcurrent\b|\bamps?\b|\bna/cm|\bua\b|\bpa\b"), "a current"),
    (re.compile(r"\bconductance\b|\bsiemens|\bms/cm"), "a conductance"),
    (
        re.compile(
            r"\bhow many (?:ions|molecules|moles)|\bnumber of ions"
            r"|\bmoles? of\b|\bcoulombs?|\bcharge (?:moved|needed|separated)"
        ),
        "a number of ions or charge",
    ),
    (re.compile(r"\bfree energy|\bdelta\s*g\b|\bΔg|\bgibbs|\bkj/mol|\bj/mol"), "the free energy"),
    (re.compile(r"\bph\b"), "pH"),
    (re.compile(r"\bheart rate|\bqt\b|\bpr interval|\bbpm\b"), "an ECG measure"),
    (
        re.compile(r"\bthreshold|\bpeak (?:of the )?action potential|\bovershoot|\brefractory"),
        "an action-potential value",
    ),
    (re.compile(r"\bclearance|\bgfr\b|\bhalf-?life"), "a pharmacokinetic value"),
)
_ASKS_CONCENTRATION: Final = re.compile(
    rf"\b(?:what|which|find|calculate|how (?:high|low|much))\s+(?:is\s+|would\s+|must\s+|should\s+)?(?:the\s+)?"
    rf"(?:\[?(?:{_ION_WORD})\]?\s*(?:_?\s*[io](?![a-z])|concentration|level|inside|outside)|concentration|level)"
)

_SIDE_STRONG: Final = (
    r"(?P<in>(?:in\s+(?:the\s+)?)?(?:intra\s*-?\s*cellular(?:ly)?|icf|cytosol(?:ic)?|cytoplasm(?:ic)?|axoplasm(?:ic)?)"
    r"(?:\s*fluid)?|inside(?:\s+(?:of\s+)?the\s+(?:cell|neuron|axon|fib(?:re|er)))?|internal(?:ly)?|within the cell|"
    r"in the (?:cell|neuron|axon)|intracellular)"
    r"|(?P<out>(?:in\s+(?:the\s+)?)?(?:extra\s*-?\s*cellular(?:ly)?"
    r"|ecf|serum|plasma|blood|bath|interstitial(?:\s*fluid)?)"
    r"(?:\s*fluid)?|outside(?:\s+(?:of\s+)?the\s+(?:cell|neuron|axon|fib(?:re|er)))?|external(?:ly)?|out of the cell)"
)
_TOKEN: Final = re.compile(
    "|".join(
        (
            rf"(?P<fromto>\bfrom\s+(?P<f_a>{_NUM})\s*(?P<f_au>{_CONC_UNIT})?\s*(?:to|until|till|up to|down to)\s+"
            rf"(?P<f_b>{_NUM})\s*(?P<f_bu>{_CONC_UNIT})?)",
            rf"(?P<delta>\b(?P<d_dir>increase[sd]?|increasing|rais(?:e"
            rf"|es|ed|ing)|rise[sn]?|rising|rose|goes up|went up|go up|"
            rf"up|decrease[sd]?|decreasing|drops?|dropped|falls?|fell|fallen|goes down|went down|down|lower(?:ed|s)?|"
            rf"reduced?|reduces)\s+by\s+(?P<d_v>{_NUM})\s*(?P<d_u>%|percent|{_CONC_UNIT})?)",
            r"(?P<factor2>\b(?:doubles?|doubled|doubling|twice|two-?fold|2-?fold|2x|x2)(?![a-z\d]))",
            r"(?P<factor3>\b(?:triples?|tripled|tripling|three-?fold|3-?fold|3x|x3)(?![a-z\d]))",
            r"(?P<factor10>\b(?:ten-?fold|10-?fold|ten times|10 times|10x|x10)(?![a-z\d^]))",
            r"(?P<factorhalf>\b(?:halves|halved|halving|halve|half|cut in half)(?![a-z]))",
            rf"(?P<ionside>\[\s?(?P<is_ion>{_ION_WORD}){_CHARGE}\s?\]\s?_?\s?\(?(?P<is_side>inside"
            rf"|outside|in|out|int|ext|i|o|e)(?![a-z])\)?"
            r"|(?<![a-z])(?P<is_ion2>k|na|cl|ca|mg)(?:\+|2\+|-)?(?:_\s?"
            r"|\s?\(|)(?P<is_side2>inside|outside|in|out|i|o|e)\)?(?![a-z]))",
            rf"(?P<etarget>(?<![a-z])e\s?_?\s?\{{?\(?\s?\[?(?P<e_ion>{_ION_WORD})\]?{_CHARGE}\s?\)?\}}?(?![a-z]))",
            rf"(?P<perm>(?:\bp\s?_?\s?\(?(?P<p_ion>potassium|sodium|chloride|k|na|cl)\)?(?![a-z])|"
            rf"(?P<p_ion2>{_ION_WORD}){_CHARGE}\s+permeabilit(?:y|ies)"
            rf"|permeabilit(?:y|ies)\s+(?:to|for|of)\s+(?P<p_ion3>{_ION_WORD})))",
            rf"(?P<num>(?<![\w.])(?P<n_v>{_NUM})\s*(?P<n_u>{_CONC_UNIT})?(?![\w]))",
            rf"(?P<side>(?<![a-z])(?:{_SIDE_STRONG})(?![a-z]))",
            r"(?P<weak>(?<![a-z])(?P<w_in>in|i|int)(?![a-z])|(?<![a-z])(?P<w_out>out|o|ext)(?![a-z]))",
            rf"(?P<ion>(?<![a-z])\[?(?P<i_ion>{_ION_WORD})(?![a-z])(?!\s*/\s*d)(?P<i_charge>{_CHARGE})\]?)",
        )
    )
)
_WEAK_GAP: Final = re.compile(r"^[\s:=,()/&]*(?:is|are|=|:|of|was|and|mm)?[\s:=,()/&]*$")
_LAB: Final = re.compile(
    r"\b(?:labs?|came back|level|levels|serum|plasma|blood|result"
    r"|results|reading|pt|patient|client|chart|bmp|cmp|lytes|"
    r"electrolytes?)\b"
)


@dataclass
class _Token:
    kind: str
    start: int
    end: int
    ion: str | None = None
    side: str | None = None
    value: float | None = None
    before: float | None = None
    unit: str | None = None
    factor: float | None = None
    delta: float | None = None


@dataclass
class _Value:
    """One concentration read from the text, with where it sits and how it was written."""

    ion: str
    side: str | None
    value: float
    start: int
    before: float | None = None
    assumed_side: bool = False


@dataclass
class _Change:
    ion: str | None
    side: str | None
    factor: float | None = None
    delta: float | None = None
    permeability: bool = False
    start: int = 0


@dataclass
class _Parsed:
    text: str
    values: list[_Value] = field(default_factory=list)
    changes: list[_Change] = field(default_factory=list)
    permeabilities: dict[str, float] = field(default_factory=dict)
    permeability_notes: list[str] = field(default_factory=list)
    temperature: float | None = None
    temperature_note: str | None = None
    nernst_ions: list[str] = field(default_factory=list)
    nernst_word: bool = False
    vm_target: bool = False
    ions_mentioned: list[str] = field(default_factory=list)
    potentials: list[float] = field(default_factory=list)
    preset: str | None = None
    typical_cell: bool = False
    scenario: str | None = None
    not_computed: str | None = None
    only_permeable: str | None = None
    lab: bool = False
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    numbers_seen: int = 0
    unnamed: list[_Value] = field(default_factory=list)


def _number(text: str) -> float:
    """A number as written (``1.5 x 10-6``, ``5e-7``, ``10^-7``); inf for one too large."""
    compact = "".join(text.split())
    match = re.fullmatch(r"([-+]?(?:\d+(?:\.\d+)?|\.\d+))?(?:(?:e|x10\^?|10\^)([-+]?\d+))?", compact)
    if match is None:
        return math.nan
    mantissa, exponent = match.group(1), match.group(2)
    if mantissa is None:
        mantissa = "1"
    if exponent is None:
        return float(mantissa)
    if abs(int(exponent)) > 400:
        return math.inf if int(exponent) > 0 else 0.0
    try:
        return float(f"{mantissa}e{exponent}")
    except (OverflowError, ValueError):
        return math.inf


def _ion(word: str | None) -> str | None:
    return _ION_KEYS.get(word or "")


def _mask(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def _temperature(parsed: _Parsed, text: str) -> str:
    """Read and mask the temperature: a number with its unit, "temperature 20", body or room temperature."""
    for match in _TEMPERATURE.finditer(text):
        unit = "".join(match["unit"].split()).lower().removeprefix("degrees").removeprefix("degree")
        unit = unit.removeprefix("degs").removeprefix("deg").removeprefix("°") or "c"
        value = _number(match["value"])
        unit = {"celsius": "c", "centigrade": "c", "fahrenheit": "f", "kelvin": "k"}.get(unit, unit)
        if unit == "k" and not (value >= 200 or "kelvin" in match["unit"] or "°" in match["unit"]):
            continue  # "K 5" is potassium, "310 K" a temperature
        if unit == "f" and value < 32 and "°" not in match["unit"] and "fahr" not in match["unit"]:
            continue
        if parsed.temperature is None:
            try:
                parsed.temperature = temperature_c(value, {"c": "°C", "f": "°F", "k": "K"}[unit])
            except InputError as error:
                parsed.errors.append(str(error))
                parsed.temperature = math.nan
            if unit != "c" and math.isfinite(parsed.temperature):
                written = f"{format_number(value)} {'°F' if unit == 'f' else 'K'}"
                parsed.temperature_note = f"{written} is {format_number(parsed.temperature, 4)} °C"
        text = _mask(text, match.start(), match.end())
    for match in _TEMPERATURE_WORD.finditer(text):
        if parsed.temperature is None:
            parsed.temperature = _number(match["value"])
            parsed.temperature_note = f"{format_number(parsed.temperature)} read as °C"
        text = _mask(text, match.start(), match.end())
    if parsed.temperature is None and (room := _ROOM.search(text)):
        parsed.temperature = 20.0
        parsed.temperature_note = "room temperature taken as 20 °C"
        text = _mask(text, room.start(), room.end())
    if parsed.temperature is None and (body := _BODY.search(text)):
        parsed.temperature = 37.0
        parsed.temperature_note = "body temperature taken as 37 °C"
        text = _mask(text, body.start(), body.end())
    return text


def _set_permeability(parsed: _Parsed, ion: str | None, value: float) -> None:
    if ion in ("K", "Na", "Cl"):
        parsed.permeabilities[ion] = value


def _permeabilities(parsed: _Parsed, text: str) -> str:
    """Read and mask permeability ratios (``P_K:P_Na:P_Cl = 1:0.04:0.45``, ``P_Na/P_K 0.05``) and
    absolute permeabilities (``P_K = 5e-7 cm/s``), kept relative to P_K as the command takes them."""
    absolute = False
    for match in _PERM_CHAIN.finditer(text):
        names = [_ion(match["a"])] + [
            _ion(word) for word in re.findall(rf"p\s?_?\s?\(?\s?\[?({_ION_WORD.replace('|mg', '')})", match["more"])
        ]
        names = [_ion(n.lower()) if n and n.lower() in _ION_KEYS else n for n in names]
        numbers = [_number(n) for n in re.split(r"\s*[:/]\s*", match["nums"].strip())]
        if len(numbers) == len(names):
            for name, value in zip(names, numbers, strict=True):
                _set_permeability(parsed, name, value)
        elif len(names) == 2 and len(numbers) == 1:  # P_Na/P_K = 0.05
            base = parsed.permeabilities.get(names[1] or "", 1.0)
            _set_permeability(parsed, names[1], base)
            _set_permeability(parsed, names[0], numbers[0] * base)
        text = _mask(text, match.start(), match.end())
    for match in _PERM_WORD_CHAIN.finditer(text):
        if "permeab" not in match.group(0) and "permeab" not in text:
            continue
        names = [_ion(word) for word in re.findall(rf"({_ION_WORD})", match["ions"])]
        numbers = [_number(n) for n in re.split(r"\s*[:/]\s*", match["nums"].strip())]
        if len(numbers) == len(names):
            for name, value in zip(names, numbers, strict=True):
                _set_permeability(parsed, name, value)
            text = _mask(text, match.start(), match.end())
    for match in _PERM_RATIO_ONLY.finditer(text):
        numbers = [_number(n) for n in re.split(r"\s*:\s*", match["nums"].strip())]
        if 2 <= len(numbers) <= 3 and not parsed.permeabilities:
            for name, value in zip(("K", "Na", "Cl"), numbers, strict=False):
                _set_permeability(parsed, name, value)
            parsed.permeability_notes.append("the ratio read in the order P_K : P_Na : P_Cl")
            text = _mask(text, match.start(), match.end())
    for match in _PERM_FROMTO.finditer(text):
        first = _ion(match["a"] or match["c"] or match["e"])
        second = _ion(match["b"] or match["d"]) or ("K" if first != "K" else None)
        if first and second:
            parsed.permeabilities.setdefault(second, 1.0)
            _set_permeability(parsed, first, _number(match["y"]) * parsed.permeabilities[second])
            parsed.permeability_notes.append(
                f"P_{first}/P_{second} taken at its new value {match['y']} (it was {match['x']})"
            )
        text = _mask(text, match.start(), match.end())
    for match in _PERM_SINGLE.finditer(text):
        value = _number(match["value"])
        name = _ion(match["a"])
        if match["b"]:  # "P_Na = 0.04 P_K"
            other = _ion(match["b"])
            base = parsed.permeabilities.get(other or "", 1.0)
            _set_permeability(parsed, other, base)
            value *= base
        absolute = absolute or bool(match["unit"])
        _set_permeability(parsed, name, value)
        text = _mask(text, match.start(), match.end())
    for match in _PERM_NAMED.finditer(text):
        absolute = absolute or bool(match["unit"])
        _set_permeability(parsed, _ion(match["a"] or match["b"]), _number(match["value"]))
        text = _mask(text, match.start(), match.end())
    for match in _TIMES_MORE.finditer(text):
        more, less = _ion(match["a"]), _ion(match["b"])
        value = _number(match["value"])
        if more and less and value > 0:
            base = parsed.permeabilities.get(more, 1.0)
            _set_permeability(parsed, more, base)
            _set_permeability(parsed, less, base / value)
        text = _mask(text, match.start(), match.end())
    if absolute and parsed.permeabilities:
        reference = parsed.permeabilities.get("K") or max(parsed.permeabilities.values())
        if reference and math.isfinite(reference) and reference > 0:
            parsed.permeabilities = {key: value / reference for key, value in parsed.permeabilities.items()}
            parsed.permeability_notes.append(
                "permeabilities in cm/s taken relative to P_K (GHK depends only on the ratios)"
            )
    return text


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        start, end = match.start(), match.end()
        if match["fromto"]:
            tokens.append(
                _Token(
                    "num",
                    start,
                    end,
                    value=_number(match["f_b"]),
                    before=_number(match["f_a"]),
                    unit=match["f_bu"] or match["f_au"],
                )
            )
        elif match["delta"]:
            value = _number(match["d_v"])
            down = re.match(r"de|dro|fal|fel|goes down|went down|down|low|redu", match["d_dir"]) is not None
            if match["d_u"] and match["d_u"].startswith(("%", "per")):
                tokens.append(_Token("change", start, end, factor=1 + (-value if down else value) / 100))
            else:
                tokens.append(_Token("change", start, end, delta=-value if down else value, unit=match["d_u"]))
        elif match["factor2"]:
            tokens.append(_Token("change", start, end, factor=2.0))
        elif match["factor3"]:
            tokens.append(_Token("change", start, end, factor=3.0))
        elif match["factor10"]:
            tokens.append(_Token("change", start, end, factor=10.0))
        elif match["factorhalf"]:
            tokens.append(_Token("change", start, end, factor=0.5))
        elif match["ionside"]:
            ion = _ion(match["is_ion"] or match["is_ion2"])
            side = match["is_side"] or match["is_side2"]
            tokens.append(_Token("ion", start, start + 1, ion=ion))
            tokens.append(_Token("side", start + 1, end, side="in" if side in ("i", "in", "inside", "int") else "out"))
        elif match["etarget"]:
            tokens.append(_Token("etarget", start, end, ion=_ion(match["e_ion"])))
        elif match["perm"]:
            tokens.append(_Token("perm", start, end, ion=_ion(match["p_ion"] or match["p_ion2"] or match["p_ion3"])))
        elif match["num"]:
            tokens.append(_Token("num", start, end, value=_number(match["n_v"]), unit=match["n_u"]))
        elif match["side"]:
            tokens.append(_Token("side", start, end, side="in" if match["in"] else "out"))
        elif match["weak"]:
            tokens.append(_Token("weak", start, end, side="in" if match["w_in"] else "out"))
        elif match["ion"]:
            word = match["i_ion"]
            if word in ("i", "o"):
                continue
            tokens.append(_Token("ion", start, end, ion=_ion(word)))
        del kind
    return _strengthen_weak_sides(tokens, text)


def _strengthen_weak_sides(tokens: list[_Token], text: str) -> list[_Token]:
    """A bare "in"/"out" counts as a side only beside a number or another side ("12 in", "in: 12",
    "140/5 in/out"); elsewhere it is a preposition ("change in V_m", "in a neuron")."""
    kept: list[_Token] = []
    for index, token in enumerate(tokens):
        if token.kind != "weak":
            kept.append(token)
            continue
        neighbours = []
        if index > 0:
            neighbours.append((tokens[index - 1], text[tokens[index - 1].end : token.start]))
        if index + 1 < len(tokens):
            neighbours.append((tokens[index + 1], text[token.end : tokens[index + 1].start]))
        if any(other.kind in ("num", "side", "weak") and _WEAK_GAP.match(gap) for other, gap in neighbours):
            kept.append(_Token("side", token.start, token.end, side=token.side))
    return kept


def _pair_sides(tokens: list[_Token]) -> dict[int, str]:
    """Which side each number is on, by position among the sides and numbers: "inside 140 outside 5",
    "140 inside / 5 outside", "inside and outside are 140 and 5", "inside: K 140, Na 15; outside: …"."""
    items = [(i, t) for i, t in enumerate(tokens) if t.kind in ("num", "side")]
    sides: dict[int, str] = {}
    at = 0
    while at < len(items):
        index, token = items[at]
        kinds = [t.kind for _, t in items[at : at + 4]]
        if kinds == ["side", "side", "num", "num"] or kinds == ["num", "num", "side", "side"]:
            group = items[at : at + 4]
            numbers = [i for i, t in group if t.kind == "num"]
            named = [t.side for _, t in group if t.kind == "side"]
            if named[0] != named[1]:
                for number, side in zip(numbers, named, strict=True):
                    sides[number] = side  # type: ignore[assignment]
                at += 4
                continue
        if token.kind == "side":
            run = []
            look = at + 1
            while look < len(items) and items[look][1].kind == "num":
                run.append(items[look][0])
                look += 1
            ions = [_nearest_ion(tokens, i) for i in run]
            if len(run) >= 2 and len(set(ions)) == len(ions):  # a section: "inside: K 140, Na 15"
                for number in run:
                    sides[number] = token.side  # type: ignore[assignment]
                at = look
                continue
            if run:
                sides[run[0]] = token.side  # type: ignore[assignment]
                at += 2
                continue
            at += 1
            continue
        if at + 1 < len(items) and items[at + 1][1].kind == "side":
            sides[index] = items[at + 1][1].side  # type: ignore[assignment]
            at += 2
            continue
        at += 1
    return sides


def _nearest_ion(tokens: list[_Token], index: int) -> str | None:
    """The ion a number belongs to: the last ion named before it, else the first after it."""
    for token in reversed(tokens[:index]):
        if token.kind in ("ion", "etarget") and token.ion:
            return token.ion
    for token in tokens[index + 1 :]:
        if token.kind in ("ion", "etarget") and token.ion:
            return token.ion
    return None


def _change_target(tokens: list[_Token], index: int) -> tuple[str | None, str | None, bool]:
    """The ion, side and kind (permeability or concentration) a change word ("doubles") is about:
    the nearest ion or permeability within three tokens, and the nearest side."""
    window = [t for t in tokens[max(0, index - 4) : index + 4] if t is not tokens[index]]
    ordered = sorted(window, key=lambda t: abs(t.start - tokens[index].start))
    ion = next((t for t in ordered if t.kind in ("ion", "perm", "etarget") and t.ion), None)
    side = next((t.side for t in ordered if t.kind == "side"), None)
    if ion is None:
        return None, side, False
    return ion.ion, side, ion.kind == "perm"


def _parse(text: str) -> _Parsed:
    clean = _normalise(text)
    parsed = _Parsed(clean)
    for pattern, quantity in _NOT_COMPUTED:
        if pattern.search(clean):
            parsed.not_computed = quantity
            break
    for pattern, key in _CELL_WORDS:
        if pattern.search(clean):
            parsed.preset = key
            break
    parsed.typical_cell = bool(_TYPICAL_CELL.search(clean))
    if _PUMP_BLOCK.search(clean):
        parsed.scenario = "pump-block"
    else:
        parsed.scenario = next((key for pattern, key in _SCENARIO_WORDS if pattern.search(clean)), None)
    parsed.lab = bool(_LAB.search(clean))
    if only := _ONLY_PERMEABLE.search(clean):
        parsed.only_permeable = _ion(only["a"] or only["b"] or only["c"])
    rest = _temperature(parsed, clean)
    for match in _POTENTIAL.finditer(rest):
        parsed.potentials.append(_number(match["value"]))
        rest = _mask(rest, match.start(), match.end())
    rest = _permeabilities(parsed, rest)
    for match in _PERCENT.finditer(rest):
        if not re.search(r"\b(?:by|increase|decrease|rise|drop|fall|up|down)\w*\s*$", rest[: match.start()]):
            rest = _mask(rest, match.start(), match.end())
    for match in _VM_TARGET.finditer(rest):
        parsed.vm_target = True
        rest = _mask(rest, match.start(), match.end())
    parsed.nernst_word = re.search(r"\b(?:equilibrium|reversal|nernst|nernstian)\b", rest) is not None
    tokens = _tokens(rest)
    for token in tokens:
        if token.kind == "etarget" and token.ion and token.ion not in parsed.nernst_ions:
            parsed.nernst_ions.append(token.ion)
        if token.kind in ("ion", "etarget", "perm") and token.ion and token.ion not in parsed.ions_mentioned:
            parsed.ions_mentioned.append(token.ion)
    sides = _pair_sides(tokens)
    for index, token in enumerate(tokens):
        if token.kind == "num":
            parsed.numbers_seen += 1
            ion = _nearest_ion(tokens, index)
            if token.value is None:
                continue
            if ion is None:  # "and inside 140?": the follow-up's ion is the previous one
                parsed.unnamed.append(_Value("", sides.get(index), token.value, token.start))
                continue
            try:
                value = _concentration(token.value, token.unit, ion, parsed)
                before = _concentration(token.before, token.unit, ion, parsed) if token.before is not None else None
            except InputError as error:
                parsed.errors.append(str(error))
                continue
            parsed.values.append(_Value(ion, sides.get(index), value, token.start, before))
        elif token.kind == "change":
            ion, side, permeability = _change_target(tokens, index)
            parsed.changes.append(_Change(ion, side, token.factor, token.delta, permeability, token.start))
    return parsed


def _concentration(value: float, unit: str | None, ion: str, parsed: _Parsed) -> float:
    if unit is None or unit.strip() in ("", "mm", "millimolar"):
        if ion == "Ca" and 5 < value <= 20 and parsed.lab:
            parsed.notes.append(f"calcium {format_number(value)} read as mg/dL, as labs report it")
            return concentration_mm(value, "mg/dL", ion)
        return value
    spelled = "".join(unit.split())
    spelled = {"m": "M", "mm": "mM", "um": "uM", "nm": "nM", "molar": "M"}.get(spelled, spelled)
    converted = concentration_mm(value, spelled, ion)
    if spelled not in ("mM", "mmol/l", "mmol", "mmol/liter", "mmol/litre"):
        symbol = IONS[ion].symbol
        shown = {"uM": "µM", "meq/l": "mEq/L", "meq": "mEq/L", "mg/dl": "mg/dL"}.get(spelled, spelled)
        parsed.notes.append(f"{symbol} {format_number(value)} {shown} is {format_number(converted, 4)} mM")
    return converted


# --- from the pieces to a request -----------------------------------------------------------

_CONVENTION: Final = {"K": "in", "Na": "out", "Cl": "out", "Ca": "out", "Mg": "out"}
"""Where the larger concentration of each ion is in every cell the notes describe."""
_PREFIX: Final = {"K": "k", "Na": "na", "Cl": "cl"}
_SIDE_WORD: Final = {"in": "inside", "out": "outside"}


def _symbol(ion: str) -> str:
    return IONS[ion].symbol


def _sides_of(
    parsed: _Parsed, ion: str, assumptions: list[str]
) -> tuple[dict[str, float], dict[str, float], str | None]:
    """The inside and outside values given for ``ion`` (and values before a change), or why they
    cannot be read: more than two numbers, two on the same side."""
    values = [v for v in parsed.values if v.ion == ion]
    placed: dict[str, float] = {}
    before: dict[str, float] = {}
    loose: list[_Value] = []
    for value in values:
        if value.side is None:
            loose.append(value)
        elif value.side in placed:
            if placed[value.side] != value.value:
                return {}, {}, f"two values for [{_symbol(ion)}] {_SIDE_WORD[value.side]}: say which one to use"
        else:
            placed[value.side] = value.value
            if value.before is not None:
                before[value.side] = value.before
    if len(loose) == 1 and len(placed) == 1:
        other = "out" if "in" in placed else "in"
        placed[other] = loose[0].value
        if loose[0].before is not None:
            before[other] = loose[0].before
    elif len(loose) == 2 and not placed:
        big, small = sorted(loose, key=lambda v: v.value, reverse=True)
        side = _CONVENTION[ion]
        other = "out" if side == "in" else "in"
        placed[side], placed[other] = big.value, small.value
        if big.value != small.value:
            assumptions.append(
                f"assumed the larger [{_symbol(ion)}] ({format_number(big.value)} mM) is {_SIDE_WORD[side]} and "
                f"{format_number(small.value)} mM {_SIDE_WORD[other]}, as in every cell; say inside/outside if not"
            )
    elif len(loose) == 1 and not placed:
        value = loose[0]
        placed["out"] = value.value
        if value.before is not None:
            before["out"] = value.before
        where = "the serum (extracellular) value" if parsed.lab else "the extracellular value"
        assumptions.append(f"[{_symbol(ion)}] {format_number(value.value)} mM taken as {where}")
    elif len(loose) + len(placed) > 2:
        return {}, {}, f"more than two values for [{_symbol(ion)}]: say which is inside and which outside"
    return placed, before, None


def _apply_changes(
    parsed: _Parsed, given: dict[str, dict[str, float]], base_of: Any, assumptions: list[str], default_ion: str | None
) -> dict[str, float]:
    """Concentration changes ("if extracellular K doubles", "increases by 3 mM") applied to the given
    value or, where none was given, to ``base_of(ion, side)``; permeability changes returned apart."""
    permeability_factors: dict[str, float] = {}
    for change in parsed.changes:
        ion = change.ion or default_ion
        if ion is None:
            continue
        if change.permeability:
            if change.factor is not None:
                permeability_factors[ion] = change.factor
            continue
        side = change.side
        if side is None:
            side = "out"
            assumptions.append(f"the change read as one in [{_symbol(ion)}] outside (the extracellular fluid)")
        sides = given.setdefault(ion, {})
        base = sides.get(side)
        source = "given"
        if base is None:
            base, source = base_of(ion, side)
            if base is None:
                continue
        new = base * change.factor if change.factor is not None else base + (change.delta or 0.0)
        sides[side] = new
        how = f"× {format_number(change.factor)}" if change.factor is not None else f"{change.delta:+g} mM"
        origin = "" if source == "given" else f" ({source})"
        assumptions.append(
            f"[{_symbol(ion)}] {_SIDE_WORD[side]} {format_number(base)} mM{origin} {how} = {format_number(new, 4)} mM"
        )
    return permeability_factors


def _preset_value(preset_key: str | None, ion: str) -> Any:
    def base_of(ion_key: str, side: str) -> tuple[float | None, str]:
        preset = PRESETS[preset_key or DEFAULT_PRESET]
        values = preset.concentration(ion_key)
        if values is None:
            return None, ""
        return (values.inside if side == "in" else values.outside), f"the {preset.name}'s, {preset.citation}"

    del ion
    return base_of


def _cell_line(preset_key: str | None, what: str) -> str:
    preset = PRESETS[preset_key or DEFAULT_PRESET]
    return f"{what} from the {preset.name} ({preset.citation})"


def _temperature_lines(parsed: _Parsed, preset_key: str | None, assumptions: list[str]) -> None:
    if parsed.temperature_note:
        assumptions.append(parsed.temperature_note)
    elif parsed.temperature is None:
        preset = PRESETS[preset_key or DEFAULT_PRESET]
        reason = "body temperature" if preset.temperature_c == 37 else "the preset's"
        assumptions.append(f"{format_number(preset.temperature_c)} °C ({reason}; no temperature was given)")


def _declined(reason: str, assumptions: list[str] | tuple[str, ...] = ()) -> NumericReading:
    return NumericReading(None, tuple(assumptions), reason)


def _check(request: Request, assumptions: list[str], reused: tuple[str, ...] = ()) -> NumericReading:
    """The reading, once the engine has accepted its numbers: a value out of range, or a number the
    chosen cell lacks, is declined with the engine's own message."""
    spec = COMMANDS[request.command]
    try:
        for name, value in request.options.items():
            option = spec.option(name)
            if option is not None and option.bounds is not None and isinstance(value, float | int):
                check_in_bounds(name, float(value), option.bounds, option.quantity)
        options = dict(request.options)
        if request.command == "nernst":
            nernst(options.pop("ion"), **options)
        elif request.command == "restpot":
            resting_potential(**options)
        else:
            what_if(options["scenario"], preset=options.get("preset"))
    except InputError as error:
        return NumericReading(None, tuple(assumptions), str(error), reused)
    return NumericReading(request, tuple(_unique(assumptions)), None, reused)


def _unique(lines: list[str]) -> list[str]:
    seen: list[str] = []
    for line in lines:
        if line not in seen:
            seen.append(line)
    return seen


_CONCEPT: Final = re.compile(
    r"\b(?:why|how come|explain|mean|means|meaning|how do(?:es)? (?:i|you|we|it|that|this)|how to|is it because|"
    r"because|is this|is that|vs|versus|compare|difference|always|right away|slowly|instead)\b"
)
_EXPLICIT: Final = re.compile(
    r"\b(?:calc(?:s|ulat\w*)?\b|comput\w*|work(?:ing)? out|solve|determine|estimate|"
    r"find (?:the )?(?:e|v|rmp|resting|new)|"
    r"value of|number for|what(?:'s| is| would be| will be| does| happens)|whats|wat|predict|new (?:rmp|vm|v_m|e))"
)
_TWO_TEMPERATURES: Final = re.compile(r"(?:room|body|\d\s*°?\s*c\b).*(?:room|body|\d\s*°?\s*c\b)")


def _is_calculation(parsed: _Parsed) -> bool:
    """Whether the question asks for a number at all (else the notes answer it): a concept question
    ("why do we divide by 2 for calcium?") that happens to hold a number is not a calculation."""
    text = parsed.text
    numbers = bool(parsed.values or parsed.permeabilities or parsed.potentials)
    target = bool(parsed.nernst_ions or parsed.nernst_word or parsed.vm_target)
    explicit = _EXPLICIT.search(text) is not None
    computes = re.search(r"\b(?:calc(?:s|ulat\w*)?\b|comput\w*|work(?:ing)? out|solve|plug in)", text) is not None
    if _CONCEPT.search(text) and not computes and not (numbers and explicit and target):
        return False
    if parsed.not_computed:
        asks = explicit or re.search(r"\bhow (?:much|many|fast|long)\b", text) is not None
        return computes or ((numbers or parsed.numbers_seen > 0) and asks)
    if numbers and (target or parsed.changes or parsed.scenario or computes):
        return True
    if target and parsed.changes:
        return True
    if target and parsed.temperature is not None and explicit:
        return not _TWO_TEMPERATURES.search(text)
    if target and computes:
        return True
    return bool(parsed.scenario and parsed.vm_target and (explicit or _WHAT_IF.search(text)))


def read_numeric(text: str) -> NumericReading | None:
    """The calculation ``text`` asks for, as a /nernst, /restpot or /whatif request; None when it
    is not a calculation request at all (the notes answer it)."""
    if not isinstance(text, str) or not re.search(
        r"\d|doubl|half|halve|tripl|fold|pump|ouabain|digoxin|calc|comput|e_?(?:k|na|cl|ca|mg)|temp|kal|natr|equilib|"
        r"revers|nernst|potential|rmp|v_?m\b",
        text,
        re.I,
    ):
        return None
    parsed = _parse(text)
    if not _is_calculation(parsed):
        return None
    return _build(parsed)


def _build(parsed: _Parsed, assumptions: list[str] | None = None) -> NumericReading:
    assumptions = list(assumptions or [])
    if parsed.not_computed:
        return _declined(
            f"{parsed.not_computed} is not something the engine computes: it computes equilibrium potentials "
            "(/nernst), resting potentials (/restpot) and named scenarios (/whatif)"
        )
    if parsed.errors:
        return _declined(parsed.errors[0])
    if parsed.temperature is not None and not math.isfinite(parsed.temperature):
        return _declined("The temperature must be a finite number of °C, K or °F.")
    only_potentials = parsed.potentials and not parsed.values and not parsed.scenario and not parsed.changes
    if only_potentials:
        return _declined(
            "the engine computes potentials from concentrations, not a concentration or anything else from a "
            "given potential: give the concentrations to /nernst or /restpot"
        )
    if parsed.scenario == "pump-block":
        return _whatif("pump-block", parsed, assumptions)
    many_ions = len({v.ion for v in parsed.values if v.ion in _PREFIX}) > 1
    nernst_ion = parsed.nernst_ions[0] if parsed.nernst_ions else parsed.only_permeable
    if nernst_ion is None and parsed.nernst_word and not parsed.vm_target:
        with_values = list(dict.fromkeys(v.ion for v in parsed.values))
        nernst_ion = with_values[0] if with_values else (parsed.ions_mentioned[0] if parsed.ions_mentioned else None)
        if nernst_ion is None:
            return _declined(
                "a needed number is missing: which ion (K⁺, Na⁺, Cl⁻, Ca²⁺ or Mg²⁺) and its concentrations"
            )
    if parsed.vm_target and parsed.nernst_ions and not parsed.only_permeable and parsed.nernst_ions[0] in _PREFIX:
        nernst_ion = None  # "V_m and E_K with …": the resting potential, which lists each E too
    if nernst_ion is not None and (not parsed.vm_target or parsed.only_permeable):
        return _nernst(nernst_ion, parsed, assumptions)
    if parsed.scenario and not parsed.values and not parsed.changes:
        return _whatif(parsed.scenario, parsed, assumptions)
    if (
        not parsed.values
        and not parsed.permeabilities
        and [(c.ion, c.factor, c.permeability) for c in parsed.changes] == [("Na", 10.0, True)]
    ):
        return _whatif("na-permeability-up", parsed, assumptions)
    if (
        not parsed.vm_target
        and not parsed.permeabilities
        and not many_ions
        and len({v.ion for v in parsed.values}) == 1
        and not parsed.changes
        and not parsed.scenario
    ):
        return _nernst(parsed.values[0].ion, parsed, assumptions)
    return _restpot(parsed, assumptions)


def _whatif(scenario: str, parsed: _Parsed, assumptions: list[str]) -> NumericReading:
    options: dict[str, Any] = {"scenario": scenario}
    if parsed.preset:
        options["preset"] = parsed.preset
    if parsed.values or parsed.permeabilities:
        assumptions.append(
            f"the {scenario} scenario uses the cell's own numbers: the ones in the question are not used "
            "(give them to /restpot to compute with them)"
        )
    preset = PRESETS[parsed.preset or DEFAULT_PRESET]
    assumptions.append(f"the {preset.name}'s numbers ({preset.citation})")
    return _check(Request("whatif", options), assumptions)


def _nernst(ion: str, parsed: _Parsed, assumptions: list[str]) -> NumericReading:
    if len(parsed.nernst_ions) > 1:
        assumptions.append(
            f"computed E for {_symbol(ion)}; ask again for {', '.join(map(_symbol, parsed.nernst_ions[1:]))}"
        )
    placed, before, problem = _sides_of(parsed, ion, assumptions)
    if problem:
        return _declined(problem, assumptions)
    given = {ion: dict(placed)}
    _apply_changes(parsed, given, _preset_value(parsed.preset, ion), assumptions, ion)
    placed = given[ion]
    options: dict[str, Any] = {"ion": ion}
    symbol = _symbol(ion)
    cell_named = bool(parsed.preset or parsed.typical_cell or parsed.changes)
    if len(placed) == 1 and not cell_named:
        missing = "inside" if "out" in placed else "outside"
        known = "outside" if missing == "inside" else "inside"
        example = f"/nernst ion:{ion} {known}:{format_number(next(iter(placed.values())))}"
        return _declined(
            f"a needed number is missing: [{symbol}] {missing}. Give both sides, or run `{example}` to use a "
            "typical cell's value for the other",
            assumptions,
        )
    if not placed and not cell_named and not (parsed.temperature is not None or _COMPUTE.search(parsed.text)):
        return _declined(f"a needed number is missing: [{symbol}] inside and outside", assumptions)
    for side, value in placed.items():
        options[_SIDE_WORD[side]] = value
    if parsed.preset:
        options["preset"] = parsed.preset
    if parsed.temperature is not None:
        options["temperature"] = parsed.temperature
    if len(placed) < 2:
        lacking = [s for s in ("in", "out") if s not in placed]
        preset_key = parsed.preset or DEFAULT_PRESET
        if parsed.preset is None and PRESETS[DEFAULT_PRESET].concentration(ion) is None:
            preset_key = next((k for k, p in PRESETS.items() if p.mammalian and p.concentration(ion)), None)
        if preset_key is None or PRESETS[preset_key].concentration(ion) is None:
            need = " and ".join(_SIDE_WORD[s] for s in lacking)
            return _declined(
                f"a needed number is missing: [{symbol}] {need} (no cell in my presets lists {symbol})", assumptions
            )
        values = PRESETS[preset_key].concentration(ion)
        shown = " / ".join(
            f"{format_number(values.inside if s == 'in' else values.outside)} mM {_SIDE_WORD[s]}"
            for s in lacking  # type: ignore[union-attr]
        )
        assumptions.append(_cell_line(preset_key, f"[{symbol}] {shown}"))
        if "preset" not in options and preset_key != DEFAULT_PRESET:
            options["preset"] = preset_key
    _temperature_lines(parsed, options.get("preset"), assumptions)
    if before and (old := before.get("out") or before.get("in")) is not None:
        side = "out" if "out" in before else "in"
        old_options = {k: v for k, v in options.items() if k != "ion"}
        old_options[_SIDE_WORD[side]] = old
        try:
            was = nernst(ion, **old_options).ion.equilibrium_mv
            was_text = format_number(round(was, 1)).replace("-", "−")
            assumptions.append(f"computed at the new value; at {format_number(old)} mM it was {was_text} mV")
        except InputError:
            pass
    assumptions.extend(parsed.notes)
    return _check(Request("nernst", _ordered("nernst", options)), assumptions)


def _ordered(command: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Options in the declaration's order, as the command line shows them."""
    spec = COMMANDS[command]
    return {option.name: options[option.name] for option in spec.options if option.name in options}


def _restpot(parsed: _Parsed, assumptions: list[str]) -> NumericReading:
    preset_key = parsed.preset
    preset = PRESETS[preset_key or DEFAULT_PRESET]
    options: dict[str, Any] = {}
    given: dict[str, dict[str, float]] = {}
    befores: dict[str, dict[str, float]] = {}
    for ion in dict.fromkeys(v.ion for v in parsed.values):
        if ion not in _PREFIX:
            assumptions.append(
                f"{_symbol(ion)} is not in the GHK voltage equation here (K⁺, Na⁺, Cl⁻), so its value is not used"
            )
            continue
        placed, before, problem = _sides_of(parsed, ion, assumptions)
        if problem:
            return _declined(problem, assumptions)
        given[ion] = placed
        befores[ion] = before
    factors = _apply_changes(parsed, given, _preset_value(preset_key, "K"), assumptions, "K")
    for ion, sides in given.items():
        for side, value in sides.items():
            options[f"{_PREFIX[ion]}_{side}"] = value
    for ion, value in parsed.permeabilities.items():
        options[f"p_{_PREFIX[ion]}"] = value
    for ion, factor in factors.items():
        name = f"p_{_PREFIX[ion]}"
        base = options.get(name, preset.permeabilities.get(ion, 0.0))
        options[name] = base * factor
        assumptions.append(
            f"P_{ion} {format_number(base, 4)} × {format_number(factor)} = "
            f"{format_number(base * factor, 4)} (relative to P_K)"
        )
    assumptions.extend(parsed.permeability_notes)
    filled = [
        f"[{_symbol(ion)}] {format_number(c.inside if side == 'in' else c.outside)} mM {_SIDE_WORD[side]}"
        for ion, c in preset.concentrations.items()
        if ion in _PREFIX and (preset.permeabilities.get(ion, 0.0) > 0 or f"p_{_PREFIX[ion]}" in options)
        for side in ("in", "out")
        if f"{_PREFIX[ion]}_{side}" not in options
    ]
    if filled:
        assumptions.append(_cell_line(preset_key, ", ".join(filled)))
    if not parsed.permeabilities and not factors:
        ratio = " : ".join(format_number(preset.permeabilities.get(i, 0.0), 3) for i in ("K", "Na", "Cl"))
        assumptions.append(_cell_line(preset_key, f"P_K : P_Na : P_Cl = {ratio}"))
    elif "Cl" in given and "p_cl" not in options and not preset.permeabilities.get("Cl"):
        assumptions.append("P_Cl = 0 (the cell's), so the Cl⁻ values do not change V_m: give P_Cl to count them")
    if preset_key:
        options["preset"] = preset_key
    if parsed.temperature is not None:
        options["temperature"] = parsed.temperature
    _temperature_lines(parsed, preset_key, assumptions)
    old = {f"{_PREFIX[ion]}_{side}": value for ion, sides in befores.items() for side, value in sides.items()}
    if old:
        old_options = {**options, **old}
        try:
            was = resting_potential(**old_options).vm_mv
            assumptions.append(
                f"computed at the new value; before the change V_m was {format_number(round(was, 1))} mV".replace(
                    "-", "−"
                )
            )
        except InputError:
            pass
    assumptions.extend(parsed.notes)
    return _check(Request("restpot", _ordered("restpot", options)), assumptions)


# --- follow-ups -------------------------------------------------------------------------------

_FOLLOW_ION: Final = re.compile(
    rf"^\s*(?:and|what about|how about|now|ok|okay|same|same for"
    rf"|for|also)?\s*(?:and\s+)?(?:for|with|about|of)?\s*(?:the\s+)?"
    rf"\[?(?P<ion>{_ION_WORD})\]?{_CHARGE}\s*(?:ions?)?\s*\??\s*$"
)


def follow_up(text: str, previous: Request) -> NumericReading | None:
    """A follow-up ("and for sodium?", "now at 20 °C", "what if outside K doubles?", "and inside
    140?") read against the previous calculation: what the text does not change is reused, and
    ``reused`` says what. None when the text is no calculation follow-up ("why?")."""
    if not isinstance(text, str) or previous.command not in ("nernst", "restpot", "whatif"):
        return None
    parsed = _parse(text)
    own = read_numeric(text)
    if own is not None and (own.declined or _complete(parsed)):
        return own
    previous_options = {k: v for k, v in previous.options.items() if k not in ("detail", "private")}
    lone_ion = _FOLLOW_ION.match(parsed.text)
    switched = _ion(lone_ion["ion"]) if lone_ion else None
    if switched is None and parsed.nernst_ions:
        switched = parsed.nernst_ions[0]
    anything = (
        switched
        or parsed.values
        or any(value.side for value in parsed.unnamed)
        or parsed.changes
        or parsed.temperature is not None
        or parsed.permeabilities
        or parsed.preset
        or parsed.scenario
    )
    if not anything:
        return None
    if parsed.scenario == "pump-block" or (parsed.scenario and not parsed.values):
        options = {"scenario": parsed.scenario}
        preset = parsed.preset or previous_options.get("preset")
        reused = ()
        if preset:
            options["preset"] = preset
            reused = (f"preset {preset}",)
        return _check(Request("whatif", options), [], reused)
    if previous.command == "whatif":
        previous_options = {k: v for k, v in previous_options.items() if k == "preset"}
        command = "restpot"
    else:
        command = previous.command
    if switched and command == "restpot" and not parsed.vm_target and (lone_ion or parsed.nernst_ions):
        command = "nernst"  # "and for sodium?" after a resting potential: E_Na from the same numbers
        prefix = _PREFIX.get(switched)
        carried = {"preset", "temperature"}
        options = {k: v for k, v in previous_options.items() if k in carried}
        if prefix:
            for side, word in (("in", "inside"), ("out", "outside")):
                if f"{prefix}_{side}" in previous_options:
                    options[word] = previous_options[f"{prefix}_{side}"]
        options["ion"] = switched
        return _follow(parsed, previous_options, options, "nernst", switched)
    if command == "nernst":
        ion = switched or str(previous_options.get("ion"))
        if switched and switched != previous_options.get("ion"):
            options = {k: v for k, v in previous_options.items() if k in ("preset", "temperature")}
        else:
            options = dict(previous_options)
        options["ion"] = ion
        return _follow(parsed, previous_options, options, "nernst", ion)
    return _follow(parsed, previous_options, dict(previous_options), "restpot", switched or "K")


def _complete(parsed: _Parsed) -> bool:
    """A follow-up that is a whole question of its own (a target and its numbers)."""
    target = parsed.nernst_ions or parsed.nernst_word or parsed.vm_target
    ions = {v.ion for v in parsed.values}
    return bool(target and ions and all(len([v for v in parsed.values if v.ion == i]) >= 2 for i in ions))


def _follow(
    parsed: _Parsed, previous: Mapping[str, Any], options: dict[str, Any], command: str, ion: str
) -> NumericReading:
    assumptions: list[str] = []
    changed: set[str] = set()
    if parsed.temperature is not None:
        if not math.isfinite(parsed.temperature):
            return _declined("The temperature must be a finite number of °C, K or °F.")
        options["temperature"] = parsed.temperature
        changed.add("temperature")
        if parsed.temperature_note:
            assumptions.append(parsed.temperature_note)
    if parsed.preset:
        options["preset"] = parsed.preset
        changed.add("preset")
        for name in [k for k in options if k not in ("ion", "preset", "temperature") and not k.startswith("p_")]:
            if name not in {v.side for v in parsed.values}:
                options.pop(name)
    for value in [*parsed.values, *parsed.unnamed]:
        target_ion = value.ion if value.ion else ion
        side = value.side or ("out" if parsed.lab else None)
        if side is None:
            continue
        name = _SIDE_WORD[side] if command == "nernst" else f"{_PREFIX.get(target_ion, 'k')}_{side}"
        if command == "nernst" and target_ion != ion:
            continue
        options[name] = value.value
        changed.add(name)
    for change in parsed.changes:
        target_ion = change.ion or ion
        side = change.side or "out"
        if change.permeability and command == "restpot" and target_ion in _PREFIX:
            name = f"p_{_PREFIX[target_ion]}"
            preset = PRESETS[options.get("preset") or DEFAULT_PRESET]
            base = options.get(name, preset.permeabilities.get(target_ion, 0.0))
            options[name] = base * (change.factor or 1.0)
            changed.add(name)
            continue
        if command == "nernst":
            if target_ion != ion:
                continue
            name = _SIDE_WORD[side]
        else:
            if target_ion not in _PREFIX:
                continue
            name = f"{_PREFIX[target_ion]}_{side}"
        base = options.get(name)
        origin = ""
        if base is None:
            preset = PRESETS[options.get("preset") or DEFAULT_PRESET]
            values = preset.concentration(target_ion)
            if values is None:
                return _declined(f"a needed number is missing: [{_symbol(target_ion)}] {_SIDE_WORD[side]}")
            base = values.inside if side == "in" else values.outside
            origin = f" (the {preset.name}'s)"
        new = base * change.factor if change.factor is not None else base + (change.delta or 0.0)
        options[name] = new
        changed.add(name)
        how = f"× {format_number(change.factor)}" if change.factor is not None else f"{change.delta:+g} mM"
        assumptions.append(
            f"[{_symbol(target_ion)}] {_SIDE_WORD[side]} {format_number(base)} mM{origin} {how} = "
            f"{format_number(new, 4)} mM"
        )
    for perm_ion, value in parsed.permeabilities.items():
        if command == "restpot":
            options[f"p_{_PREFIX[perm_ion]}"] = value
            changed.add(f"p_{_PREFIX[perm_ion]}")
    reused = tuple(
        f"{name}:{format_number(value) if isinstance(value, float) else value}"
        for name, value in _ordered(command, options).items()
        if name not in changed and name != "ion" and previous.get(name) == value
    )
    if command == "nernst" and (
        ion in PRESETS[options.get("preset") or DEFAULT_PRESET].concentrations
        or len({"inside", "outside"} & set(options)) == 2
    ):
        pass
    if not changed and ion == previous.get("ion"):
        return _declined("nothing in the follow-up changes the previous calculation: say what to change")
    return _check(Request(command, _ordered(command, options)), assumptions, reused)


def command_line(request: Request) -> str:
    """The slash command a request stands for, as a student would type it:
    ``/nernst ion:Na inside:12 outside:145``."""
    parts = [f"/{request.command}"]
    for name, value in request.options.items():
        if name in ("detail", "private"):
            continue
        shown = format_number(float(value)) if isinstance(value, float) else str(value)
        parts.append(f"{name}:{shown}")
    return " ".join(parts)
