"""A campaign that docks with Vina into a bundled target, on a tiny budget."""

from __future__ import annotations

import io

import pytest
from rdkit import Chem
from typer.testing import CliRunner

from molgen.cli.main import app
from molgen.config import load_campaign
from molgen.store import CandidateStore
from molgen.store.schema import Docking

pytestmark = pytest.mark.integration


def test_docking_campaign_docks_caches_and_exports(prefect_api, write_campaign, tmp_path):
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from flows.campaign import campaign_flow

    path = write_campaign(rounds=2, n=20, dock=3)
    reports = campaign_flow(str(path))
    docks = [r for r in reports if r["stage"] == "dock"]
    assert [r["round"] for r in docks] == [1, 2]
    assert all(r["extra"]["docked"] == 3 for r in docks)

    c = load_campaign(path)
    store = CandidateStore(c.store_url)
    top = store.top(c.name, 6)
    with Session(store.engine) as s:
        n_dockings = s.scalar(select(func.count()).select_from(Docking))
    store.close()
    assert n_dockings == 6
    # the docked molecules rank first: an undocked one has docking desirability 0
    docked = [r for r in top if r["objectives"]["docking_score"]["value"] is not None]
    assert len(docked) >= 5 and top[0] in docked
    assert all(r["objectives"]["docking_score"]["value"] < 0 for r in docked)
    assert top[0]["provenance"]["docking"]["target"] == "DRD2"
    assert top[0]["provenance"]["docking"]["settings"]["exhaustiveness"] == 1

    again = campaign_flow(str(path))
    assert {r["status"] for r in again} == {"skipped"}

    sdf = tmp_path / "poses.sdf"
    result = CliRunner().invoke(app, ["export", str(path), "--sdf", str(sdf), "--n", "3"])
    assert result.exit_code == 0, result.output
    mols = list(Chem.ForwardSDMolSupplier(io.BytesIO(sdf.read_bytes())))
    assert len(mols) == 3
    assert mols[0].GetConformer().Is3D()
    assert float(mols[0].GetProp("docking_score")) == pytest.approx(
        top[0]["objectives"]["docking_score"]["value"],
        rel=1e-3,  # 4 significant digits
    )
    assert mols[0].GetProp("inchikey") == top[0]["inchikey"]
    # one docking score per record, none of meeko's or the pose block's own tags
    for mol in mols:
        tags = set(mol.GetPropNames())
        assert not tags & {"meeko", "vina_score", "pose"}
        assert {t for t in tags if "dock" in t} <= {"docking_score", "docking_score_desirability"}
    # the receptor beside the poses, as PDB: the pocket the poses were docked into
    receptor = tmp_path / "poses_receptor.pdb"
    assert str(receptor) in result.output
    pocket = Chem.MolFromPDBFile(str(receptor), removeHs=False, sanitize=False)
    assert pocket.GetNumAtoms() > 1000
    xyz = pocket.GetConformer().GetPositions()
    ligand = mols[0].GetConformer().GetPositions()
    nearest = min(float(((xyz - atom) ** 2).sum(axis=1).min()) for atom in ligand) ** 0.5
    assert nearest < 4.0  # the pose sits in the pocket, in the receptor's frame


@pytest.mark.slow  # starts a local Dask cluster: 45 s
def test_docking_fans_out_over_local_dask_cluster(prefect_api, write_campaign):
    from flows.campaign import campaign_flow

    path = write_campaign(rounds=1, n=16, dock=4, dask_workers=2)
    reports = campaign_flow(str(path))
    dock = next(r for r in reports if r["stage"] == "dock")
    assert dock["extra"] == {"docked": 4, "cached": 0}
    c = load_campaign(path)
    store = CandidateStore(c.store_url)
    top = store.top(c.name, 4)
    store.close()
    assert all(r["objectives"]["docking_score"]["value"] < 0 for r in top)
    assert top[0]["provenance"]["docking"]["engine"].startswith("vina-")
