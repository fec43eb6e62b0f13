import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

import sim
from experiments import studies
from sim import IncompleteRunError, RunResult
from sim.results import rounded
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


def test_summaries_print_zero_as_0_never_minus_0(result):
    frame = pd.DataFrame({"x": [-0.0001, 1.5], "n": [1, 2], "ok": [True, False], "t": ["a", "b"]})
    assert "-0" not in rounded(frame).to_string()
    assert rounded(frame)["n"].tolist() == [1, 2] and rounded(frame)["ok"].tolist() == [True, False]
    assert f"{rounded(-0.3, 0):.0f}" == "0" and np.isnan(rounded(float("nan")))
    nearly_zero = dataclasses.replace(result, rounds=result.rounds.assign(efficiency=-1e-7))
    assert "-0" not in nearly_zero.summary().to_string(header=False)
    rounds = pd.DataFrame({"arm": "plain", "seed": [0, 1], "seconds_per_unit": 1.0, "price": 1.0,
                           "volume": 2.0, "welfare": [-2e-4, 1e-4], "efficiency": 1.0})  # fmt: skip
    assert "-0" not in studies.get("fhe_overhead").summary({"rounds": rounds}).to_string()


def test_summary_keeps_numbers_and_report_says_why_a_price_is_missing():
    vcg = sim.run(tiny_config(rounds=3, mechanism={"name": "vcg"}))
    summary = vcg.summary()["value"]
    assert np.isnan(summary["mean price"]) and summary["trades"] == len(vcg.trades)
    line = next(x for x in vcg.report().splitlines() if x.startswith("mean price"))
    assert line.endswith("n/a (no uniform price: vcg sets prices per trade)")


def test_report_says_when_and_why_the_market_ran_empty():
    small = {"n_corporations": 12, "n_solvers": 4, "n_industries": 3}
    empty = sim.run(sim.SimConfig.from_dict({"seed": 0, "rounds": 12, "market": small}))
    rounds = empty.rounds
    first = int(rounds.index[(rounds["corporations_active"] == 0)
                             | (rounds["solvers_active"] == 0)][0])  # fmt: skip
    report = " ".join(empty.report().split())
    assert f"the market ran empty in round {first}" in report
    assert "agents.grace_rounds=5" in report and "outside option" in report
    summary = empty.summary()["value"]
    left = int(rounds["corporations_exited"].sum())
    assert summary["corporations left (entered)"].startswith(f"{left} (")
    kept = sim.run(sim.SimConfig.from_dict({"seed": 0, "rounds": 3, "market": small}))
    assert "ran empty" not in kept.report()
