"""The failure rule every benchmark follows: no figure comes from a side that failed.

A benchmark runs molgen and a baseline on one fixed set of molecules. If either side fails on any
molecule of the set, the benchmark stops with exit status 1 and prints which side failed, on
which molecules and why; a speed-up or a correlation is only ever computed from two complete runs.
``BenchmarkFailed`` is a ``SystemExit`` whose message is that reason, so an uncaught one prints
it on stderr and exits with status 1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

SHOWN = 10  # molecules a message names one by one; the rest are counted


class BenchmarkFailed(SystemExit):
    """A side of a benchmark failed: exit status 1, the reason on stderr."""

    def __init__(self, side: str, reason: str) -> None:
        self.side, self.reason = side, reason
        super().__init__(f"{side} failed: {reason}\nno speed-up or correlation is reported")


def require_every(side: str, failures: Mapping[str, str], total: int) -> None:
    """Stop unless ``failures`` (reason by molecule) is empty.

    Args:
        side: who ran, e.g. ``"dockstring"`` or ``"molgen (exhaustiveness 8, seed 1)"``.
        failures: why each failed molecule failed, by molecule name.
        total: how many molecules the set holds.

    Raises:
        BenchmarkFailed: some molecule failed; the message names them and their reasons.
    """
    if not failures:
        return
    lines = [f"{len(failures)} of {total} molecules failed"]
    lines += [f"  {name}: {why}" for name, why in list(failures.items())[:SHOWN]]
    if len(failures) > SHOWN:
        lines.append(f"  ... and {len(failures) - SHOWN} more")
    raise BenchmarkFailed(side, "\n".join(lines))


def require_scored(side: str, names: Sequence[str], run: Mapping[str, Any]) -> None:
    """Stop unless ``run`` scored every molecule in ``names`` in a positive, finite time.

    ``run`` holds ``seconds``, ``scores`` (a number or None by name) and optionally ``reasons``
    (why a molecule has no score, by name).

    Raises:
        BenchmarkFailed: a score is missing, None or not finite, or the time is not positive.
    """
    scores, reasons = run["scores"], run.get("reasons") or {}
    failures = {}
    for name in names:
        score = scores.get(name)
        if score is None or not math.isfinite(score):
            failures[name] = reasons.get(name) or (
                "no score" if score is None else f"score {score}"
            )
    require_every(side, failures, len(names))
    require_time(side, run["seconds"])


def require_time(side: str, seconds: float) -> float:
    """``seconds`` if it is a positive, finite time; stops otherwise."""
    if not (math.isfinite(seconds) and seconds > 0):
        raise BenchmarkFailed(side, f"its time is {seconds} s")
    return seconds


def speedup(baseline: str, baseline_s: float, molgen: str, molgen_s: float) -> float:
    """How many times faster molgen's run was than the baseline's, to two decimals.

    Raises:
        BenchmarkFailed: either time is not a positive, finite number of seconds.
    """
    return round(require_time(baseline, baseline_s) / require_time(molgen, molgen_s), 2)
