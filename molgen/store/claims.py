"""Who is docking what right now: claims that keep concurrent campaigns sharing a store from
docking the same ligand twice.

Before docking, a run claims each ligand it does not find in the docking cache, under the
cache's own key (InChIKey, receptor hash, settings key). A claim is one row, taken by an
insert that only the first run succeeds with (the table's primary key decides, on SQLite and
PostgreSQL alike). A run docks the ligands it claimed; for a ligand another run holds, it waits
for that run's result to appear in the cache. If the other run gives the claim up without a
result (a timeout, a crashed worker: results that are not cached) or stops refreshing it for
:data:`STALE_AFTER_S` seconds (killed), the waiting run claims the ligand and docks it itself.
Claims are refreshed while their holder docks and deleted when it has finished with them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import Column, DateTime, Engine, MetaData, String, Table, delete, select, update

from molgen.store.liveness import Heartbeat, as_utc, create_tables, utc_now
from molgen.store.store import _insert

STALE_AFTER_S = 120.0
REFRESH_S = 15.0

_metadata = MetaData()
CLAIMS = Table(
    "docking_claims",
    _metadata,
    Column("inchikey", String(27), primary_key=True),
    Column("receptor_hash", String(64), primary_key=True),
    Column("settings_hash", String(64), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("heartbeat_at", DateTime(timezone=True), nullable=False),
)


class DockingClaims:
    """The claims of one run (``holder``) on one receptor and settings key."""

    def __init__(
        self,
        engine: Engine,
        holder: str,
        receptor_hash: str,
        settings_hash: str,
        stale_after_s: float = STALE_AFTER_S,
    ) -> None:
        self.engine, self.holder = engine, holder
        self.receptor_hash, self.settings_hash = receptor_hash, settings_hash
        self.stale_after_s = stale_after_s
        create_tables(_metadata, engine)

    def _key(self, keys: Sequence[str]) -> list:
        return [
            CLAIMS.c.inchikey.in_(list(keys)),
            CLAIMS.c.receptor_hash == self.receptor_hash,
            CLAIMS.c.settings_hash == self.settings_hash,
        ]

    def claim(self, inchikeys: Sequence[str]) -> set[str]:
        """Claim the ligands no live run holds (taking over stale claims); returns those this
        run now holds."""
        keys = sorted(set(inchikeys))
        if not keys:
            return set()
        now = utc_now()
        rows = [
            {
                "inchikey": k,
                "receptor_hash": self.receptor_hash,
                "settings_hash": self.settings_hash,
                "holder": self.holder,
                "heartbeat_at": now,
            }
            for k in keys
        ]
        stale = now - timedelta(seconds=self.stale_after_s)
        with self.engine.begin() as conn:
            for start in range(0, len(rows), 500):
                conn.execute(
                    _insert(self.engine, CLAIMS).on_conflict_do_nothing(), rows[start : start + 500]
                )
            for start in range(0, len(keys), 500):
                part = keys[start : start + 500]
                conn.execute(
                    update(CLAIMS)
                    .where(*self._key(part), CLAIMS.c.heartbeat_at < stale)
                    .values(holder=self.holder, heartbeat_at=now)
                )
        return self.held(keys)

    def held(self, inchikeys: Sequence[str]) -> set[str]:
        """Which of these ligands this run holds."""
        out: set[str] = set()
        keys = sorted(set(inchikeys))
        with self.engine.connect() as conn:
            for start in range(0, len(keys), 500):
                q = select(CLAIMS.c.inchikey).where(
                    *self._key(keys[start : start + 500]), CLAIMS.c.holder == self.holder
                )
                out.update(conn.execute(q).scalars())
        return out

    def others(self, inchikeys: Sequence[str]) -> set[str]:
        """Which of these ligands another run holds by a live claim."""
        out: set[str] = set()
        keys = sorted(set(inchikeys))
        stale = utc_now() - timedelta(seconds=self.stale_after_s)
        with self.engine.connect() as conn:
            for start in range(0, len(keys), 500):
                q = select(CLAIMS.c.inchikey, CLAIMS.c.heartbeat_at).where(
                    *self._key(keys[start : start + 500]), CLAIMS.c.holder != self.holder
                )
                out.update(k for k, beat in conn.execute(q) if as_utc(beat) >= stale)
        return out

    def refresh(self) -> None:
        """Keep this run's claims alive."""
        with self.engine.begin() as conn:
            conn.execute(
                update(CLAIMS)
                .where(
                    CLAIMS.c.holder == self.holder,
                    CLAIMS.c.receptor_hash == self.receptor_hash,
                    CLAIMS.c.settings_hash == self.settings_hash,
                )
                .values(heartbeat_at=utc_now())
            )

    def kept_alive(self, every_s: float = REFRESH_S) -> Heartbeat:
        """Refresh this run's claims from a background thread while a ``with`` block runs (a
        ligand may dock for minutes without a result)."""
        return Heartbeat(every_s, self.refresh, "molgen-docking-claims")

    def release(self, inchikeys: Sequence[str] | None = None) -> None:
        """Give up this run's claims on these ligands (all of them when None)."""
        where = [
            CLAIMS.c.holder == self.holder,
            CLAIMS.c.receptor_hash == self.receptor_hash,
            CLAIMS.c.settings_hash == self.settings_hash,
        ]
        with self.engine.begin() as conn:
            if inchikeys is None:
                conn.execute(delete(CLAIMS).where(*where))
                return
            keys = sorted(set(inchikeys))
            for start in range(0, len(keys), 500):
                part = keys[start : start + 500]
                conn.execute(delete(CLAIMS).where(*where, CLAIMS.c.inchikey.in_(part)))
