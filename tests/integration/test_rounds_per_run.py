"""A run adds at most N unfinished rounds (what a scheduled run does), also to a campaign whose
budget has no end."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def test_each_run_continues_from_the_last_checkpoint_by_n_rounds(prefect_api, write_campaign):
    from flows.campaign import campaign_flow

    path = write_campaign(name="endless", rounds=1, n=12, batch=12)
    path.write_text(path.read_text().replace("rounds = 1\n", 'rounds = "unlimited"\n', 1))

    def ran(reports):
        return sorted({r["round"] for r in reports if r["status"] != "skipped"})

    assert ran(campaign_flow(str(path), rounds_per_run=2)) == [0, 1, 2]
    again = campaign_flow(str(path), rounds_per_run=1)
    assert ran(again) == [3]
    assert max(r["round"] for r in again) == 3  # rounds 1-2 skipped, then round 3, then stop
