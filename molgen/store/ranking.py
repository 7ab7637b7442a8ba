"""Ranks computed when the store is read: position by score and Pareto front (see
:func:`ranked`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from molgen.scoring.aggregate import pareto_ranks
from molgen.store.schema import Candidate, Molecule

PARETO_ROWS = 10_000
"""At most this many candidates, the best by score, get a ``pareto_rank`` in one read."""

SCORE_SLACK = 1e-9
"""Candidates scoring this little below the n-th are still read as possible dominators, in
case floating-point rounding put a dominating candidate's score a hair below the other's."""


def _in_rank_order(s: Session, columns: Sequence[Any], where: Sequence[Any]) -> Any:
    """``columns`` of the candidates matching ``where`` joined to their molecules, by rank:
    score, highest first, ties by InChIKey in byte order on both backends (PostgreSQL sorts
    by its locale otherwise)."""
    collation = "C" if s.get_bind().dialect.name == "postgresql" else "BINARY"
    return (
        select(*columns)
        .join(Molecule, Molecule.id == Candidate.molecule_id)
        .where(*where)
        .order_by(Candidate.score.desc(), Molecule.inchikey.collate(collation))
    )


def ranked(s: Session, campaign_id: int, n: int | None) -> list[dict[str, Any]]:
    """The campaign's ``n`` best candidates (all when None) with rank and Pareto rank.

    Ranks are computed here, when read, instead of being stored for every candidate at every
    write (that made each round cost a load, a sort and an update of the whole campaign).

    - ``rank``: position by score, highest first, ties by InChIKey. The ``n``-th best score
      is found first by walking the ``(campaign_id, score)`` index; only candidates scoring at
      least that much are read, sorted and cut to ``n``.
    - ``pareto_rank``: the front of non-dominated sorting of the desirabilities, computed
      over the candidates read. It equals the front over the whole campaign: a candidate
      that dominates another scores at least as high under both aggregations (weighted sum
      and geometric mean, positive weights, do not decrease in any desirability), so every
      candidate dominating one of the ``n`` best is among those read (ties at the ``n``-th
      score included, up to :data:`PARETO_ROWS` rows, and scores within
      :data:`SCORE_SLACK` below it). Past the first :data:`PARETO_ROWS` candidates it is None.

    A read costs ``O(n log N)`` for a campaign of ``N`` candidates, plus ``O(n^2)`` for the
    Pareto fronts of the ``n`` rows.
    """
    where = [Candidate.campaign_id == campaign_id]
    if n is not None:
        if n <= 0:
            return []
        nth = s.scalar(
            select(Candidate.score)
            .where(Candidate.campaign_id == campaign_id)
            .order_by(Candidate.score.desc())
            .offset(n - 1)
            .limit(1)
        )
        if nth is not None:
            where.append(Candidate.score >= nth - SCORE_SLACK)
    q = _in_rank_order(s, [Candidate, Molecule], where)
    if n is not None:
        q = q.limit(max(n, PARETO_ROWS))
    rows = s.execute(q).all()
    pareto = _pareto([c.objectives for c, _ in rows[:PARETO_ROWS]])
    return [
        {
            "rank": i + 1,
            "smiles": m.smiles,
            "inchikey": m.inchikey,
            "score": c.score,
            "pareto_rank": pareto[i] if i < len(pareto) else None,
            "round": c.round,
            "objectives": c.objectives,
            "provenance": c.provenance,
        }
        for i, (c, m) in enumerate(rows[:n])
    ]


def ranked_values(s: Session, campaign_id: int) -> tuple[list[Any], list[int]]:
    """Every candidate of the campaign by rank, as ``(inchikey, smiles, score, round,
    objectives)`` rows, and the Pareto ranks of the first :data:`PARETO_ROWS` of them: what
    :func:`ranked` gives for ``n=None`` without the provenance, read column by column (a
    campaign of 100,000 candidates in a few seconds, for tables over the whole campaign)."""
    columns = [
        Molecule.inchikey, Molecule.smiles, Candidate.score, Candidate.round,
        Candidate.objectives,
    ]  # fmt: skip
    q = _in_rank_order(s, columns, [Candidate.campaign_id == campaign_id])
    rows = s.execute(q).all()
    return rows, _pareto([r[4] for r in rows[:PARETO_ROWS]])


def _pareto(objectives: Sequence[dict[str, Any]]) -> list[int]:
    """Pareto ranks of candidates (their ``objectives`` mappings) by desirability (a missing
    one is 0)."""
    if not objectives:
        return []
    names = sorted(objectives[0])  # one scoring: every row has the same objectives
    d = np.array([[o[k]["desirability"] for k in names] for o in objectives], dtype=float).reshape(
        len(objectives), len(names)
    )
    return [int(p) for p in pareto_ranks(np.nan_to_num(d, nan=0.0))]
