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
        store.write_round(cid, 1, mols, preds, cands, rej)
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
    store.write_round(cid, 1, [("K1", "CCO")], [], [_cand("K1", 0.5, 0.5)], [])
    store.write_round(cid, 2, [("K2", "CCN")], [], [_cand("K2", 0.7, 0.7)], [])
    assert [(r["inchikey"], r["rank"], r["round"]) for r in store.top("c")] == [
        ("K2", 1, 2),
        ("K1", 2, 1),
    ]


def test_large_round_is_chunked(tmp_path):
    store = CandidateStore(f"sqlite:///{tmp_path / 's.sqlite'}")
    cid = store.campaign_id("c", "h", 1, {})
    keys = [f"K{i:05d}" for i in range(3000)]
    preds = [(k, "p", "1", f"o{j}", 1.0) for k in keys for j in range(5)]
    store.write_round(cid, 1, [(k, "C") for k in keys], preds, [], [])
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
