import pytest

from molgen.store import CandidateStore, StoreError
from molgen.types import Rejection


def _cand(key, score, qed):
    return {
        "inchikey": key,
        "score": score,
        "objectives": {"qed": {"value": qed, "desirability": qed, "weight": 1.0}},
        "provenance": {"generator": {"generator": "graph_ga"}, "seed": 1},
    }


def test_round_write_is_idempotent_and_ranked(tmp_path):
    store = CandidateStore(f"sqlite:///{tmp_path / 's.sqlite'}")
    cid = store.campaign_id("c", "h", 1, {})
    mols = [("K1", "CCO"), ("K2", "CCN"), ("K3", "CCC")]
    preds = [("K1", "qed", "v1", "qed", 0.4), ("K2", "qed", "v1", "qed", 0.9)]
    cands = [_cand("K1", 0.4, 0.4), _cand("K2", 0.9, 0.9)]
    rej = [Rejection("filter", "CCC", "PAINS: x")]
    for _ in range(2):
        store.write_round(cid, 1, mols, preds, cands, rej, scoring_hash="s")
    counts = store.counts("c")
    assert counts == {"candidates": 2, "rejections": 1, "molecules": 3, "predictions": 2}
    top = store.top("c")
    assert [r["inchikey"] for r in top] == ["K2", "K1"]
    assert [r["rank"] for r in top] == [1, 2]
    assert top[0]["objectives"]["qed"]["value"] == 0.9
    assert top[0]["provenance"]["seed"] == 1


def test_later_round_reranks_whole_campaign(tmp_path):
    store = CandidateStore(f"sqlite:///{tmp_path / 's.sqlite'}")
    cid = store.campaign_id("c", "h", 1, {})
    store.write_round(cid, 1, [("K1", "CCO")], [], [_cand("K1", 0.5, 0.5)], [], scoring_hash="s")
    store.write_round(cid, 2, [("K2", "CCN")], [], [_cand("K2", 0.7, 0.7)], [], scoring_hash="s")
    assert [(r["inchikey"], r["rank"], r["round"]) for r in store.top("c")] == [
        ("K2", 1, 2),
        ("K1", 2, 1),
    ]


def test_large_round_is_chunked(tmp_path):
    store = CandidateStore(f"sqlite:///{tmp_path / 's.sqlite'}")
    cid = store.campaign_id("c", "h", 1, {})
    keys = [f"K{i:05d}" for i in range(3000)]
    preds = [(k, "p", "1", f"o{j}", 1.0) for k in keys for j in range(5)]
    store.write_round(cid, 1, [(k, "C") for k in keys], preds, [], [], scoring_hash="s")
    assert store.counts("c")["predictions"] == 15000


def test_unknown_campaign_and_bad_url(tmp_path):
    store = CandidateStore(f"sqlite:///{tmp_path / 's.sqlite'}")
    with pytest.raises(StoreError, match="no campaign named 'x'"):
        store.top("x")
    with pytest.raises(StoreError, match="cannot open store"):
        CandidateStore("nosuchdb://host/db")


def test_store_pickles_as_its_url(tmp_path):
    import pickle

    store = CandidateStore(f"sqlite:///{tmp_path / 's.sqlite'}")
    store.campaign_id("c", "h", 1, {})
    copy = pickle.loads(pickle.dumps(store))
    assert copy.url == store.url and copy.engine is not store.engine
    assert copy.counts("c")["candidates"] == 0


def _objs(**values):
    return {k: {"value": v, "desirability": v, "weight": 1.0} for k, v in values.items()}


def test_round_rewrite_replaces_the_round_and_other_scorings_leave_the_ranking(tmp_path):
    store = CandidateStore(f"sqlite:///{tmp_path / 's.sqlite'}")
    cid = store.campaign_id("c", "h", 1, {})
    old = {"provenance": {}, "objectives": _objs(qed=0.5)}
    store.write_round(
        cid,
        1,
        [("K1", "CCO"), ("K2", "CCN")],
        [],
        [{"inchikey": "K1", "score": 0.5, **old}, {"inchikey": "K2", "score": 0.6, **old}],
        [Rejection("filter", "CCC", "PAINS: x")],
        scoring_hash="old",
    )
    store.write_round(
        cid,
        2,
        [("K3", "CCCO")],
        [],
        [{"inchikey": "K3", "score": 0.9, **old}],
        [],
        scoring_hash="old",
    )
    # the file gains an objective: round 1 is scored again under the new scoring and K2 is no
    # longer among its candidates; round 2 is not run again (fewer rounds)
    new = {"provenance": {}, "objectives": _objs(qed=0.5, logp=0.2)}
    store.write_round(
        cid,
        1,
        [("K1", "CCO")],
        [],
        [{"inchikey": "K1", "score": 0.4, **new}],
        [],
        scoring_hash="new",
    )
    top = store.top("c")
    assert [(r["inchikey"], r["rank"], r["pareto_rank"]) for r in top] == [("K1", 1, 1)]
    assert set(top[0]["objectives"]) == {"qed", "logp"}
    assert store.counts("c")["candidates"] == 1
    assert store.rejections("c") == []  # round 1's rejections were replaced too
    assert store.counts("c")["molecules"] == 3  # molecules are only ever added


def test_older_store_gains_the_scoring_column(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite"
    CandidateStore(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE candidates DROP COLUMN scoring_hash")
    store = CandidateStore(f"sqlite:///{path}")
    cid = store.campaign_id("c", "h", 1, {})
    store.write_round(cid, 1, [("K1", "CCO")], [], [_cand("K1", 0.5, 0.5)], [], scoring_hash="s")
    assert [r["inchikey"] for r in store.top("c")] == ["K1"]
