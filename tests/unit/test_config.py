import inspect
import json
import tomllib

import pytest
from campaign_files import MINIMAL, write_campaign

from molgen.config import CampaignError, load_campaign

GOOD = MINIMAL


def _write(tmp_path, text):
    return write_campaign(tmp_path, text, "c.toml")


def test_good_file_validates_and_resolves_paths(tmp_path):
    c = load_campaign(_write(tmp_path, GOOD))
    assert c.output == (tmp_path / "out").resolve()
    assert c.store_url.endswith("out/molgen.sqlite")
    assert [e.kind for _, e in c.filters.entries()] == ["structural_alerts", "lipinski", "veber"]


def test_wrong_type_names_file_and_field(tmp_path):
    p = _write(tmp_path, GOOD.replace("molecules_per_round = 10", 'molecules_per_round = "ten"'))
    with pytest.raises(CampaignError) as err:
        load_campaign(p)
    msg = str(err.value)
    assert str(p) in msg and "budget.molecules_per_round" in msg and "integer" in msg


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
    c = load_campaign(_write(tmp_path, GOOD.replace("high = 0.9", "high = 0.8")))
    assert a.config_hash() == b.config_hash() != c.config_hash()


def test_surrogate_settings_count_only_when_the_surrogate_selects(tmp_path):
    plain = load_campaign(_write(tmp_path, GOOD))
    spelled = GOOD + '[docking]\nselection = "objectives"\nsurrogate = { beta = 5.0 }\n'
    assert load_campaign(_write(tmp_path, spelled)).config_hash() == plain.config_hash()
    chosen = load_campaign(_write(tmp_path, GOOD + '[docking]\nselection = "surrogate"\n'))
    assert chosen.config_hash() != plain.config_hash()
    assert chosen.docking.surrogate.acquisition == "ucb"
    for bad, field in (
        ('selection = "best"', "docking.selection"),
        ('surrogate = { acquisition = "ei" }', "docking.surrogate.acquisition"),
        ("surrogate = { random_fraction = 1.5 }", "docking.surrogate.random_fraction"),
        ('surrogate = { model = "graph", min_training = 5 }', "docking.surrogate"),
    ):
        with pytest.raises(CampaignError, match=field.replace(".", r"\.")):
            load_campaign(_write(tmp_path, GOOD + f"[docking]\n{bad}\n"))


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


def _params(tmp_path, text):
    from molgen.pipeline.components import component_params

    return component_params(load_campaign(_write(tmp_path, text)))


def test_component_params_fill_in_each_class_defaults(tmp_path):
    params = _params(tmp_path, GOOD)
    assert params["generator"] == {
        "kind": "graph_ga",
        "params": {"population_size": 100, "mutation_rate": 0.1, "max_heavy_atoms": 50},
    }
    assert params["predictors"][0] == {"kind": "qed", "params": {}}
    assert params["filters"] == [
        {"kind": "structural_alerts", "params": {"catalogs": ["PAINS", "BRENK", "NIH"]}},
        {"kind": "lipinski", "params": {"max_violations": 1}},
        {"kind": "veber", "params": {}},
    ]
    assert params == _params(tmp_path, GOOD)  # deterministic
    json.dumps(params)  # JSON-able


def test_params_defaults_are_the_constructors_defaults():
    from molgen.filters.alerts import StructuralAlerts
    from molgen.filters.rules import LipinskiFilter
    from molgen.generators.graph_ga import GraphGA
    from molgen.generators.selfies_lm.agent import SelfiesRL

    for cls in (GraphGA, SelfiesRL, StructuralAlerts, LipinskiFilter):
        signature = inspect.signature(cls).parameters
        for name, value in cls.Params().model_dump().items():
            default = signature[name].default
            assert value == (list(default) if isinstance(default, tuple) else default), name


@pytest.mark.parametrize(
    ("generator", "message"),
    [
        (
            "population_size = 0",
            r"generator \(graph_ga\): generator.population_size: .*"
            r"greater than or equal to 1 \(got 0\)",
        ),
        ("mutation_rate = 2.0", r"generator.mutation_rate: .*less than or equal to 1"),
        ("colour = 'blue'", r"generator.colour: Extra inputs are not permitted"),
        ("params = { population_size = 5 }\nmutation_rate = 0.2", "not both"),
    ],
)
def test_generator_parameters_are_checked_against_the_class(tmp_path, generator, message):
    text = GOOD.replace('kind = "graph_ga"', f'kind = "graph_ga"\n{generator}')
    with pytest.raises(CampaignError, match=message):
        _params(tmp_path, text)


def test_selfies_rl_prior_that_is_not_a_prior_is_named_before_anything_loads(tmp_path):
    (tmp_path / "prior.safetensors").write_text("{}")
    text = GOOD.replace('kind = "graph_ga"', 'kind = "selfies_rl"\nprior = "prior.safetensors"')
    with pytest.raises(CampaignError, match=r"generator.prior: .*not a safetensors file"):
        _params(tmp_path, text)
    text = GOOD.replace('kind = "graph_ga"', 'kind = "selfies_rl"\nseeds = "s.smi"')
    with pytest.raises(
        CampaignError, match="generator.seeds: generator 'selfies_rl' takes no seed"
    ):
        _params(tmp_path, text)


def test_a_user_generator_and_filter_are_named_like_predictors(tmp_path):
    text = (
        GOOD.replace(
            'kind = "graph_ga"',
            'kind = "user_components:ChainExtender"\ntag = "t"\nmax_extra = 2',
        )
        + '[filters]\nuse = ["veber", '
        + '{kind = "user_components:HeavyAtomCap", params = {max_heavy_atoms = 30}}]\n'
    )
    params = _params(tmp_path, text)
    assert params["generator"] == {
        "kind": "user_components:ChainExtender",
        "params": {"tag": "t", "max_extra": 2},
    }
    assert params["filters"] == [
        {"kind": "veber", "params": {}},
        {"kind": "user_components:HeavyAtomCap", "params": {"max_heavy_atoms": 30}},
    ]
    bad = text.replace("max_heavy_atoms = 30", "max_heavy_atoms = 0")
    with pytest.raises(
        CampaignError,
        match=r"filters.use\[1\] \(user_components:HeavyAtomCap\): "
        r"params.max_heavy_atoms",
    ):
        _params(tmp_path, bad)


def test_older_filter_keys_mean_the_same_filters_and_cannot_mix_with_use(tmp_path):
    older = (
        GOOD + '[filters]\nalerts = ["PAINS"]\nrules = ["lipinski"]\nlipinski_max_violations = 0\n'
    )
    newer = GOOD + (
        '[filters]\nuse = [{kind = "structural_alerts", params = {catalogs = ["PAINS"]}}, '
        '{kind = "lipinski", params = {max_violations = 0}}]\n'
    )
    assert _params(tmp_path, older)["filters"] == _params(tmp_path, newer)["filters"]
    none = GOOD + "[filters]\nalerts = []\nrules = []\n"
    assert _params(tmp_path, none)["filters"] == []
    with pytest.raises(CampaignError, match=r"filters.alerts \(structural_alerts\): .*PAINZ"):
        _params(tmp_path, GOOD + '[filters]\nalerts = ["PAINZ"]\n')
    with pytest.raises(CampaignError, match="filters: .*give use or the older alerts, not both"):
        load_campaign(_write(tmp_path, GOOD + '[filters]\nuse = ["veber"]\nalerts = []\n'))


def test_component_path_parameters_are_resolved_against_the_campaign_folder(tmp_path):
    text = GOOD.replace('kind = "graph_ga"', 'kind = "graph_ga"\nseeds = "s.smi"') + (
        '[filters]\nuse = [{kind = "x:Y", params = {model_path = "m.bin", n = "m.bin"}}]\n'
    )
    c = load_campaign(_write(tmp_path, text))
    assert c.generator.seeds == (tmp_path / "s.smi").resolve()
    assert c.filters.use[0].params == {
        "model_path": str((tmp_path / "m.bin").resolve()),
        "n": "m.bin",
    }
    text = GOOD.replace('kind = "graph_ga"', 'kind = "selfies_rl"\nprior = "p.safetensors"')
    c = load_campaign(_write(tmp_path, text))
    assert c.generator.params["prior"] == str((tmp_path / "p.safetensors").resolve())


def test_example_campaigns_resolve_every_component():
    from pathlib import Path

    from molgen.pipeline.components import component_params

    for name in ("demo.toml", "selfies_rl.toml"):
        params = component_params(load_campaign(Path(__file__).parents[2] / "examples" / name))
        assert params["generator"]["kind"] in {"graph_ga", "selfies_rl"}


@pytest.mark.parametrize(
    ("rounds", "ok"),
    [("1", True), ("100000", True), ('"unlimited"', True), ("0", False), ('"lots"', False)],
)
def test_rounds_are_a_number_or_unlimited(tmp_path, rounds, ok):
    p = _write(tmp_path, GOOD.replace("rounds = 1", f"rounds = {rounds}"))
    if ok:
        budget = load_campaign(p).budget
        assert budget.unlimited == (rounds == '"unlimited"')
        return
    with pytest.raises(CampaignError, match=r'budget.rounds: .*1 to 100000, or "unlimited"'):
        load_campaign(p)
