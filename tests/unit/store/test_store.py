import numpy as np
import pytest
from sqlalchemy import create_engine, inspect, text

from molgen.scoring.aggregate import AGGREGATIONS, pareto_ranks
from molgen.store import CandidateStore, StoreError
from molgen.types import Rejection


def _cand(key, score, qed):
    return {
        "inchikey": key,
        "score": score,
        "objectives": {"qed": {"value": qed, "desirability": qed, "weight": 1.0}},
        "provenance": {"generator": {"generator": "graph_ga"}, "seed": 1},
    }


def test_round_write_is_idempotent_and_ranked(store_url):
    store = CandidateStore(store_url)
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


def test_later_round_reranks_whole_campaign(store_url):
    store = CandidateStore(store_url)
    cid = store.campaign_id("c", "h", 1, {})
    store.write_round(cid, 1, [("K1", "CCO")], [], [_cand("K1", 0.5, 0.5)], [], scoring_hash="s")
    store.write_round(cid, 2, [("K2", "CCN")], [], [_cand("K2", 0.7, 0.7)], [], scoring_hash="s")
    assert [(r["inchikey"], r["rank"], r["round"]) for r in store.top("c")] == [
        ("K2", 1, 2),
        ("K1", 2, 1),
    ]


def test_large_round_is_chunked(store_url):
    store = CandidateStore(store_url)
    cid = store.campaign_id("c", "h", 1, {})
    keys = [f"K{i:05d}" for i in range(3000)]
    preds = [(k, "p", "1", f"o{j}", 1.0) for k in keys for j in range(5)]
    store.write_round(cid, 1, [(k, "C") for k in keys], preds, [], [], scoring_hash="s")
    assert store.counts("c")["predictions"] == 15000


def test_unknown_campaign_and_bad_url(store_url):
    store = CandidateStore(store_url)
    with pytest.raises(StoreError, match="no campaign named 'x'"):
        store.top("x")
    with pytest.raises(StoreError, match="cannot open store"):
        CandidateStore("nosuchdb://host/db")


def test_store_pickles_as_its_url(store_url):
    import pickle

    store = CandidateStore(store_url)
    store.campaign_id("c", "h", 1, {})
    copy = pickle.loads(pickle.dumps(store))
    assert copy.url == store.url and copy.engine is not store.engine
    assert copy.counts("c")["candidates"] == 0


def _objs(**values):
    return {k: {"value": v, "desirability": v, "weight": 1.0} for k, v in values.items()}


def test_round_rewrite_replaces_the_round_and_other_scorings_leave_the_ranking(store_url):
    store = CandidateStore(store_url)
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


def test_older_store_gains_the_scoring_column_and_indexes(store_url):
    """A store of the first schema (no scoring_hash, an index on rank, none of the new ones)
    opens, gains what it lacks, and takes and ranks new rows."""
    CandidateStore(store_url).close()
    engine = create_engine(store_url)
    with engine.begin() as conn:
        for name in ("score", "round", "scoring"):
            conn.execute(text(f"DROP INDEX ix_candidates_campaign_{name}"))
        conn.execute(text("ALTER TABLE candidates DROP COLUMN scoring_hash"))
        conn.execute(text("ALTER TABLE rejections DROP COLUMN rules"))
        conn.execute(text("CREATE INDEX ix_candidates_rank ON candidates (rank)"))
    store = CandidateStore(store_url)
    indexes = {i["name"] for i in inspect(engine).get_indexes("candidates")}
    engine.dispose()
    assert {f"ix_candidates_campaign_{n}" for n in ("score", "round", "scoring")} <= indexes
    assert "ix_candidates_rank" not in indexes
    cid = store.campaign_id("c", "h", 1, {})
    refused = [Rejection("filter", "K2", "unstable: enamine", ("unstable_groups",))]
    store.write_round(
        cid, 1, [("K1", "CCO")], [], [_cand("K1", 0.5, 0.5)], refused, scoring_hash="s"
    )
    assert [r["inchikey"] for r in store.top("c")] == ["K1"]
    assert store.rejections("c")[0]["rules"] == ["unstable_groups"]
    store.close()


def _objectives(d):
    return {f"o{j}": {"value": float(x), "desirability": float(x)} for j, x in enumerate(d)}


@pytest.mark.parametrize("aggregation", ["weighted_sum", "geometric_mean"])
def test_top_n_ranks_are_the_whole_campaigns(store_url, aggregation):
    """rank and pareto_rank of the n best, read from about n rows, equal those computed over
    every candidate of the campaign (ties by InChIKey; geometric means tie at 0 often)."""
    rng = np.random.default_rng(7)
    d = rng.integers(0, 5, size=(400, 3)) / 4  # coarse values: many ties, many dominations
    w = np.array([1.0, 2.0, 0.5])
    score = AGGREGATIONS[aggregation](d, w)
    keys = [f"K{i:03d}{'abc'[i % 3]}" for i in range(len(d))]  # mixed case: byte order
    store = CandidateStore(store_url)
    cid = store.campaign_id("c", "h", 1, {})
    for r, part in enumerate(np.array_split(np.arange(len(d)), 4)):
        store.write_round(
            cid,
            r + 1,
            [(keys[i], "C") for i in part],
            [],
            [
                {"inchikey": keys[i], "score": score[i], "objectives": _objectives(d[i]),
                 "provenance": {}}
                for i in part
            ],
            [],
            scoring_hash="s",
        )  # fmt: skip
    order = sorted(range(len(d)), key=lambda i: (-score[i], keys[i]))
    pareto = pareto_ranks(d)
    expected = [(keys[i], pareto[i]) for i in order]
    full = store.top("c")
    assert [(r["inchikey"], r["pareto_rank"]) for r in full] == expected
    assert [r["rank"] for r in full] == list(range(1, len(d) + 1))
    columns = store.ranked_values("c")  # the whole-campaign table: same order, same fronts
    assert [(r["inchikey"], r["pareto_rank"], r["rank"]) for r in columns] == [
        (r["inchikey"], r["pareto_rank"], r["rank"]) for r in full
    ]
    assert "provenance" not in columns[0] and columns[0]["objectives"] == full[0]["objectives"]
    for n in (1, 7, 50, 399, 400, 1000):
        top = store.top("c", n)
        assert [(r["inchikey"], r["pareto_rank"], r["rank"]) for r in top] == [
            (k, p, i + 1) for i, (k, p) in enumerate(expected[:n])
        ]
    store.close()


def test_rank_queries_use_the_indexes(tmp_path):
    """The per-round and ranking queries never read every candidate of the campaign."""
    store = CandidateStore(f"sqlite:///{tmp_path / 's.sqlite'}")
    queries = [
        "SELECT score FROM candidates WHERE campaign_id = 1 ORDER BY score DESC LIMIT 1 OFFSET 9",
        "DELETE FROM candidates WHERE campaign_id = 1 AND round = 3",
        "DELETE FROM candidates WHERE campaign_id = 1 AND scoring_hash < 'h'",
        "DELETE FROM candidates WHERE campaign_id = 1 AND scoring_hash > 'h'",
        "DELETE FROM candidates WHERE campaign_id = 1 AND scoring_hash IS NULL",
    ]
    with store.engine.connect() as conn:
        for q in queries:
            plan = " | ".join(r[-1] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {q}"))
            # a search on more than the campaign (a range, or the round), never a scan
            assert plan.startswith("SEARCH candidates USING"), (q, plan)
            assert "(campaign_id=? AND " in plan or "ORDER BY score" in q, (q, plan)
    store.close()
