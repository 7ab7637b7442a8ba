"""Rebuild molgen's MOSES samples from the molsets wheel.

Usage:
    pip download --no-deps -d /tmp/molsets molsets==0.3.1
    python data/scripts/make_moses_samples.py /tmp/molsets/molsets-0.3.1-py3-none-any.whl

Reads the MOSES CSVs from the wheel (a zip; molsets itself need not import), draws rows without
replacement with numpy's ``default_rng(seed)``, sorts them by their row number in the file and
writes their SMILES, one per line:

- ``seeds/moses_1k.smi``: 1,000 training rows, seed 2019 (the graph GA's default seeds);
- ``moses/test_10k.smi``: 10,000 test rows, seed 2024 (``benchmarks/predictors.py``).

It also copies ``train.csv.gz`` (1,584,663 SMILES: the SELFIES prior's training data and the
novelty reference), ``test.csv.gz`` and the SMARTS of MOSES's ``filters`` metric
(``mcf.csv``, ``wehi_pains.csv``) byte for byte into ``moses/``, and writes
``moses/test_fcd_stats.npz`` (arrays ``mu`` (512,) and ``sigma`` (512, 512)): MOSES's
precomputed ChemNet statistics of its test set, taken from the wheel's ``test_stats.npz``. That
file is a pickled dict, so it is read here, once, from the PyPI wheel, and rewritten without
pickle; molgen itself never unpickles it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1]
MOSES = "moses/dataset/data"
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
        for member in (
            f"{MOSES}/train.csv.gz",
            f"{MOSES}/test.csv.gz",
            "moses/metrics/mcf.csv",
            "moses/metrics/wehi_pains.csv",
        ):
            name = member.rsplit("/", 1)[1]
            blob = zf.read(member)
            (DATA / "moses" / name).write_bytes(blob)
            sys.stdout.write(f"copied {name}, sha256 {hashlib.sha256(blob).hexdigest()}\n")
        stats = np.load(io.BytesIO(zf.read(f"{MOSES}/test_stats.npz")), allow_pickle=True)
        fcd = stats["stats"].item()["FCD"]
        np.savez(DATA / "moses" / "test_fcd_stats.npz", mu=fcd["mu"], sigma=fcd["sigma"])
        sys.stdout.write("wrote test_fcd_stats.npz (mu, sigma of MOSES's test_stats.npz)\n")


if __name__ == "__main__":
    main(sys.argv[1])
