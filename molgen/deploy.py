"""Prefect deployments of campaigns: scheduled runs on a work pool's workers.

A deployment runs the installed ``flows.campaign:campaign_flow`` (a module entrypoint: the
worker imports molgen from its own installation, no source is pulled), with two parameters:

- ``campaign_file``: the campaign file's absolute path, which the worker must be able to read.
  A campaign file names other files by path (seeds, a receptor PDB, the output folder), so a
  worker that can run the campaign shares its file system anyway; passing the path keeps one
  source of truth: an edit to the file takes effect at the next scheduled run, exactly as it
  would for ``molgen run`` (the stage keys re-run what the edit changed).
- ``rounds_per_run``: each run continues the campaign from its last checkpoint by this many
  rounds, up to the budget, so a nightly schedule grows one campaign.

At most one run of a deployment is active: its concurrency limit is 1 with collision strategy
ENQUEUE (a run that comes due while the last still works waits for it), and the flow itself
holds the campaign's lock in the store (:mod:`molgen.store.lock`), which also keeps
``molgen run`` and other deployments of the same campaign out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from molgen.config import CampaignError, load_campaign

FLOW_NAME = "molgen-campaign"
ENTRYPOINT = "flows.campaign:campaign_flow"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def parse_duration(text: str) -> timedelta:
    """``"90"``, ``"90s"``, ``"30m"``, ``"12h"`` or ``"1d"`` as a timedelta.

    Raises:
        ValueError: not such a duration, or not positive.
    """
    m = _DURATION.match(text)
    if m is None:
        raise ValueError(f"--interval {text!r}: give a number with s, m, h or d, e.g. 30m")
    seconds = float(m.group(1)) * _UNIT[m.group(2)]
    if seconds <= 0:
        raise ValueError(f"--interval {text!r}: must be positive")
    return timedelta(seconds=seconds)


@dataclass(frozen=True)
class Deployed:
    id: UUID
    name: str  # "molgen-campaign/<deployment name>", as `prefect deployment run` takes it
    pool: str
    schedule: str


def deploy_campaign(
    campaign_file: Path,
    pool: str,
    name: str | None = None,
    cron: str | None = None,
    interval: timedelta | None = None,
    rounds_per_run: int = 1,
    job_variables: dict[str, Any] | None = None,
) -> Deployed:
    """Register (or update) a deployment of the campaign on work pool ``pool``.

    Raises:
        CampaignError: the campaign file is invalid, or the schedule is wrong.
        ValueError: the work pool does not exist on the server.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import DeploymentScheduleCreate
    from prefect.client.schemas.objects import ConcurrencyLimitStrategy, ConcurrencyOptions
    from prefect.client.schemas.schedules import CronSchedule, IntervalSchedule
    from prefect.exceptions import ObjectNotFound
    from prefect.utilities.callables import parameter_schema

    if cron and interval:
        raise CampaignError("give --cron or --interval, not both")
    if rounds_per_run < 1:
        raise CampaignError(f"--rounds-per-run must be at least 1, got {rounds_per_run}")
    path = Path(campaign_file).resolve()
    campaign = load_campaign(path)
    schedules = []
    schedule = "none (run on demand)"
    if cron:
        try:
            schedules.append(DeploymentScheduleCreate(schedule=CronSchedule(cron=cron)))
        except ValueError as err:
            raise CampaignError(f"--cron {cron!r}: {err}") from err
        schedule = f"cron {cron}"
    elif interval:
        schedules.append(DeploymentScheduleCreate(schedule=IntervalSchedule(interval=interval)))
        schedule = f"every {interval}"

    from flows.campaign import campaign_flow

    name = name or campaign.name
    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(pool)
        except ObjectNotFound:
            raise ValueError(
                f"work pool {pool!r} does not exist on {client.api_url}; create it with "
                f"`prefect work-pool create {pool} --type process`"
            ) from None
        flow_id = client.create_flow_from_name(FLOW_NAME)
        deployment_id = client.create_deployment(
            flow_id=flow_id,
            name=name,
            entrypoint=ENTRYPOINT,
            work_pool_name=pool,
            parameters={"campaign_file": str(path), "rounds_per_run": rounds_per_run},
            parameter_openapi_schema=parameter_schema(campaign_flow).model_dump_for_openapi(),
            schedules=schedules,
            concurrency_limit=1,
            concurrency_options=ConcurrencyOptions(
                collision_strategy=ConcurrencyLimitStrategy.ENQUEUE
            ),
            job_variables=job_variables or {},
            tags=["molgen", f"campaign:{campaign.name}"],
            description=f"molgen campaign {campaign.name!r} from {path}",
            pull_steps=[],
        )
    return Deployed(deployment_id, f"{FLOW_NAME}/{name}", pool, schedule)
