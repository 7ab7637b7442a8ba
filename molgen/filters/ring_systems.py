"""Ring systems never seen in real molecules: a lookup of each ring system in a reference table.

The idea is Pat Walters' ring-system lookup (``useful_rdkit_utils.RingSystemLookup``, MIT): cut
a molecule into its ring systems, write each as canonical SMILES and look up how many reference
molecules contain it; a ring system that real chemistry has not produced (a cyclopentadienol, an
azete beside a cyclopentadiene, a tangle of fused three-membered rings) is a molecule a medicinal
chemist would strike out. Where molgen departs from it:

- The reference is the MOSES training set (1,584,663 ZINC lead-like molecules, MIT), counted by
  ``data/scripts/build_ring_systems.py`` into ``data/ring_systems/moses_train.csv.gz``, which
  ships with molgen; useful_rdkit_utils downloads a ChEMBL table at run time, which molgen never
  does. Counts are molecules that contain the ring system (not occurrences).
- Stereochemistry and isotopes are left out of the SMILES (MOSES has none, and a stereocentre does
  not make a ring system new); charges and hydrogen counts stay.
- MOSES keeps only neutral molecules of C, N, O, S, F, Cl, Br and H with no ring larger than
  eight atoms, so with the default table a macrocycle, a charged ring (an N-oxide's ``[n+]``) or a
  ring holding P, B, Si or Se is "never seen". A campaign that wants those gives a table built
  from its own reference set (``table_path``; same script, ``--input``).

A ring system is a maximal set of rings that share atoms (fused, bridged and spiro rings stay
together) plus every atom double-bonded to it (a lactam's ``=O``, an exocyclic ``=C``); each
single bond outside the rings is cut and the cut atoms get a hydrogen, so an N-substituted
pyrrole and pyrrole itself are the same ring system ``c1cc[nH]c1``.

Failure rule: :func:`load_ring_table` raises :class:`OSError` for a file it cannot read and
:class:`ValueError` naming the file for one that is not a ring-system table; :meth:`check`
raises :class:`ValueError` naming the index of a molecule that is ``None``.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import ClassVar

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from rdkit import Chem

from molgen.filters.base import FILTERS
from molgen.filters.verdicts import PerMolecule
from molgen.predictors.rdkit_props import RDKIT_VERSION
from molgen.resources import data_path


def default_table() -> Path:
    """The shipped table: ring systems of the MOSES training set."""
    return data_path("ring_systems", "moses_train.csv.gz")


"""The shipped table: ring systems of the MOSES training set and how many molecules hold each."""

DEFAULT_LABEL = "MOSES train"
"""How a rejection names the default table; a custom table is named by its file name."""

COLUMNS = ("ring_system", "count")
"""The table's columns: canonical SMILES of the ring system, molecules that contain it."""


def ring_systems(mol: Chem.Mol) -> list[str]:
    """Canonical SMILES of each ring system of ``mol``, in order of first atom, repeats kept.

    Args:
        mol: a sanitized molecule.

    Returns:
        One SMILES (no stereochemistry or isotopes) per ring system; ``[]`` without rings.
    """
    if not mol.GetRingInfo().NumRings():
        return []
    cut = [
        b.GetIdx()
        for b in mol.GetBonds()
        if not b.IsInRing() and b.GetBondType() == Chem.BondType.SINGLE
    ]
    frag = mol
    if cut:
        # Without dummies, RDKit gives each cut atom a hydrogen; aromatic flags stay valid
        # because no ring bond and no exocyclic double bond is cut.
        frag = Chem.FragmentOnBonds(mol, cut, addDummies=False)
        frag.UpdatePropertyCache(strict=False)
        Chem.FastFindRings(frag)
    in_ring = {i for ring in mol.GetRingInfo().AtomRings() for i in ring}
    return [
        Chem.MolFragmentToSmiles(frag, atomsToUse=list(atoms), isomericSmiles=False)
        for atoms in Chem.GetMolFrags(frag, sanitizeFrags=False)
        if in_ring.intersection(atoms)
    ]


def load_ring_table(path: str | Path) -> dict[str, int]:
    """The ring-system table at ``path``: count by ring-system SMILES.

    The file is CSV (gzip-compressed when its name ends in ``.gz``) with the columns
    :data:`COLUMNS`, as ``data/scripts/build_ring_systems.py`` writes it. Tables are cached by
    path, size and modification time.

    Raises:
        OSError: the file cannot be read.
        ValueError: not a ring-system table (wrong columns, a count below 1, a repeated or empty
            ring system); the message names the file.
    """
    p = Path(path).resolve()
    stat = p.stat()
    return _load(str(p), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _load(path: str, size: int, mtime_ns: int) -> dict[str, int]:
    del size, mtime_ns  # cache key only: a rewritten file is read again
    try:
        table = pd.read_csv(path, dtype={"ring_system": str}, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not a ring-system table: {err}") from err
    if tuple(table.columns) != COLUMNS:
        raise ValueError(
            f"{path}: not a ring-system table: columns {list(table.columns)}, "
            f"expected {list(COLUMNS)}"
        )
    counts = pd.to_numeric(table["count"], errors="coerce")
    bad = table.index[~(counts >= 1) | (table["ring_system"] == "")]
    if len(bad):
        raise ValueError(f"{path}: row {bad[0] + 2}: need a ring system and a count >= 1")
    if table["ring_system"].duplicated().any():
        repeated = table["ring_system"][table["ring_system"].duplicated()].iloc[0]
        raise ValueError(f"{path}: ring system {repeated!r} is listed twice")
    return dict(zip(table["ring_system"], counts.astype(int), strict=True))


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


class RingSystemsParams(BaseModel):
    """Campaign-file parameters of ``ring_systems``."""

    model_config = ConfigDict(extra="forbid")

    min_count: int = Field(
        default=1,
        ge=1,
        description="reject a ring system found in fewer reference molecules than this",
    )
    table_path: Path | None = Field(
        default=None,
        description="ring-system table (CSV: ring_system,count); default: MOSES train, shipped",
    )


@FILTERS.register("ring_systems")
class RingSystemFilter(PerMolecule):
    """Rejects molecules with a ring system that the reference table holds fewer than
    ``min_count`` times.

    A rejection names each such ring system: ``"ring system never seen in MOSES train:
    C1=CC=C1"``, or with ``min_count`` above 1 ``"ring system rare in MOSES train (2 < 5):
    ..."``; several are joined by ``"; "``.

    Args:
        min_count: the fewest reference molecules a ring system must appear in (>= 1). With
            the MOSES table, 1 rejects 0.16 % of the MOSES test set (benchmarks/RESULTS.md).
        table_path: a table of the same form; default :func:`default_table`.

    Raises:
        ValueError: ``min_count`` below 1, or a file that is not a ring-system table.
        OSError: the table cannot be read.
    """

    name: ClassVar[str] = "ring_systems"
    Params: ClassVar[type[BaseModel]] = RingSystemsParams

    def __init__(self, min_count: int = 1, table_path: str | Path | None = None) -> None:
        if min_count < 1:
            raise ValueError(f"ring_systems: min_count must be >= 1, got {min_count}")
        path = Path(table_path) if table_path is not None else default_table()
        self.min_count = min_count
        self.table = load_ring_table(path)
        self.label = DEFAULT_LABEL if table_path is None else path.name
        self.version = f"{RDKIT_VERSION}-rings1-{_file_digest(path)}-min{min_count}"

    def reason(self, mol: Chem.Mol) -> str | None:
        """Why ``mol`` fails (see the class docstring), or ``None``."""
        parts = []
        for smiles in dict.fromkeys(ring_systems(mol)):
            count = self.table.get(smiles, 0)
            if count == 0:
                parts.append(f"ring system never seen in {self.label}: {smiles}")
            elif count < self.min_count:
                parts.append(
                    f"ring system rare in {self.label} ({count} < {self.min_count}): {smiles}"
                )
        return "; ".join(parts) if parts else None
