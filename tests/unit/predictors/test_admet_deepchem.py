"""ADMET-AI and DeepChem models as predictors (both ship with the test install)."""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem

from molgen.predictors import PREDICTORS

MOLS = ["CC(=O)Nc1ccc(O)cc1", "CN1CCN(CC1)C1=Nc2cc(Cl)ccc2Nc2ccccc12", "OCC(O)CO", "CCCCCCCC"]


@pytest.fixture(scope="module")
def admet():
    return PREDICTORS.get("admet_ai")(endpoints=["hERG", "AMES", "Solubility_AqSolDB"])


def test_admet_ai_predicts_its_endpoints(admet, capfd):
    values = admet.predict([Chem.MolFromSmiles(s) for s in MOLS])
    assert [o.name for o in admet.outputs] == ["hERG", "AMES", "Solubility_AqSolDB"]
    assert values.shape == (4, 3)
    assert ((values[:, :2] >= 0) & (values[:, :2] <= 1)).all()  # probabilities
    assert values[2, 2] > values[3, 2]  # glycerol is more soluble than octane
    assert values[1, 0] > values[0, 0]  # clozapine is the hERG liability, not paracetamol
    assert admet.version.startswith("admet-ai-")
    out = capfd.readouterr()
    assert "Predicting" not in out.out + out.err  # ADMET-AI's progress bars are silenced


def test_admet_ai_rejects_an_unknown_endpoint():
    with pytest.raises(ValueError, match="ADMET-AI has no endpoint 'hERG_typo'; it has: .*AMES"):
        PREDICTORS.get("admet_ai")(endpoints=["hERG_typo"])


def test_admet_ai_names_a_bad_molecule(admet):
    with pytest.raises(ValueError, match="molecule 1 is None"):
        admet.predict([Chem.MolFromSmiles("CCO"), None])


def test_deepchem_dmpnn_adapter_predicts_like_the_model(tmp_path):
    from molgen.predictors.deepchem_adapter import build_deepchem, import_deepchem

    dc = import_deepchem()
    smiles = MOLS * 3
    y = np.array([[0.1], [0.7], [1.2], [-2.0]] * 3)
    featurizer, model = build_deepchem(
        "DMPNNModel", 1, tmp_path, {"enc_hidden": 32, "ffn_hidden": 32}, batch_size=4
    )
    dataset = dc.data.NumpyDataset(featurizer.featurize(smiles), y)
    model.fit(dataset, nb_epoch=2)
    model.save_checkpoint()
    direct = model.predict(dc.data.NumpyDataset(featurizer.featurize(MOLS))).reshape(-1)

    predictor = PREDICTORS.get("deepchem")(
        model="DMPNNModel",
        model_dir=tmp_path,
        outputs=["dmpnn_value"],
        model_params={"enc_hidden": 32, "ffn_hidden": 32},
        batch_size=4,
    )
    values = predictor.predict([Chem.MolFromSmiles(s) for s in MOLS])
    # float32 outputs: a value near zero (3e-4 in one run) can differ by a few 1e-9 between
    # two loads of the same checkpoint, which rtol alone reads as a mismatch
    np.testing.assert_allclose(values[:, 0], direct, rtol=1e-5, atol=1e-7)
    assert predictor.outputs[0].name == "dmpnn_value"


def test_deepchem_adapter_without_a_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="cannot restore a checkpoint"):
        PREDICTORS.get("deepchem")(model_dir=tmp_path, outputs=["y"])
