"""Filters of unrealistic chemistry: ring systems never seen in MOSES, unstable or strained groups,
and datamol's medchem (NIBR exclusions, ZINC complexity)."""

import gzip
import re
from importlib.metadata import PackageNotFoundError
from pathlib import Path

import pytest
from rdkit import Chem

from molgen.config import CampaignError, load_campaign
from molgen.filters import FILTERS, Filter
from molgen.filters.ring_systems import (
    RingSystemFilter,
    default_table,
    load_ring_table,
    ring_systems,
)
from molgen.filters.stability import RULE_NAMES, UnstableGroups

SEEDS = Path(__file__).parents[2] / "data" / "bad_seeds.smi"


def _drugs() -> dict[str, str]:
    """The named drugs of bad_seeds.smi (its other lines are broken on purpose), and two more."""
    fields = [line.split(maxsplit=1) for line in SEEDS.read_text().splitlines()]
    named = {f[1]: f[0] for f in fields if len(f) == 2 and Chem.MolFromSmiles(f[0]) is not None}
    return named | {
        "imatinib": "Cc1ccc(NC(=O)c2ccc(CN3CCN(C)CC3)cc2)cc1Nc1nccc(-c2cccnc2)n1",
        "celecoxib": "Cc1ccc(-c2cc(C(F)(F)F)nn2-c2ccc(S(N)(=O)=O)cc2)cc1",
    }


DRUGS = _drugs()
# Stable look-alikes of each rule: a vinylogous acid, a Hantzsch dihydropyridine, octalin's
# fused-ring alkene, bicyclo[3.3.1]non-1-ene (Bredt-allowed), a squaramide, biphenylene.
LOOK_ALIKES = {
    "dimedone enol": "CC1(C)CC(O)=CC(=O)C1",
    "warfarin": "CC(=O)CC(c1ccccc1)c1c(O)c2ccccc2oc1=O",
    "nifedipine": "COC(=O)C1=C(C)NC(C)=C(C(=O)OC)C1c1ccccc1[N+](=O)[O-]",
    "octalin": "C1CCC2=C(C1)CCCC2",
    "bicyclo[3.3.1]non-1-ene": "C1CC2=CCCC(C1)C2",
    "squaramide": "CCNc1c(NCC)c(=O)c1=O",
    "biphenylene": "c1ccc2c(c1)-c1ccccc1-2",
    "oxazepam": "OC1N=C(c2ccccc2)c2cc(Cl)ccc2NC1=O",
}
BAD = {  # rule: a molecule that breaks it (and no other rule)
    "enol": "OC1=CC=CC1",  # cyclopentadienol
    "enamine": "C1=CC=CNC1",  # 1,2-dihydropyridine
    "anti_bredt": "C1CC2=CCC1C2",  # norbornene's bridgehead alkene
    "small_aromatic_ring": "c1ccn1",  # azete
    "cyclopropene": "CC1=C(c2ccccc2)C1",
    "allene": "CC=C=CC",
    "radical": "C[CH2]",
}


def mol(smiles):
    m = Chem.MolFromSmiles(smiles)
    assert m is not None, smiles
    return m


@pytest.fixture(scope="module")
def rings():
    return RingSystemFilter()


# --- unstable_groups ---------------------------------------------------------------------------


@pytest.mark.parametrize(("rule", "smiles"), BAD.items())
def test_each_rule_rejects_its_example_naming_only_that_rule(rule, smiles):
    assert UnstableGroups().check([mol(smiles)]) == [f"unstable: {rule}"]
    assert UnstableGroups(rules=[rule]).check([mol(smiles)]) == [f"unstable: {rule}"]
    others = [r for r in RULE_NAMES if r != rule]
    assert UnstableGroups(rules=others).check([mol(smiles)]) == [None]


def test_anti_bredt_follows_the_trans_ring_size():
    f = UnstableGroups(rules=["anti_bredt"])
    # bicyclo[2.2.2]oct-1-ene, [2.2.1]hept-1-ene, [4.1.0]hept-1-ene: trans ring of 6, 6, 7 atoms
    strained = ["C1CC2=CCC1CC2", "CC1=C2CCC(C2)C1", "C12=CCCCC1C2"]
    assert f.check([mol(s) for s in strained]) == ["unstable: anti_bredt"] * 3
    # [3.3.1]non-1-ene and [5.1.0]oct-1-ene (8), octalins (cis in both rings), norborn-2-ene
    allowed = ["C1CC2=CCCC(C1)C2", "C12=CCCCCC1C2", "C1CCC2=C(C1)CCCC2", "C1CCC2CCCC=C2C1"]
    allowed.append("C1=CC2CCC1C2")
    assert f.check([mol(s) for s in allowed]) == [None] * 5


def test_several_rules_are_listed_in_order():
    (reason,) = UnstableGroups().check([mol("OC1=CC(C2=CC=N2)C=C1")])
    assert reason == "unstable: enol; small_aromatic_ring"


@pytest.mark.parametrize("smiles", [*DRUGS.values(), *LOOK_ALIKES.values()])
def test_drugs_and_stable_look_alikes_pass_unstable_groups(smiles):
    assert UnstableGroups().check([mol(smiles)]) == [None]


def test_unstable_groups_rules_are_checked():
    f = UnstableGroups(rules=["allene", "enol", "allene"])
    assert f.rules == ("enol", "allene")
    assert "unstable1-enol+allene" in f.version
    with pytest.raises(ValueError, match=r"unknown rule 'enols'.*enol, enamine"):
        UnstableGroups(rules=["enols"])
    with pytest.raises(ValueError, match="empty"):
        UnstableGroups(rules=[])
    with pytest.raises(TypeError):
        UnstableGroups(rules="enol")
    with pytest.raises(ValueError, match="molecule 1 is None"):
        UnstableGroups().check([mol("C"), None])


# --- ring_systems ------------------------------------------------------------------------------


def test_ring_systems_keep_fused_spiro_and_double_bonded_atoms_and_drop_stereo():
    assert ring_systems(mol("CCO")) == []
    # N-substituted pyrrole is pyrrole; the lactam's =O stays; stereo is left out
    assert ring_systems(mol("Cn1cccc1")) == ring_systems(mol("c1cc[nH]c1")) == ["c1cc[nH]c1"]
    assert ring_systems(mol("CC[C@H]1CCC(=O)N1")) == ["O=C1CCCN1"]
    assert ring_systems(mol("c1ccccc1CC1CC12CCC2")) == ["c1ccccc1", "C1CC2(C1)CC2"]
    assert ring_systems(mol("c1ccc2[nH]ccc2c1-c1ccccc1")) == ["c1ccc2[nH]ccc2c1", "c1ccccc1"]


def test_shipped_table_loads_and_counts_common_rings(rings):
    table = load_ring_table(default_table())
    assert table is rings.table  # cached
    assert len(table) > 5_000
    assert table["c1ccccc1"] > 900_000  # most MOSES molecules hold a benzene
    assert "C1=CC=C1" not in table and "C1=CN=C1" not in table


def test_never_seen_ring_system_is_rejected_naming_it(rings):
    cyclobutadiene, drug = rings.check([mol("C1=CC=C1c1ccccc1"), mol(DRUGS["imatinib"])])
    assert cyclobutadiene == "ring system never seen in MOSES train: C1=CC=C1"
    assert drug is None
    assert rings.version.endswith("-min1") and "rings1-" in rings.version


@pytest.mark.parametrize("smiles", DRUGS.values())
def test_drugs_pass_ring_systems(rings, smiles):
    assert rings.check([mol(smiles)]) == [None]


def test_custom_table_and_min_count(tmp_path):
    path = tmp_path / "mine.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("ring_system,count\nc1ccccc1,10\nc1ccncc1,2\n")
    f = RingSystemFilter(min_count=3, table_path=path)
    benzene, pyridine, both = f.check(
        [mol("Cc1ccccc1"), mol("c1ccncc1"), mol("c1ccccc1-c1ccncc1C1CC1")]
    )
    assert benzene is None
    assert pyridine == "ring system rare in mine.csv.gz (2 < 3): c1ccncc1"
    assert both == (
        "ring system rare in mine.csv.gz (2 < 3): c1ccncc1; "
        "ring system never seen in mine.csv.gz: C1CC1"
    )
    assert RingSystemFilter(min_count=2, table_path=path).check([mol("c1ccncc1")]) == [None]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("smiles,count\nc1ccccc1,3\n", r"columns \['smiles', 'count'\]"),
        ("ring_system,count\nc1ccccc1,0\n", "row 2: need a ring system and a count >= 1"),
        ("ring_system,count\nc1ccccc1,x\n", "row 2"),
        ("ring_system,count\nc1ccccc1,3\nc1ccccc1,4\n", "'c1ccccc1' is listed twice"),
    ],
)
def test_a_bad_table_is_refused_naming_the_file(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=f"bad.csv: .*{message}"):
        RingSystemFilter(table_path=path)
    with pytest.raises(OSError):
        RingSystemFilter(table_path=tmp_path / "missing.csv")
    with pytest.raises(ValueError, match="min_count must be >= 1"):
        RingSystemFilter(min_count=0)


# --- registry and campaign files ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "cls"), [("ring_systems", RingSystemFilter), ("unstable_groups", UnstableGroups)]
)
def test_new_filters_resolve_by_registered_name(name, cls):
    assert FILTERS.get(name) is cls
    f = cls()
    assert isinstance(f, Filter)
    assert f.name == name and "rdkit-" in f.version
    assert f.check([]) == []


DEMO = Path(__file__).parents[3] / "examples" / "demo.toml"


def _campaign(tmp_path, use):
    """The demo campaign with ``[filters] use = <use>``, loaded from a file in ``tmp_path``."""
    text = re.sub(
        r"\[filters\]\nuse = \[.*?\n\]", f"[filters]\nuse = {use}", DEMO.read_text(), flags=re.S
    )
    path = tmp_path / "c.toml"
    path.write_text(text)
    return load_campaign(path)


def test_campaign_file_builds_the_new_filters_with_their_parameters(tmp_path):
    from molgen.pipeline.components import component_params, filter_specs

    (tmp_path / "t.csv").write_text("ring_system,count\nc1ccccc1,5\n")
    use = (
        '["ring_systems", {kind = "ring_systems", params = {min_count = 5, table_path = "t.csv"}},'
        ' {kind = "unstable_groups", params = {rules = ["enol", "allene"]}}]'
    )
    campaign = _campaign(tmp_path, use)
    assert component_params(campaign)["filters"] == [
        {"kind": "ring_systems", "params": {"min_count": 1, "table_path": None}},
        {
            "kind": "ring_systems",
            "params": {"min_count": 5, "table_path": str((tmp_path / "t.csv").resolve())},
        },
        {"kind": "unstable_groups", "params": {"rules": ["enol", "allene"]}},
    ]
    built = [spec.build(FILTERS) for spec in filter_specs(campaign)]
    assert [f.check([mol("OC1=CCC(c2ccncc2)CC1")])[0] for f in built] == [
        None,  # MOSES train holds cyclohexene and pyridine
        "ring system never seen in t.csv: C1=CCCCC1; ring system never seen in t.csv: c1ccncc1",
        "unstable: enol",
    ]


@pytest.mark.parametrize(
    ("use", "message"),
    [
        ('[{kind = "ring_systems", params = {min_count = 0}}]', r"params.min_count"),
        ('[{kind = "ring_systems", params = {min_cnt = 2}}]', r"params.min_cnt"),
        ('[{kind = "unstable_groups", params = {rules = ["enols"]}}]', r"params.rules.0"),
        ('[{kind = "unstable_groups", params = {rules = []}}]', r"params.rules"),
        ('[{kind = "medchem", params = {checks = ["pains"]}}]', r"params.checks.0"),
    ],
)
def test_invalid_parameters_are_named_with_their_field(tmp_path, use, message):
    from molgen.pipeline.components import component_params

    with pytest.raises(CampaignError, match=r"filters.use\[0\] \(\w+\): " + message):
        component_params(_campaign(tmp_path, use))


def test_demo_and_init_template_use_the_new_filters(tmp_path):
    from molgen.cli.template import TEMPLATE
    from molgen.pipeline.components import component_params

    template = tmp_path / "x.toml"
    template.write_text(TEMPLATE.format(filename="x.toml", name="x", target="DRD2"))
    for path in (DEMO, template):
        kinds = [f["kind"] for f in component_params(load_campaign(path))["filters"]]
        assert {"ring_systems", "unstable_groups"} <= set(kinds), path


# --- medchem -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def medchem_cls():
    pytest.importorskip("medchem")
    return FILTERS.get("medchem")


def test_medchem_rejects_nibr_exclusions_and_passes_drugs(medchem_cls):
    f = medchem_cls(checks=["nibr"])
    assert f.version == "medchem-2.1.1-nibr"
    anhydride, *drugs = f.check([mol("O=C1OC(=O)C(Cc2ccccc2)C1"), *map(mol, DRUGS.values())])
    assert anhydride == "medchem NIBR: acid_anhydride_cyclic"
    assert drugs == [None] * len(DRUGS)


def test_medchem_complexity_outlier_names_metric_and_limit(medchem_cls):
    f = medchem_cls(checks=["complexity"])  # Bertz index, 99.9th percentile of ZINC 15
    assert f.version == "medchem-2.1.1-complexity-bertz999"
    imatinib, acridone = f.check([mol(DRUGS["imatinib"]), mol(DRUGS["acridone"])])
    assert imatinib is None
    assert acridone == (
        "medchem complexity: bertz above the ZINC 15 999 percentile for its molecular weight"
    )


def test_medchem_missing_says_how_to_install(monkeypatch):
    import molgen.filters.medchem_adapter as adapter

    def missing(name):
        raise PackageNotFoundError(name)

    monkeypatch.setattr(adapter, "version", missing)
    with pytest.raises(ImportError, match=r"pip install 'molgen\[medchem\]'"):
        adapter.MedchemFilter()
