import io
import os
import re
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from molgen.cli.main import app
from molgen.config import load_campaign
from molgen.pipeline.components import build_components

runner = CliRunner()


def _run_edited(tmp_path: Path, *edits: tuple[str, str]):
    """``molgen run`` on the ``molgen init`` campaign with each ``(old, new)`` text replaced."""
    path = tmp_path / "c.toml"
    runner.invoke(app, ["init", str(path)])
    text = path.read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    path.write_text(text)
    return path, runner.invoke(app, ["run", str(path)], terminal_width=200)


def test_targets_lists_bundled_receptors_with_boxes():
    result = runner.invoke(app, ["targets"], terminal_width=200)
    assert result.exit_code == 0
    assert "DRD2" in result.output and "9.25, 6.17, -7.00" in result.output
    assert "ABL1" in result.output


def test_init_writes_a_campaign_that_validates(tmp_path):
    path = tmp_path / "my camp.toml"
    result = runner.invoke(app, ["init", str(path), "--target", "esr1"])
    assert result.exit_code == 0, result.output
    c = load_campaign(path)
    assert c.name == "my-camp" and c.target.name == "ESR1"
    assert len(build_components(c).predictors) == 8
    again = runner.invoke(app, ["init", str(path)])
    assert again.exit_code == 2 and "exists" in again.output


def test_init_unknown_target_is_an_error(tmp_path):
    result = runner.invoke(app, ["init", str(tmp_path / "c.toml"), "--target", "NOPE"])
    assert result.exit_code == 2
    assert "unknown target 'NOPE'" in result.output


def test_run_with_bad_field_names_file_and_field(tmp_path):
    path, result = _run_edited(tmp_path, ("rounds = 3", 'rounds = "x"'))
    assert result.exit_code == 2
    assert str(path) in result.output and "budget.rounds" in result.output


def test_run_with_unknown_predictor_fails_before_running(tmp_path):
    _, result = _run_edited(tmp_path, ('"qed", "sa_score"', '"qed", "nosuch"'))
    assert result.exit_code == 2
    assert "predictors[1]" in result.output and "unknown predictor 'nosuch'" in result.output
    assert not (tmp_path / "runs").exists()


def test_top_before_run_explains(tmp_path):
    path = tmp_path / "c.toml"
    runner.invoke(app, ["init", str(path)])
    result = runner.invoke(app, ["top", str(path), "--format", "json"], terminal_width=200)
    assert result.exit_code == 2 and "molgen run" in result.output


def _commands(help_text: str) -> set[str]:
    return set(re.findall(r"^│ ([a-z][a-z-]*)\s", help_text, flags=re.MULTILINE))


def test_python_m_molgen_has_every_command_of_the_molgen_script():
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    script = Path(sys.executable).parent / "molgen"
    outputs = [
        subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
        for cmd in (
            [str(script), "--help"],
            [sys.executable, "-m", "molgen", "--help"],
            [sys.executable, "-m", "molgen.cli.main", "--help"],
        )
    ]
    commands = [_commands(text) for text in outputs]
    assert commands[0] >= {"run", "top", "init", "train-prior", "predict", "finetune", "sample"}
    assert (
        commands[0]
        == commands[1]
        == commands[2]
        == _commands(runner.invoke(app, ["--help"], terminal_width=200).output)
    )


def test_every_command_reports_errors_through_one_helper(tmp_path, monkeypatch):
    from rich.console import Console

    import molgen.cli.common

    recorded = Console(file=io.StringIO(), width=10_000)
    monkeypatch.setattr(molgen.cli.common, "err_console", recorded)
    assert runner.invoke(app, ["init", str(tmp_path / "c.toml"), "-t", "NOPE"]).exit_code == 2
    missing = str(tmp_path / "missing.safetensors")
    assert runner.invoke(app, ["predict", missing, "-"]).exit_code == 2
    assert runner.invoke(app, ["finetune", missing, "--out", missing]).exit_code == 2
    lines = recorded.file.getvalue().splitlines()
    assert len(lines) == 3 and all(line.startswith("error: ") for line in lines)
    assert "unknown target 'NOPE'" in lines[0] and "no such file" in lines[1]


def test_run_with_a_bad_generator_parameter_names_it_before_running(tmp_path):
    _, result = _run_edited(tmp_path, ("population_size = 100", "population_size = 0"))
    assert result.exit_code == 2
    assert "generator.population_size" in result.output and "(got 0)" in result.output
    assert not (tmp_path / "runs").exists()


def test_run_refuses_import_paths_when_the_setting_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("MOLGEN_ALLOW_IMPORT_PATHS", "0")
    _, result = _run_edited(
        tmp_path,
        ('kind = "graph_ga"', 'kind = "user_components:ChainExtender"'),
        ("population_size = 100", 'tag = "x"'),
    )
    assert result.exit_code == 2
    assert "generator: generator 'user_components:ChainExtender': import paths are disabled" in (
        result.output
    )
    assert not (tmp_path / "runs").exists()
