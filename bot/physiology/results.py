"""What the engine returns: frozen dataclasses with a JSON form.

The JSON form is described by ``schemas/answer.v1.json``; a test validates every
answer against it, so the terminal's ``--json`` output and any future client agree.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # a type only: importing the derivations would load sympy for every answer
    from bot.physiology.derivation import Derivation


def to_json(value: Any) -> Any:
    """A JSON-ready copy: dataclass fields (minus those marked ``json: False``), lists, dicts."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {"kind": value.kind} if hasattr(type(value), "kind") else {}
        for spec in dataclasses.fields(value):
            if spec.metadata.get("json", True):
                data[spec.name] = to_json(getattr(value, spec.name))
        return data
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    return value


@dataclass(frozen=True, slots=True)
class IonPotential:
    """One ion's side of the story: its gradient, its E, and (in GHK) its weight."""

    ion: str
    symbol: str
    valence: int
    inside_mm: float
    outside_mm: float
    equilibrium_mv: float
    permeability: float | None = None
    conductance_share: float | None = None


@dataclass(frozen=True, slots=True)
class NernstResult:
    kind: ClassVar[str] = "nernst"
    ion: IonPotential
    temperature_c: float
    preset: str
    slope_mv_per_decade: float
    derivation: Derivation | None = None

    @property
    def potential_mv(self) -> float:
        return self.ion.equilibrium_mv


@dataclass(frozen=True, slots=True)
class RestingPotentialResult:
    kind: ClassVar[str] = "restpot"
    preset: str
    preset_name: str
    temperature_c: float
    vm_mv: float
    ions: tuple[IonPotential, ...]
    dominant_ion: str
    reference_vm_mv: float | None
    source: str
    note: str
    derivation: Derivation | None = None

    def ion(self, key: str) -> IonPotential | None:
        return next((ion for ion in self.ions if ion.ion == key), None)


@dataclass(frozen=True, slots=True)
class Change:
    option: str
    before: float
    after: float
    unit: str


@dataclass(frozen=True, slots=True)
class WhatIfResult:
    kind: ClassVar[str] = "whatif"
    scenario: str
    title: str
    preset: str
    temperature_c: float
    model: str
    changes: tuple[Change, ...]
    before_mv: float
    after_mv: float
    direction: str
    mechanism: str
    consequence: str
    sources: tuple[str, ...]

    @property
    def change_mv(self) -> float:
        return self.after_mv - self.before_mv
