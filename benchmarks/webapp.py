"""`molgen serve` at scale: the first page of a 1,000,000-candidate campaign, and a
substructure search over 100,000 candidates.

Two campaigns are written into a SQLite store in a temporary folder, with the rows of
``benchmarks/store.py`` (InChIKeys, predictions, four objectives, provenance) and real SMILES
from the MOSES training set shipped in molgen's data (so every structure draws and a
substructure query means something): ``scale`` with ``--candidates`` (1,000,000) and ``search``
with ``--search`` (100,000). The app is served in-process through FastAPI's test client (the
whole ASGI stack, no socket).

Measured, each the median of 3 after one warm-up request unless said:

- ``first_page_s_at_1m``: ``GET /campaign/scale`` (the grid by rank, 24 candidates);
  ``first_page_with_images_s_at_1m`` adds its 24 structure SVGs. Baseline: the store's own
  ``top(campaign, 24)`` read (``top_24_s_at_1m``): the page should cost little more.
- ``substructure_search_s_at_100k``: ``GET /campaign/search?q=<SMARTS>`` for a pyridine, warm
  (the table and its substructure library already built; ``search_first_request_s_at_100k``
  is the cold request that builds them). Baseline: parsing every SMILES with RDKit and calling
  ``HasSubstructMatch`` (``naive_search_s_at_100k``), which must find the same molecules.
- As a reader meets it, from a cold cache: ``grid_s_at_100k`` to open the grid, which starts
  reading the campaign in the background; ``search_ready_after_grid_s_at_100k`` until the table
  and library are built; ``search_once_ready_s_at_100k`` for the search asked after that.

The last line printed is one JSON object. A side that fails (an HTTP error, a structure that does
not draw, a match count that differs from the baseline's) stops the script with exit status 1
and no ratio (``failure_rule.py``).

    .venv/bin/python benchmarks/webapp.py                  # ~6 minutes on 2 cores
    .venv/bin/python benchmarks/webapp.py --candidates 50000 --search 10000
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from failure_rule import BenchmarkFailed  # noqa: E402
from rdkit import Chem  # noqa: E402
from store import synthetic_round  # noqa: E402

from molgen.resources import data_path  # noqa: E402
from molgen.store import CandidateStore  # noqa: E402

PYRIDINE = "c1ccncc1"
PER_ROUND = 10_000


def _print(*parts: Any) -> None:
    print(*parts, flush=True)  # noqa: T201


def moses_smiles(n: int, seed: int) -> list[str]:
    """``n`` SMILES of the MOSES training set (shipped in molgen's data), drawn at random."""
    with gzip.open(data_path("moses", "train.csv.gz"), "rt") as fh:
        header = fh.readline().strip().split(",")
        col = header.index("SMILES")
        rows = [line.strip().split(",")[col] for line in fh if line.strip()]
    rng = random.Random(seed)
    return [rows[rng.randrange(len(rows))] for _ in range(n)]


def fill(store: CandidateStore, campaign: str, smiles: list[str], seed: int) -> float:
    """Write ``len(smiles)`` candidates in rounds of 10,000; returns the seconds it took."""
    rng = random.Random(seed)
    cid = store.campaign_id(campaign, "h", 1, {"target": {"name": "ESR1"}})
    started = time.perf_counter()
    for k, start in enumerate(range(0, len(smiles), PER_ROUND), start=1):
        part = smiles[start : start + PER_ROUND]
        rows = synthetic_round(rng, k, len(part))
        rows["molecules"] = [
            (key, smi) for (key, _), smi in zip(rows["molecules"], part, strict=True)
        ]
        store.write_round(cid, k, **rows, scoring_hash="s")
        if k % 10 == 0:
            _print(f"{campaign}: {start + len(part):,} candidates written")
    return time.perf_counter() - started


def _timed(fn: Any, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _get(client: Any, url: str, side: str) -> Any:
    response = client.get(url)
    if response.status_code != 200:
        raise BenchmarkFailed(
            side, f"GET {url} answered {response.status_code}: {response.text[:300]}"
        )
    return response


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--candidates", type=int, default=1_000_000)
    parser.add_argument("--search", type=int, default=100_000)
    args = parser.parse_args()

    from fastapi.testclient import TestClient

    from molgen.web.app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'store.sqlite'}"
        store = CandidateStore(url)
        write_scale = fill(store, "scale", moses_smiles(args.candidates, 1), 1)
        search_smiles = moses_smiles(args.search, 2)
        fill(store, "search", search_smiles, 2)
        store.close()

        client = TestClient(create_app(url))
        first = "/campaign/scale"
        _get(client, first, "molgen serve")  # warm-up: the server's first request
        page_s = _timed(lambda: _get(client, first, "molgen serve"))
        html = _get(client, first, "molgen serve").text
        images = re.findall(r'<img src="(/svg\?[^"]+)"', html.replace("&amp;", "&"))
        if len(images) != 24:
            raise BenchmarkFailed(
                "molgen serve", f"the first page shows {len(images)} structures, not 24"
            )

        def page_with_images() -> None:
            _get(client, first, "molgen serve")
            for src in images:
                _get(client, src, "molgen serve")

        structure_svg_cache_clear()
        with_images_s = _timed(page_with_images, repeats=1)
        store = CandidateStore(url)
        top_s = _timed(lambda: store.top("scale", 24))
        store.close()

        query = f"/campaign/search?q={PYRIDINE}"
        started = time.perf_counter()
        html = _get(client, query, "molgen serve").text
        cold_s = time.perf_counter() - started
        search_s = _timed(lambda: _get(client, query, "molgen serve"))
        found = int(re.search(r'<p id="summary">(\d+) of', html).group(1))

        # as a reader meets it: the grid opens, and the campaign is read in the background
        from molgen.web import data

        data._cache.clear()
        started = time.perf_counter()
        _get(client, "/campaign/search", "molgen serve")
        grid_s = time.perf_counter() - started
        data.prepare(CandidateStore(url), "search").join()
        ready_s = time.perf_counter() - started
        _get(client, query, "molgen serve")
        after_s = time.perf_counter() - started - ready_s

        pattern = Chem.MolFromSmarts(PYRIDINE)
        started = time.perf_counter()
        naive = sum(Chem.MolFromSmiles(s).HasSubstructMatch(pattern) for s in search_smiles)
        naive_s = time.perf_counter() - started
        if naive != found:
            raise BenchmarkFailed("molgen serve", f"found {found} pyridines, RDKit's loop {naive}")

    result = {
        "first_page_s_at_1m": round(page_s, 4),
        "first_page_with_images_s_at_1m": round(with_images_s, 3),
        "top_24_s_at_1m": round(top_s, 4),
        "substructure_search_s_at_100k": round(search_s, 3),
        "search_first_request_s_at_100k": round(cold_s, 2),
        "grid_s_at_100k": round(grid_s, 3),
        "search_ready_after_grid_s_at_100k": round(ready_s, 2),
        "search_once_ready_s_at_100k": round(after_s, 3),
        "naive_search_s_at_100k": round(naive_s, 2),
        "search_speedup_vs_naive": round(naive_s / search_s, 1),
        "pyridines_found": found,
        "candidates": args.candidates,
        "search_candidates": args.search,
        "write_s": round(write_scale, 1),
    }
    _print(json.dumps(result))


def structure_svg_cache_clear() -> None:
    """Draw the structures afresh (the app caches SVGs it has drawn)."""
    from molgen.web.render import structure_svg

    structure_svg.cache_clear()


if __name__ == "__main__":
    main()
