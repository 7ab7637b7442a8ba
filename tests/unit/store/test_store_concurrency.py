"""Two processes on one store: a race to create a campaign, two campaigns writing at once, and
a reader under a writer; on SQLite and, where the test says so, on PostgreSQL.

The workers run in ``spawn``ed processes (fresh interpreters, own connections), as two
``molgen`` commands would.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from typing import Any

import pytest
from sqlalchemy import text

from molgen.store import CandidateStore
from molgen.types import Rejection

RACES = 15
PG_RACES = 5  # a new database costs more than a new file


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


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@pytest.mark.parametrize("new_files", [False, True], ids=["tables-exist", "new-files"])
def test_two_processes_get_the_same_campaign_id(tmp_path, request, backend, new_files):
    """Both get the id of one row, and neither fails on the unique name (nor, opening a new
    file or database, on creating the same tables)."""
    if backend == "sqlite":
        urls = [f"sqlite:///{tmp_path / f'race-{i}.sqlite'}" for i in range(RACES)]
    else:
        server = request.getfixturevalue("postgres")
        urls = [server.create_database() for _ in range(PG_RACES)]
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


ROUNDS, PER_ROUND = 6, 100


def _campaign_keys(name: str, round_: int | None = None) -> list[str]:
    """Campaign ``a`` has K0000-K0599, ``b`` K0050-K0649, 100 a round; in each round the two
    share 50 molecules, which ``a`` writes upwards and ``b`` downwards (the order in which two
    writers holding locks could deadlock)."""
    first = 0 if name == "a" else 50
    keys = [f"K{i:04d}" for i in range(first, first + ROUNDS * PER_ROUND)]
    if round_ is None:
        return keys
    part = keys[round_ * PER_ROUND : (round_ + 1) * PER_ROUND]
    return part if name == "a" else part[::-1]


def _run_campaign(url: str, name: str, barrier: Any, results: Any) -> None:
    """Write a campaign's rounds, each at the same moment as the other campaign's."""
    try:
        store = CandidateStore(url)
        cid = store.campaign_id(name, "h", 1, {})
        for r in range(ROUNDS):
            part = _campaign_keys(name, r)
            barrier.wait(timeout=120)  # both write their round at the same moment
            store.write_round(
                cid,
                r + 1,
                [(k, f"C{k}") for k in part],
                [(k, "p", "1", "o", float(k[1:])) for k in part],
                [
                    {
                        "inchikey": k,
                        "score": float(k[1:]) / 1000,
                        "objectives": {"p": {"value": 1.0, "desirability": float(k[1:]) / 1000}},
                        "provenance": {"campaign": name},
                    }
                    for k in part
                ],
                [Rejection("filter", f"X{name}{r}{i}", "PAINS: x") for i in range(10)],
                scoring_hash="s",
            )
        store.close()
        results.put((name, "ok"))
    except Exception as err:  # reported to the test, which shows it
        barrier.abort()  # the other process stops waiting for this one
        results.put((name, repr(err)))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_campaigns_at_once_lose_and_duplicate_nothing(tmp_path, request, backend):
    """Two processes run two campaigns on one store at the same time, sharing molecules: every
    row of both is there once, and each campaign ranks exactly its own candidates."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    else:
        url = request.getfixturevalue("postgres").create_database()
    CandidateStore(url).close()
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_run_campaign, args=(url, name, barrier, results)) for name in "ab"]
    for p in procs:
        p.start()
    outs = dict(results.get(timeout=300) for _ in procs)
    for p in procs:
        p.join(timeout=60)
    assert outs == {"a": "ok", "b": "ok"}
    store = CandidateStore(url)
    for name in "ab":
        counts = store.counts(name)
        assert counts == {
            "candidates": 600,
            "rejections": ROUNDS * 10,
            "molecules": 650,
            "predictions": 650,
        }
        top = store.top(name)
        assert sorted(r["inchikey"] for r in top) == sorted(_campaign_keys(name))
        assert [r["rank"] for r in top] == list(range(1, 601))
        assert {r["provenance"]["campaign"] for r in top} == {name}
        assert top[0]["inchikey"] == max(_campaign_keys(name))
    with store.engine.connect() as c:
        dupes = c.execute(
            text("SELECT count(*) - count(DISTINCT inchikey) FROM molecules")
        ).scalar()
        smiles = c.execute(text("SELECT inchikey, smiles FROM molecules")).all()
    assert dupes == 0
    assert all(smi == f"C{k}" for k, smi in smiles)
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
