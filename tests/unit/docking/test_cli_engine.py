"""The command-line engine, run against Debian's AutoDock Vina (apt install autodock-vina)."""

from __future__ import annotations

import io
import shutil

import pytest
from rdkit import Chem

from molgen.chem import prepare_smiles
from molgen.docking import DOCKING_ENGINES, DockingSettings
from molgen.docking.cli_engine import DockingProgramError, VinaCLIEngine, parse_vina_scores
from molgen.targets import get_target

needs_vina = pytest.mark.skipif(
    shutil.which("vina") is None,
    reason="no `vina` program on PATH (Debian: apt-get install autodock-vina)",
)


def test_parse_vina_scores():
    text = "MODEL 1\nREMARK VINA RESULT:    -6.512      0.000      0.000\nENDMDL\n"
    text += "MODEL 2\nREMARK VINA RESULT:    -5.100      1.2      2.3\nENDMDL\n"
    assert parse_vina_scores(text) == [-6.512, -5.1]


def test_missing_program_is_a_clear_error():
    with pytest.raises(DockingProgramError, match="no-such-docker"):
        VinaCLIEngine(program="no-such-docker")


@needs_vina
def test_debian_vina_docks_and_rejects():
    assert DOCKING_ENGINES.get("vina-cli") is VinaCLIEngine
    engine = VinaCLIEngine(workers=2)
    assert "Vina" in engine.version
    m = prepare_smiles("CC(=O)Nc1ccc(O)cc1")
    settings = DockingSettings(exhaustiveness=1, n_poses=3, seed=1, engine="vina-cli")
    ligands = [(m.inchikey, m.smiles), ("bad", "[C@@H]12C[C@H]1C2")]
    results = {r.key: r for r in engine.dock(ligands, get_target("ABL1"), settings)}
    good = results[m.inchikey]
    assert good.reason is None and good.score < 0
    pose = next(Chem.ForwardSDMolSupplier(io.BytesIO(good.poses_sdf.encode())))
    assert Chem.MolToInchiKey(Chem.RemoveHs(pose)) == m.inchikey
    assert "could not embed" in results["bad"].reason
