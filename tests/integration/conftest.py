from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

TINY = """
name = "{name}"
seed = {seed}
output = "{output}"
predictors = [{predictors}]
[target]
name = "DRD2"
[generator]
{generator}
{seeds}
[budget]
rounds = {rounds}
molecules_per_round = {n}
dock_per_round = {dock}
[[objectives]]
value = "{qed}"
weight = 2.0
transform = {{ kind = "linear", low = 0.2, high = 0.95 }}
[[objectives]]
value = "sa_score"
transform = {{ kind = "sigmoid", low = 5.0, high = 2.0 }}
bounds = {{ max = 6.0 }}
[runtime]
batch_size = {batch}
{docking}{extra}"""

DOCKING = """
[docking]
exhaustiveness = 1
n_poses = 3
workers = 2
{dask}
[[objectives]]
value = "docking_score"
weight = 2.0
transform = {{ kind = "linear", low = -4.0, high = -10.0 }}
"""


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[str]:
    """One Prefect test server for the session; its URL lets subprocesses share it."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield PREFECT_API_URL.value()


@pytest.fixture
def write_campaign(tmp_path: Path):
    def write(
        name: str = "tiny",
        seed: int = 7,
        rounds: int = 2,
        n: int = 30,
        batch: int = 10,
        seeds: Path | None = None,
        slow: bool = False,
        folder: str = "run",
        dock: int = 0,
        dask_workers: int = 0,
        docking_extra: str = "",
        extra_predictors: tuple[str, ...] = (),
        extra: str = "",
        generator: str = 'kind = "graph_ga"\npopulation_size = 20',
    ) -> Path:
        """A tiny campaign file; ``generator`` is the body of its ``[generator]`` table (without
        ``seeds``), ``extra`` is appended (e.g. a ``[filters]`` table), ``docking_extra`` goes
        into the ``[docking]`` table."""
        predictors = ['"qed"', '"sa_score"', '"logp"', '"mw"', '"tpsa"', '"hbd"', '"hba"']
        predictors += ['"rotatable_bonds"', *extra_predictors]
        if slow:
            predictors.append('"slow_plugin:SlowQED"')
        path = tmp_path / folder / "campaign.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            TINY.format(
                name=name,
                seed=seed,
                output="out",
                seeds=f'seeds = "{seeds}"' if seeds else 'seeds = "seeds.smi"',
                rounds=rounds,
                n=n,
                predictors=", ".join(predictors),
                qed="slow_qed" if slow else "qed",
                batch=batch,
                dock=dock,
                docking=DOCKING.format(
                    dask=(f"dask_local_workers = {dask_workers}\n" if dask_workers else "")
                    + docking_extra
                )
                if dock
                else "",
                extra=extra,
                generator=generator,
            )
        )
        if seeds is None:
            from molgen.pipeline.components import default_seeds

            lines = default_seeds().read_text().splitlines()[:60]
            (path.parent / "seeds.smi").write_text("\n".join(lines) + "\n")
        return path

    return write
