"""Prepare a user's own docking target from a raw PDB file.

The structure is cleaned with PDBFixer and OpenMM (waters and hetero groups removed, missing heavy
atoms and hydrogens added, optionally a restrained minimization) and written as a rigid receptor
PDBQT by meeko's ``Polymer`` (the library behind meeko 0.8's ``mk_prepare_receptor.py``). The
search box is either given explicitly or built around a co-crystallized ligand. Results are cached
on disk, keyed by the input bytes and every option that changes them.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from molgen.targets import Target

log = logging.getLogger("molgen.docking.receptor")

Vec3 = tuple[float, float, float]

#: Bump when the preparation recipe changes, so that old cache entries are not reused.
PREP_VERSION = "1"

_BREAK_C_N = 0.20  # nm: a peptide C-N bond is 0.133 nm
_BREAK_CA_CA = 0.43  # nm: consecutive CA atoms are 0.38 nm apart (0.29 nm for cis)
_RESTRAINT_K = 1000.0  # kJ/mol/nm^2 on heavy atoms (about 2.4 kcal/mol/A^2)
_MIN_STEPS = 300
_FILES = ("receptor.pdbqt", "receptor_fixed.pdb", "box.json")


class ReceptorError(ValueError):
    """A PDB file that cannot be prepared as a receptor; the message names the file and why."""


def prepare_receptor(
    pdb: Path,
    cache_dir: Path,
    *,
    box_center: Vec3 | None = None,
    box_size: Vec3 | None = None,
    ligand_resname: str | None = None,
    padding: float = 8.0,
    ph: float = 7.4,
    minimize: bool = False,
    name: str | None = None,
) -> Target:
    """Prepare ``pdb`` as a rigid Vina receptor and return it as a :class:`Target`.

    The pocket is given either as an explicit box (``box_center`` and ``box_size``, Å) or as the
    residue name of a ligand in the file: the box is then centred on the ligand's heavy atoms and
    spans their extent plus ``padding`` Å on each side (the first copy is used when the ligand
    occurs more than once). Waters and all hetero groups are removed; non-standard amino acids
    with a PDBFixer substitution (e.g. MSE) become standard ones; missing heavy atoms are added
    but missing loops are not built: each chain break becomes a pair of charged termini.
    Hydrogens are added for ``ph``. With ``minimize``, hydrogens and side chains relax under
    amber14 with heavy atoms restrained (CPU, ``_MIN_STEPS`` steps).

    Files are cached in ``cache_dir/<key>/`` (``receptor.pdbqt``, ``receptor_fixed.pdb``,
    ``box.json``); ``<key>`` hashes the PDB bytes, the pocket arguments, ``ph``, ``minimize``
    and the preparation version, so a repeated call returns the cached target at once.

    Args:
        pdb: a PDB-format file with at least one protein residue.
        cache_dir: folder for prepared receptors; created if missing.
        box_center: box centre (x, y, z) in Å; requires ``box_size``.
        box_size: box edge lengths (x, y, z) in Å, all positive; requires ``box_center``.
        ligand_resname: residue name of a co-crystallized ligand defining the box.
        padding: Å added on each side of the ligand's extent (ligand mode only).
        ph: pH for protonation states.
        minimize: run the restrained minimization.
        name: target name; defaults to the file's stem.

    Returns:
        The target, whose ``receptor`` is the cached PDBQT.

    Raises:
        ValueError: if not exactly one of the box and ``ligand_resname`` is given, or the box is
            malformed.
        ReceptorError: if the file is unreadable or not a PDB, has no protein residue, lacks
            ``ligand_resname``, has no receptor atom in the box, or meeko cannot type a residue.
    """
    pdb = Path(pdb)
    explicit = box_center is not None or box_size is not None
    if explicit == (ligand_resname is not None):
        raise ValueError(
            "give exactly one pocket: either box_center and box_size, or ligand_resname "
            f"(got box_center={box_center}, box_size={box_size}, ligand_resname={ligand_resname})"
        )
    if explicit:
        if box_center is None or box_size is None:
            raise ValueError("box_center and box_size must be given together")
        if len(box_center) != 3 or len(box_size) != 3 or min(box_size) <= 0:
            raise ValueError(f"box_center needs 3 values and box_size 3 positive ones, got "
                             f"{box_center} and {box_size}")
        pocket: dict[str, Any] = {"center": [float(v) for v in box_center],
                                  "size": [float(v) for v in box_size]}
    else:
        pocket = {"ligand_resname": ligand_resname, "padding": float(padding)}
    try:
        raw = pdb.read_bytes()
    except OSError as err:
        raise ReceptorError(f"{pdb}: cannot read the file ({err.strerror})") from err

    key = hashlib.sha256(raw)
    key.update(json.dumps([pocket, float(ph), bool(minimize), PREP_VERSION]).encode())
    folder = Path(cache_dir) / key.hexdigest()[:16]
    target_name = name or pdb.stem
    if all((folder / f).is_file() for f in _FILES):
        log.info("receptor %s: cache hit %s", pdb, folder)
        return _load_target(folder, target_name)

    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=cache_dir))
    try:
        _prepare(pdb, raw.decode("latin-1"), tmp, pocket, ph=ph, minimize=minimize)
        try:
            os.rename(tmp, folder)
        except OSError:  # another process finished the same entry first: keep theirs
            if not all((folder / f).is_file() for f in _FILES):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return _load_target(folder, target_name)


def _load_target(folder: Path, name: str) -> Target:
    box = json.loads((folder / "box.json").read_text())
    center = tuple(float(v) for v in box["center"])
    size = tuple(float(v) for v in box["size"])
    return Target(name, folder / "receptor.pdbqt", center, size)  # type: ignore[arg-type]


def _prepare(
    pdb: Path, text: str, out: Path, pocket: dict[str, Any], *, ph: float, minimize: bool
) -> None:
    """Run the whole preparation for ``text`` (the contents of ``pdb``), writing into ``out``."""
    from openmm import unit
    from openmm.app import PDBFile
    from pdbfixer import PDBFixer
    from pdbfixer.pdbfixer import proteinResidues

    if not any(line.startswith(("ATOM  ", "HETATM")) for line in text.splitlines()):
        raise ReceptorError(f"{pdb}: no ATOM or HETATM records; not a PDB file")
    if "ligand_resname" in pocket:
        center, size = _ligand_box(pdb, text, pocket["ligand_resname"], pocket["padding"])
    else:
        center, size = tuple(pocket["center"]), tuple(pocket["size"])

    try:
        fixer = PDBFixer(pdbfile=io.StringIO(text), platform=_cpu_platform())
    except (ValueError, IndexError) as err:
        raise ReceptorError(f"{pdb}: cannot parse as PDB ({err})") from err
    fixer.findNonstandardResidues()
    fixer.replaceNonstandardResidues()
    protein = [r for r in fixer.topology.residues() if r.name in proteinResidues]
    if not protein:
        raise ReceptorError(f"{pdb}: no protein residues (standard amino acids) found")
    # Keep only the protein: drops waters, ions, ligands, cofactors and UNK residues.
    from openmm.app import Modeller

    modeller = Modeller(fixer.topology, fixer.positions)
    modeller.delete([r for r in fixer.topology.residues() if r.name not in proteinResidues])
    fixer.topology = _split_chain_breaks(modeller.topology, modeller.positions)
    fixer.positions = modeller.positions
    fixer.missingResidues = {}  # never build missing loops
    fixer.findMissingAtoms()
    fixer.addMissingAtoms(seed=0)
    fixer.addMissingHydrogens(ph)
    positions = fixer.positions
    if minimize:
        positions = _minimize(pdb, fixer.topology, positions)

    heavy = [
        p.value_in_unit(unit.angstrom)
        for a, p in zip(fixer.topology.atoms(), positions, strict=True)
        if a.element is not None and a.element.symbol != "H"
    ]
    if not any(_inside(p, center, size) for p in heavy):
        raise ReceptorError(f"{pdb}: no receptor atom inside the box {center} of size {size}")
    buffer = io.StringIO()
    PDBFile.writeFile(fixer.topology, positions, buffer, keepIds=True)
    fixed = buffer.getvalue()
    pdbqt = _meeko_pdbqt(pdb, fixed, n_heavy=len(heavy))
    (out / "receptor_fixed.pdb").write_text(fixed)
    (out / "receptor.pdbqt").write_text(pdbqt)
    box = {"center": list(center), "size": list(size), "source": str(pdb), "ph": ph,
           "minimize": minimize, "prep_version": PREP_VERSION, **pocket}
    (out / "box.json").write_text(json.dumps(box, indent=2) + "\n")


def _ligand_box(pdb: Path, text: str, resname: str, padding: float) -> tuple[Vec3, Vec3]:
    """Box around the heavy atoms of the first residue named ``resname`` (read from raw text)."""
    first: tuple[str, str] | None = None
    coords: list[Vec3] = []
    for line in text.splitlines():
        if not line.startswith(("ATOM  ", "HETATM")) or line[17:20].strip() != resname:
            continue
        residue = (line[21], line[22:27])
        first = first or residue
        element = line[76:78].strip() or line[12:16].strip().lstrip("0123456789")[:1]
        if residue != first or element.upper() in ("H", "D"):
            continue
        try:
            coords.append((float(line[30:38]), float(line[38:46]), float(line[46:54])))
        except ValueError as err:
            raise ReceptorError(f"{pdb}: bad coordinates in {line!r}") from err
    if not coords:
        raise ReceptorError(f"{pdb}: no heavy atoms of ligand residue {resname!r}")
    lo = [min(c[i] for c in coords) for i in range(3)]
    hi = [max(c[i] for c in coords) for i in range(3)]
    center = tuple(round((a + b) / 2, 3) for a, b in zip(lo, hi, strict=True))
    size = tuple(round(b - a + 2 * padding, 3) for a, b in zip(lo, hi, strict=True))
    return center, size  # type: ignore[return-value]


def _inside(p: Vec3, center: Vec3, size: Vec3) -> bool:
    return all(abs(p[i] - center[i]) <= size[i] / 2 for i in range(3))


def _split_chain_breaks(topology: Any, positions: Any) -> Any:
    """Copy ``topology``, starting a new chain wherever consecutive residues are not bonded.

    OpenMM bonds consecutive residues of a chain whatever their distance; without the split a gap
    would become a 15 Å "peptide bond" for hydrogen placement and minimization.
    """
    from openmm import unit
    from openmm.app import Topology

    xyz = positions.value_in_unit(unit.nanometer)
    new = Topology()
    new.setPeriodicBoxVectors(topology.getPeriodicBoxVectors())
    for chain in topology.chains():
        current = new.addChain(chain.id)
        previous: dict[str, Any] | None = None
        for residue in chain.residues():
            atoms = {a.name: a for a in residue.atoms()}
            if previous is not None and _is_break(previous, atoms, xyz):
                current = new.addChain(chain.id)
            copy = new.addResidue(residue.name, current, residue.id, residue.insertionCode)
            for atom in residue.atoms():
                new.addAtom(atom.name, atom.element, copy, atom.id)
            previous = atoms
    new.createStandardBonds()
    new.createDisulfideBonds(positions)
    return new


def _is_break(previous: dict[str, Any], atoms: dict[str, Any], xyz: Any) -> bool:
    if "C" in previous and "N" in atoms:
        return math.dist(xyz[previous["C"].index], xyz[atoms["N"].index]) > _BREAK_C_N
    if "CA" in previous and "CA" in atoms:
        return math.dist(xyz[previous["CA"].index], xyz[atoms["CA"].index]) > _BREAK_CA_CA
    return True


def _cpu_platform() -> Any:
    import openmm

    try:
        return openmm.Platform.getPlatformByName("CPU")
    except openmm.OpenMMException:
        return openmm.Platform.getPlatformByName("Reference")


def _minimize(pdb: Path, topology: Any, positions: Any) -> Any:
    """Minimize with amber14, heavy atoms harmonically restrained to their start positions."""
    import openmm
    from openmm import app, unit

    forcefield = app.ForceField("amber14-all.xml")
    try:
        system = forcefield.createSystem(
            topology, nonbondedMethod=app.CutoffNonPeriodic, nonbondedCutoff=1.0 * unit.nanometer
        )
    except ValueError as err:
        raise ReceptorError(f"{pdb}: amber14 cannot parameterize the receptor ({err})") from err
    restraint = openmm.CustomExternalForce("0.5*k*((x-x0)^2+(y-y0)^2+(z-z0)^2)")
    restraint.addGlobalParameter("k", _RESTRAINT_K)
    for name in ("x0", "y0", "z0"):
        restraint.addPerParticleParameter(name)
    for atom in topology.atoms():
        if atom.element is not None and atom.element.symbol != "H":
            restraint.addParticle(atom.index, positions[atom.index].value_in_unit(unit.nanometer))
    system.addForce(restraint)
    context = openmm.Context(system, openmm.VerletIntegrator(0.001), _cpu_platform())
    context.setPositions(positions)
    openmm.LocalEnergyMinimizer.minimize(context, 10.0, _MIN_STEPS)
    return context.getState(getPositions=True).getPositions()


def _meeko_pdbqt(pdb: Path, fixed_pdb: str, *, n_heavy: int) -> str:
    """Rigid receptor PDBQT (AutoDock4 types, Gasteiger charges, polar H) written by meeko."""
    from meeko import (
        MoleculePreparation,
        PDBQTWriterLegacy,
        Polymer,
        PolymerCreationError,
        ResidueChemTemplates,
    )

    try:
        polymer = Polymer.from_pdb_string(
            fixed_pdb, ResidueChemTemplates.create_from_defaults(), MoleculePreparation()
        )
    except PolymerCreationError as err:
        raise ReceptorError(f"{pdb}: meeko cannot type the receptor: {err}") from err
    rigid, _flex = PDBQTWriterLegacy.write_from_polymer(polymer)
    written = sum(
        1 for line in rigid.splitlines()
        if line.startswith(("ATOM", "HETATM")) and line[77:79].strip() not in ("H", "HD")
    )
    if written != n_heavy:
        raise ReceptorError(
            f"{pdb}: meeko wrote {written} heavy atoms of the {n_heavy} prepared ones"
        )
    return rigid
