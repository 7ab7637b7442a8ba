"""Distribution metrics of generated molecules, as defined by MOSES (Polykovskiy et al. 2020).

Implemented from the definitions in the MOSES paper and its metric descriptions, with RDKit and
torch: validity, uniqueness@k, novelty, internal diversity, SNN, fragment and scaffold
similarity, the MOSES filters, and FCD through the ``fcd`` package (ChemNet weights ship in its
wheel). Fingerprints are Morgan radius 2, 1,024 bits, as in MOSES.

Failure rule: functions take SMILES lists; invalid SMILES count as invalid where the metric
defines it (validity) and are dropped elsewhere; nothing raises for a bad molecule.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Sequence

import numpy as np
import torch
from rdkit import Chem, DataStructs, RDLogger
from rdkit.Chem import AllChem, rdFingerprintGenerator
from rdkit.Chem.Scaffolds import MurckoScaffold

from molgen.resources import data_path

_MORGAN = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=1024)


def canonical(smiles: str) -> str | None:
    """RDKit canonical SMILES, or None if ``smiles`` does not parse (or is empty)."""
    mol = Chem.MolFromSmiles(smiles) if smiles else None
    return Chem.MolToSmiles(mol) if mol is not None and mol.GetNumAtoms() else None


def canonical_all(smiles: Sequence[str]) -> list[str | None]:
    RDLogger.DisableLog("rdApp.*")
    try:
        return [canonical(s) for s in smiles]
    finally:
        RDLogger.EnableLog("rdApp.*")


def validity(smiles: Sequence[str]) -> float:
    """Fraction of ``smiles`` that RDKit parses into a non-empty molecule."""
    return sum(c is not None for c in canonical_all(smiles)) / max(len(smiles), 1)


def uniqueness(valid: Sequence[str], k: int) -> float:
    """Fraction of distinct molecules among the first ``k`` valid canonical SMILES."""
    head = list(valid[:k])
    return len(set(head)) / max(len(head), 1)


def novelty(valid: Sequence[str], reference: set[str]) -> float:
    """Fraction of distinct valid molecules that are not in ``reference`` (canonical SMILES)."""
    distinct = set(valid)
    return len(distinct - reference) / max(len(distinct), 1)


def fingerprints(smiles: Sequence[str]) -> torch.Tensor:
    """Morgan (radius 2, 1,024 bits) fingerprints as a float32 ``(n, 1024)`` 0/1 tensor."""
    out = np.zeros((len(smiles), 1024), dtype=np.float32)
    for i, smi in enumerate(smiles):
        mol = Chem.MolFromSmiles(smi)
        if mol is not None:
            DataStructs.ConvertToNumpyArray(_MORGAN.GetFingerprint(mol), out[i])
    return torch.from_numpy(out)


def _tanimoto_blocks(a: torch.Tensor, b: torch.Tensor, block: int = 4096):
    """Yield ``(rows, similarity block)`` of Tanimoto similarities between ``a`` and ``b``."""
    nb = b.sum(1)
    for start in range(0, len(a), block):
        x = a[start : start + block]
        inter = x @ b.T
        union = x.sum(1, keepdim=True) + nb[None, :] - inter
        yield start, torch.where(union > 0, inter / union, torch.zeros_like(inter))


def internal_diversity(fps: torch.Tensor) -> float:
    """``1 - mean pairwise Tanimoto`` over all ordered pairs, self-pairs included (IntDiv1)."""
    total = sum(float(s.sum()) for _, s in _tanimoto_blocks(fps, fps))
    return 1.0 - total / (len(fps) ** 2)


def snn(gen_fps: torch.Tensor, ref_fps: torch.Tensor) -> float:
    """Mean, over generated molecules, of the Tanimoto similarity to the nearest reference."""
    best = torch.zeros(len(gen_fps))
    for start, s in _tanimoto_blocks(gen_fps, ref_fps, block=1024):
        best[start : start + len(s)] = s.max(1).values
    return float(best.mean())


def fragments(smiles: Sequence[str]) -> Counter[str]:
    """BRICS fragments (canonical SMILES with attachment points) counted over ``smiles``."""
    counts: Counter[str] = Counter()
    for smi in smiles:
        mol = Chem.MolFromSmiles(smi)
        if mol is not None:
            counts.update(Chem.MolToSmiles(AllChem.FragmentOnBRICSBonds(mol)).split("."))
    return counts


def scaffolds(smiles: Sequence[str], min_rings: int = 2) -> Counter[str]:
    """Bemis-Murcko scaffolds with at least ``min_rings`` rings, counted over ``smiles``."""
    counts: Counter[str] = Counter()
    for smi in smiles:
        mol = Chem.MolFromSmiles(smi)
        if mol is None:
            continue
        try:
            scaffold = MurckoScaffold.GetScaffoldForMol(mol)
        except (ValueError, RuntimeError):
            continue
        text = Chem.MolToSmiles(scaffold)
        if text and scaffold.GetRingInfo().NumRings() >= min_rings:
            counts[text] += 1
    return counts


def cosine(a: Counter[str], b: Counter[str]) -> float:
    """Cosine similarity of two count vectors over the union of their keys."""
    keys = list(set(a) | set(b))
    x = np.array([a.get(k, 0) for k in keys], dtype=float)
    y = np.array([b.get(k, 0) for k in keys], dtype=float)
    denom = np.linalg.norm(x) * np.linalg.norm(y)
    return float(x @ y / denom) if denom else 0.0


def _filter_patterns() -> list[Chem.Mol]:
    patterns = []
    with data_path("moses", "mcf.csv").open() as fh:
        patterns += [row["smarts"] for row in csv.DictReader(fh)]
    with data_path("moses", "wehi_pains.csv").open() as fh:
        patterns += [row[0] for row in csv.reader(fh) if row]
    return [p for p in (Chem.MolFromSmarts(s) for s in patterns) if p is not None]


ALLOWED = {"C", "N", "S", "O", "F", "Cl", "Br", "H"}


def passes_filters(smiles: Sequence[str]) -> float:
    """Fraction of molecules that MOSES's filters keep: no ring of 8+ atoms, no charge, only
    C N S O F Cl Br H, and no match to its MCF and PAINS SMARTS (on the molecule with explicit
    hydrogens)."""
    patterns = _filter_patterns()
    kept = 0
    for smi in smiles:
        mol = Chem.MolFromSmiles(smi)
        if mol is None:
            continue
        if any(len(r) >= 8 for r in mol.GetRingInfo().AtomRings()):
            continue
        if any(a.GetFormalCharge() or a.GetSymbol() not in ALLOWED for a in mol.GetAtoms()):
            continue
        with_h = Chem.AddHs(mol)
        if any(with_h.HasSubstructMatch(p) for p in patterns):
            continue
        kept += 1
    return kept / max(len(smiles), 1)


def fcd_to_test(valid: Sequence[str], device: str = "cpu") -> float:
    """Fréchet ChemNet Distance of ``valid`` to MOSES's test set (its precomputed statistics)."""
    from fcd import calculate_frechet_distance, get_predictions, load_ref_model

    model = load_ref_model()
    # n_jobs=0: in-process loading (a worker process can die under a parent that has forked
    # pools before, e.g. in a long test session)
    activations = get_predictions(model, list(valid), n_jobs=0, device=device)
    stats = np.load(data_path("moses", "test_fcd_stats.npz"), allow_pickle=False)
    mu, sigma = activations.mean(0), np.cov(activations.T)
    return float(calculate_frechet_distance(mu, sigma, stats["mu"], stats["sigma"]))
