"""The web app's substructure search: the rows RDKit finds, and a search that runs past its
time budget stops with the matches among the best-ranked candidates it got to, and says so."""

from __future__ import annotations

import pandas as pd
from rdkit import Chem

from molgen.web import data

SMILES = ["c1ccncc1C", "CCO", "c1ccccc1N", "Cc1ccncc1", "CCN", "O=C(O)c1cccnc1", "CCCC", "n1ccccc1"]


def _table() -> data.CandidateTable:
    frame = pd.DataFrame(
        {
            "rank": range(1, len(SMILES) + 1),
            "inchikey": [f"K{i}" for i in range(len(SMILES))],
            "smiles": SMILES,
            "score": [1.0 - i / 10 for i in range(len(SMILES))],
            "pareto_rank": [1] * len(SMILES),
            "round": [1] * len(SMILES),
            "qed": [0.1 * i for i in range(len(SMILES))],
        }
    )
    return data.CandidateTable("c", frame, ["qed"])


def test_search_gives_rdkits_rows_in_chunks(monkeypatch):
    monkeypatch.setattr(data, "SEARCH_CHUNK", 3)
    pyridine = Chem.MolFromSmarts("c1ccncc1")
    want = [k for k, s in enumerate(SMILES) if Chem.MolFromSmiles(s).HasSubstructMatch(pyridine)]
    found = data.select_rows(_table(), {}, "c1ccncc1")
    assert found.rows.index.tolist() == want and found.note == ""
    ranged = data.select_rows(_table(), {"qed": (0.25, None)}, "c1ccncc1")
    assert ranged.rows.index.tolist() == [k for k in want if 0.1 * k >= 0.25]


def test_a_search_past_its_budget_stops_with_the_best_ranked_matches(monkeypatch):
    monkeypatch.setattr(data, "SEARCH_CHUNK", 3)
    found = data.select_rows(_table(), {}, "c1ccncc1", seconds=0.0)
    assert found.searched == 3
    assert found.rows.index.tolist() == [0]  # the only pyridine among the best three
    assert "looked at the best 3 of 8 candidates" in found.note
