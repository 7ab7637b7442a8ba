"""`molgen serve` and `molgen report` in a real headless Chromium, over a real finished docking
campaign: every page loads with no console error and no request off the machine, the grid shows
structures, a range filter and a substructure query give exactly the rows pandas and RDKit give
on the store, the 3D viewer draws, the exported selection is a valid SD file, and the static
report opened from ``file://`` shows the same top candidates and filters and sorts them as
pandas does.

Screenshots of each page go to ``$MOLGEN_SCREENSHOTS`` (default ``tests/screenshots/``)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import browser_support
import pandas as pd
import pytest
from rdkit import Chem
from support import campaign_store, free_port

pytestmark = pytest.mark.integration

SHOTS = Path(os.environ.get("MOLGEN_SCREENSHOTS", Path(__file__).parents[1] / "screenshots"))
PAGE_SIZE = 24

CANVAS_PIXELS = """(el) => {
  const canvas = el.querySelector("canvas");
  const copy = document.createElement("canvas");
  copy.width = canvas.width; copy.height = canvas.height;
  const ctx = copy.getContext("2d");
  ctx.drawImage(canvas, 0, 0);
  const data = ctx.getImageData(0, 0, copy.width, copy.height).data;
  let coloured = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] > 0 && (data[i] < 240 || data[i + 1] < 240 || data[i + 2] < 240)) coloured++;
  }
  return coloured;
}"""


@pytest.fixture
def served(prefect_api, write_campaign):
    """A finished two-round docking campaign and `molgen serve` over its store."""
    reason = browser_support.unavailable()
    if reason:
        pytest.skip(reason)
    from flows.campaign import campaign_flow

    path = write_campaign(name="webapp", rounds=2, n=30, dock=3)
    campaign_flow(str(path))
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "molgen", "serve", str(path), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, proc.stdout.read()
        try:
            with urllib.request.urlopen(url, timeout=2):
                break
        except OSError:
            assert time.monotonic() < deadline, "molgen serve did not answer"
            time.sleep(0.3)
    try:
        yield path, url
    finally:
        proc.terminate()
        proc.wait(10)


def _expected(path: Path) -> pd.DataFrame:
    with campaign_store(path) as (name, store):
        rows = store.top(name)
    return pd.DataFrame(
        [
            {
                "inchikey": r["inchikey"],
                "smiles": r["smiles"],
                "score": r["score"],
                "qed": r["objectives"]["qed"]["value"],
                "docking_score": r["objectives"]["docking_score"]["value"],
            }
            for r in rows
        ]
    )


def _grid_keys(page) -> list[str]:
    return page.eval_on_selector_all(".card", "cards => cards.map(c => c.dataset.inchikey)")


def test_the_web_app_in_a_browser(served, tmp_path):
    path, url = served
    SHOTS.mkdir(parents=True, exist_ok=True)
    expected = _expected(path)
    record = browser_support.BrowserRecord()
    with browser_support.browser_page(record, viewport=(1280, 900)) as page:
        page.goto(url)
        assert page.locator("table.list a", has_text="webapp").count() == 1
        page.screenshot(path=SHOTS / "campaigns.png", full_page=True)

        page.click("text=webapp")
        page.wait_for_load_state("networkidle")
        assert _grid_keys(page) == expected["inchikey"].head(PAGE_SIZE).tolist()
        drawn = page.eval_on_selector_all(
            ".card img", "imgs => imgs.filter(i => i.complete && i.naturalWidth > 0).length"
        )
        assert drawn == min(PAGE_SIZE, len(expected))
        page.screenshot(path=SHOTS / "campaign.png", full_page=True)

        # a range filter and a substructure query: the rows pandas and RDKit give
        page.fill("input[name=min_qed]", "0.6")
        page.fill("input[name=q]", "c1ccccc1")
        page.click("#filters button[type=submit]")
        page.wait_for_load_state("networkidle")
        benzene = Chem.MolFromSmarts("c1ccccc1")
        has_benzene = expected["smiles"].map(
            lambda s: Chem.MolFromSmiles(s).HasSubstructMatch(benzene)
        )
        want = expected[(expected["qed"] >= 0.6) & has_benzene]
        assert 0 < len(want) < len(expected)
        assert page.inner_text("#summary").startswith(f"{len(want)} of {len(expected)} ")
        assert _grid_keys(page) == want["inchikey"].head(PAGE_SIZE).tolist()
        page.screenshot(path=SHOTS / "campaign-filtered.png", full_page=True)

        # a malformed SMARTS is a message on the page, not a server error
        page.goto(f"{url}/campaign/webapp?q=C((")
        assert "neither a SMARTS pattern nor a SMILES" in page.inner_text("#error")

        # the best docked candidate, its pose in 3D
        docked = expected[expected["docking_score"].notna()]
        page.goto(f"{url}/campaign/webapp/candidate/{docked['inchikey'].iloc[0]}")
        page.wait_for_selector("#viewer[data-ready='1']")
        assert page.eval_on_selector("#viewer", CANVAS_PIXELS) > 1000
        page.screenshot(path=SHOTS / "candidate.png", full_page=True)
        # its nearest neighbours: the most similar candidates by Morgan-fingerprint Tanimoto
        from rdkit import DataStructs
        from rdkit.Chem import rdFingerprintGenerator

        generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
        fps = [generator.GetFingerprint(Chem.MolFromSmiles(s)) for s in expected["smiles"]]
        me = expected.index[expected["inchikey"] == docked["inchikey"].iloc[0]][0]
        sims = DataStructs.BulkTanimotoSimilarity(fps[me], fps)
        ranked = sorted((j for j in range(len(fps)) if j != me), key=lambda j: -sims[j])[:6]
        shown = page.eval_on_selector_all(
            "#neighbours .card", "cards => cards.map(c => c.dataset.inchikey)"
        )
        assert shown == [expected["inchikey"].iloc[j] for j in ranked]

        # round by round: the plots draw, and the table counts what the store holds
        page.goto(f"{url}/campaign/webapp")
        page.click("#rounds-link")
        page.wait_for_selector("#plot-front .main-svg")
        assert page.locator(".js-plotly-plot").count() == 3
        with campaign_store(path) as (name, store):
            per_round = pd.Series([r["round"] for r in store.top(name)]).value_counts()
        cells = page.locator("#round-table tr").nth(1).locator("td").all_inner_texts()
        assert cells[1:] == [str(per_round[r]) for r in sorted(per_round.index)]
        page.screenshot(path=SHOTS / "rounds.png", full_page=True)

        # what was rejected: the funnel, the summary and the inputs as written, per stage
        page.click("text=webapp")
        page.click("#rejections-link")
        page.wait_for_selector("#plot-funnel .main-svg")
        with campaign_store(path) as (name, store):
            summary = store.rejection_summary(name)
            most = max(summary, key=lambda s: s["count"])["stage"]
            rejected = store.rejections(name, stage=most, limit=50)
        stages = page.locator("#summary-table tr td:first-child").all_inner_texts()
        assert stages == [s["stage"] for s in summary] and rejected
        page.screenshot(path=SHOTS / "rejections.png", full_page=True)
        page.click(f"#summary-table a:text-is('{most}')")
        page.wait_for_selector("#plot-funnel .main-svg")
        inputs = page.locator("#rejected tr td:nth-child(3)").all_inner_texts()
        assert inputs == [r["input"] for r in rejected]
        # per filter: the funnel has a bar for each, and each lists the inputs it refused
        with campaign_store(path) as (name, store):
            filters = next(s for s in store.rejection_summary(name) if s["stage"] == "filter")
            rule = filters["rules"][0]["rule"]
            by_rule = store.rejections(name, rule=rule, limit=50)
        bars = page.eval_on_selector("#plot-funnel", "p => p.data[0].y")
        assert [f"filter: {r['rule']}" for r in filters["rules"]] == [
            b for b in bars if b.startswith("filter: ")
        ]
        page.click(f"#summary-table td.rules a:text-is('{rule}')")
        page.wait_for_selector("#plot-funnel .main-svg")
        inputs = page.locator("#rejected tr td:nth-child(3)").all_inner_texts()
        assert inputs == [r["input"] for r in by_rule] and by_rule

        # tick two candidates and export them as SDF
        page.goto(f"{url}/campaign/webapp")
        boxes = page.locator("#grid input[name=key]")
        boxes.nth(0).check()
        boxes.nth(1).check()
        with page.expect_download() as download:
            page.click("text=export ticked as SDF")
        sdf = Path(download.value.path()).read_bytes()
    mols = [m for m in Chem.ForwardSDMolSupplier(io.BytesIO(sdf)) if m is not None]
    assert [m.GetProp("inchikey") for m in mols] == expected["inchikey"].head(2).tolist()

    assert record.console_errors == [] and record.page_errors == []
    assert record.external_requests() == []
    # a download ends its navigation: Chromium reports that request as aborted
    assert [u for u in record.failed_requests if "/export.sdf:" not in u] == []

    _check_report(path, expected, tmp_path / "report")


def _check_report(path: Path, expected: pd.DataFrame, out: Path) -> None:
    """`molgen report` writes pages that work from disk like the app's."""
    done = subprocess.run(
        [sys.executable, "-m", "molgen", "report", str(path), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    record = browser_support.BrowserRecord()
    with browser_support.browser_page(record, viewport=(1280, 900)) as page:
        page.goto((out / "index.html").as_uri())
        assert _grid_keys(page) == expected["inchikey"].head(PAGE_SIZE).tolist()
        drawn = page.eval_on_selector_all(
            ".card img", "imgs => imgs.filter(i => i.complete && i.naturalWidth > 0).length"
        )
        assert drawn == min(PAGE_SIZE, len(expected))
        assert "molgen serve" in page.inner_text("#substructure-note")
        page.screenshot(path=SHOTS / "report.png", full_page=True)

        # two ranges (AND), then sorted by the docking score, best (lowest) first
        page.fill("#filters input[name=min_qed]", "0.6")
        page.fill("#filters input[name=max_score]", "0.9")
        want = expected[(expected["qed"] >= 0.6) & (expected["score"] <= 0.9)]
        assert 0 < len(want) < len(expected)
        assert page.inner_text("#summary").startswith(f"{len(want)} of {len(expected)} ")
        assert _grid_keys(page) == want["inchikey"].head(PAGE_SIZE).tolist()
        page.select_option("#sort", "docking_score")
        by_dock = want.assign(rank=range(len(want))).sort_values(
            ["docking_score", "rank"], na_position="last"
        )
        assert _grid_keys(page) == by_dock["inchikey"].head(PAGE_SIZE).tolist()
        page.screenshot(path=SHOTS / "report-filtered.png", full_page=True)

        page.goto((out / "rounds.html").as_uri())
        page.wait_for_selector("#plot-front .main-svg")
        assert page.locator(".js-plotly-plot").count() == 3
        page.goto((out / "rejections.html").as_uri())
        page.wait_for_selector("#plot-funnel .main-svg")

        # the best docked candidate's page, its pose and pocket drawn from the page itself
        page.goto((out / "index.html").as_uri())
        page.select_option("#sort", "docking_score")
        page.click("#grid .card a >> nth=0")
        page.wait_for_selector("#viewer[data-ready='1']")
        docked = expected[expected["docking_score"].notna()]
        best = docked.sort_values("docking_score")["inchikey"].iloc[0]
        assert page.url.endswith(f"candidate-{best}.html")
        assert page.eval_on_selector("#viewer", CANVAS_PIXELS) > 1000
        page.screenshot(path=SHOTS / "report-candidate.png", full_page=True)
    assert record.console_errors == [] and record.page_errors == []
    assert record.external_requests() == [] and record.failed_requests == []
