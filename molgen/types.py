"""Plain record types shared across molgen.

This is a leaf module: it imports nothing else from molgen, so every package can use it without
creating an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Direction(StrEnum):
    """Which way a raw value is better; used for documentation and default transforms."""

    MAXIMIZE = "maximize"
    MINIMIZE = "minimize"
    NONE = "none"


# The stages of a round in pipeline order (round 0 has only ``seeds``).
STAGES: tuple[str, ...] = (
    "seeds",
    "generate",
    "prepare",
    "predict",
    "filter",
    "dock",
    "score",
    "store",
    "update",
)


@dataclass(frozen=True, slots=True)
class OutputSpec:
    """One column a predictor produces.

    Attributes:
        name: column name, unique across a campaign's predictors (e.g. ``"qed"``).
        unit: physical unit, or ``""`` for dimensionless values.
        direction: which way is better, if either.
    """

    name: str
    unit: str = ""
    direction: Direction = Direction.NONE


@dataclass(frozen=True, slots=True)
class Rejection:
    """A molecule that a stage refused, with the reason in words a chemist can act on.

    Attributes:
        stage: the stage that refused it (``"prepare"``, ``"filter"``, ...).
        input: what the stage was given (a SMILES string, or an InChIKey after prepare).
        reason: why it was refused, e.g. ``"PAINS: anil_di_alk_A(478)"``.
        rules: what in the stage refused it, for counting rejections per filter: the names of
            the filters (``"alerts"``, ``"bounds"``) that refused it at the filter stage, the
            input-policy rule (``"size"``) at prepare; empty where the stage has one reason.
    """

    stage: str
    input: str
    reason: str
    rules: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PreparedMolecule:
    """A standardized molecule with its identity.

    Attributes:
        smiles: canonical isomeric SMILES of the standardized parent molecule.
        inchikey: standard InChIKey, molgen's identity for a molecule.
        source: the SMILES string the molecule was made from.
        changed: what standardization changed (``"removed [Na+]; neutralized"``), or ``""``.
    """

    smiles: str
    inchikey: str
    source: str
    changed: str = ""


@dataclass(slots=True)
class StageReport:
    """What a stage did in one round, for logs, the CLI and Prefect artifacts.

    ``status`` is ``"ran"``, ``"resumed"`` (continued from complete batches) or ``"skipped"``
    (its checkpoint matched and nothing was recomputed). ``rows_out`` counts accepted rows,
    ``rows_rejected`` the rows the stage rejected with a reason.
    """

    round: int
    stage: str
    status: str
    rows_in: int
    rows_out: int
    seconds: float
    rows_rejected: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
