"""Unstable or strained groups that generative models produce and structural alerts let through.

Each rule has a name, and a rejection lists the names of the rules a molecule breaks:
``"unstable: enol; anti_bredt"``. The rules cover what RDKit's BRENK catalog does not (BRENK
already has acyclic enols ``acyclic_C=C-O``, ketenes, triple bonds, isolated alkenes, three-
membered heterocycles and acyclic hemiacetals/aminals ``het-C-het_not_in_ring``):

- ``enol``: a hydroxyl on a non-aromatic C=C, cyclic or not (a cyclopentadienol
  ``OC1=CC=CC1`` is the keto form's unstable tautomer). Not an enol: one conjugated with a
  carbonyl-like acceptor on either carbon (the stable enol of a 1,3-dicarbonyl, a vinylogous
  acid, a 2-hydroxy-enone such as a reductone) and one whose carbinol carbon carries N, O or S
  (the tautomer of an amide, ester or acid).
- ``enamine``: a primary or secondary amine on a non-aromatic C=C that no acceptor stabilizes
  (not an enaminone or a Hantzsch dihydropyridine, not an amide or aniline N): it tautomerizes
  to the imine (a 1,2-dihydropyridine, a 2,3-dihydroimidazole).
- ``anti_bredt``: a double bond at a bridgehead or ring fusion that must be *trans* in a ring of
  fewer than 8 atoms (Bredt's rule; Fawcett's S >= 7 for isolable bridgehead alkenes, i.e. the
  *trans* ring at least a cyclooctene): norbornene's bridgehead alkene, bicyclo[2.2.2]oct-1-ene,
  bicyclo[4.1.0]hept-1-ene. A double bond shared by two fused rings (octalin's 9,10) is *cis*
  in both and passes.
- ``small_aromatic_ring``: a three- or four-membered ring that is aromatic or fully unsaturated
  (cyclobutadiene ``C1=CC=C1``, azete ``C1=CC=N1``, a cyclopropenyl ring), unless its atoms carry
  exocyclic double bonds (squaric acid and squaramides, which RDKit calls aromatic).
- ``cyclopropene``: a C=C inside a three-membered carbocycle (strained and reactive; BRENK sees
  only an isolated one).
- ``allene``: cumulated C=C=C (no drug holds one; BRENK has ketenes only).
- ``radical``: an atom with unpaired electrons (``[CH2]C``).

Failure rule: the constructor raises :class:`ValueError` for an unknown or empty rule list;
:meth:`UnstableGroups.check` raises :class:`ValueError` naming the index of a molecule that is
``None``; otherwise it returns one verdict per molecule.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field
from rdkit import Chem

from molgen.filters.base import FILTERS
from molgen.filters.verdicts import PerMolecule
from molgen.predictors.rdkit_props import RDKIT_VERSION

RuleName = Literal[
    "enol", "enamine", "anti_bredt", "small_aromatic_ring", "cyclopropene", "allene", "radical"
]
RULE_NAMES: tuple[str, ...] = get_args(RuleName)
"""Every rule, in the order a rejection lists them."""

RULES_VERSION = "1"
"""Bumped whenever a rule's definition changes (part of the filter's version)."""

MIN_TRANS_RING = 8
"""The smallest ring that can hold a *trans* double bond (trans-cyclooctene)."""

# A carbon conjugated with an acceptor through a single bond: C=O, C=S, C=N, S=O, P=O, N=O,
# a nitrile or a nitro group.
_ACCEPTOR = "$([#6]-[$(C#N),$([N+](=O)[O-]),$([#6,#7,#16,#15]=[O,S,N])])"
_ALKENE_C = f"[#6X3;!a;!{_ACCEPTOR}]"  # a non-aromatic sp2 carbon that no acceptor stabilizes
_NOT_ACID_LIKE = "!$([#6](-[#7,#8,#16])-[OX2H1])"  # carbinol C without N, O or S: not an amide
_SMARTS = {
    "enol": f"[OX2H1]-[#6X3;!a;!{_ACCEPTOR};{_NOT_ACID_LIKE}]={_ALKENE_C}",
    "enamine": f"[NX3;H1,H2;!$(N-[#6,#16,#15]=[O,S,N]);!$(N-a)]-{_ALKENE_C}={_ALKENE_C}",
    "cyclopropene": "[#6]1=[#6]-[#6]-1",
    "allene": "[#6]=[#6X2]=[#6]",
}
_QUERIES = {name: Chem.MolFromSmarts(smarts) for name, smarts in _SMARTS.items()}


def _ring_neighbours(mol: Chem.Mol) -> list[list[int]]:
    """Each atom's neighbours through ring bonds."""
    nbrs: list[list[int]] = [[] for _ in range(mol.GetNumAtoms())]
    for bond in mol.GetBonds():
        if bond.IsInRing():
            a, b = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
            nbrs[a].append(b)
            nbrs[b].append(a)
    return nbrs


def _ring_size(nbrs: list[list[int]], a: int | None, b: int | None, x: int, y: int) -> int:
    """Atoms in the smallest ring through ``a-x=y-b`` (0 if there is none)."""
    if a is None or b is None:
        return 0
    seen, queue = {a, x, y}, deque([(a, 0)])
    while queue:
        atom, dist = queue.popleft()
        if atom == b:
            return dist + 3
        for n in nbrs[atom]:
            if n not in seen:
                seen.add(n)
                queue.append((n, dist + 1))
    return 0


def _anti_bredt(mol: Chem.Mol) -> bool:
    """Whether some non-aromatic ring double bond x=y must be *trans* in a small ring.

    x's other ring neighbours (a0, a1) lie on opposite sides of the bond, as do y's (b0, b1).
    Either a0/b0 and a1/b1 are *cis* (so a0/b1 and a1/b0 are *trans*) or the reverse; a
    geometry is possible if every ring it makes *trans* has at least :data:`MIN_TRANS_RING`
    atoms. The bond is anti-Bredt if neither geometry is possible.
    """
    nbrs: list[list[int]] | None = None
    for bond in mol.GetBonds():
        if bond.GetBondType() != Chem.BondType.DOUBLE or not bond.IsInRing():
            continue
        x, y = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        nbrs = nbrs or _ring_neighbours(mol)
        ax = [n for n in nbrs[x] if n != y] + [None, None]
        by = [n for n in nbrs[y] if n != x] + [None, None]
        if ax[1] is None and by[1] is None:  # a double bond in one ring is cis there
            continue
        geometries = (((ax[0], by[1]), (ax[1], by[0])), ((ax[0], by[0]), (ax[1], by[1])))
        if not any(
            all(
                size == 0 or size >= MIN_TRANS_RING
                for size in (_ring_size(nbrs, a, b, x, y) for a, b in trans)
            )
            for trans in geometries
        ):
            return True
    return False


def _small_aromatic_ring(mol: Chem.Mol) -> bool:
    """Whether a 3- or 4-membered ring is aromatic or fully unsaturated, without exocyclic
    double bonds (those make squaric-acid-like rings, which are real)."""
    info = mol.GetRingInfo()
    for atoms, bonds in zip(info.AtomRings(), info.BondRings(), strict=True):
        if len(atoms) > 4:
            continue
        ring_bonds = [mol.GetBondWithIdx(i) for i in bonds]
        aromatic = all(b.GetIsAromatic() for b in ring_bonds)
        double = sum(b.GetBondType() == Chem.BondType.DOUBLE for b in ring_bonds)
        if not (aromatic or 2 * double == len(atoms)):
            continue
        members = set(atoms)
        exocyclic = any(
            b.GetBondType() == Chem.BondType.DOUBLE and b.GetOtherAtomIdx(i) not in members
            for i in atoms
            for b in mol.GetAtomWithIdx(i).GetBonds()
        )
        if not exocyclic:
            return True
    return False


def _radical(mol: Chem.Mol) -> bool:
    return any(atom.GetNumRadicalElectrons() for atom in mol.GetAtoms())


def _substructure(name: str) -> Callable[[Chem.Mol], bool]:
    query = _QUERIES[name]
    return lambda mol: mol.HasSubstructMatch(query)


RULES: dict[str, Callable[[Chem.Mol], bool]] = {
    "enol": _substructure("enol"),
    "enamine": _substructure("enamine"),
    "anti_bredt": _anti_bredt,
    "small_aromatic_ring": _small_aromatic_ring,
    "cyclopropene": _substructure("cyclopropene"),
    "allene": _substructure("allene"),
    "radical": _radical,
}
"""Rule name -> whether a molecule breaks it (see the module docstring for each)."""


def check_rules(rules: Sequence[str]) -> list[str]:
    """``rules`` without repeats, in :data:`RULE_NAMES` order.

    Raises:
        TypeError: ``rules`` is a single string rather than a sequence of names.
        ValueError: it is empty or names an unknown rule.
    """
    if isinstance(rules, str):
        raise TypeError(f"unstable_groups: rules must be a list of names, not {rules!r}")
    unknown = [r for r in rules if r not in RULES]
    if unknown:
        raise ValueError(
            f"unstable_groups: unknown rule {unknown[0]!r} (known: {', '.join(RULE_NAMES)})"
        )
    if not rules:
        raise ValueError("unstable_groups: rules is empty")
    return [r for r in RULE_NAMES if r in rules]


class UnstableGroupsParams(BaseModel):
    """Campaign-file parameters of ``unstable_groups``."""

    model_config = ConfigDict(extra="forbid")

    rules: list[RuleName] = Field(default_factory=lambda: list(RULE_NAMES), min_length=1)


@FILTERS.register("unstable_groups")
class UnstableGroups(PerMolecule):
    """Rejects molecules with unstable or strained groups, naming each rule broken.

    Args:
        rules: names from :data:`RULE_NAMES`; default all of them.

    Raises:
        TypeError: ``rules`` is a single string.
        ValueError: ``rules`` is empty or names an unknown rule.
    """

    name: ClassVar[str] = "unstable_groups"
    Params: ClassVar[type[BaseModel]] = UnstableGroupsParams

    def __init__(self, rules: Sequence[str] = RULE_NAMES) -> None:
        self.rules = tuple(check_rules(rules))
        self.version = f"{RDKIT_VERSION}-unstable{RULES_VERSION}-{'+'.join(self.rules)}"
        self._tests = [(rule, RULES[rule]) for rule in self.rules]

    def reason(self, mol: Chem.Mol) -> str | None:
        """Why ``mol`` fails (see the class docstring), or ``None``."""
        broken = [rule for rule, test in self._tests if test(mol)]
        return f"unstable: {'; '.join(broken)}" if broken else None
