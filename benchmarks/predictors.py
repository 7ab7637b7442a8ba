"""Predictor throughput: molgen's graph model against DeepChem's DMPNNModel, and ADMET-AI.

All three predict from SMILES, featurization included, on the same 10,000 MOSES test molecules
(data/moses/test_10k.smi), in this one run:

- molgen: the shipped ``solubility`` model (one GINE member) through
  ``GraphModelPredictor.predict_smiles`` (featurizing worker processes feeding batched inference);
- DeepChem 2.8: ``DMPNNFeaturizer`` then ``DMPNNModel.predict``, sized to molgen's model
  (hidden width chosen so the parameter counts are comparable; weights untrained, which does not
  change its speed);
- ADMET-AI: its default 41 endpoints on the first ``--admet-n`` molecules.

The last line printed is one JSON object; its ``background_cpu_s`` is, for each timed side, the
CPU time that other processes used meanwhile (a clean run has next to none). ``--stream N``
instead streams N molecules (the 10,000 repeated) through the shipped model and reports
throughput and peak memory. If molgen, DeepChem or ADMET-AI fails on any molecule (rejects it,
or gives it no finite value), the script exits with status 1 and says which side failed, on which
molecules and why, and prints no speed-up (``failure_rule.py``).

    python benchmarks/predictors.py
    python benchmarks/predictors.py --stream 1000000
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import json
import os
import platform
import resource
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
from cpu_meter import CpuMeter
from failure_rule import require_every, speedup

from molgen.chem.smiles_file import read_smiles

ROOT = Path(__file__).resolve().parents[1]
MOLECULES = ROOT / "data" / "moses" / "test_10k.smi"


def peak_rss_mb() -> float:
    """Peak resident memory of this process and its (waited-for) children, MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, kids) / 1024, 1)


def device_name(device: str) -> str:
    import torch

    if device.startswith("cuda"):
        return torch.cuda.get_device_name(0)
    return f"CPU ({platform.processor() or platform.machine()}, {os.cpu_count()} cores)"


def n_params(module: Any) -> int:
    return sum(p.numel() for p in module.parameters())


def run_molgen(smiles: list[str], device: str, workers: int | None) -> dict[str, Any]:
    from molgen.predictors.gnn.predictor import SolubilityPredictor

    predictor = SolubilityPredictor(device=device, batch_size=1024)
    list(predictor.predict_smiles(smiles[:2048], workers=workers))  # warm-up (pool, kernels)
    n = rejected = 0
    failures: dict[str, str] = {}
    with CpuMeter() as meter:
        for values, reasons in predictor.predict_smiles(smiles, workers=workers):
            why = dict(reasons)
            for i in np.flatnonzero(~np.isfinite(values).all(axis=1)):
                failures[_name(n + i, smiles)] = why.get(i, "no finite prediction")
            n += len(values)
            rejected += len(reasons)
    seconds = meter.seconds
    require_every("molgen (solubility model)", failures, len(smiles))
    return {
        "seconds": round(seconds, 2),
        "mols_per_s": round(n / seconds, 1),
        "rejected": rejected,
        "params": n_params(predictor.model),
        "members": predictor.model.spec.members,
        "background_cpu_s": round(meter.background_cpu_s, 1),
    }


def run_deepchem(smiles: list[str], hidden: int) -> dict[str, Any]:
    from molgen.predictors.deepchem_adapter import build_deepchem, import_deepchem

    dc = import_deepchem()
    featurizer, model = build_deepchem(
        "DMPNNModel", 1, None, {"enc_hidden": hidden, "ffn_hidden": hidden}, batch_size=1024
    )
    warm = featurizer.featurize(smiles[:256])
    model.predict(dc.data.NumpyDataset(warm))
    with CpuMeter() as featurizing, contextlib.redirect_stdout(io.StringIO()):
        features = featurizer.featurize(smiles)
    # DeepChem stands an empty array in for a molecule it could not featurize (and logs why)
    unread = [i for i, f in enumerate(features) if isinstance(f, np.ndarray) and f.size == 0]
    side = "DeepChem (DMPNNModel)"
    require_every(side, {_name(i, smiles): "DMPNNFeaturizer failed" for i in unread}, len(smiles))
    with CpuMeter() as predicting:
        predicted = model.predict(dc.data.NumpyDataset(features))
    bad = np.flatnonzero(~np.isfinite(predicted.reshape(len(smiles), -1)).all(axis=1))
    require_every(side, {_name(i, smiles): "no finite prediction" for i in bad}, len(smiles))
    seconds = featurizing.seconds + predicting.seconds  # the checks between are not DeepChem's
    return {
        "seconds": round(seconds, 2),
        "featurize_seconds": round(featurizing.seconds, 2),
        "predict_seconds": round(predicting.seconds, 2),
        "mols_per_s": round(len(smiles) / seconds, 1),
        "params": n_params(model.model),
        "hidden": hidden,
        "background_cpu_s": round(featurizing.background_cpu_s + predicting.background_cpu_s, 1),
    }


def run_admet(smiles: list[str]) -> dict[str, Any]:
    from rdkit import Chem

    from molgen.predictors.admet import ADMETAIPredictor

    t0 = time.perf_counter()
    predictor = ADMETAIPredictor()
    load = time.perf_counter() - t0
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    side = "ADMET-AI"
    unread = {_name(i, smiles): "RDKit cannot read it" for i, m in enumerate(mols) if m is None}
    require_every(side, unread, len(smiles))
    predictor.predict(mols[:32])
    t0 = time.perf_counter()
    values = predictor.predict(mols)
    seconds = time.perf_counter() - t0
    bad = np.flatnonzero(~np.isfinite(values).all(axis=1))
    require_every(side, {_name(i, smiles): "no finite prediction" for i in bad}, len(smiles))
    return {
        "n": len(smiles),
        "seconds": round(seconds, 2),
        "load_seconds": round(load, 1),
        "mols_per_s": round(len(smiles) / seconds, 1),
    }


def stream(n: int, smiles: list[str], device: str, workers: int | None) -> dict[str, Any]:
    from molgen.predictors.gnn.predictor import SolubilityPredictor

    predictor = SolubilityPredictor(device=device, batch_size=2048)
    source = itertools.islice(itertools.cycle(smiles), n)
    t0 = time.perf_counter()
    done = 0
    for values, _ in predictor.predict_smiles(source, workers=workers):
        done += len(values)
    seconds = time.perf_counter() - t0
    return {
        "stream_n": done,
        "seconds": round(seconds, 1),
        "mols_per_s": round(done / seconds, 1),
        "peak_rss_mb": peak_rss_mb(),
        "target_peak_rss_mb": 2000,
        "device": device_name(device),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="molecules (at most 10,000)")
    parser.add_argument("--admet-n", type=int, default=1000, help="molecules for ADMET-AI")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--workers", type=int, default=None, help="featurizing processes")
    parser.add_argument("--deepchem-hidden", type=int, default=None, help="DMPNN width")
    parser.add_argument("--stream", type=int, default=0, help="stream this many molecules")
    parser.add_argument("--skip-admet", action="store_true")
    args = parser.parse_args()

    import torch

    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    smiles = read_smiles(MOLECULES)[: args.n]
    if args.stream:
        print(json.dumps(stream(args.stream, smiles, device, args.workers)))
        return

    started = datetime.now(UTC).isoformat(timespec="seconds")
    molgen = run_molgen(smiles, device, args.workers)
    print(f"molgen: {molgen}", file=sys.stderr)
    hidden = args.deepchem_hidden or _matching_width(molgen["params"])
    deepchem = run_deepchem(smiles, hidden)
    print(f"deepchem: {deepchem}", file=sys.stderr)
    admet = None if args.skip_admet else run_admet(smiles[: args.admet_n])
    print(f"admet-ai: {admet}", file=sys.stderr)
    summary = {
        "n": len(smiles),
        "molgen_mols_per_s": molgen["mols_per_s"],
        "deepchem_mols_per_s": deepchem["mols_per_s"],
        "speedup": speedup("DeepChem", deepchem["seconds"], "molgen", molgen["seconds"]),
        "target_speedup": 5.0,
        "admet_ai_mols_per_s": admet["mols_per_s"] if admet else None,
        "peak_rss_mb": peak_rss_mb(),
        "device": device_name(device),
        "background_cpu_s": {
            "molgen": molgen["background_cpu_s"],
            "deepchem": deepchem["background_cpu_s"],
        },
        "molgen": molgen,
        "deepchem": deepchem,
        "admet_ai": admet,
        "versions": {
            k: version(k) for k in ("torch", "torch-geometric", "deepchem", "admet-ai", "rdkit")
        },
        "date": started,
    }
    print(json.dumps(summary))


def _name(i: int, smiles: list[str]) -> str:
    return f"molecule {i} ({smiles[i]})"


def _matching_width(params: int) -> int:
    """The DMPNN width whose parameter count is closest to ``params`` (DeepChem's defaults
    otherwise)."""
    from molgen.predictors.deepchem_adapter import build_deepchem

    best = (float("inf"), 300)
    for hidden in (64, 96, 128, 160, 200, 256, 300):
        _, model = build_deepchem(
            "DMPNNModel", 1, None, {"enc_hidden": hidden, "ffn_hidden": hidden}, batch_size=8
        )
        best = min(best, (abs(n_params(model.model) - params), hidden))
    return best[1]


if __name__ == "__main__":
    main()
