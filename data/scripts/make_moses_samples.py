"""Rebuild molgen's MOSES samples from the molsets wheel.

Usage:
    pip download --no-deps -d /tmp/molsets molsets==0.3.1
    python data/scripts/make_moses_samples.py /tmp/molsets/molsets-0.3.1-py3-none-any.whl

Reads the MOSES CSVs from the wheel (a zip; molsets itself need not import), draws rows without
replacement with numpy's ``default_rng(seed)``, sorts them by their row number in the file and
writes their SMILES, one per line:

- ``seeds/moses_1k.smi``: 1,000 training rows, seed 2019 (the graph GA's default seeds);
- ``moses/test_10k.smi``: 10,000 test rows, seed 2024 (``benchmarks/predictors.py``).
"""

from __future__ import annotations

import gzip
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1]
SAMPLES = (
    ("moses/dataset/data/train.csv.gz", 1000, 2019, DATA / "seeds" / "moses_1k.smi"),
    ("moses/dataset/data/test.csv.gz", 10_000, 2024, DATA / "moses" / "test_10k.smi"),
)


def main(wheel: str) -> None:
    with zipfile.ZipFile(wheel) as zf:
        for member, n, seed, out in SAMPLES:
            with gzip.open(io.BytesIO(zf.read(member)), "rt") as fh:
                header = fh.readline().strip().split(",")
                smiles_col = header.index("SMILES")
                rows = [line.strip().split(",")[smiles_col] for line in fh if line.strip()]
            picked = np.sort(np.random.default_rng(seed).choice(len(rows), size=n, replace=False))
            out.parent.mkdir(exist_ok=True)
            out.write_text("".join(rows[i] + "\n" for i in picked))
            sys.stdout.write(f"wrote {n} of {len(rows)} SMILES to {out}\n")


if __name__ == "__main__":
    main(sys.argv[1])
