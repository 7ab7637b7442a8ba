"""A docking campaign whose docking is chosen by the surrogate: real flow, store and Vina."""

from __future__ import annotations

import io
import shutil

import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from molgen.cli.main import app
from molgen.config import load_campaign
from molgen.store import CandidateStore
from molgen.store.schema import Docking, Molecule, Prediction

pytestmark = pytest.mark.integration

SURROGATE = """selection = "surrogate"
surrogate = { acquisition = "ucb", trees = 20, min_training = 4, random_fraction = 0.25 }
"""


def _picks(out, round_: int) -> list[str]:
    table = pd.read_parquet(next((out / f"round-{round_}" / "surrogate").glob("*.parquet")))
    return table[table["pick"] >= 0].sort_values("pick")["inchikey"].tolist()


def test_the_surrogate_picks_what_to_dock_and_its_predictions_stay_predictions(
    prefect_api, write_campaign
):
    from flows.campaign import campaign_flow

    path = write_campaign(rounds=2, n=30, dock=4, docking_extra=SURROGATE)
    reports = campaign_flow(str(path))
    chose = {r["round"]: r["extra"] for r in reports if r["stage"] == "surrogate"}
    # round 1 has nothing to learn from: a random sample; round 2 learns from round 1's 4
    assert chose[1] == {"training": 0, "picked": 4, "random": 4}
    assert chose[2] == {"training": 4, "picked": 4, "random": 1}
    assert [r["extra"]["docked"] for r in reports if r["stage"] == "dock"] == [4, 4]

    c = load_campaign(path)
    out = path.parent / c.output
    store = CandidateStore(c.store_url)
    rows = store.top(c.name)
    with Session(store.engine) as s:
        dockings = dict(
            s.execute(
                select(Molecule.inchikey, Docking.score).join(
                    Molecule, Molecule.id == Docking.molecule_id
                )
            ).all()
        )
        predicted = s.execute(
            select(Prediction.output, Prediction.version).where(
                Prediction.predictor == "docking_surrogate"
            )
        ).all()
    store.close()
    # only what was docked is a docking result, and it is the candidate's docking score
    assert set(dockings) == set(_picks(out, 1)) | set(_picks(out, 2))
    by_key = {r["inchikey"]: r for r in rows}
    for key, score in dockings.items():
        assert by_key[key]["objectives"]["docking_score"]["value"] == pytest.approx(score)
    # round 2's molecules carry predictions, stored as the surrogate's, never as dockings
    round2 = [r for r in rows if r["round"] == 2]
    guesses = [r["provenance"]["docking_prediction"] for r in round2]
    assert len(guesses) == len(round2) > 4
    undocked = [r for r in round2 if not r["provenance"]["docking_prediction"]["docked"]]
    assert undocked and all(r["objectives"]["docking_score"]["value"] is None for r in undocked)
    assert all(r["inchikey"] not in dockings for r in undocked)
    assert {o for o, _ in predicted} == {"docking_score_predicted", "docking_score_uncertainty"}
    assert len(predicted) == 2 * len(round2)
    assert {v for _, v in predicted} == {guesses[0]["version"]}

    # molgen top keeps them apart: the docking score column holds docking results only
    result = CliRunner().invoke(app, ["top", str(path), "--n", "100", "--format", "csv"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(io.StringIO(result.output))
    assert {"docking_score", "docking_score_predicted"} <= set(table.columns)
    shown = table.set_index("inchikey")
    for r in undocked:
        assert pd.isna(shown.loc[r["inchikey"], "docking_score"])
        assert shown.loc[r["inchikey"], "docking_score_predicted"] == pytest.approx(
            r["provenance"]["docking_prediction"]["value"], rel=1e-3
        )
    # and the candidate's page lists it under predictions, beside the empty docking score
    from molgen.web.data import candidate

    store = CandidateStore(c.store_url)
    page = candidate(store, c.name, undocked[0]["inchikey"])
    store.close()
    listed = {(p["predictor"], p["output"]): p["value"] for p in page["predictions"]}
    assert listed[("docking_surrogate", "docking_score_predicted")] == pytest.approx(
        undocked[0]["provenance"]["docking_prediction"]["value"]
    )
    assert page["objectives"]["docking_score"]["value"] is None
    wide = CliRunner().invoke(app, ["top", str(path), "--n", "100"], env={"COLUMNS": "250"})
    assert "dock (predicted)" in wide.output and "~-" in wide.output

    # the generator learned from the predictions: feedback scores fill the missing docking
    scored = pd.read_parquet(next((out / "round-2" / "score").glob("*.parquet")))
    assert (scored["feedback_score"] >= scored["score"] - 1e-12).all()
    assert (scored["feedback_score"] > scored["score"]).any()

    # killed while docking round 2: its dock stage and what follows are gone, and the cache
    # has grown since the surrogate chose; the run resumes with the same choice
    picks = _picks(out, 2)
    for stage in ("dock", "score", "store", "update"):
        shutil.rmtree(out / "round-2" / stage)
    resumed = campaign_flow(str(path))
    status = {(r["round"], r["stage"]): r["status"] for r in resumed}
    assert status[(2, "surrogate")] == "skipped" and status[(2, "dock")] == "ran"
    assert _picks(out, 2) == picks
    store = CandidateStore(c.store_url)
    again = store.top(c.name)
    store.close()
    assert [(r["inchikey"], r["score"]) for r in again] == [
        (r["inchikey"], r["score"]) for r in rows
    ]
