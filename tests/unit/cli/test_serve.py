"""`molgen serve`'s safety: loopback unless a token is given, the token is required of every
request, every value is shown as text, and a bad query is a message, not a server error."""

from __future__ import annotations

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from molgen.cli.main import app as cli
from molgen.store import CandidateStore
from molgen.web.app import create_app

NAME = "c-1"
TARGET = "<script>alert(1)</script>"  # a receptor file name, shown on the campaigns page
SMILES = "Cc1ccc[nH]1"


def _store(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    store = CandidateStore(url)
    cid = store.campaign_id(NAME, "h", 1, {"target": {"pdb": TARGET}})
    objectives = {"qed": {"value": 0.5, "desirability": 0.5}}
    candidate = {"inchikey": "K1", "score": 0.5, "objectives": objectives, "provenance": {}}
    store.write_round(cid, 1, [("K1", SMILES)], [], [candidate], [], scoring_hash="s")
    store.close()
    return url


def test_a_host_other_than_loopback_needs_a_token(tmp_path, monkeypatch):
    monkeypatch.delenv("MOLGEN_SERVE_TOKEN", raising=False)
    url = _store(tmp_path)
    result = CliRunner().invoke(cli, ["serve", "--store", url, "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "give --token" in result.output


def test_serving_a_store_that_does_not_exist_creates_nothing(tmp_path):
    missing = tmp_path / "none" / "store.sqlite"
    result = CliRunner().invoke(cli, ["serve", "--store", f"sqlite:///{missing}"])
    assert result.exit_code == 2 and f"no store at {missing}" in result.output
    assert not missing.parent.exists()


def test_every_request_needs_the_token_and_values_are_text(tmp_path):
    client = TestClient(create_app(_store(tmp_path), token="s3cret"))
    assert client.get("/").status_code == 401
    assert client.get("/", headers={"Authorization": "Bearer wrong"}).status_code == 401
    page = client.get("/?token=s3cret")  # sets the cookie the next requests carry
    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and TARGET not in page.text
    grid = client.get(f"/campaign/{NAME}")
    assert grid.status_code == 200 and SMILES in grid.text and "1 of 1 candidates" in grid.text


def test_a_malformed_query_is_a_message(tmp_path):
    client = TestClient(create_app(_store(tmp_path)))
    page = client.get(f"/campaign/{NAME}", params={"q": "C(("})
    assert page.status_code == 200 and "neither a SMARTS pattern nor a SMILES" in page.text
    page = client.get(f"/campaign/{NAME}", params={"min_qed": "abc"})
    assert page.status_code == 200 and "&#39;abc&#39; is not a number" in page.text
    bad = client.get("/svg", params={"smiles": "C(((", "q": ""})
    assert bad.status_code == 400 and "not a valid SMILES" in bad.text
    assert client.get("/campaign/nope").status_code == 404
