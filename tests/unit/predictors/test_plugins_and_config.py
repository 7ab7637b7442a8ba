"""Predictors named in a campaign file: parameters, user classes, bounds used as filters."""

from __future__ import annotations

from pathlib import Path

import pytest
from campaign_files import campaign_text, write_campaign
from rdkit import Chem

from molgen.config import CampaignError, load_campaign
from molgen.pipeline.components import build_components


def _campaign(tmp_path: Path, predictors: str, extra: str = "") -> Path:
    return write_campaign(tmp_path, campaign_text(predictors, extra=extra + "\n"))


def test_user_class_with_params_is_built_from_the_campaign_file(tmp_path):
    path = _campaign(
        tmp_path,
        '"qed", {kind = "user_predictor:ScaledHeavyAtoms", params = {scale = 2.5}}',
        "[filters.bounds]\nscaled_heavy_atoms = { max = 60 }",
    )
    components = build_components(load_campaign(path))
    user = components.predictors[1]
    assert user.name == "scaled_heavy_atoms" and user.version == "user-1+scale2.5"
    assert user.predict([Chem.MolFromSmiles("CCO")])[0, 0] == pytest.approx(7.5)
    assert [(b.value, b.lower, b.upper) for b in components.bounds] == [
        ("scaled_heavy_atoms", None, 60.0)
    ]
    assert components.filter_bounds()[-1].violation(75.0) == "scaled_heavy_atoms 75 > max 60"


@pytest.mark.parametrize(
    ("predictors", "extra", "message"),
    [
        (
            '"qed", {kind = "user_predictor:ScaledHeavyAtoms", params = {scale = -1}}',
            "",
            r"predictors\[1\] \(user_predictor:ScaledHeavyAtoms\): params.scale: Input should "
            "be greater than 0",
        ),
        (
            '"qed", {kind = "user_predictor:ScaledHeavyAtoms", params = {scael = 2}}',
            "",
            r"params.scael: Extra inputs are not permitted",
        ),
        ('"qed", {kind = "no_such_module:Model"}', "", r"predictors\[1\]: .*no_such_module"),
        (
            '"qed", {kind = "graph_model", params = {path = "missing.safetensors"}}',
            "",
            r"predictors\[1\] \(graph_model\): model file .*missing.safetensors: no such file",
        ),
        ('"qed"', "[filters.bounds]\nherg = { max = 0.5 }", r"filters.bounds.herg: no predictor"),
    ],
)
def test_bad_predictor_entries_name_the_field(tmp_path, predictors, extra, message):
    with pytest.raises(CampaignError, match=message):
        build_components(load_campaign(_campaign(tmp_path, predictors, extra)))


def test_a_foreign_model_file_in_a_campaign_is_a_campaign_error(tmp_path):
    (tmp_path / "model.safetensors").write_text("{}")
    path = _campaign(
        tmp_path, '"qed", {kind = "graph_model", params = {path = "model.safetensors"}}'
    )
    with pytest.raises(CampaignError, match="not a safetensors file"):
        build_components(load_campaign(path))
