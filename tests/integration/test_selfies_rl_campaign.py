"""A campaign with the selfies_rl generator: real flow, store and checkpoints, a tiny prior."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support import kill_run_when, store_top

from molgen.config import load_campaign
from molgen.generators.selfies_lm.train import encode_all, moses_subset, train_prior

pytestmark = pytest.mark.integration

CAMPAIGN = """
name = "rl"
seed = 3
output = "out"
predictors = ["qed", "sa_score"{extra}]
[target]
name = "DRD2"
[generator]
kind = "selfies_rl"
prior = "{prior}"
learning_rate = 0.001
[budget]
rounds = 3
molecules_per_round = 60
[[objectives]]
value = "qed"
transform = {{ kind = "linear", low = 0.2, high = 0.9 }}
[[objectives]]
value = "sa_score"
transform = {{ kind = "sigmoid", low = 5.0, high = 2.0 }}
[filters]
alerts = []
rules = []
[runtime]
batch_size = 10
"""


@pytest.fixture(scope="module")
def prior(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("prior")
    selfies, _ = encode_all(moses_subset(200, seed=4))
    spec = {"embedding": 16, "hidden": 32, "layers": 1}
    train_prior(
        selfies[20:], selfies[:20], spec, folder / "w", folder / "prior.safetensors", epochs=2
    )
    return folder / "prior.safetensors"


def _write(folder: Path, prior: Path, slow: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "campaign.toml"
    extra = ', "slow_plugin:SlowQED"' if slow else ""
    path.write_text(CAMPAIGN.format(prior=prior, extra=extra))
    return path


def _run(path: Path) -> list[dict]:
    from flows.campaign import campaign_flow

    return campaign_flow(str(path))


def _result(path: Path) -> tuple[list[tuple], str]:
    """The ranked candidates and the agent's weights after the last round."""
    rows = [(r["rank"], r["inchikey"], round(r["score"], 10), r["round"]) for r in store_top(path)]
    state = json.loads(
        (load_campaign(path).output / "round-3" / "update" / "files" / "state.json").read_text()
    )
    return rows, state["agent"]


def test_selfies_rl_campaign_runs_records_its_prior_and_skips_on_rerun(
    prefect_api, tmp_path, prior
):
    path = _write(tmp_path, prior)
    reports = _run(path)
    assert {(r["round"], r["stage"]) for r in reports} >= {(3, "update"), (1, "generate")}
    top = store_top(path)
    assert len(top) >= 10
    provenance = top[0]["provenance"]["generator"]
    assert provenance["generator"] == "selfies_rl" and len(provenance["prior_sha256"]) == 64
    again = _run(path)
    assert all(r["status"] == "skipped" for r in again)


@pytest.fixture(scope="module")
def reference(prefect_api, tmp_path_factory, prior) -> tuple[Path, tuple[list[tuple], str]]:
    """An uninterrupted run of the campaign with the slow predictor, and its result."""
    path = _write(tmp_path_factory.mktemp("reference"), prior, slow=True)
    _run(path)
    return path, _result(path)


def test_kill_during_predict_of_round_2_resumes_to_the_same_candidates_and_agent(
    prefect_api, tmp_path, prior, reference
):
    path = _write(tmp_path, prior, slow=True)
    out = load_campaign(path).output
    parts = out / "round-2" / "predict" / "parts"
    kill_run_when(path, parts, "batch-00000.parquet", prefect_api, "round 2's first batch")
    assert (out / "round-2" / "generate" / "manifest.json").exists()
    assert not (out / "round-2" / "predict" / "manifest.json").exists()

    status = {(r["round"], r["stage"]): r["status"] for r in _run(path)}
    assert status[(2, "generate")] == "skipped" and status[(2, "predict")] == "resumed"
    assert status[(2, "update")] == "ran"
    assert _result(path) == reference[1]


def test_kill_during_update_of_round_2_resumes_to_the_same_candidates_and_agent(
    prefect_api, tmp_path, prior, reference
):
    """What a kill -9 inside round 2's update leaves on disk: every stage before it complete,
    the update without its manifest, round 3 not started."""
    path = _write(tmp_path / "killed", prior, slow=True)
    shutil.copytree(load_campaign(reference[0]).output, load_campaign(path).output)
    killed = load_campaign(path).output
    (killed / "round-2" / "update" / "manifest.json").unlink()
    shutil.rmtree(killed / "round-3")

    status = {(r["round"], r["stage"]): r["status"] for r in _run(path)}
    assert status[(2, "generate")] == "skipped" and status[(2, "update")] == "ran"
    assert status[(3, "generate")] == "ran"
    assert _result(path) == reference[1]
