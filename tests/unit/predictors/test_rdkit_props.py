import numpy as np
import pytest
from rdkit import Chem

from molgen.predictors import PREDICTORS, Predictor
from molgen.predictors.rdkit_props import (
    HBA,
    HBD,
    QED,
    TPSA,
    LogP,
    MolWt,
    RotatableBonds,
    SAScore,
)
from molgen.types import Direction

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
CHOLESTEROL = "CC(C)CCC[C@@H](C)[C@H]1CC[C@@H]2[C@@]1(CC[C@H]3[C@H]2CC=C4[C@@]3(CC[C@@H](C4)O)C)C"


def mols(*smiles):
    return [Chem.MolFromSmiles(s) for s in smiles]


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("qed", QED),
        ("sa_score", SAScore),
        ("logp", LogP),
        ("mw", MolWt),
        ("tpsa", TPSA),
        ("hbd", HBD),
        ("hba", HBA),
        ("rotatable_bonds", RotatableBonds),
    ],
)
def test_registry_returns_class_implementing_protocol(name, cls):
    assert PREDICTORS.get(name) is cls
    p = cls()
    assert isinstance(p, Predictor)
    assert p.name == name
    assert len(p.outputs) == 1 and p.outputs[0].name == name
    assert p.version.startswith("rdkit-")
    values = p.predict(mols(ASPIRIN, "CCO", "c1ccccc1"))
    assert values.shape == (3, 1) and values.dtype == np.float64
    assert p.predict([]).shape == (0, 1)


def test_aspirin_known_values():
    (aspirin,) = mols(ASPIRIN)
    expected = {
        "qed": 0.55,
        "mw": 180.16,
        "tpsa": 63.6,
        "logp": 1.31,
        "hbd": 1,
        "hba": 3,
        "rotatable_bonds": 2,
    }
    for name, value in expected.items():
        got = PREDICTORS.get(name)().predict([aspirin])[0, 0]
        assert got == pytest.approx(value, abs=0.01), name


def test_units_and_directions():
    assert MolWt.outputs[0].unit == "Da"
    assert TPSA.outputs[0].unit == "Å^2"
    assert QED.outputs[0].direction is Direction.MAXIMIZE
    assert SAScore.outputs[0].direction is Direction.MINIMIZE


def test_sa_score_ranks_steroid_harder_than_simple_molecules():
    sa = SAScore()
    assert "sascore" in sa.version
    ethanol, benzene, steroid = sa.predict(mols("CCO", "c1ccccc1", CHOLESTEROL))[:, 0]
    assert 1.0 <= min(ethanol, benzene) and steroid <= 10.0
    assert steroid > ethanol + 1 and steroid > benzene + 1


def test_none_molecule_raises_naming_the_predictor():
    with pytest.raises(ValueError, match="'qed'.*molecule 1 is None"):
        QED().predict([Chem.MolFromSmiles("CCO"), None])


def test_sa_score_of_empty_molecule_raises():
    with pytest.raises(ValueError, match="sa_score"):
        SAScore().predict([Chem.Mol()])
