"""Training tables for graph models: CSV or SDF files of molecules and measured values.

Failure rule: :func:`read_table` raises :class:`ValueError` naming the file and the column for
a missing column or an unreadable file; rows whose SMILES RDKit cannot read, or whose values are
not numbers, are left out and returned as rejections ``(row, reason)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from rdkit import Chem, RDLogger


def read_table(
    path: Path, smiles_col: str, target_cols: Sequence[str]
) -> tuple[list[str], np.ndarray, list[tuple[int, str]]]:
    """SMILES, targets float64 ``(n, len(target_cols))`` (NaN where missing) and rejections.

    CSV files are read with pandas; for SDF files ``smiles_col`` may be ``"mol"`` to take each
    record's own structure, otherwise it names an SD property.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"data file {path}: no such file")
    if path.suffix.lower() == ".sdf":
        table = _read_sdf(path)
        if smiles_col == "mol":
            smiles_col = "_smiles"
    else:
        try:
            table = pd.read_csv(path)
        except (pd.errors.ParserError, UnicodeDecodeError) as err:
            raise ValueError(f"data file {path}: not a readable CSV ({err})") from err
    for col in (smiles_col, *target_cols):
        if col not in table.columns:
            raise ValueError(
                f"data file {path}: no column {col!r} (columns: {', '.join(map(str, table))})"
            )
    smiles: list[str] = []
    rows: list[np.ndarray] = []
    rejected: list[tuple[int, str]] = []
    values = table[list(target_cols)].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    RDLogger.DisableLog("rdApp.*")
    try:
        for i, smi in enumerate(table[smiles_col]):
            mol = Chem.MolFromSmiles(smi) if isinstance(smi, str) and smi else None
            if mol is None or mol.GetNumAtoms() == 0:
                rejected.append((i, f"RDKit cannot read SMILES {smi!r}"))
            elif np.isnan(values[i]).all():
                rejected.append((i, f"no numeric value in {', '.join(target_cols)}"))
            else:
                smiles.append(smi)
                rows.append(values[i])
    finally:
        RDLogger.EnableLog("rdApp.*")
    y = np.stack(rows) if rows else np.zeros((0, len(target_cols)))
    return smiles, y, rejected


def _read_sdf(path: Path) -> pd.DataFrame:
    records = []
    for mol in Chem.SDMolSupplier(str(path)):
        if mol is None:
            records.append({"_smiles": None})
            continue
        record = mol.GetPropsAsDict()
        record["_smiles"] = Chem.MolToSmiles(mol)
        records.append(record)
    if not records:
        raise ValueError(f"data file {path}: no SD records")
    return pd.DataFrame(records)
