"""Docking through the store's cache: a molecule is never docked twice under the same key."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from molgen import stop
from molgen.docking.base import DockingEngine, DockingSettings, DockResult
from molgen.store import CandidateStore
from molgen.store.claims import DockingClaims
from molgen.targets import Target


def _write(
    store: CandidateStore,
    result: DockResult,
    receptor_hash: str,
    settings_hash: str,
    engine: DockingEngine,
    settings: DockingSettings,
) -> None:
    store.write_dockings(
        [
            {
                "inchikey": result.key,
                "smiles": result.smiles,
                "score": result.score,
                "poses_sdf": result.poses_sdf,
                "reason": result.reason,
                "seconds": result.seconds,
            }
        ],
        receptor_hash,
        settings_hash,
        engine.version,
        asdict(settings),
    )


def dock_with_cache(
    ligands: Sequence[tuple[str, str]],
    engine: DockingEngine,
    target: Target,
    settings: DockingSettings,
    store: CandidateStore,
    on_result: Callable[[DockResult], None] | None = None,
    poll_s: float = 2.0,
) -> list[dict[str, Any]]:
    """Dock ``(inchikey, smiles)`` pairs, reusing and filling the store's docking cache.

    The cache key is (InChIKey, receptor hash, settings key), the settings key covering the
    settings and the engine's version (:meth:`DockingSettings.cache_key`). Each new result is
    committed to the store as soon as it finishes, so a run killed during docking redocks only
    the ligands that had not finished. Timeouts and crashed workers are reported but not cached.

    Runs that share a store (two campaigns on one target) dock each ligand once: a ligand is
    claimed before it is docked (:mod:`molgen.store.claims`), and a ligand another run is
    docking right now is waited for (polling the cache every ``poll_s`` seconds) and counted
    as cached; if that run gives it up without a cached result, or dies, this one docks it.

    Returns:
        One dict per ligand, in input order: ``inchikey, smiles, docking_score`` (kcal/mol, NaN
        if it failed), ``reason`` (None on success) and ``cached`` (True if no docking ran).
    """
    receptor_hash, settings_hash = target.receptor_hash(), settings.cache_key(engine.version)
    smiles = dict(ligands)
    pending = list(smiles)  # unique, in input order
    found: dict[str, dict[str, Any]] = {}
    claims = DockingClaims(store.engine, uuid.uuid4().hex, receptor_hash, settings_hash)
    try:
        while True:
            cached = store.cached_dockings(pending, receptor_hash, settings_hash)
            for k, c in cached.items():
                found[k] = {"score": c["score"], "reason": c["reason"], "cached": True}
            pending = [k for k in pending if k not in found]
            if not pending:
                break
            mine = claims.claim(pending)
            if not mine:  # another run docks the rest right now: wait for its results
                stop.check("dock")
                time.sleep(poll_s)
                continue
            todo = [(k, smiles[k]) for k in pending if k in mine]
            with claims.kept_alive():
                for result in engine.dock(todo, target, settings):
                    if result.cacheable:
                        _write(store, result, receptor_hash, settings_hash, engine, settings)
                    claims.release([result.key])
                    found[result.key] = {
                        "score": result.score,
                        "reason": result.reason,
                        "cached": False,
                    }
                    if on_result is not None:
                        on_result(result)
                    stop.check("dock")  # leaving the loop stops the engine's workers
            missing = [k for k, _ in todo if k not in found]
            for k in missing:  # the engine gave no result: reported, not retried here
                found[k] = {"score": None, "reason": "engine returned no result", "cached": False}
            pending = [k for k in pending if k not in found]
    finally:
        claims.release()
    rows = []
    for key, smi in ligands:
        r = found.get(key, {"score": None, "reason": "engine returned no result", "cached": False})
        score = float("nan") if r["score"] is None else float(r["score"])
        rows.append(
            {
                "inchikey": key,
                "smiles": smi,
                "docking_score": score,
                "reason": r["reason"],
                "cached": r["cached"],
            }
        )
    return rows
