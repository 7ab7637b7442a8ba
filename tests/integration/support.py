"""Helpers shared by the integration tests (imported by name: pytest puts this folder on
``sys.path``)."""

from __future__ import annotations

import os
import signal
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


def kill_run_when(path: Path, folder: Path, pattern: str, api_url: str, what: str) -> None:
    """Run ``molgen run path`` in its own process group and SIGKILL the group as soon as a file
    matching ``pattern`` exists under ``folder`` (``what`` names that moment in errors)."""
    env = {**os.environ, "PREFECT_API_URL": api_url}
    env["PYTHONPATH"] = os.pathsep.join([str(PLUGINS), env.get("PYTHONPATH", "")])
    proc = subprocess.Popen(
        [sys.executable, "-m", "molgen", "run", str(path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 240
    try:
        while not any(folder.rglob(pattern)):
            assert proc.poll() is None, f"run ended before {what}"
            assert time.monotonic() < deadline, f"{what} never came"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
