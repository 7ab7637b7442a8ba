from typer.testing import CliRunner

from molgen.cli.main import app
from molgen.config import load_campaign
from molgen.pipeline.components import build_components

runner = CliRunner()


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
    path = tmp_path / "c.toml"
    runner.invoke(app, ["init", str(path)])
    path.write_text(path.read_text().replace("rounds = 3", 'rounds = "x"'))
    result = runner.invoke(app, ["run", str(path)], terminal_width=200)
    assert result.exit_code == 2
    assert str(path) in result.output and "budget.rounds" in result.output


def test_run_with_unknown_predictor_fails_before_running(tmp_path):
    path = tmp_path / "c.toml"
    runner.invoke(app, ["init", str(path)])
    path.write_text(path.read_text().replace('"qed", "sa_score"', '"qed", "nosuch"', 1))
    result = runner.invoke(app, ["run", str(path)], terminal_width=200)
    assert result.exit_code == 2
    assert "predictors[1]" in result.output and "unknown predictor 'nosuch'" in result.output
    assert not (tmp_path / "runs").exists()


def test_top_before_run_explains(tmp_path):
    path = tmp_path / "c.toml"
    runner.invoke(app, ["init", str(path)])
    result = runner.invoke(app, ["top", str(path), "--format", "json"], terminal_width=200)
    assert result.exit_code == 2 and "molgen run" in result.output
