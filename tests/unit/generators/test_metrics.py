"""MOSES metrics on small sets whose answers are known."""

from __future__ import annotations

from collections import Counter

import pytest

from molgen.generators import metrics as m


def test_validity_uniqueness_novelty():
    generated = ["CCO", "OCC", "c1ccccc1", "not a smiles", "", "C1CC"]
    assert m.validity(generated) == pytest.approx(3 / 6)
    valid = [c for c in m.canonical_all(generated) if c]
    assert valid == ["CCO", "CCO", "c1ccccc1"]
    assert m.uniqueness(valid, 10_000) == pytest.approx(2 / 3)
    assert m.uniqueness(valid, 1) == 1.0
    assert m.novelty(valid, {"CCO"}) == pytest.approx(1 / 2)


def test_similarity_metrics():
    same = m.fingerprints(["c1ccccc1O"] * 3)
    assert m.internal_diversity(same) == pytest.approx(0.0)
    mixed = m.fingerprints(["c1ccccc1O", "CCCCCCCCN"])
    assert 0.4 < m.internal_diversity(mixed) < 0.6  # two of four ordered pairs are self-pairs
    assert m.snn(mixed, same) == pytest.approx((1.0 + float(_tanimoto())) / 2)
    assert m.cosine(Counter(a=1, b=1), Counter(a=1, b=1)) == pytest.approx(1.0)
    assert m.cosine(Counter(a=1), Counter(b=1)) == 0.0


def _tanimoto() -> float:
    from rdkit import Chem, DataStructs

    fa = m._MORGAN.GetFingerprint(Chem.MolFromSmiles("CCCCCCCCN"))
    fb = m._MORGAN.GetFingerprint(Chem.MolFromSmiles("c1ccccc1O"))
    return DataStructs.TanimotoSimilarity(fa, fb)


def test_fragments_scaffolds_and_filters():
    assert m.scaffolds(["c1ccc(cc1)-c1ccncc1C", "CCO"]) == Counter({"c1ccc(-c2ccncc2)cc1": 1})
    assert sum(m.fragments(["CCOC(=O)c1ccccc1"]).values()) >= 2
    # neutral drug-like; charged; phosphorus; an 8-membered ring
    smiles = ["CC(=O)Nc1ccc(O)cc1", "C[N+](C)(C)C", "CP(C)C", "C1CCCCCCC1"]
    assert m.passes_filters(smiles) == pytest.approx(1 / 4)


def test_fcd_ranks_moses_like_molecules_closer_to_the_test_set_than_alkanes():
    from molgen.generators.selfies_lm.train import moses_subset

    moses = moses_subset(300, seed=2)
    alkanes = ["C" * k for k in range(1, 21)] * 15
    near, far = m.fcd_to_test(moses), m.fcd_to_test(alkanes)
    assert 0 < near < far
