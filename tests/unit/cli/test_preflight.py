"""`molgen run` checks what it can before Prefect starts: a user's mistake is one message and
exit status 2, with no traceback and no server started."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from molgen.cli.main import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('name = "DRD2"', 'name = "NOPE"', "target.name: unknown target 'NOPE'"),
        ("[generator]\n", '[generator]\nseeds = "missing.smi"\n', "missing.smi"),
        (
            "molecules_per_round = 200",
            "molecules_per_round = 1000000000",
            "budget.molecules_per_round: Input should be less than or equal to 1000000",
        ),
        (
            "dock_per_round = 10",
            "dock_per_round = 500",
            "dock_per_round (500) is more than molecules_per_round (200)",
        ),
        ('output = "runs/', 'output = "taken/', "holds files that are not a molgen campaign's"),
        ("dock_per_round = 10", "dock_per_round = 2", None),  # a valid file: no error here
    ],
    ids=["unknown-target", "missing-seeds", "budget", "dock-budget", "output-folder", "valid"],
)
def test_user_errors_are_found_before_prefect_starts(tmp_path, monkeypatch, old, new, message):
    from molgen.cli import running

    path = tmp_path / "c.toml"
    (tmp_path / "taken" / "c").mkdir(parents=True)
    (tmp_path / "taken" / "c" / "thesis.tex").write_text("not a campaign")
    assert runner.invoke(app, ["init", str(path)]).exit_code == 0
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    started = []
    monkeypatch.setattr(running, "call_in_thread", lambda *a: started.append(a) or [])
    result = runner.invoke(app, ["run", str(path)], terminal_width=200)
    if message is None:
        assert result.exit_code == 0, result.output
        assert started  # the flow would have started
        return
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not started
    assert len(result.output.strip().splitlines()) <= 3
    assert sorted(p.name for p in (tmp_path / "taken" / "c").iterdir()) == ["thesis.tex"]
