"""SMILES <-> SELFIES conversion.

Failure rule: both functions raise :class:`ValueError` naming the input and the reason.
"""

from __future__ import annotations

import selfies as sf
from rdkit import Chem


def smiles_to_selfies(smiles: str) -> str:
    """SELFIES of ``smiles`` (kekulized first, as the selfies encoder expects)."""
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise ValueError(f"cannot encode {smiles!r} as SELFIES: not a valid SMILES string")
    Chem.Kekulize(mol, clearAromaticFlags=True)
    try:
        return sf.encoder(Chem.MolToSmiles(mol, kekuleSmiles=True))
    except sf.EncoderError as err:
        raise ValueError(f"cannot encode {smiles!r} as SELFIES: {err}") from err


def selfies_to_smiles(selfies: str) -> str:
    """Canonical SMILES of the molecule a SELFIES string decodes to."""
    try:
        decoded = sf.decoder(selfies)
    except sf.DecoderError as err:
        raise ValueError(f"cannot decode SELFIES {selfies!r}: {err}") from err
    mol = Chem.MolFromSmiles(decoded) if decoded else None
    if mol is None:
        raise ValueError(f"SELFIES {selfies!r} decodes to no valid molecule")
    return Chem.MolToSmiles(mol)
