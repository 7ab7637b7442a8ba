"""GuacaMol goal-directed tasks on molecules whose scores follow from the definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from rdkit import Chem, DataStructs
from rdkit.Chem import Descriptors, rdFingerprintGenerator

from molgen.generators import goal_tasks as gt

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
DRUG_LIKE = [
    ASPIRIN,
    "Cn1cnc2c1c(=O)n(C)c(=O)n2C",  # caffeine
    "CC(C)Cc1ccc(cc1)C(C)C(=O)O",  # ibuprofen
    "CN1CCC[C@H]1c1cccnc1",  # nicotine
    "COc1ccc2nc(S(=O)Cc3ncc(C)c(OC)c3C)[nH]c2c1",  # omeprazole
    gt.CELECOXIB,
    gt.OSIMERTINIB,
    gt.CAMPHOR,
    gt.MENTHOL,
    gt.SCAFFOLD_HOP_REFERENCE,
]
INVALID = ["C1CC(", "not a smiles", "", "c1ccccc", "C(C)(C)(C)(C)C"]


def _count_tanimoto(a: str, b: str, radius: int) -> float:
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=radius)
    fa = gen.GetSparseCountFingerprint(Chem.MolFromSmiles(a))
    fb = gen.GetSparseCountFingerprint(Chem.MolFromSmiles(b))
    return DataStructs.TanimotoSimilarity(fa, fb)


def test_task_names():
    assert set(gt.TASKS) == {
        "celecoxib_rediscovery",
        "osimertinib_mpo",
        "median_molecules_1",
        "scaffold_hop",
    }


@pytest.mark.parametrize("task", sorted(gt.TASKS))
def test_invalid_smiles_score_zero(task):
    for smi in INVALID:
        assert gt.TASKS[task](smi) == 0.0
    assert np.array_equal(gt.score_all(task, INVALID), np.zeros(len(INVALID)))


@pytest.mark.parametrize("task", sorted(gt.TASKS))
def test_scores_in_unit_interval(task):
    scores = gt.score_all(task, DRUG_LIKE)
    assert scores.dtype == np.float64
    assert scores.shape == (len(DRUG_LIKE),)
    assert np.all((scores >= 0.0) & (scores <= 1.0))
    assert scores.max() > 0.0
    assert [gt.TASKS[task](s) for s in DRUG_LIKE] == pytest.approx(scores.tolist())


def test_score_all_unknown_task():
    with pytest.raises(KeyError):
        gt.score_all("no_such_task", [ASPIRIN])
    assert gt.score_all("scaffold_hop", []).shape == (0,)


def test_modifiers():
    assert gt.clipped(0.4, upper_x=0.8) == pytest.approx(0.5)
    assert gt.clipped(0.9, upper_x=0.8) == 1.0
    assert gt.clipped(-0.1, upper_x=0.8) == 0.0
    assert gt.min_gaussian(0.5, mu=0.85, sigma=0.1) == 1.0
    assert gt.min_gaussian(1.0, mu=0.85, sigma=0.1) == pytest.approx(math.exp(-1.125))
    assert gt.max_gaussian(120.0, mu=100.0, sigma=10.0) == 1.0
    assert gt.max_gaussian(80.0, mu=100.0, sigma=10.0) == pytest.approx(math.exp(-2.0))


def test_celecoxib_rediscovery():
    kekule = "Cc1ccc(cc1)-c1cc(nn1-c1ccc(cc1)S(N)(=O)=O)C(F)(F)F"
    assert gt.celecoxib_rediscovery(gt.CELECOXIB) == pytest.approx(1.0)
    assert gt.celecoxib_rediscovery(kekule) == pytest.approx(1.0)
    aspirin = gt.celecoxib_rediscovery(ASPIRIN)
    assert aspirin < 0.3
    # ClippedScoreModifier(upper_x=1.0) is the identity: the score is the ECFP4 count Tanimoto.
    assert aspirin == pytest.approx(_count_tanimoto(ASPIRIN, gt.CELECOXIB, radius=2))


def _osimertinib_expected(smiles: str) -> float:
    """The Osimertinib MPO computed term by term from the GuacaMol definition."""
    mol = Chem.MolFromSmiles(smiles)
    fcfp = rdFingerprintGenerator.GetMorganGenerator(
        radius=2, atomInvariantsGenerator=rdFingerprintGenerator.GetMorganFeatureAtomInvGen()
    )
    sim_fcfp4 = DataStructs.TanimotoSimilarity(
        fcfp.GetSparseCountFingerprint(mol),
        fcfp.GetSparseCountFingerprint(Chem.MolFromSmiles(gt.OSIMERTINIB)),
    )
    sim_ecfp6 = _count_tanimoto(smiles, gt.OSIMERTINIB, radius=3)
    tpsa, logp = Descriptors.TPSA(mol), Descriptors.MolLogP(mol)
    terms = [
        min(sim_fcfp4 / 0.8, 1.0),
        math.exp(-0.5 * ((sim_ecfp6 - 0.85) / 0.1) ** 2) if sim_ecfp6 > 0.85 else 1.0,
        math.exp(-0.5 * ((tpsa - 100.0) / 10.0) ** 2) if tpsa < 100.0 else 1.0,
        math.exp(-0.5 * (logp - 1.0) ** 2) if logp > 1.0 else 1.0,
    ]
    return math.prod(terms) ** 0.25


def test_osimertinib_mpo_itself_is_penalised():
    # Identical molecule: FCFP4 term 1, ECFP6 similarity 1 -> MinGaussian(0.85, 0.1) = e^-1.125.
    mol = Chem.MolFromSmiles(gt.OSIMERTINIB)
    tpsa, logp = Descriptors.TPSA(mol), Descriptors.MolLogP(mol)
    assert tpsa < 100.0 and logp > 1.0
    expected = (
        1.0
        * math.exp(-1.125)
        * math.exp(-0.5 * ((tpsa - 100.0) / 10.0) ** 2)
        * math.exp(-0.5 * (logp - 1.0) ** 2)
    ) ** 0.25
    score = gt.osimertinib_mpo(gt.OSIMERTINIB)
    assert score == pytest.approx(expected, rel=1e-9)
    assert score < 0.5


@pytest.mark.parametrize(
    "smiles",
    [
        # osimertinib without the N-methyl on the indole, and with a morpholine side chain
        "COc1cc(N(C)CCN(C)C)c(NC(=O)C=C)cc1Nc2nccc(n2)c3c[nH]c4ccccc34",
        "COc1cc(N2CCOCC2)c(NC(=O)C=C)cc1Nc2nccc(n2)c3cn(C)c4ccccc34",
        ASPIRIN,
    ],
)
def test_osimertinib_mpo_matches_definition(smiles):
    assert gt.osimertinib_mpo(smiles) == pytest.approx(_osimertinib_expected(smiles), rel=1e-9)


def test_median_molecules_1():
    between = _count_tanimoto(gt.CAMPHOR, gt.MENTHOL, radius=2)
    assert 0.0 < between < 1.0
    camphor = gt.median_molecules_1(gt.CAMPHOR)
    menthol = gt.median_molecules_1(gt.MENTHOL)
    # Each scores sqrt(1 * sim(camphor, menthol)) under the geometric mean.
    assert camphor == pytest.approx(math.sqrt(between))
    assert menthol == pytest.approx(math.sqrt(between))
    for unrelated in ["c1ccccc1", ASPIRIN, gt.CELECOXIB]:
        assert gt.median_molecules_1(unrelated) < min(camphor, menthol) / 2
    assert gt.median_molecules_1("c1ccccc1") == 0.0  # shares no ECFP4 environment: product 0


def _phco_tanimoto(a: str, b: str) -> float:
    from rdkit.Chem.Pharm2D import Generate, Gobbi_Pharm2D

    fa, fb = (
        Generate.Gen2DFingerprint(Chem.MolFromSmiles(s), Gobbi_Pharm2D.factory) for s in (a, b)
    )
    return DataStructs.TanimotoSimilarity(fa, fb)


def test_scaffold_hop():
    # The reference keeps the decoration (1) and the forbidden scaffold (0), PHCO term 1.
    assert gt.scaffold_hop(gt.SCAFFOLD_HOP_REFERENCE) == pytest.approx(2.0 / 3.0)
    # Quinazoline -> quinoline: the scaffold SMARTS no longer matches, the decoration still does.
    quinoline = "CCCOc1cc2nccc(Nc3ccc4ncsc4c3)c2cc1S(=O)(=O)C(C)(C)C"
    hop = gt.scaffold_hop(quinoline)
    phco = min(_phco_tanimoto(quinoline, gt.SCAFFOLD_HOP_REFERENCE) / 0.75, 1.0)
    assert hop == pytest.approx((phco + 1.0 + 1.0) / 3.0)
    assert hop > 2.0 / 3.0 + 0.1
    # Methoxy instead of propoxy: decoration lost, scaffold kept -> only the PHCO term remains.
    methoxy = "COc1cc2ncnc(Nc3ccc4ncsc4c3)c2cc1S(=O)(=O)C(C)(C)C"
    assert 0.0 < gt.scaffold_hop(methoxy) <= 1.0 / 3.0
    # No decoration, no scaffold: 1/3 from the anti-scaffold term plus the PHCO term.
    assert 1.0 / 3.0 <= gt.scaffold_hop(ASPIRIN) < 2.0 / 3.0
