"""The campaign's output folder: molgen writes only into a folder that is new, empty, or already
a molgen campaign's.

A folder molgen starts holds :data:`MARKER` (naming the campaign that started it, for people).
Any other non-empty folder (``output = "/etc"``, a home directory, a project folder) is refused
before anything is written: a campaign writes checkpoints, a SQLite store and exports there.
A campaign folder stays usable after the campaign is renamed (its checkpoints are keyed by
content, so a rename re-runs only the store stage).
"""

from __future__ import annotations

import json
from pathlib import Path

from molgen.config import Campaign, CampaignError

MARKER = "molgen-campaign.json"
# What a campaign folder written before the marker existed holds.
_LEGACY = ("round-0", "molgen.sqlite")


def check_output(campaign: Campaign) -> None:
    """Refuse an output folder that molgen must not write into.

    Raises:
        CampaignError: ``output`` is a file, or holds files of something other than a molgen
            campaign.
    """
    out = campaign.output
    if not out.exists():
        return
    if not out.is_dir():
        raise CampaignError(f"output: {out} is a file, not a folder")
    if any((out / name).exists() for name in (MARKER, *_LEGACY)):
        return
    first = next(iter(sorted(p.name for p in out.iterdir())), None)
    if first is not None:
        raise CampaignError(
            f"output: {out} holds files that are not a molgen campaign's (such as {first!r}); "
            "give a new or empty folder"
        )


def claim_output(campaign: Campaign) -> Path:
    """Check the output folder (:func:`check_output`), create it and mark it as this
    campaign's. Returns the folder."""
    check_output(campaign)
    out = campaign.output
    out.mkdir(parents=True, exist_ok=True)
    marker = out / MARKER
    if not marker.exists():
        marker.write_text(json.dumps({"campaign": campaign.name}) + "\n", encoding="utf-8")
    return out
