"""What every ``molgen`` command shares: the consoles, the error exit, the log set-up, and the
rules for showing values and for opening a campaign's store.

**Strings are data, not markup.** SMILES (``Cc1ccc[nH]1``, ``F/C=C/F`` whose SELFIES holds
``[/C]``), rejection reasons, names and paths are printed as they are: both consoles are made
with ``markup=False`` and ``highlight=False``, so no string is read as a rich style tag
(``[nH]``) or coloured by guesswork, in ``print`` calls, table cells and titles alike. Styles
are given explicitly (``style=``, :class:`rich.text.Text`), never written into strings. Printed
lines are not broken at the console's width (``soft_wrap``; tables still fit it), so a path or
SMILES in a message stays whole for copying.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.text import Text

if TYPE_CHECKING:
    from molgen.config import Campaign
    from molgen.store import CandidateStore

console = Console(markup=False, highlight=False, soft_wrap=True)
"""Results (tables, summaries) go to stdout."""

err_console = Console(stderr=True, markup=False, highlight=False, soft_wrap=True)
"""Errors, logs and progress go to stderr, so stdout stays parseable (``--format csv``)."""

MISSING = "—"
"""How a missing value (not docked, not predicted) reads in tables and picture labels."""

DIGITS = 4
"""Tables and CSV show values to this many significant digits (whole numbers from 10,000)."""


def fail(message: str) -> typer.Exit:
    """Print ``error: message`` to stderr and return the exit (status 2) for the caller to raise:
    ``raise fail("...") from err``. The message is printed as it is (no markup)."""
    err_console.print(Text.assemble(("error:", "bold red"), " ", message))
    return typer.Exit(code=2)


def load(path: Path) -> Campaign:
    """The campaign file ``path``, validated; a bad file is :func:`fail` (status 2)."""
    from molgen.config import CampaignError, load_campaign

    try:
        return load_campaign(path)
    except CampaignError as err:
        raise fail(str(err)) from err


def missing_sqlite_file(url: str) -> str | None:
    """The file of a SQLite store URL when it does not exist (opening it would create it)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        if not Path(parsed.database).exists():
            return parsed.database
    return None


def open_store(campaign: Campaign, campaign_file: Path) -> CandidateStore:
    """The campaign's store, for reading; never creates one.

    Raises:
        typer.Exit: (status 2) when the campaign has not run yet: its SQLite file does not
            exist, or the store holds no campaign of that name.
    """
    from sqlalchemy.engine import make_url

    from molgen.store import CandidateStore, StoreError

    url = make_url(campaign.store_url)
    not_run = f"campaign {campaign.name} has not run yet"
    hint = f"run `molgen run {campaign_file}` first"
    missing = missing_sqlite_file(campaign.store_url)
    if missing:
        raise fail(f"{not_run} (no store at {missing}): {hint}")
    try:
        store = CandidateStore(campaign.store_url)
    except StoreError as err:
        raise fail(str(err)) from err
    if not store.has_campaign(campaign.name):
        store.close()
        raise fail(f"{not_run} (the store at {url.render_as_string()} does not hold it): {hint}")
    return store


def number(value: float | None, digits: int = DIGITS) -> str | None:
    """``value`` rounded to ``digits`` significant digits, without an exponent from
    ``10**digits`` up (``12345.6`` -> ``"12346"``); None when it is missing (None or NaN)."""
    if value is None or math.isnan(value):
        return None
    if abs(value) >= 10**digits:
        return f"{value:.0f}"
    return f"{value:.{digits}g}"


class _HideFinishedTasks(logging.Filter):
    """Drops Prefect's per-task "Finished in state Completed()" lines (failures still show)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or not str(record.msg).startswith(
            "Finished in state"
        )


_HIDE_FINISHED = _HideFinishedTasks()


def configure_logging(verbose: bool = False) -> None:
    """Log to stderr through rich: INFO (DEBUG with ``verbose``), without httpx's line per
    Prefect API call, and without Prefect's "Finished in state Completed()" line per task
    unless ``verbose``.

    The filter sits on Prefect's task-run logger itself, so it holds whichever handler
    prints the record and survives Prefect's own logging set-up (which keeps logger filters).
    """
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=err_console, show_path=False)],
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    task_runs = logging.getLogger("prefect.task_runs")
    task_runs.removeFilter(_HIDE_FINISHED)
    if not verbose:
        task_runs.addFilter(_HIDE_FINISHED)
