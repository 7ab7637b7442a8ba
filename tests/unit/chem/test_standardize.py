import pytest

from molgen.chem import prepare_many, prepare_smiles, selfies_to_smiles, smiles_to_selfies
from molgen.types import PreparedMolecule, Rejection


def test_salt_is_stripped_and_neutralized():
    r = prepare_smiles("CC(=O)[O-].[Na+]")
    assert isinstance(r, PreparedMolecule)
    assert r.smiles == "CC(=O)O"
    assert r.inchikey == "QTBSBXVTEAMEQO-UHFFFAOYSA-N"


def test_same_molecule_written_differently_has_one_identity():
    a = prepare_smiles("OC(=O)c1ccccc1OC(C)=O")
    b = prepare_smiles("CC(=O)Oc1ccccc1C(O)=O")
    assert a.inchikey == b.inchikey and a.smiles == b.smiles


@pytest.mark.parametrize(
    ("smiles", "reason"),
    [
        ("", "empty SMILES"),
        ("   ", "empty SMILES"),
        ("C1CC", "unclosed ring"),
        ("C(C)(C)(C)(C)C", "valence"),
        ("this-is-not-a-molecule", "invalid SMILES"),
        ("this is not a molecule", "characters: ' ' at column 5"),
    ],
)
def test_bad_input_is_rejected_with_reason(smiles, reason):
    r = prepare_smiles(smiles)
    assert isinstance(r, Rejection)
    assert r.stage == "prepare"
    assert reason in r.reason


def test_batch_goes_on_past_bad_items_and_deduplicates():
    prepared, rejected, dups = prepare_many(["CCO", "C1CC", "OCC", "c1ccccc1", "[Na+].[Cl-]"])
    assert [p.smiles for p in prepared] == ["CCO", "c1ccccc1"]
    assert [r.input for r in rejected] == ["C1CC", "[Na+].[Cl-]"]
    assert dups == 1


@pytest.mark.parametrize("smiles", ["c1ccccc1O", "CN1CCC[C@H]1c1cccnc1", "O=C(O)C1CC1"])
def test_selfies_round_trip(smiles):
    canonical = prepare_smiles(smiles).smiles
    assert selfies_to_smiles(smiles_to_selfies(canonical)) == canonical


def test_selfies_errors_name_the_input():
    with pytest.raises(ValueError, match="C1CC"):
        smiles_to_selfies("C1CC")
