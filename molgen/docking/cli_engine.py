"""Docking with a Vina-compatible command-line program (AutoDock Vina, QuickVina 2, smina...).

This is how a cluster plugs in a docking program that is installed there: any executable that
takes Vina's command-line options and writes Vina's output PDBQT (``REMARK VINA RESULT`` lines)
works. Each ligand runs as its own process, one CPU each, as many at once as ``workers``; the
process is killed when it passes the per-ligand timeout. Arguments go to the program as a list,
never through a shell.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import ClassVar

from molgen.docking.base import DOCKING_ENGINES, DockingSettings, DockResult
from molgen.docking.ligand import LigandError, ligand_pdbqt, poses_to_sdf
from molgen.docking.vina_engine import box_of, default_workers
from molgen.targets import Target


class DockingProgramError(RuntimeError):
    """The docking program is missing or does not behave like Vina."""


def parse_vina_scores(pdbqt: str) -> list[float]:
    """Scores (kcal/mol) from the ``REMARK VINA RESULT`` line of each pose, best first."""
    return [
        float(line.split()[3])
        for line in pdbqt.splitlines()
        if line.startswith("REMARK VINA RESULT")
    ]


@DOCKING_ENGINES.register("vina-cli")
class VinaCLIEngine:
    """Runs a Vina-compatible executable once per ligand.

    Args:
        workers: ligands docked at once (default: one per usable CPU).
        timeout_s: wall-clock limit per ligand; the process is killed after it.
        program: the executable's name on ``PATH`` or its path (default ``vina``).
    """

    name: ClassVar[str] = "vina-cli"

    def __init__(
        self, workers: int | None = None, timeout_s: float = 600.0, program: str = "vina"
    ) -> None:
        path = shutil.which(program)
        if path is None:
            raise DockingProgramError(f"docking program {program!r} not found on PATH")
        self.program = path
        self.workers = workers or default_workers()
        self.timeout_s = timeout_s
        try:
            out = subprocess.run(
                [path, "--version"], capture_output=True, text=True, timeout=30, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as err:
            raise DockingProgramError(f"{path} --version failed: {err}") from err
        first = (out.stdout or out.stderr).strip().splitlines()
        # the program's name and its own version line: both are part of the docking cache key
        self.version = f"cli-{Path(path).name}" + (f" ({first[0].strip()})" if first else "")

    def _args(
        self, receptor: str, ligand: Path, out: Path, target: Target, settings: DockingSettings
    ) -> list[str]:
        center, size = box_of(target, settings)
        args = [self.program, "--receptor", receptor, "--ligand", str(ligand), "--out", str(out)]
        for axis, c, s in zip("xyz", center, size, strict=True):
            args += [f"--center_{axis}", f"{c:.3f}", f"--size_{axis}", f"{s:.3f}"]
        args += ["--exhaustiveness", str(settings.exhaustiveness)]
        args += ["--num_modes", str(settings.n_poses), "--seed", str(settings.seed), "--cpu", "1"]
        return args

    def _dock_one(
        self, key: str, smiles: str, target: Target, settings: DockingSettings
    ) -> DockResult:
        t0 = time.perf_counter()
        try:
            pdbqt = ligand_pdbqt(
                smiles, settings.seed, ph=settings.ph, flexible_rings=settings.flexible_rings
            )
        except LigandError as err:
            return DockResult(key, smiles, None, None, str(err), time.perf_counter() - t0)
        with tempfile.TemporaryDirectory(prefix="molgen-dock-") as tmp:
            ligand, out = Path(tmp) / "ligand.pdbqt", Path(tmp) / "out.pdbqt"
            ligand.write_text(pdbqt)
            args = self._args(str(target.receptor), ligand, out, target, settings)
            try:
                proc = subprocess.run(
                    args, capture_output=True, text=True, timeout=self.timeout_s, check=False
                )
            except subprocess.TimeoutExpired:
                reason = f"docking timed out after {self.timeout_s:g} s"
                return DockResult(key, smiles, None, None, reason, self.timeout_s, cacheable=False)
            if proc.returncode != 0 or not out.exists():
                tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
                reason = f"{Path(self.program).name} exited with {proc.returncode}: {tail[0]}"
                return DockResult(key, smiles, None, None, reason, time.perf_counter() - t0)
            poses = out.read_text()
        scores = parse_vina_scores(poses)
        if not scores:
            reason = f"{Path(self.program).name} wrote no scored poses"
            return DockResult(key, smiles, None, None, reason, time.perf_counter() - t0)
        sdf = poses_to_sdf(poses, scores)
        return DockResult(key, smiles, scores[0], sdf, None, time.perf_counter() - t0)

    def dock(
        self, ligands: Sequence[tuple[str, str]], target: Target, settings: DockingSettings
    ) -> Iterator[DockResult]:
        """Dock ligands, ``workers`` at a time, yielding each result as it finishes."""
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            futures = [
                pool.submit(self._dock_one, key, smi, target, settings) for key, smi in ligands
            ]
            for future in as_completed(futures):
                yield future.result()
