"""Pictures and files for people: PNG grids and SD files of ranked candidates."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from rdkit import Chem
from rdkit.Chem import AllChem, Draw

_FONT_SIZE = 15


@cache
def _font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """FreeSans, which RDKit ships (it has "—" and "·", unlike Pillow's and RDKit's own legend
    fonts); Pillow's default font if a build lacks it."""
    path = Path(Draw.__file__).parent / "FreeSans.ttf"
    if path.exists():
        return ImageFont.truetype(str(path), _FONT_SIZE)
    return ImageFont.load_default(_FONT_SIZE)


def _wrap(text: str, width: float) -> list[str]:
    """``text`` as is when it fits in ``width`` pixels; else broken after each `` | ``, and
    after `` · `` where a line would be too wide (a part wider than a line is left whole)."""
    font = _font()
    if font.getlength(text) <= width:
        return [text]
    lines: list[str] = []
    for block in text.split(" | "):
        parts = block.split(" · ")
        line = parts[0]
        for part in parts[1:]:
            joined = f"{line} · {part}"
            if font.getlength(joined) <= width:
                line = joined
            else:
                lines.append(line)
                line = part
        lines.append(line)
    return lines


def grid_png(
    smiles: Sequence[str],
    legends: Sequence[str],
    per_row: int = 4,
    size: tuple[int, int] = (300, 240),
) -> bytes:
    """A PNG grid of 2D depictions, each with its legend under it.

    Args:
        smiles: one molecule per panel; a SMILES RDKit cannot read leaves its panel blank.
        legends: one per molecule, any Unicode text; a legend wider than its panel is wrapped
            after its `` | `` and `` · `` separators.
        per_row: panels per row.
        size: (width, height) of each drawing in pixels, legend excluded.

    Returns:
        The PNG file's bytes.
    """
    if len(legends) != len(smiles):
        raise ValueError(f"{len(smiles)} molecules but {len(legends)} legends")
    width, height = size
    wrapped = [_wrap(text, width - 8) for text in legends]
    line_height = _FONT_SIZE + 4
    legend_height = max((len(lines) for lines in wrapped), default=0) * line_height + 8
    rows = max(1, math.ceil(len(smiles) / per_row))
    columns = min(per_row, max(1, len(smiles)))
    grid = Image.new("RGB", (columns * width, rows * (height + legend_height)), "white")
    draw = ImageDraw.Draw(grid)
    for i, (smi, lines) in enumerate(zip(smiles, wrapped, strict=True)):
        x, y = (i % per_row) * width, (i // per_row) * (height + legend_height)
        mol = Chem.MolFromSmiles(smi)
        if mol is not None:
            grid.paste(Draw.MolToImage(mol, size=size), (x, y))
        for j, line in enumerate(lines):
            left = x + (width - _font().getlength(line)) / 2
            draw.text((left, y + height + j * line_height), line, fill="black", font=_font())
    buffer = io.BytesIO()
    grid.save(buffer, format="PNG")
    return buffer.getvalue()


def _best_pose(poses_sdf: str) -> tuple[Chem.Mol | None, float | None]:
    """The first pose with none of its tags (meeko's JSON, pose number), and its
    ``vina_score`` (None without one)."""
    supplier = Chem.ForwardSDMolSupplier(io.BytesIO(poses_sdf.encode()), removeHs=False)
    mol = next(iter(supplier), None)
    if mol is None:
        return None, None
    score = mol.GetDoubleProp("vina_score") if mol.HasProp("vina_score") else None
    for name in mol.GetPropNames():
        mol.ClearProp(name)
    return mol, score


def _sdf_value(value: Any) -> str | None:
    """A property value as SD text: 4 significant digits; None when missing (None or NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def write_sdf(
    rows: Sequence[Mapping[str, Any]], path: Path, poses: Mapping[str, str] | None = None
) -> int:
    """Write candidates (as returned by ``CandidateStore.top``) to an SD file.

    Each record carries rank, score, Pareto rank, round, InChIKey, SMILES and, per objective,
    its value and desirability (4 significant digits); a missing value (a molecule not docked
    or not predicted) has no tag. A candidate with docked poses (``poses``: InChIKey -> poses
    SD block, best first) is written as its best pose in 3D, keeping none of the pose block's
    own tags: its one docking score is ``docking_score`` (the objective's value, or the pose's
    Vina score when no objective uses it). Others get 2D coordinates.

    Returns:
        The number of records written.
    """
    poses = poses or {}
    with Chem.SDWriter(str(path)) as writer:
        for r in rows:
            mol, pose_score = _best_pose(poses.get(r["inchikey"], ""))
            if mol is None:
                mol = Chem.MolFromSmiles(r["smiles"])
                AllChem.Compute2DCoords(mol)
            mol.SetProp("_Name", f"rank {r['rank']} {r['inchikey']}")
            tags: dict[str, Any] = {
                key: r[key] for key in ("rank", "score", "pareto_rank", "round", "inchikey")
            }
            tags["smiles"] = r["smiles"]
            for name, obj in r["objectives"].items():
                tags[name] = obj["value"]
                tags[f"{name}_desirability"] = obj["desirability"]
            if pose_score is not None:  # docked, with no docking objective: the pose's score
                tags.setdefault("docking_score", pose_score)
            for key, value in tags.items():
                text = _sdf_value(value)
                if text is not None:
                    mol.SetProp(key, text)
            writer.write(mol)
    return len(rows)
