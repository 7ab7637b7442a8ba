"""Ligand preparation: protonation at a pH (Dimorphite-DL), RDKit 3D embedding (ETKDGv3,
seeded) and meeko PDBQT; poses back to SDF.

Failure rule: :func:`ligand_pdbqt` raises :class:`LigandError` with a reason a chemist can act
on; it never returns a half-prepared ligand.
"""

from __future__ import annotations

import io

from rdkit import Chem
from rdkit.Chem import AllChem


class LigandError(ValueError):
    """A ligand that cannot be embedded in 3D or typed for docking."""


def embed(smiles: str, seed: int) -> Chem.Mol:
    """A 3D conformer of ``smiles`` with explicit hydrogens (ETKDGv3, then MMFF94 if typed).

    Raises:
        LigandError: the SMILES does not parse or no 3D coordinates can be embedded.
    """
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise LigandError(f"not a valid SMILES string: {smiles!r}")
    mol = Chem.AddHs(mol)
    params = AllChem.ETKDGv3()
    params.randomSeed = seed
    if AllChem.EmbedMolecule(mol, params) != 0:
        params.useRandomCoords = True
        params.maxIterations = 2000
        if AllChem.EmbedMolecule(mol, params) != 0:
            raise LigandError("RDKit could not embed 3D coordinates (ETKDGv3, random coords)")
    if AllChem.MMFFHasAllMoleculeParams(mol):
        AllChem.MMFFOptimizeMolecule(mol, maxIters=500)
    return mol


def protonate(smiles: str, ph: float) -> str:
    """``smiles`` in its most probable protonation state at ``ph`` (Dimorphite-DL).

    Basic amines gain a proton and acids lose one, as Vina's atom types (donor or acceptor
    nitrogen, hydroxyl hydrogen) then describe the molecule as it binds.

    Raises:
        LigandError: the SMILES does not parse, or Dimorphite-DL returns no state.
    """
    from dimorphite_dl import protonate_smiles

    if Chem.MolFromSmiles(smiles) is None:
        raise LigandError(f"not a valid SMILES string: {smiles!r}")
    try:
        states = protonate_smiles(smiles, ph_min=ph, ph_max=ph, max_variants=1)
    except (ValueError, RuntimeError) as err:
        raise LigandError(f"Dimorphite-DL could not protonate at pH {ph}: {err}") from err
    if not states:
        raise LigandError(f"Dimorphite-DL returned no protonation state at pH {ph}")
    return states[0]


def ligand_pdbqt(
    smiles: str, seed: int, ph: float | None = None, flexible_rings: bool = False
) -> str:
    """The PDBQT string of a ligand, ready for Vina.

    Args:
        smiles: the ligand.
        seed: embedding seed.
        ph: protonate at this pH first (see :func:`protonate`); None keeps ``smiles`` as given.
        flexible_rings: let meeko open rings of 7+ atoms (adds closure pseudo-atoms and
            torsions); otherwise every ring keeps its embedded conformation.

    Raises:
        LigandError: protonation or embedding failed, or meeko could not type or write it.
    """
    from meeko import MoleculePreparation, PDBQTWriterLegacy

    if ph is not None:
        smiles = protonate(smiles, ph)
    mol = embed(smiles, seed)
    try:
        setups = MoleculePreparation(rigid_macrocycles=not flexible_rings).prepare(mol)
    except (RuntimeError, ValueError, KeyError) as err:
        raise LigandError(f"meeko could not prepare the ligand: {err}") from err
    if len(setups) != 1:
        raise LigandError(f"meeko produced {len(setups)} setups; expected one molecule")
    pdbqt, ok, message = PDBQTWriterLegacy.write_string(setups[0])
    if not ok:
        first = message.strip().splitlines()[0] if message.strip() else "unknown error"
        raise LigandError(f"meeko could not type the ligand for docking: {first}")
    return pdbqt


def poses_to_sdf(poses_pdbqt: str, scores: list[float]) -> str:
    """Vina's output poses as an SD block (hydrogens kept), each with its ``vina_score``.

    Raises:
        LigandError: meeko cannot rebuild the molecule from the poses.
    """
    from meeko import PDBQTMolecule, RDKitMolCreate

    pdbqt_mol = PDBQTMolecule(poses_pdbqt, is_dlg=False, skip_typing=True)
    mols = RDKitMolCreate.from_pdbqt_mol(pdbqt_mol)
    if not mols or mols[0] is None:
        raise LigandError("meeko could not rebuild the docked molecule from its poses")
    mol = mols[0]
    buf = io.StringIO()
    writer = Chem.SDWriter(buf)
    for i, conf in enumerate(mol.GetConformers()):
        mol.SetProp("_Name", f"pose {i + 1}")
        mol.SetIntProp("pose", i + 1)
        if i < len(scores):
            mol.SetDoubleProp("vina_score", round(float(scores[i]), 3))
        writer.write(mol, confId=conf.GetId())
    writer.close()
    return buf.getvalue()
