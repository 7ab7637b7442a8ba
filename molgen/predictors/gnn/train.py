"""Training of molgen graph models: scaffold split, early stopping, ensembles, metrics.

:func:`train_model` is the library function (typed arguments, no config objects);
``flows/train_predictor.py`` and ``molgen train-predictor`` call it.
"""

from __future__ import annotations

import logging
import math
import platform
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from rdkit import Chem
from rdkit.Chem.Scaffolds import MurckoScaffold

from molgen.predictors.gnn.featurize import featurize_mols
from molgen.predictors.gnn.model import GraphEnsemble, GraphRegressor, ModelSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Split:
    """Indices into the data set, int64 arrays."""

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    kind: str


def scaffold_split(
    mols: Sequence[Chem.Mol],
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    balanced: bool = False,
    seed: int = 0,
) -> Split:
    """Bemis-Murcko scaffold split: no scaffold is shared between train, valid and test.

    Unbalanced (DeepChem's ScaffoldSplitter, deterministic): the largest scaffold groups fill the
    training set first, so test holds the rarest scaffolds. Balanced (chemprop's
    ``scaffold_balanced``, seeded): groups larger than half the validation or test size go to
    training first, the other groups are shuffled and dealt out in order, so that test
    scaffolds are a sample of the data set's scaffolds rather than only its singletons.
    """
    groups: dict[str, list[int]] = defaultdict(list)
    for i, mol in enumerate(mols):
        scaffold = MurckoScaffold.MurckoScaffoldSmiles(mol=mol, includeChirality=False)
        groups[scaffold].append(i)
    n = len(mols)
    if balanced:
        rng = np.random.default_rng(seed)
        limit = min(fractions[1], fractions[2] or fractions[1]) * n / 2
        big = [g for g in groups.values() if len(g) > limit]
        small = [g for g in groups.values() if len(g) <= limit]
        ordered = [big[i] for i in rng.permutation(len(big))]
        ordered += [small[i] for i in rng.permutation(len(small))]
    else:
        ordered = sorted(groups.values(), key=lambda g: (-len(g), g[0]))
    cut_train, cut_valid = fractions[0] * n, (fractions[0] + fractions[1]) * n
    train: list[int] = []
    valid: list[int] = []
    test: list[int] = []
    for group in ordered:
        if len(train) + len(group) <= cut_train:
            train += group
        elif len(train) + len(valid) + len(group) <= cut_valid:
            valid += group
        else:
            test += group
    kind = "scaffold_balanced" if balanced else "scaffold"
    return Split(*(np.array(sorted(x), dtype=np.int64) for x in (train, valid, test)), kind)


def random_split(
    n: int, seed: int, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
) -> Split:
    """A seeded random split of ``n`` items."""
    order = np.random.default_rng(seed).permutation(n)
    a, b = int(round(fractions[0] * n)), int(round((fractions[0] + fractions[1]) * n))
    return Split(np.sort(order[:a]), np.sort(order[a:b]), np.sort(order[b:]), "random")


def _graphs(mols: Sequence[Chem.Mol], y: np.ndarray, descriptors: bool) -> list:
    """One PyG ``Data`` per molecule, with its target row as ``y`` ``(1, n_tasks)``."""
    from torch_geometric.data import Data

    chunk = featurize_mols(mols, descriptors=descriptors)
    out = []
    atom_ptr = np.concatenate([[0], np.cumsum(chunk.n_atoms)])
    src = chunk.edge_index[0]
    edge_order = np.argsort(src, kind="stable")
    edge_ptr = np.searchsorted(src[edge_order], atom_ptr)
    for i in range(len(mols)):
        a0, a1 = atom_ptr[i], atom_ptr[i + 1]
        e = edge_order[edge_ptr[i] : edge_ptr[i + 1]]
        data = Data(
            x=torch.from_numpy(chunk.x[a0:a1]),
            edge_index=torch.from_numpy(chunk.edge_index[:, e] - a0),
            edge_attr=torch.from_numpy(chunk.edge_attr[e]),
            y=torch.from_numpy(y[i : i + 1].astype(np.float32)),
        )
        if descriptors:
            data.u = torch.from_numpy(chunk.u[i : i + 1])
        out.append(data)
    return out


def _metrics(pred: np.ndarray, y: np.ndarray, tasks: Sequence[str]) -> dict[str, dict]:
    out = {}
    for t, name in enumerate(tasks):
        ok = ~np.isnan(y[:, t])
        err = pred[ok, t] - y[ok, t]
        ss_tot = float(((y[ok, t] - y[ok, t].mean()) ** 2).sum())
        out[name] = {
            "n": int(ok.sum()),
            "rmse": float(np.sqrt((err**2).mean())) if ok.any() else math.nan,
            "mae": float(np.abs(err).mean()) if ok.any() else math.nan,
            "r2": 1.0 - float((err**2).sum()) / ss_tot if ss_tot > 0 else math.nan,
        }
    return out


def _predict(model: torch.nn.Module, loader, scaler: GraphEnsemble) -> np.ndarray:
    model.eval()
    outs = []
    with torch.inference_mode():
        for batch in loader:
            outs.append(model(batch, scaler.scaled_descriptors(batch)))
    return torch.cat(outs).numpy() * scaler.y_std.numpy() + scaler.y_mean.numpy()


def _fit_member(
    member: GraphRegressor,
    scaler: GraphEnsemble,
    train: list,
    valid: list,
    seed: int,
    epochs: int,
    patience: int,
    lr: float,
    batch_size: int,
    on_epoch: Callable[[int, float, float], None] | None,
) -> tuple[int, float]:
    """Train one member with early stopping on validation RMSE; keeps the best weights."""
    from torch_geometric.loader import DataLoader

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    loader = DataLoader(train, batch_size=batch_size, shuffle=True, generator=gen)
    valid_loader = DataLoader(valid, batch_size=512)
    y_valid = np.concatenate([d.y.numpy() for d in valid])
    opt = torch.optim.AdamW(member.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=patience // 3)
    best = (math.inf, 0, {k: v.clone() for k, v in member.state_dict().items()})
    for epoch in range(1, epochs + 1):
        member.train()
        total, count = 0.0, 0
        for batch in loader:
            target = (batch.y - scaler.y_mean) / scaler.y_std
            mask = ~torch.isnan(target)
            pred = member(batch, scaler.scaled_descriptors(batch))
            loss = ((pred - torch.nan_to_num(target)) ** 2 * mask).sum() / mask.sum().clamp(min=1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, count = total + loss.item() * batch.num_graphs, count + batch.num_graphs
        err = _predict(member, valid_loader, scaler) - y_valid
        rmse = float(np.sqrt(np.nanmean(err**2)))
        sched.step(rmse)
        if on_epoch:
            on_epoch(epoch, total / max(count, 1), rmse)
        if rmse < best[0]:
            best = (rmse, epoch, {k: v.clone() for k, v in member.state_dict().items()})
        elif epoch - best[1] >= patience:
            break
    member.load_state_dict(best[2])
    return best[1], best[0]


def train_model(
    smiles: Sequence[str],
    y: np.ndarray,
    spec: ModelSpec,
    *,
    split: str = "scaffold",
    test_smiles: Sequence[str] | None = None,
    test_y: np.ndarray | None = None,
    seed: int = 0,
    epochs: int = 300,
    patience: int = 40,
    lr: float = 1e-3,
    batch_size: int = 32,
    on_epoch: Callable[[int, int, float, float], None] | None = None,
) -> tuple[GraphEnsemble, dict]:
    """Train an ensemble of ``spec.members`` graph regressors.

    Args:
        smiles: training molecules (invalid ones raise, naming the position).
        y: targets, float ``(n, len(spec.tasks))``; NaN marks a missing value.
        spec: architecture.
        split: ``scaffold``, ``scaffold_balanced`` or ``random`` split into train/valid/test
            (80/10/10, see :func:`scaffold_split`); with
            ``test_smiles`` given, the data is split 90/10 into train/valid and the given set
            is the test set.
        seed: seeds the split (random), weight initialization and shuffling (member k uses
            ``seed + k``).
        epochs, patience: at most ``epochs`` per member, stopping after ``patience`` epochs
            without a better validation RMSE; each member keeps its best epoch.
        on_epoch: called as ``on_epoch(member, epoch, train_loss, valid_rmse)``.

    Returns:
        The ensemble (eval mode, CPU) and a card: split sizes, per-task test and validation
        metrics of the ensemble mean, best epochs, time and hardware.

    Raises:
        ValueError: a SMILES that RDKit cannot read (named with its position), or mismatched
            shapes.
    """
    import torch_geometric

    t0 = time.perf_counter()
    y = np.asarray(y, dtype=np.float64).reshape(len(smiles), len(spec.tasks))
    mols = _read(smiles, "training")
    fractions = (0.9, 0.1, 0.0) if test_smiles is not None else (0.8, 0.1, 0.1)
    if split in ("scaffold", "scaffold_balanced"):
        parts = scaffold_split(mols, fractions, balanced=split == "scaffold_balanced", seed=seed)
    elif split == "random":
        parts = random_split(len(mols), seed, fractions)
    else:
        raise ValueError(
            f"split must be 'scaffold', 'scaffold_balanced' or 'random', got {split!r}"
        )
    graphs = _graphs(mols, y, spec.descriptors)
    if test_smiles is not None:
        test_mols = _read(test_smiles, "test")
        ty = np.asarray(test_y, dtype=np.float64).reshape(len(test_mols), len(spec.tasks))
        test_graphs = _graphs(test_mols, ty, spec.descriptors)
    else:
        ty, test_graphs = y[parts.test], [graphs[i] for i in parts.test]
    train = [graphs[i] for i in parts.train]
    valid = [graphs[i] for i in parts.valid]

    torch.manual_seed(seed)
    model = GraphEnsemble(spec)
    model.y_mean.copy_(torch.from_numpy(np.nanmean(y[parts.train], 0)))
    model.y_std.copy_(torch.from_numpy(np.nanstd(y[parts.train], 0)).clamp(min=1e-6))
    if spec.descriptors:
        u = torch.cat([d.u for d in train]).double()
        model.u_mean.copy_(u.mean(0))
        model.u_std.copy_(u.std(0).clamp(min=1e-6))
    best_epochs = []
    for k, member in enumerate(model.members):
        torch.manual_seed(seed + k)
        member.load_state_dict(GraphRegressor(spec).state_dict())
        cb = (lambda e, loss, r, k=k: on_epoch(k, e, loss, r)) if on_epoch else None
        epoch, _ = _fit_member(
            member, model, train, valid, seed + k, epochs, patience, lr, batch_size, cb
        )
        best_epochs.append(epoch)
    model.eval()

    def evaluate(data: list, target: np.ndarray) -> dict:
        if not data:
            return {}
        chunk_pred = _ensemble_predict(model, data)
        return _metrics(chunk_pred, target, spec.tasks)

    card = {
        "split": parts.kind if test_smiles is None else f"given test set; {parts.kind} valid",
        "n_train": len(train),
        "n_valid": len(valid),
        "n_test": len(test_graphs),
        "seed": seed,
        "best_epochs": best_epochs,
        "max_epochs": epochs,
        "patience": patience,
        "lr": lr,
        "batch_size": batch_size,
        "valid": evaluate(valid, y[parts.valid]),
        "test": evaluate(test_graphs, ty),
        "train_seconds": round(time.perf_counter() - t0, 1),
        "hardware": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} "
        "torch threads, CPU",
        "versions": {"torch": torch.__version__, "torch_geometric": torch_geometric.__version__},
    }
    return model, card


def _ensemble_predict(model: GraphEnsemble, data: list) -> np.ndarray:
    from torch_geometric.loader import DataLoader

    outs = []
    with torch.inference_mode():
        for batch in DataLoader(data, batch_size=512):
            outs.append(model(batch).mean(0))
    return torch.cat(outs).double().numpy()


def member_predictions(model: GraphEnsemble, smiles: Sequence[str]) -> np.ndarray:
    """Each member's predictions for ``smiles``, float64 ``(members, n, tasks)`` in the
    targets' units (their spread is the ensemble's uncertainty).

    Raises:
        ValueError: a SMILES that RDKit cannot read, named with its position.
    """
    from torch_geometric.loader import DataLoader

    mols = _read(smiles, "input")
    dummy = np.full((len(mols), len(model.spec.tasks)), np.nan)
    outs = []
    with torch.inference_mode():
        for batch in DataLoader(_graphs(mols, dummy, model.spec.descriptors), batch_size=512):
            outs.append(model(batch))
    if not outs:
        return np.zeros((model.spec.members, 0, len(model.spec.tasks)))
    return torch.cat(outs, dim=1).double().numpy()


def _read(smiles: Sequence[str], what: str) -> list[Chem.Mol]:
    mols = []
    for i, smi in enumerate(smiles):
        mol = Chem.MolFromSmiles(smi) if isinstance(smi, str) else None
        if mol is None or mol.GetNumAtoms() == 0:
            raise ValueError(f"{what} molecule {i}: RDKit cannot read SMILES {smi!r}")
        mols.append(mol)
    return mols
