"""`molgen train-prior` and `molgen sample` end to end: the real Prefect flow, card and resume."""

from __future__ import annotations

import pytest
from rdkit import Chem
from typer.testing import CliRunner

from molgen.cli.main import app
from molgen.generators.selfies_lm.model import load_prior
from molgen.generators.selfies_lm.train import moses_subset

pytestmark = pytest.mark.integration


def test_train_prior_flow_rejects_bad_lines_resumes_and_its_prior_samples(prefect_api, tmp_path):
    from flows.train_prior import train_prior_flow

    smiles = moses_subset(100, seed=11)
    smiles.insert(30, "C1CC")  # unclosed ring: rejected with its reason, training goes on
    data = tmp_path / "train.smi"
    data.write_text("".join(f"{s} mol{i}\n" for i, s in enumerate(smiles)))
    out = tmp_path / "prior"
    args = {"embedding": 16, "hidden": 32, "layers": 1, "valid_fraction": 0.1, "seed": 2}

    first = train_prior_flow(str(out), smiles_file=str(data), epochs=1, **args)
    assert [h["epoch"] for h in first["history"]] == [1]
    assert first["rejected"] == 1 and first["n_train"] + first["n_valid"] == 100
    # the same command with more epochs continues from the checkpoint of epoch 1
    card = train_prior_flow(str(out), smiles_file=str(data), epochs=2, **args)
    assert [h["epoch"] for h in card["history"]] == [1, 2]
    assert card["history"][0] == first["history"][0]
    readme = (out / "README.md").read_text()
    assert str(data) in readme and "1 rejected" in readme
    model, _, _ = load_prior(out / "prior.safetensors")
    assert model.spec.hidden == 32

    samples = tmp_path / "samples.smi"
    result = CliRunner().invoke(
        app,
        ["sample", "--n", "50", "--out", str(samples), "--prior", str(out / "prior.safetensors")],
    )
    assert result.exit_code == 0, result.output
    lines = samples.read_text().split()
    assert len(lines) == len(set(lines)) == 50
    assert all(Chem.MolFromSmiles(s) is not None for s in lines)
