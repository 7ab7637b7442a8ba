"""Distribution benchmark of the shipped SELFIES prior under MOSES's protocol.

Samples 30,000 molecules (``--n``) from ``models/selfies-prior/prior.safetensors`` and computes
MOSES's metrics against the bundled MOSES data (data/moses/): validity, unique@10k, novelty
against the full training set (canonicalized with this RDKit), IntDiv, FCD/Test (``fcd``
package, MOSES's precomputed test statistics), SNN/Test, Frag/Test, Scaf/Test and the MOSES
filters, plus sampling speed. The last line printed is one JSON object, with the published
CharRNN figures beside it. FCD depends on the sample size: compare only at 30,000.

    pip install fcd==1.2.2     # the FCD model (ChemNet weights ship in the wheel)
    python benchmarks/generation.py
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import torch

from molgen.resources import data_path

ROOT = Path(__file__).resolve().parents[1]
PRIOR = ROOT / "models" / "selfies-prior" / "prior.safetensors"
# MOSES paper, Table 2 (CharRNN) and the calibration of 30,000 training molecules measured with
# the fcd package on this project's machines.
CHARRNN = {
    "validity": 0.975,
    "uniqueness_10k": 0.999,
    "novelty": 0.842,
    "fcd_test": 0.073,
    "snn_test": 0.602,
    "frag_test": 1.0,
    "scaf_test": 0.924,
    "int_div": 0.856,
    "filters": 0.994,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=30_000)
    parser.add_argument("--prior", type=Path, default=PRIOR)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()

    from molgen.artifacts.model_files import sha256
    from molgen.generators import metrics as m
    from molgen.generators.selfies_lm.model import load_prior
    from molgen.generators.selfies_lm.sampler import SampleStats, sample_smiles
    from molgen.generators.selfies_lm.train import moses_subset

    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    model, vocab, card = load_prior(args.prior, device)
    stats = SampleStats()
    t0 = time.perf_counter()
    drawn = list(
        sample_smiles(model, vocab, args.n, args.seed, 1024, args.temperature, False, stats)
    )
    seconds = time.perf_counter() - t0
    # sample_smiles drops the (rare) strings that decode to nothing: count them as invalid
    generated = drawn + [""] * stats.invalid
    valid = [c for c in m.canonical_all(generated) if c is not None]
    print(f"sampled {stats.drawn} in {seconds:.1f} s; {len(valid)} valid", file=sys.stderr)

    t = time.perf_counter()
    train = {c for c in m.canonical_all(moses_subset(0, 0)) if c}  # 0: the whole set
    test = moses_subset(0, 0, data_path("moses", "test.csv.gz"))
    print(f"reference sets read in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    gen_fps = m.fingerprints(valid)
    result = {
        "n": len(generated),
        "validity": round(m.validity(generated), 4),
        "uniqueness_10k": round(m.uniqueness(valid, 10_000), 4),
        "novelty": round(m.novelty(valid, train), 4),
        "int_div": round(m.internal_diversity(gen_fps), 4),
        "fcd_test": round(m.fcd_to_test(valid, device), 4),
        "snn_test": round(m.snn(gen_fps, m.fingerprints(test)), 4),
        "frag_test": round(m.cosine(m.fragments(valid), m.fragments(test)), 4),
        "scaf_test": round(m.cosine(m.scaffolds(valid), m.scaffolds(test)), 4),
        "filters": round(m.passes_filters(valid), 4),
        "samples_per_s": round(stats.drawn / seconds, 1),
        "published_charrnn": CHARRNN,
        "prior_sha256": sha256(args.prior),
        "prior_epoch": card.get("epoch"),
        "seed": args.seed,
        "temperature": args.temperature,
        "device": torch.cuda.get_device_name(0) if device.startswith("cuda") else "CPU",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
