"""A campaign whose stages run as SLURM jobs, on the private one-node cluster of
``tests/slurm.py`` (one fake GPU): docking chunks run in CPU jobs, the graph-network
predictor's batches in GPU jobs (``--gres=gpu:1``), SLURM's own accounting says so, and the
candidates equal those of the same campaign run in one process. A worker job cancelled in the
middle of a stage loses only its unfinished batches; the flow run as a SLURM job stops cleanly
on SIGTERM and resumes when submitted again.

Run with ``pytest -m slurm``; skipped where the cluster cannot start (Debian ``slurm-wlm`` and
``munge`` missing, not root).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from slurm import Cluster, slurm_cluster, unavailable
from support import PLUGINS, campaign_store, start_run

pytestmark = [pytest.mark.slurm, pytest.mark.integration]

CLUSTER = """
[cluster]
kind = "slurm"
partition = "{partition}"
cores = 1
memory = "1GB"
gpus = 1
gpu_cores = 1
gpu_memory = "2GB"
max_jobs = 2
max_gpu_jobs = 1
walltime = "00:20:00"
"""


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    reason = unavailable()
    if reason is not None:
        pytest.skip(reason)
    with slurm_cluster(gpus=1, export_env=True) as running:
        yield running


def _campaign(write_campaign, folder: str, extra: str) -> Path:
    return write_campaign(
        name="hpc",
        rounds=1,
        n=30,
        dock=4,
        folder=folder,
        extra_predictors=('"solubility"',),
        extra=extra,
    )


def _candidates(path: Path) -> list[tuple[str, float, float | None]]:
    with campaign_store(path) as (name, store):
        rows = store.top(name)
    return [
        (
            r["inchikey"],
            round(r["score"], 9),
            (r["objectives"].get("docking_score") or {}).get("value"),
        )
        for r in rows
    ]


def test_stages_run_as_slurm_jobs_and_give_the_local_candidates(
    cluster: Cluster, prefect_api, write_campaign
) -> None:
    from flows.campaign import campaign_flow

    local = _campaign(write_campaign, "local", "")
    campaign_flow(str(local))
    on_slurm = _campaign(write_campaign, "slurm", CLUSTER.format(partition=cluster.partition))
    before = {j["job_id"] for j in cluster.accounting()}
    campaign_flow(str(on_slurm))

    assert _candidates(on_slurm) == _candidates(local)
    docked = [c for c in _candidates(on_slurm) if c[2] is not None]
    assert len(docked) == 4

    cluster.wait_idle(60)  # the flow closed its clusters: their jobs end and are accounted
    jobs = [
        j
        for j in cluster.accounting()
        if j["job_id"] not in before and j["name"].startswith("molgen-hpc-")
    ]
    cpu = [j for j in jobs if j["name"] == "molgen-hpc-cpu"]
    gpu = [j for j in jobs if j["name"] == "molgen-hpc-gpu"]
    assert cpu and gpu, jobs
    assert all(j["gpus"] == 0 and j["cpus"] == 1 for j in cpu)
    assert all(j["gpus"] == 1 and j["cpus"] == 1 for j in gpu)
    assert all(j["partition"] == cluster.partition for j in jobs)


PAUSE = '{ kind = "slow_plugin:Pause", params = { seconds = 1.5 } }'


def _parts(path: Path) -> dict[str, int]:
    """The predict stage's finished batch files of round 1, with their modification times."""
    out = path.parent / "out" / "round-1" / "predict"
    return {p.name: p.stat().st_mtime_ns for p in out.rglob("batch-*.parquet")}


def _wait(condition, what: str, timeout: float = 240.0, proc=None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the run ended before {what}:\n{proc.stdout.read()}")
        assert time.monotonic() < deadline, f"{what} never came"
        time.sleep(0.1)


def test_a_cancelled_worker_job_loses_only_its_unfinished_batches(
    cluster: Cluster, prefect_api, write_campaign
) -> None:
    """scancel of the GPU job in the middle of the predict stage: the batches saved before stay
    as they were, the stage's other batches run on a new job, and the candidates are those of
    the campaign run in one process."""
    from flows.campaign import campaign_flow

    kw = {"name": "preempt", "rounds": 1, "n": 40, "batch": 5}
    predictors = ('"solubility"', PAUSE)
    local = write_campaign(folder="local", extra_predictors=predictors, **kw)
    campaign_flow(str(local))
    extra = CLUSTER.format(partition=cluster.partition)
    path = write_campaign(folder="slurm", extra_predictors=predictors, extra=extra, **kw)
    before = {j["job_id"] for j in cluster.accounting()}
    proc = start_run(path, prefect_api, subprocess.PIPE)
    try:
        _wait(lambda: len(_parts(path)) >= 2, "two saved batches", proc=proc)
        saved = _parts(path)
        running = cluster.run(["squeue", "-h", "-n", "molgen-preempt-gpu", "-o", "%i"]).split()
        assert running, "no GPU job is running"
        cluster.run(["scancel", *running])
        output, _ = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, output
    after = _parts(path)  # the stage finished: its parts were merged and removed
    assert not after or all(after.get(k) == t for k, t in saved.items())
    assert [c[:2] for c in _candidates(path)] == [c[:2] for c in _candidates(local)]
    cluster.wait_idle(60)
    gpu = [
        j
        for j in cluster.accounting()
        if j["job_id"] not in before and j["name"] == "molgen-preempt-gpu"
    ]
    assert len(gpu) >= 2 and any(j["job_id"] in running for j in gpu), gpu


def test_sigterm_to_the_flow_job_saves_and_a_resubmitted_job_resumes(
    cluster: Cluster, prefect_api, write_campaign, tmp_path
) -> None:
    """The flow itself as a SLURM job: SIGTERM (what ``--signal=B:TERM@<s>`` sends before the
    walltime, here from scancel) stops it at the next batch with its batches saved and a clean
    exit; the same job submitted again resumes the stage and ends with the candidates of an
    uninterrupted run."""
    from flows.campaign import campaign_flow

    kw = {"name": "walltime", "rounds": 1, "n": 40, "batch": 5}
    predictors = (PAUSE,)
    reference = write_campaign(folder="reference", extra_predictors=predictors, **kw)
    campaign_flow(str(reference))
    path = write_campaign(folder="job", extra_predictors=predictors, **kw)
    script = tmp_path / "campaign.sh"
    script.write_text(
        "#!/bin/bash\n"
        f"export PYTHONPATH={PLUGINS}\n"
        f"export PREFECT_API_URL={prefect_api}\n"
        f"exec {sys.executable} -m molgen run {path}\n"
    )
    submit = ["-J", "molgen-flow", "-c", "1", "--mem=2G", "-o", str(tmp_path / "job-%j.out")]
    first = cluster.submit([*submit, str(script)])
    _wait(lambda: len(_parts(path)) >= 2, "two saved batches")
    cluster.run(["scancel", "--signal=TERM", "--full", first])
    ended = cluster.wait_job(first, timeout=120)
    log = (tmp_path / f"job-{first}.out").read_text()
    assert ended["exit_code"] == "143:0", log  # stopped on SIGTERM, after saving
    saved = _parts(path)
    assert saved and not (path.parent / "out" / "round-1" / "predict" / "manifest.json").exists()

    second = cluster.submit([*submit, str(script)])
    resumed = cluster.wait_job(second, timeout=300)
    log = (tmp_path / f"job-{second}.out").read_text()
    assert resumed["state"] == "COMPLETED", log
    assert "resumed" in log
    assert _candidates(path) == _candidates(reference)
