"""``molgen report``: a campaign as static pages that open from disk, for colleagues without
molgen.

The report renders the web app's own templates (:mod:`molgen.web.templates`) with links
between files (:class:`molgen.web.links.ReportLinks`): ``index.html`` is the candidate grid,
whose range filters and sorting run in the page (``static/report.js``) over the best ``n``
candidates embedded in it; ``rounds.html`` and ``rejections.html`` are the app's plots over
the whole campaign; each candidate has its page, with its docked pose and the receptor's pocket
embedded (a page opened from disk cannot fetch files). Substructure search needs RDKit on a
server, so the grid sends the reader to ``molgen serve`` for it. Structures are RDKit SVG
files in ``structures/``; Plotly and 3Dmol.js are copied with their licences into ``static/``.
"""

from __future__ import annotations

import json
import math
import shutil
from datetime import UTC, datetime
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
from rdkit import Chem

from molgen import __version__
from molgen.store import CandidateStore
from molgen.web import data
from molgen.web.links import ReportLinks
from molgen.web.render import number_text, shown_url, structure_svg

MARKER = "molgen-report.json"
"""Written into every report folder; a folder holding files but no marker is not overwritten."""
PAGES = ("index.html", "rounds.html", "rejections.html")
REJECTIONS_LISTED = 1000
POCKET_DISTANCE = 8.0
"""Receptor residues with an atom this close (Å) to the best pose are embedded in its page."""


class ReportError(ValueError):
    """The report cannot be written where asked (a folder that holds other files)."""


def pocket_pdb(receptor: str, pose_sdf: str, distance: float = POCKET_DISTANCE) -> str:
    """The ATOM and HETATM lines of ``receptor`` (PDB text) whose residue has an atom within
    ``distance`` Å of the first pose in ``pose_sdf``; "" when the pose cannot be read."""
    block = pose_sdf.split("$$$$", maxsplit=1)[0]
    mol = Chem.MolFromMolBlock(block, sanitize=False, removeHs=False)
    if mol is None or mol.GetNumConformers() == 0:
        return ""
    ligand = mol.GetConformer().GetPositions()
    residues: dict[str, list[str]] = {}
    coords: dict[str, list[tuple[float, float, float]]] = {}
    for line in receptor.splitlines():
        if not line.startswith(("ATOM", "HETATM")) or len(line) < 54:
            continue
        try:
            xyz = (float(line[30:38]), float(line[38:46]), float(line[46:54]))
        except ValueError:
            continue
        key = line[17:27]  # residue name, chain, number and insertion code
        residues.setdefault(key, []).append(line)
        coords.setdefault(key, []).append(xyz)
    kept = []
    for key, lines in residues.items():
        gaps = np.asarray(coords[key])[:, None, :] - ligand[None, :, :]
        if (np.sqrt((gaps**2).sum(-1)) <= distance).any():
            kept.extend(lines)
    return "\n".join([*kept, "END"]) + "\n" if kept else ""


def _clear(out: Path) -> None:
    """Make ``out`` an empty place for a report: new, empty, or an earlier report's folder
    (whose files are removed; nothing else in it is touched)."""
    if out.exists() and not out.is_dir():
        raise ReportError(f"{out} is a file; give a folder for the report")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MARKER).is_file():
            raise ReportError(
                f"{out} holds files that are not a molgen report; give a new or empty folder"
            )
        for path in out.iterdir():
            if path.name in ("static", "structures") and path.is_dir():
                shutil.rmtree(path)
            elif path.name in (*PAGES, MARKER) or (
                path.name.startswith("candidate-") and path.suffix == ".html"
            ):
                path.unlink()
    out.mkdir(parents=True, exist_ok=True)


def _environment(links: ReportLinks) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("molgen.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["num"] = number_text
    env.globals["to"] = links
    return env


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if not math.isfinite(value) else float(value)
    return value


def write_report(store: CandidateStore, campaign: str, out: Path, n: int = 200) -> Path:
    """Write the report of ``campaign`` (its best ``n`` candidates, each with a page, and the
    whole campaign's plots and rejections) into the folder ``out``; returns ``out/index.html``.

    Raises:
        molgen.store.StoreError: the store has no campaign of that name.
        ReportError: ``out`` is a file, or a folder holding files that are not a report.
    """
    table = data.candidate_table(store, campaign)
    _clear(out)
    top = table.frame.head(n)
    links = ReportLinks(set(top["inchikey"]))
    env = _environment(links)
    info = next(c for c in data.campaigns(store) if c["name"] == campaign)
    written = datetime.now(UTC)

    def page(file: str, template: str, **context: Any) -> None:
        (out / file).write_text(env.get_template(template).render(**context), encoding="utf-8")

    rows = []
    for record in top.to_dict("records"):
        row = {k: _json_value(v) for k, v in record.items()}
        row["svg"] = links.svg(record["smiles"], 280)
        row["href"] = links.candidate(campaign, record["inchikey"])
        rows.append(row)
    page(
        "index.html",
        "report.html",
        name=campaign,
        info=info,
        columns=table.value_columns,
        objectives=table.objectives,
        rows=rows,
        store=shown_url(store.url),
        written=written.strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__,
    )
    page("rounds.html", "rounds.html", **data.rounds_view(table))
    summary = store.rejection_summary(campaign, reasons=5)
    page(
        "rejections.html",
        "rejections.html",
        name=campaign,
        summary=summary,
        rows=store.rejections(campaign, limit=REJECTIONS_LISTED),
        total=store.count_rejections(campaign),
        stage="",
        rule="",
    )
    receptors: dict[str, str | None] = {}
    read = {r["inchikey"]: r for r in store.top(campaign, len(top))}  # one read for all pages
    for key in top["inchikey"]:
        found = data.candidate(store, campaign, key, read[key])
        assert found is not None  # a key of the campaign's own table
        docking = found["provenance"].get("docking") or {}
        pocket = ""
        if found["poses_sdf"] and docking.get("target"):
            target = docking["target"]
            if target not in receptors:
                receptors[target] = data.receptor_pdb(target)
            if receptors[target]:
                pocket = pocket_pdb(receptors[target], found["poses_sdf"])
        page(
            f"candidate-{key}.html",
            "candidate.html",
            name=campaign,
            c=found,
            docking=docking,
            pocket=pocket,
            neighbours=data.neighbours(table, key),
        )
    (out / "structures").mkdir(exist_ok=True)
    for name, (smiles, width) in links.structures.items():
        (out / name).write_text(structure_svg(smiles, "", width, width * 3 // 4), "utf-8")
    with as_file(files("molgen.web") / "static") as static:
        shutil.copytree(static, out / "static")
    marker = {
        "campaign": campaign,
        "store": shown_url(store.url),
        "candidates": len(table.frame),
        "in_report": len(top),
        "written": written.isoformat(),
        "molgen": __version__,
    }
    (out / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    return out / "index.html"
