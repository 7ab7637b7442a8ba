"""A private PostgreSQL server for tests and benchmarks, from the Debian ``postgresql`` package.

:func:`postgres_server` runs ``initdb`` in a new temporary folder, starts the server with
``pg_ctl`` on a free loopback port and a unix socket in that folder, and stops it and removes
the folder when the ``with`` block ends. Nothing of the machine's own clusters is touched.

``initdb`` refuses to run as root: as root, every PostgreSQL command runs as an unprivileged
user (``nobody``, through ``runuser``) that owns the folder. When the binaries or ``runuser``
are missing, :func:`unavailable` says why, and the fixture skips with that reason.

Imported by ``tests/conftest.py`` and by ``benchmarks/store.py``; it needs only the standard
library and psycopg.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

BIN_DIRS = [Path(f"/usr/lib/postgresql/{v}/bin") for v in (15, 16, 17, 14, 13)]
RUN_AS = "nobody"
SUPERUSER = "molgen"
FAST = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
"""Settings for throwaway test clusters: no data survives a crash, and none needs to."""


def bin_dir() -> Path | None:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres``, or None."""
    env = os.environ.get("MOLGEN_PG_BIN")
    for d in [Path(env)] if env else BIN_DIRS:
        if all((d / b).is_file() for b in ("initdb", "pg_ctl", "postgres")):
            return d
    return None


def unavailable() -> str | None:
    """Why no private server can be started here, or None when one can."""
    if bin_dir() is None:
        return "PostgreSQL server binaries not found (Debian package `postgresql`)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root and `runuser` is missing (initdb refuses root)"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'psycopg[binary]>=3.2')"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running private server; :meth:`create_database` gives each user its own database."""

    folder: Path
    port: int
    databases: list[str] = field(default_factory=list)

    @property
    def socket_dir(self) -> Path:
        return self.folder / "socket"

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL for ``database`` through the server's unix socket."""
        return (
            f"postgresql+psycopg://{SUPERUSER}@/{database}?host={self.socket_dir}&port={self.port}"
        )

    def create_database(self, name: str | None = None) -> str:
        """Create a new empty database and return its SQLAlchemy URL."""
        import psycopg

        name = name or f"db{len(self.databases) + 1}"
        with psycopg.connect(
            host=str(self.socket_dir),
            port=self.port,
            user=SUPERUSER,
            dbname="postgres",
            autocommit=True,
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.databases.append(name)
        return self.url(name)


def _run(cmd: list[str], log: Path | None = None) -> None:
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", RUN_AS, "--", *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    if out.returncode != 0:
        tail = log.read_text()[-2000:] if log is not None and log.exists() else ""
        raise RuntimeError(
            f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stdout}{out.stderr}{tail}"
        )


@contextmanager
def postgres_server(settings: dict[str, str] | None = None) -> Iterator[Server]:
    """Start a private PostgreSQL server; stop it and delete its files on exit.

    Args:
        settings: server settings (``postgresql.conf`` names), e.g. :data:`FAST` for tests.

    Raises:
        RuntimeError: a PostgreSQL command failed; the message holds its output and log.
    """
    reason = unavailable()
    if reason is not None:
        raise RuntimeError(reason)
    binaries = bin_dir()
    assert binaries is not None
    # a short path: a unix socket's path must stay under ~100 characters
    folder = Path(tempfile.mkdtemp(prefix="molgen-pg-"))
    data, sock, log = folder / "data", folder / "socket", folder / "server.log"
    sock.mkdir()
    if os.geteuid() == 0:
        for path in (folder, sock):
            shutil.chown(path, RUN_AS)
    port = _free_port()
    options = {
        "port": str(port),
        "listen_addresses": "127.0.0.1",
        "unix_socket_directories": str(sock),
        **(settings or {}),
    }
    started = False
    try:
        _run(
            [
                str(binaries / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust",
                "-E", "UTF8", "--locale=C", "--no-sync",
            ]
        )  # fmt: skip
        conf = "".join(f"{k} = '{v}'\n" for k, v in options.items())
        with (data / "postgresql.conf").open("a") as f:
            f.write(conf)
        _run([str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "start"], log)
        started = True
        yield Server(folder, port)
    finally:
        if started:
            _run([str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"])
        shutil.rmtree(folder, ignore_errors=True)
