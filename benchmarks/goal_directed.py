"""Goal-directed benchmark under the PMO protocol (Gao et al. 2022) on GuacaMol tasks.

Each generator gets an oracle budget of 10,000 distinct molecules per task (``--budget``);
a molecule proposed again is looked up, not re-scored. The score is PMO's AUC of the top-10
average: the mean of the top-10 average taken after every 100 oracle calls (the last point
repeated to the full budget if a run stops early), plus the final top-10 average. Generators:

- ``graph_ga``: molgen's graph GA, seeded from the bundled 1,000 MOSES molecules, population
  100, 100 children per generation;
- ``selfies_rl``: molgen's SELFIES prior + REINVENT-style RL, 128 samples per step.

The last line printed is one JSON object. Usage::

    python benchmarks/goal_directed.py                      # all tasks, both generators, seed 0
    python benchmarks/goal_directed.py --budget 2000 --tasks celecoxib_rediscovery
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


class Oracle:
    """Counts distinct molecules scored and keeps PMO's top-10 curve."""

    def __init__(self, score, budget: int) -> None:  # noqa: ANN001
        self.score, self.budget = score, budget
        self.seen: dict[str, float] = {}
        self.curve: list[float] = []

    @property
    def spent(self) -> bool:
        return len(self.seen) >= self.budget

    def __call__(self, smiles: list[str]) -> list[float]:
        out = []
        for smi in smiles:
            if smi not in self.seen:
                if self.spent:
                    out.append(0.0)
                    continue
                self.seen[smi] = float(self.score(smi))
                if len(self.seen) % 100 == 0:
                    self.curve.append(self.top10())
            out.append(self.seen[smi])
        return out

    def top10(self) -> float:
        best = sorted(self.seen.values(), reverse=True)[:10]
        return float(np.mean(best)) if best else 0.0

    def auc(self) -> float:
        points = list(self.curve)
        full = self.budget // 100
        last = points[-1] if points else self.top10()
        points += [max(last, self.top10())] * (full - len(points))
        return float(np.mean(points[:full]))


def run(generator_name: str, task: str, budget: int, seed: int, prior: Path | None = None) -> dict:
    from molgen.chem import prepare_smiles
    from molgen.generators.goal_tasks import TASKS
    from molgen.pipeline.components import default_seeds
    from molgen.types import PreparedMolecule

    oracle = Oracle(TASKS[task], budget)
    if generator_name == "graph_ga":
        from molgen.chem.smiles_file import read_smiles
        from molgen.generators import GraphGA

        seeds = read_smiles(default_seeds())
        gen = GraphGA(seeds=seeds, population_size=100)
        gen.update(seeds, oracle(seeds))
        batch = 100
    else:
        from molgen.generators.selfies_lm.agent import SelfiesRL

        gen = SelfiesRL(prior=prior, learning_rate=5e-4, sigma=120)
        batch = 128
    t0 = time.perf_counter()
    step, stalled = 0, 0
    while not oracle.spent and stalled < 20:
        before = len(oracle.seen)
        smiles = [s for s in gen.generate(batch, seed * 100_003 + step) if s]
        prepared = []
        for smi in smiles:
            result = prepare_smiles(smi)
            if isinstance(result, PreparedMolecule):
                prepared.append(result.smiles)
        gen.update(prepared, oracle(prepared))
        stalled = stalled + 1 if len(oracle.seen) == before else 0
        step += 1
    return {
        "auc_top10": round(oracle.auc(), 4),
        "top10": round(oracle.top10(), 4),
        "top1": round(max(oracle.seen.values(), default=0.0), 4),
        "oracle_calls": len(oracle.seen),
        "steps": step,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def main() -> None:
    from molgen.generators.goal_tasks import TASKS

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=int, default=10_000)
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--generators", default="graph_ga,selfies_rl")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prior", type=Path, default=None, help="SELFIES prior (the shipped one)")
    args = parser.parse_args()
    results: dict[str, dict[str, dict]] = {}
    for task in args.tasks.split(","):
        for name in args.generators.split(","):
            r = run(name, task, args.budget, args.seed, args.prior)
            results.setdefault(task, {})[name] = r
            print(f"{task} {name}: {r}", file=sys.stderr, flush=True)
    summary = {
        "protocol": f"PMO: {args.budget} distinct oracle calls, AUC of top-10 every 100 calls",
        "seed": args.seed,
        "results": results,
        "auc_sum": {
            name: round(sum(results[t][name]["auc_top10"] for t in results), 3)
            for name in args.generators.split(",")
        },
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
