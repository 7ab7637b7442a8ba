"""Live DRD2 campaigns: docking chosen by the surrogate against docking chosen by objectives.

For each seed, two campaigns run with ``molgen run``, identical but for ``[docking]
selection``: ``objectives`` (the baseline: the best filtered molecules by QED and SA score are
docked) and ``surrogate`` (the docking surrogate picks, UCB acquisition). Both dock
``--dock`` molecules per round into DRD2 at the campaign defaults, so after each round they
have made the same number of docking calls; each has its own store, so neither learns from
the other's dockings. The generator is the graph GA (population 100) seeded from the bundled
MOSES sample; the objectives are docking score (weight 2), QED and SA score.

Reported per round: the mean of the 10 best docking scores among the molecules the campaign
has docked so far (kcal/mol, lower is better), per seed and averaged over seeds, for both
selections; and the difference after the last round. The last line printed is one JSON
object; a campaign that fails ends the run with status 1 and no comparison.

    python benchmarks/surrogate_campaign.py                     # 3 seeds, 6 rounds of 30
    python benchmarks/surrogate_campaign.py --seeds 1 --rounds 2 --dock 8 --molecules 60
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

SELECTIONS = ("objectives", "surrogate")

CAMPAIGN = """
name = "{name}"
seed = {seed}
output = "out"
predictors = ["qed", "sa_score"]
[target]
name = "DRD2"
[generator]
kind = "graph_ga"
population_size = 100
[budget]
rounds = {rounds}
molecules_per_round = {molecules}
dock_per_round = {dock}
[docking]
selection = "{selection}"
surrogate = {{ acquisition = "ucb", min_training = {min_training} }}
[[objectives]]
value = "docking_score"
weight = 2.0
transform = {{ kind = "linear", low = -5.0, high = -11.0 }}
[[objectives]]
value = "qed"
transform = {{ kind = "linear", low = 0.2, high = 0.9 }}
[[objectives]]
value = "sa_score"
transform = {{ kind = "sigmoid", low = 5.0, high = 2.0 }}
"""


def run_campaign(folder: Path, text: str) -> None:
    folder.mkdir(parents=True)
    path = folder / "campaign.toml"
    path.write_text(text)
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    done = subprocess.run(
        [sys.executable, "-m", "molgen", "run", str(path)],
        check=False,
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{path}: molgen run exited {done.returncode}:\n{done.stderr[-3000:]}")


def top10_by_round(folder: Path, rounds: int) -> list[float]:
    """Mean of the 10 best docking scores docked up to each round."""
    from molgen.config import load_campaign
    from molgen.store import CandidateStore

    campaign = load_campaign(folder / "campaign.toml")
    store = CandidateStore(campaign.store_url)
    try:
        rows = store.top(campaign.name)
    finally:
        store.close()
    docked = [
        (r["round"], r["objectives"]["docking_score"]["value"])
        for r in rows
        if r["objectives"]["docking_score"]["value"] is not None
    ]
    curve = []
    for k in range(1, rounds + 1):
        scores = sorted(v for rnd, v in docked if rnd <= k)[:10]
        curve.append(round(float(np.mean(scores)), 3) if scores else float("nan"))
    return curve


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--molecules", type=int, default=300)
    ap.add_argument("--dock", type=int, default=30)
    ap.add_argument("--min-training", type=int, default=30)
    ap.add_argument("--keep", type=Path, default=None, help="keep the campaigns in this folder")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="molgen-surrogate-"))
    curves: dict[str, list[list[float]]] = {s: [] for s in SELECTIONS}
    seconds: dict[str, float] = dict.fromkeys(SELECTIONS, 0.0)
    try:
        for seed in range(1, args.seeds + 1):
            for selection in SELECTIONS:
                folder = work / f"{selection}-{seed}"
                t0 = time.perf_counter()
                run_campaign(
                    folder,
                    CAMPAIGN.format(
                        name=f"{selection}-{seed}",
                        seed=seed,
                        rounds=args.rounds,
                        molecules=args.molecules,
                        dock=args.dock,
                        selection=selection,
                        min_training=args.min_training,
                    ),
                )
                seconds[selection] += time.perf_counter() - t0
                curves[selection].append(top10_by_round(folder, args.rounds))
    except Exception as err:  # a failed campaign: no comparison from one side
        print(f"benchmark failed: {err}", file=sys.stderr)
        sys.exit(1)
    mean = {s: np.round(np.mean(curves[s], axis=0), 3).tolist() for s in SELECTIONS}
    summary: dict[str, Any] = {
        "target": "DRD2",
        "seeds": args.seeds,
        "rounds": args.rounds,
        "molecules_per_round": args.molecules,
        "dock_per_round": args.dock,
        "docking_calls_per_campaign": args.rounds * args.dock,
        "baseline": "objectives",
        "mean_top10_docking_score": mean,
        "per_seed": curves,
        "final_difference": round(mean["surrogate"][-1] - mean["objectives"][-1], 3),
        "seconds": {s: round(v, 1) for s, v in seconds.items()},
        "campaigns": str(work),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
