"""What the web app reads from the candidate store (read-only): campaigns, a campaign's
candidates as a table, range filters, substructure search, a candidate's docked pose.

Every query goes through SQLAlchemy with bound parameters; user input reaches RDKit (a SMARTS
or SMILES query) and pandas (column names checked against the table's own), never SQL text.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from rdkit import Chem
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from molgen.docking import surrogate
from molgen.store import CandidateStore, StoreError
from molgen.store.schema import CampaignRow, Candidate, Molecule, Prediction

BASE_COLUMNS = ("rank", "score", "pareto_rank", "round")
SEARCH_SECONDS = 10.0
"""A substructure search stops after this long, with the matches among the candidates it got
to (the best-ranked: it goes in rank order), and the page says so."""
SEARCH_CHUNK = 5_000
"""Candidates searched between two looks at the clock."""
PREPARE_LIMIT = 200_000
"""Campaigns up to this many candidates are read into memory, for filters and search, as soon
as their grid is opened (:func:`prepare`); larger ones only when a filter or search asks."""


class QueryError(ValueError):
    """A query the user wrote that cannot run (a malformed SMARTS, an unknown column)."""


def campaigns(store: CandidateStore) -> list[dict[str, Any]]:
    """Every campaign in the store with its target, generator, rounds done, candidates and
    best score (one grouped query over the candidates)."""
    with Session(store.engine) as s:
        stats = {
            cid: (rounds, n, best)
            for cid, rounds, n, best in s.execute(
                select(
                    Candidate.campaign_id,
                    func.max(Candidate.round),
                    func.count(),
                    func.max(Candidate.score),
                ).group_by(Candidate.campaign_id)
            )
        }
        rows = s.execute(select(CampaignRow).order_by(CampaignRow.name)).scalars().all()
        out = []
        for c in rows:
            rounds, n, best = stats.get(c.id, (0, 0, None))
            config = c.config or {}
            target = config.get("target") or {}
            budget = config.get("budget") or {}
            out.append(
                {
                    "name": c.name,
                    "target": target.get("name") or target.get("pdb") or "",
                    "generator": (config.get("generator") or {}).get("kind", ""),
                    "rounds": rounds,
                    "budget_rounds": budget.get("rounds"),
                    "candidates": n,
                    "best": best,
                    "started": c.created_at,
                }
            )
    return out


@dataclass
class CandidateTable:
    """A campaign's candidates, ranked, with one column per objective value."""

    campaign: str
    frame: pd.DataFrame  # rank, inchikey, smiles, score, pareto_rank, round, <objectives>
    objectives: list[str]
    # built on first use and kept with the table: substructure library, fingerprints
    library: Any = field(default=None, repr=False)
    fingerprints: list[Any] | None = field(default=None, repr=False)
    building: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def value_columns(self) -> list[str]:
        return [*BASE_COLUMNS, *self.objectives]


_cache: dict[tuple[str, str], tuple[tuple[int, float | None], CandidateTable]] = {}
_cache_lock = threading.Lock()
_reading: dict[tuple[str, str], threading.Lock] = {}  # one read of a campaign at a time
log = logging.getLogger(__name__)


def _version(store: CandidateStore, campaign: str) -> tuple[int, float | None]:
    """Changes whenever the campaign's candidates change (count and score sum)."""
    with Session(store.engine) as s:
        n, total = s.execute(
            select(func.count(), func.sum(Candidate.score))
            .join(CampaignRow, CampaignRow.id == Candidate.campaign_id)
            .where(CampaignRow.name == campaign)
        ).one()
    return int(n), total


def candidate_table(store: CandidateStore, campaign: str) -> CandidateTable:
    """The campaign's ranked candidates, read once and kept until they change.

    Raises:
        StoreError: no campaign of that name.
    """
    key = (store.url, campaign)
    version = _version(store, campaign)
    with _cache_lock:
        hit = _cache.get(key)
        reading = _reading.setdefault(key, threading.Lock())
    if hit is not None and hit[0] == version:
        return hit[1]
    with reading:  # a second request for the campaign waits for the first one's read
        with _cache_lock:
            hit = _cache.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        return _read_table(store, campaign, key, version)


def _read_table(
    store: CandidateStore, campaign: str, key: tuple[str, str], version: tuple[int, float | None]
) -> CandidateTable:
    rows = store.ranked_values(campaign)
    objectives = sorted({k for r in rows for k in r["objectives"]})
    records = [_flat(r, objectives) for r in rows]
    frame = pd.DataFrame.from_records(
        records,
        columns=["rank", "inchikey", "smiles", "score", "pareto_rank", "round", *objectives],
    )
    table = CandidateTable(campaign, frame, objectives)
    with _cache_lock:
        _cache[key] = (version, table)
    return table


def _flat(row: dict[str, Any], objectives: list[str]) -> dict[str, Any]:
    rec = {k: row[k] for k in ("rank", "inchikey", "smiles", "score", "pareto_rank", "round")}
    for name in objectives:
        value = (row["objectives"].get(name) or {}).get("value")
        rec[name] = math.nan if value is None else float(value)
    return rec


@dataclass
class RankedPage:
    """One page of the campaign by rank, read without loading the campaign (``top(n)``)."""

    rows: list[dict[str, Any]]
    objectives: list[str]
    total: int

    @property
    def value_columns(self) -> list[str]:
        return [*BASE_COLUMNS, *self.objectives]


def ranked_page(store: CandidateStore, campaign: str, page: int, size: int) -> RankedPage:
    """Page ``page`` (from 1) of ``size`` candidates by rank: reads about ``page * size`` rows
    through the store's score index, whatever the campaign's size.

    Raises:
        StoreError: no campaign of that name.
    """
    if not store.has_campaign(campaign):
        raise StoreError(f"store {store.url!r} has no campaign named {campaign!r}")
    with Session(store.engine) as s:
        total = s.scalar(
            select(func.count())
            .select_from(Candidate)
            .join(CampaignRow, CampaignRow.id == Candidate.campaign_id)
            .where(CampaignRow.name == campaign)
        )
    pages = max(1, math.ceil(total / size))
    page = min(max(page, 1), pages)
    rows = store.top(campaign, page * size)[(page - 1) * size :]
    objectives = sorted({k for r in rows for k in r["objectives"]})
    return RankedPage([_flat(r, objectives) for r in rows], objectives, int(total))


def parse_query(text: str) -> Chem.Mol:
    """A substructure query: SMARTS, or SMILES when it is not valid SMARTS.

    Raises:
        QueryError: neither SMARTS nor SMILES.
    """
    text = text.strip()
    if len(text) > 500:
        raise QueryError("substructure query longer than 500 characters")
    query = Chem.MolFromSmarts(text) if text else None
    if query is None and text:
        query = Chem.MolFromSmiles(text)
    if query is None or query.GetNumAtoms() == 0:
        raise QueryError(f"{text!r} is neither a SMARTS pattern nor a SMILES")
    return query


@dataclass
class Selection:
    rows: pd.DataFrame
    total: int  # rows matching, before paging
    searched: int  # molecules the substructure search looked at
    note: str  # why a search stopped early, or ""


def select_rows(
    table: CandidateTable,
    ranges: dict[str, tuple[float | None, float | None]],
    query: str = "",
    sort: str = "rank",
    descending: bool = False,
    seconds: float = SEARCH_SECONDS,
) -> Selection:
    """The candidates inside every range (AND; a missing value is outside any range) that
    contain the substructure ``query``, sorted by ``sort``.

    Raises:
        QueryError: an unknown column, or a query that is not SMARTS or SMILES.
    """
    frame = table.frame
    mask = pd.Series(True, index=frame.index)
    for column, (low, high) in ranges.items():
        if column not in table.value_columns:
            raise QueryError(f"no column {column!r} to filter on")
        values = frame[column].astype(float)
        if low is not None:
            mask &= values >= low
        if high is not None:
            mask &= values <= high
    rows = frame[mask]
    searched, note = 0, ""
    if query.strip():
        pattern = parse_query(query)
        library = substruct_library(table)
        started = time.monotonic()
        hits: list[int] = []
        while searched < len(frame):  # in rank order, a chunk at a time, within the budget
            end = min(searched + SEARCH_CHUNK, len(frame))
            hits.extend(
                library.GetMatches(pattern, searched, end, maxResults=end - searched, numThreads=-1)
            )
            searched = end
            if searched < len(frame) and time.monotonic() - started > seconds:
                note = (
                    f"the search stopped after {seconds:.0f} s: it looked at the best "
                    f"{searched:,} of {len(frame):,} candidates"
                )
                rows = rows[rows.index < frame.index[searched]]
                break
        rows = rows[rows.index.isin(frame.index[hits])]
    if sort not in (*table.value_columns, "smiles", "inchikey"):
        raise QueryError(f"no column {sort!r} to sort by")
    rows = rows.sort_values([sort, "rank"], ascending=[not descending, True], na_position="last")
    return Selection(rows, len(rows), searched, note)


def round_stats(table: CandidateTable) -> dict[str, Any]:
    """Per round: candidates, score quartiles and range, best so far, and the median of each
    objective; small enough to send to the browser whatever the campaign's size."""
    frame = table.frame
    if frame.empty:
        return {"rounds": [], "n": [], "score": {}, "best_so_far": [], "objectives": {}}
    by_round = frame.groupby("round")
    quantiles = by_round["score"].quantile([0.0, 0.25, 0.5, 0.75, 1.0]).unstack()
    rounds = [int(r) for r in quantiles.index]
    best = by_round["score"].max().cummax()
    medians = by_round[table.objectives].median() if table.objectives else pd.DataFrame()
    return {
        "rounds": rounds,
        "n": [int(by_round.size()[r]) for r in rounds],
        "score": {
            key: [float(v) for v in quantiles[q]]
            for key, q in (("min", 0.0), ("q1", 0.25), ("median", 0.5), ("q3", 0.75), ("max", 1.0))
        },
        "best_so_far": [float(best[r]) for r in rounds],
        "objectives": {
            o: [None if math.isnan(v) else float(v) for v in medians[o]] for o in table.objectives
        },
    }


def front(table: CandidateTable, limit: int = 5000) -> dict[str, Any]:
    """The best ``limit`` candidates' value of every objective (None where missing) with their
    Pareto rank (over all objectives) and SMILES, for a scatter of the front of any two
    objectives drawn in the browser."""
    rows = table.frame.head(limit)
    return {
        "values": {
            o: [None if pd.isna(v) else float(v) for v in rows[o]] for o in table.objectives
        },
        "pareto_rank": [None if pd.isna(p) else int(p) for p in rows["pareto_rank"]],
        "smiles": rows["smiles"].tolist(),
    }


def rounds_view(table: CandidateTable) -> dict[str, Any]:
    """What the round-by-round page shows: per-round statistics, and the front's points with
    the first two objectives as its initial axes."""
    objectives = table.objectives
    x = objectives[0] if objectives else ""
    return {
        "name": table.campaign,
        "objectives": objectives,
        "stats": round_stats(table),
        "front": front(table) if objectives else None,
        "x": x,
        "y": objectives[1] if len(objectives) > 1 else x,
    }


def neighbours(table: CandidateTable, inchikey: str, k: int = 6) -> list[dict[str, Any]]:
    """The ``k`` candidates most similar to ``inchikey`` (Tanimoto on Morgan fingerprints,
    radius 2, 2048 bits; computed once per table), most similar first."""
    from rdkit import DataStructs
    from rdkit.Chem import rdFingerprintGenerator

    frame = table.frame
    fps = table.fingerprints
    if fps is None:
        generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
        fps = [generator.GetFingerprint(Chem.MolFromSmiles(smi)) for smi in frame["smiles"]]
        table.fingerprints = fps
    where = frame.index[frame["inchikey"] == inchikey]
    if len(where) == 0:
        return []
    i = frame.index.get_loc(where[0])
    sims = DataStructs.BulkTanimotoSimilarity(fps[i], fps)
    order = sorted((j for j in range(len(fps)) if j != i), key=lambda j: -sims[j])[:k]
    return [
        {
            "inchikey": frame["inchikey"].iloc[j],
            "smiles": frame["smiles"].iloc[j],
            "rank": int(frame["rank"].iloc[j]),
            "score": float(frame["score"].iloc[j]),
            "similarity": float(sims[j]),
        }
        for j in order
    ]


def substruct_library(table: CandidateTable) -> Any:
    """RDKit's SubstructLibrary of the table's molecules (row order), with pattern
    fingerprints that screen out most molecules before any atom-by-atom match; built once per
    table."""
    from rdkit.Chem import rdSubstructLibrary

    with table.building:
        library = table.library
        if library is None:
            mols = rdSubstructLibrary.CachedTrustedSmilesMolHolder()
            fps = rdSubstructLibrary.PatternHolder()
            for smi in table.frame["smiles"]:
                mols.AddSmiles(smi)
                mol = Chem.MolFromSmiles(smi)
                fps.AddFingerprint(fps.MakeFingerprint(mol))
            library = rdSubstructLibrary.SubstructLibrary(mols, fps)
            table.library = library
    return library


_preparing: dict[tuple[str, str], threading.Thread] = {}


def prepare(store: CandidateStore, campaign: str) -> threading.Thread:
    """Read the campaign's table and build its substructure library in a background thread
    (one at a time per campaign), so that a filter or search the reader asks for after opening
    the grid is answered from memory (the grid by rank needs neither). Requests that come
    first wait for this read instead of starting their own; a table already read and current
    is only checked. Returns the thread doing it."""
    key = (store.url, campaign)

    def run() -> None:
        try:
            substruct_library(candidate_table(store, campaign))
        except Exception:  # the request that needs the table reports it to the reader
            log.exception("preparing campaign %r for search failed", campaign)

    with _cache_lock:
        running = _preparing.get(key)
        if running is not None and running.is_alive():
            return running
        thread = threading.Thread(target=run, name=f"molgen-prepare-{campaign}", daemon=True)
        _preparing[key] = thread
        thread.start()
    return thread


def candidate(
    store: CandidateStore, campaign: str, inchikey: str, row: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """One candidate: its row of ``top`` (read here unless given) plus its predictions (those
    of the campaign's predictor versions, and the docking surrogate's) and docked poses (SD
    text)."""
    if row is None:
        table = candidate_table(store, campaign)
        match = table.frame.index[table.frame["inchikey"] == inchikey]
        if len(match) == 0:
            return None
        rank = int(table.frame.loc[match[0], "rank"])
        row = store.top(campaign, rank)[-1]
    with Session(store.engine) as s:
        mol_id = s.scalar(select(Molecule.id).where(Molecule.inchikey == inchikey))
        versions = dict(row["provenance"].get("predictors") or {})
        guess = row["provenance"].get("docking_prediction")
        if guess:  # a prediction of the docking score, listed as a prediction
            versions[surrogate.PREDICTOR] = guess["version"]
        predictions = [
            {"predictor": p, "output": o, "value": v}
            for p, o, v, ver in s.execute(
                select(
                    Prediction.predictor, Prediction.output, Prediction.value, Prediction.version
                )
                .where(Prediction.molecule_id == mol_id)
                .order_by(Prediction.predictor, Prediction.output)
            )
            if versions.get(p) == ver
        ]
    poses = docked_poses(store, [row]).get(inchikey)
    return {**row, "predictions": predictions, "poses_sdf": poses}


def docked_poses(store: CandidateStore, rows: list[dict[str, Any]]) -> dict[str, str]:
    """InChIKey -> poses (SD text) of candidates (rows of ``top``) from the docking cache, under
    the receptor and settings key each one's provenance names; one cache read per key."""
    by_key: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        docking = r["provenance"].get("docking") or {}
        if docking.get("receptor_hash") and docking.get("cache_key"):
            key = (docking["receptor_hash"], docking["cache_key"])
            by_key.setdefault(key, []).append(r["inchikey"])
    poses: dict[str, str] = {}
    for (receptor_hash, settings_hash), keys in by_key.items():
        cached = store.cached_dockings(keys, receptor_hash, settings_hash)
        poses.update({k: c["poses_sdf"] for k, c in cached.items() if c["poses_sdf"]})
    return poses


def receptor_pdb(target_name: str) -> str | None:
    """The receptor of a bundled target as PDB text (None for a user's receptor)."""
    from molgen.targets import TargetError, get_target

    try:
        return get_target(target_name).receptor_pdb()
    except (TargetError, OSError):
        return None


__all__ = [
    "front",
    "rounds_view",
    "neighbours",
    "round_stats",
    "CandidateTable",
    "QueryError",
    "Selection",
    "StoreError",
    "campaigns",
    "candidate",
    "candidate_table",
    "docked_poses",
    "parse_query",
    "prepare",
    "ranked_page",
    "receptor_pdb",
    "select_rows",
]
