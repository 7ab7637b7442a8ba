"""The campaign flow: one flow run per campaign, one task run per stage and round.

Run it with ``molgen run CAMPAIGN.toml`` (or ``python flows/campaign.py CAMPAIGN.toml``); its
entrypoint for Prefect deployments is ``flows/campaign.py:campaign_flow``. With no
``PREFECT_API_URL`` set, Prefect starts a temporary local server.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

from molgen.prefect_env import configure_prefect_defaults

configure_prefect_defaults()

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.artifacts import create_table_artifact  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402

import molgen  # noqa: E402
from molgen.artifacts import hash_json  # noqa: E402
from molgen.cluster import Placement  # noqa: E402
from molgen.config import Campaign, load_campaign  # noqa: E402
from molgen.docking.cached import dock_with_cache  # noqa: E402
from molgen.pipeline import record, selection, stages  # noqa: E402
from molgen.pipeline.components import (  # noqa: E402
    Components,
    build_components,
    build_docking,
    build_generator,
    component_params,
    generator_uses_gpu,
    resolve_target,
    round_seed,
    seeds_path,
    uses_gpu,
)
from molgen.pipeline.keys import scoring_hash, stage_config_hashes  # noqa: E402
from molgen.pipeline.output import claim_output  # noqa: E402
from molgen.pipeline.remote import RemoteGenerator  # noqa: E402
from molgen.store import CandidateStore, StoreError  # noqa: E402
from molgen.store.lock import CampaignLock  # noqa: E402


def _io_failure(_task: Any, _run: Any, state: Any) -> bool:
    """Retry only a failure of the store or file system (not a stop request, not a bug)."""
    return isinstance(state.data, OSError | StoreError | OperationalError)


def _task(fn: Any, name: str, retries: int = 0) -> Any:
    # Stages checkpoint themselves; Prefect caches and persists nothing. Only I/O-bound tasks
    # retry (a stage that computes chemistry would redo it).
    return task(
        fn,
        name=name,
        cache_policy=NO_CACHE,
        persist_result=False,
        retries=retries,
        retry_delay_seconds=10,
        retry_condition_fn=_io_failure if retries else None,
    )


seeds_task = _task(stages.seeds_stage, "seeds")
generate_task = _task(stages.generate_stage, "generate")
prepare_task = _task(stages.prepare_stage, "prepare")
predict_task = _task(stages.predict_stage, "predict")
filter_task = _task(stages.filter_stage, "filter")
surrogate_task = _task(selection.surrogate_stage, "surrogate")
dock_task = _task(stages.dock_stage, "dock")
score_task = _task(stages.score_stage, "score")
# writing a round again leaves the same rows (CandidateStore.write_round)
store_task = _task(record.store_stage, "store", retries=2)
update_task = _task(record.update_stage, "update")


def _artifact_key(name: str, round_: int) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", f"{name.lower()}-round-{round_}").strip("-")


@flow(name="molgen-campaign", persist_result=False)
def campaign_flow(campaign_file: str, rounds_per_run: int | None = None) -> list[dict[str, Any]]:
    """Run (or resume) the campaign described by ``campaign_file``.

    Args:
        campaign_file: the campaign file (a path this process can read).
        rounds_per_run: run at most this many rounds that are not finished yet, then stop (a
            scheduled run grows the campaign by this many rounds); None: up to the budget
            (with ``rounds = "unlimited"``: until stopped).

    Returns:
        One report per stage and round (``status`` is ran, resumed or skipped).

    Raises:
        CampaignLocked: another live run of the campaign holds its lock.
    """
    campaign = load_campaign(campaign_file)
    components = build_components(campaign)
    out = claim_output(campaign)  # new, empty or this campaign's; before anything is written
    store = CandidateStore(campaign.store_url)
    try:
        with (
            CampaignLock(store.engine, campaign.name),
            Placement(campaign.cluster, out / "cluster", campaign.name) as placement,
        ):
            return _run_campaign(campaign, components, out, store, rounds_per_run, placement)
    finally:
        store.close()


def _run_campaign(
    campaign: Campaign,
    components: Components,
    out: Path,
    store: CandidateStore,
    rounds_per_run: int | None,
    placement: Placement,
) -> list[dict[str, Any]]:
    logger = get_run_logger()
    cid = store.campaign_id(
        campaign.name, campaign.config_hash(), campaign.seed, campaign.model_dump(mode="json")
    )
    batch = campaign.runtime.batch_size
    reports: list[dict[str, Any]] = []

    seeds_file = seeds_path(campaign)
    seeds = seeds_task.with_options(task_run_name="seeds")(
        out, seeds_file, hash_json(seeds_file.read_bytes().hex()), batch
    )
    reports.append(asdict(seeds.report))
    store.write_round(
        cid, 0, [], [], [], record.seed_rejections(seeds), scoring_hash=scoring_hash(campaign)
    )
    seed_smiles = seeds.accepted()["smiles"].tolist()
    logger.info("%d seed molecules from %s", len(seed_smiles), seeds_file)

    config = stage_config_hashes(campaign, component_params(campaign))
    n_dock = campaign.budget.dock_per_round
    docking_provenance: dict[str, Any] = {}
    if n_dock:
        target = resolve_target(campaign)
        engine, settings = build_docking(campaign, placement)
        docking_provenance = {
            "target": target.name,
            "receptor_hash": target.receptor_hash(),
            "engine": engine.version,
            "settings": asdict(settings),
            "cache_key": settings.cache_key(engine.version),
        }
        docking_key = hash_json(docking_provenance)
        logger.info("docking up to %d molecules per round into %s", n_dock, target.name)

        def dock(ligands: list[tuple[str, str]]) -> list[dict[str, Any]]:
            return dock_with_cache(ligands, engine, target, settings, store)

        def docked_so_far() -> list[tuple[str, str, float]]:  # the surrogate's training set
            return store.docked_scores(
                docking_provenance["receptor_hash"], docking_provenance["cache_key"]
            )

    surrogate = bool(n_dock) and campaign.docking.selection == "surrogate"
    if surrogate:
        logger.info(
            "a docking surrogate picks what to dock (%s)", campaign.docking.surrogate.acquisition
        )

    remote = None
    generator_gpu = generator_uses_gpu(campaign)
    if not placement.local:
        specs = component_params(campaign)
        remote = stages.RemotePredict(placement, specs["predictors"], uses_gpu(campaign))
        logger.info(
            "generator on %s %s workers, predictor batches on its %s workers; docking chunks "
            "on its CPU workers",
            campaign.cluster.kind,
            "GPU" if generator_gpu else "CPU",
            "GPU" if remote.gpu else "CPU",
        )

    state: dict[str, Any] | None = None
    state_hash = seeds.output_hash
    seen: list[str] = []
    new_rounds = 0  # rounds this run worked on (not all skipped)
    budget = campaign.budget
    for k in itertools.count(1) if budget.unlimited else range(1, int(budget.rounds) + 1):
        generator = build_generator(campaign, seed_smiles)
        if not placement.local:
            generator = RemoteGenerator(
                generator, placement, specs["generator"], seed_smiles, generator_gpu
            )
        if state is not None:
            generator.load_state_dict(state)
        name = f"round-{k}"
        n_gen, gen_seed = (
            campaign.budget.molecules_per_round,
            round_seed(campaign.seed, k, "generate"),
        )
        generated = generate_task.with_options(task_run_name=f"generate-{name}")(
            out, k, generator, n_gen, gen_seed, state_hash, config["generate"]
        )
        prepared = prepare_task.with_options(task_run_name=f"prepare-{name}")(
            out, k, generated, seen, batch
        )
        predicted = predict_task.with_options(task_run_name=f"predict-{name}")(
            out, k, prepared, components.predictors, batch, config["predict"], remote
        )
        filtered = filter_task.with_options(task_run_name=f"filter-{name}")(
            out,
            k,
            predicted,
            components.filters,
            components.filter_bounds(),
            batch,
            config["filter"],
        )
        rejecting = [("prepare", prepared, "source"), ("predict", predicted, "smiles")]
        rejecting.append(("filter", filtered, "smiles"))
        to_score = filtered
        chosen = None
        if surrogate:
            chosen = surrogate_task.with_options(task_run_name=f"surrogate-{name}")(
                out,
                k,
                filtered,
                docked_so_far,
                n_dock,
                campaign.docking.surrogate,
                round_seed(campaign.seed, k, "surrogate"),
                docking_key,
                config["surrogate"],
                selection.in_process if placement.local else placement.call,
            )
        if n_dock:
            to_score = dock_task.with_options(task_run_name=f"dock-{name}")(
                out,
                k,
                filtered,
                n_dock,
                components.pre_docking_objectives(),
                components.docking_objectives(),
                campaign.scoring.aggregation,
                dock,
                docking_key,
                config["dock"],
                chosen,
            )
            rejecting.append(("dock", to_score, "smiles"))
        scored = score_task.with_options(task_run_name=f"score-{name}")(
            out,
            k,
            to_score,
            components.objectives,
            campaign.scoring.aggregation,
            config["score"],
            surrogate and campaign.docking.surrogate.feedback,
        )
        provenance = {
            "generator": generator.provenance(),
            "predictors": {p.name: p.version for p in components.predictors},
            "filters": {f.name: f.version for f in components.filters},
            "docking": docking_provenance,
            "config_hash": campaign.config_hash(),
            "seed": campaign.seed,
            "molgen": molgen.__version__,
        }
        stored = store_task.with_options(task_run_name=f"store-{name}")(
            out,
            k,
            lambda **kw: store.write_round(cid, **kw),
            predicted,
            scored,
            rejecting,
            components.predictors,
            components.objectives,
            provenance,
            config["store"],
            scoring_hash(campaign),
            chosen,
        )
        updated, state = update_task.with_options(task_run_name=f"update-{name}")(
            out, k, generator, generated, scored, state_hash, n_gen, gen_seed, config["update"]
        )
        state_hash = updated.output_hash
        seen.extend(prepared.accepted()["inchikey"].tolist())

        ran = [generated, prepared, predicted, filtered]
        ran += [chosen] if chosen is not None else []
        ran += [to_score] if to_score is not filtered else []
        round_reports = [asdict(s.report) for s in (*ran, scored, stored, updated)]
        reports.extend(round_reports)
        if any(r["status"] != "skipped" for r in round_reports):
            new_rounds += 1
        best = scored.table.head(5)
        create_table_artifact(
            key=_artifact_key(campaign.name, k),
            table=[{kk: v for kk, v in r.items() if kk != "extra"} for r in round_reports],
            description=(
                f"**{campaign.name}, round {k}**: {len(scored.table)} candidates; best "
                + ", ".join(
                    f"`{s}` ({x:.3f})" for s, x in zip(best["smiles"], best["score"], strict=True)
                )
            ),
        )
        if rounds_per_run is not None and new_rounds >= rounds_per_run:
            logger.info("ran %d rounds (rounds_per_run); round %d comes next", new_rounds, k + 1)
            break
    return reports


if __name__ == "__main__":
    import sys

    campaign_flow(str(Path(sys.argv[1]).resolve()))
