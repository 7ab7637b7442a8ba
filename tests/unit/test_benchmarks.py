"""The benchmarks' failure rule: a side that failed on any molecule stops the run with the reason,
and no speed-up or correlation is computed from it. No docking or prediction runs here."""

import importlib.util
import json
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
NAMES = ["haloperidol", "clozapine", "caffeine"]


def _load(name: str) -> types.ModuleType:
    """A script of benchmarks/ (not a package), with benchmarks/ importable as when it runs."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def docking() -> types.ModuleType:
    return _load("docking")


@pytest.fixture(scope="module")
def predictors() -> types.ModuleType:
    return _load("predictors")


def _run(side: str, seconds: float, scores: dict, reasons: dict | None = None) -> dict:
    return {
        "side": side,
        "seconds": seconds,
        "scores": scores,
        "reasons": reasons or {},
        "background_cpu_s": 0.0,
    }


MOLGEN = _run(
    "molgen (exhaustiveness 8, seed 1)",
    10.0,
    {"haloperidol": -11.0, "clozapine": -10.0, "caffeine": -6.0},
)
DOCKSTRING = _run("dockstring", 30.0, {"haloperidol": -10.5, "clozapine": -9.8, "caffeine": -6.2})


def test_complete_runs_give_speedup_and_spearman(docking):
    row = docking.compare(NAMES, MOLGEN, DOCKSTRING, MOLGEN)
    assert row["speedup"] == 3.0
    assert row["spearman_dockstring"] == 1.0
    assert row["spearman_exh8"] == 1.0
    assert row["ligands_per_min"] == 18.0


def test_failed_baseline_stops_with_reason_not_ratio(docking):
    """What an environment without `obabel` produced: no scores in almost no time."""
    failed = _run(
        "dockstring",
        0.0,
        {"haloperidol": None, "clozapine": None, "caffeine": None},
        {n: "FileNotFoundError: [Errno 2] No such file or directory: 'obabel'" for n in NAMES},
    )
    with pytest.raises(SystemExit) as err:
        docking.compare(NAMES, MOLGEN, failed, MOLGEN)
    message = str(err.value.code)
    assert err.value.code not in (0, None)
    assert message.startswith("dockstring failed")
    assert "3 of 3 molecules" in message
    assert "haloperidol: FileNotFoundError" in message and "'obabel'" in message
    assert "no speed-up or correlation" in message


def test_one_missing_score_on_either_side_stops(docking):
    nan_molgen = _run(MOLGEN["side"], 10.0, {**MOLGEN["scores"], "clozapine": float("nan")})
    with pytest.raises(SystemExit, match=r"molgen \(exhaustiveness 8, seed 1\) failed") as err:
        docking.compare(NAMES, nan_molgen, DOCKSTRING, MOLGEN)
    assert "1 of 3 molecules failed\n  clozapine: score nan" in str(err.value.code)

    partial = _run("dockstring", 25.0, {"haloperidol": -10.5, "clozapine": -9.8})
    with pytest.raises(SystemExit, match=r"dockstring failed.*\n  caffeine: no score"):
        docking.compare(NAMES, MOLGEN, partial, MOLGEN)


def test_zero_time_gives_no_speedup(docking):
    with pytest.raises(SystemExit, match=r"dockstring failed: its time is 0.0 s"):
        docking.compare(NAMES, MOLGEN, {**DOCKSTRING, "seconds": 0.0}, MOLGEN)


def test_dockstring_worker_failures_stop_the_run(docking, monkeypatch):
    """The worker exits 0 with None scores when dockstring fails per ligand: the parent stops."""
    report = {
        "seconds": 0.02,
        "scores": {"haloperidol": -10.1, "clozapine": None, "caffeine": None},
        "reasons": {"clozapine": "DockingError: boom", "caffeine": "DockingError: boom"},
    }

    def fake_run(cmd, **kwargs):
        return subprocess.CompletedProcess(cmd, 0, stdout=json.dumps(report) + "\n", stderr="")

    monkeypatch.setattr(docking.subprocess, "run", fake_run)
    ligands = [lig for lig in docking.LIGANDS if lig[0] in NAMES]
    with pytest.raises(SystemExit) as err:
        docking.run_dockstring(ligands, {"PATH": ""})
    message = str(err.value.code)
    assert message.startswith("dockstring failed: 2 of 3 molecules failed")
    assert "clozapine: DockingError: boom" in message and "haloperidol" not in message


def test_missing_obabel_stops_before_docking(docking, tmp_path):
    with pytest.raises(SystemExit) as err:
        docking.require_obabel({"PATH": str(tmp_path)}, 12)
    message = str(err.value.code)
    assert "dockstring failed: it cannot dock any of the 12 ligands" in message
    assert "`obabel` is not on PATH" in message and "bench extra" in message


def test_dockstring_env_puts_the_interpreters_folder_first(docking, monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin")
    path = docking.dockstring_env()["PATH"].split(":")
    assert path == [str(Path(sys.executable).parent), "/usr/bin"]


def test_predictors_molgen_rejection_stops(predictors, monkeypatch):
    """A molecule the graph model rejects is a failure, not a faster run."""

    class FakePredictor:
        model = types.SimpleNamespace(parameters=list, spec=types.SimpleNamespace(members=1))

        def __init__(self, **kwargs):
            pass

        def predict_smiles(self, smiles, workers=None):
            values = np.zeros((len(smiles), 1))
            values[1] = np.nan
            yield values, [(1, "RDKit cannot parse it")]

    fake = types.ModuleType("molgen.predictors.gnn.predictor")
    fake.SolubilityPredictor = FakePredictor
    monkeypatch.setitem(sys.modules, "molgen.predictors.gnn.predictor", fake)
    with pytest.raises(SystemExit) as err:
        predictors.run_molgen(["CCO", "C1CC", "c1ccccc1"], "cpu", 0)
    message = str(err.value.code)
    assert message.startswith("molgen (solubility model) failed: 1 of 3 molecules failed")
    assert "molecule 1 (C1CC): RDKit cannot parse it" in message


def test_predictors_speedup_needs_two_timed_runs(predictors):
    assert predictors.speedup("DeepChem", 20.0, "molgen", 4.0) == 5.0
    with pytest.raises(SystemExit, match="molgen failed: its time is nan s"):
        predictors.speedup("DeepChem", 20.0, "molgen", float("nan"))


def test_webapp_benchmark_runs_small_and_prints_its_json():
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "webapp.py"), "--candidates", "1000"]
        + ["--search", "500"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    for key in ("first_page_s_at_1m", "substructure_search_s_at_100k", "naive_search_s_at_100k"):
        assert result[key] > 0
    assert result["candidates"] == 1000 and result["pyridines_found"] > 0


def test_active_docking_replays_acquisition_on_a_docked_table():
    table = Path(__file__).resolve().parents[1] / "data" / "docking" / "drd2_docked_100.csv"
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "active_docking.py"), "--table", str(table)]
        + ["--seeds", "2", "--trees", "10", "--batch", "0.02"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["library_size"] == 100 and out["seeds"] == 2
    for selection in ("random", "greedy", "ucb"):
        found = out["top1pct_found"][selection]
        assert list(found) == ["0.02", "0.05", "0.1", "0.2"]
        assert all(0.0 <= v <= 1.0 for v in found.values())
        for run in out["per_seed"][selection]:  # what was found stays found
            assert list(run.values()) == sorted(run.values())


def test_active_docking_refuses_a_table_too_small(tmp_path):
    small = tmp_path / "small.csv"
    small.write_text("smiles,docking_score\nCCO,-3.0\n")
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "active_docking.py"), "--table", str(small)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0 and "needs 100" in done.stderr
