"""The candidate store at scale: one campaign growing to 1,000,000 candidates.

Writes ``--rounds`` rounds of ``--per-round`` synthetic candidates (100 x 10,000 by default)
into one campaign, on SQLite and on a private PostgreSQL 15 server that the script starts and
stops itself (``tests/postgres.py``; default server settings, so its writes are durable like
SQLite's WAL). Rows look like a real campaign's: 27-character InChIKeys, SMILES of drug-like
length, 9 predictions per molecule (the demo campaign's predictors), 4 objectives with raw
value, desirability and weight (a docking score for a few per round, missing for the rest),
a generator provenance, and a quarter as many rejections as candidates.

For every round it prints the time of ``write_round`` (the whole transaction), the time of the
ranking read that ``molgen top --n 100`` makes (a freshly opened store, ``top(campaign, 100)``;
ranks are computed when read), and the process's peak resident memory during the round (reset
before each round through ``/proc/self/clear_refs``). At the end it runs the real command,
``molgen top <campaign> --n 100``, as a process.

The last line printed is one JSON object; for each backend: ``peak_rss_mb_at_1m`` (the last
round's peak), ``round_cost_ratio_1m_vs_50k`` (write + ranking read of the last round over
those of the round that reaches 5% of the total, 50,000 by default), ``top_latency_s_at_1m``
(median of 5 ranking reads at the end), and more keys for context. A backend that fails stops
the script with exit status 1 and no figures (``failure_rule.py``).

    .venv/bin/python benchmarks/store.py                      # both backends, ~1 hour on 2 cores
    .venv/bin/python benchmarks/store.py --rounds 5 --per-round 1000 --backends sqlite
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from failure_rule import BenchmarkFailed  # noqa: E402
from postgres import postgres_server, unavailable  # noqa: E402

from molgen.store import CandidateStore  # noqa: E402
from molgen.types import Rejection  # noqa: E402

CAMPAIGN = "scale"
PREDICTORS = ["qed", "sa_score", "logp", "mw", "tpsa", "hbd", "hba", "rotatable_bonds", "sol"]
OBJECTIVES = {"qed": 2.0, "sa_score": 1.0, "tpsa": 1.0, "docking_score": 3.0}
DOCKED_PER_ROUND = 12
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
FRAGMENTS = ["C", "c1ccccc1", "N", "O", "C(=O)", "Cl", "F", "CC", "n1cccc1", "S(=O)(=O)", "C#N"]
CAMPAIGN_TOML = """name = "{name}"
seed = 1
output = "{output}"
store = "{url}"
predictors = ["qed", "sa_score", "tpsa"]
[target]
name = "DRD2"
[generator]
kind = "graph_ga"
[budget]
rounds = 100
molecules_per_round = 10000
dock_per_round = 0
[[objectives]]
value = "qed"
weight = 2.0
transform = {{ kind = "linear", low = 0.2, high = 0.95 }}
"""


def _print(*parts: Any) -> None:
    print(*parts, flush=True)  # noqa: T201


def _inchikey(rng: random.Random) -> str:
    return "".join(rng.choices(UPPER, k=14)) + "-" + "".join(rng.choices(UPPER, k=8)) + "SA-N"


def synthetic_round(rng: random.Random, round_: int, n: int) -> dict[str, Any]:
    """One round's arguments for ``write_round``: ``n`` new candidates and their rows."""
    keys = [_inchikey(rng) for _ in range(n)]
    smiles = ["".join(rng.choices(FRAGMENTS, k=rng.randint(6, 12))) for _ in range(n)]
    predictions = [
        (k, p, "1.0", p, rng.random() * 10) for k in keys for p in PREDICTORS
    ]  # fmt: skip
    docked = set(rng.sample(range(n), min(DOCKED_PER_ROUND, n)))
    candidates = []
    for i, k in enumerate(keys):
        d = {o: rng.random() for o in OBJECTIVES}
        values: dict[str, float | None] = {o: rng.random() * 5 for o in OBJECTIVES}
        if i not in docked:
            d["docking_score"], values["docking_score"] = 0.0, None
        score = sum(OBJECTIVES[o] * d[o] for o in OBJECTIVES) / sum(OBJECTIVES.values())
        candidates.append(
            {
                "inchikey": k,
                "score": score,
                "objectives": {
                    o: {"value": values[o], "desirability": d[o], "weight": w}
                    for o, w in OBJECTIVES.items()
                },
                "provenance": {
                    "generator": {"generator": "graph_ga", "population_size": 100},
                    "seed": 1,
                    "round": round_,
                    "molgen": "0.1.0",
                },
            }
        )
    rejections = [
        Rejection("filter", "".join(rng.choices(FRAGMENTS, k=8)), "PAINS: ene_one_ene")
        for _ in range(n // 4)
    ]
    return {
        "molecules": list(zip(keys, smiles, strict=True)),
        "predictions": predictions,
        "candidates": candidates,
        "rejections": rejections,
    }


def _reset_peak_rss() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _ranking_read(url: str) -> float:
    """Seconds to open the store and read the top 100, as ``molgen top --n 100`` does."""
    t0 = time.perf_counter()
    store = CandidateStore(url)
    rows = store.top(CAMPAIGN, 100)
    store.close()
    seconds = time.perf_counter() - t0
    if len(rows) != 100 or [r["rank"] for r in rows] != list(range(1, 101)):
        raise RuntimeError(f"top(100) returned {len(rows)} rows, ranks {rows[:1]}")
    return seconds


def _cli_top(url: str, folder: Path) -> float:
    """Wall seconds of ``molgen top <campaign file> --n 100 --format csv`` as a process."""
    toml = folder / "campaign.toml"
    toml.write_text(CAMPAIGN_TOML.format(name=CAMPAIGN, output=folder / "out", url=url))
    cmd = [str(Path(sys.executable).with_name("molgen")), "top", str(toml), "--n", "100"]
    t0 = time.perf_counter()
    out = subprocess.run([*cmd, "--format", "csv"], capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    if out.returncode != 0 or len(out.stdout.splitlines()) != 101:
        raise RuntimeError(f"{' '.join(cmd)} failed ({out.returncode}): {out.stderr[-1000:]}")
    return seconds


def run_backend(name: str, url: str, rounds: int, per_round: int, folder: Path) -> dict[str, Any]:
    """Grow the campaign on one backend; per-round figures and the summary keys."""
    rng = random.Random(1)
    store = CandidateStore(url)
    cid = store.campaign_id(CAMPAIGN, "bench", 1, {})
    reference = max(1, round(rounds * 0.05))  # the round at 50,000 of 1,000,000
    per: list[dict[str, float]] = []
    for r in range(1, rounds + 1):
        _reset_peak_rss()
        rows = synthetic_round(rng, r, per_round)
        t0 = time.perf_counter()
        store.write_round(cid, r, **rows, scoring_hash="bench")
        write_s = time.perf_counter() - t0
        del rows
        rank_s = _ranking_read(url)
        peak = _peak_rss_mb()
        per.append({"write_s": write_s, "rank_s": rank_s, "peak_rss_mb": peak})
        _print(
            f"{name} round {r:3d}: {r * per_round:>9,} candidates  write {write_s:6.2f} s  "
            f"top-100 read {rank_s * 1000:7.1f} ms  peak RSS {peak:6.0f} MB"
        )
    counts = store.counts(CAMPAIGN)
    store.close()
    if counts["candidates"] != rounds * per_round:
        raise RuntimeError(f"store holds {counts['candidates']} candidates")
    top_s = statistics.median(_ranking_read(url) for _ in range(5))
    cli_s = _cli_top(url, folder)

    def cost(i: int) -> float:
        return per[i - 1]["write_s"] + per[i - 1]["rank_s"]

    def cost3(i: int) -> float:  # median of the round and its neighbours, against noise
        return statistics.median(cost(j) for j in range(max(1, i - 1), min(rounds, i + 1) + 1))

    return {
        "peak_rss_mb_at_1m": round(per[-1]["peak_rss_mb"], 1),
        "round_cost_ratio_1m_vs_50k": round(cost(rounds) / cost(reference), 2),
        "top_latency_s_at_1m": round(top_s, 4),
        "round_cost_s_at_1m": round(cost(rounds), 3),
        "round_cost_s_at_50k": round(cost(reference), 3),
        "round_cost_ratio_median3": round(cost3(rounds) / cost3(reference), 2),
        "max_peak_rss_mb": round(max(p["peak_rss_mb"] for p in per), 1),
        "cli_top_wall_s_at_1m": round(cli_s, 3),
        "total_write_s": round(sum(p["write_s"] for p in per), 1),
        "candidates": counts["candidates"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--per-round", type=int, default=10_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory(prefix=f"molgen-store-bench-{backend}-") as tmp:
            folder = Path(tmp)
            try:
                if backend == "sqlite":
                    url = f"sqlite:///{folder / 'store.sqlite'}"
                    results[backend] = run_backend(
                        backend, url, args.rounds, args.per_round, folder
                    )
                elif backend == "postgresql":
                    reason = unavailable()
                    if reason is not None:
                        raise RuntimeError(reason)
                    with postgres_server() as server:
                        url = server.create_database("bench")
                        results[backend] = run_backend(
                            backend, url, args.rounds, args.per_round, folder
                        )
                else:
                    raise RuntimeError(f"unknown backend {backend!r}")
            except Exception as err:  # any failure: the side failed, no figures
                raise BenchmarkFailed(backend, repr(err)) from err
        _print(f"{backend}: {json.dumps(results[backend])}")
    _print(json.dumps(results))


if __name__ == "__main__":
    main()
