"""Stage keys: a campaign-file change re-runs exactly the stages whose output it decides (and
what depends on them), nothing else; the store then ranks every candidate under the current
file. Real flow, store and docking on a tiny budget."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support import store_top

from molgen.config import load_campaign
from molgen.pipeline.components import default_seeds

pytestmark = pytest.mark.integration

BASE = """
name = "keys"
seed = 7
output = "out"
[target]
name = "DRD2"
[generator]
kind = "graph_ga"
population_size = 20
mutation_rate = 0.1
seeds = "seeds.smi"
[budget]
rounds = 2
molecules_per_round = 16
dock_per_round = 2
[docking]
exhaustiveness = 1
n_poses = 2
workers = 1
[[objectives]]
value = "qed"
weight = 2.0
transform = { kind = "linear", low = 0.2, high = 0.95 }
[[objectives]]
value = "sa_score"
transform = { kind = "sigmoid", low = 5.0, high = 2.0 }
bounds = { max = 6.0 }
[[objectives]]
value = "docking_score"
weight = 2.0
transform = { kind = "linear", low = -4.0, high = -10.0 }
[runtime]
batch_size = 10
"""

STAGES = ("generate", "prepare", "predict", "filter", "dock", "score", "store", "update")
AFTER_FILTER = {"dock", "score", "store", "update"}

QED_WEIGHT = 'weight = 2.0\ntransform = { kind = "linear", low = 0.2'
DOCK_WEIGHT = 'weight = 2.0\ntransform = { kind = "linear", low = -4.0'
DOCK_TRANSFORM = "low = -4.0, high = -10.0 }"
LOGP = '[[objectives]]\nvalue = "logp"\ntransform = { kind = "linear", low = 6.0, high = 1.0 }\n'
THREE_PREDICTORS = 'output = "out"\npredictors = ["qed", "sa_score", "logp"]'

# (label, replacements in the campaign file, round-1 stages expected to run; None: all)
CHANGES = [
    ("batch size", [("batch_size = 10", "batch_size = 7")], set()),
    ("docking workers", [("workers = 1", "workers = 2")], set()),
    ("campaign name", [('name = "keys"', 'name = "keys-renamed"')], {"store"}),
    ("pre-docking weight", [(QED_WEIGHT, QED_WEIGHT.replace("2.0", "3.0"))], AFTER_FILTER),
    (
        "docking weight",
        [(DOCK_WEIGHT, DOCK_WEIGHT.replace("2.0", "1.0"))],
        {"score", "store", "update"},
    ),
    (
        "aggregation",
        [("[runtime]", '[scoring]\naggregation = "geometric_mean"\n[runtime]')],
        AFTER_FILTER,
    ),
    ("objective bound", [("max = 6.0", "max = 3.0")], {"filter"} | AFTER_FILTER),
    (
        "docking bound",
        [(DOCK_TRANSFORM, DOCK_TRANSFORM + "\nbounds = { max = -7.0 }")],
        AFTER_FILTER,
    ),
    ("predictors", [('output = "out"', THREE_PREDICTORS)], {"predict", "filter"} | AFTER_FILTER),
    pytest.param(
        "generator parameter",
        [("mutation_rate = 0.1", "mutation_rate = 0.9")],
        None,
        marks=pytest.mark.slow,  # everything re-runs and docks anew: half a minute
    ),
]


def _run(path: Path) -> dict[tuple[int, str], str]:
    from flows.campaign import campaign_flow

    return {(r["round"], r["stage"]): r["status"] for r in campaign_flow(str(path))}


@pytest.fixture(scope="module")
def finished(prefect_api, tmp_path_factory) -> Path:
    """A finished two-round campaign with docking, to copy and change."""
    folder = tmp_path_factory.mktemp("base")
    (folder / "seeds.smi").write_text("\n".join(default_seeds().read_text().splitlines()[:60]))
    (folder / "campaign.toml").write_text(BASE)
    status = _run(folder / "campaign.toml")
    assert set(status.values()) == {"ran"}
    return folder


def _changed(finished: Path, tmp_path: Path, replacements) -> Path:
    folder = tmp_path / "campaign"
    shutil.copytree(finished, folder)
    text = BASE
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    (folder / "campaign.toml").write_text(text)
    return folder / "campaign.toml"


@pytest.mark.parametrize(
    ("label", "replacements", "expected"),
    CHANGES,
    ids=[getattr(c, "values", c)[0] for c in CHANGES],
)
def test_a_change_reruns_exactly_the_stages_it_decides(
    finished, tmp_path, label, replacements, expected
):
    path = _changed(finished, tmp_path, replacements)
    status = _run(path)
    assert status[(0, "seeds")] == "skipped"
    ran = {s for s in STAGES if status[(1, s)] != "skipped"}
    assert ran == (set(STAGES) if expected is None else expected), label
    if "update" not in ran:  # the generator learned the same: round 2 repeats round 1's pattern
        assert {s for s in STAGES if status[(2, s)] != "skipped"} == ran, label
    _assert_ranked_under(path)


def _assert_ranked_under(path: Path) -> None:
    """Every candidate in the store is one of the current run's, scored under the current
    file's objectives, ranked 1..n."""
    campaign = load_campaign(path)
    top = store_top(path)
    weights = {o.value: o.weight for o in campaign.objectives}
    for row in top:
        assert {k: v["weight"] for k, v in row["objectives"].items()} == weights
        assert row["provenance"]["config_hash"] == campaign.config_hash()
    import pandas as pd

    scored = pd.concat(
        [pd.read_parquet(campaign.output / f"round-{k}" / "score" / "data.parquet") for k in (1, 2)]
    )
    assert sorted(r["inchikey"] for r in top) == sorted(scored["inchikey"])
    assert [r["rank"] for r in top] == list(range(1, len(top) + 1))


def test_added_objective_and_changed_weight_rank_every_candidate_under_the_new_file(
    finished, tmp_path
):
    from typer.testing import CliRunner

    from molgen.cli.main import app

    changes = [("[runtime]", LOGP + "[runtime]"), (QED_WEIGHT, QED_WEIGHT.replace("2.0", "0.5"))]
    path = _changed(finished, tmp_path, changes)
    _run(path)
    _assert_ranked_under(path)
    result = CliRunner().invoke(app, ["top", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    names = {"qed", "sa_score", "docking_score", "logp"}
    assert rows and all(set(r["objectives"]) == names for r in rows)
    assert all(r["objectives"]["qed"]["weight"] == 0.5 for r in rows)
    scores = [r["score"] for r in rows]
    assert scores == sorted(scores, reverse=True)
