"""Cell presets: concentrations, permeabilities and temperature, each from a cited source.

Every number in a preset comes from the source named beside it; where a preset combines
two sources, ``source`` says which number comes from which. ``reference_vm_mv`` is the
resting potential the source itself reports for exactly these numbers (None when the
source reports none), which the tests hold the engine to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from bot.physiology.ions import IONS
from bot.physiology.validation import InputError


@dataclass(frozen=True, slots=True)
class Concentrations:
    """Free ion concentrations in mM on either side of the membrane."""

    inside: float
    outside: float


def _frozen(mapping: dict) -> Mapping:
    return MappingProxyType(mapping)


@dataclass(frozen=True, slots=True)
class PresetNote:
    """A remark about a preset that is only true while the user keeps some of its inputs.

    ``while_default`` names the options (``p_cl``, ``k_in``, ``temperature`` …) the remark
    is about: it holds while any of them (``every=False``) or all of them (``every=True``)
    still have the preset's value. An empty set means it always holds.
    """

    text: str
    while_default: frozenset[str] = frozenset()
    every: bool = False

    def holds(self, changed: frozenset[str]) -> bool:
        """Whether the remark is true when the options in ``changed`` differ from the preset."""
        if not self.while_default:
            return True
        kept = [name not in changed for name in self.while_default]
        return all(kept) if self.every else any(kept)


@dataclass(frozen=True, slots=True, eq=False)
class Preset:
    key: str
    name: str
    temperature_c: float
    concentrations: Mapping[str, Concentrations]
    permeabilities: Mapping[str, float]
    source: str
    reference_vm_mv: float | None = None
    mammalian: bool = True
    notes: tuple[PresetNote, ...] = ()
    citation: str = ""
    """The source in a few words ("Sherwood 2016"), for text that names the cell."""

    def concentration(self, ion_key: str) -> Concentrations | None:
        return self.concentrations.get(ion_key)

    def notes_for(self, changed: frozenset[str]) -> tuple[str, ...]:
        """The preset's notes that are still true when the options in ``changed`` were set."""
        return tuple(note.text for note in self.notes if note.holds(changed))


_SHERWOOD_2016 = (
    "Sherwood L. Human Physiology: From Cells to Systems, 9th ed. Cengage Learning; 2016. "
    "ISBN 978-1-285-86693-2. Ch. 3, The Plasma Membrane and Membrane Potential: Table 3-3, the "
    "ions responsible for the membrane potential of a resting nerve cell (Na⁺ 15/150, K⁺ 150/5 mM, "
    "inside/outside), a resting membrane 25 to 30 times more permeable to K⁺ than to Na⁺ "
    "(the range's lower bound, 25 : 1, is used here), E_K −90 mV, "
    "E_Na +60 mV and a resting potential of −70 mV."
)
_BEAR_2016 = (
    "Bear MF, Connors BW, Paradiso MA. Neuroscience: Exploring the Brain, 4th ed. "
    "Wolters Kluwer; 2016. ISBN 978-0-7817-7817-6. Ch. 3, The Neuronal Membrane at Rest: "
    "approximate ion concentrations of a mammalian neuron (K⁺ 100/5, Na⁺ 15/150, "
    "Ca²⁺ 0.0002/2, Cl⁻ 13/150 mM, inside/outside), the Goldman equation with "
    "P_K = 40 × P_Na at 37 °C, and its result, V_m = −65 mV."
)
_KANDEL_2013 = (
    "Kandel ER, Schwartz JH, Jessell TM, Siegelbaum SA, Hudspeth AJ. Principles of Neural "
    "Science, 5th ed. McGraw-Hill; 2013. ISBN 978-0-07-139011-8. Ch. 6, Table 6-1 (squid "
    "axon: K⁺ 400/20, Na⁺ 50/440, Cl⁻ 52/560 mM) and the GHK calculation with "
    "P_K : P_Na : P_Cl = 1 : 0.04 : 0.45, giving about −60 mV; the ratios are those of "
    "Hodgkin AL, Katz B. J Physiol. 1949;108:37–77. doi:10.1113/jphysiol.1949.sp004310, "
    "whose axons were studied at about 18.5 °C."
)
_HILLE_2001 = (
    "Concentrations and temperature: Hille B. Ion Channels of Excitable Membranes, 3rd ed. "
    "Sinauer; 2001. ISBN 978-0-87893-321-1. Ch. 1, Table 1.1 (mammalian skeletal muscle, "
    "37 °C). Permeabilities P_K : P_Na : P_Cl = 1 : 0.01 : 2: Hodgkin AL, Horowicz P. "
    "J Physiol. 1959;148:127–160. doi:10.1113/jphysiol.1959.sp006278 (frog twitch fibres)."
)
_LUO_RUDY_1991 = (
    "Luo CH, Rudy Y. A model of the ventricular cardiac action potential. Circ Res. "
    "1991;68(6):1501–1526. doi:10.1161/01.RES.68.6.1501: [K⁺] 145/5.4, [Na⁺] 18/140, "
    "[Ca²⁺] 0.0002/1.8 mM, 37 °C, and the Na⁺/K⁺ permeability ratio 0.01833 of its "
    "K⁺ current. The model contains no Cl⁻."
)

_ALL_INPUTS: Final = frozenset(
    {f"{ion}_{side}" for ion in ("k", "na", "cl") for side in ("in", "out")} | {"p_k", "p_na", "p_cl", "temperature"}
)
"""Every input of /restpot: a note about the preset's own result holds only while none changed."""

PRESETS: Final[dict[str, Preset]] = {
    preset.key: preset
    for preset in (
        Preset(
            key="mammalian-neuron",
            name="typical mammalian neuron",
            citation="Sherwood 2016",
            temperature_c=37.0,
            concentrations=_frozen({"K": Concentrations(150.0, 5.0), "Na": Concentrations(15.0, 150.0)}),
            permeabilities=_frozen({"K": 1.0, "Na": 1 / 25, "Cl": 0.0}),
            source=_SHERWOOD_2016,
            reference_vm_mv=-70.0,
            notes=(
                PresetNote(
                    "Textbooks differ on [K⁺] inside: 150 mM in this cell, 140 mM in others (e.g. Guyton & "
                    "Hall) and 100 mM in Bear et al. (preset bear-neuron), so their E_K and V_m come out "
                    "less negative.",
                    frozenset({"k_in"}),
                ),
                PresetNote(
                    "The source gives only K⁺ and Na⁺ for this cell (P_Cl = 0).",
                    frozenset({"p_cl"}),
                ),
            ),
        ),
        Preset(
            key="bear-neuron",
            name="Bear et al.'s mammalian neuron",
            citation="Bear, Connors & Paradiso 2016",
            temperature_c=37.0,
            concentrations=_frozen(
                {
                    "K": Concentrations(100.0, 5.0),
                    "Na": Concentrations(15.0, 150.0),
                    "Ca": Concentrations(0.0002, 2.0),
                    "Cl": Concentrations(13.0, 150.0),
                }
            ),
            permeabilities=_frozen({"K": 1.0, "Na": 1 / 40, "Cl": 0.0}),
            source=_BEAR_2016,
            reference_vm_mv=-65.0,
            notes=(PresetNote("Cl⁻ is left out of the source's Goldman equation (P_Cl = 0).", frozenset({"p_cl"})),),
        ),
        Preset(
            key="squid-giant-axon",
            name="squid giant axon",
            temperature_c=18.5,
            concentrations=_frozen(
                {
                    "K": Concentrations(400.0, 20.0),
                    "Na": Concentrations(50.0, 440.0),
                    "Cl": Concentrations(52.0, 560.0),
                }
            ),
            permeabilities=_frozen({"K": 1.0, "Na": 0.04, "Cl": 0.45}),
            source=_KANDEL_2013,
            citation="Kandel et al. 2013; Hodgkin & Katz 1949",
            reference_vm_mv=-60.0,
            mammalian=False,
        ),
        Preset(
            key="skeletal-muscle",
            name="mammalian skeletal muscle fibre",
            temperature_c=37.0,
            concentrations=_frozen(
                {
                    "K": Concentrations(155.0, 4.0),
                    "Na": Concentrations(12.0, 145.0),
                    "Ca": Concentrations(0.0001, 1.5),
                    "Cl": Concentrations(4.2, 123.0),
                }
            ),
            permeabilities=_frozen({"K": 1.0, "Na": 0.01, "Cl": 2.0}),
            source=_HILLE_2001,
            citation="Hille 2001; Hodgkin & Horowicz 1959",
            notes=(
                PresetNote(
                    "The permeability ratios were measured in frog muscle and applied here to mammalian "
                    "concentrations.",
                    frozenset({"p_k", "p_na", "p_cl"}),
                ),
            ),
        ),
        Preset(
            key="cardiac-myocyte",
            name="cardiac ventricular myocyte",
            temperature_c=37.0,
            concentrations=_frozen(
                {
                    "K": Concentrations(145.0, 5.4),
                    "Na": Concentrations(18.0, 140.0),
                    "Ca": Concentrations(0.0002, 1.8),
                }
            ),
            permeabilities=_frozen({"K": 1.0, "Na": 0.01833, "Cl": 0.0}),
            source=_LUO_RUDY_1991,
            citation="Luo & Rudy 1991",
            notes=(
                PresetNote(
                    "The model's own resting potential (about −84 mV) is set mostly by the purely "
                    "K⁺-selective inward rectifier I_K1, so it lies closer to E_K than this GHK estimate.",
                    _ALL_INPUTS,
                    every=True,
                ),
            ),
        ),
    )
}
DEFAULT_PRESET: Final = "mammalian-neuron"


def preset_for(key: str | None) -> Preset:
    """The preset with this key (the default when None)."""
    try:
        return PRESETS[key or DEFAULT_PRESET]
    except KeyError:
        raise InputError(f"Unknown preset `{key}`: choose one of {', '.join(PRESETS)}.", option="preset") from None


def ion_names_in(preset: Preset) -> str:
    return ", ".join(IONS[key].symbol for key in preset.concentrations)


def presets_with(ion_key: str) -> list[str]:
    """The keys of the presets that carry this ion's concentrations."""
    return [key for key, preset in PRESETS.items() if ion_key in preset.concentrations]
