"""What every ``molgen`` command shares: the consoles, the error exit and the log set-up."""

from __future__ import annotations

import logging

import typer
from rich.console import Console
from rich.logging import RichHandler

console = Console()
"""Results (tables, summaries) go to stdout."""

err_console = Console(stderr=True)
"""Errors, logs and progress go to stderr, so stdout stays parseable (``--format csv``)."""


def fail(message: str) -> typer.Exit:
    """Print ``error: message`` to stderr and return the exit (status 2) for the caller to raise:
    ``raise fail("...") from err``."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code=2)


def configure_logging(verbose: bool = False) -> None:
    """Log to stderr through rich: INFO (DEBUG with ``verbose``), without httpx's line per
    Prefect API call."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=err_console, show_path=False)],
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
