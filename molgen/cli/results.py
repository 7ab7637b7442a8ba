"""Commands that read a campaign's results: ``top``, ``export`` and ``rejections``.

Every format says the same thing: a missing value (a molecule that was not docked, or whose
predictor gave no value) is "—" in tables and picture labels, empty in CSV, ``null`` in JSON,
and an absent tag in SD files. Tables and CSV round values to
:data:`~molgen.cli.common.DIGITS` significant digits; JSON keeps full precision. None of these
commands creates a store: before a campaign's first run they say so and exit with status 2.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from collections.abc import Iterable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from molgen.cli.common import MISSING, console, err_console, fail, load, number, open_store
from molgen.config import Campaign, CampaignError

CampaignFile = Annotated[Path, typer.Argument(help="campaign TOML file")]


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


FORMAT_HELP = (
    "table, csv or json; table and CSV round values to 4 significant digits, JSON keeps full "
    "precision; a missing value is '—' in the table, empty in CSV, null in JSON"
)


def _cell(value: float | None) -> str:
    return number(value) or MISSING


def _csv_value(value: float | None) -> str:
    return number(value) or ""


def _json_safe(value: Any) -> Any:
    """``value`` with every NaN or infinite float as None (JSON has no NaN)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def _write_json(data: Any) -> None:
    sys.stdout.write(json.dumps(_json_safe(data), indent=2, allow_nan=False) + "\n")


def _write_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)


def objective_names(campaign: Campaign) -> list[str]:
    """The campaign's objective values in file order, the docking score first."""
    from molgen.pipeline.keys import DOCKING_SCORE

    names = [o.value for o in campaign.objectives]
    return sorted(names, key=lambda name: name != DOCKING_SCORE)


def legend(row: dict[str, Any], objectives: Sequence[str]) -> str:
    """A picture label: ``#3  0.812 | dock -9.44 · qed 0.712 · sa 2.23`` (3 significant
    digits; "—" for a missing value; ``docking_score`` reads "dock", other names lose a
    ``_score`` suffix)."""
    from molgen.pipeline.keys import DOCKING_SCORE

    values = " · ".join(
        f"{'dock' if o == DOCKING_SCORE else o.removesuffix('_score')} "
        f"{number(row['objectives'][o]['value'], 3) or MISSING}"
        for o in objectives
    )
    return f"#{row['rank']}  {row['score']:.3f} | {values}"


def _value(row: dict[str, Any], objective: str) -> float | None:
    return row["objectives"][objective]["value"]


def _prediction(row: dict[str, Any]) -> dict[str, Any] | None:
    """The docking surrogate's prediction for the candidate, if it made one."""
    return (row.get("provenance") or {}).get("docking_prediction")


def predicted_cell(row: dict[str, Any]) -> str:
    """``~-8.12 ±0.71`` for a candidate that was not docked and has a predicted docking score
    (``~`` marks a prediction), else empty: a docked candidate's score is its docking result."""
    p = _prediction(row)
    if p is None or p["docked"]:
        return ""
    return f"~{number(p['value'])} ±{number(p['uncertainty'], 2)}"


def top(
    campaign_file: CampaignFile,
    n: Annotated[int, typer.Option("--n", "-n", min=1, help="how many candidates")] = 20,
    fmt: Annotated[Format, typer.Option("--format", "-f", help=FORMAT_HELP)] = Format.table,
    image: Annotated[
        Path | None,
        typer.Option(
            help="also draw the candidates as a PNG grid to this file, each labelled with "
            "rank, score and objective values (docking score first)"
        ),
    ] = None,
) -> None:
    """Show a campaign's best candidates, ranked by aggregate score."""
    campaign = load(campaign_file)
    store = open_store(campaign, campaign_file)
    try:
        rows = store.top(campaign.name, n)
    finally:
        store.close()
    objectives = objective_names(campaign)
    # a campaign whose docking a surrogate chooses: predicted scores in columns of their own
    surrogate = campaign.budget.dock_per_round > 0 and campaign.docking.selection == "surrogate"
    if fmt is Format.json:
        _write_json(rows)
    elif fmt is Format.csv:
        guessed = ["docking_score_predicted", "docking_score_uncertainty"] if surrogate else []
        _write_csv(
            ["rank", "smiles", "inchikey", "score", "pareto_rank", "round", *objectives, *guessed],
            (
                [
                    r["rank"],
                    r["smiles"],
                    r["inchikey"],
                    _csv_value(r["score"]),
                    r["pareto_rank"],
                    r["round"],
                    *(_csv_value(_value(r, o)) for o in objectives),
                    *(
                        _csv_value((_prediction(r) or {}).get(k))
                        for k in ("value", "uncertainty")
                        if surrogate
                    ),
                ]
                for r in rows
            ),
        )
    else:
        guessed = ["dock (predicted)"] if surrogate else []
        table = Table(
            "rank", "score", "pareto", "round", *objectives, *guessed, title=campaign.name
        )
        table.add_column("SMILES", overflow="fold")
        for r in rows:
            table.add_row(
                str(r["rank"]),
                _cell(r["score"]),
                str(r["pareto_rank"]),
                str(r["round"]),
                *(_cell(_value(r, o)) for o in objectives),
                *([predicted_cell(r)] if surrogate else []),
                r["smiles"],
            )
        console.print(table)
    if image is not None:
        from molgen.chem.depict import grid_png

        image.write_bytes(
            grid_png([r["smiles"] for r in rows], [legend(r, objectives) for r in rows])
        )
        err_console.print(f"wrote {image}")


def export(
    campaign_file: CampaignFile,
    sdf: Annotated[Path, typer.Option("--sdf", help="SD file to write")],
    n: Annotated[int, typer.Option("--n", "-n", min=1, help="how many candidates")] = 100,
) -> None:
    """Write the top candidates as an SD file for PyMOL and other viewers.

    Docked candidates are written as their best pose (3D), others with 2D coordinates. Every
    record has rank, score and the objective values (4 significant digits; a missing value has
    no tag), and one docking score, `docking_score`. A docking campaign also gets its receptor
    as PDB beside the SD file (top.sdf: top_receptor.pdb), so the poses open in their pocket.
    """
    from molgen.chem.depict import write_sdf

    campaign = load(campaign_file)
    store = open_store(campaign, campaign_file)
    poses: dict[str, str] = {}
    receptor: Path | None = None
    try:
        rows = store.top(campaign.name, n)
        if campaign.budget.dock_per_round:
            from molgen.pipeline.components import build_docking, resolve_target

            try:
                target = resolve_target(campaign)
                engine, settings = build_docking(campaign)
            except CampaignError as err:
                raise fail(f"{campaign_file}: {err}") from err
            cached = store.cached_dockings(
                [r["inchikey"] for r in rows],
                target.receptor_hash(),
                settings.cache_key(engine.version),  # the key dock_with_cache stores results under
            )
            poses = {k: v["poses_sdf"] for k, v in cached.items() if v["poses_sdf"]}
            receptor = sdf.with_name(f"{sdf.stem}_receptor.pdb")
            receptor.write_text(target.receptor_pdb())
    finally:
        store.close()
    count = write_sdf(rows, sdf, poses)
    console.print(f"wrote {count} candidates ({len(poses)} with docked poses) to {sdf}")
    if receptor is not None:
        console.print(f"wrote the receptor to {receptor}")


def rejections(
    campaign_file: CampaignFile,
    round_: Annotated[int | None, typer.Option("--round", help="only this round")] = None,
    stage: Annotated[
        str | None, typer.Option(help="only this stage (seeds, prepare, predict, filter, dock)")
    ] = None,
    fmt: Annotated[
        Format,
        typer.Option(
            "--format",
            "-f",
            help="table: per-stage summary and the list; csv: the list; json: both",
        ),
    ] = Format.table,
    n: Annotated[
        int, typer.Option("--n", "-n", min=0, help="how many rejections to list (0: all)")
    ] = 50,
) -> None:
    """Show what a campaign rejected: each input with its round, stage and reason, and per
    stage how many and the most common reasons."""
    campaign = load(campaign_file)
    store = open_store(campaign, campaign_file)
    try:
        summary = store.rejection_summary(campaign.name, round_, stage)
        rows = store.rejections(campaign.name, round_, stage, limit=n or None)
    finally:
        store.close()
    total = sum(s["count"] for s in summary)
    if fmt is Format.json:
        _write_json({"total": total, "summary": summary, "rejections": rows})
        return
    if fmt is Format.csv:
        columns = ("round", "stage", "input", "reason")
        _write_csv(columns, ([r[c] for c in columns] for r in rows))
        return
    if not summary:
        console.print(f"{campaign.name}: no rejections")
        return
    by_stage = Table("stage", "rejected", "refused by", "most common reasons", title=campaign.name)
    for s in summary:
        rules = "\n".join(f"{r['count']} × {r['rule']}" for r in s["rules"])
        reasons = "\n".join(f"{r['count']} × {r['reason']}" for r in s["reasons"])
        by_stage.add_row(s["stage"], str(s["count"]), rules, reasons)
    console.print(by_stage)
    listing = Table("round", "stage", "input", "reason")
    for r in rows:
        listing.add_row(str(r["round"]), r["stage"], r["input"], r["reason"])
    console.print(listing)
    if len(rows) < total:
        console.print(f"showing {len(rows)} of {total} rejections (--n 0 lists all)")


def register(app: typer.Typer) -> None:
    app.command("top")(top)
    app.command("export")(export)
    app.command("rejections")(rejections)
