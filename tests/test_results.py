import json

import pandas as pd
import pytest

import sim
from sim import IncompleteRunError, RunResult
from tests.conftest import tiny_config


@pytest.fixture(scope="module")
def result():
    return sim.run(tiny_config(rounds=4))


def test_save_writes_tables_config_and_done_last(result, tmp_path):
    out = result.save(tmp_path / "run")
    names = {p.name for p in out.iterdir()}
    assert names == {
        "rounds.parquet",
        "trades.parquet",
        "agents.parquet",
        "rejected.parquet",
        "adversaries.parquet",
        "ground_truth.parquet",
        "config.yaml",
        "DONE",
    }
    done = json.loads((out / "DONE").read_text())
    assert set(done["files"]) == names - {"DONE"}
    newest = max((p for p in out.iterdir() if p.name != "DONE"), key=lambda p: p.stat().st_mtime_ns)
    assert (out / "DONE").stat().st_mtime_ns >= newest.stat().st_mtime_ns


def test_load_round_trips(result, tmp_path):
    loaded = RunResult.load(result.save(tmp_path / "run"))
    assert loaded.config == result.config
    pd.testing.assert_frame_equal(loaded.rounds, result.rounds)
    pd.testing.assert_frame_equal(loaded.trades, result.trades)


def test_directory_without_done_is_incomplete(result, tmp_path):
    out = result.save(tmp_path / "run")
    (out / "DONE").unlink()
    with pytest.raises(IncompleteRunError, match="incomplete"):
        RunResult.load(out)


def test_failed_rewrite_leaves_no_done_and_no_partial_file(result, tmp_path, monkeypatch):
    out = result.save(tmp_path / "run")
    before = (out / "rounds.parquet").read_bytes()

    def fail(self, path, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", fail)
    with pytest.raises(OSError, match="disk full"):
        result.save(out)
    assert not (out / "DONE").exists()
    assert (out / "rounds.parquet").read_bytes() == before
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
