import pandas as pd

from molgen.artifacts import StageCheckpoint, hash_frame, run_batched


def _ckpt(folder, config="c1"):
    return StageCheckpoint(folder, "in1", config, {"tool": "1"})


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
    calls = []

    def compute(batch):
        calls.append(list(batch))
        if len(calls) == 3:
            raise KeyboardInterrupt  # a kill in the middle of the third batch
        return pd.DataFrame({"x": list(batch)})

    ck = _ckpt(tmp_path / "s")
    ck.start()
    try:
        run_batched(ck, items, 3, compute)
    except KeyboardInterrupt:
        pass
    assert ck.done_batches() == [0, 1]
    assert not ck.is_complete()

    calls.clear()
    ck2 = _ckpt(tmp_path / "s")
    ck2.start()
    table, reused = run_batched(ck2, items, 3, lambda b: pd.DataFrame({"x": list(b)}))
    assert reused == 2
    assert table["x"].tolist() == items


def test_partial_batches_of_another_key_are_discarded(tmp_path):
    ck = _ckpt(tmp_path / "s")
    ck.start()
    ck.write_batch(0, pd.DataFrame({"x": [99]}))
    other = _ckpt(tmp_path / "s", config="changed")
    other.start()
    assert other.done_batches() == []
    table, reused = run_batched(other, [1, 2], 5, lambda b: pd.DataFrame({"x": list(b)}))
    assert reused == 0 and table["x"].tolist() == [1, 2]
