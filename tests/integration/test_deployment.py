"""Scheduled campaigns on a real Prefect server (on PostgreSQL) and worker: `molgen deploy` with
an interval schedule on a `process` work pool; two scheduled runs each grow the campaign by one
round."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from support import campaign_store, free_port

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the Prefect server exited"
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"Prefect server at {url} not healthy after {timeout} s")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)  # the worker ignores SIGTERM for a while
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _prefect_database(postgres) -> str:
    """A database for Prefect's server on the tests' PostgreSQL server (with the pg_trgm
    extension Prefect's migrations need), as an asyncpg URL."""
    import psycopg

    postgres.create_database("prefect_worker_test")
    with psycopg.connect(
        host=str(postgres.socket_dir),
        port=postgres.port,
        user="molgen",
        dbname="prefect_worker_test",
        autocommit=True,
    ) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    return f"postgresql+asyncpg://molgen@127.0.0.1:{postgres.port}/prefect_worker_test"


@pytest.fixture
def prefect_server(tmp_path, postgres):
    """A Prefect server on a free loopback port with its own home, its database on PostgreSQL;
    yields the environment that reaches it."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env |= {
        "PREFECT_API_DATABASE_CONNECTION_URL": _prefect_database(postgres),
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "5",
        "PREFECT_WORKER_QUERY_SECONDS": "2",
        "PREFECT_WORKER_PREFETCH_SECONDS": "2",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_healthy(env["PREFECT_API_URL"], server)
        yield env
    finally:
        _stop(server)


@contextmanager
def _client(env: dict[str, str]) -> Iterator[Any]:
    """A Prefect client of the server in ``env`` (the session's test server may be this
    process's Prefect default)."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with (
        temporary_settings({PREFECT_API_URL: env["PREFECT_API_URL"]}),
        get_client(sync_client=True) as client,
    ):
        yield client


def _completed_runs(env, deployment_id):
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    with _client(env) as client:
        return client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.COMPLETED]))
            ),
        )


@pytest.mark.slow  # a server, a worker and two scheduled runs: over a minute
def test_two_scheduled_runs_on_a_process_worker_grow_the_campaign_by_two_rounds(
    prefect_server, write_campaign, tmp_path
):
    env = prefect_server
    path = write_campaign(name="nightly", rounds=4, n=20, batch=10)
    subprocess.run(
        [str(BIN / "prefect"), "work-pool", "create", "night-pool", "--type", "process"],
        env=env,
        check=True,
        capture_output=True,
    )
    deployed = subprocess.run(
        [sys.executable, "-m", "molgen", "deploy", str(path), "--pool", "night-pool"]
        + ["--interval", "15s", "--rounds-per-run", "1"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert deployed.returncode == 0, deployed.stderr + deployed.stdout
    assert "deployed molgen-campaign/nightly" in deployed.stdout

    with _client(env) as client:
        deployment = client.read_deployment_by_name("molgen-campaign/nightly")
    assert deployment.parameters == {"campaign_file": str(path), "rounds_per_run": 1}
    assert deployment.global_concurrency_limit.limit == 1
    assert deployment.concurrency_options.collision_strategy == "ENQUEUE"

    worker = subprocess.Popen(
        [str(BIN / "prefect"), "worker", "start", "--pool", "night-pool"],
        env=env,
        cwd=tmp_path,
        stdout=(tmp_path / "worker.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 400
        while len(_completed_runs(env, deployment.id)) < 2:
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-3000:]
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()[-3000:]
            time.sleep(2)
        with _client(env) as client:
            client.pause_deployment(deployment.id)
    finally:
        _stop(worker)

    runs = _completed_runs(env, deployment.id)
    out = path.parent / "out"
    done_rounds = sorted(
        int(p.parent.parent.name.removeprefix("round-"))
        for p in out.glob("round-*/update/manifest.json")
    )
    # each completed run added exactly one round, from where the last one stopped
    assert done_rounds == list(range(1, len(runs) + 1)) and len(runs) >= 2

    with campaign_store(path) as (name, store):
        top = store.top(name)
    keys = [r["inchikey"] for r in top]
    assert keys and len(keys) == len(set(keys))
    assert {r["round"] for r in top} <= set(done_rounds)

    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with _client(env) as client:
        for run in runs[:2]:
            only = FlowRunFilter(id=FlowRunFilterId(any_=[run.id]))
            tasks = client.read_task_runs(flow_run_filter=only)
            assert {"seeds", "generate", "store"} <= {t.name.split("-")[0] for t in tasks}
            artifacts = client.read_artifacts(flow_run_filter=only)
            assert any(a.key and a.key.startswith("nightly-round-") for a in artifacts)


HOLD = """
import sys, time
from sqlalchemy import create_engine
from molgen.store.lock import CampaignLock
CampaignLock(create_engine(sys.argv[1]), sys.argv[2]).acquire()
print("held", flush=True)
time.sleep(600)
"""


def test_a_second_run_of_a_running_campaign_exits_naming_the_holder(prefect_api, write_campaign):
    from molgen.config import load_campaign

    path = write_campaign(name="busy", rounds=1, n=10)
    campaign = load_campaign(path)
    campaign.output.mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, campaign.store_url, "busy"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        env = {**os.environ, "PREFECT_API_URL": prefect_api}
        done = subprocess.run(
            [sys.executable, "-m", "molgen", "run", str(path)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        holder.kill()
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"campaign 'busy' is running: process {holder.pid} on {socket.gethostname()}" in (
        done.stderr
    )
    assert "Traceback" not in done.stderr
    assert not (campaign.output / "round-1").exists()
