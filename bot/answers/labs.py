"""/labs: serum K⁺, Na⁺, Cl⁻ and Ca²⁺ as a nurse reads them.

Each value is flagged against a reference range with its source (the ones the notes
already cite), every conversion is shown through the units layer, and the extracellular
values go into the engine: the resting potential of the default cell with these values
beside the one with the cell's own. Two steps are approximations, not unit conversions,
and are said to be: the albumin correction of a total calcium, and the ionized share of
a total calcium. Ranges differ between laboratories; the answer says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from bot.answers.model import Answer, AnswerField, line_fields, millivolts
from bot.commands import LABS, Request
from bot.physiology import DEFAULT_PRESET, PRESETS, InputError, nernst, resting_potential
from bot.physiology.formatting import format_number
from bot.physiology.validation import check_in_bounds
from bot.reading.units import CALCIUM_MOLAR_MASS, concentration_mm, mm_per

UKKA_2020: Final = (
    "UK Kidney Association. Clinical Practice Guidelines: Treatment of Acute Hyperkalaemia in Adults; 2020."
)
KARDALAS_2018: Final = (
    "Kardalas E, Paschou SA, Anagnostis P, et al. Hypokalemia: a clinical update. Endocr Connect. "
    "2018;7(4):R135–R146. doi:10.1530/EC-18-0109"
)
SPASOVSKI_2014: Final = (
    "Spasovski G, Vanholder R, Allolio B, et al. Clinical practice guideline on diagnosis and treatment of "
    "hyponatraemia. Eur J Endocrinol. 2014;170(3):G1–G47. doi:10.1530/EJE-13-1020"
)
ADROGUE_2000: Final = (
    "Adrogué HJ, Madias NE. Hypernatremia. N Engl J Med. 2000;342(20):1493–1499. doi:10.1056/NEJM200005183422006"
)
GUYTON_TABLE_1_1: Final = (
    "Hall JE, Hall ME. Guyton and Hall Textbook of Medical Physiology, 14th ed. Elsevier; 2021. "
    "ISBN 978-0-323-59712-8. Ch. 1, Table 1-1 (extracellular fluid: Cl⁻ 103–112, Ca²⁺ ion 1.0–1.4 mmol/L)."
)
GUYTON_CALCIUM: Final = (
    "Hall JE, Hall ME. Guyton and Hall Textbook of Medical Physiology, 14th ed. Elsevier; 2021. "
    "ISBN 978-0-323-59712-8. Chapter Parathyroid Hormone, Calcitonin, Calcium and Phosphate Metabolism, "
    "Vitamin D, Bone, and Teeth (plasma calcium about 2.4 mmol/L, about half of it ionized)."
)
PAYNE_1973: Final = (
    "Payne RB, Little AJ, Williams RB, Milner JR. Interpretation of serum calcium in patients with abnormal "
    "serum proteins. Br Med J. 1973;4(5893):643–646. doi:10.1136/bmj.4.5893.643"
)

ALBUMIN_REFERENCE: Final = 4.0
"""g/dL: the albumin a corrected calcium is referred to."""
ALBUMIN_SLOPE: Final = 0.8
"""mg/dL of calcium per g/dL of albumin below 4.0: the common clinical form (0.02 mmol/L per g/L)."""
IONIZED_SHARE: Final = 0.5
"""About half of plasma calcium is ionized (Guyton & Hall): an estimate, not a measurement."""
CA_LIMITS: Final = {"mg/dL": (2.5, 25.0), "mmol/L": (0.6, 6.0), "ionized": (0.2, 4.0)}
"""What each ``ca_unit`` admits: beyond these the number is in the other unit (9.2 "mmol/L" is mg/dL)."""


@dataclass(frozen=True, slots=True)
class Flag:
    """A value against its range: ``low``, ``normal`` or ``high``, and the band's words."""

    level: str
    words: str


def _potassium(value: float) -> Flag:
    if value < 2.5:
        return Flag("low", "severe hypokalemia (below 2.5)")
    if value < 3.5:
        return Flag("low", "hypokalemia (below 3.5)")
    if value >= 6.5:
        return Flag("high", "severe hyperkalemia (6.5 or more)")
    if value >= 6.0:
        return Flag("high", "moderate hyperkalemia (6.0–6.4)")
    if value >= 5.5:
        return Flag("high", "mild hyperkalemia (5.5–5.9)")
    return Flag("normal", "normal")


def _sodium(value: float) -> Flag:
    if value < 125:
        return Flag("low", "profound hyponatremia (below 125)")
    if value < 130:
        return Flag("low", "moderate hyponatremia (125–129)")
    if value < 135:
        return Flag("low", "mild hyponatremia (130–134)")
    if value > 145:
        return Flag("high", "hypernatremia (above 145)")
    return Flag("normal", "normal")


def _chloride(value: float) -> Flag:
    if value < 103:
        return Flag("low", "low (hypochloremia)")
    if value > 112:
        return Flag("high", "high (hyperchloremia)")
    return Flag("normal", "normal")


def _ionized_calcium(value: float) -> Flag:
    shown = round(value, 2)  # flag what the nurse reads, not a float's last digit
    if shown < 1.0:
        return Flag("low", "low (hypocalcemia)")
    if shown > 1.4:
        return Flag("high", "high (hypercalcemia)")
    return Flag("normal", "normal")


@dataclass(frozen=True, slots=True)
class Range:
    """One reference range as shown, with the short citation and the full ones."""

    ion: str
    symbol: str
    shown: str
    cited: str
    sources: tuple[str, ...]
    topic_low: str
    topic_high: str


RANGES: Final = {
    "K": Range(
        "K",
        "K⁺",
        "3.5–5.4 mmol/L",
        "hypokalemia below 3.5: Kardalas 2018; hyperkalemia 5.5 or more: UK Kidney Association 2020",
        (KARDALAS_2018, UKKA_2020),
        "hypokalemia",
        "hyperkalemia",
    ),
    "Na": Range(
        "Na",
        "Na⁺",
        "135–145 mmol/L",
        "hyponatremia below 135: Spasovski 2014; hypernatremia above 145: Adrogué & Madias 2000",
        (SPASOVSKI_2014, ADROGUE_2000),
        "sodium-disorders",
        "sodium-disorders",
    ),
    "Cl": Range("Cl", "Cl⁻", "103–112 mmol/L", "Guyton & Hall, Table 1-1", (GUYTON_TABLE_1_1,), "chloride", "chloride"),
    "Ca": Range(
        "Ca",
        "Ca²⁺",
        "ionized 1.0–1.4 mmol/L",
        "Guyton & Hall, Table 1-1",
        (GUYTON_TABLE_1_1,),
        "calcium-disorders",
        "calcium-disorders",
    ),
}

WATCH: Final = {
    ("K", "high"): "K⁺ high: cardiac monitor and ECG (peaked T, wide QRS); IV calcium ready at 6.5 or more or "
    "any ECG change; check glucose after insulin; a haemolysed sample can read falsely high.",
    ("K", "low"): "K⁺ low: ECG (flat T, U waves, long QT), weakness; never give KCl as an IV push (diluted, by "
    "pump); check and replace Mg²⁺; watch patients on digoxin.",
    ("Na", "low"): "Na⁺ low: confusion, headache, seizures (brain swelling); check Na⁺ often during correction: "
    "a rise of at most 10 mmol/L in the first 24 h, 8 in each later 24 h.",
    ("Na", "high"): "Na⁺ high: thirst, irritability, lethargy (brain shrinkage); lower it by no more than about "
    "10 mmol/L a day.",
    ("Cl", "low"): "Cl⁻ low: read it with Na⁺ and bicarbonate; it usually follows Na⁺ or an acid–base change.",
    ("Cl", "high"): "Cl⁻ high: read it with Na⁺ and bicarbonate; it usually follows Na⁺ or an acid–base change.",
    ("Ca", "low"): "Ca²⁺ low: tingling round the mouth and fingers, cramps, Chvostek's and Trousseau's signs, "
    "stridor, seizures, long QT; IV calcium into a good vein, with ECG monitoring.",
    ("Ca", "high"): "Ca²⁺ high: weakness, confusion, constipation, polyuria, short QT.",
}

_OPTION_FOR: Final = {"K": "k", "Na": "na", "Cl": "cl"}


def _n(value: float, digits: int = 3) -> str:
    return format_number(value, digits)


def _ca(value: float) -> str:
    """A calcium in mmol/L as laboratories report it, to two decimals (2.30)."""
    return f"{value:.2f}"


def _monovalent(ion: str, value: float) -> str:
    """The conversion line of K⁺, Na⁺ or Cl⁻: mEq/L = mmol/L (|z| = 1), through the units layer."""
    symbol = RANGES[ion].symbol
    millimolar = concentration_mm(value, "mmol/L", ion)
    per_meq = mm_per("mEq/L", ion)
    return (
        f"{symbol} {_n(value)} mmol/L = {_n(millimolar / per_meq)} mEq/L = {_n(millimolar)} mM "
        f"(|z| = 1: 1 mEq/L = {_n(per_meq)} mmol/L)"
    )


@dataclass(frozen=True, slots=True)
class Calcium:
    """A calcium as read: the ionized value flagged (measured or estimated), and each step shown."""

    ionized_mm: float
    estimated: bool
    steps: tuple[str, ...]
    notes: tuple[str, ...]
    reading: str


def _calcium(value: float, unit: str, albumin: float | None) -> Calcium:
    low, high = CA_LIMITS[unit]
    if not low <= value <= high:
        other = "mmol/L" if unit == "mg/dL" else "mg/dL"
        raise InputError(
            f"`ca` = {_n(value)} is not a serum calcium in {'mmol/L' if unit == 'ionized' else unit} "
            f"(from {_n(low)} to {_n(high)}): is it in {other}? Set `ca_unit` to match.",
            option="ca",
        )
    if unit == "ionized":
        notes = ("Albumin corrects a total calcium only; an ionized Ca²⁺ needs no correction.",) if albumin else ()
        line = f"Ca²⁺ ionized {_ca(value)} mmol/L = {_ca(value / mm_per('mEq/L', 'Ca'))} mEq/L (|z| = 2)"
        ionized = concentration_mm(value, "mmol/L", "Ca")
        return Calcium(ionized, False, (line,), notes, f"{_ca(ionized)} mmol/L ionized")
    factor = 1 / mm_per("mg/dL", "Ca")  # 4.008 mg/dL per mmol/L, from the molar mass
    mg_dl = value if unit == "mg/dL" else value * factor
    total_mm = concentration_mm(value, unit, "Ca")
    steps = [
        f"Ca²⁺ total {_n(value)} mg/dL ÷ {_n(factor, 4)} = {_ca(total_mm)} mmol/L "
        f"(molar mass {_n(CALCIUM_MOLAR_MASS, 4)} g/mol)"
        if unit == "mg/dL"
        else f"Ca²⁺ total {_ca(value)} mmol/L × {_n(factor, 4)} = {_n(mg_dl)} mg/dL "
        f"(molar mass {_n(CALCIUM_MOLAR_MASS, 4)} g/mol)"
    ]
    notes: list[str] = []
    reading = f"{_n(value)} mg/dL total" if unit == "mg/dL" else f"{_ca(value)} mmol/L total"
    if albumin is not None:
        corrected_mg = mg_dl + ALBUMIN_SLOPE * (ALBUMIN_REFERENCE - albumin)
        total_mm = concentration_mm(corrected_mg, "mg/dL", "Ca")
        reading += f" (corrected {_n(corrected_mg)} mg/dL)" if unit == "mg/dL" else f" (corrected {_ca(total_mm)})"
        steps.append(
            f"Albumin-corrected (an approximation, not a unit conversion): {_n(mg_dl)} + 0.8 × (4.0 − "
            f"{_n(albumin)}) = {_n(corrected_mg)} mg/dL = {_ca(total_mm)} mmol/L"
        )
        notes.append(
            "Corrected calcium: 0.8 mg/dL per g/dL of albumin below 4.0 (= 0.02 mmol/L per g/L), the common "
            "form of Payne et al.'s albumin adjustment (their 1973 formula: calcium − albumin + 4.0); "
            "it is an estimate, and an ionized Ca²⁺ is the measurement."
        )
    else:
        notes.append("No albumin given: not corrected. Low albumin lowers the total while ionized Ca²⁺ may be normal.")
    ionized = IONIZED_SHARE * total_mm
    steps.append(
        f"Ionized ≈ ½ × {_ca(total_mm)} = {_ca(ionized)} mmol/L: an estimate (about half of plasma calcium is "
        "ionized, Guyton & Hall), not a conversion; measure ionized Ca²⁺ to be sure"
    )
    return Calcium(ionized, True, tuple(steps), tuple(notes), f"{reading}, ≈ {_ca(ionized)} ionized")


def _values(options: Mapping[str, object]) -> dict[str, float]:
    values = {ion: options.get(option) for ion, option in _OPTION_FOR.items()}
    return {ion: float(value) for ion, value in values.items() if isinstance(value, int | float)}


def _potentials(values: Mapping[str, float], calcium: Calcium | None) -> list[str]:
    """V_m of the default cell with these values outside beside its own; E_Cl and E_Ca where a cell has them."""
    lines: list[str] = []
    cell = PRESETS[DEFAULT_PRESET]
    given = {f"{_OPTION_FOR[ion]}_out": values[ion] for ion in ("K", "Na") if ion in values}
    if given:
        normal = resting_potential()  # the cell's own values: the "normal" V_m beside these
        now = resting_potential(**given)
        shift = now.vm_mv - normal.vm_mv
        direction = "depolarized" if shift > 0.05 else "hyperpolarized" if shift < -0.05 else "unchanged"
        own = ", ".join(
            f"{RANGES[ion].symbol} {_n(cell.concentrations[ion].outside)}" for ion in ("K", "Na") if ion in values
        )
        lines.append(
            f"V_m {millivolts(now.vm_mv)} with these values, {millivolts(normal.vm_mv)} with the cell's own "
            f"({own} mM): {direction}" + (f" by {abs(shift):.1f} mV." if direction != "unchanged" else ".")
        )
        moved = []
        for ion in ("K", "Na"):
            before, after = normal.ion(ion), now.ion(ion)
            if ion in values and before is not None and after is not None:
                moved.append(f"E_{ion} {millivolts(before.equilibrium_mv)} → {millivolts(after.equilibrium_mv)}")
        lines.append(" · ".join(moved) + ".")
    bear = PRESETS["bear-neuron"]
    if "Cl" in values:
        own, now_cl = nernst("Cl", preset="bear-neuron"), nernst("Cl", outside=values["Cl"], preset="bear-neuron")
        lines.append(
            f"Cl⁻ is not in this cell's resting potential (its source gives P_Cl = 0). In {bear.name} "
            f"([Cl⁻]i {_n(bear.concentrations['Cl'].inside)} mM): E_Cl {millivolts(own.ion.equilibrium_mv)} at its "
            f"{_n(own.ion.outside_mm)} mM → {millivolts(now_cl.ion.equilibrium_mv)}."
        )
    if calcium is not None:
        own, now_ca = nernst("Ca", preset="bear-neuron"), nernst("Ca", outside=calcium.ionized_mm, preset="bear-neuron")
        estimate = "estimated " if calcium.estimated else ""
        lines.append(
            f"Ca²⁺ barely moves resting V_m (tiny resting permeability); it moves threshold. In {bear.name}: "
            f"E_Ca {millivolts(own.ion.equilibrium_mv)} at {_n(own.ion.outside_mm)} mM → "
            f"{millivolts(now_ca.ion.equilibrium_mv)} at the {estimate}ionized {_ca(calcium.ionized_mm)} mM."
        )
    return lines


def labs_answer(request: Request) -> Answer:
    """/labs: flags with their ranges first, then conversions, V_m, what to watch, the topics."""
    options = request.options
    spec = LABS
    for option in spec.options:  # Discord and the terminal check these; any other caller too
        value = options.get(option.name)
        if value is not None and option.bounds is not None:
            check_in_bounds(option.name, value, option.bounds, option.quantity)
    values = _values(options)
    ca = options.get("ca")
    unit = options.get("ca_unit")
    albumin = options.get("albumin")
    if ca is None and unit is not None:
        raise InputError("`ca_unit` was given without `ca`: add the calcium value, e.g. ca:9.2 ca_unit:mg/dL.")
    if ca is not None and unit is None:
        raise InputError(
            "`ca` needs `ca_unit`: mg/dL (total), mmol/L (total) or mmol/L ionized, e.g. ca:9.2 ca_unit:mg/dL.",
            option="ca_unit",
        )
    if not values and ca is None:
        raise InputError("Give at least one serum value: k, na, cl or ca (with ca_unit), e.g. /labs k:6.8 na:128.")
    calcium = _calcium(float(ca), str(unit), float(albumin) if albumin is not None else None) if ca else None
    if albumin is not None and calcium is None:
        raise InputError("`albumin` corrects a total calcium: add ca and ca_unit, or leave albumin out.")

    flags: dict[str, Flag] = {}
    readings: dict[str, str] = {}
    for ion, value in values.items():
        flags[ion] = {"K": _potassium, "Na": _sodium, "Cl": _chloride}[ion](value)
        readings[ion] = f"{_n(value)} mmol/L"
    if calcium is not None:
        flags["Ca"] = _ionized_calcium(calcium.ionized_mm)
        readings["Ca"] = calcium.reading

    headline = " · ".join(
        f"{RANGES[ion].symbol} {readings[ion]}: {'normal' if flag.level == 'normal' else flag.level.upper()}"
        for ion, flag in flags.items()
    )
    if "K" in values or "Na" in values:
        given = {f"{_OPTION_FOR[ion]}_out": values[ion] for ion in ("K", "Na") if ion in values}
        headline += (
            f" → V_m {millivolts(resting_potential(**given).vm_mv)} "
            f"({millivolts(resting_potential().vm_mv)} with the cell's own values)"
        )
    flag_lines = [
        f"{RANGES[ion].symbol} {readings[ion]}: {flags[ion].words}; reference {RANGES[ion].shown} "
        f"({RANGES[ion].cited})."
        for ion in flags
    ]
    conversions = [_monovalent(ion, value) for ion, value in values.items()]
    if calcium is not None:
        conversions.extend(calcium.steps)
    potentials = _potentials(values, calcium)
    watch = [WATCH[(ion, flag.level)] for ion, flag in flags.items() if flag.level != "normal"]
    if not watch:
        watch = ["Within the cited ranges: nothing to act on from these numbers alone; read them with the patient."]
    topics = list(
        dict.fromkeys(
            RANGES[ion].topic_high if flag.level == "high" else RANGES[ion].topic_low for ion, flag in flags.items()
        )
    )
    cited = [source for ion in flags for source in RANGES[ion].sources]
    if calcium is not None:
        cited.append(GUYTON_CALCIUM)
        if albumin is not None:
            cited.append(PAYNE_1973)
    cell = PRESETS[DEFAULT_PRESET]
    fields = [
        AnswerField("Conversions", "\n".join(conversions)),
        AnswerField(f"Membrane potentials · {cell.name} inside · 37 °C", "\n".join(potentials)),
        AnswerField("What a nurse watches for", "\n".join(watch)),
    ]
    if calcium is not None and calcium.notes:
        fields.append(AnswerField("Calcium: approximations", "\n".join(calcium.notes)))
    fields.append(AnswerField("Related", " · ".join(f"/explain topic:{topic}" for topic in topics)))
    fields.extend(line_fields("Sources", list(dict.fromkeys(cited))))
    abnormal = [ion for ion, flag in flags.items() if flag.level != "normal"]
    first_topic = (
        (RANGES[abnormal[0]].topic_high if flags[abnormal[0]].level == "high" else RANGES[abnormal[0]].topic_low)
        if abnormal
        else topics[0]
    )
    return Answer(
        command="labs",
        title="Serum lab values, flagged",
        headline=headline,
        lines=tuple(flag_lines),
        fields=tuple(fields),
        footer=(
            f"Laboratories set their own reference ranges: use yours. V_m: GHK voltage equation with the "
            f"{cell.name}'s inside values ({cell.citation}), serum values outside."
        ),
        topic=first_topic,
    )
