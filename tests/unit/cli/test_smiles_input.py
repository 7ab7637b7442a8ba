"""`predict` and `finetune` read SMILES files line by line: a line that is not UTF-8 is that
line's rejection, and what they print (SMILES, SELFIES tokens, reasons) is never markup."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from typer.testing import CliRunner

from molgen.cli.main import app

runner = CliRunner()
MODELS = Path(__file__).parents[3] / "models"
ACTIVES = b"smiles\nCC(=O)Nc1ccc(O)cc1 paracetamol\nF/C=C/F\nC\xe9C latin-1\nCc1ccc[nH]1\n"


def test_predict_rejects_a_line_that_is_not_utf8_in_its_place(tmp_path):
    path = tmp_path / "in.smi"
    path.write_bytes(ACTIVES)
    model = MODELS / "solubility" / "model.safetensors"
    result = runner.invoke(app, ["predict", str(model), str(path), "--workers", "0"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["smiles"] for r in rows] == [
        "CC(=O)Nc1ccc(O)cc1",
        "F/C=C/F",
        "C\\xe9C",
        "Cc1ccc[nH]1",
    ]
    assert rows[2]["rejected"] == "line 4: not valid UTF-8 (byte 0xe9 at column 2)"
    assert rows[2]["log_solubility"] == ""
    assert all(r["log_solubility"] and not r["rejected"] for r in rows[:2] + rows[3:])

    stdin = runner.invoke(app, ["predict", str(model), "-", "--workers", "0"], input=ACTIVES)
    assert stdin.exit_code == 0 and stdin.stdout == result.stdout


def test_finetune_prints_selfies_tokens_as_text_and_rejects_lines_that_are_not_utf8(tmp_path):
    path = tmp_path / "actives.smi"
    path.write_bytes(ACTIVES)
    out = tmp_path / "tuned.safetensors"
    prior = MODELS / "selfies-prior" / "prior.safetensors"
    result = runner.invoke(
        app, ["finetune", str(path), "--out", str(out), "--prior", str(prior), "--epochs", "1"]
    )
    assert result.exit_code == 0, result.output
    assert out.exists() and f"wrote {out}: 2 molecules" in result.stdout
    assert 'use it with [generator] kind = "selfies_rl"' in result.stdout
    assert f"{path} line 3 rejected: SELFIES token '[/C]'" in result.stderr
    assert f"{path} line 4 rejected: not valid UTF-8 (byte 0xe9 at column 2)" in result.stderr
