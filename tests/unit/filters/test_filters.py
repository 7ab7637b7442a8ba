import pytest
from rdkit import Chem

from molgen.filters import FILTERS, Filter
from molgen.filters.alerts import StructuralAlerts
from molgen.filters.rules import LipinskiFilter, VeberFilter

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
ENE_RHODANINE = "S=C1SC(=Cc2ccccc2)C(=O)N1"
CATECHOL = "Oc1ccccc1O"
CYCLOSPORIN = (
    "CC[C@H]1C(=O)N(CC(=O)N([C@H](C(=O)N[C@H](C(=O)N([C@H](C(=O)N[C@H](C(=O)N[C@@H](C(=O)"
    "N([C@H](C(=O)N([C@H](C(=O)N([C@H](C(=O)N([C@H](C(=O)N1)[C@@H]([C@H](C)C/C=C/C)O)C)"
    "C(C)C)C)CC(C)C)C)CC(C)C)C)C)C)CC(C)C)C)C(C)C)CC(C)C)C)C"
)
ARACHIDIC_ACID = "CCCCCCCCCCCCCCCCCCCC(=O)O"  # 18 rotatable bonds
CHOLESTEROL = "CC(C)CCC[C@@H](C)[C@H]1CC[C@@H]2[C@@]1(CC[C@H]3[C@H]2CC=C4[C@@]3(CC[C@@H](C4)O)C)C"
SUCROSE = "OC[C@H]1O[C@@](CO)(O[C@H]2O[C@H](CO)[C@@H](O)[C@H](O)[C@H]2O)[C@@H](O)[C@@H]1O"


def mols(*smiles):
    return [Chem.MolFromSmiles(s) for s in smiles]


@pytest.mark.parametrize(
    ("name", "cls", "kwargs"),
    [
        ("structural_alerts", StructuralAlerts, {"catalogs": ["PAINS"]}),
        ("lipinski", LipinskiFilter, {}),
        ("veber", VeberFilter, {}),
    ],
)
def test_registry_returns_class_implementing_protocol(name, cls, kwargs):
    assert FILTERS.get(name) is cls
    f = cls(**kwargs)
    assert isinstance(f, Filter)
    assert f.name == name
    assert "rdkit-" in f.version
    assert f.check([]) == []


def test_pains_flags_ene_rhodanine_and_catechol_but_not_aspirin():
    f = StructuralAlerts(catalogs=["PAINS"])
    aspirin, rhodanine, catechol = f.check(mols(ASPIRIN, ENE_RHODANINE, CATECHOL))
    assert aspirin is None
    assert rhodanine == "structural alert PAINS: ene_rhod_A(235)"
    assert catechol == "structural alert PAINS: catechol_A(92)"


def test_alerts_from_several_catalogs_are_grouped_and_deduplicated():
    f = StructuralAlerts(catalogs=["PAINS_A", "BRENK", "PAINS"])
    assert f.catalogs == ("PAINS_A", "BRENK", "PAINS")
    assert "PAINS_A+BRENK+PAINS" in f.version
    (reason,) = f.check(mols(ENE_RHODANINE))
    assert reason == (
        "structural alert PAINS_A: ene_rhod_A(235); "
        "structural alert BRENK: Michael_acceptor_1; Thiocarbonyl_group"
    )


def test_brenk_flags_aspirin_phenol_ester():
    (reason,) = StructuralAlerts(catalogs=["BRENK"]).check(mols(ASPIRIN))
    assert reason == "structural alert BRENK: phenol_ester"


def test_unknown_catalog_raises_naming_it_and_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown catalog 'PAINZ'.*PAINS_A.*CHEMBL"):
        StructuralAlerts(catalogs=["PAINS", "PAINZ"])
    with pytest.raises(ValueError, match="empty"):
        StructuralAlerts(catalogs=[])
    with pytest.raises(TypeError):
        StructuralAlerts(catalogs="PAINS")


def test_lipinski_rejects_cyclosporin_naming_the_rules():
    aspirin, cyclosporin = LipinskiFilter().check(mols(ASPIRIN, CYCLOSPORIN))
    assert aspirin is None
    assert cyclosporin == "Lipinski: 2 violations (MW 1202.6 > 500; HBA 12 > 10)"


def test_lipinski_max_violations():
    (cholesterol,) = mols(CHOLESTEROL)  # logP 7.4
    assert LipinskiFilter().check([cholesterol]) == [None]
    assert LipinskiFilter(max_violations=0).check([cholesterol]) == [
        "Lipinski: 1 violation (logP 7.4 > 5)"
    ]
    assert LipinskiFilter(max_violations=2).check(mols(CYCLOSPORIN)) == [None]
    assert LipinskiFilter(0).version != LipinskiFilter(1).version
    with pytest.raises(ValueError, match="max_violations"):
        LipinskiFilter(max_violations=-1)


def test_veber_names_the_violated_rule():
    aspirin, fatty_acid, sucrose, cyclosporin = VeberFilter().check(
        mols(ASPIRIN, ARACHIDIC_ACID, SUCROSE, CYCLOSPORIN)
    )
    assert aspirin is None
    assert fatty_acid == "Veber: rotatable bonds 18 > 10"
    assert sucrose == "Veber: TPSA 189.5 > 140"
    assert cyclosporin == "Veber: rotatable bonds 15 > 10; TPSA 278.8 > 140"


@pytest.mark.parametrize(
    "f", [StructuralAlerts(catalogs=["PAINS"]), LipinskiFilter(), VeberFilter()]
)
def test_none_molecule_raises_naming_the_filter(f):
    with pytest.raises(ValueError, match=f"'{f.name}'.*molecule 0 is None"):
        f.check([None])


def test_each_filter_declares_params_with_its_defaults():
    assert StructuralAlerts().catalogs == ("PAINS", "BRENK", "NIH")
    assert StructuralAlerts.Params().catalogs == ["PAINS", "BRENK", "NIH"]
    assert LipinskiFilter.Params().max_violations == LipinskiFilter().max_violations == 1
    assert VeberFilter.Params().model_dump() == {}


def test_filter_params_refuse_what_the_constructors_refuse():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=r"unknown catalog 'PAINZ'"):
        StructuralAlerts.Params(catalogs=["PAINZ"])
    with pytest.raises(ValidationError, match="empty"):
        StructuralAlerts.Params(catalogs=[])
    with pytest.raises(ValidationError, match="less than or equal to 4"):
        LipinskiFilter.Params(max_violations=5)
    with pytest.raises(ValidationError, match="Extra inputs"):
        VeberFilter.Params(strict=True)
