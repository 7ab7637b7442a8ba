"""`molgen deploy`: a Prefect deployment of a campaign on a work pool, with a schedule."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from molgen.cli.common import console, fail
from molgen.config import CampaignError


def deploy(
    campaign_file: Annotated[Path, typer.Argument(help="campaign TOML file (workers read it)")],
    pool: Annotated[str, typer.Option(help="Prefect work pool whose workers run it")],
    cron: Annotated[str | None, typer.Option(help="cron schedule, e.g. '0 22 * * *'")] = None,
    interval: Annotated[
        str | None, typer.Option(help="interval schedule: 90s, 30m, 12h or 1d")
    ] = None,
    rounds_per_run: Annotated[
        int, typer.Option(min=1, help="rounds each run adds, from the last checkpoint")
    ] = 1,
    name: Annotated[str | None, typer.Option(help="deployment name (default: campaign)")] = None,
    job_variable: Annotated[
        list[str] | None,
        typer.Option(help="KEY=JSON for the pool's job template, e.g. gpus=1; repeatable"),
    ] = None,
) -> None:
    """Register a scheduled Prefect deployment of a campaign (needs PREFECT_API_URL).

    Each run continues the campaign by --rounds-per-run rounds, up to its budget; at most one
    run of a campaign works at a time.
    """
    from prefect.settings import PREFECT_API_URL

    from molgen.deploy import deploy_campaign, parse_duration

    if not PREFECT_API_URL.value():
        raise fail("set PREFECT_API_URL to the Prefect server the workers poll")
    variables = {}
    for item in job_variable or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise fail(f"--job-variable {item!r}: give KEY=VALUE")
        try:
            variables[key] = json.loads(value)
        except ValueError:
            variables[key] = value
    try:
        every = parse_duration(interval) if interval else None
        done = deploy_campaign(
            campaign_file, pool, name, cron, every, rounds_per_run, variables or None
        )
    except (CampaignError, ValueError, OSError) as err:
        raise fail(f"{campaign_file}: {err}") from err
    console.print(
        f"deployed {done.name} ({done.id}) on pool {done.pool}, schedule {done.schedule}, "
        f"{rounds_per_run} round(s) per run; start a worker with "
        f"`prefect worker start --pool {done.pool}`, or run it now with "
        f"`prefect deployment run '{done.name}'`"
    )


def work_pool_template(
    kind: Annotated[str, typer.Argument(help="work pool type: kubernetes")] = "kubernetes",
) -> None:
    """Print molgen's base job template for a Prefect work pool (JSON), e.g.
    `molgen work-pool-template > gpu.json; prefect work-pool create gpu --type kubernetes
    --base-job-template gpu.json`. Deployments then ask for GPUs with --job-variable gpus=1."""
    from molgen.resources import template_path

    if kind != "kubernetes":
        raise fail(f"no molgen template for work pools of type {kind!r}; there is: kubernetes")
    sys.stdout.write(template_path("kubernetes-job.json").read_text(encoding="utf-8"))


def register(app: typer.Typer) -> None:
    app.command("deploy")(deploy)
    app.command("work-pool-template")(work_pool_template)
