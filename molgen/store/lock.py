"""One run of a campaign at a time: a lock row in the campaign's store.

The lock lives in the store because the store is what every run of a campaign shares: the
SQLite file beside the checkpoints, or the PostgreSQL database that many workers on many hosts
write to. Taking it is one atomic statement (an insert, or an update conditioned on the
holder read before), so two runs that start at the same moment cannot both hold it.

A holder refreshes ``heartbeat_at`` every :data:`HEARTBEAT_S` seconds from a background thread.
A lock is stale, and taken over by the next run, when its holder's process is gone (same host:
the process id no longer runs, or runs a process started after the lock) or when its heartbeat
is older than :data:`STALE_AFTER_S` (any host: a killed worker, a lost node).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from datetime import UTC, datetime
from typing import Any

import psutil
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from molgen.config import CampaignError
from molgen.store.liveness import Heartbeat, as_utc, create_tables, utc_now

log = logging.getLogger(__name__)

HEARTBEAT_S = 15.0
STALE_AFTER_S = 120.0

_metadata = MetaData()
LOCKS = Table(
    "campaign_locks",
    _metadata,
    Column("campaign", String(200), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("heartbeat_at", DateTime(timezone=True), nullable=False),
)


class CampaignLocked(CampaignError):
    """Another live run holds the campaign; the message names its host, process and start."""


def _process_gone(pid: int, started_at: datetime) -> bool:
    """Whether process ``pid`` of this host has ended (or the id now names a later process)."""
    try:
        created = datetime.fromtimestamp(psutil.Process(pid).create_time(), UTC)
    except psutil.NoSuchProcess:
        return True
    except psutil.Error:
        return False
    return created > started_at


class CampaignLock:
    """The lock of campaign ``campaign`` in the store at ``engine``; a context manager.

    Raises (on :meth:`acquire`):
        CampaignLocked: a live run holds it.
    """

    def __init__(
        self,
        engine: Engine,
        campaign: str,
        heartbeat_s: float = HEARTBEAT_S,
        stale_after_s: float = STALE_AFTER_S,
    ) -> None:
        self.engine, self.campaign = engine, campaign
        self.heartbeat_s, self.stale_after_s = heartbeat_s, stale_after_s
        self.holder = uuid.uuid4().hex
        self.host, self.pid = socket.gethostname(), os.getpid()
        self._heartbeat = Heartbeat(heartbeat_s, self._beat, "molgen-lock")
        create_tables(_metadata, engine)

    def held_by(self) -> dict[str, Any] | None:
        """The holder's row (host, pid, started_at, heartbeat_at), or None if free."""
        with self.engine.connect() as conn:
            row = conn.execute(select(LOCKS).where(LOCKS.c.campaign == self.campaign)).first()
        return dict(row._mapping) if row else None

    def _stale(self, row: dict[str, Any]) -> bool:
        now = utc_now()
        if (now - as_utc(row["heartbeat_at"])).total_seconds() > self.stale_after_s:
            return True
        return row["host"] == self.host and _process_gone(row["pid"], as_utc(row["started_at"]))

    def acquire(self) -> None:
        """Take the lock, taking over a stale one, and start the heartbeat."""
        mine = {
            "holder": self.holder,
            "host": self.host,
            "pid": self.pid,
            "started_at": utc_now(),
            "heartbeat_at": utc_now(),
        }
        for _ in range(3):
            try:
                with self.engine.begin() as conn:
                    conn.execute(insert(LOCKS).values(campaign=self.campaign, **mine))
                break
            except IntegrityError:
                pass
            row = self.held_by()
            if row is None:
                continue  # released in between: insert again
            if not self._stale(row):
                seen = (utc_now() - as_utc(row["heartbeat_at"])).total_seconds()
                raise CampaignLocked(
                    f"campaign {self.campaign!r} is running: process {row['pid']} on "
                    f"{row['host']} holds it since {as_utc(row['started_at']):%Y-%m-%d %H:%M:%S} "
                    f"UTC (alive {seen:.0f} s ago); wait for it or stop it"
                )
            with self.engine.begin() as conn:
                took = conn.execute(
                    update(LOCKS)
                    .where(LOCKS.c.campaign == self.campaign, LOCKS.c.holder == row["holder"])
                    .values(**mine)
                ).rowcount
            if took == 1:
                log.warning(
                    "took over the stale lock of campaign %r from process %s on %s",
                    self.campaign,
                    row["pid"],
                    row["host"],
                )
                break
        else:
            raise CampaignLocked(f"campaign {self.campaign!r}: could not take its lock")
        self._heartbeat.start()

    def _beat(self) -> bool:
        """Refresh the heartbeat; False (ending the heartbeat) when another run took over."""
        with self.engine.begin() as conn:
            kept = conn.execute(
                update(LOCKS)
                .where(LOCKS.c.campaign == self.campaign, LOCKS.c.holder == self.holder)
                .values(heartbeat_at=utc_now())
            ).rowcount
        if not kept:
            log.error("campaign %r: another run took over this run's lock", self.campaign)
        return bool(kept)

    def release(self) -> None:
        """Stop the heartbeat and drop the lock if this run still holds it."""
        self._heartbeat.stop()
        with self.engine.begin() as conn:
            conn.execute(
                delete(LOCKS).where(
                    LOCKS.c.campaign == self.campaign, LOCKS.c.holder == self.holder
                )
            )

    def __enter__(self) -> CampaignLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
