"""Build the ring-system table of the ``ring_systems`` filter from a set of real molecules.

Usage (from the repository root, with molgen installed):
    python data/scripts/build_ring_systems.py                       # MOSES train -> shipped table
    python data/scripts/build_ring_systems.py --input my.csv.gz --column SMILES --out my.csv.gz

Reads the SMILES column with pandas, splits every molecule into ring systems with
``molgen.filters.ring_systems.ring_systems`` (the function the filter itself uses, so table and
lookup always agree), counts for each ring system the molecules that contain it, and writes
``ring_system,count`` rows, most frequent first (ties by SMILES), gzip-compressed with a fixed
timestamp so that the same input gives the same bytes. Molecules are parsed in one process per
CPU (``--workers``); a SMILES that RDKit cannot read is counted and skipped. The default input,
``data/moses/train.csv.gz``, is the MOSES training set (MIT); its table is
``data/ring_systems/moses_train.csv.gz`` (see data/README.md).
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import sys
import time
from collections import Counter
from multiprocessing import Pool
from pathlib import Path

import pandas as pd
from rdkit import Chem, RDLogger

from molgen.filters.ring_systems import COLUMNS, ring_systems

DATA = Path(__file__).resolve().parents[1]
CHUNK = 5000


def _count(smiles: list[str]) -> tuple[Counter[str], int]:
    """Ring systems of a chunk, each counted once per molecule, and how many SMILES failed."""
    RDLogger.DisableLog("rdApp.*")
    counts: Counter[str] = Counter()
    failed = 0
    for smi in smiles:
        mol = Chem.MolFromSmiles(smi)
        if mol is None:
            failed += 1
            continue
        counts.update(set(ring_systems(mol)))
    return counts, failed


def build(smiles: list[str], workers: int) -> tuple[Counter[str], int]:
    """Ring-system counts over ``smiles`` and the number of SMILES RDKit could not read."""
    chunks = [smiles[i : i + CHUNK] for i in range(0, len(smiles), CHUNK)]
    total: Counter[str] = Counter()
    failed = 0
    with Pool(workers) as pool:
        for done, (counts, bad) in enumerate(pool.imap(_count, chunks), start=1):
            total.update(counts)
            failed += bad
            if done % 50 == 0 or done == len(chunks):
                sys.stderr.write(f"\r{min(done * CHUNK, len(smiles))} / {len(smiles)} molecules")
    sys.stderr.write("\n")
    return total, failed


def write_table(counts: Counter[str], out: Path) -> None:
    """``ring_system,count`` rows, most frequent first, gzip without a file name or time, so
    the same counts always give the same bytes."""
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    text = io.StringIO()
    pd.DataFrame(rows, columns=list(COLUMNS)).to_csv(text, index=False)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as raw, gzip.GzipFile("", "wb", fileobj=raw, mtime=0) as fh:
        fh.write(text.getvalue().encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", type=Path, default=DATA / "moses" / "train.csv.gz")
    parser.add_argument("--column", default="SMILES", help="the SMILES column of --input")
    parser.add_argument("--out", type=Path, default=DATA / "ring_systems" / "moses_train.csv.gz")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    start = time.perf_counter()
    smiles = pd.read_csv(args.input, usecols=[args.column])[args.column].astype(str).tolist()
    counts, failed = build(smiles, args.workers)
    write_table(counts, args.out)
    seconds = time.perf_counter() - start
    sys.stdout.write(
        f"{len(smiles)} molecules ({failed} unreadable), {len(counts)} ring systems -> "
        f"{args.out} ({args.out.stat().st_size / 1e6:.2f} MB) in {seconds:.0f} s "
        f"with {args.workers} workers\n"
    )


if __name__ == "__main__":
    main()
