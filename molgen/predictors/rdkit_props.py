"""Built-in predictors: one RDKit property per predictor, computed molecule by molecule.

Each predictor produces a single float64 column named after the predictor. The per-molecule
functions are exposed as ``compute`` static methods so that rule filters reuse the exact same
definitions (see :mod:`molgen.filters.rules`).

Failure rule: :meth:`RDKitProperty.predict` raises :class:`ValueError` naming the predictor and
the position of the first molecule that is ``None`` (or, for SA score, has no atoms); it never
returns NaN for a molecule it could not handle.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import ClassVar

import numpy as np
import rdkit
from rdkit import Chem, RDConfig
from rdkit.Chem import Crippen, Descriptors, Lipinski, rdMolDescriptors
from rdkit.Chem.QED import qed

from molgen.predictors.base import PREDICTORS
from molgen.types import Direction, OutputSpec

RDKIT_VERSION = f"rdkit-{rdkit.__version__}"


class RDKitProperty:
    """Base for predictors that compute one RDKit descriptor per molecule.

    Subclasses set ``name`` and ``outputs`` (a single :class:`OutputSpec`) and implement
    :meth:`compute`; :meth:`predict` does the batching and the ``None`` check.
    """

    name: ClassVar[str]
    version: str = RDKIT_VERSION
    outputs: tuple[OutputSpec, ...]

    @staticmethod
    def compute(mol: Chem.Mol) -> float:
        """The property of one molecule."""
        raise NotImplementedError

    def predict(self, mols: Sequence[Chem.Mol]) -> np.ndarray:
        """Values for ``mols`` as a float64 array of shape ``(len(mols), 1)``.

        Raises:
            ValueError: if a molecule is ``None``; the message names the predictor and index.
        """
        values = np.empty((len(mols), 1), dtype=np.float64)
        for i, mol in enumerate(mols):
            if mol is None:
                raise ValueError(f"predictor {self.name!r}: molecule {i} is None")
            values[i, 0] = self.compute(mol)
        return values


@PREDICTORS.register("qed")
class QED(RDKitProperty):
    """Quantitative estimate of drug-likeness (Bickerton et al. 2012), in [0, 1]."""

    name = "qed"
    outputs = (OutputSpec("qed", "", Direction.MAXIMIZE),)

    @staticmethod
    def compute(mol: Chem.Mol) -> float:
        return float(qed(mol))


_SASCORER: dict[str, ModuleType] = {}
_SASCORER_LOCK = threading.Lock()


def load_sascorer() -> ModuleType:
    """RDKit Contrib's ``sascorer`` module, loaded once with its fragment scores read.

    Raises:
        ImportError: if ``RDConfig.RDContribDir/SA_Score/sascorer.py`` is missing or cannot be
            loaded (some RDKit builds ship without Contrib).
    """
    module = _SASCORER.get("module")
    if module is not None:
        return module
    with _SASCORER_LOCK:
        if "module" not in _SASCORER:
            path = Path(RDConfig.RDContribDir) / "SA_Score" / "sascorer.py"
            if not path.is_file():
                raise ImportError(f"SA score needs RDKit Contrib's sascorer, not found at {path}")
            spec = importlib.util.spec_from_file_location("molgen_rdkit_contrib_sascorer", path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load RDKit Contrib's sascorer from {path}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            module.readFragmentScores()  # read the fragment table now, not racily on first use
            _SASCORER["module"] = module
        return _SASCORER["module"]


@PREDICTORS.register("sa_score")
class SAScore(RDKitProperty):
    """Synthetic accessibility (Ertl & Schuffenhauer 2009) from RDKit Contrib, 1 (easy) to 10.

    The Contrib module is loaded when the first instance is created, not when molgen is imported.
    """

    name = "sa_score"
    version = f"{RDKIT_VERSION}-sascore-ertl2009"
    outputs = (OutputSpec("sa_score", "", Direction.MINIMIZE),)

    def __init__(self) -> None:
        load_sascorer()

    @staticmethod
    def compute(mol: Chem.Mol) -> float:
        """SA score of one molecule.

        Raises:
            ValueError: if the molecule has no atoms (sascorer returns no score for it).
        """
        score = load_sascorer().calculateScore(mol)
        if score is None:
            raise ValueError("sa_score: molecule has no atoms")
        return float(score)


@PREDICTORS.register("logp")
class LogP(RDKitProperty):
    """Wildman-Crippen octanol/water logP (``Crippen.MolLogP``)."""

    name = "logp"
    outputs = (OutputSpec("logp"),)

    @staticmethod
    def compute(mol: Chem.Mol) -> float:
        return float(Crippen.MolLogP(mol))


@PREDICTORS.register("mw")
class MolWt(RDKitProperty):
    """Average molecular weight including implicit hydrogens (``Descriptors.MolWt``), in Da."""

    name = "mw"
    outputs = (OutputSpec("mw", "Da"),)

    @staticmethod
    def compute(mol: Chem.Mol) -> float:
        return float(Descriptors.MolWt(mol))


@PREDICTORS.register("tpsa")
class TPSA(RDKitProperty):
    """Topological polar surface area (Ertl 2000; N and O only), in Å^2."""

    name = "tpsa"
    outputs = (OutputSpec("tpsa", "Å^2"),)

    @staticmethod
    def compute(mol: Chem.Mol) -> float:
        return float(rdMolDescriptors.CalcTPSA(mol))


@PREDICTORS.register("hbd")
class HBD(RDKitProperty):
    """Number of hydrogen-bond donors (``Lipinski.NumHDonors``)."""

    name = "hbd"
    outputs = (OutputSpec("hbd"),)

    @staticmethod
    def compute(mol: Chem.Mol) -> float:
        return float(Lipinski.NumHDonors(mol))


@PREDICTORS.register("hba")
class HBA(RDKitProperty):
    """Number of hydrogen-bond acceptors (``Lipinski.NumHAcceptors``)."""

    name = "hba"
    outputs = (OutputSpec("hba"),)

    @staticmethod
    def compute(mol: Chem.Mol) -> float:
        return float(Lipinski.NumHAcceptors(mol))


@PREDICTORS.register("rotatable_bonds")
class RotatableBonds(RDKitProperty):
    """Number of rotatable bonds (``rdMolDescriptors.CalcNumRotatableBonds``, default rules)."""

    name = "rotatable_bonds"
    outputs = (OutputSpec("rotatable_bonds"),)

    @staticmethod
    def compute(mol: Chem.Mol) -> float:
        return float(rdMolDescriptors.CalcNumRotatableBonds(mol))
