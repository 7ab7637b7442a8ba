"""Bundled protein targets: the prepared receptors and search boxes that dockstring ships.

The files are found through the installed ``dockstring`` distribution's location without
importing dockstring itself (molgen does not use its docking code).
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path


class TargetError(LookupError):
    """An unknown target name or an unreadable target file."""


@dataclass(frozen=True)
class Target:
    """A prepared receptor and its docking search box.

    Attributes:
        name: target name, e.g. ``"DRD2"``.
        receptor: path to the receptor PDBQT.
        center: box centre (x, y, z) in Å.
        size: box edge lengths (x, y, z) in Å.
    """

    name: str
    receptor: Path
    center: tuple[float, float, float]
    size: tuple[float, float, float]

    def receptor_hash(self) -> str:
        """SHA-256 of the receptor file and box, identifying the docking target."""
        h = hashlib.sha256(self.receptor.read_bytes())
        h.update(repr((self.center, self.size)).encode())
        return h.hexdigest()

    def receptor_pdb(self) -> str:
        """The receptor as PDB text (for viewers such as PyMOL): see :func:`pdbqt_to_pdb`."""
        return pdbqt_to_pdb(self.receptor.read_text())


# AutoDock atom types that are not element symbols (the rest are: C, N, Fe, Zn, ...)
_AD_ELEMENTS = {"A": "C", "NA": "N", "NS": "N", "OA": "O", "OS": "O", "SA": "S", "HD": "H"}


def pdbqt_to_pdb(text: str) -> str:
    """A PDBQT receptor as PDB: each ATOM/HETATM record keeps its PDB columns (1-66: names,
    residue, coordinates, occupancy, B-factor) and gets its element (columns 77-78) from the
    AutoDock atom type; partial charges, types and other records are dropped, TER kept.
    """
    out = []
    for line in text.splitlines():
        if line.startswith(("ATOM", "HETATM")):
            ad_type = line[77:].strip()
            element = _AD_ELEMENTS.get(ad_type, ad_type)
            out.append(f"{line[:66]:<66}{element.upper():>12}")
        elif line.startswith("TER"):
            out.append("TER")
    return "\n".join([*out, "END", ""])


def _targets_dir() -> Path:
    spec = importlib.util.find_spec("dockstring")
    if spec is None or not spec.submodule_search_locations:
        raise TargetError(
            "the dockstring package, which holds molgen's bundled targets, is missing"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "resources" / "targets"


def _parse_box(path: Path) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    values: dict[str, float] = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = float(value)
    try:
        center = (values["center_x"], values["center_y"], values["center_z"])
        size = (values["size_x"], values["size_y"], values["size_z"])
    except KeyError as err:
        raise TargetError(f"{path}: box file lacks {err.args[0]}") from err
    return center, size


NO_PROTEIN_NAMES = (
    "dockstring ships no protein names or source PDB ids for its targets (only each "
    "receptor's PDBQT file and box), so none are listed here"
)
"""Why ``molgen targets`` lists no protein names: the installed dockstring has no table of them
(its ``resources/targets`` folder holds ``<name>_target.pdbqt`` and ``<name>_conf.txt`` only,
and the PDBQT headers carry no PDB id)."""


@cache
def bundled_targets() -> dict[str, Target]:
    """All bundled targets by name, sorted by name."""
    folder = _targets_dir()
    out: dict[str, Target] = {}
    for conf in sorted(folder.glob("*_conf.txt")):
        name = conf.name.removesuffix("_conf.txt")
        receptor = folder / f"{name}_target.pdbqt"
        if receptor.exists():
            center, size = _parse_box(conf)
            out[name] = Target(name, receptor, center, size)
    return out


def get_target(name: str) -> Target:
    """The bundled target ``name`` (case-insensitive).

    Raises:
        TargetError: if there is no such target; the message lists the known names.
    """
    targets = bundled_targets()
    found = targets.get(name) or targets.get(name.upper())
    if found is None:
        raise TargetError(f"unknown target {name!r}; bundled targets: {', '.join(targets)}")
    return found
