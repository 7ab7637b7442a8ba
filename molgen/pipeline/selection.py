"""The surrogate stage: which filtered molecules a round docks, chosen by a docking surrogate.

With ``[docking] selection = "surrogate"`` each round runs this stage between the filter and
dock stages. It trains the docking surrogate (:mod:`molgen.docking.surrogate`) on every molecule
docked so far into the target with the campaign's docking settings (the store's docking cache:
campaigns on one target share it), predicts a docking score and its uncertainty for each
filtered molecule, and picks the round's ``dock_per_round``: a ``random_fraction`` of them at
random, the rest by the acquisition. A round with fewer than ``min_training`` docked molecules
to learn from picks all at random (the initial batch).

The stage is checkpointed like the others, its table holding the predictions and the picks, and
``files/surrogate.json`` the training set (InChIKeys and scores) and the model's settings, so
the model can be trained again exactly. A campaign killed while docking resumes with the same
choices: the dock stage re-runs, this one is skipped, even though the docking cache has grown.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from molgen.artifacts import StageCheckpoint, hash_json
from molgen.config import SurrogateConfig
from molgen.docking.surrogate import (
    PREDICTOR,
    VERSIONS,
    acquisition_values,
    choose,
    make_surrogate,
)
from molgen.pipeline.keys import stage_versions
from molgen.pipeline.stages import (
    PREDICTED,
    UNCERTAINTY,
    StageOutput,
    run_stage,
    stage_folder,
)

Training = Callable[[], Sequence[tuple[str, str, float]]]
"""Returns the docked molecules to learn from: ``(inchikey, smiles, docking score)``."""


def fit_predict(
    settings: dict[str, Any],
    seed: int,
    train_smiles: list[str],
    train_scores: list[float],
    smiles: list[str],
) -> tuple[np.ndarray, np.ndarray]:
    """Train the surrogate of ``settings`` (a :class:`SurrogateConfig` as JSON) and predict
    ``smiles``: ``(mean, std)``. A plain function, so that on a cluster it runs on a worker."""
    s = SurrogateConfig(**settings)
    model = make_surrogate(s.model, seed, trees=s.trees, members=s.members)
    return model.fit(train_smiles, train_scores).predict(smiles)


Runner = Callable[..., Any]
"""Calls ``fn(*args)`` somewhere and returns its result: in this process by default."""


def in_process(fn: Callable[..., Any], *args: Any) -> Any:
    """The default :data:`Runner`: ``fn(*args)`` in this process."""
    return fn(*args)


def surrogate_stage(
    output: Path,
    round_: int,
    filtered: StageOutput,
    training: Training,
    n_dock: int,
    settings: SurrogateConfig,
    seed: int,
    docking_key: str,
    config_hash: str,
    run: Runner = in_process,
) -> StageOutput:
    """Predict docking scores of the filtered molecules and pick the ``n_dock`` to dock.

    Args:
        training: reads the docking cache of the campaign's target and settings.
        seed: the round's seed for this stage (the forest, the random picks, Thompson draws).
        docking_key: hash of receptor, engine and settings (see the dock stage).
        run: where the training and prediction run (:func:`fit_predict`); on a cluster, a CPU
            worker.

    Returns:
        The stage output; its table has one row per filtered molecule: ``inchikey, smiles,
        docking_score_predicted, docking_score_uncertainty`` (NaN before the surrogate has
        ``min_training`` molecules), ``pick`` (the order in which it was picked, -1 if not),
        ``picked_by`` (``random``, ``acquisition`` or None) and ``surrogate_version``.
    """
    table = filtered.accepted()[["inchikey", "smiles"]].reset_index(drop=True)

    def compute(ckpt: StageCheckpoint) -> tuple[pd.DataFrame, int, dict[str, Any]]:
        docked = sorted(training())  # by InChIKey: the same cache gives the same model
        rng = np.random.default_rng(seed)
        mean = std = np.full(len(table), np.nan)
        values = None
        version = VERSIONS[settings.model]
        if len(docked) >= settings.min_training:
            mean, std = run(
                fit_predict,
                settings.model_dump(mode="json"),
                seed % 2**32,
                [s for _, s, _ in docked],
                [y for _, _, y in docked],
                table["smiles"].tolist(),
            )
            values = acquisition_values(mean, std, settings.acquisition, settings.beta, rng)
            version = f"{version}+{hash_json(docked)[:12]}"
        random_n = round(settings.random_fraction * n_dock)
        picks = choose(table["inchikey"].tolist(), values, n_dock, random_n, rng)
        out = table.copy()
        out[PREDICTED], out[UNCERTAINTY] = mean, std
        order = np.full(len(table), -1, dtype=np.int64)
        by: list[str | None] = [None] * len(table)
        for k, (i, how) in enumerate(picks):
            order[i], by[i] = k, how
        out["pick"] = order
        out["picked_by"] = pd.Series(by, dtype=object)
        out["surrogate_version"] = version
        ckpt.files.mkdir(parents=True, exist_ok=True)
        (ckpt.files / "surrogate.json").write_text(
            json.dumps(
                {
                    "version": version,
                    "settings": settings.model_dump(mode="json"),
                    "seed": seed,
                    "trained": values is not None,
                    "training": {
                        "inchikeys": [k for k, _, _ in docked],
                        "smiles": [s for _, s, _ in docked],
                        "docking_scores": [y for _, _, y in docked],
                    },
                }
            )
        )
        random_picks = sum(1 for _, how in picks if how == "random")
        return out, 0, {"training": len(docked), "picked": len(picks), "random": random_picks}

    versions = stage_versions(
        "surrogate",
        {"surrogate": VERSIONS[settings.model], "scikit-learn": metadata.version("scikit-learn")},
    )
    key = (hash_json([filtered.output_hash, docking_key, seed]), config_hash, versions)
    folder = stage_folder(output, round_, "surrogate")
    return run_stage(folder, round_, "surrogate", key, len(table), compute)


def picked(selection: StageOutput) -> list[tuple[str, str]]:
    """The ``(inchikey, smiles)`` the surrogate stage picked, in the order picked."""
    t = selection.table
    t = t[t["pick"] >= 0].sort_values("pick")
    return list(zip(t["inchikey"], t["smiles"], strict=True))


def surrogate_predictions(selection: StageOutput) -> list[tuple[str, str, str, str, float]]:
    """The surrogate's finite predictions as the store's prediction rows ``(inchikey,
    predictor, version, output, value)``."""
    t = selection.table
    rows = []
    for output in (PREDICTED, UNCERTAINTY):
        for key, version, value in zip(
            t["inchikey"], t["surrogate_version"], t[output], strict=True
        ):
            if np.isfinite(value):
                rows.append((key, PREDICTOR, str(version), output, float(value)))
    return rows
