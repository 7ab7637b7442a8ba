"""What `top`, `export` and `rejections` print, from a small real store: a docked candidate, an
undocked one and one without predictions, SMILES with bracket atoms, reasons with brackets."""

from __future__ import annotations

import csv
import io
import json
import logging
import math
from pathlib import Path

import pytest
from PIL import Image
from rdkit import Chem
from rdkit.Chem import AllChem
from typer.testing import CliRunner

from molgen.cli.main import app
from molgen.config import load_campaign
from molgen.store import CandidateStore
from molgen.types import Rejection

runner = CliRunner()
WIDE = 250

DOCKED, UNDOCKED, UNPREDICTED = "Cc1ccc[nH]1", "C[C@@H](N)O", "F/C=C/F"


def _objectives(qed, sa, dock, logp):
    values = {"qed": qed, "sa_score": sa, "docking_score": dock, "logp": logp}
    return {
        k: {"value": v, "desirability": 0.0 if v is None else 0.5, "weight": 1.0}
        for k, v in values.items()
    }


def _poses(smiles: str, scores: list[float]) -> str:
    """An SD block of docked poses as molgen stores them (meeko's JSON tag, pose, vina_score)."""
    mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
    AllChem.EmbedMultipleConfs(mol, len(scores), randomSeed=1)
    buffer = io.StringIO()
    with Chem.SDWriter(buffer) as writer:
        for i, score in enumerate(scores):
            mol.SetProp("meeko", '{"is_sidechain": false}')
            mol.SetIntProp("pose", i + 1)
            mol.SetDoubleProp("vina_score", score)
            writer.write(mol, confId=i)
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    """Tables as wide as a wide terminal: no cell folded (stdout is not a terminal here)."""
    from molgen.cli.common import console

    monkeypatch.setattr(console, "_width", WIDE)


@pytest.fixture
def campaign_file(tmp_path: Path) -> Path:
    """A `molgen init` campaign (qed, sa_score, docking_score, logp) with one stored round."""
    from molgen.pipeline.components import build_docking, resolve_target

    path = tmp_path / "c.toml"
    assert runner.invoke(app, ["init", str(path)]).exit_code == 0
    campaign = load_campaign(path)
    store = CandidateStore(campaign.store_url)
    cid = store.campaign_id(campaign.name, "h", 1, {})
    molecules = [("K-DOCKED", DOCKED), ("K-UNDOCKED", UNDOCKED), ("K-UNPREDICTED", UNPREDICTED)]
    candidates = [
        {
            "inchikey": "K-DOCKED",
            "score": 0.9,
            "objectives": _objectives(0.7123, 2.2309000000000005, -9.43, 1.0),
        },
        {"inchikey": "K-UNDOCKED", "score": 0.5, "objectives": _objectives(0.5, 3.0, None, 2.0)},
        {
            "inchikey": "K-UNPREDICTED",
            "score": 0.25,
            "objectives": _objectives(None, None, None, math.nan),
        },
    ]
    for c in candidates:
        c["provenance"] = {}
    store.write_round(
        cid, 0, [], [], [], [Rejection("seeds", "line 3: C1CC", "unclosed ring")], scoring_hash="s"
    )
    rejections = [
        Rejection("prepare", "C1CC", "invalid SMILES: unclosed ring"),
        Rejection("prepare", "C(C)(C)(C)(C)C", "invalid SMILES: valence"),
        Rejection("prepare", "C1CCC", "invalid SMILES: unclosed ring"),
        Rejection("filter", "O=C1C=CC(=O)C=C1", "BRENK: [/C] quinone"),
        Rejection("filter", "c1cc[nH]c1N=Nc1ccccc1", "PAINS: azo_A[nH]; BRENK: [/C] quinone"),
    ]
    store.write_round(cid, 1, molecules, [], candidates, rejections, scoring_hash="s")
    target = resolve_target(campaign)
    engine, settings = build_docking(campaign)
    store.write_dockings(
        [
            {
                "inchikey": "K-DOCKED",
                "smiles": DOCKED,
                "score": -9.43,
                "poses_sdf": _poses(DOCKED, [-9.43, -8.1]),
                "reason": None,
                "seconds": 1.0,
            }
        ],
        target.receptor_hash(),
        settings.cache_key(engine.version),
        engine.version,
        {},
    )
    store.close()
    return path


def test_top_table_shows_missing_values_as_a_dash_and_smiles_as_written(campaign_file):
    result = runner.invoke(app, ["top", str(campaign_file)])
    assert result.exit_code == 0, result.output
    lines = {
        smi: line
        for line in result.stdout.splitlines()
        for smi in (DOCKED, UNDOCKED, UNPREDICTED)
        if smi in line
    }
    assert set(lines) == {DOCKED, UNDOCKED, UNPREDICTED}  # [nH], [C@@H] printed, not styles
    assert "-9.43" in lines[DOCKED] and "2.231" in lines[DOCKED] and "2.2309" not in lines[DOCKED]
    assert lines[UNDOCKED].count("—") == 1
    assert lines[UNPREDICTED].count("—") == 4


def _csv(result) -> list[dict[str, str]]:
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.stdout)))


def test_top_csv_rounds_to_4_significant_digits_and_leaves_missing_values_empty(campaign_file):
    result = runner.invoke(app, ["top", str(campaign_file), "--format", "csv"])
    rows = _csv(result)
    assert result.stdout.splitlines()[0] == (
        "rank,smiles,inchikey,score,pareto_rank,round,docking_score,qed,sa_score,logp"
    )
    assert [r["smiles"] for r in rows] == [DOCKED, UNDOCKED, UNPREDICTED]
    assert rows[0] | {"rank": "1"} == rows[0]
    assert (rows[0]["docking_score"], rows[0]["qed"], rows[0]["sa_score"]) == (
        "-9.43",
        "0.7123",
        "2.231",
    )
    assert rows[1]["docking_score"] == "" and rows[1]["qed"] == "0.5"
    assert [rows[2][k] for k in ("docking_score", "qed", "sa_score", "logp")] == ["", "", "", ""]


def _strict_json(text: str):
    def no_nan(name: str):
        raise AssertionError(f"{name} is not JSON")

    return json.loads(text, parse_constant=no_nan)


def test_top_json_has_null_for_missing_values(campaign_file):
    result = runner.invoke(app, ["top", str(campaign_file), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = _strict_json(result.stdout)
    assert [r["smiles"] for r in rows] == [DOCKED, UNDOCKED, UNPREDICTED]
    assert rows[0]["objectives"]["sa_score"]["value"] == 2.2309000000000005  # full precision
    assert rows[1]["objectives"]["docking_score"]["value"] is None
    assert {k: v["value"] for k, v in rows[2]["objectives"].items()} == dict.fromkeys(
        ("qed", "sa_score", "docking_score", "logp")
    )


def test_top_image_is_a_png_labelled_with_rank_score_and_objectives(campaign_file, tmp_path):
    png = tmp_path / "top.png"
    result = runner.invoke(app, ["top", str(campaign_file), "--image", str(png)])
    assert result.exit_code == 0, result.output
    from molgen.cli.results import legend, objective_names

    with Image.open(png) as image:
        assert image.format == "PNG" and image.width == 900 and image.height > 240
    campaign = load_campaign(campaign_file)
    store = CandidateStore(campaign.store_url)
    rows = store.top(campaign.name)
    store.close()
    names = objective_names(campaign)
    assert [legend(r, names) for r in rows] == [
        "#1  0.900 | dock -9.43 · qed 0.712 · sa 2.23 · logp 1",
        "#2  0.500 | dock — · qed 0.5 · sa 3 · logp 2",
        "#3  0.250 | dock — · qed — · sa — · logp —",
    ]


def test_export_writes_one_docking_score_no_meeko_tags_and_the_receptor(campaign_file, tmp_path):
    sdf = tmp_path / "out" / "top.sdf"
    sdf.parent.mkdir()
    result = runner.invoke(app, ["export", str(campaign_file), "--sdf", str(sdf)])
    assert result.exit_code == 0, result.output
    mols = list(Chem.ForwardSDMolSupplier(io.BytesIO(sdf.read_bytes()), removeHs=False))
    assert [m.GetProp("smiles") for m in mols] == [DOCKED, UNDOCKED, UNPREDICTED]
    docked = mols[0]
    assert docked.GetConformer().Is3D()
    tags = set(docked.GetPropNames())
    assert not tags & {"meeko", "pose", "vina_score"}
    assert [t for t in tags if "dock" in t and not t.endswith("desirability")] == ["docking_score"]
    assert float(docked.GetProp("docking_score")) == -9.43
    assert docked.GetProp("sa_score") == "2.231"
    assert not mols[1].HasProp("docking_score") and mols[1].HasProp("qed")
    assert not {"qed", "sa_score", "logp", "docking_score"} & set(mols[2].GetPropNames())
    receptor = sdf.parent / "top_receptor.pdb"
    assert str(receptor) in result.stdout
    atoms = [line for line in receptor.read_text().splitlines() if line.startswith("ATOM")]
    assert len(atoms) > 1000 and all(len(line) == 78 for line in atoms)
    protein = Chem.MolFromPDBFile(str(receptor), removeHs=False, sanitize=False)
    assert protein.GetNumAtoms() == len(atoms)
    assert {a.GetSymbol() for a in protein.GetAtoms()} >= {"C", "N", "O", "S", "H"}


def test_rejections_summarizes_per_stage_and_lists_each_input(campaign_file):
    result = runner.invoke(app, ["rejections", str(campaign_file)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "2 × invalid SMILES: unclosed ring" in out
    assert "2 × BRENK: [/C] quinone" in out and "1 × PAINS: azo_A[nH]" in out
    assert "c1cc[nH]c1N=Nc1ccccc1" in out and "PAINS: azo_A[nH]; BRENK: [/C] quinone" in out
    assert "line 3: C1CC" in out and out.index("seeds") < out.index("prepare") < out.index("filter")

    result = runner.invoke(app, ["rejections", str(campaign_file), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = _strict_json(result.stdout)
    assert data["total"] == 6 and len(data["rejections"]) == 6
    assert [(s["stage"], s["count"]) for s in data["summary"]] == [
        ("seeds", 1),
        ("prepare", 3),
        ("filter", 2),
    ]
    assert data["summary"][1]["reasons"] == [
        {"reason": "invalid SMILES: unclosed ring", "count": 2},
        {"reason": "invalid SMILES: valence", "count": 1},
    ]
    assert data["summary"][2]["reasons"] == [  # a reason joined by "; " counts for each part
        {"reason": "BRENK: [/C] quinone", "count": 2},
        {"reason": "PAINS: azo_A[nH]", "count": 1},
    ]

    rows = _csv(
        runner.invoke(
            app,
            ["rejections", str(campaign_file), "-f", "csv", "--round", "1", "--stage", "filter"],
        )
    )
    assert rows == [
        {
            "round": "1",
            "stage": "filter",
            "input": "O=C1C=CC(=O)C=C1",
            "reason": "BRENK: [/C] quinone",
        },
        {
            "round": "1",
            "stage": "filter",
            "input": "c1cc[nH]c1N=Nc1ccccc1",
            "reason": "PAINS: azo_A[nH]; BRENK: [/C] quinone",
        },
    ]
    result = runner.invoke(app, ["rejections", str(campaign_file), "--n", "2"])
    assert "showing 2 of 6 rejections" in result.stdout


@pytest.mark.parametrize("command", [["top"], ["rejections"], ["export", "--sdf", "x.sdf"]])
def test_commands_before_the_first_run_create_no_store(tmp_path, command):
    path = tmp_path / "c.toml"
    runner.invoke(app, ["init", str(path)])
    result = runner.invoke(app, [command[0], str(path), *command[1:]])
    assert result.exit_code == 2
    store = load_campaign(path).output / "molgen.sqlite"
    assert f"campaign c has not run yet (no store at {store})" in result.output
    assert not store.exists() and not store.parent.exists()


def test_strings_are_printed_as_they_are_never_as_markup(tmp_path):
    path = tmp_path / "[/C] x.toml"
    result = runner.invoke(app, ["init", str(path)])
    assert result.exit_code == 0, result.output
    assert f"wrote {path}" in result.stdout
    missing = tmp_path / "[nH] [bold].toml"
    result = runner.invoke(app, ["top", str(missing)])
    assert result.exit_code == 2 and str(missing) in result.output


def test_a_campaign_file_that_is_not_utf8_names_the_file_and_byte_offset(tmp_path):
    path = tmp_path / "c.toml"
    runner.invoke(app, ["init", str(path)])
    text = path.read_bytes()
    offset = text.index(b"seed = 42")
    path.write_bytes(text[:offset] + b"# caf\xe9\n" + text[offset:])
    result = runner.invoke(app, ["top", str(path)])
    assert result.exit_code == 2
    assert f"{path}: not valid UTF-8 at byte offset {offset + 5} (byte 0xe9)" in result.output


def test_targets_says_that_dockstring_ships_no_protein_names(tmp_path):
    result = runner.invoke(app, ["targets"])
    assert result.exit_code == 0
    assert "dockstring ships no protein names or source PDB ids" in result.stdout


def test_prefect_task_finished_lines_show_only_with_verbose(caplog):
    from molgen.cli.common import configure_logging

    task_runs = logging.getLogger("prefect.task_runs")
    caplog.set_level(logging.INFO, logger="prefect.task_runs")
    try:
        configure_logging(verbose=False)
        task_runs.info("Finished in state Completed()")
        task_runs.error("Finished in state Failed('boom')")
        task_runs.info("epoch 1: loss 0.5")
        assert [r.getMessage() for r in caplog.records] == [
            "Finished in state Failed('boom')",
            "epoch 1: loss 0.5",
        ]
        caplog.clear()
        configure_logging(verbose=True)
        task_runs.info("Finished in state Completed()")
        assert [r.getMessage() for r in caplog.records] == ["Finished in state Completed()"]
    finally:
        configure_logging(verbose=True)  # leaves no filter behind
