"""Only I/O-bound tasks retry: the store task, on a store or file-system failure; no stage that
computes chemistry, and never a stop request."""

from __future__ import annotations

from prefect.states import Failed
from sqlalchemy.exc import OperationalError

import flows.campaign as flow
from molgen.stop import StopRequested
from molgen.store import StoreError

CHEMISTRY = ("seeds", "generate", "prepare", "predict", "filter", "dock", "score", "update")


def test_only_the_store_task_retries():
    assert flow.store_task.retries == 2
    for name in CHEMISTRY:
        assert getattr(flow, f"{name}_task").retries == 0, name


def test_the_store_task_retries_io_failures_only():
    def retried(exc: BaseException) -> bool:
        return flow._io_failure(None, None, Failed(data=exc))

    assert retried(OSError("disk full"))
    assert retried(StoreError("cannot open store"))
    assert retried(OperationalError("INSERT", {}, Exception("server closed the connection")))
    assert not retried(StopRequested("round-1/store", 2))
    assert not retried(ValueError("a bug"))
