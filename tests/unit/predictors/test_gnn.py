"""molgen's graph models: featurization, training, checkpoints, streaming prediction."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch
from rdkit import Chem

from molgen.predictors.gnn.checkpoint import ModelFileError, load_model, save_model
from molgen.predictors.gnn.featurize import ATOM_DIM, BOND_DIM, featurize_smiles
from molgen.predictors.gnn.model import ModelSpec
from molgen.predictors.gnn.predictor import GraphModelPredictor
from molgen.predictors.gnn.train import random_split, scaffold_split, train_model

DATA = Path(__file__).resolve().parents[3] / "data" / "properties"


def _solubility(n: int) -> tuple[list[str], np.ndarray]:
    with (DATA / "solubility_train.csv").open() as fh:
        rows = list(csv.DictReader(fh))[:n]
    return [r["smiles"] for r in rows], np.array([[float(r["log_solubility"])] for r in rows])


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> tuple[Path, list[str], np.ndarray, dict]:
    """A small model trained to overfit 20 molecules, saved to a file."""
    smiles, y = _solubility(20)
    spec = ModelSpec(tasks=("log_solubility",), units=("log mol/L",), hidden=32, dropout=0.0)
    model, card = train_model(
        smiles,
        y,
        spec,
        split="random",
        test_smiles=smiles,
        test_y=y,
        seed=3,
        epochs=250,
        patience=250,
        lr=3e-3,
        batch_size=8,
    )
    path = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    save_model(model, path, card)
    return path, smiles, y, card


def test_featurize_packs_both_bond_directions_and_rejects_bad_smiles():
    chunk = featurize_smiles(["CCO", "not a smiles", "c1ccccc1", ""], descriptors=True)
    assert chunk.size == 4
    assert chunk.index.tolist() == [0, 2]
    assert chunk.n_atoms.tolist() == [3, 6]
    assert chunk.x.shape == (9, ATOM_DIM) and chunk.edge_attr.shape == (2 * (2 + 6), BOND_DIM)
    assert chunk.u.shape == (2, 9)
    # ethanol's bonds in both directions, benzene's offset by ethanol's 3 atoms
    pairs = set(map(tuple, chunk.edge_index.T.tolist()))
    assert {(0, 1), (1, 0), (1, 2), (2, 1), (3, 4), (4, 3)} <= pairs
    assert [i for i, _ in chunk.reasons] == [1, 3]
    assert "not a smiles" in chunk.reasons[0][1]


def test_a_small_model_overfits_20_molecules(tiny_model):
    path, smiles, y, card = tiny_model
    parts = random_split(len(smiles), seed=3, fractions=(0.9, 0.1, 0.0))
    predicted = GraphModelPredictor(path=path, device="cpu").predict(
        [Chem.MolFromSmiles(s) for s in smiles]
    )
    train_rmse = float(np.sqrt(((predicted[parts.train] - y[parts.train]) ** 2).mean()))
    assert train_rmse < 0.25 * float(y.std())
    assert card["n_train"] == 18 and card["n_valid"] == 2


def test_checkpoint_reloads_and_predicts_identically(tiny_model):
    path, smiles, _, card = tiny_model
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    first = GraphModelPredictor(path=path, device="cpu").predict(mols)
    model, loaded_card = load_model(path)
    assert loaded_card["n_train"] == card["n_train"]
    again = GraphModelPredictor(path=path, device="cpu").predict(mols)
    np.testing.assert_array_equal(first, again)
    assert model.spec.tasks == ("log_solubility",)


def test_streaming_prediction_rejects_bad_molecules_and_predicts_the_rest(tiny_model):
    path, smiles, _, _ = tiny_model
    predictor = GraphModelPredictor(path=path, device="cpu", batch_size=4)
    inputs = smiles[:5] + ["C1CC", "not a smiles"] + smiles[5:9]
    expected = predictor.predict([Chem.MolFromSmiles(s) for s in smiles[:9]])
    for workers in (0, 1):
        chunks = list(predictor.predict_smiles(iter(inputs), workers=workers))
        values = np.concatenate([v for v, _ in chunks])
        reasons = [(k * 4 + i, why) for k, (_, r) in enumerate(chunks) for i, why in r]
        assert [i for i, _ in reasons] == [5, 6]
        assert "C1CC" in reasons[0][1]
        assert np.isnan(values[[5, 6]]).all()
        np.testing.assert_allclose(values[[0, 1, 2, 3, 4, 7, 8, 9, 10]], expected, rtol=1e-5)


def test_uncertainty_adds_the_spread_of_ensemble_members(tmp_path):
    smiles, y = _solubility(12)
    spec = ModelSpec(tasks=("log_solubility",), hidden=16, members=2, descriptors=False)
    model, card = train_model(smiles, y, spec, split="random", seed=1, epochs=3, patience=3)
    path = tmp_path / "ens.safetensors"
    save_model(model, path, card)
    predictor = GraphModelPredictor(path=path, uncertainty=True, device="cpu")
    assert [o.name for o in predictor.outputs] == ["log_solubility", "log_solubility_std"]
    values = predictor.predict([Chem.MolFromSmiles(s) for s in smiles])
    assert values.shape == (12, 2) and (values[:, 1] > 0).all()


def test_scaffold_splits_share_no_scaffold():
    smiles, _ = _solubility(300)
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    from rdkit.Chem.Scaffolds import MurckoScaffold

    def scaffolds(idx):
        return {MurckoScaffold.MurckoScaffoldSmiles(mol=mols[i]) for i in idx}

    for balanced in (False, True):
        s = scaffold_split(mols, balanced=balanced, seed=0)
        assert len(s.train) + len(s.valid) + len(s.test) == 300
        assert not scaffolds(s.train) & scaffolds(s.test)
        assert not scaffolds(s.valid) & scaffolds(s.test)
    assert scaffold_split(mols, balanced=True, seed=1).test.tolist() != (
        scaffold_split(mols, balanced=True, seed=2).test.tolist()
    )


def test_files_that_are_not_molgen_models_give_clear_errors(tmp_path, tiny_model):
    from safetensors.torch import save_file

    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x00\x01 this is not a model" * 10)
    with pytest.raises(ModelFileError, match=r"garbage.safetensors: not a safetensors file"):
        load_model(garbage)
    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(3)}, str(foreign), metadata={"format": "pt"})
    with pytest.raises(ModelFileError, match="not a molgen graph model"):
        load_model(foreign)
    pickle = tmp_path / "model.pt"
    torch.save({"w": torch.zeros(3)}, pickle)
    with pytest.raises(ModelFileError, match="not a safetensors file"):
        load_model(pickle)
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(tiny_model[0].read_bytes()[:-100])
    with pytest.raises(ModelFileError, match="truncated.safetensors"):
        load_model(truncated)
    with pytest.raises(ModelFileError, match="no such file"):
        load_model(tmp_path / "missing.safetensors")


@pytest.mark.parametrize(
    ("name", "output", "low", "high"),
    [
        ("solubility", "log_solubility", "c1ccc2cc3ccccc3cc2c1", "OCC(O)CO"),
        ("hydration_free_energy", "hydration_free_energy", "OCC(O)CO", "CCCCCC"),
    ],
)
def test_shipped_models_rank_obvious_pairs(name, output, low, high):
    from molgen.predictors import PREDICTORS

    predictor = PREDICTORS.get(name)(device="cpu")
    assert predictor.outputs[0].name == output
    assert len(predictor.sha256) == 64
    values = predictor.predict([Chem.MolFromSmiles(low), Chem.MolFromSmiles(high)])[:, 0]
    assert values[0] < values[1]
