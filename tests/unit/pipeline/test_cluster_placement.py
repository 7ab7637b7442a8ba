"""The ``[cluster]`` section and a campaign's placement on a Dask cluster: predictor batches run
on the workers, come back in any order and are saved as they arrive, give what the stage gives
in one process, and an error on a worker stops the stage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from campaign_files import campaign_text, write_campaign

from molgen.artifacts import hash_frame
from molgen.cluster import Placement
from molgen.config import CampaignError, ClusterConfig, load_campaign
from molgen.pipeline.components import build_components, component_params, uses_gpu
from molgen.pipeline.stages import RemotePredict, StageOutput, _prepare_rows, predict_stage
from molgen.types import StageReport

SMILES = ["CCO", "c1ccccc1O", "CCN", "CC(=O)O", "c1ccncc1", "CCCl", "CCOC(=O)c1ccccc1"]


def _prepared() -> StageOutput:
    table = _prepare_rows(SMILES)
    report = StageReport(1, "prepare", "ran", len(SMILES), len(SMILES), 0.0)
    return StageOutput(table, hash_frame(table), report)


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A Dask cluster of two single-threaded workers in this process, one with a GPU slot."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, resources={"GPU": 1}
    ) as cluster:
        yield cluster.scheduler_address


def test_the_cluster_section_is_checked_and_not_part_of_the_results():
    with pytest.raises(ValueError, match="needs the scheduler's address"):
        ClusterConfig(kind="dask")
    with pytest.raises(ValueError, match="only for kind = 'slurm'"):
        ClusterConfig(kind="local", partition="gpu")
    with pytest.raises(ValueError, match="not an sbatch option"):
        ClusterConfig(kind="slurm", job_directives=["#SBATCH --qos=high"])
    with pytest.raises(ValueError, match="pattern"):
        ClusterConfig(kind="slurm", memory="lots")
    ClusterConfig(kind="slurm", partition="gpu", memory="16GB", walltime="1-00:00:00")


def test_a_cluster_changes_no_key_and_docking_has_one_place(tmp_path):
    plain = load_campaign_with(tmp_path, ["qed"])
    clustered = load_campaign_with(tmp_path, ["qed"], '[cluster]\nkind = "slurm"\n')
    assert plain.config_hash() == clustered.config_hash()
    both = '[docking]\ndask_local_workers = 2\n[cluster]\nkind = "dask"\naddress = "tcp://h:1"\n'
    with pytest.raises(CampaignError, match="keep the \\[cluster\\]"):
        load_campaign_with(tmp_path, ["qed"], both)


def test_predictor_batches_on_workers_give_what_one_process_gives(tmp_path, scheduler):
    campaign = load_campaign_with(tmp_path, ["qed", "logp", "solubility"])
    predictors = build_components(campaign).predictors
    specs = component_params(campaign)["predictors"]
    assert uses_gpu(campaign)  # the graph network: its batches go to the GPU worker
    local = predict_stage(tmp_path / "local", 1, _prepared(), predictors, 2, "c")
    config = ClusterConfig(kind="dask", address=scheduler)
    with Placement(config, tmp_path / "cluster") as placement:
        remote = RemotePredict(placement, specs, gpu=True)
        out = predict_stage(tmp_path / "remote", 1, _prepared(), predictors, 2, "c", remote)
    assert out.table.equals(local.table)
    assert out.output_hash == local.output_hash


def test_an_error_on_a_worker_stops_the_stage(tmp_path, scheduler):
    # a model file that is not there: the worker cannot build the predictor; the error comes
    # back from the worker and the stage stops, as it would in one process
    campaign = load_campaign_with(tmp_path, ["qed"])
    predictors = build_components(campaign).predictors
    broken = [{"kind": "graph_model", "params": {"path": str(tmp_path / "no-model.safetensors")}}]
    config = ClusterConfig(kind="dask", address=scheduler)
    with Placement(config, tmp_path / "cluster") as placement:
        remote = RemotePredict(placement, broken, gpu=False)
        with pytest.raises(Exception, match="no-model"):
            predict_stage(tmp_path, 1, _prepared(), predictors, 2, "c", remote)
        good = RemotePredict(placement, component_params(campaign)["predictors"], gpu=False)
        out = predict_stage(tmp_path, 1, _prepared(), predictors, 2, "c", good)
    assert len(out.table) == len(SMILES)


@pytest.mark.parametrize("kind", ["selfies_rl", "graph_ga"])
def test_the_generator_on_a_worker_gives_what_it_gives_in_one_process(tmp_path, scheduler, kind):
    """Two rounds of generate then update, on the cluster's workers (the SELFIES agent on the
    GPU worker), give the molecules and states of the generator in this process."""
    from molgen.pipeline.components import build_generator, generator_uses_gpu
    from molgen.pipeline.remote import RemoteGenerator, sampling_device

    campaign = load_campaign_with(tmp_path, ["qed"], generator=kind)
    seeds = ["CCOc1ccccc1", "CC(=O)Nc1ccc(O)cc1", "c1ccc2ccccc2c1", "CCN(CC)CCOC(=O)c1ccccc1"]
    assert generator_uses_gpu(campaign) == (kind == "selfies_rl")
    spec = component_params(campaign)["generator"]

    def two_rounds(generator) -> list:
        out = []
        for seed in (11, 12):
            smiles = generator.generate(16, seed)
            generator.update(smiles, [len(s) % 7 / 7 for s in smiles])
            out.append((smiles, generator.state_dict()))
        return out

    local = two_rounds(build_generator(campaign, seeds))
    config = ClusterConfig(kind="dask", address=scheduler)
    with Placement(config, tmp_path / "cluster") as placement:
        remote = RemoteGenerator(
            build_generator(campaign, seeds), placement, spec, seeds, generator_uses_gpu(campaign)
        )
        # the round's key names the GPU for the SELFIES agent on GPU workers
        assert remote.device == ("cuda" if kind == "selfies_rl" else "cpu")
        assert sampling_device(build_generator(campaign, seeds)) == "cpu"
        assert two_rounds(remote) == local
        # a generator rebuilt from a saved state, as the flow does each round
        again = RemoteGenerator(build_generator(campaign, seeds), placement, spec, seeds, False)
        again.load_state_dict(local[0][1])
        assert again.generate(16, 12) == local[1][0]
    assert local[0][0] != local[1][0]


def test_the_docking_surrogate_trains_on_a_worker_as_in_one_process(tmp_path, scheduler):
    import pandas as pd

    from molgen.config import SurrogateConfig
    from molgen.pipeline.selection import surrogate_stage

    docked = pd.read_csv(Path(__file__).parents[2] / "data" / "docking" / "drd2_docked_100.csv")
    cache = list(zip(docked["inchikey"], docked["smiles"], docked["docking_score"], strict=True))
    table = docked[["inchikey", "smiles"]].iloc[50:].reset_index(drop=True)
    report = StageReport(1, "filter", "ran", len(table), len(table), 0.0)
    filtered = StageOutput(table, hash_frame(table), report)
    settings = SurrogateConfig(trees=10, min_training=10)

    def run(folder: str, **kw) -> StageOutput:
        training = lambda: cache[:50]  # noqa: E731
        return surrogate_stage(
            tmp_path / folder, 1, filtered, training, 5, settings, 7, "d", "c", **kw
        )

    local = run("local")
    with Placement(ClusterConfig(kind="dask", address=scheduler), tmp_path / "cl") as placement:
        remote = run("remote", run=placement.call)
    assert remote.table.equals(local.table) and remote.output_hash == local.output_hash
    assert local.table["docking_score_predicted"].notna().all()


def test_a_generator_on_a_gpu_keys_its_round_by_the_device():
    from molgen.pipeline.remote import sampling_device

    class OnGpu:
        device = "cuda:0"

    assert sampling_device(OnGpu()) == "cuda"
    assert sampling_device(object()) == "cpu"


def load_campaign_with(
    tmp_path, predictors: list[str], extra: str = "", generator: str = "graph_ga"
):
    names = ", ".join(f'"{p}"' for p in predictors)
    path = write_campaign(tmp_path, campaign_text(names, generator, extra), "c.toml")
    return load_campaign(path)
