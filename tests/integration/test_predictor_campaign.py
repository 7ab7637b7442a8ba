"""A campaign whose predict stage runs a user class and molgen's shipped graph model."""

from __future__ import annotations

import sqlalchemy as sa

from molgen.config import load_campaign
from molgen.predictors.gnn.featurize import FEATURIZER_VERSION

PREDICTORS = (
    '{kind = "user_predictor:ScaledHeavyAtoms", params = {scale = 2.0}}',
    '"solubility"',
)
BOUNDS = """
[filters.bounds]
log_solubility = { min = -5.0 }
"""


def test_user_and_graph_predictors_feed_the_store_and_the_filter(prefect_api, write_campaign):
    from flows.campaign import campaign_flow

    path = write_campaign(name="plugged", rounds=1, n=30, extra_predictors=PREDICTORS, extra=BOUNDS)
    campaign_flow(str(path))
    campaign = load_campaign(path)
    engine = sa.create_engine(campaign.store_url)
    with engine.connect() as con:
        rows = con.execute(
            sa.text(
                "SELECT m.smiles, p.predictor, p.version, p.output, p.value FROM predictions p "
                "JOIN molecules m ON m.id = p.molecule_id WHERE p.predictor IN "
                "('scaled_heavy_atoms', 'solubility')"
            )
        ).all()
        ranked = (
            con.execute(
                sa.text(
                    "SELECT p.value FROM candidates c JOIN predictions p "
                    "ON p.molecule_id = c.molecule_id WHERE p.output = 'log_solubility'"
                )
            )
            .scalars()
            .all()
        )
        rejected = (
            con.execute(sa.text("SELECT reason FROM rejections WHERE stage = 'filter'"))
            .scalars()
            .all()
        )
    engine.dispose()
    from rdkit import Chem

    scaled = [r for r in rows if r.predictor == "scaled_heavy_atoms"]
    solubility = [r for r in rows if r.predictor == "solubility"]
    assert scaled and len(scaled) == len(solubility)
    for r in scaled:
        assert r.value == 2.0 * Chem.MolFromSmiles(r.smiles).GetNumHeavyAtoms()
        assert r.version == "user-1+scale2"
    assert all(r.output == "log_solubility" and -12 < r.value < 2 for r in solubility)
    assert all(r.version.startswith(f"{FEATURIZER_VERSION}+") for r in solubility)
    # ranked candidates passed the bound; molecules below it were rejected with the reason
    assert ranked and all(v >= -5.0 for v in ranked)
    below = sum(r.value < -5.0 for r in solubility)
    assert sum("log_solubility" in why and "< min -5" in why for why in rejected) == below
