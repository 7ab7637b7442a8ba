"""A campaign with the selfies_rl generator: real flow, store and checkpoints, a tiny prior."""

from __future__ import annotations

import pytest

from molgen.config import load_campaign
from molgen.generators.selfies_lm.train import encode_all, moses_subset, train_prior
from molgen.store import CandidateStore

pytestmark = pytest.mark.integration

CAMPAIGN = """
name = "rl"
seed = 3
output = "out"
predictors = ["qed", "sa_score"]
[target]
name = "DRD2"
[generator]
kind = "selfies_rl"
prior = "prior.safetensors"
learning_rate = 0.001
[budget]
rounds = 3
molecules_per_round = 60
[[objectives]]
value = "qed"
transform = { kind = "linear", low = 0.2, high = 0.9 }
[[objectives]]
value = "sa_score"
transform = { kind = "sigmoid", low = 5.0, high = 2.0 }
[filters]
alerts = []
rules = []
[runtime]
batch_size = 30
"""


def test_selfies_rl_campaign_runs_records_its_prior_and_skips_on_rerun(prefect_api, tmp_path):
    from flows.campaign import campaign_flow

    selfies, _ = encode_all(moses_subset(200, seed=4))
    spec = {"embedding": 16, "hidden": 32, "layers": 1}
    train_prior(
        selfies[20:], selfies[:20], spec, tmp_path / "w", tmp_path / "prior.safetensors", epochs=2
    )
    path = tmp_path / "campaign.toml"
    path.write_text(CAMPAIGN)
    reports = campaign_flow(str(path))
    assert {(r["round"], r["stage"]) for r in reports} >= {(3, "update"), (1, "generate")}
    campaign = load_campaign(path)
    store = CandidateStore(campaign.store_url)
    try:
        top = store.top("rl")
    finally:
        store.close()
    assert len(top) >= 10
    provenance = top[0]["provenance"]["generator"]
    assert provenance["generator"] == "selfies_rl" and len(provenance["prior_sha256"]) == 64
    again = campaign_flow(str(path))
    assert all(r["status"] == "skipped" for r in again)
