"""What decides each stage's output: the one place where stage cache keys are declared.

A stage's checkpoint key is ``(input hash, config hash, versions)``
(:class:`molgen.artifacts.StageCheckpoint`):

- the **input hash** chains the output hashes of the stages it reads (computed by the stage
  function from its typed inputs), plus inputs that are not configuration: the seed file's
  bytes, the generator's state, the round seed, the receptor;
- the **config hash** covers exactly the campaign settings the stage reads, as declared by
  :func:`stage_configs` below;
- the **versions** are the stage code's version (:data:`STAGE_CODE`) and the versions of the
  components it calls (predictors, filters, generator, docking engine).

A campaign-file change therefore re-runs the stages whose declared settings changed, and the
stages downstream of them through the chained input hashes; nothing else. Settings that change
no result (``output``, ``store``, ``runtime.batch_size``) are in no stage's config hash: the
store URL and campaign name key only the store stage, and ``runtime.batch_size`` keys only the
partial batches of a stage killed half way (so a resumed stage never mixes batch sizes).

Bump a stage's entry in :data:`STAGE_CODE` whenever its code changes what it writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from molgen.artifacts import hash_json
from molgen.artifacts.content import by_content
from molgen.config import Campaign, docking_results_data

DOCKING_SCORE = "docking_score"

STAGE_CODE: Mapping[str, str] = {
    "seeds": "3",
    "generate": "1",
    "prepare": "2",
    "predict": "2",
    "filter": "3",
    "surrogate": "1",
    "dock": "2",
    "score": "2",
    "store": "3",
    "update": "2",
}
"""The version of each stage's own code; part of its key."""


def _objective(o: dict[str, Any], *fields: str) -> dict[str, Any]:
    return {f: o[f] for f in fields}


def stage_configs(campaign: Campaign, params: Mapping[str, Any]) -> dict[str, Any]:
    """The campaign settings each stage's output depends on, per stage, as JSON-able data.

    Args:
        campaign: the validated campaign.
        params: :func:`molgen.pipeline.components.component_params` of the campaign (the
            generator's, predictors' and filters' parameters with their defaults filled in, so
            a parameter written out at its default value does not change a key).

    Returns:
        ``{stage: settings}`` for every stage in :data:`STAGE_CODE`.
    """
    data = campaign.model_dump(mode="json")
    params = by_content(dict(params))
    objectives = data["objectives"]
    pre = [o for o in objectives if o["value"] != DOCKING_SCORE]
    docking_bounds = [
        _objective(o, "value", "bounds") for o in objectives if o["value"] == DOCKING_SCORE
    ]
    dock_per_round = data["budget"]["dock_per_round"]
    surrogate = bool(dock_per_round) and data["docking"]["selection"] == "surrogate"
    return {
        "seeds": {},
        "generate": {
            "generator": params["generator"],
            "molecules_per_round": data["budget"]["molecules_per_round"],
        },
        "prepare": {},
        "predict": {"predictors": params["predictors"]},
        "filter": {
            "filters": params["filters"],
            "objective_bounds": [_objective(o, "value", "bounds") for o in pre],
            "bounds": data["filters"].get("bounds", {}),
        },
        "dock": {
            "dock_per_round": dock_per_round,
            # which molecules are docked: the best by the pre-docking objectives
            "selection": [_objective(o, "value", "transform", "weight") for o in pre],
            "aggregation": data["scoring"]["aggregation"],
            "docking_bounds": docking_bounds,
            "docking": docking_results_data(data["docking"]) if dock_per_round else None,
        },
        "surrogate": {
            "dock_per_round": dock_per_round,
            "docking": docking_results_data(data["docking"]),
        }
        if surrogate
        else None,
        # with a surrogate, the generator's feedback may use predicted docking scores
        "score": {**_scoring(data), "feedback": data["docking"]["surrogate"]["feedback"]}
        if surrogate
        else _scoring(data),
        # the default store lies in the output folder and moves with it
        "store": {"name": campaign.name, "store": campaign.store},
        "update": {"generator": params["generator"]},
    }


def stage_config_hashes(campaign: Campaign, params: Mapping[str, Any]) -> dict[str, str]:
    """:func:`stage_configs`, hashed: ``{stage: sha256}``."""
    return {stage: hash_json(cfg) for stage, cfg in stage_configs(campaign, params).items()}


def _scoring(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "objectives": [_objective(o, "value", "transform", "weight") for o in data["objectives"]],
        "aggregation": data["scoring"]["aggregation"],
    }


def scoring_hash(campaign: Campaign) -> str:
    """Identifies the scoring a candidate's score was computed under (objectives' values,
    transforms and weights, and the aggregation): the score stage's config hash. The store
    ranks a campaign's candidates only under its current scoring."""
    return hash_json(_scoring(campaign.model_dump(mode="json")))


def stage_versions(stage: str, components: Mapping[str, str] | None = None) -> dict[str, str]:
    """A stage's versions: its code version plus its components' versions."""
    return {"stage": f"{stage}-{STAGE_CODE[stage]}", **(components or {})}
