"""Pictures and files for people: PNG grids and SD files of ranked candidates."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rdkit import Chem
from rdkit.Chem import AllChem, Draw


def grid_png(smiles: Sequence[str], legends: Sequence[str], per_row: int = 4) -> bytes:
    """A PNG grid of 2D depictions, one legend under each molecule."""
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    img = Draw.MolsToGridImage(
        mols, molsPerRow=per_row, subImgSize=(300, 260), legends=list(legends), returnPNG=True
    )
    return img if isinstance(img, bytes) else img.data


def _best_pose(poses_sdf: str) -> Chem.Mol | None:
    supplier = Chem.ForwardSDMolSupplier(io.BytesIO(poses_sdf.encode()), removeHs=False)
    return next(iter(supplier), None)


def write_sdf(
    rows: Sequence[Mapping[str, Any]], path: Path, poses: Mapping[str, str] | None = None
) -> int:
    """Write candidates (as returned by ``CandidateStore.top``) to an SD file.

    Each record carries rank, score, Pareto rank, round, InChIKey and one property per
    objective value. A candidate with docked poses (``poses``: InChIKey -> poses SD block) is
    written as its best pose in 3D, with ``vina_score``; others get 2D coordinates.

    Returns:
        The number of records written.
    """
    poses = poses or {}
    with Chem.SDWriter(str(path)) as writer:
        for r in rows:
            mol = _best_pose(poses[r["inchikey"]]) if r["inchikey"] in poses else None
            if mol is None:
                mol = Chem.MolFromSmiles(r["smiles"])
                AllChem.Compute2DCoords(mol)
            mol.SetProp("_Name", f"rank {r['rank']} {r['inchikey']}")
            for key in ("rank", "score", "pareto_rank", "round", "inchikey", "smiles"):
                mol.SetProp(key, str(r[key]))
            for name, obj in r["objectives"].items():
                if obj["value"] is not None:
                    mol.SetProp(name, f"{obj['value']:.4g}")
                mol.SetProp(f"{name}_desirability", f"{obj['desirability']:.4f}")
            writer.write(mol)
    return len(rows)
