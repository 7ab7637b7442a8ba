"""molgen's input policy (molgen/chem/policy.py): every refusal names its rule, and an accepted
input that standardization changed says what changed."""

from __future__ import annotations

import pytest

from molgen.chem import prepare_smiles
from molgen.chem.policy import MAX_HEAVY_ATOMS
from molgen.types import PreparedMolecule, Rejection


@pytest.mark.parametrize(
    ("smiles", "rule"),
    [
        ("[H][H]", "no carbon"),
        ("N#N", "no carbon"),
        ("O", "no carbon"),
        ("[Na+].[Cl-]", "no carbon"),
        ("*C", "dummy atoms"),
        ("c1ccccc1[*:1]", "dummy atoms"),
        ("[Fe+3]", "elements: Fe"),
        ("[U]", "elements: U"),
        ("[He]", "elements: He"),
        ("CC[Hg+]", "metal complex: Hg"),
        ("[C]", "radicals"),
        ("C[CH2]", "radicals: unpaired electrons on C2"),
        ("N[Pt](N)(Cl)Cl", "metal complex: Pt"),  # cisplatin, not ammonia
        ("Cl[Pt]Cl.N.N", "metal complex: Pt"),
        ("[CH-]1C=CC=C1.[CH-]1C=CC=C1.[Fe+2]", "mixture"),  # ferrocene as ions
        ("CCCC(=O)O.CCCCN", "mixture: 2 organic components (CCCC(=O)O, CCCCN)"),
        ("CCOé", "characters: 'é' at column 4"),
        ("CCO\x00", "characters: '\\x00' at column 4"),
        ("CC", "size: 2 heavy atoms (fewest 3)"),
        ("C" * (MAX_HEAVY_ATOMS + 1), f"size: {MAX_HEAVY_ATOMS + 1} heavy atoms"),
        ("C" * 5000, "parse: SMILES longer than 1000"),
    ],
)
def test_each_refusal_names_its_rule(smiles, rule):
    r = prepare_smiles(smiles)
    assert isinstance(r, Rejection), r
    assert r.reason.startswith(rule.split(":")[0]) and rule in r.reason


@pytest.mark.parametrize(
    ("smiles", "parent", "changed"),
    [
        ("CC(=O)[O-].[Na+]", "CC(=O)O", "removed [Na+]; neutralized"),
        ("CC(=O)O[Na]", "CC(=O)O", "removed [Na+]; neutralized"),  # salt written bonded
        ("CC(C)Cc1ccc(cc1)C(C)C(=O)O.Cl", "CC(C)Cc1ccc(C(C)C(=O)O)cc1", "removed Cl"),
        ("CC(=O)O.c1ccccc1C(=O)O", "O=C(O)c1ccccc1", "removed CC(=O)O"),  # a listed acid
        ("CC[NH3+]", "CCN", "neutralized"),
        ("CCO", "CCO", ""),
        ("OCC", "CCO", ""),  # written differently is not a change
    ],
)
def test_standardization_says_what_it_changed(smiles, parent, changed):
    r = prepare_smiles(smiles)
    assert isinstance(r, PreparedMolecule), r
    assert (r.smiles, r.changed) == (parent, changed)


SEEDS = "CCO ethanol\n[Fe+3]\nN[Pt](N)(Cl)Cl cisplatin\nN#N\nCC(=O)[O-].[Na+]\n[C]\n"


def test_seeds_refuse_by_rule_and_keep_what_standardization_changed(tmp_path):
    from molgen.pipeline.stages import seeds_stage

    path = tmp_path / "seeds.smi"
    path.write_text(SEEDS)
    table = seeds_stage(tmp_path / "out", path, "h", 16).table
    reasons = dict(zip(table["source"], table["reason"], strict=True))
    assert reasons["[Fe+3]"].startswith("elements: Fe")
    assert reasons["N[Pt](N)(Cl)Cl"].startswith("metal complex: Pt")
    assert reasons["N#N"].startswith("no carbon")
    assert reasons["[C]"].startswith("radicals")
    salt = table[table["source"] == "CC(=O)[O-].[Na+]"].iloc[0]
    assert (salt["smiles"], salt["standardized"]) == ("CC(=O)O", "removed [Na+]; neutralized")
    assert table["smiles"].notna().sum() == 2


def test_predict_and_finetune_apply_the_same_policy(tmp_path):
    import csv
    import io

    from typer.testing import CliRunner

    from molgen.cli.main import app

    runner = CliRunner()
    result = runner.invoke(app, ["predict", "solubility", "-", "--workers", "0"], input=SEEDS)
    assert result.exit_code == 0, result.output
    rows = {r["smiles"]: r for r in csv.DictReader(io.StringIO(result.stdout))}
    assert rows["[Fe+3]"]["rejected"].startswith("elements: Fe")
    assert rows["[Fe+3]"]["log_solubility"] == ""
    assert rows["N[Pt](N)(Cl)Cl"]["rejected"].startswith("metal complex: Pt")
    assert rows["CC(=O)[O-].[Na+]"]["standardized"] == "removed [Na+]; neutralized"
    assert float(rows["CCO"]["log_solubility"]) > -1

    actives = tmp_path / "actives.smi"
    actives.write_text(SEEDS)
    out = tmp_path / "tuned.safetensors"
    done = runner.invoke(app, ["finetune", str(actives), "--out", str(out), "--epochs", "1"])
    assert done.exit_code == 0, done.output
    assert f"{actives} line 2 rejected: elements: Fe" in done.output
    assert f"{actives} line 3 rejected: metal complex: Pt" in done.output
    assert f"{actives} line 4 rejected: no carbon" in done.output
