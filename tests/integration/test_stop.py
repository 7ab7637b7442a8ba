"""Ctrl-C, SIGTERM and kill -9 of `molgen run`: a clean stop after the batch in hand, one line
saying where and how to resume, and no process left behind (its own temporary Prefect server
included)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
from support import start_run

from molgen.config import load_campaign

pytestmark = pytest.mark.integration


def _processes_of_run(sid: int, server_parent: int) -> list[str]:
    """Processes still in the run's session, and molgen servers started by it."""
    left = []
    for p in psutil.process_iter(["pid", "cmdline"]):
        cmd = " ".join(p.info["cmdline"] or [])
        try:
            in_session = os.getsid(p.pid) == sid
        except OSError:
            continue
        if in_session or f"molgen.prefect_server {server_parent} " in cmd:
            left.append(f"{p.pid}: {cmd[:120]}")
    return left


def _wait_gone(sid: int, pid: int, seconds: float) -> list[str]:
    deadline = time.monotonic() + seconds
    while (left := _processes_of_run(sid, pid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


SLOW = pytest.mark.slow  # each starts molgen's own Prefect server: half a minute or more


@pytest.mark.parametrize(
    ("signals", "status"),
    [
        pytest.param(["SIGINT"], 130, id="ctrl-c"),
        pytest.param(["SIGTERM"], 143, id="sigterm", marks=SLOW),
        pytest.param(["SIGINT", "SIGINT"], 130, id="ctrl-c-twice", marks=SLOW),
        pytest.param(["SIGKILL"], -9, id="kill-9", marks=SLOW),
    ],
)
def test_a_signal_stops_the_run_cleanly(prefect_api, write_campaign, signals, status):
    path = write_campaign(slow=True, rounds=2, n=40)
    out = load_campaign(path).output
    proc = start_run(path, None, subprocess.PIPE)  # no API URL: molgen's own server
    parts = out / "round-1" / "predict" / "parts"
    deadline = time.monotonic() + 240
    while not any(parts.rglob("batch-00000.parquet")):
        assert proc.poll() is None, proc.communicate()[0][-3000:]
        assert time.monotonic() < deadline, "the predict stage never started"
        time.sleep(0.05)
    sent = time.monotonic()
    for name in signals:
        if name == "SIGINT":  # what a terminal's Ctrl-C does: the whole foreground group
            os.killpg(proc.pid, signal.SIGINT)
        else:
            os.kill(proc.pid, getattr(signal, name))
        time.sleep(0.2)
    output = proc.communicate(timeout=120)[0]
    seconds = time.monotonic() - sent
    assert proc.returncode == status, output[-3000:]
    assert not _wait_gone(proc.pid, proc.pid, 10), "processes left behind"
    if len(signals) == 2 or signals == ["SIGKILL"]:
        assert seconds < 5  # at once
        return
    assert seconds < 30, output[-3000:]
    stopped = [line for line in output.splitlines() if line.startswith("stopped in")]
    assert stopped == [
        f"stopped in round-1/predict; finished work is saved: run `molgen run {path}` to resume"
    ]
    assert "Traceback" not in output
    assert any(parts.rglob("batch-*.parquet"))  # the finished batches were kept

    from flows.campaign import campaign_flow

    status_of = {(r["round"], r["stage"]): r["status"] for r in campaign_flow(str(path))}
    assert status_of[(1, "predict")] == "resumed" and status_of[(1, "generate")] == "skipped"


def test_the_temporary_server_ends_with_its_parent():
    """A parent that dies by kill -9 takes its server with it within seconds."""
    script = (
        "import time\n"
        "from molgen.prefect_server import temporary_server\n"
        "with temporary_server() as url:\n"
        "    print(url, flush=True)\n"
        "    time.sleep(600)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    proc = subprocess.Popen(
        [sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True
    )
    url = proc.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:")
    servers = [
        p for p in psutil.Process(proc.pid).children() if "prefect_server" in " ".join(p.cmdline())
    ]
    assert len(servers) == 1
    proc.kill()
    proc.wait()
    gone, alive = psutil.wait_procs(servers, timeout=5)
    assert not alive, "the server outlived its parent"
