"""molgen's input policy: which molecules any entry point accepts, and why it refuses the others.

Campaign seeds, generated molecules, ``molgen predict`` and ``molgen finetune`` all go through
:func:`molgen.chem.prepare_smiles`, which applies these rules in this order; a refused input's
reason starts with the rule's name:

``characters``
    The SMILES holds a character SMILES never uses (anything but printable ASCII: a NUL byte,
    ``é``). RDKit would stop reading at some of them and parse only the start.
``parse``
    RDKit cannot read the SMILES (the reason is RDKit's own message: ``invalid SMILES:
    unclosed ring``, ``Explicit valence for atom # 0 C, 5``), or the SMILES is longer than
    :data:`MAX_SMILES_LENGTH` characters (``parse: SMILES longer than 1000``).
``dummy atoms``
    ``*`` (attachment points, R groups): not a molecule that can be scored or docked.
``metal complex``
    An atom of an element outside :data:`ALLOWED_ELEMENTS` bonded to the rest of the molecule
    (cisplatin, ferrocene). RDKit's standardizer would disconnect it and keep the largest
    piece, which is not the molecule (cisplatin would become ammonia). Alkali and
    alkaline-earth metals written bonded (``CC(=O)O[Na]``) are salts, disconnected as
    counter-ions.
``mixture``
    More than one organic component after RDKit's list of known salts and solvents is removed
    (``CC(=O)O.c1ccccc1C(=O)O`` keeps benzoic acid: acetic acid is on the list; two drugs on
    one line are refused). The largest-fragment rule may drop only inorganic counter-ions
    (``[Na+]``, ``[Cl-]``) and listed salts and solvents.
``elements``
    The molecule kept contains an element outside :data:`ALLOWED_ELEMENTS` (``[Fe+3]``,
    ``[U]``, ``[He]``).
``radicals``
    An atom with unpaired electrons (``[C]``, ``C[CH2]``).
``no carbon``
    The molecule kept has no carbon atom (``N#N``, ``O``, ``[H][H]``).
``size``
    Fewer than :data:`MIN_HEAVY_ATOMS` or more than :data:`MAX_HEAVY_ATOMS` heavy atoms.

An accepted input that standardization changed carries what changed (``"removed [Na+];
neutralized"``) in :attr:`molgen.types.PreparedMolecule.changed`; the prepare and seeds
checkpoints keep it in their ``standardized`` column, and ``molgen predict`` prints it.
"""

from __future__ import annotations

import re

from rdkit import Chem

# Elements of drug-like organic molecules (what the predictors were trained on and Vina's
# atom types describe).
ELEMENTS = ("C", "H", "N", "O", "S", "P", "F", "Cl", "Br", "I", "B", "Si", "Se")
ALLOWED_ELEMENTS: frozenset[str] = frozenset(ELEMENTS)
# Metals of salts: written bonded (``CC(=O)O[Na]``) they are disconnected as counter-ions.
SALT_METALS: frozenset[str] = frozenset(("Li", "Na", "K", "Rb", "Cs", "Mg", "Ca", "Sr", "Ba"))
MIN_HEAVY_ATOMS = 3
MAX_HEAVY_ATOMS = 150
MAX_SMILES_LENGTH = 1000
POLICY_VERSION = "1"
RULES = (
    "characters",
    "parse",
    "dummy atoms",
    "metal complex",
    "mixture",
    "elements",
    "radicals",
    "no carbon",
    "size",
)
"""The rules, in the order they are applied; a refused input's reason starts with one."""

_NOT_SMILES = re.compile(r"[^\x21-\x7e]")


def check_characters(text: str) -> str | None:
    """The ``characters`` rule on a stripped SMILES string."""
    bad = _NOT_SMILES.search(text)
    if bad is None:
        return None
    return f"characters: {bad.group()!r} at column {bad.start() + 1} is not a SMILES character"


def _elements(atoms: list[Chem.Atom]) -> str:
    return ", ".join(sorted({a.GetSymbol() for a in atoms}))


def check_parsed(mol: Chem.Mol) -> str | None:
    """The ``dummy atoms`` and ``metal complex`` rules on the molecule as written."""
    if any(a.GetAtomicNum() == 0 for a in mol.GetAtoms()):
        return "dummy atoms: '*' marks an attachment point, not an atom"
    bonded = [
        a
        for a in mol.GetAtoms()
        if a.GetSymbol() not in ALLOWED_ELEMENTS | SALT_METALS and a.GetDegree() > 0
    ]
    if bonded:
        return (
            f"metal complex: {_elements(bonded)} bonded to the molecule; molgen handles "
            "organic molecules only"
        )
    return None


def check_components(organic: list[Chem.Mol]) -> str | None:
    """The ``mixture`` rule: ``organic`` are the components with carbon left after known salts
    and solvents were removed."""
    if len(organic) <= 1:
        return None
    names = ", ".join(Chem.MolToSmiles(m) for m in organic[:3])
    more = f" and {len(organic) - 3} more" if len(organic) > 3 else ""
    return f"mixture: {len(organic)} organic components ({names}{more}); give one per line"


def check_parent(mol: Chem.Mol) -> str | None:
    """The ``elements``, ``radicals``, ``no carbon`` and ``size`` rules on the molecule kept."""
    atoms = list(mol.GetAtoms())
    other = [a for a in atoms if a.GetSymbol() not in ALLOWED_ELEMENTS]
    if other:
        return f"elements: {_elements(other)} (molgen handles {', '.join(ELEMENTS)})"
    radicals = [a for a in atoms if a.GetNumRadicalElectrons()]
    if radicals:
        where = ", ".join(f"{a.GetSymbol()}{a.GetIdx() + 1}" for a in radicals[:3])
        return f"radicals: unpaired electrons on {where}"
    if not any(a.GetAtomicNum() == 6 for a in atoms):
        return "no carbon: not an organic molecule"
    heavy = mol.GetNumHeavyAtoms()
    if heavy < MIN_HEAVY_ATOMS:
        return f"size: {heavy} heavy atoms (fewest {MIN_HEAVY_ATOMS})"
    if heavy > MAX_HEAVY_ATOMS:
        return f"size: {heavy} heavy atoms (most {MAX_HEAVY_ATOMS})"
    return None


def rule_of(reason: str) -> str | None:
    """The rule a ``prepare`` rejection's reason names (``"size: 2 heavy atoms ..."`` ->
    ``"size"``), or None for a reason that names none (an empty line)."""
    head = reason.split(":", 1)[0]
    return head if head in RULES and head != reason else None
