"""Behaviour of the graph-based genetic algorithm on small real drugs."""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from rdkit import Chem
from rdkit.Chem import QED

from molgen.generators import GENERATORS, Generator
from molgen.generators.graph_ga import (
    MUTATIONS,
    GraphGA,
    SizeWindow,
    crossover,
    crossover_non_ring,
    crossover_ring,
    mol_ok,
    mutate,
    ring_ok,
)

DRUGS = [
    "CC(=O)Oc1ccccc1C(=O)O",  # aspirin
    "CC(C)Cc1ccc(C(C)C(=O)O)cc1",  # ibuprofen
    "CN1C(=O)CN=C(c2ccccc2)c2cc(Cl)ccc21",  # diazepam
    "CN1CCC[C@H]1c1cccnc1",  # nicotine
    "COc1ccc2[nH]cc(CCNC(C)=O)c2c1",  # melatonin
    "CC(=O)Nc1ccc(O)cc1",  # paracetamol
    "Cn1cnc2c1c(=O)n(C)c(=O)n2C",  # caffeine
    "CN(C)CCCN1c2ccccc2CCc2ccccc21",  # imipramine
    "O=C(O)c1ccccc1O",  # salicylic acid
    "Clc1ccc(C(c2ccccc2)n2ccnc2)cc1",  # clotrimazole analogue
    "CC(C)NCC(O)COc1cccc2ccccc12",  # propranolol
    "NC(=O)c1cnccn1",  # pyrazinamide
    "COC(=O)C1=C(C)NC(C)=C(C(=O)OC)C1c1ccccc1[N+](=O)[O-]",  # nifedipine
    "CS(=O)(=O)c1ccc(C2=C(c3ccccc3)C(=O)OC2)cc1",  # rofecoxib
    "Cc1ccc(S(=O)(=O)NC(=O)NN2CCCCCC2)cc1",  # tolazamide
    "CN1CCN(CC1)c1ccc2nc(-c3ccccc3)oc2c1",  # piperazine benzoxazole
    "O=C1CN=C(c2ccccc2F)c2cc([N+](=O)[O-])ccc2N1",  # flunitrazepam analogue
    "C[C@]12CC[C@@H]3c4ccc(O)cc4CC[C@H]3[C@@H]1CC[C@@H]2O",  # estradiol
    "Nc1ccc(S(=O)(=O)Nc2ccccn2)cc1",  # sulfapyridine
    "CC(C)(C)NCC(O)c1ccc(O)c(CO)c1",  # salbutamol
]
CANONICAL = [Chem.MolToSmiles(Chem.MolFromSmiles(s)) for s in DRUGS]
WINDOW = SizeWindow(mean=25.0, stdev=3.5, maximum=50)


def _qed(smiles: list[str]) -> list[float]:
    return [QED.qed(Chem.MolFromSmiles(s)) for s in smiles]


def _is_valid(mol: Chem.Mol | None) -> bool:
    """Whether ``mol`` writes SMILES that RDKit parses back into one molecule."""
    if mol is None:
        return False
    parsed = Chem.MolFromSmiles(Chem.MolToSmiles(mol))
    return parsed is not None and len(Chem.GetMolFrags(parsed)) == 1


def _mols() -> list[Chem.Mol]:
    return [Chem.MolFromSmiles(s) for s in CANONICAL]


def test_registered_and_satisfies_protocol() -> None:
    assert GENERATORS.get("graph_ga") is GraphGA
    assert isinstance(GraphGA(DRUGS), Generator)


def test_unparseable_seeds_are_skipped_and_no_valid_seed_is_an_error() -> None:
    ga = GraphGA(["not a smiles", "C1CC", *DRUGS[:3]])
    assert [s for s, _ in ga.state_dict()["population"]] == DRUGS[:3]
    with pytest.raises(ValueError, match="none of the 2 seed"):
        GraphGA(["not a smiles", "C1CC"])


def test_generate_returns_parseable_canonical_children_unlike_the_parents() -> None:
    children = GraphGA(DRUGS).generate(40, seed=0)
    assert len(children) >= 35
    for smiles in children:
        mol = Chem.MolFromSmiles(smiles)
        assert mol is not None
        assert Chem.MolToSmiles(mol) == smiles
        assert mol.GetNumHeavyAtoms() <= 50
    assert not set(children) & set(CANONICAL)
    assert len(set(children)) == len(children)


def test_max_heavy_atoms_caps_children() -> None:
    children = GraphGA(DRUGS, max_heavy_atoms=15).generate(30, seed=1)
    assert children
    assert all(Chem.MolFromSmiles(s).GetNumHeavyAtoms() <= 15 for s in children)


def test_same_seed_same_output_and_different_seed_different_output() -> None:
    ga = GraphGA(DRUGS)
    first = ga.generate(25, seed=7)
    assert ga.generate(25, seed=7) == first
    assert GraphGA(DRUGS).generate(25, seed=7) == first
    assert ga.generate(25, seed=8) != first


def test_generate_is_deterministic_across_processes() -> None:
    script = (
        "import json, sys\n"
        "from molgen.generators.graph_ga import GraphGA\n"
        "seeds = json.loads(sys.argv[1])\n"
        "ga = GraphGA(seeds, mutation_rate=0.5)\n"
        "ga.update(seeds[:10], [i / 10 for i in range(10)])\n"
        "print(json.dumps(ga.generate(25, seed=3)))\n"
    )
    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(DRUGS)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    ga = GraphGA(DRUGS, mutation_rate=0.5)
    ga.update(DRUGS[:10], [i / 10 for i in range(10)])
    assert json.loads(done.stdout) == ga.generate(25, seed=3)


def test_update_keeps_the_best_unique_molecules_and_drops_unscored_seeds() -> None:
    ga = GraphGA(DRUGS, population_size=4)
    ga.update(["CCO", "CCN", "CCC", "CCCl", "CCBr"], [0.2, 0.9, 0.5, 0.5, 0.1])
    ga.update(["CCO", "CCBr"], [0.95, 0.0])
    assert ga.state_dict()["population"] == [
        ["CCO", 0.95],
        ["CCN", 0.9],
        ["CCC", 0.5],
        ["CCCl", 0.5],
    ]
    ga.update([], [])
    assert len(ga.state_dict()["population"]) == 4


def test_update_rejects_mismatched_lengths_and_non_finite_scores() -> None:
    ga = GraphGA(DRUGS)
    with pytest.raises(ValueError, match="2 SMILES but 1 scores"):
        ga.update(["CCO", "CCN"], [0.5])
    with pytest.raises(ValueError, match="not finite"):
        ga.update(["CCO"], [math.nan])


def test_state_round_trips_through_json_and_reproduces_generation() -> None:
    ga = GraphGA(DRUGS, population_size=10)
    ga.update(CANONICAL, _qed(CANONICAL))
    state = json.loads(json.dumps(ga.state_dict()))
    restored = GraphGA(DRUGS[:2], population_size=10)
    restored.load_state_dict(state)
    assert restored.state_dict() == ga.state_dict()
    assert restored.generate(20, seed=5) == ga.generate(20, seed=5)


@pytest.mark.parametrize("state", [{}, {"population": []}, {"population": [["CCO"]]}])
def test_load_state_dict_rejects_malformed_state(state: dict) -> None:
    with pytest.raises(ValueError, match="graph_ga state"):
        GraphGA(DRUGS).load_state_dict(state)


def test_provenance_names_generator_and_parameters() -> None:
    prov = GraphGA(DRUGS, population_size=7, mutation_rate=0.3).provenance()
    assert prov["generator"] == "graph_ga"
    assert prov["version"] == GraphGA.version
    assert prov["population_size"] == 7
    assert prov["mutation_rate"] == 0.3


def test_crossover_children_are_valid_and_differ_from_parents() -> None:
    rng = random.Random(0)
    mols = _mols()
    made = 0
    for a, b in zip(mols, mols[1:] + mols[:1], strict=True):
        before = (Chem.MolToSmiles(a), Chem.MolToSmiles(b))
        child = crossover(a, b, rng, WINDOW)
        assert (Chem.MolToSmiles(a), Chem.MolToSmiles(b)) == before  # parents untouched
        if child is not None:
            made += 1
            assert _is_valid(child)
            assert ring_ok(child)
            assert Chem.MolToSmiles(child) not in before
    assert made >= 15


@pytest.mark.parametrize("operator", [crossover_ring, crossover_non_ring])
def test_each_crossover_kind_makes_valid_children(operator) -> None:
    rng = random.Random(1)
    mols = [Chem.Mol(m) for m in _mols()]
    for m in mols:
        Chem.Kekulize(m, clearAromaticFlags=True)
    children = [operator(a, b, rng, WINDOW) for a in mols[:8] for b in mols[8:16]]
    made = [c for c in children if c is not None]
    assert len(made) >= 20
    assert all(_is_valid(c) for c in made)


@pytest.mark.parametrize("operator", list(MUTATIONS))
def test_each_mutation_makes_valid_molecules(operator: str) -> None:
    rng = random.Random(2)
    mutants = []
    for mol in _mols():
        before = Chem.MolToSmiles(mol)
        mutant = mutate(mol, rng, WINDOW, operator=operator)
        assert Chem.MolToSmiles(mol) == before
        if mutant is not None:
            mutants.append(mutant)
            assert _is_valid(mutant)
            assert ring_ok(mutant)
            assert Chem.MolToSmiles(mutant) != before
    assert mutants, f"{operator} never applied"


def test_unknown_mutation_operator_is_an_error() -> None:
    with pytest.raises(KeyError):
        mutate(_mols()[0], random.Random(0), WINDOW, operator="teleport")


def test_ring_ok_follows_jensen_rules() -> None:
    assert ring_ok(Chem.MolFromSmiles("c1ccccc1CC"))
    assert ring_ok(Chem.MolFromSmiles("CCCC"))
    assert not ring_ok(Chem.MolFromSmiles("C1CCCCCCC1"))  # ring larger than 6
    assert not ring_ok(Chem.MolFromSmiles("C1=CCC1"))  # double bond in a 4-ring


def test_mol_ok_rejects_bad_valence_and_sizes_outside_the_window() -> None:
    rng = random.Random(0)
    bad = Chem.MolFromSmiles("CC(C)(C)(C)(C)CC", sanitize=False)
    assert not mol_ok(bad, rng, WINDOW)
    assert not mol_ok(Chem.MolFromSmiles("CCCC"), rng, WINDOW)  # too small
    assert not mol_ok(Chem.MolFromSmiles("CC.CCCCCCCC"), rng, WINDOW)  # two fragments
    big = Chem.MolFromSmiles("C" * 60)
    assert not mol_ok(big, rng, SizeWindow(mean=100.0, maximum=50))
    assert mol_ok(Chem.MolFromSmiles("C" * 12), rng, SizeWindow(mean=100.0, maximum=50))


def test_ten_generations_raise_mean_qed() -> None:
    ga = GraphGA(DRUGS, population_size=20, mutation_rate=0.3)
    ga.update(CANONICAL, _qed(CANONICAL))
    start = sum(v for _, v in ga.state_dict()["population"]) / 20
    for generation in range(10):
        children = ga.generate(40, seed=generation)
        assert children
        ga.update(children, _qed(children))
    population = ga.state_dict()["population"]
    end = sum(v for _, v in population) / len(population)
    assert len(population) == 20
    assert end > start + 0.1
