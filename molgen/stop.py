"""Stopping a campaign cleanly on request (the first Ctrl-C or SIGTERM).

A request is a process-wide flag (this module imports nothing from molgen). The stages look
at it at their safe points: after each checkpointed batch
(:func:`molgen.artifacts.run_batched`), after each docked ligand is committed to the cache, and
before a stage starts. There they raise :class:`StopRequested`,
which leaves everything finished on disk and in the store, so ``molgen run`` resumes there.
"""

from __future__ import annotations

import signal
import threading

_requested = threading.Event()
_signal: list[int] = []


class StopRequested(Exception):  # noqa: N818  (a request, not an error)
    """Raised at a safe point after a stop was requested.

    Attributes:
        where: the stage (``round-2/predict``) the run stopped in.
        signum: the signal that asked for the stop, if one did.
    """

    def __init__(self, where: str, signum: int | None) -> None:
        self.where = where
        self.signum = signum
        super().__init__(f"stopped on request in {where}")


def request_stop(signum: int | None = None) -> None:
    """Ask the running stages to stop at their next safe point."""
    if signum is not None and not _signal:
        _signal.append(signum)
    _requested.set()


def stop_requested() -> bool:
    return _requested.is_set()


def clear() -> None:
    """Forget a request (for a process that runs several campaigns)."""
    _requested.clear()
    _signal.clear()


def check(where: str) -> None:
    """Raise :class:`StopRequested` naming ``where`` if a stop was requested.

    Raises:
        StopRequested: a stop was requested.
    """
    if _requested.is_set():
        raise StopRequested(where, _signal[0] if _signal else None)


def exit_status(signum: int | None) -> int:
    """The shell's status for a process ended by ``signum`` (130 for SIGINT, 143 for SIGTERM)."""
    return 128 + int(signum or signal.SIGINT)
