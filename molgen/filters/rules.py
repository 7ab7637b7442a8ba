"""Rule-of-thumb filters: Lipinski's rule of five and Veber's oral-bioavailability rules.

Properties come from the built-in predictors' ``compute`` functions, so a filter and a predictor
of the same name always agree.

Failure rule: :meth:`check` raises :class:`ValueError` naming the filter and the index of the
first molecule that is ``None``; otherwise it returns one verdict per molecule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field
from rdkit import Chem

from molgen.filters.base import FILTERS
from molgen.filters.verdicts import PerMolecule
from molgen.predictors.rdkit_props import (
    HBA,
    HBD,
    RDKIT_VERSION,
    TPSA,
    LogP,
    MolWt,
    RotatableBonds,
)


@dataclass(frozen=True, slots=True)
class _Rule:
    """One threshold: ``compute(mol) > limit`` is a violation, reported with format ``fmt``."""

    label: str
    compute: Callable[[Chem.Mol], float]
    limit: float
    fmt: str

    def violation(self, mol: Chem.Mol) -> str | None:
        """``"<label> <value> > <limit>"`` if the molecule breaks the rule, else ``None``."""
        value = self.compute(mol)
        if value > self.limit:
            return f"{self.label} {value:{self.fmt}} > {self.limit:g}"
        return None


class _RuleSet(PerMolecule):
    """Counts rule violations per molecule; subclasses set the rules and the tolerance."""

    name: ClassVar[str]
    title: ClassVar[str]
    rules: ClassVar[tuple[_Rule, ...]]
    version: str
    max_violations: int

    def reason(self, mol: Chem.Mol) -> str | None:
        """The violated rules with their values, if more than ``max_violations``."""
        broken = [why for rule in self.rules if (why := rule.violation(mol))]
        return self._explain(broken) if len(broken) > self.max_violations else None

    def _explain(self, broken: list[str]) -> str:
        return f"{self.title}: {'; '.join(broken)}"


class LipinskiParams(BaseModel):
    """Campaign-file parameters of ``lipinski``."""

    model_config = ConfigDict(extra="forbid")

    max_violations: int = Field(default=1, ge=0, le=4, description="violations tolerated")


class VeberParams(BaseModel):
    """``veber`` takes no parameters."""

    model_config = ConfigDict(extra="forbid")


@FILTERS.register("lipinski")
class LipinskiFilter(_RuleSet):
    """Lipinski's rule of five: MW <= 500 Da, logP <= 5, HBD <= 5, HBA <= 10.

    A molecule passes with at most ``max_violations`` violations (Lipinski's original
    formulation tolerates one).
    """

    name = "lipinski"
    title = "Lipinski"
    Params: ClassVar[type[BaseModel]] = LipinskiParams
    rules = (
        _Rule("MW", MolWt.compute, 500, ".1f"),
        _Rule("logP", LogP.compute, 5, ".1f"),
        _Rule("HBD", HBD.compute, 5, ".0f"),
        _Rule("HBA", HBA.compute, 10, ".0f"),
    )

    def __init__(self, max_violations: int = 1) -> None:
        if not 0 <= max_violations <= len(self.rules):
            raise ValueError(
                f"lipinski: max_violations must be between 0 and {len(self.rules)}, "
                f"got {max_violations}"
            )
        self.max_violations = max_violations
        self.version = f"{RDKIT_VERSION}-ro5-max{max_violations}"

    def _explain(self, broken: list[str]) -> str:
        n = len(broken)
        return f"Lipinski: {n} violation{'s' if n != 1 else ''} ({'; '.join(broken)})"


@FILTERS.register("veber")
class VeberFilter(_RuleSet):
    """Veber's rules: at most 10 rotatable bonds and TPSA at most 140 Å^2; both must hold."""

    name = "veber"
    title = "Veber"
    Params: ClassVar[type[BaseModel]] = VeberParams
    rules = (
        _Rule("rotatable bonds", RotatableBonds.compute, 10, ".0f"),
        _Rule("TPSA", TPSA.compute, 140, ".1f"),
    )
    version = f"{RDKIT_VERSION}-veber2002"
    max_violations = 0
