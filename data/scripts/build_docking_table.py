"""Dock a sample of the MOSES test set into a bundled target at the campaign defaults.

Usage:
    python data/scripts/build_docking_table.py                  # DRD2, 5,000 molecules
    python data/scripts/build_docking_table.py --n 2000 --workers 2

Draws ``--n`` rows of ``data/moses/test.csv.gz`` without replacement with numpy's
``default_rng(--seed)`` (in the drawn order), prepares each with molgen's input policy
(:func:`molgen.chem.standardize.prepare_smiles`), and docks them with molgen's Vina engine and
the settings a campaign uses when its file says nothing (``[docking]`` defaults: exhaustiveness
1, 9 poses, seed 1, no padding, no protonation, rigid rings). Molecules are docked in batches
of ``--batch`` in the drawn order and every finished batch is appended to
``<out>.partial.csv``, so a killed build goes on where it stopped; the molecules of an
existing table at ``--out`` count as docked too, so a larger table is built on from a smaller
one. When ``--n`` molecules are
done, the table is written gzip-compressed with a zero timestamp, one row per molecule in the
drawn order:

    row, smiles, inchikey, docking_score, seconds, reason

``row`` is the molecule's line in ``test.csv.gz`` (0 = the first SMILES), ``smiles`` the
prepared SMILES that was docked, ``docking_score`` Vina's best score in kcal/mol (empty where
docking failed, with ``reason``), ``seconds`` the wall time spent on the ligand.

``--finish`` writes the table from the molecules docked so far (a whole number of batches),
for a build stopped early; the table's size is then what was docked.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import sys
import time
from pathlib import Path

import numpy as np

from molgen.chem.standardize import PreparedMolecule, prepare_smiles
from molgen.config import DockingConfig
from molgen.docking.vina_engine import VinaEngine
from molgen.pipeline.components import docking_settings
from molgen.targets import TargetError, get_target

DATA = Path(__file__).resolve().parents[1]
FIELDS = ("row", "smiles", "inchikey", "docking_score", "seconds", "reason")


def drawn(n: int, seed: int) -> list[tuple[int, PreparedMolecule]]:
    """``n`` prepared, distinct molecules of the MOSES test set in the drawn order."""
    with gzip.open(DATA / "moses" / "test.csv.gz", "rt") as fh:
        fh.readline()
        rows = [line.strip() for line in fh if line.strip()]
    order = np.random.default_rng(seed).permutation(len(rows))
    out: list[tuple[int, PreparedMolecule]] = []
    seen: set[str] = set()
    for i in order:
        p = prepare_smiles(rows[i])
        if isinstance(p, PreparedMolecule) and p.inchikey not in seen:
            seen.add(p.inchikey)
            out.append((int(i), p))
            if len(out) == n:
                break
    return out


def read_partial(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    with path.open(newline="") as fh:
        return {r["inchikey"]: r for r in csv.DictReader(fh)}


def read_table(path: Path) -> dict[str, dict[str, str]]:
    """The rows of a table written before (a build goes on from a shipped, smaller table)."""
    if not path.exists():
        return {}
    with gzip.open(path, "rt", newline="") as fh:
        return {r["inchikey"]: r for r in csv.DictReader(fh)}


def write_table(rows: list[dict[str, str]], out: Path) -> None:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    with out.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(text.getvalue().encode())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", default="DRD2")
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--finish", action="store_true", help="write the table from what is done")
    args = ap.parse_args()
    out = args.out or DATA / "docking" / f"{args.target.lower()}_moses_test.csv.gz"
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name.removesuffix(".csv.gz") + ".partial.csv")
    try:
        target = get_target(args.target)
    except TargetError as err:
        sys.exit(f"build_docking_table.py: --target: {err}")
    settings = docking_settings(DockingConfig())
    molecules = drawn(args.n, args.seed)
    done = read_table(out) | read_partial(partial)
    engine = VinaEngine(workers=args.workers)
    start, docked = time.monotonic(), 0
    for b in range(0, 0 if args.finish else len(molecules), args.batch):
        batch = [(i, p) for i, p in molecules[b : b + args.batch] if p.inchikey not in done]
        if not batch:
            continue
        by_key = {p.inchikey: (i, p) for i, p in batch}
        results = {
            r.key: r
            for r in engine.dock([(p.inchikey, p.smiles) for _, p in batch], target, settings)
        }
        new = []
        for key, (i, p) in by_key.items():
            r = results[key]
            new.append(
                {
                    "row": str(i),
                    "smiles": p.smiles,
                    "inchikey": key,
                    "docking_score": "" if r.score is None else f"{r.score:.3f}",
                    "seconds": f"{r.seconds:.2f}",
                    "reason": r.reason or "",
                }
            )
        fresh = not partial.exists()
        with partial.open("a", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=FIELDS, lineterminator="\n")
            if fresh:
                writer.writeheader()
            writer.writerows(new)
        done.update({r["inchikey"]: r for r in new})
        docked += len(new)
        rate = 60 * docked / max(time.monotonic() - start, 1e-9)
        sys.stdout.write(f"{len(done)}/{len(molecules)} docked ({rate:.1f}/min this run)\n")
        sys.stdout.flush()
    rows = []
    for _, p in molecules:  # the drawn order, up to the first molecule not docked
        if p.inchikey not in done:
            break
        rows.append(done[p.inchikey])
    rows = rows[: len(rows) - len(rows) % args.batch] if args.finish else rows
    write_table(rows, out)
    failed = sum(1 for r in rows if not r["docking_score"])
    sys.stdout.write(f"wrote {len(rows)} molecules ({failed} failed) to {out}\n")


if __name__ == "__main__":
    main()
