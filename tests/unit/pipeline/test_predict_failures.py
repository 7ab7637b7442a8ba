"""The predict stage: a molecule's failure is its rejection; a failure that is not the molecule's
stops the stage, keeping the finished batches."""

from __future__ import annotations

import numpy as np
import pytest

from molgen.artifacts import hash_frame
from molgen.pipeline.stages import PredictorFailure, StageOutput, _prepare_rows, predict_stage
from molgen.types import Direction, OutputSpec, StageReport

SMILES = ["CCO", "c1ccccc1O", "CCN", "CC(=O)O", "c1ccncc1", "CCCl"]


def _prepared() -> StageOutput:
    table = _prepare_rows(SMILES)
    return StageOutput(table, hash_frame(table), StageReport(1, "prepare", "ran", 6, 6, 0.0))


class _HeavyAtoms:
    name = "heavy"
    version = "1"
    outputs = (OutputSpec("heavy", "", Direction.NONE),)

    def predict(self, mols):
        return np.array([[m.GetNumHeavyAtoms()] for m in mols], dtype=float)


class _FailsOnNitrogen(_HeavyAtoms):
    name = "no_n"
    outputs = (OutputSpec("no_n", "", Direction.NONE),)

    def predict(self, mols):
        for m in mols:
            if any(a.GetSymbol() == "N" for a in m.GetAtoms()):
                raise ValueError(f"cannot handle nitrogen in a molecule of {m.GetNumAtoms()}")
        return super().predict(mols)


class _MissingWeights(_HeavyAtoms):
    name = "missing"
    outputs = (OutputSpec("missing", "", Direction.NONE),)

    def predict(self, mols):
        raise FileNotFoundError(2, "No such file or directory", "weights.safetensors")


class _AlwaysSameError(_HeavyAtoms):
    name = "broken"
    outputs = (OutputSpec("broken", "", Direction.NONE),)

    def predict(self, mols):
        raise KeyError("model has no head named 'y'")


class _CudaOutOfMemory(_HeavyAtoms):
    name = "oom"
    outputs = (OutputSpec("oom", "", Direction.NONE),)

    def predict(self, mols):
        if len(mols) > 1:
            raise RuntimeError("CUDA error: out of memory")
        return super().predict(mols)


def test_a_molecule_specific_failure_is_that_molecules_rejection(tmp_path):
    out = predict_stage(tmp_path, 1, _prepared(), [_HeavyAtoms(), _FailsOnNitrogen()], 3, "c")
    reasons = dict(zip(out.table["smiles"], out.table["reason"], strict=True))
    assert reasons["CCN"].startswith("predictor no_n failed: ValueError: cannot handle nitrogen")
    assert "nitrogen" in reasons["c1ccncc1"]
    assert {s for s, r in reasons.items() if r is None} == {"CCO", "Oc1ccccc1", "CC(=O)O", "CCCl"}
    assert out.report.rows_rejected == 2


@pytest.mark.parametrize(
    ("predictor", "message"),
    [
        (_MissingWeights(), "FileNotFoundError.*weights.safetensors"),
        (_AlwaysSameError(), "same way on every molecule of a batch of 3.*no head named"),
        (_CudaOutOfMemory(), "CUDA error: out of memory"),
    ],
)
def test_a_failure_that_is_not_the_molecules_stops_the_stage(tmp_path, predictor, message):
    with pytest.raises(PredictorFailure, match=message):
        predict_stage(tmp_path, 1, _prepared(), [_HeavyAtoms(), predictor], 3, "c")
    assert not (tmp_path / "round-1" / "predict" / "manifest.json").exists()


def test_finished_batches_are_kept_when_a_later_batch_stops_the_stage(tmp_path):
    class _FailsSecondBatch(_HeavyAtoms):
        def predict(self, mols):
            if any(m.GetNumAtoms() == 4 for m in mols):  # acetic acid, in batch 2
                raise MemoryError("cannot allocate")
            return super().predict(mols)

    with pytest.raises(PredictorFailure, match="MemoryError"):
        predict_stage(tmp_path, 1, _prepared(), [_FailsSecondBatch()], 3, "c")
    parts = list((tmp_path / "round-1" / "predict" / "parts").rglob("batch-*.parquet"))
    assert len(parts) == 1
    out = predict_stage(tmp_path, 1, _prepared(), [_HeavyAtoms()], 3, "c")
    assert out.report.status == "resumed" and len(out.table) == len(SMILES)
