"""The stages that close a campaign round: the candidate store and the generator update.

Both are checkpointed like the other stages (:func:`molgen.pipeline.stages.run_stage`), so a
resumed campaign neither writes a round twice nor updates the generator twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from molgen.artifacts import StageCheckpoint, hash_json
from molgen.chem.policy import rule_of
from molgen.generators import Generator
from molgen.pipeline.keys import stage_versions
from molgen.pipeline.selection import surrogate_predictions
from molgen.pipeline.stages import PREDICTED, UNCERTAINTY, StageOutput, run_stage, stage_folder
from molgen.predictors import Predictor
from molgen.scoring import Objective
from molgen.types import Rejection


def _rejections(stage: str, table: pd.DataFrame, input_col: str) -> list[Rejection]:
    """The rows of a stage's table with a reason, with what refused each: the filters named
    in a ``rejected_by`` column (the filter stage's), else the input-policy rule the reason
    starts with (prepare and seeds)."""
    if "reason" not in table.columns:
        return []
    bad = table[table["reason"].notna()]
    by = bad["rejected_by"] if "rejected_by" in bad.columns else [None] * len(bad)
    out = []
    for i, r, names in zip(bad[input_col], bad["reason"], by, strict=True):
        if isinstance(names, str) and names:
            rules = tuple(names.split(","))
        else:
            rule = rule_of(str(r)) if stage in ("prepare", "seeds") else None
            rules = (rule,) if rule else ()
        out.append(Rejection(stage, str(i), str(r), rules))
    return out


def store_stage(
    output: Path,
    round_: int,
    write: Callable[..., None],
    predicted: StageOutput,
    scored: StageOutput,
    rejecting: Sequence[tuple[str, StageOutput, str]],
    predictors: Sequence[Predictor],
    objectives: Sequence[Objective],
    provenance: Mapping[str, Any],
    config_hash: str,
    scoring_hash: str,
    surrogate: StageOutput | None = None,
) -> StageOutput:
    """Write the round to the candidate store in one transaction.

    The round's candidates and rejections replace what the store held for this round of the
    campaign (see :meth:`molgen.store.CandidateStore.write_round`).

    Args:
        write: ``CandidateStore.write_round`` bound to the campaign (takes ``round_``,
            ``molecules``, ``predictions``, ``candidates``, ``rejections``,
            ``scoring_hash``).
        predicted: the predict stage (its accepted rows become molecules and predictions).
        scored: the score stage (its rows become candidates).
        rejecting: ``(stage name, output, input column)`` of every stage whose rejected rows
            are recorded.
        provenance: recorded with every candidate of the round.
        config_hash: the store stage's config hash (store and campaign name), so a different
            store is written afresh.
        scoring_hash: identifies the objectives and aggregation the scores were computed
            under (:func:`molgen.pipeline.keys.scoring_hash`).
        surrogate: the round's surrogate stage, if it has one: its predicted docking scores
            and uncertainties are written as predictions of ``docking_surrogate`` (under the
            surrogate's version), and each candidate's provenance holds its own as
            ``docking_prediction`` (value, uncertainty, version, whether it was docked). The
            candidate's ``docking_score`` objective holds docking results only.
    """
    pred = predicted.accepted()
    scores = scored.table

    def compute(_ckpt: StageCheckpoint) -> tuple[pd.DataFrame, int, dict[str, Any]]:
        molecules = list(zip(pred["inchikey"], pred["smiles"], strict=True))
        predictions = [
            (key, p.name, p.version, spec.name, float(value))
            for p in predictors
            for spec in p.outputs
            for key, value in zip(pred["inchikey"], pred[spec.name], strict=True)
        ]
        guesses: dict[str, dict[str, Any]] = {}
        if surrogate is not None:
            predictions += surrogate_predictions(surrogate)
            guesses = _docking_predictions(surrogate, scores)
        candidates = [
            {
                "inchikey": row["inchikey"],
                "score": float(row["score"]),
                "objectives": {
                    o.value: {
                        "value": _json_float(row[o.value]),
                        "desirability": float(row[f"d_{o.value}"]),
                        "weight": o.weight,
                    }
                    for o in objectives
                },
                "provenance": dict(provenance)
                | (
                    {"docking_prediction": guesses[row["inchikey"]]}
                    if row["inchikey"] in guesses
                    else {}
                ),
            }
            for row in scores.to_dict("records")
        ]
        rejections = [r for name, out, col in rejecting for r in _rejections(name, out.table, col)]
        write(
            round_=round_,
            molecules=molecules,
            predictions=predictions,
            candidates=candidates,
            rejections=rejections,
            scoring_hash=scoring_hash,
        )
        out = pd.DataFrame({"inchikey": scores["inchikey"], "score": scores["score"]})
        return out, 0, {"rejections": len(rejections), "predictions": len(predictions)}

    inputs = [predicted.output_hash, scored.output_hash] + [o.output_hash for _, o, _ in rejecting]
    inputs += [surrogate.output_hash] if surrogate is not None else []
    key = (hash_json(inputs), hash_json([config_hash, provenance]), stage_versions("store"))
    folder = stage_folder(output, round_, "store")
    return run_stage(folder, round_, "store", key, len(scores), compute)


def _docking_predictions(surrogate: StageOutput, scores: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Each candidate's predicted docking score, by InChIKey, where the surrogate made one."""
    flags = scores["docked"] if "docked" in scores else [False] * len(scores)
    docked = dict(zip(scores["inchikey"], flags, strict=True))
    t = surrogate.table
    out = {}
    for key, value, spread, version in zip(
        t["inchikey"], t[PREDICTED], t[UNCERTAINTY], t["surrogate_version"], strict=True
    ):
        if key in docked and np.isfinite(value):
            out[key] = {
                "value": float(value),
                "uncertainty": float(spread),
                "version": str(version),
                "docked": bool(docked[key]),
            }
    return out


def _json_float(x: Any) -> float | None:
    """A float for JSON: None for NaN (e.g. a molecule that was not docked)."""
    x = float(x)
    return None if np.isnan(x) else x


def update_stage(
    output: Path,
    round_: int,
    generator: Generator,
    generated: StageOutput,
    scored: StageOutput,
    state_hash: str,
    n: int,
    seed: int,
    config_hash: str,
) -> tuple[StageOutput, dict[str, Any]]:
    """Feed the round's scores back to the generator and save its new state.

    A generator may learn from what it sampled in :meth:`Generator.generate` (the SELFIES
    agent learns from its sampled sequences), so ``update`` must follow ``generate`` on the
    same state. When this process skipped the generate stage (its checkpoint matched: a
    resumed run, or a change of objectives), the generator is first asked again for the
    round's molecules with the same state and seed, and the answer must equal the generate
    stage's table.

    Args:
        generated: the round's generate stage; ``n`` and ``seed`` are its arguments.
        config_hash: hash of the generator's parameters.

    Returns:
        The stage output (the new population) and the generator state to carry to the next
        round (``files/state.json`` in the stage folder).

    Raises:
        RuntimeError: the generator proposed other molecules than its checkpoint holds (it is
            not deterministic for a given state and seed).
    """
    folder = stage_folder(output, round_, "update")

    def compute(ckpt: StageCheckpoint) -> tuple[pd.DataFrame, int, dict[str, Any]]:
        replayed = generated.report.status == "skipped"
        if replayed and generator.generate(n, seed) != generated.table["smiles"].tolist():
            raise RuntimeError(
                f"round {round_}: generator {generator.name!r} proposed other molecules than "
                f"its generate checkpoint holds for the same state and seed; remove "
                f"{generated_folder} to generate the round again"
            )
        table = scored.table  # a surrogate's feedback score, when the round has one
        learn_from = table["feedback_score"] if "feedback_score" in table else table["score"]
        generator.update(table["smiles"].tolist(), learn_from.tolist())
        state = generator.state_dict()
        (ckpt.files / "state.json").write_text(json.dumps(state))
        # the table holds the state's hash (its output hash chains into the next round); the
        # state itself is written once, to files/state.json
        return pd.DataFrame({"state_sha256": [hash_json(state)]}), 0, {}

    generated_folder = stage_folder(output, round_, "generate")
    versions = stage_versions("update", {"generator": f"{generator.name}-{generator.version}"})
    key = (
        hash_json([state_hash, generated.output_hash, scored.output_hash]),
        config_hash,
        versions,
    )
    result = run_stage(folder, round_, "update", key, len(scored.table), compute)
    return result, json.loads((folder / "files" / "state.json").read_text())


def seed_rejections(seeds: StageOutput) -> list[Rejection]:
    """The seed file's lines that could not be used, as round-0 rejections."""
    table = seeds.table.copy()
    table["source"] = [
        f"line {n}: {s}" for n, s in zip(table["line"], table["source"], strict=True)
    ]
    return _rejections("seeds", table, "source")
