"""The private one-node SLURM cluster of ``tests/slurm.py``, and dask-jobqueue on it.

Checks what molgen's SLURM support relies on: a batch job asking for a GPU is scheduled, sees
``CUDA_VISIBLE_DEVICES`` and is accounted with its CPUs, memory and GRES; and dask-jobqueue's
``SLURMCluster`` starts CPU and GPU workers as SLURM jobs, sends a task that needs ``GPU`` only to
a GPU worker, and its worker jobs are accounted once the clusters close.

Run with ``pytest -m slurm``; skipped where :func:`tests.slurm.unavailable` gives a reason
(Debian ``slurm-wlm`` and ``munge`` missing, not root).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slurm import Cluster, slurm_cluster, unavailable  # tests/ is on sys.path (its conftest)

pytestmark = pytest.mark.slurm


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """One private cluster (one fake GPU) for the module."""
    reason = unavailable()
    if reason is not None:
        pytest.skip(reason)
    with slurm_cluster(gpus=1) as running:
        yield running


def test_gpu_batch_job_is_scheduled_and_accounted(cluster: Cluster, tmp_path: Path) -> None:
    out = tmp_path / "job.out"
    job_id = cluster.submit(
        [
            "--gres=gpu:1", "-c", "1", "--mem=100M", "-J", "gpu-probe", "-o", str(out),
            "--chdir", str(tmp_path), "--wrap", "echo CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES",
        ]
    )  # fmt: skip

    job = cluster.wait_job(job_id)

    assert out.read_text().strip() == "CUDA_VISIBLE_DEVICES=0"
    assert job["name"] == "gpu-probe"
    assert job["state"] == "COMPLETED", job
    assert job["exit_code"] == "0:0"
    assert (job["cpus"], job["mem_mb"], job["gpus"]) == (1, 100, 1)
    assert job["gres"] == "gres:gpu:1"
    assert {"cpu=1", "mem=100M", "gres/gpu=1"} <= set(job["tres"].split(","))
    assert job["partition"] == cluster.partition
    assert job["node_list"] == cluster.node


def test_export_env_sets_and_restores_slurm_conf(cluster: Cluster) -> None:
    """A second cluster beside the module's; ``export_env`` makes bare SLURM commands find it."""
    before = os.environ.get("SLURM_CONF")
    with slurm_cluster(gpus=0, export_env=True) as other:
        assert os.environ["SLURM_CONF"] == str(other.conf) != str(cluster.conf)
        out = subprocess.run(
            ["sinfo", "-h", "-o", "%P %G"], capture_output=True, text=True, check=True
        ).stdout
        assert out.split() == [f"{other.partition}*", "(null)"]
    assert os.environ.get("SLURM_CONF") == before
    assert cluster.node_state() == "idle"


def test_dask_jobqueue_gpu_task_runs_on_gpu_worker(
    cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dask_jobqueue = pytest.importorskip("dask_jobqueue")
    from dask.distributed import Client

    # dask-jobqueue runs sbatch/squeue/scancel with the inherited environment
    monkeypatch.setenv("SLURM_CONF", str(cluster.conf))
    common: dict[str, Any] = {
        "cores": 1,
        "processes": 1,
        "memory": "1GB",
        "queue": cluster.partition,
        "interface": "lo",
        "walltime": "00:10:00",
        "log_directory": str(tmp_path),  # else slurm-<id>.out lands in the working directory
        "scheduler_options": {"dashboard_address": ":0"},
    }

    def where() -> dict[str, str | None]:
        """Run in a worker: the SLURM job and the GPUs it sees."""
        import os

        return {k: os.environ.get(k) for k in ("SLURM_JOB_ID", "CUDA_VISIBLE_DEVICES")}

    started = time.monotonic()
    with (
        dask_jobqueue.SLURMCluster(job_name="cpu-worker", **common) as cpu,
        dask_jobqueue.SLURMCluster(
            job_name="gpu-worker",
            job_extra_directives=["--gres=gpu:1"],
            worker_extra_args=["--resources", "GPU=1"],
            **common,
        ) as gpu,
    ):
        cpu.scale(1)
        gpu.scale(1)
        with Client(cpu) as cpu_client, Client(gpu) as gpu_client:
            cpu_client.wait_for_workers(1, timeout=60)
            gpu_client.wait_for_workers(1, timeout=60)
            jobs = {
                kind: [w.job_id for w in c.workers.values()]
                for kind, c in (("cpu", cpu), ("gpu", gpu))
            }
            on_gpu = gpu_client.submit(where, resources={"GPU": 1}, pure=False).result(60)
            on_cpu = cpu_client.submit(where, pure=False).result(60)
            # no worker of the CPU cluster offers GPU: such a task waits there
            stuck = cpu_client.submit(where, resources={"GPU": 1}, pure=False)
            time.sleep(0.5)
            assert stuck.status == "pending"
            stuck.cancel()
    print(f"dask workers up, tasks run, clusters closed in {time.monotonic() - started:.1f} s")

    assert [len(ids) for ids in jobs.values()] == [1, 1]
    assert on_gpu == {"SLURM_JOB_ID": jobs["gpu"][0], "CUDA_VISIBLE_DEVICES": "0"}
    assert on_cpu == {"SLURM_JOB_ID": jobs["cpu"][0], "CUDA_VISIBLE_DEVICES": None}

    gpu_job, cpu_job = cluster.wait_job(jobs["gpu"][0]), cluster.wait_job(jobs["cpu"][0])
    assert (gpu_job["name"], gpu_job["gpus"], gpu_job["gres"]) == ("gpu-worker", 1, "gres:gpu:1")
    assert (cpu_job["name"], cpu_job["gpus"], cpu_job["gres"]) == ("cpu-worker", 0, "")
    for job in (gpu_job, cpu_job):
        assert job["state"] in {"CANCELLED", "COMPLETED"}, job  # scancel'd by close()
        assert (job["cpus"], job["mem_mb"]) == (1, 954), job  # memory="1GB" -> --mem=954M
        assert job["start"] is not None
    cluster.wait_idle()
