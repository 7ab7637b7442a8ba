"""The candidate store's tables (SQLAlchemy 2 declarative models)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    inspect,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def _now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Molecule(Base):
    """A standardized molecule; InChIKey is its identity across campaigns."""

    __tablename__ = "molecules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inchikey: Mapped[str] = mapped_column(String(27), unique=True, index=True)
    smiles: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Prediction(Base):
    """One predicted value, keyed by molecule, predictor, predictor version and output column."""

    __tablename__ = "predictions"
    __table_args__ = (UniqueConstraint("molecule_id", "predictor", "version", "output"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    molecule_id: Mapped[int] = mapped_column(ForeignKey("molecules.id"), index=True)
    predictor: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(200))
    output: Mapped[str] = mapped_column(String(200))
    value: Mapped[float] = mapped_column(Float)


class CampaignRow(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    config_hash: Mapped[str] = mapped_column(String(64))
    seed: Mapped[int] = mapped_column(Integer)
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Candidate(Base):
    """A molecule proposed by a campaign that passed its filters, with score and provenance.

    ``scoring_hash`` identifies the objectives and aggregation its score was computed under;
    only candidates scored under the campaign's current scoring are kept and ranked.

    Ranks are not stored: :meth:`molgen.store.CandidateStore.top` computes them when it reads
    (see :mod:`molgen.store.store`). ``rank`` and ``pareto_rank`` stay as columns, written as
    0, so that stores made by earlier versions (where they are ``NOT NULL``) take new rows.
    The indexes serve the per-round queries: ``(campaign_id, score)`` the ranking,
    ``(campaign_id, round)`` the replacement of a round, ``(campaign_id, scoring_hash)`` the
    removal of rows scored under another scoring.
    """

    __tablename__ = "candidates"
    __table_args__ = (
        UniqueConstraint("campaign_id", "molecule_id"),
        Index("ix_candidates_campaign_score", "campaign_id", "score"),
        Index("ix_candidates_campaign_round", "campaign_id", "round"),
        Index("ix_candidates_campaign_scoring", "campaign_id", "scoring_hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    molecule_id: Mapped[int] = mapped_column(ForeignKey("molecules.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    rank: Mapped[int] = mapped_column(Integer)  # unused since ranks are read-time; 0
    pareto_rank: Mapped[int] = mapped_column(Integer)  # unused since ranks are read-time; 0
    objectives: Mapped[dict[str, Any]] = mapped_column(JSON)
    provenance: Mapped[dict[str, Any]] = mapped_column(JSON)
    scoring_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)


class RejectionRow(Base):
    """An input a stage refused, with the reason."""

    __tablename__ = "rejections"
    __table_args__ = (UniqueConstraint("campaign_id", "round", "stage", "input"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(50))
    input: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    # what in the stage refused it, comma-separated: filter names, or an input-policy rule
    rules: Mapped[str | None] = mapped_column(String(500), nullable=True)


class Docking(Base):
    """A docking result, the cache that keeps molgen from docking a molecule twice.

    Keyed by molecule, receptor hash and docking-settings hash; shared by every campaign that
    uses the same store. Failures are kept too (``score`` null, ``reason`` set) when they are
    deterministic, so a molecule that cannot be embedded is not retried.
    """

    __tablename__ = "dockings"
    __table_args__ = (UniqueConstraint("molecule_id", "receptor_hash", "settings_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    molecule_id: Mapped[int] = mapped_column(ForeignKey("molecules.id"), index=True)
    receptor_hash: Mapped[str] = mapped_column(String(64))
    settings_hash: Mapped[str] = mapped_column(String(64))
    engine: Mapped[str] = mapped_column(String(100))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    poses_sdf: Mapped[str | None] = mapped_column(Text, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    seconds: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


_ADDED_COLUMNS = {
    "candidates": {"scoring_hash": "VARCHAR(64)"},
    "rejections": {"rules": "VARCHAR(500)"},
}
"""Columns added since the first schema, with their SQL types, for :func:`upgrade`."""

_ADDED_INDEXES = [
    index
    for index in Candidate.__table__.indexes
    if index.name and index.name.startswith("ix_candidates_campaign_")
]
"""Indexes added since the first schema (created by :func:`upgrade` where missing)."""

_DROPPED_INDEXES = ["ix_candidates_rank"]
"""Indexes of earlier schemas that no query uses any more: each write had to maintain them."""


def upgrade(engine: Engine) -> None:
    """Bring an older store to the current schema (``create_all`` only creates missing tables).

    Adds missing columns and indexes, and drops indexes no query uses. Candidates of an older
    store have no ``scoring_hash``; the next run of their campaign scores and writes them
    again (the store stage's code version changed). A store already current is only read.
    """
    tables = inspect(engine)
    for table, columns in _ADDED_COLUMNS.items():
        present = {c["name"] for c in tables.get_columns(table)}
        with engine.begin() as conn:
            for name, sql_type in columns.items():
                if name not in present:
                    conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {name} {sql_type}"))
    indexes = {i["name"] for i in tables.get_indexes("candidates")}
    missing = [i for i in _ADDED_INDEXES if i.name not in indexes]
    dropped = [name for name in _DROPPED_INDEXES if name in indexes]
    if missing or dropped:
        with engine.begin() as conn:
            for index in missing:
                index.create(conn, checkfirst=True)
            for name in dropped:
                conn.execute(text(f"DROP INDEX IF EXISTS {name}"))
