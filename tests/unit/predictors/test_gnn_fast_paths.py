"""The fast paths of molgen's graph models: chunk featurization, CPU parts, CPU inference layers.

Each is checked against the plain reading it replaces: features against a per-atom, per-bond
reading of RDKit, the blocked CPU layers against torch-geometric's ``GINEConv``, predictions in
parts against one pass over the whole chunk.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rdkit import Chem

from molgen.predictors.gnn import featurize as F
from molgen.predictors.gnn import predictor as P
from molgen.predictors.gnn.checkpoint import save_model
from molgen.predictors.gnn.model import GraphEnsemble, ModelSpec

# stereo (tetrahedral, E/Z, sulfoxide), charges, isotopes, explicit H, rarer and unlisted
# elements, salts, aromatic heterocycles, single atoms, rings of every kind
SMILES = [
    "C[C@H](N)/C=C/C",
    "F/C=C\\Cl",
    "C[S@@](=O)c1ccccc1",
    "[13CH3]C(=O)[O-]",
    "[2H]OC([2H])([2H])[2H]",
    "[NH4+].[Cl-]",
    "C[N+](C)(C)CC(=O)[O-]",
    "[Se]1C=CC=C1",
    "c1ccc2[nH]ccc2c1",
    "O=[N+]([O-])c1ccc(Br)cc1I",
    "B(F)(F)F",
    "CC(C)(C)[Si](C)(C)OP(=O)(O)O",
    "[Fe+2].[O-]C(=O)C",
    "C#CC#N",
    "[H][H]",
    "O",
    "C1CC2CCC1C2",
    "C/C=C/C=C/C(=O)O[C@@H]1CCCC[C@H]1C",
    "c1ccc(-c2ccccc2)cc1",
]


def _reference(mols: list[Chem.Mol]) -> tuple[np.ndarray, list[list[tuple]]]:
    """Atom features, and each molecule's directed edges ``(source, target, features)`` in the
    chunk's order, read property by property from every atom and bond."""
    rows, edges, offset = [], [], 0
    for mol in mols:
        for a in mol.GetAtoms():
            x = np.zeros(F.ATOM_DIM, dtype=np.float32)
            z = a.GetAtomicNum()
            x[F._EL + (F.ELEMENTS.index(z) if z in F.ELEMENTS else len(F.ELEMENTS))] = 1
            x[F._DEG + min(a.GetDegree(), 6)] = 1
            x[F._CHG + min(max(a.GetFormalCharge(), -2), 2) + 2] = 1
            x[F._HS + min(a.GetTotalNumHs(), 4)] = 1
            x[F._HYB + F._HYBRID.get(a.GetHybridization(), 6)] = 1
            if a.GetChiralTag() in F._CHIRAL:
                x[F._CHI + F._CHIRAL[a.GetChiralTag()]] = 1
            x[F._ARO], x[F._RING] = a.GetIsAromatic(), a.IsInRing()
            x[F._MASS] = a.GetMass() * 0.01
            rows.append(x)
        forward, backward = [], []
        for b in mol.GetBonds():
            e = np.zeros(F.BOND_DIM, dtype=np.float32)
            e[F._BOND.get(b.GetBondType(), 0)] = 1
            e[4], e[5] = b.GetIsConjugated(), b.IsInRing()
            if b.GetStereo() in F._STEREO:
                e[6 + F._STEREO[b.GetStereo()]] = 1
            i, j = b.GetBeginAtomIdx() + offset, b.GetEndAtomIdx() + offset
            forward.append((i, j, e))
            backward.append((j, i, e))
        edges.append(forward + backward)
        offset += mol.GetNumAtoms()
    return np.stack(rows), edges


def test_chunk_features_equal_a_reading_of_every_atom_and_bond():
    mols = [Chem.MolFromSmiles(s) for s in SMILES]
    assert sum(
        a.GetChiralTag() != Chem.ChiralType.CHI_UNSPECIFIED for m in mols for a in m.GetAtoms()
    )
    assert any(b.GetStereo() != Chem.BondStereo.STEREONONE for m in mols for b in m.GetBonds())
    x, edges = _reference(mols)
    for chunk in (F.featurize_mols(mols), F.featurize_smiles(SMILES)):
        np.testing.assert_array_equal(chunk.x, x)
        assert chunk.n_bonds.tolist() == [m.GetNumBonds() for m in mols]
        start = 0
        for mol_edges in edges:  # contiguous per molecule: bonds begin → end, then end → begin
            stop = start + len(mol_edges)
            assert chunk.edge_index[:, start:stop].T.tolist() == [[i, j] for i, j, _ in mol_edges]
            expected = np.array([e for *_, e in mol_edges]).reshape(-1, F.BOND_DIM)
            np.testing.assert_array_equal(chunk.edge_attr[start:stop], expected)
            start = stop
        assert start == chunk.edge_index.shape[1]


def test_a_chunk_of_only_bad_smiles_is_empty():
    chunk = F.featurize_smiles(["not a smiles", ""], descriptors=True)
    assert chunk.x.shape == (0, F.ATOM_DIM) and chunk.edge_index.shape == (2, 0)
    assert chunk.n_bonds.tolist() == [] and chunk.u.shape == (0, len(F.DESCRIPTORS))
    assert chunk.split(4) == [chunk]


def test_split_parts_cover_the_chunk_molecule_by_molecule():
    chunk = F.featurize_smiles(SMILES + ["bad"], descriptors=True)
    parts = chunk.split(12)
    assert len(parts) > 3
    largest = int(chunk.n_atoms.max())
    assert all(p.n_atoms.sum() <= 12 + largest and len(p.n_atoms) >= 1 for p in parts)
    np.testing.assert_array_equal(np.concatenate([p.x for p in parts]), chunk.x)
    np.testing.assert_array_equal(np.concatenate([p.edge_attr for p in parts]), chunk.edge_attr)
    np.testing.assert_array_equal(np.concatenate([p.u for p in parts]), chunk.u)
    assert np.concatenate([p.index for p in parts]).tolist() == chunk.index.tolist()
    offset, rebased = 0, []
    for p in parts:
        assert p.size == len(p.index) and p.reasons == []
        assert p.edge_index.size == 0 or 0 <= p.edge_index.min() <= p.edge_index.max() < len(p.x)
        rebased.append(p.edge_index + offset)
        offset += len(p.x)
    np.testing.assert_array_equal(np.concatenate(rebased, axis=1), chunk.edge_index)
    assert chunk.split(10**6) == [chunk]
    assert [len(p.n_atoms) for p in chunk.split(1)] == [1] * len(chunk.n_atoms)


@pytest.fixture(scope="module")
def random_gine(tmp_path_factory):
    """An untrained two-member GINE ensemble with random weights and descriptors, on file."""
    torch.manual_seed(0)
    spec = ModelSpec(tasks=("a", "b"), hidden=32, members=2, descriptors=True)
    model = GraphEnsemble(spec).eval()
    for conv in (c for m in model.members for c in m.gnn.convs):
        conv.eps.fill_(0.25)  # exercise the (1 + eps) term
    path = tmp_path_factory.mktemp("gine") / "random.safetensors"
    save_model(model, path, {"n_train": 0})
    return model, path


def test_cpu_inference_layers_equal_torch_geometric_gineconv(random_gine, monkeypatch):
    model, _ = random_gine
    from molgen.predictors.gnn.model import GINE

    monkeypatch.setattr("molgen.predictors.gnn.model._EDGE_BLOCK", 7)  # several edge blocks
    calls = []
    blocked = GINE._layers_cpu_inference
    monkeypatch.setattr(
        GINE, "_layers_cpu_inference", lambda self, *a: calls.append(1) or blocked(self, *a)
    )
    batch = F.to_batch(F.featurize_smiles(SMILES, descriptors=True))
    with torch.no_grad():
        fast = model(batch)  # no autograd, eval mode, CPU: the blocked path
    assert len(calls) == 2  # once per member
    reference = model(batch).detach()  # autograd on: GINEConv's own propagate
    assert len(calls) == 2
    assert fast.shape == (2, len(SMILES), 2)
    torch.testing.assert_close(fast, reference, rtol=1e-5, atol=1e-5)


def test_predictions_do_not_depend_on_the_cpu_parts(random_gine, monkeypatch):
    _, path = random_gine
    predictor = P.GraphModelPredictor(path=path, device="cpu", uncertainty=True)
    mols = [Chem.MolFromSmiles(s) for s in SMILES]
    whole = predictor.predict(mols)
    monkeypatch.setattr(P, "CPU_PART_ATOMS", 10)
    in_parts = predictor.predict(mols)
    assert whole.shape == (len(SMILES), 4)
    np.testing.assert_allclose(in_parts, whole, rtol=1e-5, atol=1e-6)


def test_streaming_lowers_torch_threads_only_while_inferring(random_gine, monkeypatch):
    _, path = random_gine
    predictor = P.GraphModelPredictor(path=path, device="cpu")
    seen = []
    infer = predictor._infer

    def spy(chunk):
        seen.append(torch.get_num_threads())
        return infer(chunk)

    monkeypatch.setattr(predictor, "_infer", spy)
    monkeypatch.setattr(P.os, "cpu_count", lambda: 2)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        list(predictor.predict_smiles(SMILES, workers=1))  # 2 CPUs - 1 worker: 1 thread
        assert seen and set(seen) == {1}
        assert torch.get_num_threads() == 2
        seen.clear()
        list(predictor.predict_smiles(SMILES, workers=0))  # no workers: left as it is
        assert set(seen) == {2}
    finally:
        torch.set_num_threads(before)
