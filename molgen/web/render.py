"""Structure pictures for the web app: RDKit SVG, with a substructure match highlighted."""

from __future__ import annotations

import functools
import math
from typing import Any

from rdkit import Chem
from rdkit.Chem.Draw import rdMolDraw2D
from sqlalchemy.engine import make_url

from molgen.web.data import parse_query


@functools.lru_cache(maxsize=4096)
def structure_svg(smiles: str, query: str = "", width: int = 280, height: int = 210) -> str:
    """An SVG of ``smiles``; atoms and bonds matching the substructure ``query`` highlighted.

    Raises:
        ValueError: ``smiles`` does not parse.
        molgen.web.data.QueryError: ``query`` is neither SMARTS nor SMILES.
    """
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise ValueError(f"not a valid SMILES: {smiles!r}")
    atoms: list[int] = []
    bonds: list[int] = []
    if query:
        pattern = parse_query(query)
        for match in mol.GetSubstructMatches(pattern, maxMatches=20):
            atoms.extend(match)
            for bond in pattern.GetBonds():
                b = mol.GetBondBetweenAtoms(
                    match[bond.GetBeginAtomIdx()], match[bond.GetEndAtomIdx()]
                )
                if b is not None:
                    bonds.append(b.GetIdx())
    drawer = rdMolDraw2D.MolDraw2DSVG(width, height)
    drawer.drawOptions().clearBackground = False
    rdMolDraw2D.PrepareAndDrawMolecule(
        drawer, mol, highlightAtoms=sorted(set(atoms)), highlightBonds=sorted(set(bonds))
    )
    drawer.FinishDrawing()
    return drawer.GetDrawingText()


def number_text(value: Any) -> str:
    """A value as the pages show it: 4 significant digits, "—" when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def shown_url(url: str) -> str:
    """A store URL with its password hidden, for pages that others read."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not an SQLAlchemy URL: show nothing of it
        return "(store)"
