"""A temporary Prefect server that never outlives the ``molgen`` process that started it.

Prefect starts its own temporary server when no ``PREFECT_API_URL`` is set, as a child in the
caller's process group: a Ctrl-C in the terminal kills it in the middle of the run, and a
``kill -9`` of the caller leaves it running. ``molgen run`` starts this one instead: the same
server (Prefect's API app under uvicorn, UI off, on a free loopback port), in a session of its
own so that the terminal's signals do not reach it, watching its parent and exiting within a
second of the parent's end, however the parent ended.

Run as ``python -m molgen.prefect_server PARENT_PID PORT``; use :func:`temporary_server`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from molgen.prefect_env import configure_prefect_defaults


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def temporary_server(timeout_s: float | None = None) -> Iterator[str]:
    """Start the server, yield its API URL, stop it on leaving (or when this process dies).

    Raises:
        RuntimeError: the server did not answer within ``timeout_s`` (default: Prefect's
            ``PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS``); the message holds its output.
    """
    import httpx

    configure_prefect_defaults()
    timeout_s = timeout_s or float(os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"])
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    proc = subprocess.Popen(
        [sys.executable, "-m", "molgen.prefect_server", str(os.getpid()), str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                raise RuntimeError(f"the Prefect server exited ({proc.returncode}): {out[-2000:]}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Prefect server did not answer at {url} in {timeout_s} s")
            time.sleep(0.2)
        yield url
    finally:
        stop_server(proc)


def stop_server(proc: subprocess.Popen) -> None:
    """Stop the server process (terminate, then kill after 5 s)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)  # the parent is gone: so is its server


def main(parent: int, port: int) -> None:
    """Serve Prefect's API on ``port`` until ``parent`` ends or SIGTERM arrives."""
    os.environ.update(
        {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
    )
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    # a parent that holds SIGTERM (molgen run) passed its blocked mask on
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    import uvicorn

    uvicorn.run(
        "prefect.server.api.server:create_app",
        factory=True,
        host="127.0.0.1",
        port=port,
        log_level="error",
        lifespan="on",
    )


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
