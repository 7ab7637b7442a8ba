"""The candidate store: molecules, predictions, candidates and rejections in one database.

Scaling: a round's write touches only that round's rows (indexes on ``(campaign_id, round)``
and ``(campaign_id, scoring_hash)`` find what it replaces), and nothing is ranked when written.
``top(n)`` computes ranks when read, from about ``n`` rows found through the
``(campaign_id, score)`` index; Pareto fronts of those rows are the campaign's own because a
dominating candidate never scores lower (:func:`molgen.store.ranking.ranked`). A round thus
costs about the same at a million candidates as at ten thousand, and memory does not grow
with the campaign.
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, case, create_engine, delete, event, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from molgen.store.ranking import ranked, ranked_values
from molgen.store.schema import (
    Base,
    CampaignRow,
    Candidate,
    Docking,
    Molecule,
    Prediction,
    RejectionRow,
    upgrade,
)
from molgen.types import STAGES, Rejection


def _stage_order(stage: str) -> int:
    """A stage's place in the pipeline (a plug-in's own stage name comes last)."""
    return STAGES.index(stage) if stage in STAGES else len(STAGES)


# The same order in SQL, for listing rejections round by round in pipeline order.
_STAGE_ORDER = case(
    {name: i for i, name in enumerate(STAGES)}, value=RejectionRow.stage, else_=len(STAGES)
)


class StoreError(RuntimeError):
    """The store cannot be opened or used; the message names the URL and the reason."""


def _insert(engine: Engine, table: Any) -> Any:
    if engine.dialect.name == "postgresql":
        return postgresql.insert(table)
    if engine.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise StoreError(f"unsupported database {engine.dialect.name!r}: use SQLite or PostgreSQL")


def _upsert(
    s: Session,
    engine: Engine,
    table: Any,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    update_cols: Sequence[str] = (),
) -> None:
    """Insert ``rows``; on a conflict over ``keys`` update ``update_cols`` (or do nothing).

    One ``INSERT ... ON CONFLICT`` statement of the dialect, executed for all rows at once
    (the driver's executemany: no statement grows with the rows, so SQLite's limit on bound
    parameters never applies). Rows go in the order of their ``keys``, so that two
    transactions writing overlapping rows at once (two campaigns on one PostgreSQL store,
    sharing molecules) take their row locks in the same order and never deadlock.
    """
    if not rows:
        return
    t = getattr(table, "__table__", table)
    stmt = _insert(engine, t)
    if update_cols:
        stmt = stmt.on_conflict_do_update(
            index_elements=list(keys),
            set_={c: getattr(stmt.excluded, c) for c in update_cols},
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
    ordered = sorted(rows, key=lambda r: tuple(r[k] for k in keys))
    s.connection().execute(stmt, ordered)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """Per-connection SQLite settings.

    WAL (kept in the file once set) lets readers such as ``molgen top`` read the last commit
    while a campaign writes, instead of waiting for its lock or failing with "database is
    locked"; with WAL, ``synchronous=NORMAL`` is safe from corruption and syncs less.
    """
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    deadline = time.monotonic() + 30
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as err:
            # Two processes switching a new file at once: SQLite refuses one of them at once
            # (waiting could deadlock) instead of calling the busy handler, so wait here.
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


class CandidateStore:
    """Read and write a campaign's results.

    Args:
        url: a SQLAlchemy URL (``sqlite:///path`` or ``postgresql+psycopg://...``). The SQLite
            file's folder is created if needed and the tables on first use.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.engine = create_engine(url)
            if self.engine.dialect.name == "sqlite":
                event.listen(self.engine, "connect", _sqlite_pragmas)
            tries = 3
            for attempt in range(tries):
                try:
                    self._create_tables()
                    upgrade(self.engine)
                    break
                except DBAPIError:
                    # Another process created the same table or column at the same moment
                    # (check, then create); the next try finds it.
                    if attempt == tries - 1:
                        raise
        except Exception as err:  # driver and connection errors have no common base class
            raise StoreError(f"cannot open store {url!r}: {err}") from err

    def _create_tables(self) -> None:
        """Create the missing tables.

        On SQLite in one write transaction, so that a second process opening a new file at the
        same moment waits for it and then finds them all; a store that has them all takes no
        write lock, so opening it never waits for a writer. PostgreSQL's DDL is transactional
        already: the loser of a race fails once, and the retry finds the tables.
        """
        with self.engine.connect() as conn:
            if self.engine.dialect.name == "sqlite":
                names = conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'")
                if set(Base.metadata.tables) <= set(names.scalars()):
                    return
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            Base.metadata.create_all(conn)
            conn.commit()

    def close(self) -> None:
        self.engine.dispose()

    def __getstate__(self) -> dict[str, str]:
        # A store travels between processes (Prefect and Dask serialize task context) as its
        # URL; the copy opens its own connections.
        return {"url": self.url}

    def __setstate__(self, state: dict[str, str]) -> None:
        self.__init__(state["url"])  # type: ignore[misc]

    def campaign_id(self, name: str, config_hash: str, seed: int, config: dict[str, Any]) -> int:
        """The id of campaign ``name``, created or updated to the given config.

        One upsert (``INSERT ... ON CONFLICT (name) DO UPDATE``), so two runs of a campaign
        started at the same moment get the same row instead of one failing on the unique name.
        """
        row = {"name": name, "config_hash": config_hash, "seed": seed, "config": config}
        with Session(self.engine) as s, s.begin():
            _upsert(s, self.engine, CampaignRow, [row], ["name"], ["config_hash", "seed", "config"])
            return s.scalars(select(CampaignRow.id).where(CampaignRow.name == name)).one()

    def write_round(
        self,
        campaign_id: int,
        round_: int,
        molecules: Sequence[tuple[str, str]],
        predictions: Sequence[tuple[str, str, str, str, float]],
        candidates: Sequence[dict[str, Any]],
        rejections: Iterable[Rejection],
        scoring_hash: str,
    ) -> None:
        """Write one round's results in a single transaction.

        The round's candidates and rejections replace those the store held for this round of
        the campaign, so the store always holds the rounds as the campaign's current file
        produced them (a re-run after a config change leaves no candidate of the earlier
        config behind). Molecules and predictions are only ever added.

        Args:
            molecules: ``(inchikey, smiles)`` pairs.
            predictions: ``(inchikey, predictor, version, output, value)`` rows.
            candidates: dicts with ``inchikey, score, objectives, provenance``; ``objectives``
                maps each objective to ``{"value": raw, "desirability": d}`` (Pareto uses d).
            rejections: the round's rejections.
            scoring_hash: identifies the objectives and aggregation the scores were computed
                under. Candidates of the campaign scored under any other scoring (rounds the
                current file no longer runs) are deleted: scores of two scorings are never
                ranked together.

        Writing the same round again leaves the same rows: no duplicates. Nothing is ranked
        here (ranks are computed when read, see :meth:`top`), so a round's cost grows with
        the round, not with the campaign.
        """
        e = self.engine
        with Session(e) as s, s.begin():
            ids = self._molecule_ids(s, molecules)
            for table in (Candidate, RejectionRow):
                s.execute(
                    delete(table).where(table.campaign_id == campaign_id, table.round == round_)
                )
            pred_rows = [
                {"molecule_id": ids[k], "predictor": p, "version": v, "output": o, "value": x}
                for k, p, v, o, x in predictions
            ]
            _upsert(
                s,
                e,
                Prediction,
                pred_rows,
                ["molecule_id", "predictor", "version", "output"],
                ["value"],
            )
            cand_rows = [
                {
                    "campaign_id": campaign_id,
                    "molecule_id": ids[c["inchikey"]],
                    "round": round_,
                    "score": float(c["score"]),
                    "rank": 0,  # unused (see Candidate), kept for stores of earlier versions
                    "pareto_rank": 0,
                    "objectives": c["objectives"],
                    "provenance": c["provenance"],
                    "scoring_hash": scoring_hash,
                }
                for c in candidates
            ]
            _upsert(
                s,
                e,
                Candidate,
                cand_rows,
                ["campaign_id", "molecule_id"],
                ["round", "score", "objectives", "provenance", "scoring_hash"],
            )
            rej_rows = [
                {
                    "campaign_id": campaign_id,
                    "round": round_,
                    "stage": r.stage,
                    "input": r.input,
                    "reason": r.reason,
                    "rules": ",".join(r.rules) or None,
                }
                for r in rejections
            ]
            _upsert(
                s,
                e,
                RejectionRow,
                rej_rows,
                ["campaign_id", "round", "stage", "input"],
                ["reason", "rules"],
            )
            self._drop_other_scorings(s, campaign_id, scoring_hash)

    def _molecule_ids(self, s: Session, molecules: Sequence[tuple[str, str]]) -> dict[str, int]:
        rows = [{"inchikey": k, "smiles": smi} for k, smi in molecules]
        _upsert(s, self.engine, Molecule, rows, ["inchikey"])
        keys = sorted({k for k, _ in molecules})
        ids: dict[str, int] = {}
        for start in range(0, len(keys), 500):
            q = select(Molecule.inchikey, Molecule.id).where(
                Molecule.inchikey.in_(keys[start : start + 500])
            )
            ids.update((k, i) for k, i in s.execute(q))
        return ids

    def cached_dockings(
        self, inchikeys: Sequence[str], receptor_hash: str, settings_hash: str
    ) -> dict[str, dict[str, Any]]:
        """Docking results already stored for these molecules, target and settings."""
        out: dict[str, dict[str, Any]] = {}
        with Session(self.engine) as s:
            for start in range(0, len(inchikeys), 500):
                q = (
                    select(Molecule.inchikey, Docking)
                    .join(Docking, Docking.molecule_id == Molecule.id)
                    .where(
                        Molecule.inchikey.in_(list(inchikeys[start : start + 500])),
                        Docking.receptor_hash == receptor_hash,
                        Docking.settings_hash == settings_hash,
                    )
                )
                for key, d in s.execute(q):
                    out[key] = {"score": d.score, "poses_sdf": d.poses_sdf, "reason": d.reason}
        return out

    def docked_scores(self, receptor_hash: str, settings_hash: str) -> list[tuple[str, str, float]]:
        """Every molecule docked with a score into this receptor with these settings (the
        docking cache, whichever campaign docked it): ``(inchikey, smiles, score)`` by
        InChIKey. A docking surrogate's training set."""
        q = (
            select(Molecule.inchikey, Molecule.smiles, Docking.score)
            .join(Docking, Docking.molecule_id == Molecule.id)
            .where(
                Docking.receptor_hash == receptor_hash,
                Docking.settings_hash == settings_hash,
                Docking.score.is_not(None),
            )
            .order_by(Molecule.inchikey)
        )
        with Session(self.engine) as s:
            return [(k, smi, float(y)) for k, smi, y in s.execute(q)]

    def write_dockings(
        self,
        results: Sequence[dict[str, Any]],
        receptor_hash: str,
        settings_hash: str,
        engine: str,
        settings: dict[str, Any],
    ) -> None:
        """Store docking results (dicts with ``inchikey, smiles, score, poses_sdf, reason,
        seconds``) in one transaction; a repeated result replaces the stored one."""
        if not results:
            return
        with Session(self.engine) as s, s.begin():
            ids = self._molecule_ids(s, [(r["inchikey"], r["smiles"]) for r in results])
            rows = [
                {
                    "molecule_id": ids[r["inchikey"]],
                    "receptor_hash": receptor_hash,
                    "settings_hash": settings_hash,
                    "engine": engine,
                    "settings": settings,
                    "score": r["score"],
                    "poses_sdf": r["poses_sdf"],
                    "reason": r["reason"],
                    "seconds": r["seconds"],
                }
                for r in results
            ]
            _upsert(
                s,
                self.engine,
                Docking,
                rows,
                ["molecule_id", "receptor_hash", "settings_hash"],
                ["engine", "settings", "score", "poses_sdf", "reason", "seconds"],
            )

    @staticmethod
    def _drop_other_scorings(s: Session, campaign_id: int, scoring_hash: str) -> None:
        """Delete the campaign's candidates scored under another scoring (or none).

        Three range deletes (below, above, null) rather than one ``!=``, so that SQLite and
        PostgreSQL each search the ``(campaign_id, scoring_hash)`` index for the few rows to
        delete instead of reading an entry for every candidate of the campaign each round.
        """
        h = Candidate.scoring_hash
        for other in (h < scoring_hash, h > scoring_hash, h.is_(None)):
            s.execute(delete(Candidate).where(Candidate.campaign_id == campaign_id, other))

    def _campaign_id(self, s: Session, campaign: str) -> int:
        cid = s.scalar(select(CampaignRow.id).where(CampaignRow.name == campaign))
        if cid is None:
            raise StoreError(f"store {self.url!r} has no campaign named {campaign!r}")
        return cid

    def has_campaign(self, campaign: str) -> bool:
        """Whether the store holds the campaign (it has run at least its first round)."""
        with Session(self.engine) as s:
            return s.scalar(select(CampaignRow.id).where(CampaignRow.name == campaign)) is not None

    def top(self, campaign: str, n: int | None = None) -> list[dict[str, Any]]:
        """The campaign's best candidates by rank, as plain dicts (for JSON, CSV, tables).

        ``rank`` is the position by score (highest first, ties by InChIKey), ``pareto_rank``
        the front by non-dominated sorting of the desirabilities; both are computed here, from
        the ``(campaign_id, score)`` index, reading about ``n`` rows whatever the campaign's
        size (:func:`molgen.store.ranking.ranked` says how, and why the fronts are the
        campaign's). ``pareto_rank`` is None past the first 10,000 candidates
        (:data:`molgen.store.ranking.PARETO_ROWS`; only when ``n`` is larger, or None).

        Raises:
            StoreError: the store holds no campaign of that name.
        """
        with Session(self.engine) as s:
            cid = self._campaign_id(s, campaign)
            return ranked(s, cid, n)

    def ranked_values(self, campaign: str) -> list[dict[str, Any]]:
        """Every candidate of the campaign as :meth:`top` gives it, without ``provenance``:
        the columns a table over the whole campaign needs, read several times faster (see
        :func:`molgen.store.ranking.ranked_values`).

        Raises:
            StoreError: the store holds no campaign of that name.
        """
        with Session(self.engine) as s:
            rows, pareto = ranked_values(s, self._campaign_id(s, campaign))
        return [
            {
                "rank": i + 1,
                "inchikey": key,
                "smiles": smiles,
                "score": score,
                "pareto_rank": pareto[i] if i < len(pareto) else None,
                "round": round_,
                "objectives": objectives,
            }
            for i, (key, smiles, score, round_, objectives) in enumerate(rows)
        ]

    def counts(self, campaign: str) -> dict[str, int]:
        """Row counts for a campaign (candidates, rejections), and store-wide tables."""
        with Session(self.engine) as s:
            cid = s.scalar(select(CampaignRow.id).where(CampaignRow.name == campaign))
            return {
                "candidates": s.scalar(
                    select(func.count()).select_from(Candidate).where(Candidate.campaign_id == cid)
                )
                or 0,
                "rejections": s.scalar(
                    select(func.count())
                    .select_from(RejectionRow)
                    .where(RejectionRow.campaign_id == cid)
                )
                or 0,
                "molecules": s.scalar(select(func.count()).select_from(Molecule)) or 0,
                "predictions": s.scalar(select(func.count()).select_from(Prediction)) or 0,
            }

    def rejections(
        self,
        campaign: str,
        round_: int | None = None,
        stage: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        rule: str | None = None,
    ) -> list[dict[str, Any]]:
        """The campaign's rejected inputs (``round, stage, input, reason, rules``) by round, in
        the order they were recorded (pipeline order); only ``round_``, ``stage`` and those
        refused by ``rule`` (a filter name or input-policy rule, see
        :attr:`molgen.types.Rejection.rules`) when given, at most ``limit`` after skipping
        ``offset``.

        Raises:
            StoreError: the store holds no campaign of that name.
        """
        with Session(self.engine) as s:
            q = (
                select(RejectionRow)
                .where(*self._rejection_filter(s, campaign, round_, stage, rule))
                .order_by(RejectionRow.round, _STAGE_ORDER, RejectionRow.id)
                .offset(offset)
                .limit(limit)
            )
            return [
                {
                    "round": r.round,
                    "stage": r.stage,
                    "input": r.input,
                    "reason": r.reason,
                    "rules": r.rules.split(",") if r.rules else [],
                }
                for r in s.scalars(q)
            ]

    def count_rejections(
        self,
        campaign: str,
        round_: int | None = None,
        stage: str | None = None,
        rule: str | None = None,
    ) -> int:
        """How many rejections :meth:`rejections` would list with no limit."""
        with Session(self.engine) as s:
            q = (
                select(func.count())
                .select_from(RejectionRow)
                .where(*self._rejection_filter(s, campaign, round_, stage, rule))
            )
            return int(s.scalar(q) or 0)

    def rejection_summary(
        self, campaign: str, round_: int | None = None, stage: str | None = None, reasons: int = 3
    ) -> list[dict[str, Any]]:
        """Per stage, in pipeline order (first round, then first recorded): ``{"stage", "count",
        "rules", "reasons"}``: how many rejections; per filter or input-policy rule that refused
        them, ``{"rule", "count"}`` (most first; a molecule two filters refused counts toward
        each, so these may add up to more than ``count``; rejections recorded without rules,
        by stages that have one reason or by earlier versions, are not in them); and the
        ``reasons`` most common single reasons as ``{"reason", "count"}`` (most frequent first,
        ties by reason). A reason joined from several by ``"; "`` (a molecule the filters
        reject for two alerts) counts toward each. Filtered as :meth:`rejections`.

        Raises:
            StoreError: the store holds no campaign of that name.
        """
        with Session(self.engine) as s:
            q = (
                select(
                    RejectionRow.stage,
                    RejectionRow.reason,
                    RejectionRow.rules,
                    func.count(),
                    func.min(RejectionRow.round),
                    func.min(RejectionRow.id),
                )
                .where(*self._rejection_filter(s, campaign, round_, stage))
                .group_by(RejectionRow.stage, RejectionRow.reason, RejectionRow.rules)
            )
            groups = s.execute(q).all()
        first: dict[str, tuple[int, int]] = {}  # stage -> its first (round, row id)
        counts: dict[str, int] = {}
        parts: dict[str, Counter[str]] = {}
        by_rule: dict[str, Counter[str]] = {}
        for st, reason, rules, n, round_first, id_first in groups:
            first[st] = min(first.get(st, (round_first, id_first)), (round_first, id_first))
            counts[st] = counts.get(st, 0) + n
            for part in dict.fromkeys(reason.split("; ")):
                parts.setdefault(st, Counter())[part] += n
            for rule in dict.fromkeys((rules or "").split(",")):
                if rule:
                    by_rule.setdefault(st, Counter())[rule] += n
        return [
            {
                "stage": st,
                "count": counts[st],
                "rules": [
                    {"rule": r, "count": n}
                    for r, n in sorted(by_rule.get(st, {}).items(), key=lambda x: (-x[1], x[0]))
                ],
                "reasons": [
                    {"reason": r, "count": n}
                    for r, n in sorted(parts[st].items(), key=lambda x: (-x[1], x[0]))[:reasons]
                ],
            }
            for st in sorted(first, key=lambda st: (first[st][0], _stage_order(st), first[st][1]))
        ]

    def _rejection_filter(
        self,
        s: Session,
        campaign: str,
        round_: int | None,
        stage: str | None,
        rule: str | None = None,
    ) -> list[Any]:
        where = [RejectionRow.campaign_id == self._campaign_id(s, campaign)]
        if round_ is not None:
            where.append(RejectionRow.round == round_)
        if stage is not None:
            where.append(RejectionRow.stage == stage)
        if rule is not None:  # one of the comma-separated names, matched whole
            listed = literal(",") + RejectionRow.rules + literal(",")
            where.append(listed.contains(f",{rule},", autoescape=True))
        return where
