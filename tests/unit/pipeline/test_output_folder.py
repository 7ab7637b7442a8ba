"""A campaign writes only into a new or empty folder, or one that is already its own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from molgen.config import CampaignError, load_campaign
from molgen.pipeline.output import MARKER, check_output, claim_output

DEMO = Path(__file__).resolve().parents[3] / "examples" / "demo.toml"


def _campaign(tmp_path: Path, name: str, output: Path):
    text = DEMO.read_text()
    path = tmp_path / f"{name}.toml"
    lines = [
        f'name = "{name}"' if line.startswith("name =") else line for line in text.splitlines()
    ]
    lines = [f'output = "{output}"' if line.startswith("output =") else line for line in lines]
    path.write_text("\n".join(lines) + "\n")
    return load_campaign(path)


def test_a_new_folder_is_created_and_marked_as_the_campaigns(tmp_path):
    campaign = _campaign(tmp_path, "alpha", tmp_path / "runs" / "alpha")
    out = claim_output(campaign)
    assert json.loads((out / MARKER).read_text()) == {"campaign": "alpha"}
    (out / "round-1").mkdir()
    claim_output(campaign)  # its own folder again: a resume
    claim_output(_campaign(tmp_path, "alpha-renamed", out))  # renamed: the same folder
    assert json.loads((out / MARKER).read_text()) == {"campaign": "alpha"}


def test_a_folder_of_other_files_is_refused_and_left_as_it_was(tmp_path):
    other = tmp_path / "home"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    campaign = _campaign(tmp_path, "alpha", other)
    with pytest.raises(CampaignError, match=r"not a molgen campaign's \(such as 'notes.txt'\)"):
        claim_output(campaign)
    assert [p.name for p in other.iterdir()] == ["notes.txt"]

    afile = tmp_path / "a-file"
    afile.write_text("")
    with pytest.raises(CampaignError, match="is a file, not a folder"):
        check_output(_campaign(tmp_path, "alpha", afile))


def test_an_empty_folder_and_a_campaign_folder_without_marker_are_taken(tmp_path):
    (tmp_path / "empty").mkdir()
    claim_output(_campaign(tmp_path, "alpha", tmp_path / "empty"))
    older = tmp_path / "older"
    (older / "round-0").mkdir(parents=True)
    claim_output(_campaign(tmp_path, "beta", older))
    assert json.loads((older / MARKER).read_text()) == {"campaign": "beta"}
