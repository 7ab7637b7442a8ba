import tomllib

import pytest

from molgen.config import CampaignError, load_campaign

GOOD = """
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
transform = { kind = "linear", low = 0, high = 1 }
"""


def _write(tmp_path, text):
    p = tmp_path / "c.toml"
    p.write_text(text)
    return p


def test_good_file_validates_and_resolves_paths(tmp_path):
    c = load_campaign(_write(tmp_path, GOOD))
    assert c.output == (tmp_path / "out").resolve()
    assert c.store_url.endswith("out/molgen.sqlite")
    assert c.filters.alerts == ["PAINS", "BRENK", "NIH"]


def test_wrong_type_names_file_and_field(tmp_path):
    p = _write(tmp_path, GOOD.replace("rounds = 1", 'rounds = "three"'))
    with pytest.raises(CampaignError) as err:
        load_campaign(p)
    msg = str(err.value)
    assert str(p) in msg and "budget.rounds" in msg and "integer" in msg


def test_unknown_field_is_named(tmp_path):
    p = _write(tmp_path, GOOD.replace("seed = 1", "seed = 1\ncolour = 'blue'"))
    with pytest.raises(CampaignError, match="colour: unknown field"):
        load_campaign(p)


def test_unknown_transform_kind_and_missing_section(tmp_path):
    p = _write(tmp_path, GOOD.replace('kind = "linear"', 'kind = "cubic"'))
    with pytest.raises(CampaignError, match=r"objectives\.0\.transform"):
        load_campaign(p)
    p = _write(tmp_path, GOOD.replace("[budget]\nrounds = 1\nmolecules_per_round = 10\n", ""))
    with pytest.raises(CampaignError, match="budget: required field is missing"):
        load_campaign(p)


def test_not_toml_and_missing_file(tmp_path):
    with pytest.raises(CampaignError, match="not valid TOML"):
        load_campaign(_write(tmp_path, "name = "))
    with pytest.raises(CampaignError, match="cannot read"):
        load_campaign(tmp_path / "nope.toml")


def test_config_hash_ignores_output_but_not_objectives(tmp_path):
    a = load_campaign(_write(tmp_path, GOOD))
    b = load_campaign(_write(tmp_path, GOOD.replace('"out"', '"elsewhere"')))
    c = load_campaign(_write(tmp_path, GOOD.replace("high = 1", "high = 0.8")))
    assert a.config_hash() == b.config_hash() != c.config_hash()


def test_init_template_is_valid_toml():
    from molgen.cli.template import TEMPLATE

    data = tomllib.loads(TEMPLATE.format(filename="x.toml", name="x", target="DRD2"))
    assert data["target"]["name"] == "DRD2"
    assert "predictors" in data and "predictors" not in data["budget"]


def test_demo_campaign_validates():
    from pathlib import Path

    demo = Path(__file__).parents[2] / "examples" / "demo.toml"
    c = load_campaign(demo)
    assert c.predictors[0] == "qed" and c.budget.rounds >= 1
