"""GuacaMol goal-directed scoring tasks, re-implemented with RDKit.

The definitions follow GuacaMol (N. Brown, M. Fiscato, M. H. S. Segler, A. C. Vaucher,
"GuacaMol: Benchmarking Models for de Novo Molecular Design", J. Chem. Inf. Model. 2019, 59,
1096-1108) and its reference code (``guacamol/standard_benchmarks.py``, goal-directed suite v2):
the same target SMILES and SMARTS, the same fingerprints, the same score modifiers and the same
aggregation. The ``guacamol`` package itself is not used; everything here is plain RDKit.

Fingerprints, as in GuacaMol's ``get_fingerprint``:

- ECFP4 / ECFP6: unfolded Morgan count fingerprints of radius 2 / 3 (what the deprecated
  ``AllChem.GetMorganFingerprint(mol, r)`` returns), built with ``rdFingerprintGenerator``;
- FCFP4: the same with Morgan feature invariants (``useFeatures=True``);
- PHCO: RDKit's 2D pharmacophore fingerprint with the Gobbi-Poppinger feature factory.

Similarities are Tanimoto similarities of these fingerprints (count Tanimoto for the Morgan
counts). Descriptors are RDKit's Crippen logP (``Descriptors.MolLogP``) and TPSA.

Tasks (each a ``score(smiles) -> float`` in [0, 1]): ``celecoxib_rediscovery``,
``osimertinib_mpo``, ``median_molecules_1`` (camphor / menthol) and ``scaffold_hop``.

Failure rule: a SMILES that RDKit cannot parse, or that parses to an empty molecule, scores 0.0
(GuacaMol gives such molecules its corrupt score, -1.0, which would leave [0, 1]). An RDKit
error while scoring a parsed molecule also gives 0.0, with a logged warning, as GuacaMol does
with its corrupt score. Nothing raises for a bad molecule.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from functools import cache

import numpy as np
from rdkit import Chem, DataStructs, rdBase
from rdkit.Chem import Descriptors, rdFingerprintGenerator
from rdkit.Chem.Pharm2D import Generate, Gobbi_Pharm2D

logger = logging.getLogger(__name__)

CELECOXIB = "CC1=CC=C(C=C1)C1=CC(=NN1C1=CC=C(C=C1)S(N)(=O)=O)C(F)(F)F"
OSIMERTINIB = "COc1cc(N(C)CCN(C)C)c(NC(=O)C=C)cc1Nc2nccc(n2)c3cn(C)c4ccccc34"
CAMPHOR = "CC1(C)C2CCC1(C)C(=O)C2"
MENTHOL = "CC(C)C1CCC(C)CC1O"
SCAFFOLD_HOP_REFERENCE = "CCCOc1cc2ncnc(Nc3ccc4ncsc4c3)c2cc1S(=O)(=O)C(C)(C)C"
#: Decoration that a scaffold hop must keep (propoxy ... N-benzothiazol-6-amine).
SCAFFOLD_HOP_DECORATION = "[#6]-[#6]-[#6]-[#8]-[#6]~[#6]~[#6]~[#6]~[#6]-[#7]-c1ccc2ncsc2c1"
#: Scaffold that a scaffold hop must lose (4-amino-7-oxy-quinazoline).
SCAFFOLD_HOP_SCAFFOLD = "[#7]-c1n[c;h1]nc2[c;h1]c(-[#8])[c;h0][c;h1]c12"

_Fingerprint = DataStructs.UIntSparseIntVect | DataStructs.SparseBitVect

_FCFP_INVARIANTS = rdFingerprintGenerator.GetMorganFeatureAtomInvGen()

#: Fingerprint functions by GuacaMol name: unfolded Morgan count fingerprints (ECFP4, ECFP6,
#: FCFP4 on feature invariants) and the Gobbi-Poppinger 2D pharmacophore fingerprint.
_FINGERPRINTS: dict[str, Callable[[Chem.Mol], _Fingerprint]] = {
    "ECFP4": rdFingerprintGenerator.GetMorganGenerator(radius=2).GetSparseCountFingerprint,
    "ECFP6": rdFingerprintGenerator.GetMorganGenerator(radius=3).GetSparseCountFingerprint,
    "FCFP4": rdFingerprintGenerator.GetMorganGenerator(
        radius=2, atomInvariantsGenerator=_FCFP_INVARIANTS
    ).GetSparseCountFingerprint,
    "PHCO": lambda mol: Generate.Gen2DFingerprint(mol, Gobbi_Pharm2D.factory),
}


@cache
def _reference_fp(smiles: str, kind: str) -> _Fingerprint:
    """Fingerprint of a task's target molecule, computed once.

    Args:
        smiles: target SMILES (one of the module constants).
        kind: ``"ECFP4"``, ``"ECFP6"``, ``"FCFP4"`` or ``"PHCO"``.

    Returns:
        The target's fingerprint.
    """
    mol = Chem.MolFromSmiles(smiles)
    return _FINGERPRINTS[kind](mol)


def _tanimoto(mol: Chem.Mol, target: str, kind: str) -> float:
    """Tanimoto similarity of ``mol`` to ``target`` with fingerprint ``kind``.

    Returns:
        Similarity in [0, 1].
    """
    return DataStructs.TanimotoSimilarity(_FINGERPRINTS[kind](mol), _reference_fp(target, kind))


@cache
def _smarts(pattern: str) -> Chem.Mol:
    """Compiled SMARTS pattern, built once.

    Returns:
        Query molecule.
    """
    return Chem.MolFromSmarts(pattern)


def _smarts_score(mol: Chem.Mol, pattern: str, *, inverse: bool) -> float:
    """GuacaMol's SMARTS score: 1.0 if ``pattern`` matches, else 0.0; swapped if ``inverse``.

    Returns:
        0.0 or 1.0.
    """
    found = mol.HasSubstructMatch(_smarts(pattern))
    return float(found != inverse)


# --- score modifiers (GuacaMol's score_modifier.py) ---------------------------------------------


def clipped(
    x: float,
    upper_x: float,
    lower_x: float = 0.0,
    high_score: float = 1.0,
    low_score: float = 0.0,
) -> float:
    """ClippedScoreModifier: linear from (lower_x, low_score) to (upper_x, high_score), clipped.

    Args:
        x: raw score.
        upper_x: x from which the score is ``high_score``.
        lower_x: x up to which the score is ``low_score``.
        high_score: maximal score.
        low_score: minimal score.

    Returns:
        The modified score in [low_score, high_score].
    """
    slope = (high_score - low_score) / (upper_x - lower_x)
    y = high_score + slope * (x - upper_x)
    return min(max(y, low_score), high_score)


def gaussian(x: float, mu: float, sigma: float) -> float:
    """GaussianModifier: ``exp(-((x - mu) / sigma) ** 2 / 2)``.

    Returns:
        The modified score in (0, 1].
    """
    return math.exp(-0.5 * ((x - mu) / sigma) ** 2)


def min_gaussian(x: float, mu: float, sigma: float) -> float:
    """MinGaussianModifier: 1.0 for ``x <= mu``, Gaussian decay above ``mu``.

    Returns:
        The modified score in (0, 1].
    """
    return gaussian(max(x, mu), mu, sigma)


def max_gaussian(x: float, mu: float, sigma: float) -> float:
    """MaxGaussianModifier: 1.0 for ``x >= mu``, Gaussian decay below ``mu``.

    Returns:
        The modified score in (0, 1].
    """
    return gaussian(min(x, mu), mu, sigma)


def _geometric_mean(values: Sequence[float]) -> float:
    """GuacaMol's GeometricMeanScoringFunction aggregation: ``prod(values) ** (1 / n)``.

    Returns:
        The geometric mean.
    """
    return math.prod(values) ** (1.0 / len(values))


def _arithmetic_mean(values: Sequence[float]) -> float:
    """GuacaMol's ArithmeticMeanScoringFunction aggregation with equal weights.

    Returns:
        The arithmetic mean.
    """
    return sum(values) / len(values)


# --- tasks --------------------------------------------------------------------------------------


def _to_mol(smiles: str) -> Chem.Mol | None:
    """Parse ``smiles`` quietly.

    Returns:
        The molecule, or None if it does not parse or has no atoms.
    """
    if not isinstance(smiles, str) or not smiles:
        return None
    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(smiles)
    return mol if mol is not None and mol.GetNumAtoms() else None


def _score(smiles: str, objective: Callable[[Chem.Mol], float]) -> float:
    """Apply ``objective`` to the parsed molecule, with the module's failure rule.

    Returns:
        The objective's value, or 0.0 for an unparseable SMILES or an RDKit error.
    """
    mol = _to_mol(smiles)
    if mol is None:
        return 0.0
    try:
        return float(objective(mol))
    except Exception:  # GuacaMol likewise scores any failure as corrupt.
        logger.warning("scoring failed for %r; scored 0.0", smiles, exc_info=True)
        return 0.0


def _celecoxib_rediscovery(mol: Chem.Mol) -> float:
    sim = _tanimoto(mol, CELECOXIB, "ECFP4")
    return clipped(sim, upper_x=1.0)


def celecoxib_rediscovery(smiles: str) -> float:
    """Celecoxib rediscovery.

    ECFP4 Tanimoto similarity to celecoxib through ``ClippedScoreModifier(upper_x=1.0)``
    (the identity on [0, 1]). Celecoxib itself scores 1.0.

    Args:
        smiles: molecule to score.

    Returns:
        Score in [0, 1]; 0.0 for an invalid SMILES.
    """
    return _score(smiles, _celecoxib_rediscovery)


def _osimertinib_mpo(mol: Chem.Mol) -> float:
    return _geometric_mean(
        [
            clipped(_tanimoto(mol, OSIMERTINIB, "FCFP4"), upper_x=0.8),
            min_gaussian(_tanimoto(mol, OSIMERTINIB, "ECFP6"), mu=0.85, sigma=0.1),
            max_gaussian(Descriptors.TPSA(mol), mu=100.0, sigma=10.0),
            min_gaussian(Descriptors.MolLogP(mol), mu=1.0, sigma=1.0),
        ]
    )


def osimertinib_mpo(smiles: str) -> float:
    """Osimertinib MPO.

    Geometric mean of four terms: FCFP4 similarity to osimertinib through
    ``ClippedScoreModifier(upper_x=0.8)``; ECFP6 similarity to osimertinib through
    ``MinGaussianModifier(mu=0.85, sigma=0.1)`` (similar, but not too similar); TPSA through
    ``MaxGaussianModifier(mu=100, sigma=10)``; Crippen logP through
    ``MinGaussianModifier(mu=1, sigma=1)``.

    Args:
        smiles: molecule to score.

    Returns:
        Score in [0, 1]; 0.0 for an invalid SMILES.
    """
    return _score(smiles, _osimertinib_mpo)


def _median_molecules_1(mol: Chem.Mol) -> float:
    return _geometric_mean([_tanimoto(mol, MENTHOL, "ECFP4"), _tanimoto(mol, CAMPHOR, "ECFP4")])


def median_molecules_1(smiles: str) -> float:
    """Median molecules 1 (camphor / menthol).

    Geometric mean of the unmodified ECFP4 Tanimoto similarities to menthol and to camphor.

    Args:
        smiles: molecule to score.

    Returns:
        Score in [0, 1]; 0.0 for an invalid SMILES.
    """
    return _score(smiles, _median_molecules_1)


def _scaffold_hop(mol: Chem.Mol) -> float:
    return _arithmetic_mean(
        [
            clipped(_tanimoto(mol, SCAFFOLD_HOP_REFERENCE, "PHCO"), upper_x=0.75),
            _smarts_score(mol, SCAFFOLD_HOP_DECORATION, inverse=False),
            _smarts_score(mol, SCAFFOLD_HOP_SCAFFOLD, inverse=True),
        ]
    )


def scaffold_hop(smiles: str) -> float:
    """Scaffold hop: keep the decoration and pharmacophore, lose the quinazoline scaffold.

    Arithmetic mean of three terms: PHCO (Gobbi 2D pharmacophore) similarity to the reference
    molecule through ``ClippedScoreModifier(upper_x=0.75)``; 1.0 if the decoration SMARTS
    ``SCAFFOLD_HOP_DECORATION`` matches, else 0.0; 1.0 if the scaffold SMARTS
    ``SCAFFOLD_HOP_SCAFFOLD`` does not match, else 0.0. The reference molecule itself keeps the
    scaffold and scores 2/3.

    Args:
        smiles: molecule to score.

    Returns:
        Score in [0, 1]; 0.0 for an invalid SMILES.
    """
    return _score(smiles, _scaffold_hop)


TASKS: dict[str, Callable[[str], float]] = {
    "celecoxib_rediscovery": celecoxib_rediscovery,
    "osimertinib_mpo": osimertinib_mpo,
    "median_molecules_1": median_molecules_1,
    "scaffold_hop": scaffold_hop,
}


def score_all(task: str, smiles: Sequence[str]) -> np.ndarray:
    """Score a batch of SMILES on one task.

    Args:
        task: a key of ``TASKS``.
        smiles: molecules to score.

    Returns:
        float64 array of shape ``(len(smiles),)``; invalid SMILES score 0.0.

    Raises:
        KeyError: if ``task`` is not a key of ``TASKS``.
    """
    if task not in TASKS:
        raise KeyError(f"unknown task {task!r}; expected one of {sorted(TASKS)}")
    fn = TASKS[task]
    return np.fromiter((fn(s) for s in smiles), dtype=np.float64, count=len(smiles))
