"""The real campaign flow, store and checkpoints on tiny budgets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import campaign_store, kill_run_when, store_top

from molgen.config import load_campaign
from molgen.store import CandidateStore

pytestmark = pytest.mark.integration


def _run(path: Path) -> list[dict]:
    from flows.campaign import campaign_flow

    return campaign_flow(str(path))


def _top(path: Path) -> list[tuple]:
    rows = store_top(path)
    return [(r["rank"], r["inchikey"], round(r["score"], 10), r["round"]) for r in rows]


def _counts(path: Path) -> dict:
    with campaign_store(path) as (name, store):
        return store.counts(name)


def test_flow_runs_then_skips_everything(prefect_api, write_campaign):
    path = write_campaign()
    reports = _run(path)
    stages = {(r["round"], r["stage"]) for r in reports}
    assert (2, "store") in stages and (1, "generate") in stages
    assert all(r["status"] == "ran" for r in reports)
    top = _top(path)
    assert len(top) >= 10
    assert [r[0] for r in top] == list(range(1, len(top) + 1))
    out = load_campaign(path).output
    manifest = json.loads((out / "round-1" / "predict" / "manifest.json").read_text())
    assert manifest["rows"] > 0 and len(manifest["input_hash"]) == 64
    assert (out / "round-2" / "score" / "data.parquet").exists()

    again = _run(path)
    assert [r["status"] for r in again] == ["skipped"] * len(again)
    assert _top(path) == top

    from rdkit import Chem
    from typer.testing import CliRunner

    from molgen.cli.main import app

    runner = CliRunner()
    result = runner.invoke(app, ["top", str(path), "--format", "json", "--n", "10"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 10
    first = rows[0]
    assert Chem.MolToSmiles(Chem.MolFromSmiles(first["smiles"])) == first["smiles"]
    assert Chem.MolToInchiKey(Chem.MolFromSmiles(first["smiles"])) == first["inchikey"]
    assert set(first["objectives"]) == {"qed", "sa_score"}
    assert first["provenance"]["generator"]["generator"] == "graph_ga"
    assert first["provenance"]["config_hash"] == load_campaign(path).config_hash()
    assert set(first["provenance"]["predictors"]) >= {"qed", "sa_score", "logp"}

    sdf = path.parent / "top.sdf"
    result = runner.invoke(app, ["export", str(path), "--sdf", str(sdf), "--n", "5"])
    assert result.exit_code == 0, result.output
    mols = list(Chem.SDMolSupplier(str(sdf)))
    assert [m.GetProp("inchikey") for m in mols] == [r["inchikey"] for r in rows[:5]]
    assert float(mols[0].GetProp("qed")) == pytest.approx(first["objectives"]["qed"]["value"], 1e-3)


def test_same_seed_same_candidates_other_seed_differs(prefect_api, write_campaign):
    a = write_campaign(folder="a")
    b = write_campaign(folder="b")
    c = write_campaign(folder="c", seed=8)
    for p in (a, b, c):
        _run(p)
    assert _top(a) == _top(b)
    assert _top(a) != _top(c)


def test_bad_seeds_are_rejected_and_run_finishes(prefect_api, write_campaign, data_dir):
    path = write_campaign(seeds=data_dir / "bad_seeds.smi", rounds=1, n=20)
    _run(path)
    c = load_campaign(path)
    store = CandidateStore(c.store_url)
    rejected = {r["input"]: r["reason"] for r in store.rejections(c.name) if r["stage"] == "seeds"}
    store.close()
    # blank lines are not molecules; each rejection names the line and what it held
    assert set(rejected) == {"line 3: C1CC", "line 4: C(C)(C)(C)(C)C", "line 5: this"}
    assert "unclosed ring" in rejected["line 3: C1CC"]
    assert "valence" in rejected["line 4: C(C)(C)(C)(C)C"].lower()
    assert len(_top(path)) > 0


def test_killed_run_resumes_to_same_candidates(prefect_api, write_campaign):
    reference = write_campaign(folder="ref", slow=True)
    _run(reference)
    expected = _top(reference)

    path = write_campaign(folder="killed", slow=True)
    out = load_campaign(path).output
    parts = out / "round-2" / "predict" / "parts"
    kill_run_when(path, parts, "batch-00001.parquet", prefect_api, "round 2's second batch")
    assert not (out / "round-2" / "predict" / "manifest.json").exists()

    reports = _run(path)
    status = {(r["round"], r["stage"]): r["status"] for r in reports}
    assert status[(1, "predict")] == "skipped"
    assert status[(2, "predict")] == "resumed"
    assert _top(path) == expected
    counts = _counts(path)
    assert counts["candidates"] == len(expected)
