"""Shipped models by name, from any folder: `predict`, `sample`, `finetune`, `train-prior
--init` and campaign files take the names `molgen models` lists, found in the installed
package; a wrong name is one line naming the shipped ones."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from molgen.config import load_campaign
from molgen.pipeline.components import component_params
from molgen.resources import SHIPPED_MODELS, UnknownModelError, data_path, model_file

ROOT = Path(__file__).resolve().parents[3]


def _molgen(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "molgen", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_every_shipped_model_and_its_card_are_found_in_the_package():
    for model in SHIPPED_MODELS.values():
        assert model.path.is_file() and model.path.stat().st_size > 1000
        assert model.card.read_text().startswith("# ")
    assert data_path("seeds", "moses_1k.smi").read_text().count("\n") == 1000
    assert model_file("solubility", "predictor") == SHIPPED_MODELS["solubility"].path
    with pytest.raises(UnknownModelError, match=r"selfies-prior"):
        model_file("solubility", "prior")  # a predictor is not a prior


def test_models_lists_the_shipped_models(tmp_path):
    done = _molgen("models", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for name in SHIPPED_MODELS:
        assert name in done.stdout


def test_predict_and_sample_by_name_outside_the_repository(tmp_path):
    predicted = _molgen("predict", "solubility", "-", "--workers", "0", cwd=tmp_path, stdin="CCO\n")
    assert predicted.returncode == 0, predicted.stderr
    (row,) = csv.DictReader(io.StringIO(predicted.stdout))
    assert row["smiles"] == "CCO" and float(row["log_solubility"]) > -1

    free = _molgen("predict", "hydration_free_energy", "-", cwd=tmp_path, stdin="CCO\n")
    assert free.returncode == 0, free.stderr
    assert "hydration_free_energy" in free.stdout

    sampled = _molgen("sample", "--n", "5", "--out", "s.smi", "--device", "cpu", cwd=tmp_path)
    assert sampled.returncode == 0, sampled.stderr
    assert len((tmp_path / "s.smi").read_text().split()) == 5


def test_a_wrong_model_name_is_one_line_naming_the_shipped_models(tmp_path):
    done = _molgen("predict", "solubilty", "-", cwd=tmp_path, stdin="CCO\n")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: solubilty: no such file, and not the name of a shipped predictor model "
        "(solubility, hydration_free_energy)"
    ]
    done = _molgen("sample", "--n", "1", "--out", "x.smi", "--prior", "solubility", cwd=tmp_path)
    assert done.returncode == 2 and "shipped prior model (selfies-prior)" in done.stderr


def test_campaign_files_take_model_names_and_key_them_by_content(tmp_path):
    text = (ROOT / "examples" / "demo.toml").read_text()
    path = tmp_path / "c.toml"
    text = text.replace('kind = "graph_ga"', 'kind = "selfies_rl"\nprior = "selfies-prior"', 1)
    text = text.replace("population_size = 100\n", "").replace("mutation_rate = 0.1\n", "")
    path.write_text(text)
    campaign = load_campaign(path)
    params = component_params(campaign)
    assert Path(params["generator"]["params"]["prior"]) == SHIPPED_MODELS["selfies-prior"].path

    # A file named like a shipped model in the campaign's folder is the file, not the model.
    (tmp_path / "selfies-prior").write_bytes(b"not a prior")
    with pytest.raises(ValueError, match=r"selfies-prior"):
        component_params(load_campaign(path))
