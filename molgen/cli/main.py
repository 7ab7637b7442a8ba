"""The ``molgen`` command line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from molgen.cli import deploying as _deploy_commands
from molgen.cli import models as _model_commands
from molgen.cli import results as _result_commands
from molgen.cli import serving as _serve_commands
from molgen.cli.common import configure_logging, console, err_console, fail
from molgen.cli.common import load as _load
from molgen.config import CampaignError
from molgen.prefect_env import configure_prefect_defaults

app = typer.Typer(
    help="molgen: generative design campaigns against protein targets.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def targets() -> None:
    """List the bundled protein targets with their docking boxes (centre and size, Å)."""
    from molgen.targets import NO_PROTEIN_NAMES, bundled_targets

    table = Table(
        "target",
        "centre (x, y, z)",
        "size (x, y, z)",
        title="bundled targets",
        caption=NO_PROTEIN_NAMES,
    )
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
    console.print(f"wrote {path}: run it with molgen run {path}")


@app.command()
def run(
    campaign_file: Annotated[Path, typer.Argument(help="campaign TOML file")],
    rounds: Annotated[
        int | None,
        typer.Option(min=1, help="run at most N unfinished rounds (default: to the budget)"),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="debug logging")] = False,
    debug: Annotated[bool, typer.Option(help="show tracebacks of errors")] = False,
) -> None:
    """Run a campaign, or resume it: stages whose checkpoint matches are skipped.

    Ctrl-C or SIGTERM stops it after the current batch is saved (exit status 130 or 143); run
    the same command again to resume. A second Ctrl-C exits at once.
    """
    from molgen import stop
    from molgen.cli import running

    campaign = _load(campaign_file)
    configure_logging(verbose)
    configure_prefect_defaults()
    try:  # fail fast, before Prefect starts
        running.preflight(campaign)
    except (CampaignError, OSError) as err:
        raise fail(f"{campaign_file}: {err}") from err
    from flows.campaign import campaign_flow

    try:
        with (
            running.stop_on_signals(),
            running.prefect_api(),
            running.quiet_prefect_errors(not debug),
        ):
            reports = running.call_in_thread(campaign_flow, str(campaign_file.resolve()), rounds)
    except stop.StopRequested as err:
        err_console.print(
            f"stopped in {err.where}; finished work is saved: run `molgen run {campaign_file}` "
            "to resume",
            highlight=False,
            markup=False,
        )
        raise typer.Exit(code=stop.exit_status(err.signum)) from err
    except CampaignError as err:
        if debug:
            raise
        raise fail(f"{campaign_file}: {err}") from err
    except Exception as err:  # one line, not pages of Prefect and rich tracebacks
        if debug:
            raise
        err_console.print(
            f"error: {type(err).__name__}: {err} (--debug shows the traceback)",
            highlight=False,
            markup=False,
        )
        raise typer.Exit(code=1) from err
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
    console.print(f"top candidates: molgen top {campaign_file}")


# before the entry below, so that `python -m molgen.cli.main` has them too
_result_commands.register(app)
_model_commands.register(app)
_deploy_commands.register(app)
_serve_commands.register(app)

if __name__ == "__main__":
    app()
