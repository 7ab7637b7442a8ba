"""molgen's base job template for a Prefect `kubernetes` work pool: a real Prefect server
accepts it, a deployment asks for a GPU through it, and the job manifest that
prefect-kubernetes renders for that deployment (offline, no cluster) carries the GPU limit."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from uuid import uuid4

import pytest

pytestmark = pytest.mark.integration
pytest.importorskip("prefect_kubernetes", reason="needs the kubernetes extra")


def _template() -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "molgen", "work-pool-template", "kubernetes"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def _render(template: dict, job_variables: dict):
    from prefect.client.schemas.objects import FlowRun
    from prefect_kubernetes.worker import KubernetesWorkerJobConfiguration

    config = asyncio.run(
        KubernetesWorkerJobConfiguration.from_template_and_values(template, job_variables)
    )
    config.prepare_for_flow_run(FlowRun(id=uuid4(), name="nightly-run", flow_id=uuid4()))
    return config.job_manifest["spec"]["template"]["spec"]


def test_a_deployment_asking_for_a_gpu_renders_a_job_with_the_gpu_limit(
    prefect_api, write_campaign, monkeypatch
):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate

    from molgen.deploy import deploy_campaign

    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    template = _template()
    with get_client(sync_client=True) as client:
        client.create_work_pool(
            WorkPoolCreate(name="gpu-k8s", type="kubernetes", base_job_template=template),
            overwrite=True,
        )
        stored = client.read_work_pool("gpu-k8s").base_job_template
    assert stored["variables"]["properties"]["gpus"]["default"] == 0

    path = write_campaign(name="k8s-nightly")
    volume = {"name": "campaigns", "persistentVolumeClaim": {"claimName": "molgen"}}
    mount = {"name": "campaigns", "mountPath": "/shared"}
    variables = {
        "image": "registry.example.org/molgen:0.1.0",
        "gpus": 1,
        "volumes": [volume],
        "volume_mounts": [mount],
    }
    done = deploy_campaign(path, "gpu-k8s", cron="0 22 * * *", job_variables=variables)
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment(done.id)
    assert deployment.job_variables == variables

    pod = _render(stored, deployment.job_variables)
    (container,) = pod["containers"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert container["image"] == "registry.example.org/molgen:0.1.0"
    assert container["resources"]["requests"] == {"cpu": "2", "memory": "8Gi"}
    assert pod["volumes"] == [volume] and container["volumeMounts"] == [mount]

    cpu_only = _render(stored, {"image": "molgen:cpu"})
    assert cpu_only["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 0


def test_the_server_refuses_job_variables_the_template_does_not_allow(
    prefect_api, write_campaign, monkeypatch
):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate

    from molgen.deploy import deploy_campaign

    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    with get_client(sync_client=True) as client:
        client.create_work_pool(
            WorkPoolCreate(name="gpu-k8s-2", type="kubernetes", base_job_template=_template()),
            overwrite=True,
        )
    path = write_campaign(name="k8s-bad")
    with pytest.raises(Exception, match="gpus"):
        deploy_campaign(path, "gpu-k8s-2", job_variables={"gpus": -1})
