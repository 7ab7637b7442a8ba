"""A surrogate of the docking score, and the acquisition that picks what to dock.

The surrogate is trained on molecules already docked (the store's docking cache for one
receptor and settings) and predicts a docking score with an uncertainty for molecules not
docked; the acquisition turns the predictions into the choice of which to dock (lower scores
are better, as Vina's are). This is MolPAL's loop (Graff et al., *Chem. Sci.* 2021) inside a
campaign round.

Models (``[docking.surrogate] model``):

- ``fingerprint`` (:class:`DockingSurrogate`): scikit-learn's random forest on Morgan count
  fingerprints (radius 2, 2,048 bits, counts capped at 255) and six whole-molecule descriptors
  (heavy atoms, rotatable bonds, rings, aromatic rings, hydrogen-bond donors and acceptors), to
  which Vina scores are most sensitive. The prediction is the mean of the trees and the
  uncertainty their standard deviation, as in MolPAL's random-forest model.
- ``graph`` (:class:`GraphSurrogate`): an ensemble of molgen's GINE graph networks trained from
  scratch (:func:`molgen.predictors.gnn.train.train_model`, 90/10 random split for early
  stopping); mean and standard deviation over the members, as MolPAL's message-passing model
  with its ensemble uncertainty. Slower to train than the forest, on CPU a few minutes a round
  for thousands of docked molecules.

Training is deterministic for a given seed (on one machine).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from rdkit import Chem
from rdkit.Chem import rdFingerprintGenerator, rdMolDescriptors

SURROGATE_VERSION = "fingerprint-rf-1"
"""Changes whenever the features or the model change what is predicted."""
GRAPH_SURROGATE_VERSION = "graph-gine-1"
PREDICTOR = "docking_surrogate"
"""The predictor name under which the store keeps the surrogate's predictions."""
VERSIONS = {"fingerprint": SURROGATE_VERSION, "graph": GRAPH_SURROGATE_VERSION}
"""Each model kind's version."""

FP_BITS = 2048
_fpgen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=FP_BITS)


def features(smiles: Sequence[str]) -> np.ndarray:
    """Float32 ``(n, FP_BITS + 6)`` features of prepared SMILES.

    Raises:
        ValueError: a SMILES that RDKit cannot parse, named with its position.
    """
    out = np.zeros((len(smiles), FP_BITS + 6), dtype=np.float32)
    for i, smi in enumerate(smiles):
        mol = Chem.MolFromSmiles(smi)
        if mol is None:
            raise ValueError(f"surrogate: molecule {i} ({smi!r}) is not a valid SMILES")
        out[i, :FP_BITS] = np.minimum(_fpgen.GetCountFingerprintAsNumPy(mol), 255)
        out[i, FP_BITS:] = (
            mol.GetNumHeavyAtoms(),
            rdMolDescriptors.CalcNumRotatableBonds(mol),
            rdMolDescriptors.CalcNumRings(mol),
            rdMolDescriptors.CalcNumAromaticRings(mol),
            rdMolDescriptors.CalcNumHBD(mol),
            rdMolDescriptors.CalcNumHBA(mol),
        )
    return out


@dataclass
class DockingSurrogate:
    """A random forest of ``trees`` trees, seeded by ``seed``; :meth:`fit` then
    :meth:`predict`."""

    trees: int = 100
    seed: int = 0
    workers: int = 1

    def __post_init__(self) -> None:
        self._forest = None

    def fit(self, smiles: Sequence[str], scores: Sequence[float]) -> DockingSurrogate:
        """Train on docked molecules and their (finite) docking scores.

        Raises:
            ValueError: fewer than 2 molecules, lengths that differ, or a score not finite.
        """
        return self.fit_features(features(smiles), scores)

    def fit_features(self, x: np.ndarray, scores: Sequence[float]) -> DockingSurrogate:
        """:meth:`fit` on rows of :func:`features` computed beforehand."""
        from sklearn.ensemble import RandomForestRegressor

        y = _checked(len(x), scores)
        self._forest = RandomForestRegressor(
            n_estimators=self.trees,
            max_features=0.33,
            min_samples_leaf=1,
            random_state=self.seed,
            n_jobs=self.workers,
        ).fit(x, y)
        return self

    def predict(self, smiles: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(mean, std)`` predicted docking scores (kcal/mol) of ``smiles``, float64."""
        if len(smiles) == 0:
            return np.zeros(0), np.zeros(0)
        return self.predict_features(features(smiles))

    def predict_features(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`predict` on rows of :func:`features` computed beforehand."""
        if self._forest is None:
            raise RuntimeError("surrogate: predict before fit")
        per_tree = np.stack([t.predict(x) for t in self._forest.estimators_])
        return per_tree.mean(axis=0), per_tree.std(axis=0)


def _checked(n: int, scores: Sequence[float]) -> np.ndarray:
    y = np.asarray(scores, dtype=np.float64)
    if n != len(y):
        raise ValueError(f"surrogate: {n} molecules but {len(y)} scores")
    if len(y) < 2 or not np.isfinite(y).all():
        raise ValueError("surrogate: needs at least 2 docked molecules with finite scores")
    return y


@dataclass
class GraphSurrogate:
    """An ensemble of ``members`` GINE networks (hidden width 64, 3 layers), each trained for
    at most ``epochs`` epochs with early stopping; :meth:`fit` then :meth:`predict`."""

    members: int = 4
    seed: int = 0
    epochs: int = 60
    patience: int = 10

    def __post_init__(self) -> None:
        self._model = None

    def fit(self, smiles: Sequence[str], scores: Sequence[float]) -> GraphSurrogate:
        """Train on docked molecules and their docking scores (at least 10, for the
        early-stopping split).

        Raises:
            ValueError: too few molecules, lengths that differ, a score not finite, or a SMILES
                RDKit cannot read (named with its position).
        """
        from molgen.predictors.gnn.model import ModelSpec
        from molgen.predictors.gnn.train import train_model

        y = _checked(len(smiles), scores)
        if len(y) < 10:
            raise ValueError("surrogate: the graph model needs at least 10 docked molecules")
        spec = ModelSpec(
            tasks=("docking_score",), units=("kcal/mol",), hidden=64, members=self.members
        )
        self._model, _ = train_model(
            list(smiles),
            y.reshape(-1, 1),
            spec,
            split="random",
            test_smiles=[],
            test_y=np.zeros((0, 1)),
            seed=self.seed,
            epochs=self.epochs,
            patience=self.patience,
            batch_size=64,
        )
        return self

    def predict(self, smiles: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(mean, std)`` over the members, kcal/mol, float64."""
        from molgen.predictors.gnn.train import member_predictions

        if self._model is None:
            raise RuntimeError("surrogate: predict before fit")
        per_member = member_predictions(self._model, smiles)[:, :, 0]
        return per_member.mean(axis=0), per_member.std(axis=0)


def make_surrogate(kind: str, seed: int, trees: int = 100, members: int = 4) -> Any:
    """The surrogate of ``kind`` (``fingerprint`` or ``graph``), unfitted."""
    if kind == "fingerprint":
        return DockingSurrogate(trees=trees, seed=seed)
    if kind == "graph":
        return GraphSurrogate(members=members, seed=seed)
    raise ValueError(f"unknown surrogate model {kind!r}; choose fingerprint or graph")


ACQUISITIONS = ("greedy", "ucb", "thompson")


def acquisition_values(
    mean: np.ndarray,
    std: np.ndarray,
    acquisition: str,
    beta: float = 2.0,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """What the acquisition ranks by, lower first (docking scores: lower is better).

    greedy: the predicted mean; ucb: the optimistic bound ``mean - beta * std``; thompson: one
    draw from ``Normal(mean, std)`` per molecule (``rng`` required).
    """
    if acquisition == "greedy":
        return np.asarray(mean, dtype=np.float64)
    if acquisition == "ucb":
        return np.asarray(mean, dtype=np.float64) - beta * np.asarray(std, dtype=np.float64)
    if acquisition == "thompson":
        if rng is None:
            raise ValueError("thompson acquisition needs a random generator")
        return rng.normal(mean, np.maximum(std, 0.0))
    raise ValueError(f"unknown acquisition {acquisition!r}; choose from {', '.join(ACQUISITIONS)}")


def choose(
    keys: Sequence[str],
    values: np.ndarray | None,
    n: int,
    random_n: int,
    rng: np.random.Generator,
) -> list[tuple[int, str]]:
    """Pick ``n`` of ``keys``: ``random_n`` uniformly at random, then the rest by lowest
    ``values`` (ties by key); all at random when ``values`` is None.

    Returns:
        ``(position, "random" | "acquisition")`` in the order picked.
    """
    n = min(n, len(keys))
    if values is None:
        random_n = n
    random_n = min(random_n, n)
    picked = rng.choice(len(keys), size=random_n, replace=False).tolist() if random_n else []
    out = [(int(i), "random") for i in picked]
    taken = set(picked)
    if values is not None:
        order = sorted(range(len(keys)), key=lambda i: (values[i], keys[i]))
        for i in order:
            if len(out) >= n:
                break
            if i not in taken:
                out.append((i, "acquisition"))
    return out
