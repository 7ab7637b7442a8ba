"""Molecular graphs for the graph networks: RDKit atoms and bonds to packed feature arrays.

A featurized chunk is a :class:`GraphChunk` of plain numpy arrays (cheap to send between
processes); :func:`to_batch` turns it into one torch-geometric ``Batch`` without building a
``Data`` object per molecule.

Failure rule: :func:`featurize_smiles` never raises for a bad molecule: the molecule is left out
of the chunk and its reason is recorded in :attr:`GraphChunk.reasons`; :func:`featurize_mols`
raises :class:`ValueError` naming the index of a ``None`` or atom-less molecule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rdkit import Chem, RDLogger
from rdkit.Chem import rdMolDescriptors

FEATURIZER_VERSION = "molgen-graph-2"

# Elements of drug-like chemistry get their own slot; any other element shares the last one.
ELEMENTS = (1, 5, 6, 7, 8, 9, 14, 15, 16, 17, 34, 35, 53)
_HYBRID = {
    Chem.HybridizationType.S: 0,
    Chem.HybridizationType.SP: 1,
    Chem.HybridizationType.SP2: 2,
    Chem.HybridizationType.SP3: 3,
    Chem.HybridizationType.SP3D: 4,
    Chem.HybridizationType.SP3D2: 5,
}
_CHIRAL = {
    Chem.ChiralType.CHI_TETRAHEDRAL_CW: 0,
    Chem.ChiralType.CHI_TETRAHEDRAL_CCW: 1,
}
_BOND = {
    Chem.BondType.SINGLE: 0,
    Chem.BondType.DOUBLE: 1,
    Chem.BondType.TRIPLE: 2,
    Chem.BondType.AROMATIC: 3,
}
_STEREO = {Chem.BondStereo.STEREOZ: 0, Chem.BondStereo.STEREOCIS: 0}
_STEREO.update({Chem.BondStereo.STEREOE: 1, Chem.BondStereo.STEREOTRANS: 1})

# Offsets of each one-hot block in the atom feature vector.
_EL = 0
_DEG = _EL + len(ELEMENTS) + 1  # degree 0..5, 6+ in the last slot
_CHG = _DEG + 7  # formal charge -2..+2 (clipped)
_HS = _CHG + 5  # total hydrogens 0..4 (clipped)
_HYB = _HS + 5  # hybridization, 6 kinds + other
_CHI = _HYB + 7  # tetrahedral CW / CCW
_ARO = _CHI + 2
_RING = _ARO + 1
_MASS = _RING + 1
ATOM_DIM = _MASS + 1
BOND_DIM = 4 + 1 + 1 + 2  # type, conjugated, in ring, Z/E

# Whole-molecule RDKit descriptors a model may take beside its graph (standardized by the model).
# (Crippen logP and MR are left out: at ~170 us per molecule they would double featurization
# time, and being sums of atom-type contributions they are within a graph network's reach.)
DESCRIPTORS = (
    "TPSA",
    "LabuteASA",
    "NumHDonors",
    "NumHAcceptors",
    "FractionCSP3",
    "RingCount",
    "NumAromaticRings",
    "HeavyAtomCount",
    "NumHeteroatoms",
)


@dataclass
class GraphChunk:
    """Packed graphs of several molecules.

    Attributes:
        x: atom features, float32 ``(n_atoms, ATOM_DIM)``.
        edge_index: int64 ``(2, n_directed_bonds)``, both directions of every bond, indices into
            ``x``.
        edge_attr: bond features, float32 ``(n_directed_bonds, BOND_DIM)``.
        n_atoms: atoms per featurized molecule, int64 ``(n_mols,)``.
        index: position in the input of each featurized molecule, int64 ``(n_mols,)``.
        reasons: ``(input position, reason)`` for every molecule left out.
        size: number of inputs, featurized or not.
        u: the :data:`DESCRIPTORS` of each featurized molecule, float32 ``(n_mols, 9)``, or
            None when not asked for.
    """

    x: np.ndarray
    edge_index: np.ndarray
    edge_attr: np.ndarray
    n_atoms: np.ndarray
    index: np.ndarray
    reasons: list[tuple[int, str]]
    size: int
    u: np.ndarray | None = None


_ELEMENT_LOOKUP = np.full(128, len(ELEMENTS), dtype=np.int64)
_ELEMENT_LOOKUP[list(ELEMENTS)] = np.arange(len(ELEMENTS))
_HYBRID_LOOKUP = np.full(16, 6, dtype=np.int64)
for _h, _slot in _HYBRID.items():
    _HYBRID_LOOKUP[int(_h)] = _slot
_CHIRAL_LOOKUP = np.full(16, -1, dtype=np.int64)
for _c, _slot in _CHIRAL.items():
    _CHIRAL_LOOKUP[int(_c)] = _slot
_BOND_LOOKUP = np.zeros(32, dtype=np.int64)
for _b, _slot in _BOND.items():
    _BOND_LOOKUP[int(_b)] = _slot
_STEREO_LOOKUP = np.full(16, -1, dtype=np.int64)
for _s, _slot in _STEREO.items():
    _STEREO_LOOKUP[int(_s)] = _slot


def _atom_rows(mol: Chem.Mol) -> list[tuple]:
    return [
        (
            a.GetAtomicNum(),
            a.GetDegree(),
            a.GetFormalCharge(),
            a.GetTotalNumHs(),
            int(a.GetHybridization()),
            int(a.GetChiralTag()),
            a.GetIsAromatic(),
            a.IsInRing(),
            a.GetMass(),
        )
        for a in mol.GetAtoms()
    ]


def _bond_rows(mol: Chem.Mol, offset: int) -> list[tuple]:
    return [
        (
            bond.GetBeginAtomIdx() + offset,
            bond.GetEndAtomIdx() + offset,
            int(bond.GetBondType()),
            bond.GetIsConjugated(),
            bond.IsInRing(),
            int(bond.GetStereo()),
        )
        for bond in mol.GetBonds()
    ]


def _atom_matrix(rows: list[tuple]) -> np.ndarray:
    """Atom feature matrix, float32 ``(n_atoms, ATOM_DIM)``, from :func:`_atom_rows` tuples."""
    raw = np.array(rows, dtype=np.float64).reshape(-1, 9)
    n = raw.shape[0]
    z = raw[:, 0].astype(np.int64)
    x = np.zeros((n, ATOM_DIM), dtype=np.float32)
    idx = np.arange(n)
    x[idx, _EL + _ELEMENT_LOOKUP[np.minimum(z, 127)]] = 1.0
    x[idx, _DEG + np.minimum(raw[:, 1], 6).astype(np.int64)] = 1.0
    x[idx, _CHG + np.clip(raw[:, 2], -2, 2).astype(np.int64) + 2] = 1.0
    x[idx, _HS + np.minimum(raw[:, 3], 4).astype(np.int64)] = 1.0
    x[idx, _HYB + _HYBRID_LOOKUP[np.minimum(raw[:, 4].astype(np.int64), 15)]] = 1.0
    chiral = _CHIRAL_LOOKUP[np.minimum(raw[:, 5].astype(np.int64), 15)]
    has = chiral >= 0
    x[idx[has], _CHI + chiral[has]] = 1.0
    x[:, _ARO] = raw[:, 6]
    x[:, _RING] = raw[:, 7]
    x[:, _MASS] = raw[:, 8] * 0.01
    return x


def _bond_matrices(rows: list[tuple]) -> tuple[np.ndarray, np.ndarray]:
    """``(edge_index (2, 2b) int64, edge_attr (2b, BOND_DIM) float32)`` from
    :func:`_bond_rows` tuples: edges ``0..b-1`` run begin → end atom, ``b..2b-1`` the reverse."""
    raw = np.array(rows, dtype=np.int64).reshape(-1, 6)
    b = raw.shape[0]
    attr = np.zeros((b, BOND_DIM), dtype=np.float32)
    idx = np.arange(b)
    attr[idx, _BOND_LOOKUP[np.minimum(raw[:, 2], 31)]] = 1.0
    attr[:, 4] = raw[:, 3]
    attr[:, 5] = raw[:, 4]
    stereo = _STEREO_LOOKUP[np.minimum(raw[:, 5], 15)]
    has = stereo >= 0
    attr[idx[has], 6 + stereo[has]] = 1.0
    src = np.concatenate([raw[:, 0], raw[:, 1]])
    dst = np.concatenate([raw[:, 1], raw[:, 0]])
    return np.stack([src, dst]), np.concatenate([attr, attr])


def descriptor_values(mol: Chem.Mol) -> np.ndarray:
    """The :data:`DESCRIPTORS` of ``mol``, float32 ``(len(DESCRIPTORS),)``.

    Computed with :mod:`rdkit.Chem.rdMolDescriptors` directly; the values equal
    :mod:`rdkit.Chem.Descriptors`' functions of the same names.
    """
    return np.array(
        [
            rdMolDescriptors.CalcTPSA(mol),
            rdMolDescriptors.CalcLabuteASA(mol),
            rdMolDescriptors.CalcNumHBD(mol),
            rdMolDescriptors.CalcNumHBA(mol),
            rdMolDescriptors.CalcFractionCSP3(mol),
            rdMolDescriptors.CalcNumRings(mol),
            rdMolDescriptors.CalcNumAromaticRings(mol),
            mol.GetNumHeavyAtoms(),
            rdMolDescriptors.CalcNumHeteroatoms(mol),
        ],
        dtype=np.float32,
    )


def _pack(
    mols: list[tuple[int, Chem.Mol]],
    reasons: list[tuple[int, str]],
    size: int,
    descriptors: bool,
) -> GraphChunk:
    """One chunk from ``(input position, molecule)`` pairs: every atom and bond of the chunk is
    collected first and turned into arrays once, which is what makes featurization fast."""
    atoms: list[tuple] = []
    bonds: list[tuple] = []
    n_atoms = np.empty(len(mols), dtype=np.int64)
    u = np.empty((len(mols), len(DESCRIPTORS)), dtype=np.float32) if descriptors else None
    offset = 0
    for k, (_, mol) in enumerate(mols):
        atoms += _atom_rows(mol)
        bonds += _bond_rows(mol, offset)
        n_atoms[k] = mol.GetNumAtoms()
        offset += n_atoms[k]
        if u is not None:
            u[k] = descriptor_values(mol)
    edge_index, edge_attr = _bond_matrices(bonds)
    return GraphChunk(
        x=_atom_matrix(atoms),
        edge_index=edge_index,
        edge_attr=edge_attr,
        n_atoms=n_atoms,
        index=np.array([i for i, _ in mols], dtype=np.int64),
        reasons=reasons,
        size=size,
        u=u,
    )


def featurize_mols(mols: Sequence[Chem.Mol], descriptors: bool = False) -> GraphChunk:
    """Graphs of RDKit molecules.

    Raises:
        ValueError: a molecule is ``None`` or has no atoms; the message gives its index.
    """
    for i, mol in enumerate(mols):
        if mol is None or mol.GetNumAtoms() == 0:
            raise ValueError(f"molecule {i} is {'None' if mol is None else 'empty'}")
    return _pack(list(enumerate(mols)), [], len(mols), descriptors)


def featurize_smiles(smiles: Sequence[str], descriptors: bool = False) -> GraphChunk:
    """Graphs of SMILES strings; unparsable or empty ones are left out with a reason."""
    mols, reasons = [], []
    RDLogger.DisableLog("rdApp.*")
    try:
        for i, smi in enumerate(smiles):
            mol = Chem.MolFromSmiles(smi) if smi else None
            if mol is None:
                reasons.append((i, f"not a valid SMILES string: {smi!r}"))
            elif mol.GetNumAtoms() == 0:
                reasons.append((i, f"no atoms in {smi!r}"))
            else:
                mols.append((i, mol))
    finally:
        RDLogger.EnableLog("rdApp.*")
    return _pack(mols, reasons, len(smiles), descriptors)


def to_batch(chunk: GraphChunk):  # -> torch_geometric.data.Batch
    """One torch-geometric ``Batch`` (on CPU) holding every featurized molecule of ``chunk``."""
    import torch
    from torch_geometric.data import Batch

    n = torch.from_numpy(chunk.n_atoms)
    batch = torch.repeat_interleave(torch.arange(len(n)), n)
    ptr = torch.cat([torch.zeros(1, dtype=torch.long), torch.cumsum(n, 0)])
    return Batch(
        x=torch.from_numpy(chunk.x),
        edge_index=torch.from_numpy(chunk.edge_index),
        edge_attr=torch.from_numpy(chunk.edge_attr),
        batch=batch,
        ptr=ptr,
        u=torch.from_numpy(chunk.u) if chunk.u is not None else None,
    )
