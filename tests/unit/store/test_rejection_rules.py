"""Rejections per filter: what refused each input is kept with it, counted per stage and
filter (a molecule two filters refused counts toward each), and listed per filter."""

from __future__ import annotations

from molgen.pipeline.record import _rejections
from molgen.store import CandidateStore
from molgen.types import Rejection


def test_rejections_are_counted_and_listed_per_filter(store_url):
    store = CandidateStore(store_url)
    cid = store.campaign_id("c", "h", 1, {})
    refused = [
        Rejection("prepare", "C1CC", "parse: unclosed ring", ("parse",)),
        Rejection("prepare", "[U]", "elements: U", ("elements",)),
        Rejection("filter", "K1", "structural alert PAINS: x", ("alerts",)),
        Rejection("filter", "K2", "PAINS: y; unstable: enamine", ("alerts", "unstable_groups")),
        Rejection("filter", "K3", "bound: qed 0.1 below 0.3", ("bounds",)),
        Rejection("filter", "K4", "structural alert PAINS: x", ("alerts",)),
        Rejection("dock", "K5", "embedding failed"),
    ]  # fmt: skip
    store.write_round(cid, 1, [], [], [], refused, scoring_hash="s")
    summary = {s["stage"]: s for s in store.rejection_summary("c")}
    assert [s["stage"] for s in store.rejection_summary("c")] == ["prepare", "filter", "dock"]
    assert summary["filter"]["count"] == 4
    assert summary["filter"]["rules"] == [
        {"rule": "alerts", "count": 3},
        {"rule": "bounds", "count": 1},
        {"rule": "unstable_groups", "count": 1},
    ]
    assert summary["prepare"]["rules"] == [
        {"rule": "elements", "count": 1},
        {"rule": "parse", "count": 1},
    ]
    assert summary["dock"]["rules"] == []
    listed = store.rejections("c", rule="alerts")
    assert [r["input"] for r in listed] == ["K1", "K2", "K4"]
    assert listed[1]["rules"] == ["alerts", "unstable_groups"]
    assert store.count_rejections("c", rule="alerts") == 3
    assert store.count_rejections("c", stage="filter", rule="bounds") == 1
    # names are matched whole, and a pattern character is only a character
    assert store.rejections("c", rule="alert") == []
    assert store.rejections("c", rule="%") == []
    store.close()


def test_the_rules_come_from_the_filter_stage_or_the_input_policy():
    import pandas as pd

    filtered = pd.DataFrame(
        {
            "inchikey": ["K1", "K2", "K3"],
            "reason": [None, "bound: qed low; BRENK: x", "odd"],
            "rejected_by": [None, "bounds,alerts", None],
        }
    )
    assert _rejections("filter", filtered, "inchikey") == [
        Rejection("filter", "K2", "bound: qed low; BRENK: x", ("bounds", "alerts")),
        Rejection("filter", "K3", "odd"),
    ]  # fmt: skip
    prepared = pd.DataFrame(
        {"source": ["[U]", "", "C"], "reason": ["elements: U", "empty SMILES", None]}
    )
    assert _rejections("prepare", prepared, "source") == [
        Rejection("prepare", "[U]", "elements: U", ("elements",)),
        Rejection("prepare", "", "empty SMILES"),
    ]
