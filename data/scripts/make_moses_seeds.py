"""Rebuild data/seeds/moses_1k.smi from the MOSES training set in the molsets wheel.

Usage:
    pip download --no-deps -d /tmp/molsets molsets==0.3.1
    python data/scripts/make_moses_seeds.py /tmp/molsets/molsets-0.3.1-py3-none-any.whl

Reads moses/dataset/data/train.csv.gz from the wheel (a zip; molsets itself need not import),
draws 1,000 rows without replacement with numpy's default_rng(2019), sorts them by their row
number in the file and writes their SMILES, one per line.
"""

from __future__ import annotations

import gzip
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

N = 1000
SEED = 2019
MEMBER = "moses/dataset/data/train.csv.gz"


def main(wheel: str) -> None:
    with zipfile.ZipFile(wheel) as zf, gzip.open(io.BytesIO(zf.read(MEMBER)), "rt") as fh:
        header = fh.readline().strip().split(",")
        smiles_col = header.index("SMILES")
        rows = [line.strip().split(",")[smiles_col] for line in fh if line.strip()]
    picked = np.sort(np.random.default_rng(SEED).choice(len(rows), size=N, replace=False))
    out = Path(__file__).resolve().parents[1] / "seeds" / "moses_1k.smi"
    out.write_text("".join(rows[i] + "\n" for i in picked))
    sys.stdout.write(f"wrote {N} of {len(rows)} SMILES to {out}\n")


if __name__ == "__main__":
    main(sys.argv[1])
