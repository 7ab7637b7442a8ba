"""Shared fixtures. Prefect is configured for offline, slow-starting test machines."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from postgres import FAST, Server, postgres_server, unavailable

DATA = Path(__file__).parent / "data"
sys.path.insert(0, str(DATA / "plugins"))
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:
        has_cuda = False
    skip = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "gpu" in item.keywords and not has_cuda:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def postgres() -> Iterator[Server]:
    """A private PostgreSQL server for the session (see ``tests/postgres.py``); skipped, with
    the reason, where its binaries are missing. ``postgres.create_database()`` gives a test its
    own database."""
    reason = unavailable()
    if reason is not None:
        pytest.skip(reason)
    with postgres_server(FAST) as server:
        yield server


@pytest.fixture(scope="session")
def postgres_url(postgres: Server) -> str:
    """The SQLAlchemy URL of a database on the session's PostgreSQL server, shared by the
    session's tests (a test that needs an empty one calls ``postgres.create_database()``)."""
    return postgres.create_database("molgen_test")
