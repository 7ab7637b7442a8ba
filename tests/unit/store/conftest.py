"""The store's tests run on each backend: SQLite, and a private PostgreSQL server."""

from __future__ import annotations

import pytest

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """The URL of a new, empty store on each backend (a new database on PostgreSQL)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 's.sqlite'}"
    return request.getfixturevalue("postgres").create_database()
