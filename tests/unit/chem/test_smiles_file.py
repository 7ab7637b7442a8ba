"""The one SMILES-file rule: first field; blank lines, comments and a header are skipped."""

from __future__ import annotations

import io

from molgen.chem.smiles_file import (
    SmilesEntry,
    iter_smiles_entries,
    read_smiles,
    read_smiles_entries,
)

TEXT = """\
SMILES name
# a comment line
CCO ethanol

   # an indented comment
\tc1ccccc1\tbenzene
C1CC not-a-ring
CC(=O)O
"""


def test_entries_keep_their_line_numbers(tmp_path):
    path = tmp_path / "mols.smi"
    path.write_text(TEXT)
    assert read_smiles_entries(path) == [
        SmilesEntry(3, "CCO"),
        SmilesEntry(6, "c1ccccc1"),
        SmilesEntry(7, "C1CC"),
        SmilesEntry(8, "CC(=O)O"),
    ]
    assert read_smiles(path) == ["CCO", "c1ccccc1", "C1CC", "CC(=O)O"]


def test_only_the_first_molecule_line_can_be_a_header():
    lines = ["# header follows", "smiles", "CCO", "smiles", ""]
    assert list(iter_smiles_entries(lines)) == [SmilesEntry(3, "CCO"), SmilesEntry(4, "smiles")]
    assert list(iter_smiles_entries(["CCO", "SMILES"])) == [
        SmilesEntry(1, "CCO"),
        SmilesEntry(2, "SMILES"),
    ]


def test_streams_with_line_endings_and_windows_newlines():
    stream = io.StringIO("CCO\r\n\r\nCCN x\r\n")
    assert list(iter_smiles_entries(stream)) == [SmilesEntry(1, "CCO"), SmilesEntry(3, "CCN")]


def test_the_campaign_seed_stage_follows_the_rule(tmp_path, data_dir):
    from molgen.pipeline.record import seed_rejections
    from molgen.pipeline.stages import seeds_stage

    path = tmp_path / "seeds.smi"
    path.write_text(TEXT)
    out = seeds_stage(tmp_path / "out", path, "h", 2)
    assert out.table["source"].tolist() == ["CCO", "c1ccccc1", "C1CC", "CC(=O)O"]
    bad = seeds_stage(tmp_path / "bad", data_dir / "bad_seeds.smi", "h", 4)
    assert bad.table["line"].tolist()[:4] == [1, 3, 4, 5]
    inputs = [r.input for r in seed_rejections(bad)]
    assert inputs == ["line 3: C1CC", "line 4: C(C)(C)(C)(C)C", "line 5: this"]


NOT_UTF8 = b"SMILES name\n# caf\xe9: a comment in Latin-1\nCCO ethanol\nC\xe9C bad\n\nCCN ok\n"


def test_a_line_that_is_not_utf8_is_one_entry_with_its_line_and_error(tmp_path):
    path = tmp_path / "mols.smi"
    path.write_bytes(NOT_UTF8)
    assert read_smiles_entries(path) == [
        SmilesEntry(3, "CCO"),
        SmilesEntry(4, "C\\xe9C", "not valid UTF-8 (byte 0xe9 at column 2)"),
        SmilesEntry(6, "CCN"),
    ]
    assert read_smiles(path) == ["CCO", "C\\xe9C", "CCN"]  # the escaped text parses as nothing
    assert list(iter_smiles_entries(io.BytesIO(NOT_UTF8))) == read_smiles_entries(path)


def test_a_byte_order_mark_is_not_part_of_the_first_line(tmp_path):
    path = tmp_path / "mols.smi"
    path.write_bytes(b"\xef\xbb\xbfsmiles\r\nCCO\r\n")
    assert read_smiles_entries(path) == [SmilesEntry(2, "CCO")]


def test_the_seed_stage_rejects_a_line_that_is_not_utf8_and_reads_the_rest(tmp_path):
    from molgen.pipeline.record import seed_rejections
    from molgen.pipeline.stages import seeds_stage

    path = tmp_path / "seeds.smi"
    path.write_bytes(NOT_UTF8)
    out = seeds_stage(tmp_path / "out", path, "h", 2)
    assert out.accepted()["smiles"].tolist() == ["CCO", "CCN"]
    assert [(r.input, r.reason) for r in seed_rejections(out)] == [
        ("line 4: C\\xe9C", "not valid UTF-8 (byte 0xe9 at column 2)")
    ]
