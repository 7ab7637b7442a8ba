"""A graph-based genetic algorithm on RDKit molecular graphs (Jensen's GB-GA).

After J. H. Jensen, Chem. Sci. 2019, 10, 3567, as in guacamol_baselines' ``graph_ga``: crossover
cuts each parent in two (at an acyclic single bond, or at two ring bonds) and joins a fragment of
one parent to one of the other; mutation applies one of seven reaction SMARTS with Jensen's
probabilities; children must sanitize, be one molecule near the parents' size, and have only
small, unstrained rings. Departures: ring crossover keeps the products of both the single- and
double-bond join (the reference overwrites the first), and all randomness comes from a
``random.Random`` passed in, so a generation is reproducible from its seed.

Failure rule: operators return ``None`` when no acceptable child is found. The only exception
caught is RDKit's ``Chem.rdchem.MolSanitizeException`` (``KekulizeException``,
``AtomValenceException``, ...), which chemically impossible products raise.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field
from rdkit import Chem, rdBase
from rdkit.Chem import rdChemReactions

from molgen.generators.base import GENERATORS

_SanitizeError = Chem.rdchem.MolSanitizeException

_ACYCLIC_SINGLE = Chem.MolFromSmarts("[*]-;!@[*]")
_RING_CHAIN = Chem.MolFromSmarts("[R]@[R]@[R]@[R]")
_RING_BRANCH = Chem.MolFromSmarts("[R]@[R;!D2]@[R]")
_RING_ATOM = Chem.MolFromSmarts("[R]")
_RING_ALLENE = Chem.MolFromSmarts("[R]=[R]=[R]")
_SMALL_RING_DOUBLE = Chem.MolFromSmarts("[r3,r4]=[r3,r4]")

_JOIN_FRAGMENTS = ("[*:1]-[1*].[1*]-[*:2]>>[*:1]-[*:2]",)
_JOIN_RING_FRAGMENTS = tuple(f"[*:1]~[1*].[1*]~[*:2]>>[*:1]{b}[*:2]" for b in "-=")
_CLOSE_RING = tuple(f"([*:1]~[1*].[1*]~[*:2])>>[*:1]{b}[*:2]" for b in "-=")

MAX_TRIES = 10
"""Attempts of each operator before it gives up (Jensen's value)."""


@dataclass(frozen=True, slots=True)
class SizeWindow:
    """Jensen's size check: a child has more than ``minimum`` atoms and fewer than a target
    drawn from a normal distribution with mean ``mean`` and deviation ``stdev``, and never more
    than ``maximum`` heavy atoms.
    """

    mean: float
    stdev: float = 3.5
    minimum: int = 5
    maximum: int = 50


@functools.cache
def _reaction(smarts: str) -> rdChemReactions.ChemicalReaction:
    """The compiled reaction for ``smarts`` (cached; reactions are not modified when run)."""
    return rdChemReactions.ReactionFromSmarts(smarts)


def _kekulized(mol: Chem.Mol) -> Chem.Mol:
    """A copy of ``mol`` with explicit single/double bonds, or a plain copy if that fails."""
    try:
        copy = Chem.Mol(mol)
        Chem.Kekulize(copy, clearAromaticFlags=True)
        return copy
    except _SanitizeError:
        return Chem.Mol(mol)


def mol_ok(mol: Chem.Mol, rng: random.Random, window: SizeWindow) -> bool:
    """Whether ``mol`` sanitizes (in place; errors mean no), is one fragment and fits ``window``."""
    try:
        Chem.SanitizeMol(mol)
    except _SanitizeError:
        return False
    if len(Chem.GetMolFrags(mol)) != 1:
        return False
    size = mol.GetNumAtoms()
    target = rng.normalvariate(window.mean, window.stdev)
    return window.minimum < size < target and mol.GetNumHeavyAtoms() <= window.maximum


def ring_ok(mol: Chem.Mol) -> bool:
    """Whether the rings of sanitized ``mol`` have at most 6 atoms, no ring allene and no double
    bond inside a 3- or 4-membered ring (Jensen's ring filter)."""
    if not mol.HasSubstructMatch(_RING_ATOM):
        return True
    if max(len(ring) for ring in mol.GetRingInfo().AtomRings()) > 6:
        return False
    return not (mol.HasSubstructMatch(_RING_ALLENE) or mol.HasSubstructMatch(_SMALL_RING_DOUBLE))


def _fragments(mol: Chem.Mol, bonds: Sequence[tuple[int, int]]) -> tuple[Chem.Mol, ...] | None:
    """The pieces of ``mol`` cut at ``bonds`` (atom index pairs), with ``[1*]`` at each cut;
    ``None`` if a piece fails to sanitize."""
    indices = [mol.GetBondBetweenAtoms(a, b).GetIdx() for a, b in bonds]
    cut = Chem.FragmentOnBonds(mol, indices, addDummies=True, dummyLabels=[(1, 1)] * len(bonds))
    try:
        return Chem.GetMolFrags(cut, asMols=True, sanitizeFrags=True)
    except _SanitizeError:
        return None


def cut(mol: Chem.Mol, rng: random.Random) -> tuple[Chem.Mol, ...] | None:
    """Two fragments of ``mol`` cut at a random acyclic single bond, or ``None``."""
    matches = mol.GetSubstructMatches(_ACYCLIC_SINGLE)
    if not matches:
        return None
    return _fragments(mol, [rng.choice(matches)])


def cut_ring(mol: Chem.Mol, rng: random.Random) -> tuple[Chem.Mol, ...] | None:
    """Two fragments of ``mol`` cut at two ring bonds (across a ring or around a ring branch
    atom, with equal odds), or ``None``."""
    for _ in range(MAX_TRIES):
        if rng.random() < 0.5:
            matches = mol.GetSubstructMatches(_RING_CHAIN)
            pairs = [(0, 1), (2, 3)]
        else:
            matches = mol.GetSubstructMatches(_RING_BRANCH)
            pairs = [(0, 1), (1, 2)]
        if not matches:
            return None
        match = rng.choice(matches)
        fragments = _fragments(mol, [(match[i], match[j]) for i, j in pairs])
        if fragments is None:
            return None
        if len(fragments) == 2:
            return fragments
    return None


def _run(smarts: str, reactants: tuple[Chem.Mol, ...]) -> list[Chem.Mol]:
    """The first product of each outcome of reaction ``smarts`` on ``reactants``, in RDKit's
    (deterministic) order."""
    return [products[0] for products in _reaction(smarts).RunReactants(reactants)]


def _join(
    smarts: Sequence[str], frags_a: Sequence[Chem.Mol], frags_b: Sequence[Chem.Mol]
) -> list[Chem.Mol]:
    """One joined molecule per reaction and pair of fragments (one from each parent)."""
    combos = [(rxn, fa, fb) for rxn in smarts for fa in frags_a for fb in frags_b]
    return [m for rxn, fa, fb in combos for m in _run(rxn, (fa, fb))[:1]]


def crossover_non_ring(
    parent_a: Chem.Mol, parent_b: Chem.Mol, rng: random.Random, window: SizeWindow
) -> Chem.Mol | None:
    """A child joining a chain-cut fragment of each parent, or ``None``."""
    for _ in range(MAX_TRIES):
        frags_a, frags_b = cut(parent_a, rng), cut(parent_b, rng)
        if frags_a is None or frags_b is None:
            return None
        children = [m for m in _join(_JOIN_FRAGMENTS, frags_a, frags_b) if mol_ok(m, rng, window)]
        if children:
            return rng.choice(children)
    return None


def crossover_ring(
    parent_a: Chem.Mol, parent_b: Chem.Mol, rng: random.Random, window: SizeWindow
) -> Chem.Mol | None:
    """A child joining a ring-cut fragment of each parent at both cuts, or ``None``."""
    for _ in range(MAX_TRIES):
        frags_a, frags_b = cut_ring(parent_a, rng), cut_ring(parent_b, rng)
        if frags_a is None or frags_b is None:
            return None
        joined = [
            m for m in _join(_JOIN_RING_FRAGMENTS, frags_a, frags_b) if mol_ok(m, rng, window)
        ]
        closed = [p for rxn in _CLOSE_RING for m in joined for p in _run(rxn, (m,))]
        children = [m for m in closed if mol_ok(m, rng, window) and ring_ok(m)]
        if children:
            return rng.choice(children)
    return None


def crossover(
    parent_a: Chem.Mol, parent_b: Chem.Mol, rng: random.Random, window: SizeWindow
) -> Chem.Mol | None:
    """A sanitized child of two parents that differs from both, or ``None`` after
    :data:`MAX_TRIES` ring or non-ring crossovers (equal odds). The parents are not modified."""
    parent_smiles = (Chem.MolToSmiles(parent_a), Chem.MolToSmiles(parent_b))
    kek_a, kek_b = _kekulized(parent_a), _kekulized(parent_b)
    for _ in range(MAX_TRIES):
        operator = crossover_non_ring if rng.random() <= 0.5 else crossover_ring
        child = operator(kek_a, kek_b, rng, window)
        if child is not None and Chem.MolToSmiles(child) not in parent_smiles:
            return child
    return None


def _pick(rng: random.Random, choices: Sequence[str], weights: Sequence[float]) -> str:
    return rng.choices(choices, weights=weights)[0]


def _spread(template: str, elements: str, share: float) -> list[tuple[str, float]]:
    """``template`` filled with each space-separated element, ``share`` split equally."""
    names = elements.split()
    return [(template.format(e), share / len(names)) for e in names]


_MUTATION_TABLES: dict[str, list[tuple[str, float]]] = {
    # Jensen draws a bond order (0.60/0.35/0.05), then an element uniformly: flattened here.
    "insert_atom": [
        *_spread("[*:1]~[*:2]>>[*:1]{}[*:2]", "C N O S", 0.60),
        *_spread("[*;!H0:1]~[*:2]>>[*:1]={}-[*:2]", "C N", 0.35),
        *_spread("[*;!R;!H1;!H0:1]~[*:2]>>[*:1]#{}-[*:2]", "C", 0.05),
    ],
    "change_bond_order": [
        ("[*:1]!-[*:2]>>[*:1]-[*:2]", 0.45),
        ("[*;!H0:1]-[*;!H0:2]>>[*:1]=[*:2]", 0.45),
        ("[*:1]#[*:2]>>[*:1]=[*:2]", 0.05),
        ("[*;!R;!H1;!H0:1]~[*:2]>>[*:1]#[*:2]", 0.05),
    ],
    "delete_cyclic_bond": [("[*:1]@[*:2]>>([*:1].[*:2])", 1.0)],
    "add_ring": [
        ("[*;!r;!H0:1]~[*;!r:2]~[*;!r;!H0:3]>>[*:1]1~[*:2]~[*:3]1", 0.05),
        ("[*;!r;!H0:1]~[*!r:2]~[*!r:3]~[*;!r;!H0:4]>>[*:1]1~[*:2]~[*:3]~[*:4]1", 0.05),
        (
            "[*;!r;!H0:1]~[*!r:2]~[*:3]~[*:4]~[*;!r;!H0:5]>>[*:1]1~[*:2]~[*:3]~[*:4]~[*:5]1",
            0.45,
        ),
        (
            "[*;!r;!H0:1]~[*!r:2]~[*:3]~[*:4]~[*!r:5]~[*;!r;!H0:6]"
            ">>[*:1]1~[*:2]~[*:3]~[*:4]~[*:5]~[*:6]1",
            0.45,
        ),
    ],
    "delete_atom": [
        ("[*:1]~[D1:2]>>[*:1]", 0.25),
        ("[*:1]~[D2:2]~[*:3]>>[*:1]-[*:3]", 0.25),
        ("[*:1]~[D3:2](~[*;!H0:3])~[*:4]>>[*:1]-[*:3]-[*:4]", 0.25),
        ("[*:1]~[D4:2](~[*;!H0:3])(~[*;!H0:4])~[*:5]>>[*:1]-[*:3]-[*:4]-[*:5]", 0.1875),
        ("[*:1]~[D4:2](~[*;!H0;!H1:3])(~[*:4])~[*:5]>>[*:1]-[*:3](-[*:4])-[*:5]", 0.0625),
    ],
    "change_atom": [],  # depends on the molecule's elements: see _change_atom
    "append_atom": [
        *_spread("[*;!H0:1]>>[*:1]-{}", "C N O F S Cl Br", 0.60),
        *_spread("[*;!H0;!H1:1]>>[*:1]={}", "C N O", 0.35),
        *_spread("[*;H3:1]>>[*:1]#{}", "C N", 0.05),
    ],
}

MUTATIONS = tuple(_MUTATION_TABLES)
"""Jensen's mutation operators, in the order of :data:`MUTATION_WEIGHTS`."""

MUTATION_WEIGHTS = (0.15, 0.14, 0.14, 0.14, 0.14, 0.14, 0.15)
"""Probabilities of the operators in :data:`MUTATIONS` (Jensen's values)."""

_ELEMENTS = {"#6": 0.15, "#7": 0.15, "#8": 0.14, "#9": 0.14, "#16": 0.14, "#17": 0.14, "#35": 0.14}
_ELEMENT_PATTERNS = {e: Chem.MolFromSmarts(f"[{e}]") for e in _ELEMENTS}


def _change_atom(rng: random.Random, mol: Chem.Mol) -> str | None:
    """SMARTS swapping an element of ``mol`` for another, or ``None`` if it has none of them.

    Jensen redraws until the element is present; drawing among those present is the same
    distribution and always terminates.
    """
    present = [e for e in _ELEMENTS if mol.HasSubstructMatch(_ELEMENT_PATTERNS[e])]
    if not present:
        return None
    old = _pick(rng, present, [_ELEMENTS[e] for e in present])
    others = [e for e in _ELEMENTS if e != old]
    return f"[{old}:1]>>[{_pick(rng, others, [_ELEMENTS[e] for e in others])}:1]"


def mutation_smarts(operator: str, mol: Chem.Mol, rng: random.Random) -> str | None:
    """A reaction SMARTS drawn for ``operator`` (a name in :data:`MUTATIONS`) on ``mol``.

    Raises:
        KeyError: if ``operator`` is not in :data:`MUTATIONS`.
    """
    table = _MUTATION_TABLES[operator]
    if operator == "change_atom":
        return _change_atom(rng, mol)
    return _pick(rng, [s for s, _ in table], [w for _, w in table])


def mutate(
    mol: Chem.Mol, rng: random.Random, window: SizeWindow, operator: str | None = None
) -> Chem.Mol | None:
    """A sanitized mutant of ``mol`` (left unmodified) that passes ``window``, or ``None`` after
    :data:`MAX_TRIES` failures. ``operator`` (a name in :data:`MUTATIONS`, else ``KeyError``)
    forces one operator; by default each try draws one with :data:`MUTATION_WEIGHTS`."""
    kekulized = _kekulized(mol)
    for _ in range(MAX_TRIES):
        name = operator if operator is not None else _pick(rng, MUTATIONS, MUTATION_WEIGHTS)
        smarts = mutation_smarts(name, kekulized, rng)
        if smarts is None:
            continue
        mutants = [m for m in _run(smarts, (kekulized,)) if mol_ok(m, rng, window) and ring_ok(m)]
        if mutants:
            return rng.choice(mutants)
    return None


class GraphGAParams(BaseModel):
    """The campaign file's ``[generator]`` keys for ``graph_ga`` (the constructor's defaults and
    limits; seed molecules come from ``generator.seeds``)."""

    model_config = ConfigDict(extra="forbid")

    population_size: int = Field(default=100, ge=1, description="molecules kept by update")
    mutation_rate: float = Field(
        default=0.1, ge=0.0, le=1.0, description="probability a child is mutated"
    )
    max_heavy_atoms: int = Field(
        default=50, ge=1, description="no child has more (children need more than 5 atoms)"
    )


@GENERATORS.register("graph_ga")
class GraphGA:
    """Jensen's graph-based genetic algorithm (GB-GA) as a molgen generator.

    The population is a list of ``(smiles, score)`` pairs; seeds start unscored. Parents are
    drawn with probability proportional to ``score + EPSILON`` (uniformly while unscored), mated
    with :func:`crossover` and mutated with probability ``mutation_rate``.

    Args:
        seeds: SMILES of the starting population; those RDKit cannot parse are skipped.
        population_size: how many molecules :meth:`update` keeps.
        mutation_rate: probability that a child is mutated after crossover.
        max_heavy_atoms: no child has more heavy atoms than this.

    Raises:
        ValueError: if no seed parses, or a parameter is out of range.
    """

    name: ClassVar[str] = "graph_ga"
    version: ClassVar[str] = "1.0"
    EPSILON: ClassVar[float] = 1e-3
    Params: ClassVar[type[BaseModel]] = GraphGAParams

    def __init__(
        self,
        seeds: Sequence[str],
        population_size: int = 100,
        mutation_rate: float = 0.1,
        max_heavy_atoms: int = 50,
    ) -> None:
        if population_size < 1 or not 0.0 <= mutation_rate <= 1.0 or max_heavy_atoms < 1:
            raise ValueError(
                "graph_ga needs population_size >= 1, 0 <= mutation_rate <= 1 and "
                f"max_heavy_atoms >= 1; got {population_size}, {mutation_rate}, {max_heavy_atoms}"
            )
        self.population_size = population_size
        self.mutation_rate = mutation_rate
        self.max_heavy_atoms = max_heavy_atoms
        with rdBase.BlockLogs():
            valid = [s for s in seeds if Chem.MolFromSmiles(s) is not None]
        self.population: list[tuple[str, float | None]] = [(s, None) for s in valid]
        if not self.population:
            raise ValueError(f"graph_ga: none of the {len(seeds)} seed SMILES could be parsed")

    def generate(self, n: int, seed: int) -> list[str]:
        """Up to ``n`` canonical SMILES of children, none a copy of a population member or of
        an earlier child while the attempt budget (``10 * n`` matings) lasts."""
        rng = random.Random(seed)
        with rdBase.BlockLogs():
            members = [(Chem.MolFromSmiles(s), s) for s, _ in self.population]
        members = [(mol, s) for mol, s in members if mol is not None]
        if n <= 0 or not members:
            return []
        mols = [mol for mol, _ in members]
        scores = dict(self.population)  # mating weight: score (0 while unscored) + EPSILON
        weights = [max(scores[s] or 0.0, 0.0) + self.EPSILON for _, s in members]
        seen = {s for _, s in members}
        children: list[str] = []
        for _ in range(10 * n):
            if len(children) >= n:
                break
            a, b = rng.choices(range(len(mols)), weights=weights, k=2)
            with rdBase.BlockLogs():
                child = self._reproduce(mols[a], mols[b], rng)
            if child is not None and child not in seen:
                seen.add(child)
                children.append(child)
        return children

    def _reproduce(self, parent_a: Chem.Mol, parent_b: Chem.Mol, rng: random.Random) -> str | None:
        """One child's canonical SMILES (that RDKit parses back) from crossover then, with
        probability ``mutation_rate``, mutation; ``None`` if either fails."""
        mean = (parent_a.GetNumAtoms() + parent_b.GetNumAtoms()) / 2
        window = SizeWindow(mean=mean, maximum=self.max_heavy_atoms)
        child = crossover(parent_a, parent_b, rng, window)
        if child is not None and rng.random() < self.mutation_rate:
            child = mutate(child, rng, window)
        parsed = None if child is None else Chem.MolFromSmiles(Chem.MolToSmiles(child))
        return None if parsed is None else Chem.MolToSmiles(parsed)

    def update(self, smiles: Sequence[str], scores: Sequence[float]) -> None:
        """Merge scored molecules; keep the ``population_size`` best unique ones.

        A molecule scored more than once keeps its best score; ties are broken by SMILES.
        Unscored seeds leave the population as soon as any scored molecule exists.

        Raises:
            ValueError: if the lengths differ or a score is not a finite number.
        """
        if len(smiles) != len(scores):
            raise ValueError(f"graph_ga.update: {len(smiles)} SMILES but {len(scores)} scores")
        best: dict[str, float] = {s: v for s, v in self.population if v is not None}
        for s, v in zip(smiles, scores, strict=True):
            value = float(v)
            if not math.isfinite(value):
                raise ValueError(f"graph_ga.update: score {v!r} of {s!r} is not finite")
            best[s] = max(value, best.get(s, value))
        if best:
            ranked = sorted(best.items(), key=lambda item: (-item[1], item[0]))
            self.population = [(s, v) for s, v in ranked[: self.population_size]]

    def state_dict(self) -> dict[str, Any]:
        """``{"population": [[smiles, score or None], ...]}``."""
        return {"population": [[s, v] for s, v in self.population]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the population from :meth:`state_dict`'s output.

        Raises:
            ValueError: if ``state`` does not hold a non-empty population of
                ``[smiles, score or None]`` pairs.
        """
        population = state.get("population")
        if not isinstance(population, list) or not population:
            raise ValueError("graph_ga state needs a non-empty 'population' list")
        for entry in population:
            if not (
                isinstance(entry, list | tuple)
                and len(entry) == 2
                and isinstance(entry[0], str)
                and (entry[1] is None or isinstance(entry[1], int | float))
            ):
                raise ValueError(f"graph_ga state: bad population entry {entry!r}")
        self.population = [(s, None if v is None else float(v)) for s, v in population]

    def provenance(self) -> dict[str, Any]:
        """Name, version and the parameters that shape the search."""
        return {
            "generator": self.name,
            "version": self.version,
            "population_size": self.population_size,
            "mutation_rate": self.mutation_rate,
            "max_heavy_atoms": self.max_heavy_atoms,
        }
