"""ADMET endpoints from ADMET-AI (Swanson et al. 2024): Chemprop models of 41 TDC data sets.

The models ship inside the ``admet-ai`` wheel (``pip install 'molgen[admet]'``); nothing is
downloaded. Classification endpoints are probabilities; regression endpoints are in the units of
their TDC data set (see :data:`UNITS`). ADMET-AI's progress bars and Lightning's messages are
kept out of molgen's output.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from rdkit import Chem

from molgen.predictors.base import PREDICTORS
from molgen.types import Direction, OutputSpec

DEFAULT_ENDPOINTS = (
    "hERG",
    "AMES",
    "DILI",
    "ClinTox",
    "BBB_Martins",
    "CYP3A4_Veith",
    "CYP2D6_Veith",
    "Solubility_AqSolDB",
)
# Endpoints where a higher value is a liability (toxicity, inhibition of a metabolizing enzyme).
_MINIMIZE_PREFIXES = ("hERG", "AMES", "DILI", "ClinTox", "Carcinogens", "NR-", "SR-", "Skin")
_MINIMIZE_PREFIXES += ("CYP1A2_Veith", "CYP2C19_Veith", "CYP2C9_Veith", "CYP2D6_Veith")
_MINIMIZE_PREFIXES += ("CYP3A4_Veith", "LD50")


class ADMETParams(BaseModel):
    """Campaign-file parameters of the ``admet_ai`` predictor."""

    model_config = ConfigDict(extra="forbid")

    endpoints: list[str] = Field(default_factory=lambda: list(DEFAULT_ENDPOINTS), min_length=1)
    drugbank_percentiles: bool = Field(
        default=False,
        description="add <endpoint>_drugbank_approved_percentile columns (ADMET-AI's reference)",
    )
    device: Literal["auto", "cpu", "cuda"] = "auto"


def _quiet() -> contextlib.ExitStack:
    stack = contextlib.ExitStack()
    stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
    stack.enter_context(contextlib.redirect_stderr(io.StringIO()))
    return stack


@PREDICTORS.register("admet_ai")
class ADMETAIPredictor:
    """ADMET-AI endpoints as predictor outputs, named by ADMET-AI's ids (``hERG``, ``AMES``...).

    Raises:
        ImportError: admet-ai is not installed (the message says how to install it).
        ValueError: an endpoint ADMET-AI does not have (the message lists those it has).
    """

    name: ClassVar[str] = "admet_ai"
    Params: ClassVar[type[BaseModel]] = ADMETParams
    uses_gpu: ClassVar[bool] = True  # Chemprop on CUDA when present: GPU workers on a cluster

    def __init__(self, **params: Any) -> None:
        p = ADMETParams(**params)
        try:
            self.version = f"admet-ai-{version('admet-ai')}"
        except PackageNotFoundError as err:
            raise ImportError(
                "the admet_ai predictor needs ADMET-AI: pip install 'molgen[admet]'"
            ) from err
        for name in ("lightning", "lightning.pytorch", "pytorch_lightning"):
            logging.getLogger(name).setLevel(logging.ERROR)
        with _quiet():
            from admet_ai import ADMETModel
            from admet_ai.constants import DEFAULT_DRUGBANK_PATH

            self._model = ADMETModel(
                include_physchem=False,
                drugbank_path=DEFAULT_DRUGBANK_PATH if p.drugbank_percentiles else None,
                num_workers=0,
            )
        if p.device != "auto":  # ADMET-AI picks CUDA when present; "cpu" overrides that
            self._model.device = p.device
        available = [t for tasks in self._model.task_lists for t in tasks]
        unknown = [e for e in p.endpoints if e not in available]
        if unknown:
            raise ValueError(
                f"ADMET-AI has no endpoint {', '.join(map(repr, unknown))}; it has: "
                f"{', '.join(available)}"
            )
        self.columns = list(p.endpoints)
        if p.drugbank_percentiles:
            self.columns += [f"{e}_drugbank_approved_percentile" for e in p.endpoints]
        self.outputs = tuple(
            OutputSpec(c, "%" if c.endswith("_percentile") else "", _direction(c))
            for c in self.columns
        )

    def predict(self, mols: Sequence[Chem.Mol]) -> np.ndarray:
        """Endpoint values, float64 ``(len(mols), len(self.outputs))``.

        Raises:
            ValueError: a molecule is None or empty (the message gives its index).
        """
        smiles = []
        for i, mol in enumerate(mols):
            if mol is None or mol.GetNumAtoms() == 0:
                raise ValueError(f"predictor 'admet_ai': molecule {i} is None or empty")
            smiles.append(Chem.MolToSmiles(mol))
        if not smiles:
            return np.zeros((0, len(self.columns)))
        with _quiet():
            table = self._model.predict(smiles=smiles)
        if len(table) != len(smiles):
            raise ValueError(f"ADMET-AI returned {len(table)} rows for {len(smiles)} molecules")
        return table[self.columns].to_numpy(dtype=np.float64)


def _direction(column: str) -> Direction:
    if column.endswith("_percentile"):
        return Direction.NONE
    return Direction.MINIMIZE if column.startswith(_MINIMIZE_PREFIXES) else Direction.NONE
