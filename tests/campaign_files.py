"""Campaign files for tests: the smallest valid campaign, and variations on it."""

from __future__ import annotations

from pathlib import Path

# One round of 10 graph-GA molecules against the bundled DRD2 target, ranked by QED alone.
MINIMAL = """
name = "t"
seed = 1
output = "out"
[target]
name = "DRD2"
[generator]
kind = "graph_ga"
[budget]
rounds = 1
molecules_per_round = 10
[[objectives]]
value = "qed"
transform = { kind = "linear", low = 0.2, high = 0.9 }
"""


def campaign_text(
    predictors: str | None = None, generator: str = "graph_ga", extra: str = ""
) -> str:
    """MINIMAL with a predictors list (the TOML between its brackets), another generator kind,
    or sections appended."""
    text = MINIMAL
    if predictors is not None:
        text = _replace(text, 'output = "out"\n', f'output = "out"\npredictors = [{predictors}]\n')
    if generator != "graph_ga":
        text = _replace(text, 'kind = "graph_ga"', f'kind = "{generator}"')
    return text + extra


def _replace(text: str, old: str, new: str) -> str:
    """``text`` with ``old`` replaced, which must be there (a test never gets MINIMAL unchanged
    while believing it varied it)."""
    if old not in text:
        raise ValueError(f"{old!r} is not in the campaign text")
    return text.replace(old, new)


def write_campaign(folder: Path, text: str, filename: str = "campaign.toml") -> Path:
    """Write a campaign file into ``folder``; relative paths in it resolve against ``folder``."""
    path = Path(folder) / filename
    path.write_text(text)
    return path
