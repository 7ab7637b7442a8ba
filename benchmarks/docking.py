"""Docking benchmark: molgen's VinaEngine against dockstring on DRD2, end to end.

Docks one fixed set of 12 drug-like ligands (8 known DRD2 ligands, 4 other drugs) into
dockstring's DRD2 receptor and box, with:

- dockstring's own ``load_target("DRD2").dock(smiles)`` (its bundled Vina 1.1.2 binary,
  exhaustiveness 8, Open Babel protonation at pH 7.4), one ligand after another, in a
  subprocess (Open Babel and ``import vina`` must never share a process);
- molgen's ``VinaEngine`` (Vina 1.2 Python API, RDKit + meeko ligand prep) at exhaustiveness
  1, 2, 4 and 8, each run with a fresh worker pool (maps recomputed, nothing cached).

Each time is the wall clock for the whole set, from SMILES to scores: ligand preparation, grid
maps and worker start-up included. The last line printed is one JSON object with the headline
numbers. dockstring calls Open Babel's ``obabel``, which molgen's ``bench`` extra installs
(``openbabel-wheel``); the script looks for it on PATH and in this interpreter's folder. If
either side fails on any ligand (or ``obabel`` is missing), the script exits with status 1 and
says which side failed, on which ligands and why, and prints no speed-up or correlation
(``failure_rule.py``). Usage::

    python benchmarks/docking.py            # full run, about 8 minutes on 2 cores
    python benchmarks/docking.py --quick    # 3 ligands, a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from cpu_meter import CpuMeter
from failure_rule import BenchmarkFailed, require_scored, speedup

# (name, SMILES): neutral parent molecules as a campaign would hand them over. Stereocentres are
# fixed so that both pipelines dock the same stereoisomer.
LIGANDS: list[tuple[str, str]] = [
    ("haloperidol", "O=C(CCCN1CCC(O)(CC1)c1ccc(Cl)cc1)c1ccc(F)cc1"),
    ("risperidone", "Cc1nc2n(c(=O)c1CCN1CCC(CC1)c1noc3cc(F)ccc13)CCCC2"),
    ("spiperone", "O=C(CCCN1CCC2(CC1)N(CNC2=O)c1ccccc1)c1ccc(F)cc1"),
    ("clozapine", "CN1CCN(CC1)C1=Nc2cc(Cl)ccc2Nc2ccccc12"),
    ("aripiprazole", "Clc1cccc(N2CCN(CCCCOc3ccc4CCC(=O)Nc4c3)CC2)c1Cl"),
    ("olanzapine", "CN1CCN(CC1)C1=Nc2ccccc2Nc2sc(C)cc12"),
    ("sulpiride", "CCN1CCC[C@H]1CNC(=O)c1cc(ccc1OC)S(N)(=O)=O"),
    ("chlorpromazine", "CN(C)CCCN1c2ccccc2Sc2ccc(Cl)cc12"),
    ("ibuprofen", "CC(C)Cc1ccc(cc1)[C@H](C)C(=O)O"),
    ("caffeine", "Cn1cnc2c1c(=O)n(C)c(=O)n2C"),
    ("diazepam", "CN1C(=O)CN=C(c2ccccc2)c2cc(Cl)ccc12"),
    ("celecoxib", "Cc1ccc(cc1)-c1cc(nn1-c1ccc(cc1)S(N)(=O)=O)C(F)(F)F"),
]
QUICK = ["haloperidol", "clozapine", "caffeine"]
TARGET = "DRD2"
CURVE = (1, 2, 4, 8)
DEFAULT_EXHAUSTIVENESS = 1  # the campaign default chosen from this benchmark (RESULTS.md)
SEED_KEYS = ("seconds", "speedup", "spearman_dockstring", "spearman_exh8")


def dock_dockstring(ligands: list[tuple[str, str]]) -> dict[str, Any]:
    """Dock with dockstring, one ligand after another (run in its own process)."""
    from dockstring import load_target

    t0 = time.perf_counter()
    target = load_target(TARGET)
    scores: dict[str, float | None] = {}
    reasons: dict[str, str] = {}
    for name, smiles in ligands:
        try:
            score, _ = target.dock(smiles)
        except Exception as err:  # dockstring raises many error types; record and go on
            reasons[name] = f"{type(err).__name__}: {err}"
            score = None
        scores[name] = score
    return {"seconds": time.perf_counter() - t0, "scores": scores, "reasons": reasons}


def dockstring_env() -> dict[str, str]:
    """This process's environment with this interpreter's folder (the venv's bin/, where the
    ``bench`` extra puts ``obabel``) first on PATH, also when the venv is not activated."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def require_obabel(env: dict[str, str], n: int) -> None:
    """Stop before any docking unless dockstring will find a working Open Babel 3.1 ``obabel``."""
    obabel = shutil.which("obabel", path=env["PATH"])
    if obabel is None:
        why = f"Open Babel's `obabel` is not on PATH ({env['PATH']})"
    else:
        proc = subprocess.run([obabel, "-V"], env=env, capture_output=True, text=True, check=False)
        if proc.returncode == 0 and proc.stdout.startswith("Open Babel 3.1"):
            return
        why = f"`{obabel} -V` answered {proc.returncode}: {(proc.stdout + proc.stderr).strip()}"
    raise BenchmarkFailed(
        "dockstring",
        f"it cannot dock any of the {n} ligands: {why}; dockstring calls `obabel`, which "
        "molgen's bench extra installs (pip install -e '.[bench]')",
    )


def run_dockstring(ligands: list[tuple[str, str]], env: dict[str, str]) -> dict[str, Any]:
    """dockstring in a subprocess; stops unless it scored every ligand."""
    names = ",".join(name for name, _ in ligands)
    cmd = [sys.executable, __file__, "--dockstring-worker", names]
    with CpuMeter() as meter:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BenchmarkFailed(
            "dockstring", f"its process exited {proc.returncode}:\n{proc.stderr[-3000:]}"
        )
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out.update(side="dockstring", background_cpu_s=meter.background_cpu_s, load_before=meter.load)
    require_scored("dockstring", [name for name, _ in ligands], out)
    return out


def run_molgen(
    ligands: list[tuple[str, str]], exhaustiveness: int, seed: int, args: Any
) -> dict[str, Any]:
    """molgen's VinaEngine on the whole set, with a fresh pool (maps computed anew); stops
    unless it scored every ligand."""
    from molgen.docking import DockingSettings, VinaEngine
    from molgen.targets import get_target

    settings = DockingSettings(exhaustiveness=exhaustiveness, n_poses=args.n_poses, seed=seed)
    with CpuMeter() as meter:
        engine = VinaEngine(workers=args.workers)
        results = list(engine.dock(ligands, get_target(TARGET), settings))
    out = {
        "side": f"molgen (exhaustiveness {exhaustiveness}, seed {seed})",
        "seconds": meter.seconds,
        "background_cpu_s": meter.background_cpu_s,
        "load_before": meter.load,
        "scores": {r.key: r.score for r in results},
        "reasons": {r.key: r.reason for r in results if r.reason},
        "workers": engine.workers,
    }
    require_scored(out["side"], [name for name, _ in ligands], out)
    return out


def spearman(names: list[str], a: dict[str, float], b: dict[str, float]) -> float:
    """Spearman's rho of two complete runs over ``names`` (NaN below 3 ligands)."""
    from scipy.stats import spearmanr

    if len(names) < 3:
        return float("nan")
    return float(spearmanr([a[k] for k in names], [b[k] for k in names]).statistic)


def compare(names: list[str], m: dict[str, Any], ds: dict[str, Any], exh8: dict[str, Any]) -> dict:
    """One molgen run ``m`` against dockstring's ``ds`` and molgen's exhaustiveness 8 ``exh8``.

    Stops with the reason (``BenchmarkFailed``, exit status 1) unless all three runs scored
    every ligand in ``names``: no speed-up or correlation comes from a failed run.
    """
    for run in (m, ds, exh8):
        require_scored(run["side"], names, run)
    return {
        "seconds": round(m["seconds"], 1),
        "ligands_per_min": per_min(len(names), m["seconds"]),
        "speedup": speedup("dockstring", ds["seconds"], m["side"], m["seconds"]),
        "spearman_dockstring": round(spearman(names, m["scores"], ds["scores"]), 3),
        "spearman_exh8": round(spearman(names, m["scores"], exh8["scores"]), 3),
        "background_cpu_s": round(m["background_cpu_s"], 1),
    }


def per_min(n: int, seconds: float) -> float:
    return round(60.0 * n / seconds, 2)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 ligands: a smoke run")
    parser.add_argument("--curve", default=",".join(map(str, CURVE)), help="exhaustiveness list")
    parser.add_argument("--default-exhaustiveness", type=int, default=DEFAULT_EXHAUSTIVENESS)
    parser.add_argument("--workers", type=int, default=None, help="default: one per CPU")
    parser.add_argument("--seed", type=int, default=1, help="molgen's docking seed (>= 1)")
    parser.add_argument(
        "--default-seeds", type=int, default=3, help="seeds the default setting is also run with"
    )
    parser.add_argument("--n-poses", type=int, default=9, help="poses kept (Vina's default 9)")
    parser.add_argument("--dockstring-worker", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.dockstring_worker:  # child process: dockstring only, JSON on stdout
        wanted = args.dockstring_worker.split(",")
        print(json.dumps(dock_dockstring([lig for lig in LIGANDS if lig[0] in wanted])))
        return

    ligands = [lig for lig in LIGANDS if lig[0] in QUICK] if args.quick else LIGANDS
    names = [name for name, _ in ligands]
    n = len(ligands)
    env = dockstring_env()
    require_obabel(env, n)  # before minutes of molgen docking, not after
    default_exh = args.default_exhaustiveness
    curve = sorted({int(x) for x in args.curve.split(",")} | {8, default_exh})
    started = datetime.now(UTC).isoformat(timespec="seconds")
    print(f"{n} ligands into {TARGET}; molgen exhaustiveness {curve}, then dockstring")

    molgen: dict[int, dict[str, Any]] = {}
    for exh in sorted(curve, reverse=True):
        molgen[exh] = run_molgen(ligands, exh, args.seed, args)
        print(f"  molgen exhaustiveness {exh}: {molgen[exh]['seconds']:.1f} s", flush=True)
    other_seeds = range(args.seed + 1, args.seed + args.default_seeds)
    seed_runs = {s: run_molgen(ligands, default_exh, s, args) for s in other_seeds}
    ds = run_dockstring(ligands, env)
    print(f"  dockstring exhaustiveness 8: {ds['seconds']:.1f} s", flush=True)

    print("\nscores (kcal/mol)")
    print(f"{'ligand':<16}{'dockstring':>11}" + "".join(f"{f'exh {e}':>9}" for e in curve))
    for name, _ in ligands:
        row = [ds["scores"].get(name)] + [molgen[e]["scores"].get(name) for e in curve]
        print(f"{name:<16}" + "".join(f"{'-' if s is None else f'{s:.2f}':>9}" for s in row))

    print("\nmolgen speed/agreement curve (dockstring exhaustiveness 8 = 1.0x)")
    print(
        "exhaustiveness  seconds  ligands/min  speedup  Spearman(dockstring)  Spearman(exh 8)"
        "  background CPU-s"
    )
    curve_rows = {}
    for exh in curve:
        row = compare(names, molgen[exh], ds, molgen[8])
        curve_rows[str(exh)] = row
        print(
            f"{exh:>14}  {row['seconds']:>7}  {row['ligands_per_min']:>11}  "
            f"{row['speedup']:>6}x  {row['spearman_dockstring']:>20}  {row['spearman_exh8']:>15}"
            f"  {row['background_cpu_s']:>16}"
        )
    print(f"dockstring: {ds['seconds']:.1f} s, background CPU-s {ds['background_cpu_s']:.1f}")

    seed_rows = {str(args.seed): curve_rows[str(default_exh)]}
    for seed, m in seed_runs.items():
        row = compare(names, m, ds, molgen[8])
        seed_rows[str(seed)] = {k: row[k] for k in SEED_KEYS}
    print(f"\ndefault exhaustiveness {default_exh} with other seeds (Spearman, speed-up)")
    for seed, row in seed_rows.items():
        print(
            f"  seed {seed}: dockstring {row['spearman_dockstring']}, "
            f"exh 8 {row['spearman_exh8']}, {row['speedup']}x"
        )

    default, same = curve_rows[str(default_exh)], curve_rows["8"]
    summary = {
        "n": n,
        "target": TARGET,
        "dockstring_seconds": round(ds["seconds"], 1),
        "dockstring_ligands_per_min": per_min(n, ds["seconds"]),
        "molgen_ligands_per_min": {
            "exh8": same["ligands_per_min"],
            "default": default["ligands_per_min"],
        },
        "speedup_same_settings": same["speedup"],
        "spearman_same_settings": same["spearman_dockstring"],
        "speedup_default": default["speedup"],
        "spearman_default": default["spearman_dockstring"],
        "default_exhaustiveness": default_exh,
        "default_by_seed": seed_rows,
        "curve": curve_rows,
        "workers": molgen[8]["workers"],
        "seed": args.seed,
        "n_poses": args.n_poses,
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "gpu": None,
        "background_cpu_s": {
            "dockstring": round(ds["background_cpu_s"], 1),
            **{f"exh{e}": curve_rows[str(e)]["background_cpu_s"] for e in curve},
        },
        "versions": {
            "vina": version("vina"),
            "dockstring": version("dockstring"),
            "meeko": version("meeko"),
            "rdkit": version("rdkit"),
            "python": platform.python_version(),
        },
        "date": started,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
