"""The wheel carries everything molgen needs: build it with ``python -m build``, install it into
a fresh virtual environment outside the repository, and run a small campaign from an empty
folder with the shipped solubility model and the shipped SELFIES prior.

By default the fresh environment takes molgen's dependencies from the test environment (a
``.pth`` line to its site-packages, read after the wheel's own files), so the test costs a
build and a campaign, not a dependency install. With ``MOLGEN_WHEEL_FULL_INSTALL=1`` (set by
``.ci/run``) pip installs the wheel with its dependencies resolved from its metadata, as a user
would.
"""

from __future__ import annotations

import hashlib
import json
import os
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
FULL = os.environ.get("MOLGEN_WHEEL_FULL_INSTALL") == "1"


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: int = 900):
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, (
        f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    )
    return done


@pytest.mark.slow  # builds and installs a wheel: 1.5 minutes, more with FULL
@pytest.mark.timeout(3000 if FULL else 900)
def test_wheel_runs_a_campaign_from_an_empty_folder(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)], tmp_path)
    (wheel,) = dist.glob("molgen-*.whl")

    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    if not FULL:
        (purelib,) = (env_dir / "lib").glob("python*/site-packages")
        (purelib / "_molgen_test_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    pip = [str(py), "-m", "pip", "install", "-q", str(wheel)]
    _run(pip if FULL else [*pip, "--no-deps"], tmp_path, timeout=2700)

    # The wheel holds the models with their cards and the data, not the build scripts.
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in (
        "molgen/models/selfies-prior/prior.safetensors",
        "molgen/models/solubility/model.safetensors",
        "molgen/models/solubility/README.md",
        "molgen/models/freesolv/model.safetensors",
        "molgen/data/seeds/moses_1k.smi",
        "molgen/data/ring_systems/moses_train.csv.gz",
        "molgen/data/moses/train.csv.gz",
        "molgen/data/README.md",
    ):
        assert shipped in names, f"{shipped} missing from {wheel.name}"
    assert not any(n.startswith("molgen/data/scripts/") for n in names)

    work = tmp_path / "empty"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PREFECT_API_URL")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    molgen = str(env_dir / "bin" / "molgen")

    where = _run([str(py), "-c", "import molgen; print(molgen.__file__)"], work, env)
    assert where.stdout.startswith(str(env_dir)), where.stdout
    _run([molgen, "init", "nightly.toml", "--target", "ESR1"], work, env)
    campaign = work / "nightly.toml"
    text = campaign.read_text()
    for old, new in (
        ('kind = "graph_ga"', 'kind = "selfies_rl"\nprior = "selfies-prior"'),
        ("population_size = 100 ", "# population_size = 100 "),
        ("mutation_rate = 0.1", "# mutation_rate = 0.1"),
        ('predictors = ["qed",', 'predictors = ["solubility", "qed",'),
        ("rounds = 3 ", "rounds = 1 "),
        ("molecules_per_round = 200", "molecules_per_round = 24"),
        ("dock_per_round = 10 ", "dock_per_round = 2 "),
        ("batch_size = 256", "batch_size = 16"),
    ):
        assert old in text, f"template changed: {old!r} not found"
        text = text.replace(old, new)
    campaign.write_text(text)

    _run([molgen, "run", "nightly.toml"], work, env)
    top = json.loads(_run([molgen, "top", "nightly.toml", "--format", "json"], work, env).stdout)
    assert top, "the campaign stored no candidate"
    prior = hashlib.sha256((ROOT / "models/selfies-prior/prior.safetensors").read_bytes())
    for r in top:
        assert "solubility" in r["provenance"]["predictors"]
        assert r["provenance"]["generator"]["generator"] == "selfies_rl"
        assert r["provenance"]["generator"]["prior_sha256"] == prior.hexdigest()
    docked = [r for r in top if (r["objectives"]["docking_score"] or {}).get("value") is not None]
    assert len(docked) == 2, top
