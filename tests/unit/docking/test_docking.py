"""Real docking with Vina on bundled targets, on tiny settings."""

from __future__ import annotations

import io
import math

import pytest
from rdkit import Chem

from molgen.chem import prepare_smiles
from molgen.docking import DOCKING_ENGINES, DockingSettings, VinaEngine
from molgen.docking.cached import dock_with_cache
from molgen.docking.ligand import LigandError, ligand_pdbqt
from molgen.store import CandidateStore
from molgen.targets import get_target

FAST = DockingSettings(exhaustiveness=1, n_poses=3, seed=1)
PARACETAMOL = prepare_smiles("CC(=O)Nc1ccc(O)cc1")
PHENOL = prepare_smiles("Oc1ccccc1")
ANILINE = prepare_smiles("Nc1ccccc1")


class CountingEngine:
    """The real Vina engine, counting the ligands it is asked to dock."""

    name = "vina"

    def __init__(self) -> None:
        self.inner = VinaEngine(workers=1)
        self.version = self.inner.version
        self.docked: list[str] = []

    def dock(self, ligands, target, settings):
        self.docked.extend(k for k, _ in ligands)
        return self.inner.dock(ligands, target, settings)


@pytest.fixture(scope="module")
def abl1():
    return get_target("ABL1")


def test_engine_is_registered():
    assert DOCKING_ENGINES.get("vina") is VinaEngine


def test_ligand_that_cannot_be_embedded_or_typed_is_rejected():
    with pytest.raises(LigandError, match="could not embed"):
        ligand_pdbqt("[C@@H]12C[C@H]1C2", seed=0)  # trans-fused bicyclobutane
    with pytest.raises(LigandError, match="could not type"):
        ligand_pdbqt("C[Se]C", seed=0)  # no AutoDock type for Se


def test_real_docking_gives_score_and_pose_with_same_graph(abl1):
    results = list(VinaEngine(workers=1).dock([("p", PARACETAMOL.smiles)], abl1, FAST))
    assert len(results) == 1
    r = results[0]
    assert r.reason is None and r.score < 0
    poses = [m for m in Chem.ForwardSDMolSupplier(io.BytesIO(r.poses_sdf.encode()))]
    assert 1 <= len(poses) <= 3
    assert float(poses[0].GetProp("vina_score")) == pytest.approx(r.score, abs=1e-3)
    heavy = Chem.MolToSmiles(Chem.RemoveHs(poses[0]))
    assert Chem.MolToInchiKey(Chem.MolFromSmiles(heavy)) == PARACETAMOL.inchikey
    assert poses[0].GetConformer().Is3D()


def test_bad_ligand_in_batch_is_rejected_and_rest_docked(abl1):
    ligands = [("bad", "[C@@H]12C[C@H]1C2"), ("p", PHENOL.smiles)]
    results = {r.key: r for r in VinaEngine(workers=2).dock(ligands, abl1, FAST)}
    assert "could not embed" in results["bad"].reason and results["bad"].cacheable
    assert results["p"].score < 0


def test_stuck_ligand_times_out_without_losing_batch(abl1):
    flexible = "CCCCCCCCCCCCCCCC(=O)NCCCCCCCCCCCC(=O)O"  # about 30 s at exhaustiveness 1
    ligands = [("slow", flexible), ("p", PHENOL.smiles), ("a", ANILINE.smiles)]
    results = {r.key: r for r in VinaEngine(workers=2, timeout_s=4).dock(ligands, abl1, FAST)}
    assert "timed out after 4 s" in results["slow"].reason
    assert not results["slow"].cacheable
    assert results["p"].score < 0 and results["a"].score < 0


def test_second_request_hits_cache(tmp_path, abl1):
    store = CandidateStore(f"sqlite:///{tmp_path / 's.sqlite'}")
    engine = CountingEngine()
    ligands = [(PHENOL.inchikey, PHENOL.smiles), ("BAD", "[C@@H]12C[C@H]1C2")]
    first = dock_with_cache(ligands, engine, abl1, FAST, store)
    assert engine.docked == [PHENOL.inchikey, "BAD"]
    assert first[0]["docking_score"] < 0 and not first[0]["cached"]
    assert math.isnan(first[1]["docking_score"]) and "embed" in first[1]["reason"]

    engine.docked.clear()
    again = dock_with_cache(ligands, engine, abl1, FAST, store)
    assert engine.docked == []  # no Vina call
    assert [r["cached"] for r in again] == [True, True]
    assert again[0]["docking_score"] == first[0]["docking_score"]

    other = DockingSettings(exhaustiveness=2, n_poses=3, seed=1)
    dock_with_cache(ligands[:1], engine, abl1, other, store)
    assert engine.docked == [PHENOL.inchikey]  # other settings, other cache key


def test_killed_docking_redocks_only_unfinished(tmp_path, abl1):
    store = CandidateStore(f"sqlite:///{tmp_path / 's.sqlite'}")
    ligands = [(m.inchikey, m.smiles) for m in (PHENOL, ANILINE, PARACETAMOL)]
    done: list[str] = []

    def kill_after_first(result):
        done.append(result.key)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        dock_with_cache(ligands, CountingEngine(), abl1, FAST, store, kill_after_first)
    engine = CountingEngine()
    rows = dock_with_cache(ligands, engine, abl1, FAST, store)
    assert done[0] not in engine.docked
    assert sorted(engine.docked) == sorted(k for k, _ in ligands if k != done[0])
    assert all(r["docking_score"] < 0 for r in rows)


def test_same_seed_docks_to_same_score(abl1):
    ligands = [("p", PARACETAMOL.smiles)]
    first = next(iter(VinaEngine(workers=1).dock(ligands, abl1, FAST)))
    again = next(iter(VinaEngine(workers=1).dock(ligands, abl1, FAST)))
    assert first.score == again.score
    with pytest.raises(ValueError, match="0 means random"):
        DockingSettings(seed=0)


class RelabelledEngine(CountingEngine):
    """The real Vina engine presented as another version (a future Vina, another program)."""

    def __init__(self, version: str) -> None:
        super().__init__()
        self.version = version


def test_engines_of_other_versions_never_share_cache_rows(tmp_path, abl1):
    store = CandidateStore(f"sqlite:///{tmp_path / 's.sqlite'}")
    ligands = [(PHENOL.inchikey, PHENOL.smiles)]
    current, future = CountingEngine(), RelabelledEngine("vina-9.9.9")
    dock_with_cache(ligands, current, abl1, FAST, store)
    rows = dock_with_cache(ligands, future, abl1, FAST, store)
    assert future.docked == [PHENOL.inchikey] and not rows[0]["cached"]
    current.docked.clear()
    assert dock_with_cache(ligands, current, abl1, FAST, store)[0]["cached"]
    assert current.docked == []
    assert FAST.cache_key(current.version) != FAST.cache_key(future.version)


def test_vina_cli_version_names_the_program(tmp_path):
    from molgen.docking.cli_engine import VinaCLIEngine

    versions = {}
    for program in ("qvina2", "smina"):
        exe = tmp_path / program
        exe.write_text("#!/bin/sh\necho 'AutoDock Vina 1.1.2'\n")  # both print Vina's line
        exe.chmod(0o755)
        versions[program] = VinaCLIEngine(program=str(exe)).version
    assert versions["qvina2"].startswith("cli-qvina2") and "1.1.2" in versions["qvina2"]
    assert FAST.cache_key(versions["qvina2"]) != FAST.cache_key(versions["smina"])
