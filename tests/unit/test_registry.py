"""The registry: a name resolves to a class checked against its protocol before anything is
called; import paths can be switched off for shared deployments."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest

import molgen.registry
from molgen.config import CampaignError, validate_campaign
from molgen.filters import FILTERS
from molgen.generators import GENERATORS
from molgen.pipeline.components import build_components
from molgen.predictors import PREDICTORS
from molgen.registry import RegistryError

SETTING = "MOLGEN_ALLOW_IMPORT_PATHS"


def component_params(campaign):
    from molgen.pipeline.components import component_params

    return component_params(campaign)


def _campaign(tmp_path: Path, predictor: Any = "logp", generator: Any = None):
    data = {
        "name": "reg",
        "seed": 1,
        "output": "out",
        "target": {"name": "DRD2"},
        "generator": generator or {"kind": "graph_ga"},
        "budget": {"rounds": 1, "molecules_per_round": 10},
        "predictors": ["qed", predictor],
        "objectives": [{"value": "qed", "transform": {"kind": "linear", "low": 0, "high": 1}}],
    }
    return validate_campaign(data, tmp_path / "campaign.toml")


@pytest.mark.parametrize(
    "predictor",
    [
        {"kind": "os:system", "params": {"command": "touch os_system_ran"}},
        {"kind": "user_components:make_file", "params": {"path": "make_file_ran"}},
    ],
)
def test_an_import_path_to_a_function_is_refused_and_never_called(tmp_path, monkeypatch, predictor):
    monkeypatch.chdir(tmp_path)
    campaign = _campaign(tmp_path, predictor)
    for check in (build_components, component_params):
        with pytest.raises(CampaignError, match=r"predictors\[1\]: .* not a class"):
            check(campaign)
    assert not (tmp_path / "os_system_ran").exists()
    assert not (tmp_path / "make_file_ran").exists()


def test_a_class_missing_a_protocol_method_is_refused_naming_it(tmp_path):
    campaign = _campaign(tmp_path, "user_components:NoPredict")
    with pytest.raises(CampaignError, match=r"predictors\[1\]: .*NoPredict does not implement "):
        component_params(campaign)
    with pytest.raises(RegistryError, match="missing predict"):
        PREDICTORS.get("user_components:NoPredict")


def test_each_kind_checks_its_own_protocol():
    with pytest.raises(RegistryError, match="missing check"):
        FILTERS.get("user_components:ChainExtender")
    with pytest.raises(RegistryError, match="missing generate, update, state_dict"):
        GENERATORS.get("user_components:HeavyAtomCap")
    assert GENERATORS.get("user_components:ChainExtender").name == "chain_extender"
    assert FILTERS.get("user_components:HeavyAtomCap").name == "heavy_atom_cap"


def test_every_built_in_name_resolves_to_a_class_that_passes_its_check():
    for registry in (PREDICTORS, GENERATORS, FILTERS):
        for name in registry.names():
            registry.check_class(name, registry.get(name))
    assert {"graph_ga", "selfies_rl"} <= set(GENERATORS.names())


def test_a_constructed_component_without_an_instance_attribute_is_refused():
    class NoVersion:
        name = "no_version"

        def check(self, mols):
            return [None for _ in mols]

    with pytest.raises(RegistryError, match="missing version"):
        FILTERS.check_instance("no_version", NoVersion())


@pytest.mark.parametrize("value", ["0", "false", "off"])
def test_the_setting_refuses_import_paths_but_allows_names_and_entry_points(
    tmp_path, monkeypatch, value
):
    monkeypatch.setenv(SETTING, value)
    campaign = _campaign(tmp_path, "user_components:NoPredict")
    with pytest.raises(CampaignError, match=r"import paths are disabled \(MOLGEN_ALLOW_IMPORT"):
        component_params(campaign)
    with pytest.raises(RegistryError, match="import paths are disabled"):
        GENERATORS.get("user_components:ChainExtender")

    plugin = EntryPoint("chain", "user_components:ChainExtender", "molgen.generators")
    real = molgen.registry.entry_points

    def fake_entry_points(group: str):
        return [plugin] if group == "molgen.generators" else real(group=group)

    monkeypatch.setattr(molgen.registry, "entry_points", fake_entry_points)
    assert GENERATORS.get("chain").name == "chain_extender"
    assert GENERATORS.get("graph_ga").name == "graph_ga"
    params = component_params(_campaign(tmp_path, generator={"kind": "chain", "tag": "ep"}))
    assert params["generator"] == {"kind": "chain", "params": {"tag": "ep", "max_extra": 3}}


def test_import_paths_are_allowed_by_default(monkeypatch):
    monkeypatch.delenv(SETTING, raising=False)
    assert molgen.registry.import_paths_allowed()
    monkeypatch.setenv(SETTING, "1")
    assert GENERATORS.get("user_components:ChainExtender").name == "chain_extender"


def test_a_class_without_params_is_checked_against_its_constructor(tmp_path):
    from molgen.pipeline.components import build_generator

    campaign = _campaign(tmp_path, generator={"kind": "user_components:Repeater", "smiles": "CCN"})
    assert component_params(campaign)["generator"]["params"] == {"smiles": "CCN"}
    assert build_generator(campaign, ["CCO"]).generate(2, seed=0) == ["CCN", "CCN"]
    typo = _campaign(tmp_path, generator={"kind": "user_components:Repeater", "smile": "CCN"})
    with pytest.raises(CampaignError, match="generator .*unexpected keyword argument 'smile'"):
        component_params(typo)
