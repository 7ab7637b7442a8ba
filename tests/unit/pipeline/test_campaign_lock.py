"""One run of a campaign at a time: the lock in the store names its holder, is released at the
end, and a stale lock (dead process, or no heartbeat) is taken over."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, insert

from molgen.store.lock import LOCKS, CampaignLock, CampaignLocked

HOLD = """
import sys, time
from sqlalchemy import create_engine
from molgen.store.lock import CampaignLock
lock = CampaignLock(create_engine(sys.argv[1]), "alpha", heartbeat_s=0.2)
lock.acquire()
print("held", flush=True)
time.sleep(600)
"""


@pytest.fixture
def url(tmp_path):
    return f"sqlite:///{tmp_path / 'store.sqlite'}"


def test_a_second_run_is_refused_naming_the_holder_until_the_first_releases(url):
    engine = create_engine(url)
    first = CampaignLock(engine, "alpha")
    with first:
        with pytest.raises(CampaignLocked) as err:
            CampaignLock(engine, "alpha").acquire()
        assert f"process {os.getpid()} on {socket.gethostname()}" in str(err.value)
        with CampaignLock(engine, "beta"):  # another campaign of the same store
            pass
    assert first.held_by() is None
    with CampaignLock(engine, "alpha"):
        pass


def test_the_lock_of_a_killed_process_is_taken_over(url):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, url], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        lock = CampaignLock(create_engine(url), "alpha")
        with pytest.raises(CampaignLocked, match=f"process {holder.pid} "):
            lock.acquire()
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        lock.acquire()
        assert lock.held_by()["pid"] == os.getpid()
        lock.release()
    finally:
        holder.kill()


def test_a_lock_without_heartbeat_from_another_host_is_taken_over(url):
    engine = create_engine(url)
    CampaignLock(engine, "alpha").held_by()  # creates the table
    now = datetime.now(UTC)
    row = {"holder": "x", "host": "gpu-node-7", "pid": 1, "started_at": now - timedelta(hours=1)}
    with engine.begin() as conn:
        conn.execute(insert(LOCKS).values(campaign="alpha", heartbeat_at=now, **row))
        conn.execute(
            insert(LOCKS).values(campaign="beta", heartbeat_at=now - timedelta(minutes=5), **row)
        )
    with pytest.raises(CampaignLocked, match="process 1 on gpu-node-7"):
        CampaignLock(engine, "alpha").acquire()
    with CampaignLock(engine, "beta") as lock:
        assert lock.held_by()["host"] == socket.gethostname()


def test_the_heartbeat_keeps_a_long_run_alive(url):
    engine = create_engine(url)
    with CampaignLock(engine, "alpha", heartbeat_s=0.1, stale_after_s=0.5) as lock:
        time.sleep(1.0)
        with pytest.raises(CampaignLocked):
            CampaignLock(engine, "alpha", stale_after_s=0.5).acquire()
        assert lock.held_by()["holder"] == lock.holder
