"""What ``molgen run`` does around the flow: checks before Prefect starts, its own temporary
Prefect server, and a clean stop on Ctrl-C or SIGTERM.

- **Checks first.** Every component is resolved and its parameters validated, the seed file,
  the generator's model and the docking target are loaded, before any server or flow starts:
  a user's mistake is one message and exit status 2.
- **Stopping.** The first SIGINT or SIGTERM asks the stages to stop at their next safe point
  (:mod:`molgen.stop`: after the batch in hand is checkpointed, after the docked ligand in hand
  is cached); the docking pool is stopped, one line says where the run stopped and how to
  resume, and the exit status is 130 (SIGINT) or 143 (SIGTERM). A second signal ends the run
  at once, killing every process it started.
- **Server.** With no ``PREFECT_API_URL`` set, the run uses :mod:`molgen.prefect_server`,
  which the terminal's Ctrl-C does not reach and which ends with this process however it ends.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from molgen import stop
from molgen.cli.common import err_console
from molgen.config import Campaign

T = TypeVar("T")


def preflight(campaign: Campaign) -> None:
    """Check everything that can be checked before the flow starts.

    Raises:
        CampaignError: naming the field and the reason (a component, its parameters, the seed
            file, the generator's model, the docking target or receptor PDB).
    """
    from molgen.chem.smiles_file import read_smiles
    from molgen.pipeline.components import (
        build_components,
        build_docking,
        build_generator,
        component_params,
        resolve_target,
        seeds_path,
    )
    from molgen.pipeline.output import check_output

    check_output(campaign)  # never write into a folder that is not this campaign's
    component_params(campaign)  # every component resolved, checked, its params validated
    build_components(campaign)  # predictors start; every objective has a value
    build_generator(campaign, read_smiles(seeds_path(campaign)))  # a seed file, a prior file
    if campaign.budget.dock_per_round or campaign.target.pdb is None:
        resolve_target(campaign)  # a bundled name; a user's PDB is prepared (and cached)
    if campaign.budget.dock_per_round:
        build_docking(campaign)


class _QuietStop(logging.Filter):
    """Drops Prefect's error records (tracebacks): the CLI prints one line itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < logging.ERROR or not record.name.startswith("prefect")


@contextlib.contextmanager
def quiet_prefect_errors(enabled: bool) -> Iterator[None]:
    """Without ``--debug``, Prefect's error records (tracebacks) are not printed."""
    handlers = [h for name in ("", "prefect") for h in logging.getLogger(name).handlers]
    handlers += [
        h
        for name, logger in logging.root.manager.loggerDict.items()
        if name.startswith("prefect") and isinstance(logger, logging.Logger)
        for h in logger.handlers
    ]
    quiet = _QuietStop()
    if enabled:
        for h in handlers:
            h.addFilter(quiet)
    try:
        yield
    finally:
        for h in handlers:
            h.removeFilter(quiet)


def _kill_children() -> None:
    """Kill every process this one started (docking workers, Dask, the server), at once."""
    import psutil

    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            child.kill()


SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})


def _on_signal(signum: int, count: int) -> None:
    """First signal: request a stop; second: kill the children and exit at once."""
    if count == 1:
        stop.request_stop(signum)
        err_console.print(
            f"{signal.Signals(signum).name}: stopping after the current batch is saved; "
            "send it again to exit at once",
            highlight=False,
            markup=False,
        )
        return
    _kill_children()
    os._exit(stop.exit_status(signum))


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Hold SIGINT and SIGTERM for :func:`call_in_thread` to take.

    The signals are blocked in this thread and so in every thread started inside (a C library
    may replace the process's SIGINT handler while it works: RDKit's substructure search installs
    its own Ctrl-C handler and swallows the signal); :func:`call_in_thread` takes them with
    ``sigtimedwait`` whatever handler is installed. Processes started inside unblock them
    (the docking workers' initializer, the temporary Prefect server).
    """
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    stop.clear()
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def call_in_thread(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a worker thread while this thread takes SIGINT and SIGTERM (held by
    :func:`stop_on_signals`) every 0.2 s: the first asks the stages to stop at their next safe
    point, the second ends the process at once.

    Raises:
        Whatever ``fn`` raised.
    """
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = fn(*args)
        except BaseException as err:  # handed to the caller below
            outcome["error"] = err

    context = contextvars.copy_context()  # Prefect's settings (the API URL) live in it
    worker = threading.Thread(target=context.run, args=(target,), name="molgen-flow", daemon=True)
    worker.start()
    received = 0
    while worker.is_alive():
        info = signal.sigtimedwait(SIGNALS, 0.2)
        if info is not None:
            received += 1
            _on_signal(info.si_signo, received)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@contextlib.contextmanager
def prefect_api() -> Iterator[None]:
    """The Prefect API for this run: ``PREFECT_API_URL`` if set, else a temporary server of
    molgen's own (:mod:`molgen.prefect_server`)."""
    if os.environ.get("PREFECT_API_URL"):
        yield
        return
    from molgen.prefect_server import temporary_server

    with temporary_server() as url:
        from prefect.settings import PREFECT_API_URL, temporary_settings

        os.environ["PREFECT_API_URL"] = url  # for processes this run starts (Dask workers)
        try:
            with temporary_settings(updates={PREFECT_API_URL: url}):
                try:
                    yield
                finally:
                    _drain_prefect()
        finally:
            os.environ.pop("PREFECT_API_URL", None)


def _drain_prefect(timeout_s: float = 10.0) -> None:
    """Send Prefect's queued logs and events while the server still runs (else they are
    retried against a stopped server at exit, for a minute)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        worker.drain_all(timeout=timeout_s)
