"""Two processes on one store: a race to create a campaign, and a reader under a writer.

The workers run in ``spawn``ed processes (fresh interpreters, own SQLite connections), as two
``molgen`` commands would.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from typing import Any

import pytest
from sqlalchemy import text

from molgen.store import CandidateStore

RACES = 15


def _race_campaign_id(urls: list[str], barrier: Any, results: Any) -> None:
    """Open each store and ask for campaign ``c``, each step at the same moment as the other."""
    out: list[Any] = []
    for url in urls:
        barrier.wait(timeout=120)
        store: CandidateStore | None = None
        try:
            store = CandidateStore(url)
        except Exception as err:  # reported to the test, which shows it
            out.append(f"open: {err!r}")
        barrier.wait(timeout=120)
        if store is not None:
            try:
                out.append(store.campaign_id("c", "h", 7, {"seed": 7}))
            except Exception as err:
                out.append(f"campaign_id: {err!r}")
            store.close()
    results.put(out)


@pytest.mark.parametrize("new_files", [False, True], ids=["tables-exist", "new-files"])
def test_two_processes_get_the_same_campaign_id(tmp_path, new_files):
    """Both get the id of one row, and neither fails on the unique name (nor, opening a new
    file, on creating the same tables)."""
    urls = [f"sqlite:///{tmp_path / f'race-{i}.sqlite'}" for i in range(RACES)]
    if not new_files:
        for url in urls:
            CandidateStore(url).close()
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_race_campaign_id, args=(urls, barrier, results)) for _ in "ab"]
    for p in procs:
        p.start()
    outs = [results.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    errors = [r for out in outs for r in out if isinstance(r, str)]
    assert errors == []
    assert outs[0] == outs[1]
    for url, cid in zip(urls, outs[0], strict=True):
        store = CandidateStore(url)
        with store.engine.connect() as c:
            rows = c.execute(text("SELECT id, name, seed FROM campaigns")).all()
        assert [tuple(r) for r in rows] == [(cid, "c", 7)]
        store.close()


WRITER_HOLDS_S = 8.0
INSERT_MOLECULE = "INSERT INTO molecules (inchikey, smiles, created_at) VALUES (?, ?, '2024-01-01')"


def _hold_write_transaction(url: str, holding: Any, release: Any) -> None:
    """Write many rows in one transaction and keep it open (a long round's write)."""
    store = CandidateStore(url)
    raw = store.engine.raw_connection()
    try:
        cur = raw.cursor()
        # A small page cache makes SQLite spill the uncommitted pages before the commit, as a
        # large round does: in rollback-journal mode it then holds the exclusive lock.
        cur.execute("PRAGMA cache_size=10")
        cur.execute("BEGIN IMMEDIATE")
        cur.executemany(INSERT_MOLECULE, [(f"W{i:026d}", "C" * 60) for i in range(20000)])
        holding.set()
        release.wait(timeout=WRITER_HOLDS_S)
        raw.commit()
    finally:
        raw.close()
        store.close()


def test_reader_is_not_blocked_by_a_writer(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    store = CandidateStore(url)
    with store.engine.connect() as c:
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert c.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
    store.campaign_id("c", "h", 1, {})
    with store.engine.begin() as c:
        c.exec_driver_sql(INSERT_MOLECULE, ("K1", "CCO"))

    ctx = mp.get_context("spawn")
    holding, release = ctx.Event(), ctx.Event()
    writer = ctx.Process(target=_hold_write_transaction, args=(url, holding, release))
    writer.start()
    try:
        assert holding.wait(timeout=120), "writer never began its transaction"
        t0 = time.monotonic()
        reader = CandidateStore(url)  # a fresh store, as `molgen top` opens it
        top = reader.top("c")
        counts = reader.counts("c")
        seconds = time.monotonic() - t0
        reader.close()
    finally:
        release.set()
        writer.join(timeout=120)
    assert writer.exitcode == 0
    assert seconds < 5.0, f"reader waited {seconds:.1f} s for the writer"
    assert top == []
    assert counts["molecules"] == 1  # the writer's rows are not committed yet
    assert store.counts("c")["molecules"] == 20001
    store.close()
