"""The docking surrogate and the surrogate stage, on 100 molecules docked into DRD2 by molgen
(``tests/data/docking/drd2_docked_100.csv``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from molgen.artifacts import hash_frame
from molgen.config import SurrogateConfig
from molgen.docking.surrogate import (
    DockingSurrogate,
    acquisition_values,
    choose,
    make_surrogate,
)
from molgen.pipeline.selection import picked, surrogate_predictions, surrogate_stage
from molgen.pipeline.stages import StageOutput
from molgen.types import StageReport

DOCKED = Path(__file__).parents[2] / "data" / "docking" / "drd2_docked_100.csv"


@pytest.fixture(scope="module")
def docked() -> pd.DataFrame:
    return pd.read_csv(DOCKED)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_surrogate_ranks_held_out_molecules_better_than_a_constant(docked, seed):
    order = np.random.default_rng(seed).permutation(len(docked))
    train, test = docked.iloc[order[:75]], docked.iloc[order[75:]]
    model = DockingSurrogate(trees=100, seed=seed)
    model.fit(train["smiles"].tolist(), train["docking_score"])
    mean, std = model.predict(test["smiles"].tolist())
    # a constant prediction ranks nothing (Spearman 0 at best); the surrogate ranks
    assert spearmanr(mean, test["docking_score"]).statistic > 0.4
    assert (std >= 0).all() and std.mean() > 0
    # and it is closer than the training mean, the best constant
    constant = np.abs(train["docking_score"].mean() - test["docking_score"]).mean()
    assert np.abs(mean - test["docking_score"]).mean() < constant


def test_the_graph_ensemble_learns_too(docked):
    order = np.random.default_rng(1).permutation(len(docked))
    train, test = docked.iloc[order[:75]], docked.iloc[order[75:]]
    model = make_surrogate("graph", seed=1, members=2)
    model.fit(train["smiles"].tolist(), train["docking_score"])
    mean, std = model.predict(test["smiles"].tolist())
    assert spearmanr(mean, test["docking_score"]).statistic > 0.3
    assert (std > 0).all()
    again = make_surrogate("graph", seed=1, members=2).fit(
        train["smiles"].tolist(), train["docking_score"]
    )
    assert np.array_equal(again.predict(test["smiles"].tolist())[0], mean)
    with pytest.raises(ValueError, match="at least 10"):
        make_surrogate("graph", seed=1).fit(["CCO", "CCN"], [-4.0, -4.5])


def test_training_is_reproducible_from_its_seed(docked):
    smiles, y = docked["smiles"].tolist(), docked["docking_score"]
    a = DockingSurrogate(trees=20, seed=5).fit(smiles[:80], y[:80]).predict(smiles[80:])
    b = DockingSurrogate(trees=20, seed=5).fit(smiles[:80], y[:80]).predict(smiles[80:])
    c = DockingSurrogate(trees=20, seed=6).fit(smiles[:80], y[:80]).predict(smiles[80:])
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="molecule 1 .*not a valid SMILES"):
        DockingSurrogate().fit(["CCO", "C1CC"], [-5.0, -6.0])
    with pytest.raises(ValueError, match="finite"):
        DockingSurrogate().fit(["CCO", "CCN"], [-5.0, float("nan")])
    with pytest.raises(ValueError, match="unknown acquisition"):
        acquisition_values(np.zeros(2), np.zeros(2), "best")


def test_acquisitions_rank_as_documented():
    mean, std = np.array([-8.0, -7.0, -6.0]), np.array([0.1, 1.0, 3.0])
    assert np.argsort(acquisition_values(mean, std, "greedy")).tolist() == [0, 1, 2]
    # ucb, beta 2: -8.2, -9.0, -12.0: the uncertain molecule first
    assert np.argsort(acquisition_values(mean, std, "ucb", 2.0)).tolist() == [2, 1, 0]
    draws = [
        acquisition_values(mean, std, "thompson", rng=np.random.default_rng(s)) for s in (1, 1)
    ]
    assert np.array_equal(*draws)


def test_choose_takes_the_random_share_then_the_best():
    keys = [f"K{i}" for i in range(10)]
    values = np.arange(10, dtype=float)[::-1]  # K9 is best
    picks = choose(keys, values, 4, 1, np.random.default_rng(0))
    assert len(picks) == 4 and [how for _, how in picks] == ["random"] + ["acquisition"] * 3
    best = [i for i, how in picks if how == "acquisition"]
    assert best == [i for i in (9, 8, 7, 6) if i != picks[0][0]][:3]
    everything = choose(keys, None, 20, 0, np.random.default_rng(0))
    assert sorted(i for i, _ in everything) == list(range(10))
    assert {how for _, how in everything} == {"random"}


def _cache(table: pd.DataFrame) -> list[tuple[str, str, float]]:
    columns = (table["inchikey"], table["smiles"], table["docking_score"])
    return list(zip(*columns, strict=True))


def _filtered(table: pd.DataFrame) -> StageOutput:
    t = table[["inchikey", "smiles"]].reset_index(drop=True)
    report = StageReport(1, "filter", "ran", len(t), len(t), 0.0)
    return StageOutput(t, hash_frame(t), report)


def test_the_stage_picks_reproducibly_and_keeps_its_choice_when_the_cache_grows(tmp_path, docked):
    cache = _cache(docked.iloc[:60])
    filtered = _filtered(docked.iloc[60:])
    settings = SurrogateConfig(acquisition="ucb", trees=30, random_fraction=0.25, min_training=20)

    def run(folder: str, training: list, seed: int = 3) -> StageOutput:
        return surrogate_stage(
            tmp_path / folder, 1, filtered, lambda: training, 8, settings, seed, "dock", "cfg"
        )

    first = run("a", cache)
    again = run("b", list(reversed(cache)))  # the same cache read in another order
    assert picked(first) == picked(again) and len(picked(first)) == 8
    assert first.table.equals(again.table)
    by = first.table.loc[first.table["pick"] >= 0, "picked_by"].value_counts().to_dict()
    assert by == {"random": 2, "acquisition": 6}
    assert picked(run("c", cache, seed=4)) != picked(first)

    # resumed after docking added to the cache: the stage is skipped, the choice the same
    grown = cache + _cache(docked.iloc[60:70].assign(docking_score=-9.0))
    resumed = run("a", grown)
    assert resumed.report.status == "skipped"
    assert picked(resumed) == picked(first)

    saved = json.loads(
        (tmp_path / "a" / "round-1" / "surrogate" / "files" / "surrogate.json").read_text()
    )
    assert saved["trained"] and len(saved["training"]["inchikeys"]) == 60

    rows = surrogate_predictions(first)
    assert {r[3] for r in rows} == {"docking_score_predicted", "docking_score_uncertainty"}
    assert len(rows) == 2 * len(filtered.table)
    assert all(r[1] == "docking_surrogate" and r[2].startswith("fingerprint-rf-1+") for r in rows)


def test_the_stage_with_the_graph_model_records_its_version(tmp_path, docked):
    settings = SurrogateConfig(model="graph", members=2, min_training=20)
    cache = _cache(docked.iloc[:60])
    out = surrogate_stage(
        tmp_path, 1, _filtered(docked.iloc[60:]), lambda: cache, 5, settings, 2, "dock", "cfg"
    )
    assert len(picked(out)) == 5 and out.table["docking_score_predicted"].notna().all()
    assert set(out.table["surrogate_version"]) == {out.table["surrogate_version"].iloc[0]}
    assert out.table["surrogate_version"].iloc[0].startswith("graph-gine-1+")


def test_before_enough_docking_the_round_is_a_random_sample(tmp_path, docked):
    filtered = _filtered(docked)
    settings = SurrogateConfig(min_training=64)
    out = surrogate_stage(tmp_path, 1, filtered, lambda: [], 10, settings, 1, "dock", "cfg")
    assert len(picked(out)) == 10
    assert set(out.table["picked_by"].dropna()) == {"random"}
    assert out.table["docking_score_predicted"].isna().all()
    assert surrogate_predictions(out) == []
