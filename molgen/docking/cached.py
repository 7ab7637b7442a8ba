"""Docking through the store's cache: a molecule is never docked twice under the same key."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from molgen import stop
from molgen.docking.base import DockingEngine, DockingSettings, DockResult
from molgen.store import CandidateStore
from molgen.targets import Target


def dock_with_cache(
    ligands: Sequence[tuple[str, str]],
    engine: DockingEngine,
    target: Target,
    settings: DockingSettings,
    store: CandidateStore,
    on_result: Callable[[DockResult], None] | None = None,
) -> list[dict[str, Any]]:
    """Dock ``(inchikey, smiles)`` pairs, reusing and filling the store's docking cache.

    The cache key is (InChIKey, receptor hash, settings key), the settings key covering the
    settings and the engine's version (:meth:`DockingSettings.cache_key`). Each new result is
    committed to the store as soon as it finishes, so a run killed during docking redocks only
    the ligands that had not finished. Timeouts and crashed workers are reported but not cached.

    Returns:
        One dict per ligand, in input order: ``inchikey, smiles, docking_score`` (kcal/mol, NaN
        if it failed), ``reason`` (None on success) and ``cached`` (True if no docking ran).
    """
    receptor_hash, settings_hash = target.receptor_hash(), settings.cache_key(engine.version)
    keys = [k for k, _ in ligands]
    cached = store.cached_dockings(keys, receptor_hash, settings_hash)
    found: dict[str, dict[str, Any]] = {
        k: {"score": c["score"], "reason": c["reason"], "cached": True} for k, c in cached.items()
    }
    todo = [(k, smi) for k, smi in ligands if k not in cached]
    for result in engine.dock(todo, target, settings):
        if result.cacheable:
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
        found[result.key] = {"score": result.score, "reason": result.reason, "cached": False}
        if on_result is not None:
            on_result(result)
        stop.check("dock")  # leaving the loop stops the engine's workers
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
