"""Prepare a user's own docking target from a raw PDB file.

PDBFixer and OpenMM clean the structure (waters and hetero groups removed, missing heavy atoms and
hydrogens added, hydrogens relaxed under amber14, optionally heavy atoms too, restrained); meeko's
``Polymer`` (what meeko 0.8's ``mk_prepare_receptor.py`` runs) writes the rigid receptor PDBQT.
The box is given explicitly or built around a co-crystallized ligand. Results are cached on disk,
keyed by the input bytes and every option that changes them.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import os
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any

from molgen.targets import Target

log = logging.getLogger("molgen.docking.receptor")

Vec3 = tuple[float, float, float]
Key = tuple[str, str, str]  # chain id, residue id, insertion code

#: Bump when the preparation recipe changes, so that old cache entries are not reused.
PREP_VERSION = "1"

_BREAK_C_N = 0.20  # nm; a peptide C-N bond is 0.133 nm
_BREAK_CA_CA = 0.43  # nm; consecutive CA atoms are 0.38 nm apart (0.29 nm if cis)
#: Heavy-atom restraint of ``minimize``, kcal/mol/Å^2 (converted once, in ``_restraint_k``). On the
#: ESR1 test pocket it moves heavy atoms 0.05 Å RMSD, 0.26 Å at most, and still relaxes the worst
#: contact; 10 lets salt bridges, unscreened in vacuum, pull Arg394 0.9 Å towards Glu353 (2.4:
#: 1.4-1.9 Å), and 1000 hardly moves anything (0.04 Å at most).
_RESTRAINT = 100.0
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

    The pocket is an explicit box (``box_center`` and ``box_size``, Å) or the residue name of a
    ligand in the file: the box is then centred on the ligand's heavy atoms and spans their extent
    plus ``padding`` Å on each side (the first copy counts if the ligand occurs more than once).
    Waters and all hetero groups are removed; non-standard amino acids with a PDBFixer substitution
    (e.g. MSE) become standard; missing heavy atoms are added but missing loops are not built, and
    residues beside a gap keep a plain backbone (no added termini). Hydrogens are added for
    ``ph`` and relaxed under amber14 (CPU platform, at most ``_MIN_STEPS`` steps) with the heavy
    atoms fixed or, with ``minimize``, harmonically restrained (100 kcal/mol/Å^2) so that clashes
    can relax too while the pocket keeps its shape (on the ESR1 test pocket heavy atoms stay under
    0.1 Å RMSD and 0.4 Å each from the input).

    Files live in ``cache_dir/<key>/`` (``receptor.pdbqt``, ``receptor_fixed.pdb``, ``box.json``),
    ``<key>`` hashing the PDB bytes, the pocket arguments, ``ph``, ``minimize`` and
    ``PREP_VERSION``: a repeated call returns the cached target without recomputing.

    Args:
        pdb: a PDB-format file with at least one standard amino acid.
        cache_dir: folder for prepared receptors; created if missing.
        box_center: box centre (x, y, z) in Å, with ``box_size`` (edge lengths, Å, positive).
        ligand_resname: residue name of a co-crystallized ligand defining the box instead.
        padding: Å added on each side of the ligand's extent (ligand mode only).
        ph: pH for protonation states.
        minimize: let heavy atoms move in the minimization, restrained to their start
            (100 kcal/mol/Å^2).
        name: target name; defaults to the file's stem.

    Raises:
        ValueError: unless exactly one of the box and ``ligand_resname`` is given, or if the box
            is malformed.
        ReceptorError: if the file is unreadable or not a PDB, has no protein residue, lacks
            ``ligand_resname``, has no receptor atom in the box, or a residue cannot be typed.
    """
    pdb = Path(pdb)
    explicit = box_center is not None or box_size is not None
    if explicit == (ligand_resname is not None):
        raise ValueError(
            "give exactly one pocket: either box_center and box_size, or ligand_resname "
            f"(got box_center={box_center}, box_size={box_size}, ligand_resname={ligand_resname})"
        )
    pocket: dict[str, Any] = {"ligand_resname": ligand_resname, "padding": float(padding)}
    if explicit:
        if box_center is None or box_size is None or len(box_center) != 3 or len(box_size) != 3:
            raise ValueError(
                f"box_center and box_size need 3 values each: {box_center}, {box_size}"
            )
        if min(box_size) <= 0:
            raise ValueError(f"box_size must be positive, got {box_size}")
        pocket = {"center": list(map(float, box_center)), "size": list(map(float, box_size))}
    try:
        raw = pdb.read_bytes()
    except OSError as err:
        raise ReceptorError(f"{pdb}: cannot read the file ({err.strerror})") from err

    key = hashlib.sha256(raw)
    key.update(json.dumps([pocket, float(ph), bool(minimize), PREP_VERSION]).encode())
    folder = Path(cache_dir) / key.hexdigest()[:16]
    if not _complete(folder):
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=cache_dir))
        try:
            _prepare(pdb, raw.decode("latin-1"), tmp, pocket, ph=ph, minimize=minimize)
            if folder.exists() and not _complete(folder):  # damaged entry: replace it
                shutil.rmtree(folder)
            try:
                os.rename(tmp, folder)
            except OSError:
                if not _complete(folder):  # else another process wrote the same entry first
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    else:
        log.info("receptor %s: cache hit %s", pdb, folder)
    box = json.loads((folder / "box.json").read_text())
    (cx, cy, cz), (sx, sy, sz) = box["center"], box["size"]
    return Target(name or pdb.stem, folder / "receptor.pdbqt", (cx, cy, cz), (sx, sy, sz))


def _complete(folder: Path) -> bool:
    return all((folder / f).is_file() for f in _FILES)


def _prepare(
    pdb: Path, text: str, out: Path, pocket: dict[str, Any], *, ph: float, minimize: bool
) -> None:
    """Run the whole preparation of ``text`` (the contents of ``pdb``), writing into ``out``."""
    from openmm import unit
    from openmm.app import Modeller, PDBFile
    from pdbfixer import PDBFixer
    from pdbfixer.pdbfixer import proteinResidues

    if not any(line.startswith(("ATOM  ", "HETATM")) for line in text.splitlines()):
        raise ReceptorError(f"{pdb}: no ATOM or HETATM records; not a PDB file")
    if "center" in pocket:
        center, size = tuple(pocket["center"]), tuple(pocket["size"])
    else:
        center, size = _ligand_box(pdb, text, pocket["ligand_resname"], pocket["padding"])

    try:
        fixer = PDBFixer(pdbfile=io.StringIO(text), platform=_cpu_platform())
    except (ValueError, IndexError) as err:
        raise ReceptorError(f"{pdb}: cannot parse as PDB ({err})") from err
    fixer.findNonstandardResidues()
    fixer.replaceNonstandardResidues()
    if not any(r.name in proteinResidues for r in fixer.topology.residues()):
        raise ReceptorError(f"{pdb}: no protein residues (standard amino acids) found")
    # Keep only the protein: drops waters, ions, ligands, cofactors and UNK residues.
    modeller = Modeller(fixer.topology, fixer.positions)
    modeller.delete([r for r in fixer.topology.residues() if r.name not in proteinResidues])
    xyz = modeller.positions.value_in_unit(unit.angstrom)
    if not any(all(abs(p[i] - center[i]) <= size[i] / 2 for i in range(3)) for p in xyz):
        raise ReceptorError(f"{pdb}: no receptor atom inside the box {center} of size {size}")
    fixer.topology, starts, ends = _split_chain_breaks(modeller.topology, modeller.positions)
    fixer.positions = modeller.positions
    fixer.missingResidues = {}  # never build missing loops (no findMissingResidues)
    fixer.findMissingAtoms()
    oxt = {_key(r) for r, names in fixer.missingTerminals.items() if "OXT" in names}
    fixer.addMissingAtoms(seed=0)
    _place_oxt(fixer, oxt)
    state = random.getstate()
    random.seed(0)  # OpenMM starts new hydrogens at random positions
    try:
        fixer.addMissingHydrogens(ph)
    finally:
        random.setstate(state)
    log.info("receptor %s: %d chain breaks left unbuilt", pdb, len(starts))
    final = _drop_break_termini(fixer.topology, fixer.positions, starts, ends)
    positions = _minimize(pdb, final.topology, final.positions, move_heavy=minimize)
    buffer = io.StringIO()
    PDBFile.writeFile(final.topology, positions, buffer, keepIds=True)
    n_heavy = sum(a.element.symbol != "H" for a in final.topology.atoms())
    pdbqt = _meeko_pdbqt(pdb, buffer.getvalue(), n_heavy=n_heavy)
    (out / "receptor_fixed.pdb").write_text(buffer.getvalue())
    (out / "receptor.pdbqt").write_text(pdbqt)
    box = {"center": center, "size": size, "ph": ph, "minimize": minimize, **pocket}
    (out / "box.json").write_text(json.dumps(box | {"prep_version": PREP_VERSION}) + "\n")


def _ligand_box(pdb: Path, text: str, resname: str, padding: float) -> tuple[Vec3, Vec3]:
    """Box around the heavy atoms of the first residue named ``resname``, read from the text."""
    first: tuple[str, str] | None = None
    coords: list[Vec3] = []
    for line in text.splitlines():
        if not line.startswith(("ATOM  ", "HETATM")) or line[17:20].strip() != resname:
            continue
        first = first or (line[21], line[22:27])
        element = line[76:78].strip() or line[12:16].strip().lstrip("0123456789")[:1]
        if (line[21], line[22:27]) != first or element.upper() in ("H", "D"):
            continue
        try:
            coords.append((float(line[30:38]), float(line[38:46]), float(line[46:54])))
        except ValueError as err:
            raise ReceptorError(f"{pdb}: bad coordinates in {line!r}") from err
    if not coords:
        raise ReceptorError(f"{pdb}: no heavy atoms of a ligand residue named {resname!r}")
    mid, edge = [], []
    for axis in zip(*coords, strict=True):
        mid.append(round((min(axis) + max(axis)) / 2, 3))
        edge.append(round(max(axis) - min(axis) + 2 * padding, 3))
    return (mid[0], mid[1], mid[2]), (edge[0], edge[1], edge[2])


def _split_chain_breaks(topology: Any, positions: Any) -> tuple[Any, set[Key], set[Key]]:
    """Copy ``topology``, starting a new chain wherever consecutive residues are not bonded.

    OpenMM bonds consecutive residues of a chain whatever their distance; unsplit, a gap would be
    a 15 Å "peptide bond" to hydrogen placement and minimization.

    Returns:
        The new topology, and the keys of the residues that now start or end a chain.
    """
    from openmm import unit
    from openmm.app import Topology

    xyz = positions.value_in_unit(unit.nanometer)
    new = Topology()
    new.setPeriodicBoxVectors(topology.getPeriodicBoxVectors())
    starts: set[Key] = set()
    ends: set[Key] = set()
    for chain in topology.chains():
        current = new.addChain(chain.id)
        previous: Any = None
        for residue in chain.residues():
            if previous is not None and not _bonded(previous, residue, xyz):
                current = new.addChain(chain.id)
                ends.add(_key(previous))
                starts.add(_key(residue))
            copy = new.addResidue(residue.name, current, residue.id, residue.insertionCode)
            for atom in residue.atoms():
                new.addAtom(atom.name, atom.element, copy, atom.id)
            previous = residue
    new.createStandardBonds()
    new.createDisulfideBonds(positions)
    return new, starts, ends


def _bonded(previous: Any, residue: Any, xyz: Any) -> bool:
    """Whether two consecutive residues are peptide-bonded (C-N, or CA-CA if C or N is absent)."""
    a = {atom.name: xyz[atom.index] for atom in previous.atoms()}
    b = {atom.name: xyz[atom.index] for atom in residue.atoms()}
    if "C" in a and "N" in b:
        return math.dist(a["C"], b["N"]) <= _BREAK_C_N
    return "CA" in a and "CA" in b and math.dist(a["CA"], b["CA"]) <= _BREAK_CA_CA


def _key(residue: Any) -> Key:
    return (residue.chain.id, residue.id, residue.insertionCode)


def _drop_break_termini(topology: Any, positions: Any, starts: set[Key], ends: set[Key]) -> Any:
    """Modeller without the terminal atoms (H2, H3, OXT) that the split gave residues at breaks.

    They then read as mid-chain residues with an absent neighbour, which meeko's templates match;
    the amide H left on the nitrogen still marks it as a donor.
    """
    from openmm.app import Modeller

    drop = []
    for chain in topology.chains():
        residues = list(chain.residues())
        if _key(residues[0]) in starts:
            drop += [a for a in residues[0].atoms() if a.name in ("H2", "H3")]
        if _key(residues[-1]) in ends:
            drop += [a for a in residues[-1].atoms() if a.name in ("OXT", "HXT")]
    modeller = Modeller(topology, positions)
    modeller.delete(drop)
    return modeller


def _place_oxt(fixer: Any, keys: set[Key]) -> None:
    """Put each added OXT in the carboxylate plane, 1.25 Å from C and about 120° from CA and O.

    PDBFixer 1.12 starts OXT at O + 2v (the mirror image is O - 2v) and its clash minimization
    does not always recover (CA-OXT 1.8 Å in 4JSV chain B), which then breaks meeko's typing.
    """
    import numpy as np
    from openmm import Vec3 as OmmVec3
    from openmm import unit

    xyz = np.array(fixer.positions.value_in_unit(unit.nanometer))
    for residue in fixer.topology.residues():
        index = {a.name: a.index for a in residue.atoms()}
        if _key(residue) in keys and {"C", "CA", "O", "OXT"} <= index.keys():
            c = xyz[index["C"]]
            u = sum((d := xyz[index[n]] - c) / np.linalg.norm(d) for n in ("CA", "O"))
            xyz[index["OXT"]] = c - 0.125 * u / np.linalg.norm(u)
    fixer.positions = unit.Quantity([OmmVec3(*map(float, p)) for p in xyz], unit.nanometer)


def _cpu_platform() -> Any:
    import openmm

    try:
        return openmm.Platform.getPlatformByName("CPU")
    except openmm.OpenMMException:
        return openmm.Platform.getPlatformByName("Reference")


def _minimize(pdb: Path, topology: Any, positions: Any, *, move_heavy: bool) -> Any:
    """Minimize with amber14, heavy atoms fixed or harmonically restrained to where they are.

    OpenMM's own hydrogen placement is crude (H-C up to 2 Å off in 4JSV): this fixes it.
    """
    import openmm
    from openmm import app, unit

    try:
        system = app.ForceField("amber14-all.xml").createSystem(
            topology,
            nonbondedMethod=app.CutoffNonPeriodic,
            nonbondedCutoff=1.0 * unit.nanometer,
            ignoreExternalBonds=True,  # residues beside a gap lack a neighbour
        )
    except ValueError as err:
        raise ReceptorError(f"{pdb}: amber14 cannot parameterize the receptor ({err})") from err
    restraint = openmm.CustomExternalForce("0.5*k*((x-x0)^2+(y-y0)^2+(z-z0)^2)")
    restraint.addGlobalParameter("k", _restraint_k())
    for name in ("x0", "y0", "z0"):
        restraint.addPerParticleParameter(name)
    for atom in topology.atoms():
        if atom.element is not None and atom.element.symbol != "H":
            if not move_heavy:
                system.setParticleMass(atom.index, 0.0)  # the minimizer holds massless atoms
            restraint.addParticle(atom.index, positions[atom.index].value_in_unit(unit.nanometer))
    system.addForce(restraint)
    context = openmm.Context(system, openmm.VerletIntegrator(0.001), _cpu_platform())
    context.setPositions(positions)
    openmm.LocalEnergyMinimizer.minimize(context, 10.0, _MIN_STEPS)
    return context.getState(getPositions=True).getPositions()


def _restraint_k() -> float:
    """``_RESTRAINT`` in OpenMM's kJ/mol/nm^2 (1 kcal/mol/Å^2 = 418.4 kJ/mol/nm^2)."""
    from openmm import unit

    k = _RESTRAINT * unit.kilocalorie_per_mole / unit.angstrom**2
    return float(k.value_in_unit(unit.kilojoule_per_mole / unit.nanometer**2))


def _meeko_pdbqt(pdb: Path, fixed_pdb: str, *, n_heavy: int) -> str:
    """Rigid receptor PDBQT (AutoDock4 types, template charges, polar H only) from meeko."""
    import meeko

    templates = meeko.ResidueChemTemplates.create_from_defaults()
    try:
        polymer = meeko.Polymer.from_pdb_string(fixed_pdb, templates, meeko.MoleculePreparation())
    except (RuntimeError, ValueError) as err:  # PolymerCreationError is a RuntimeError
        raise ReceptorError(f"{pdb}: meeko cannot type the receptor: {str(err).strip()}") from err
    rigid, _flex = meeko.PDBQTWriterLegacy.write_from_polymer(polymer)
    written = sum(
        1
        for line in rigid.splitlines()
        if line.startswith(("ATOM", "HETATM")) and line[77:79].strip() not in ("H", "HD")
    )
    if written != n_heavy:
        raise ReceptorError(f"{pdb}: meeko wrote {written} of {n_heavy} heavy atoms")
    return rigid
