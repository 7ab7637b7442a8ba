"""Chemistry core: parsing, standardization, identity and SELFIES conversion."""

from molgen.chem.selfies_io import selfies_to_smiles, smiles_to_selfies
from molgen.chem.standardize import mol_from_prepared, prepare_many, prepare_smiles

__all__ = [
    "mol_from_prepared",
    "prepare_many",
    "prepare_smiles",
    "selfies_to_smiles",
    "smiles_to_selfies",
]
