"""Two campaigns at once in two processes against one PostgreSQL store, docking into one
target: no row lost or duplicated, and each shared ligand docked once for both."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from molgen.config import load_campaign
from molgen.store import CandidateStore
from molgen.store.schema import CampaignRow, Candidate, Docking, Molecule

pytestmark = pytest.mark.integration

RUN = """
import json, sys
from flows.campaign import campaign_flow
print("REPORTS " + json.dumps(campaign_flow(sys.argv[1])))
"""


@pytest.mark.slow  # two docking campaigns at once: a minute
def test_two_campaigns_share_one_postgresql_store_and_dock_each_ligand_once(
    prefect_api, postgres, write_campaign
):
    url = postgres.create_database("shared_campaigns")
    paths = []
    for name in ("alpha", "beta"):
        # the same seed, seeds and generator: both propose the same molecules
        path = write_campaign(name=name, folder=name, rounds=1, n=20, dock=4, seed=11)
        text = path.read_text().replace('output = "out"', f'output = "out"\nstore = "{url}"', 1)
        path.write_text(text)
        paths.append(path)

    env = {**os.environ, "PREFECT_API_URL": prefect_api}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RUN, str(p)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for p in paths
    ]
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], "\n".join(o[-3000:] for o in outputs)
    reports = [
        json.loads(next(line for line in o.splitlines() if line.startswith("REPORTS "))[8:])
        for o in outputs
    ]
    docks = [next(r for r in rs if r["stage"] == "dock") for rs in reports]
    assert [d["extra"]["docked"] for d in docks] == [4, 4]
    docked_here = sum(d["extra"]["docked"] - d["extra"]["cached"] for d in docks)

    store = CandidateStore(url)
    try:
        with Session(store.engine) as s:
            n_dockings = s.scalar(select(func.count()).select_from(Docking))
            keys = s.execute(select(Molecule.inchikey)).scalars().all()
            per_campaign = {
                name: s.scalar(
                    select(func.count())
                    .select_from(Candidate)
                    .join(CampaignRow, CampaignRow.id == Candidate.campaign_id)
                    .where(CampaignRow.name == name)
                )
                for name in ("alpha", "beta")
            }
        tops = {name: store.top(name) for name in ("alpha", "beta")}
    finally:
        store.close()
    # the same four ligands: docked once, by one of the two runs; the other waited for them
    assert n_dockings == 4 and docked_here == 4
    assert len(keys) == len(set(keys))
    for name, path in zip(("alpha", "beta"), paths, strict=True):
        out = load_campaign(path).output
        scored = pd.read_parquet(out / "round-1" / "score" / "data.parquet")
        if "reason" in scored.columns:
            scored = scored[scored["reason"].isna()]
        top = tops[name]
        assert len(top) == per_campaign[name] == len(scored) > 0
        assert len({r["inchikey"] for r in top}) == len(top)
    assert [r["inchikey"] for r in tops["alpha"]] == [r["inchikey"] for r in tops["beta"]]
