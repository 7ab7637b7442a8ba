"""How much real chemistry the realism filters reject, and how much of a generator's output.

The filters are ``ring_systems`` (ring systems never seen in the MOSES training set),
``unstable_groups`` (each of its rules separately) and, when datamol's medchem is installed,
``medchem`` (NIBR exclusions, ZINC complexity). They run on:

- the MOSES test set (``data/moses/test.csv.gz``, 176,074 real ZINC molecules, disjoint from the
  training set the ring-system table is built from), parsed as they are: the fraction rejected
  is the filters' false-positive rate on real chemistry; medchem, at about 12 ms a molecule for
  NIBR, runs on the first ``--medchem-n`` of them;
- ``--n`` molecules sampled from the shipped SELFIES prior (seed ``--seed``), prepared as a
  campaign's prepare stage does: the fraction each filter catches, and the fraction caught by
  the new filters that the existing defaults (PAINS/BRENK/NIH alerts, Lipinski, Veber) pass;
- a few known bad molecules (each must be rejected by the rule named beside it) and known drugs
  (each must pass every filter).

It also reports, for the ring-system filter, the fraction of each set rejected at other values of
``min_count``, which is how its default was chosen. The last line printed is one JSON object.
If a side cannot be computed (the prior cannot be sampled, a MOSES SMILES does not parse, a
filter fails on a molecule, medchem is missing without ``--no-medchem``) or a known case goes the
wrong way, the script exits with status 1 naming the side, the molecules and why, and prints no
fractions (``failure_rule.py``).

    python benchmarks/filters.py                 # about 6 minutes on 2 cores
    python benchmarks/filters.py --n 2000 --moses-n 20000 --medchem-n 1000   # a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import pandas as pd
from failure_rule import BenchmarkFailed, require_every
from rdkit import Chem, RDLogger

from molgen.filters.alerts import StructuralAlerts
from molgen.filters.ring_systems import RingSystemFilter, default_table, ring_systems
from molgen.filters.rules import LipinskiFilter, VeberFilter
from molgen.filters.stability import RULE_NAMES, UnstableGroups

ROOT = Path(__file__).resolve().parents[1]
MOSES_TEST = ROOT / "data" / "moses" / "test.csv.gz"
PRIOR = ROOT / "models" / "selfies-prior" / "prior.safetensors"
MIN_COUNTS = (1, 2, 3, 5, 10, 20, 50)
CHUNK = 2000

KNOWN_BAD = {  # name: (SMILES, the filter or unstable_groups rule that must reject it)
    "cyclopentadienol": ("OC1=CC=CC1", "enol"),
    "cyclohexadienol": ("OC1=CCC=CC1", "enol"),
    "azete": ("c1ccn1", "small_aromatic_ring"),
    "cyclobutadiene": ("C1=CC=C1c1ccccc1", "small_aromatic_ring"),
    "azete beside a cyclopentadiene": ("C1=CC(C2=CC=N2)=CC1", "small_aromatic_ring"),
    "norbornene bridgehead alkene": ("CC(=O)NC1=C2CCC(C2)C1", "anti_bredt"),
    "bicyclo[2.2.2]oct-1-ene": ("OCC1=C2CCC(CC2)C1", "anti_bredt"),
    "1,2-dihydropyridine": ("O=C(NC1=CC=CNC1)c1ccccc1", "enamine"),
    "allene": ("CC=C=CC(=O)Nc1ccccc1", "allene"),
    "cyclopropene": ("CC1=C(c2ccccc2)C1C(=O)N", "cyclopropene"),
    "unseen ring system": ("c1ccc2c(c1)C1=C2C=CN1", "ring_systems"),
}
SEEDS = ROOT / "tests" / "data" / "bad_seeds.smi"  # 11 named drugs among broken lines
MORE_DRUGS = {
    "imatinib": "Cc1ccc(NC(=O)c2ccc(CN3CCN(C)CC3)cc2)cc1Nc1nccc(-c2cccnc2)n1",
    "celecoxib": "Cc1ccc(-c2cc(C(F)(F)F)nn2-c2ccc(S(N)(=O)=O)cc2)cc1",
    "warfarin": "CC(=O)CC(c1ccccc1)c1c(O)c2ccccc2oc1=O",  # a stable enol (vinylogous acid)
    "nifedipine": "COC(=O)C1=C(C)NC(C)=C(C(=O)OC)C1c1ccccc1[N+](=O)[O-]",  # a stable enamine
    "oxazepam": "OC1N=C(c2ccccc2)c2cc(Cl)ccc2NC1=O",
    "haloperidol": "O=C(CCCN1CCC(O)(c2ccc(Cl)cc2)CC1)c1ccc(F)cc1",
}


def known_good() -> dict[str, str]:
    """Drugs every filter must pass: the named, valid lines of bad_seeds.smi and MORE_DRUGS."""
    drugs = {}
    for line in SEEDS.read_text().splitlines():
        fields = line.split(maxsplit=1)
        if len(fields) == 2 and Chem.MolFromSmiles(fields[0]) is not None:
            drugs[fields[1]] = fields[0]
    return drugs | MORE_DRUGS


def _verdicts(smiles: list[str]) -> list[dict[str, Any]]:
    """Per molecule: parse failure, each new filter's verdict, each rule, ring-system min count."""
    RDLogger.DisableLog("rdApp.*")
    rings = RingSystemFilter()
    rules = {rule: UnstableGroups(rules=[rule]) for rule in RULE_NAMES}
    out = []
    for smi in smiles:
        mol = Chem.MolFromSmiles(smi)
        if mol is None:
            out.append({"smiles": smi, "error": "RDKit cannot parse it"})
            continue
        row: dict[str, Any] = {"smiles": smi, "ring_systems": rings.check([mol])[0]}
        row["ring_min_count"] = min((rings.table.get(s, 0) for s in ring_systems(mol)), default=-1)
        for rule, f in rules.items():
            row[rule] = f.check([mol])[0]
        out.append(row)
    return out


def verdicts(smiles: list[str], workers: int) -> pd.DataFrame:
    """:func:`_verdicts` over ``smiles`` in ``workers`` processes, in input order."""
    chunks = [smiles[i : i + CHUNK] for i in range(0, len(smiles), CHUNK)]
    with Pool(workers) as pool:
        rows = [row for part in pool.imap(_verdicts, chunks) for row in part]
    return pd.DataFrame(rows)


def fractions(table: pd.DataFrame) -> dict[str, Any]:
    """Fraction rejected by each new filter and rule, by all of them, and by ``min_count``."""
    rejected = {"ring_systems": table["ring_systems"].notna()}
    rule_hits = {rule: table[rule].notna() for rule in RULE_NAMES}
    rejected["unstable_groups"] = pd.concat(rule_hits, axis=1).any(axis=1)
    result: dict[str, Any] = {"n": len(table)}
    result["ring_systems"] = _frac(rejected["ring_systems"])
    result["unstable_groups"] = _frac(rejected["unstable_groups"])
    result["unstable_groups_by_rule"] = {rule: _frac(hit) for rule, hit in rule_hits.items()}
    result["all_new"] = _frac(rejected["ring_systems"] | rejected["unstable_groups"])
    counts = table["ring_min_count"]
    has_rings = counts >= 0
    result["ring_systems_by_min_count"] = {
        str(k): _frac(has_rings & (counts < k)) for k in MIN_COUNTS
    }
    return result


def _frac(mask: pd.Series) -> float:
    return round(float(mask.mean()), 6) if len(mask) else 0.0


def _checked(side: str, table: pd.DataFrame) -> pd.DataFrame:
    """``table`` if every molecule parsed; stops naming the side otherwise."""
    if "error" in table:
        bad = table[table["error"].notna()]
        require_every(side, dict(zip(bad["smiles"], bad["error"], strict=True)), len(table))
    return table


def moses_side(n: int | None, workers: int) -> pd.DataFrame:
    smiles = pd.read_csv(MOSES_TEST)["SMILES"].tolist()
    return _checked("MOSES test", verdicts(smiles[:n] if n else smiles, workers))


def prior_side(n: int, seed: int) -> list[str]:
    """``n`` distinct molecules sampled from the shipped prior, as the prepare stage leaves them."""
    from molgen.chem.standardize import prepare_smiles
    from molgen.generators.selfies_lm.model import load_prior
    from molgen.generators.selfies_lm.sampler import SampleStats, sample_smiles
    from molgen.types import Rejection

    try:
        model, vocab, _ = load_prior(PRIOR, "cpu")
    except (OSError, ValueError) as err:
        raise BenchmarkFailed("prior samples", f"cannot load {PRIOR}: {err}") from err
    sampled = list(sample_smiles(model, vocab, n, seed, 1024, 1.0, True, SampleStats()))
    prepared = [prepare_smiles(s) for s in sampled]
    failures = {p.input: p.reason for p in prepared if isinstance(p, Rejection)}
    require_every("prior samples (prepare)", failures, len(sampled))
    return [p.smiles for p in prepared if not isinstance(p, Rejection)]


def existing_defaults(smiles: list[str]) -> list[bool]:
    """Whether each molecule passes molgen's existing default filters."""
    existing = [StructuralAlerts(), LipinskiFilter(), VeberFilter()]
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    verdicts_by_filter = [f.check(mols) for f in existing]
    return [all(v[i] is None for v in verdicts_by_filter) for i in range(len(mols))]


def medchem_side(side: str, smiles: list[str]) -> dict[str, Any]:
    """Fraction rejected by each medchem check (NIBR exclusions, bertz complexity 99/99.9)."""
    from molgen.filters.medchem_adapter import MedchemFilter

    mols = [Chem.MolFromSmiles(s) for s in smiles]
    result: dict[str, Any] = {"n": len(mols)}
    for label, kwargs in (
        ("nibr", {"checks": ["nibr"]}),
        ("complexity_bertz_999", {"checks": ["complexity"], "complexity_limit": "999"}),
        ("complexity_bertz_99", {"checks": ["complexity"], "complexity_limit": "99"}),
    ):
        try:
            found = MedchemFilter(**kwargs).check(mols)
        except (ImportError, ValueError, RuntimeError) as err:
            raise BenchmarkFailed(f"medchem on {side}", str(err)) from err
        result[label] = round(sum(v is not None for v in found) / len(mols), 6)
    return result


def known_cases() -> dict[str, Any]:
    """Each known bad molecule's verdicts and each drug's; stops if one goes the wrong way."""
    rings, unstable = RingSystemFilter(), UnstableGroups()
    wrong: dict[str, str] = {}
    bad_out: dict[str, str | None] = {}
    for name, (smi, rule) in KNOWN_BAD.items():
        mol = Chem.MolFromSmiles(smi)
        ring_why, unstable_why = rings.check([mol])[0], unstable.check([mol])[0]
        bad_out[name] = "; ".join(w for w in (ring_why, unstable_why) if w) or None
        if rule == "ring_systems":
            ok = ring_why is not None
        else:
            ok = unstable_why is not None and rule in unstable_why.split(": ", 1)[1].split("; ")
        if not ok:
            wrong[name] = f"{smi} is not rejected by {rule} (verdicts: {bad_out[name]})"
    good = known_good()
    for name, smi in good.items():
        mol = Chem.MolFromSmiles(smi)
        why = [w for w in (rings.check([mol])[0], unstable.check([mol])[0]) if w]
        if why:
            wrong[name] = f"drug {smi} is rejected: {'; '.join(why)}"
    require_every("known cases", wrong, len(KNOWN_BAD) + len(good))
    return {"bad_rejected": bad_out, "good_passed": sorted(good)}


def timed(label: str, fn: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    result = fn()
    sys.stderr.write(f"{label}: {time.perf_counter() - start:.0f} s\n")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="prior samples")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed")
    parser.add_argument("--moses-n", type=int, default=None, help="first N test rows (all)")
    parser.add_argument("--medchem-n", type=int, default=10_000, help="molecules for medchem")
    parser.add_argument("--no-medchem", action="store_true", help="skip the medchem filter")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    RDLogger.DisableLog("rdApp.*")  # bad_seeds.smi holds broken lines on purpose

    start = time.perf_counter()
    medchem_version = None if args.no_medchem else _medchem_version()  # missing: stop now
    known = timed("known cases", known_cases)
    moses = timed("MOSES test", lambda: moses_side(args.moses_n, args.workers))
    samples = timed("prior sampling", lambda: prior_side(args.n, args.seed))
    prior = _checked("prior samples", verdicts(samples, args.workers))
    prior_result = fractions(prior)
    passes_existing = pd.Series(timed("existing filters", lambda: existing_defaults(samples)))
    new_hit = prior["ring_systems"].notna() | prior[list(RULE_NAMES)].notna().any(axis=1)
    prior_result["existing_defaults"] = _frac(~passes_existing)
    prior_result["new_only"] = _frac(new_hit & passes_existing)
    summary: dict[str, Any] = {
        "benchmark": "filters",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "rdkit": version("rdkit"),
        "table": {
            "path": "data/ring_systems/moses_train.csv.gz",
            "bytes": default_table().stat().st_size,
        },
        "moses_test": fractions(moses),
        "prior_samples": {"seed": args.seed, **prior_result},
        "known": known,
    }
    if not args.no_medchem:
        summary["medchem"] = {
            "version": medchem_version,
            "moses_test": timed(
                "medchem MOSES",
                lambda: medchem_side("MOSES test", moses["smiles"][: args.medchem_n].tolist()),
            ),
            "prior_samples": timed(
                "medchem prior", lambda: medchem_side("prior samples", samples[: args.medchem_n])
            ),
        }
    summary["seconds"] = round(time.perf_counter() - start, 1)
    print(json.dumps(summary))


def _medchem_version() -> str:
    try:
        return version("medchem")
    except PackageNotFoundError as err:
        raise BenchmarkFailed(
            "medchem", "not installed: pip install -e '.[medchem]', or pass --no-medchem"
        ) from err


if __name__ == "__main__":
    main()
