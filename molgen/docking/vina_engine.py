"""AutoDock Vina 1.2 through its Python API, in a pool of worker processes.

Throughput comes from keeping every core busy on search, not on overhead:

- grid maps once per worker: each worker process computes the receptor's maps once and reuses
  them for every ligand it docks;
- longest first: ligands are queued by an estimate of their search cost (heavy atoms and
  torsions), so the workers finish together instead of one core docking a large ligand alone at
  the end (LPT scheduling);
- a ligand alone is not alone on one core: with fewer ligands than workers, each ligand's Monte
  Carlo chains run on the spare cores as threads. (With more ligands than workers, extra threads
  per ligand were measured to slow the batch down: the processes' chains compete for caches.)
  Vina seeds each chain from the settings' seed in a fixed order, so scores do not depend on
  the thread count.

A ligand that runs past its timeout is killed with its worker (pebble restarts the worker, which
recomputes its maps); the rest of the batch goes on.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures import as_completed
from contextlib import contextmanager
from typing import Any, ClassVar

from rdkit import Chem
from rdkit.Chem import rdMolDescriptors

from molgen.docking.base import DOCKING_ENGINES, DockingSettings, DockResult
from molgen.docking.ligand import LigandError, ligand_pdbqt, poses_to_sdf
from molgen.targets import Target

_worker: dict[str, Any] = {}


def _vina_version() -> str:
    from importlib.metadata import version

    return version("vina")


def box_of(target: Target, settings: DockingSettings) -> tuple[list[float], list[float]]:
    """The search box centre and edge lengths (Å), padding included."""
    return list(target.center), [s + settings.box_padding for s in target.size]


def search_cost(smiles: str, flexible_rings: bool = False) -> float:
    """Relative cost of docking ``smiles`` with Vina (arbitrary units; only the order matters).

    ``heavy_atoms ** 1.8 * exp(0.28 * torsions)``: a fit to Vina 1.2 single-core times of the
    docking benchmark's 12 drug-like ligands at exhaustiveness 8 (their measured order is
    reproduced but for one swapped pair). Torsions are RDKit's rotatable bonds plus ``size - 3``
    per ring of 7+ atoms that meeko opens when ``flexible_rings`` is on. Returns 0.0 for a
    SMILES that does not parse (it fails fast in the worker).
    """
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return 0.0
    torsions = rdMolDescriptors.CalcNumRotatableBonds(mol)
    rings = mol.GetRingInfo().AtomRings()
    if flexible_rings:
        torsions += sum(len(r) - 3 for r in rings if _opened_ring(mol, r))
    return float(mol.GetNumHeavyAtoms() ** 1.8 * math.exp(0.28 * torsions))


def _opened_ring(mol: Chem.Mol, ring: tuple[int, ...]) -> bool:
    """A ring of 7+ atoms with a breakable C-C single bond (one end sp3), as meeko opens."""
    if len(ring) < 7:
        return False
    for i, j in zip(ring, ring[1:] + ring[:1], strict=True):
        bond = mol.GetBondBetweenAtoms(i, j)
        ends = (bond.GetBeginAtom(), bond.GetEndAtom())
        if (
            bond.GetBondType() == Chem.BondType.SINGLE
            and all(a.GetSymbol() == "C" for a in ends)
            and any(a.GetHybridization() == Chem.HybridizationType.SP3 for a in ends)
        ):
            return True
    return False


def _init_worker(
    receptor: str, center: list[float], size: list[float], seed: int, threads: int
) -> None:
    """Load the receptor and compute its grid maps once in this worker process.

    The worker ignores Ctrl-C (the terminal sends it to every process of the run; the parent
    decides to stop the pool) and ends on SIGTERM, which a parent holding both signals
    (``molgen run``) would otherwise have left blocked in it.
    """
    import signal

    from vina import Vina

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})

    v = Vina(sf_name="vina", cpu=threads, seed=seed, verbosity=0)
    with _quiet():  # Vina warns about the box volume on C-level stdout/stderr
        v.set_receptor(rigid_pdbqt_filename=receptor)
        v.compute_vina_maps(center=center, box_size=size)
    _worker["vina"] = v


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence C-level stdout and stderr (Vina's errors still raise with their message)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)


def dock_one(key: str, smiles: str, settings: DockingSettings) -> DockResult:
    """Dock one ligand with the worker's precomputed maps (run inside a worker process)."""
    t0 = time.perf_counter()
    try:
        pdbqt = ligand_pdbqt(
            smiles, settings.seed, ph=settings.ph, flexible_rings=settings.flexible_rings
        )
    except LigandError as err:
        return DockResult(key, smiles, None, None, str(err), time.perf_counter() - t0)
    v = _worker["vina"]
    try:
        v.set_ligand_from_string(pdbqt)
        v.dock(exhaustiveness=settings.exhaustiveness, n_poses=settings.n_poses)
    except (RuntimeError, TypeError) as err:
        return DockResult(key, smiles, None, None, f"Vina failed: {err}", time.perf_counter() - t0)
    energies = v.energies(n_poses=settings.n_poses)
    scores = [float(e[0]) for e in energies]
    sdf = poses_to_sdf(v.poses(n_poses=settings.n_poses), scores)
    return DockResult(key, smiles, scores[0], sdf, None, time.perf_counter() - t0)


def default_workers() -> int:
    """One worker per CPU this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def threads_per_ligand(workers: int, ligands: int, exhaustiveness: int) -> int:
    """Vina threads per ligand: the cores left over when there are fewer ligands than workers.

    With at least as many ligands as workers every core already has a ligand, and extra threads
    only make the processes' chains compete for cores and caches (measured ~20 % slower end to
    end for 12 ligands at exhaustiveness 2 on 2 cores).
    A Monte Carlo chain is Vina's unit of parallel work, so there are never more threads than
    chains.
    """
    return max(1, min(workers // max(ligands, 1), exhaustiveness))


@DOCKING_ENGINES.register("vina")
class VinaEngine:
    """Vina 1.2 (Python API) in a pool of worker processes.

    Args:
        workers: worker processes, and the number of cores the engine keeps busy (default: one
            per usable CPU).
        timeout_s: wall-clock limit per ligand; a ligand past it is killed and rejected.
    """

    name: ClassVar[str] = "vina"

    def __init__(self, workers: int | None = None, timeout_s: float = 600.0) -> None:
        self.workers = workers or default_workers()
        self.timeout_s = timeout_s
        self.version = f"vina-{_vina_version()}"

    def dock(
        self, ligands: Sequence[tuple[str, str]], target: Target, settings: DockingSettings
    ) -> Iterator[DockResult]:
        """Dock ligands in parallel, longest first, yielding each result as it finishes."""
        from pebble import ProcessPool

        if not ligands:
            return
        center, size = box_of(target, settings)
        workers = min(self.workers, len(ligands))
        threads = threads_per_ligand(self.workers, len(ligands), settings.exhaustiveness)
        initargs = (str(target.receptor), center, size, settings.seed, threads)
        queue = sorted(
            ligands, key=lambda lig: search_cost(lig[1], settings.flexible_rings), reverse=True
        )
        pool = ProcessPool(max_workers=workers, initializer=_init_worker, initargs=initargs)
        finished = False
        try:
            futures = {
                pool.schedule(dock_one, args=(key, smi, settings), timeout=self.timeout_s): (
                    key,
                    smi,
                )
                for key, smi in queue
            }
            for future in as_completed(futures):
                key, smi = futures[future]
                yield self._result(future, key, smi)
            finished = True
        finally:
            # On an early exit (an error, a kill, a consumer that stops) drop pending ligands
            # instead of waiting for them.
            pool.close() if finished else pool.stop()
            pool.join()

    def _result(self, future: Any, key: str, smi: str) -> DockResult:
        try:
            return future.result()
        except FutureTimeout:
            reason = f"docking timed out after {self.timeout_s:g} s"
            return DockResult(key, smi, None, None, reason, self.timeout_s, cacheable=False)
        except Exception as err:  # a crashed worker: reject this ligand, keep the batch
            reason = f"docking worker failed: {type(err).__name__}: {err}"
            return DockResult(key, smi, None, None, reason, 0.0, cacheable=False)
