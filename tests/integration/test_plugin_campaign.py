"""A campaign whose generator and filter are user classes named ``module:Class``."""

from __future__ import annotations

import re

import pytest

from molgen.config import load_campaign
from molgen.store import CandidateStore

pytestmark = pytest.mark.integration

FILTERS = """
[filters]
use = ["veber", { kind = "user_components:HeavyAtomCap", params = { max_heavy_atoms = 23 } }]
"""


def test_user_generator_and_filter_run_in_the_flow(prefect_api, write_campaign):
    from flows.campaign import campaign_flow

    path = write_campaign(
        rounds=2,
        n=20,
        generator='kind = "user_components:ChainExtender"\ntag = "from-test"\nmax_extra = 2',
        extra=FILTERS,
    )
    reports = campaign_flow(str(path))
    assert {(r["round"], r["stage"]) for r in reports} >= {(1, "generate"), (2, "update")}
    campaign = load_campaign(path)
    store = CandidateStore(campaign.store_url)
    try:
        top = store.top(campaign.name)
        rejections = store.rejections(campaign.name)
    finally:
        store.close()

    assert len(top) >= 5
    for row in top:
        assert row["provenance"]["generator"] == {
            "generator": "chain_extender",
            "version": "user-1",
            "tag": "from-test",
        }
        filters = row["provenance"]["filters"]
        assert set(filters) == {"veber", "heavy_atom_cap"}
        assert filters["heavy_atom_cap"] == "user-1+max23"
    capped = [r for r in rejections if r["stage"] == "filter" and "user cap" in r["reason"]]
    assert capped, "the user filter rejected nothing"
    assert all(re.search(r"user cap: (2[4-9]|3\d) heavy atoms > 23", r["reason"]) for r in capped)
    assert {r["round"] for r in capped} <= {1, 2}
