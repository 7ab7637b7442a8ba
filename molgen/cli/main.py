"""The ``molgen`` command line."""

from __future__ import annotations

import csv
import json
import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from molgen.cli import models as _model_commands
from molgen.cli.common import configure_logging, console, err_console, fail
from molgen.config import Campaign, CampaignError, load_campaign
from molgen.prefect_env import configure_prefect_defaults

app = typer.Typer(
    help="molgen: generative design campaigns against protein targets.",
    no_args_is_help=True,
    add_completion=False,
)


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _load(path: Path) -> Campaign:
    try:
        return load_campaign(path)
    except CampaignError as err:
        raise fail(str(err)) from err


@app.command()
def targets() -> None:
    """List the bundled protein targets with their docking boxes (centre and size, Å)."""
    from molgen.targets import bundled_targets

    table = Table("target", "centre (x, y, z)", "size (x, y, z)", title="bundled targets")
    for t in bundled_targets().values():
        table.add_row(
            t.name,
            ", ".join(f"{v:.2f}" for v in t.center),
            ", ".join(f"{v:.1f}" for v in t.size),
        )
    console.print(table)


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="campaign file to write, e.g. campaign.toml")],
    target: Annotated[str, typer.Option("--target", "-t", help="bundled target name")] = "DRD2",
    name: Annotated[str | None, typer.Option(help="campaign name (default: file stem)")] = None,
    force: Annotated[bool, typer.Option(help="overwrite an existing file")] = False,
) -> None:
    """Write a commented campaign file that runs as is."""
    from molgen.cli.template import TEMPLATE
    from molgen.targets import TargetError, get_target

    try:
        found = get_target(target)
    except TargetError as err:
        raise fail(str(err)) from err
    if path.exists() and not force:
        raise fail(f"{path} exists; pass --force to overwrite it")
    campaign_name = name or re.sub(r"[^A-Za-z0-9_.-]+", "-", path.stem).strip("-.") or "campaign"
    text = TEMPLATE.format(filename=path.name, name=campaign_name, target=found.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    _load(path)  # the template must validate
    console.print(f"wrote {path}: run it with [bold]molgen run {path}[/]")


@app.command()
def run(
    campaign_file: Annotated[Path, typer.Argument(help="campaign TOML file")],
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="debug logging")] = False,
) -> None:
    """Run a campaign, or resume it: stages whose checkpoint matches are skipped."""
    campaign = _load(campaign_file)
    configure_logging(verbose)
    configure_prefect_defaults()
    from flows.campaign import campaign_flow
    from molgen.pipeline.components import build_components, component_params

    try:  # fail fast, before Prefect starts
        component_params(campaign)  # every component resolved, checked, its params validated
        build_components(campaign)  # predictors start; every objective has a value
    except CampaignError as err:
        raise fail(f"{campaign_file}: {err}") from err
    reports = campaign_flow(str(campaign_file.resolve()))
    table = Table(
        "round", "stage", "status", "in", "out", "rejected", "seconds", title=campaign.name
    )
    for r in reports:
        style = {"skipped": "dim", "resumed": "yellow"}.get(r["status"], "")
        table.add_row(
            str(r["round"]),
            r["stage"],
            r["status"],
            str(r["rows_in"]),
            str(r["rows_out"]),
            str(r["rows_rejected"]),
            f"{r['seconds']:.1f}",
            style=style,
        )
    console.print(table)
    skipped = sum(r["status"] == "skipped" for r in reports)
    if skipped == len(reports):
        console.print(f"all {skipped} stages skipped: nothing was recomputed")
    else:
        console.print(f"{len(reports) - skipped} stages computed, {skipped} skipped")
    console.print(f"top candidates: [bold]molgen top {campaign_file}[/]")


def _rows(campaign: Campaign, n: int | None) -> list[dict]:
    from molgen.store import CandidateStore, StoreError

    store = CandidateStore(campaign.store_url)
    try:
        return store.top(campaign.name, n)
    except StoreError as err:
        raise fail(f"{err}; run `molgen run` first") from err
    finally:
        store.close()


@app.command()
def top(
    campaign_file: Annotated[Path, typer.Argument(help="campaign TOML file")],
    n: Annotated[int, typer.Option("--n", "-n", min=1, help="how many candidates")] = 20,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="output format")] = Format.table,
    image: Annotated[
        Path | None, typer.Option(help="also draw the candidates as a PNG grid to this file")
    ] = None,
) -> None:
    """Show a campaign's best candidates, ranked by aggregate score."""
    campaign = _load(campaign_file)
    rows = _rows(campaign, n)
    objectives = [o.value for o in campaign.objectives]
    if fmt is Format.json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    elif fmt is Format.csv:
        w = csv.writer(sys.stdout)
        w.writerow(["rank", "smiles", "inchikey", "score", "pareto_rank", "round", *objectives])
        for r in rows:
            w.writerow(
                [
                    r["rank"],
                    r["smiles"],
                    r["inchikey"],
                    f"{r['score']:.4f}",
                    r["pareto_rank"],
                    r["round"],
                    *(r["objectives"][o]["value"] for o in objectives),
                ]
            )
    else:
        table = Table("rank", "score", "pareto", "round", *objectives, title=campaign.name)
        table.add_column("SMILES", overflow="fold")
        for r in rows:
            table.add_row(
                str(r["rank"]),
                f"{r['score']:.3f}",
                str(r["pareto_rank"]),
                str(r["round"]),
                *(f"{r['objectives'][o]['value']:.3g}" for o in objectives),
                r["smiles"],
            )
        console.print(table)
    if image is not None:
        from molgen.chem.depict import grid_png

        image.write_bytes(
            grid_png(
                [r["smiles"] for r in rows],
                [f"#{r['rank']}  score {r['score']:.3f}" for r in rows],
            )
        )
        err_console.print(f"wrote {image}")


@app.command()
def export(
    campaign_file: Annotated[Path, typer.Argument(help="campaign TOML file")],
    sdf: Annotated[Path, typer.Option("--sdf", help="SD file to write")],
    n: Annotated[int, typer.Option("--n", "-n", min=1, help="how many candidates")] = 100,
) -> None:
    """Write the top candidates as an SD file for PyMOL and other viewers.

    Docked candidates are written as their best pose (3D) with the Vina score; the others with
    2D coordinates. Every record has rank, score and the objective values.
    """
    from molgen.chem.depict import write_sdf

    campaign = _load(campaign_file)
    rows = _rows(campaign, n)
    poses: dict[str, str] = {}
    if campaign.budget.dock_per_round:
        from molgen.pipeline.components import build_docking, resolve_target
        from molgen.store import CandidateStore

        target = resolve_target(campaign)
        engine, settings = build_docking(campaign)
        store = CandidateStore(campaign.store_url)
        cached = store.cached_dockings(
            [r["inchikey"] for r in rows],
            target.receptor_hash(),
            settings.cache_key(engine.version),  # the key dock_with_cache stores results under
        )
        store.close()
        poses = {k: v["poses_sdf"] for k, v in cached.items() if v["poses_sdf"]}
    count = write_sdf(rows, sdf, poses)
    console.print(f"wrote {count} candidates ({len(poses)} with docked poses) to {sdf}")


_model_commands.register(app)  # before the entry below, so `python -m molgen.cli.main` has them

if __name__ == "__main__":
    app()
