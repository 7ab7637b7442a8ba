"""`molgen serve`, the web app over a candidate store, and `molgen report`, a campaign as
static pages."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Annotated

import typer

from molgen.cli.common import console, err_console, fail, missing_sqlite_file, open_store
from molgen.cli.common import load as load_campaign_file

TOKEN_ENV = "MOLGEN_SERVE_TOKEN"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    campaign_file: Annotated[
        Path | None, typer.Argument(help="a campaign file: serve its store")
    ] = None,
    store: Annotated[
        str | None, typer.Option(help="store URL (instead of a campaign file)")
    ] = None,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    token: Annotated[
        str | None,
        typer.Option(help=f"required of every request (default: ${TOKEN_ENV})"),
    ] = None,
) -> None:
    """Serve the candidate store in a browser: campaigns, candidate grids with filters and
    substructure search, docked poses in 3D. Read-only; loopback only unless given a token."""
    if (campaign_file is None) == (store is None):
        raise fail("give a campaign file or --store URL (one of them)")
    url = store or load_campaign_file(campaign_file).store_url
    missing = missing_sqlite_file(url)
    if missing:  # serving only reads: never create a store
        raise fail(f"no store at {missing}: run a campaign into it first")
    token = token or os.environ.get(TOKEN_ENV) or None
    if not _loopback(host) and not token:
        raise fail(
            f"--host {host} is reachable from other machines: give --token (or set {TOKEN_ENV})"
        )
    import uvicorn

    from molgen.store import StoreError
    from molgen.web.app import create_app

    try:
        app = create_app(url, token)
    except StoreError as err:
        raise fail(str(err)) from err
    shown = "localhost" if _loopback(host) else host
    suffix = f"/?token={token}" if token else "/"
    err_console.print(f"molgen serving {url} at http://{shown}:{port}{suffix}", markup=False)
    uvicorn.run(app, host=host, port=port, log_level="warning")


def report(
    campaign_file: Annotated[Path, typer.Argument(help="campaign TOML file")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="folder to write (new, empty, or a report's)")
    ],
    n: Annotated[
        int, typer.Option("--n", "-n", min=1, help="best candidates in the grid, each with a page")
    ] = 200,
) -> None:
    """Write a campaign as static pages that open from disk (OUT/index.html): the candidate
    grid with range filters and sorting, the round-by-round plots, the rejections, and a page per
    candidate with its docked pose in 3D. Substructure search needs `molgen serve`."""
    from molgen.web.report import ReportError, write_report

    campaign = load_campaign_file(campaign_file)
    store = open_store(campaign, campaign_file)
    try:
        index = write_report(store, campaign.name, out, n)
    except ReportError as err:
        raise fail(f"--out: {err}") from err
    finally:
        store.close()
    console.print(f"wrote {index}", markup=False)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("report")(report)
