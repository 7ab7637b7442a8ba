"""Molecular graphs for the graph networks: RDKit atoms and bonds to packed feature arrays.

A featurized chunk is a :class:`GraphChunk` of plain numpy arrays (cheap to send between
processes); :func:`to_batch` turns it into one torch-geometric ``Batch`` without building a
``Data`` object per molecule.

Failure rule: :func:`featurize_smiles` never raises for a bad molecule: the molecule is left out
of the chunk and its reason is recorded in :attr:`GraphChunk.reasons`; :func:`featurize_mols`
raises :class:`ValueError` naming the index of a ``None`` or atom-less molecule.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from rdkit import Chem, RDLogger
from rdkit.Chem import rdMolDescriptors, rdqueries

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
            ``x``; molecule by molecule, each one's bonds begin → end atom, then end → begin.
        edge_attr: bond features, float32 ``(n_directed_bonds, BOND_DIM)``.
        n_atoms: atoms per featurized molecule, int64 ``(n_mols,)``.
        index: position in the input of each featurized molecule, int64 ``(n_mols,)``.
        reasons: ``(input position, reason)`` for every molecule left out.
        size: number of inputs, featurized or not.
        u: the :data:`DESCRIPTORS` of each featurized molecule, float32 ``(n_mols, 9)``, or
            None when not asked for.
        n_bonds: bonds per featurized molecule, int64 ``(n_mols,)`` (each has twice as many
            edges), or None when unknown (then :meth:`split` does not split).
    """

    x: np.ndarray
    edge_index: np.ndarray
    edge_attr: np.ndarray
    n_atoms: np.ndarray
    index: np.ndarray
    reasons: list[tuple[int, str]]
    size: int
    u: np.ndarray | None = None
    n_bonds: np.ndarray | None = None

    def split(self, max_atoms: int) -> list[GraphChunk]:
        """Consecutive parts of about ``max_atoms`` atoms each (a molecule is never cut; a part
        holds at least one), as views of this chunk's arrays.

        A part keeps the input positions in ``index``; its ``size`` is its number of molecules
        and its ``reasons`` are empty (the rejections stay with the whole chunk).
        """
        n = len(self.n_atoms)
        if self.n_bonds is None or n == 0 or int(self.n_atoms.sum()) <= max_atoms:
            return [self]
        atom_end = np.cumsum(self.n_atoms)
        edge_end = np.cumsum(2 * self.n_bonds)
        cuts = np.searchsorted(atom_end, np.arange(max_atoms, atom_end[-1], max_atoms), "right")
        bounds = np.unique(np.concatenate([[0], np.maximum(cuts, 1), [n]])).tolist()
        parts = []
        for m0, m1 in zip(bounds[:-1], bounds[1:], strict=True):
            a0 = int(atom_end[m0 - 1]) if m0 else 0
            e0 = int(edge_end[m0 - 1]) if m0 else 0
            a1, e1 = int(atom_end[m1 - 1]), int(edge_end[m1 - 1])
            parts.append(
                GraphChunk(
                    x=self.x[a0:a1],
                    edge_index=self.edge_index[:, e0:e1] - a0,
                    edge_attr=self.edge_attr[e0:e1],
                    n_atoms=self.n_atoms[m0:m1],
                    index=self.index[m0:m1],
                    reasons=[],
                    size=m1 - m0,
                    u=None if self.u is None else self.u[m0:m1],
                    n_bonds=self.n_bonds[m0:m1],
                )
            )
        return parts


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


def _one_atom_query(atom: Chem.Atom) -> Chem.Mol:
    query = Chem.RWMol()
    query.AddAtom(atom)
    return query.GetMol()


# matches a molecule with any chiral tag: one C++ test per molecule instead of a call per atom
_HAS_CHIRAL_TAG = _one_atom_query(rdqueries.HasChiralTagQueryAtom())
_DOUBLE = int(Chem.BondType.DOUBLE)
_get_atom, _get_bond = Chem.Mol.GetAtomWithIdx, Chem.Mol.GetBondWithIdx


def _ints(method, items: list, n: int) -> np.ndarray:
    """``method`` of every item, int64 ``(n,)`` (enums read as their integer values)."""
    return np.fromiter(map(method, items), np.int64, n)


def _flags(method, items: list, n: int) -> np.ndarray:
    return np.fromiter(map(method, items), np.bool_, n)


def _atom_matrix(
    atoms: list[Chem.Atom],
    degree: np.ndarray,
    ring: np.ndarray,
    chiral_at: np.ndarray,
    chiral_tag: np.ndarray,
) -> np.ndarray:
    """Atom feature matrix, float32 ``(n_atoms, ATOM_DIM)``.

    Every property is read with one pass of a C-level ``map`` over the chunk's atoms, except
    those the bonds give (``degree``; ``ring``: the atom has a ring bond, which is RDKit's
    ring membership) and the chiral tags (``chiral_tag`` at rows ``chiral_at``), read from the
    molecules that have one only.
    """
    n = len(atoms)
    z = _ints(Chem.Atom.GetAtomicNum, atoms, n)
    charge = _ints(Chem.Atom.GetFormalCharge, atoms, n)
    hs = _ints(Chem.Atom.GetTotalNumHs, atoms, n)
    hybrid = _ints(Chem.Atom.GetHybridization, atoms, n)
    aromatic = _flags(Chem.Atom.GetIsAromatic, atoms, n)
    mass = np.fromiter(map(Chem.Atom.GetMass, atoms), np.float64, n)
    x = np.zeros((n, ATOM_DIM), dtype=np.float32)
    idx = np.arange(n)
    x[idx, _EL + _ELEMENT_LOOKUP[np.minimum(z, 127)]] = 1.0
    x[idx, _DEG + np.minimum(degree, 6)] = 1.0
    x[idx, _CHG + np.clip(charge, -2, 2) + 2] = 1.0
    x[idx, _HS + np.minimum(hs, 4)] = 1.0
    x[idx, _HYB + _HYBRID_LOOKUP[np.minimum(hybrid, 15)]] = 1.0
    chiral = _CHIRAL_LOOKUP[np.minimum(chiral_tag, 15)]
    has = chiral >= 0
    x[chiral_at[has], _CHI + chiral[has]] = 1.0
    x[:, _ARO] = aromatic
    x[:, _RING] = ring
    x[:, _MASS] = mass * 0.01
    return x


def _bond_matrices(
    bonds: list[Chem.Bond], offset: np.ndarray, n_bonds: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(edge_index (2, 2b) int64, edge_attr (2b, BOND_DIM) float32)`` of a chunk's bonds
    (``offset``: index of the first atom of each bond's molecule; ``n_bonds``: bonds per
    molecule). Each molecule's edges are contiguous: its bonds begin → end atom, in bond order,
    then the same bonds end → begin. E/Z is read from double bonds only, the one bond type
    RDKit gives it to. Column 5 (in a ring) of ``edge_attr`` is what :func:`_atom_matrix`
    takes ring membership from."""
    b = len(bonds)
    begin = _ints(Chem.Bond.GetBeginAtomIdx, bonds, b) + offset
    end = _ints(Chem.Bond.GetEndAtomIdx, bonds, b) + offset
    kind = _ints(Chem.Bond.GetBondType, bonds, b)
    attr = np.zeros((b, BOND_DIM), dtype=np.float32)
    idx = np.arange(b)
    attr[idx, _BOND_LOOKUP[np.minimum(kind, 31)]] = 1.0
    attr[:, 4] = _flags(Chem.Bond.GetIsConjugated, bonds, b)
    attr[:, 5] = _flags(Chem.Bond.IsInRing, bonds, b)
    double = np.flatnonzero(kind == _DOUBLE)
    if len(double):
        stereo = _STEREO_LOOKUP[
            np.minimum(_ints(Chem.Bond.GetStereo, [bonds[i] for i in double], len(double)), 15)
        ]
        has = stereo >= 0
        attr[double[has], 6 + stereo[has]] = 1.0
    # edge positions: a molecule whose bonds start at k in the chunk owns edges 2k .. 2k+2n-1
    first = np.repeat(np.cumsum(n_bonds) - n_bonds, n_bonds)
    forward = idx + first
    backward = forward + np.repeat(n_bonds, n_bonds)
    edge_index = np.empty((2, 2 * b), dtype=np.int64)
    edge_index[0, forward], edge_index[1, forward] = begin, end
    edge_index[0, backward], edge_index[1, backward] = end, begin
    edge_attr = np.empty((2 * b, BOND_DIM), dtype=np.float32)
    edge_attr[forward] = attr
    edge_attr[backward] = attr
    return edge_index, edge_attr


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
    """One chunk from ``(input position, molecule)`` pairs. Every atom and bond of the chunk is
    collected first and each property read in one pass over all of them, then the arrays are
    built once per chunk: per-atom Python work is what featurization time is made of.

    Python's cyclic garbage collector is paused meanwhile: the chunk's atom and bond objects
    (tens of thousands, none in a reference cycle, all freed on return) would otherwise set off
    full collections, which in a process holding torch's objects cost more than the chunk."""
    with _collector_paused():
        return _pack_chunk(mols, reasons, size, descriptors)


@contextmanager
def _collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _pack_chunk(
    mols: list[tuple[int, Chem.Mol]],
    reasons: list[tuple[int, str]],
    size: int,
    descriptors: bool,
) -> GraphChunk:
    n_atoms = np.fromiter((mol.GetNumAtoms() for _, mol in mols), np.int64, len(mols))
    n_bonds = np.fromiter((mol.GetNumBonds() for _, mol in mols), np.int64, len(mols))
    atom_ptr = np.cumsum(n_atoms) - n_atoms
    atoms = [
        _get_atom(mol, i)
        for (_, mol), n in zip(mols, n_atoms.tolist(), strict=True)
        for i in range(n)
    ]
    bonds = [
        _get_bond(mol, i)
        for (_, mol), n in zip(mols, n_bonds.tolist(), strict=True)
        for i in range(n)
    ]
    # chiral tags: one substructure test per molecule, atom by atom only where it finds one
    chiral_at: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    chiral_tag: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    for (_, mol), start, n in zip(mols, atom_ptr.tolist(), n_atoms.tolist(), strict=True):
        if mol.HasSubstructMatch(_HAS_CHIRAL_TAG):
            chiral_at.append(np.arange(start, start + n))
            chiral_tag.append(_ints(Chem.Atom.GetChiralTag, atoms[start : start + n], n))
    edge_index, edge_attr = _bond_matrices(bonds, np.repeat(atom_ptr, n_bonds), n_bonds)
    degree = np.bincount(edge_index[0], minlength=len(atoms))
    ring = np.zeros(len(atoms), dtype=np.bool_)
    ring[edge_index[0, edge_attr[:, 5] > 0]] = True
    u = None
    if descriptors:
        u = np.empty((len(mols), len(DESCRIPTORS)), dtype=np.float32)
        for k, (_, mol) in enumerate(mols):
            u[k] = descriptor_values(mol)
    return GraphChunk(
        x=_atom_matrix(atoms, degree, ring, np.concatenate(chiral_at), np.concatenate(chiral_tag)),
        edge_index=edge_index,
        edge_attr=edge_attr,
        n_atoms=n_atoms,
        index=np.array([i for i, _ in mols], dtype=np.int64),
        reasons=reasons,
        size=size,
        u=u,
        n_bonds=n_bonds,
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
