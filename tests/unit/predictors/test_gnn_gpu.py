"""The CUDA path of the graph models (skipped without a GPU)."""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem

pytestmark = pytest.mark.gpu

SMILES = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "CN1CCN(CC1)C1=Nc2cc(Cl)ccc2Nc2ccccc12"]


@pytest.mark.parametrize("name", ["solubility", "hydration_free_energy"])
def test_cuda_predictions_match_cpu_within_bfloat16(name):
    from molgen.predictors import PREDICTORS

    mols = [Chem.MolFromSmiles(s) for s in SMILES]
    cpu = PREDICTORS.get(name)(device="cpu").predict(mols)
    gpu_predictor = PREDICTORS.get(name)(device="cuda")
    assert gpu_predictor.device == "cuda"
    gpu = gpu_predictor.predict(mols)
    scale = np.abs(cpu).max() + 1.0
    np.testing.assert_allclose(gpu, cpu, atol=0.05 * scale)
    streamed = np.concatenate([v for v, _ in gpu_predictor.predict_smiles(SMILES, workers=1)])
    np.testing.assert_allclose(streamed, gpu, atol=1e-3 * scale)
