"""Docking claims: the first run to claim a ligand docks it, another waits; a claim given up or
left stale by a dead run is taken over."""

from __future__ import annotations

import time

from sqlalchemy import create_engine

from molgen.store.claims import DockingClaims


def _claims(url: str, holder: str, stale_after_s: float = 120.0) -> DockingClaims:
    return DockingClaims(create_engine(url), holder, "receptor", "settings", stale_after_s)


def test_each_ligand_is_claimed_by_one_run(store_url):
    a, b = _claims(store_url, "a"), _claims(store_url, "b")
    assert a.claim(["K1", "K2"]) == {"K1", "K2"}
    assert b.claim(["K2", "K3"]) == {"K3"}
    assert b.others(["K1", "K2", "K3"]) == {"K1", "K2"}
    a.release(["K2"])  # docked (or given up): the other run may take it now
    assert b.claim(["K2"]) == {"K2"}
    other_settings = DockingClaims(a.engine, "c", "receptor", "other settings")
    assert other_settings.claim(["K1"]) == {"K1"}  # another cache key is another ligand
    a.release()
    assert a.held(["K1", "K2", "K3"]) == set()


def test_a_stale_claim_is_taken_over_and_a_refreshed_one_is_not(store_url):
    a = _claims(store_url, "a", stale_after_s=0.5)
    b = _claims(store_url, "b", stale_after_s=0.5)
    assert a.claim(["K1", "K2"]) == {"K1", "K2"}
    with a.kept_alive(every_s=0.1):
        time.sleep(0.8)
        assert b.claim(["K1"]) == set()
    time.sleep(0.8)  # a stopped refreshing (killed)
    assert b.claim(["K1", "K2"]) == {"K1", "K2"}
    assert a.held(["K1", "K2"]) == set()
