"""Helpers shared by the integration tests (imported by name: pytest puts this folder on
``sys.path``)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from molgen.config import load_campaign
from molgen.store import CandidateStore

PLUGINS = Path(__file__).parents[1] / "data" / "plugins"


def free_port() -> int:
    """A TCP port free on the loopback address right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def campaign_store(path: Path) -> Iterator[tuple[str, CandidateStore]]:
    """The campaign name of the file ``path`` and its store, closed afterwards."""
    campaign = load_campaign(path)
    store = CandidateStore(campaign.store_url)
    try:
        yield campaign.name, store
    finally:
        store.close()


def store_top(path: Path) -> list[dict[str, Any]]:
    """The ranked candidates of the campaign file ``path``, read from its store."""
    with campaign_store(path) as (name, store):
        return store.top(name)


def start_run(path: Path, api_url: str | None, output: int | None = None) -> subprocess.Popen:
    """``molgen run path`` in its own session and process group (like a job in a terminal),
    with the test plug-ins importable; ``api_url`` None lets it start its own Prefect server;
    its output goes to ``output`` (``subprocess.PIPE`` for text) or nowhere."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    if api_url:
        env["PREFECT_API_URL"] = api_url
    env["PYTHONPATH"] = os.pathsep.join([str(PLUGINS), env.get("PYTHONPATH", "")])
    return subprocess.Popen(
        [sys.executable, "-m", "molgen", "run", str(path)],
        env=env,
        stdout=output if output is not None else subprocess.DEVNULL,
        stderr=subprocess.STDOUT if output is not None else subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )


def kill_run_when(path: Path, folder: Path, pattern: str, api_url: str, what: str) -> None:
    """Run ``molgen run path`` in its own process group and SIGKILL the group as soon as a file
    matching ``pattern`` exists under ``folder`` (``what`` names that moment in errors)."""
    proc = start_run(path, api_url)
    deadline = time.monotonic() + 240
    try:
        while not any(folder.rglob(pattern)):
            assert proc.poll() is None, f"run ended before {what}"
            assert time.monotonic() < deadline, f"{what} never came"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
