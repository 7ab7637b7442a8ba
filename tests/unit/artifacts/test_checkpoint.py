import pandas as pd
import pytest

from molgen.artifacts import StageCheckpoint, hash_frame, run_batched


def _ckpt(folder, config="c1"):
    return StageCheckpoint(folder, "in1", config, {"tool": "1"})


def _rows(batch):
    return pd.DataFrame({"x": list(batch)})


def _run_until_killed(ck, items, batch_size, batches):
    """Run the stage and kill it while it computes batch number ``batches`` (from 0)."""
    calls = []

    def compute(batch):
        calls.append(list(batch))
        if len(calls) > batches:
            raise KeyboardInterrupt  # a kill in the middle of the batch
        return _rows(batch)

    ck.start()
    with pytest.raises(KeyboardInterrupt):
        run_batched(ck, items, batch_size, compute)
    assert not ck.is_complete()


def test_complete_stage_is_skipped_and_key_change_reruns(tmp_path):
    ck = _ckpt(tmp_path / "s")
    assert not ck.is_complete()
    ck.start()
    df = pd.DataFrame({"a": [1, 2]})
    h = ck.finish(df)
    assert h == hash_frame(df)
    assert _ckpt(tmp_path / "s").is_complete()
    assert _ckpt(tmp_path / "s").read().equals(df)
    assert not _ckpt(tmp_path / "s", config="c2").is_complete()


def test_killed_stage_resumes_from_finished_batches(tmp_path):
    items = list(range(10))
    ck = _ckpt(tmp_path / "s")
    _run_until_killed(ck, items, 3, batches=2)
    assert ck.done_batches(batch_size=3) == [0, 1]

    ck2 = _ckpt(tmp_path / "s")
    ck2.start()
    table, reused = run_batched(ck2, items, 3, _rows)
    assert reused == 2
    assert table["x"].tolist() == items


def test_partial_batches_of_another_key_are_discarded(tmp_path):
    ck = _ckpt(tmp_path / "s")
    ck.start()
    ck.write_batch(0, pd.DataFrame({"x": [99]}), batch_size=5)
    other = _ckpt(tmp_path / "s", config="changed")
    other.start()
    assert other.done_batches(batch_size=5) == []
    table, reused = run_batched(other, [1, 2], 5, _rows)
    assert reused == 0 and table["x"].tolist() == [1, 2]


@pytest.mark.parametrize("killed_batches", [0, 3])
def test_two_runs_of_one_stage_at_once_both_finish(tmp_path, killed_batches):
    """Run b computes; after its first batch, run a (same key) does the whole stage and finishes,
    removing the parts. b must write into a removed folder and, where an earlier killed run
    left batches, recompute the reused batches that a removed."""
    items = list(range(50))
    if killed_batches:
        _run_until_killed(_ckpt(tmp_path / "s"), items, 10, batches=killed_batches)
    a, b = _ckpt(tmp_path / "s"), _ckpt(tmp_path / "s")
    a.start()
    b.start()

    def a_runs_and_finishes(_n):
        if not a.is_complete():
            table_a, _ = run_batched(a, items, 10, _rows)
            a.finish(table_a)

    table_b, _ = run_batched(b, items, 10, _rows, progress=a_runs_and_finishes)
    b.finish(table_b)
    assert table_b["x"].tolist() == items
    done = _ckpt(tmp_path / "s")
    assert done.is_complete() and done.read()["x"].tolist() == items
    assert not (tmp_path / "s" / "parts").exists()


def test_finish_keeps_the_parts_of_another_key(tmp_path):
    _run_until_killed(_ckpt(tmp_path / "s", config="other"), [1, 2, 3], 1, batches=2)
    _ckpt(tmp_path / "s").finish(_rows([5]))  # a run of another config finishes meanwhile
    other = _ckpt(tmp_path / "s", config="other")
    table, reused = run_batched(other, [1, 2, 3], 1, _rows)
    assert reused == 2 and table["x"].tolist() == [1, 2, 3]


def test_resume_with_another_batch_size_mixes_no_batches(tmp_path):
    items = list(range(50))
    _run_until_killed(_ckpt(tmp_path / "s"), items, 10, batches=2)

    ck = _ckpt(tmp_path / "s")
    ck.start()
    table, reused = run_batched(ck, items, 7, _rows)
    assert table["x"].tolist() == items  # no row lost or repeated
    assert reused == 0
    ck.finish(table)
    assert ck.read()["x"].tolist() == items
    assert not (tmp_path / "s" / "parts").exists()
    # The batch size is no part of the key: a complete stage is not run again for it.
    assert _ckpt(tmp_path / "s").is_complete()


def test_parts_of_each_batch_size_are_kept_until_the_stage_finishes(tmp_path):
    items = list(range(50))
    _run_until_killed(_ckpt(tmp_path / "s"), items, 10, batches=2)
    _run_until_killed(_ckpt(tmp_path / "s"), items, 7, batches=3)

    ck = _ckpt(tmp_path / "s")
    assert ck.done_batches(batch_size=10) == [0, 1]
    assert ck.done_batches(batch_size=7) == [0, 1, 2]
    ck.start()
    table, reused = run_batched(ck, items, 10, _rows)
    assert reused == 2 and table["x"].tolist() == items
