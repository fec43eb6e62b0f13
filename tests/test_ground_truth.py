import dataclasses
import importlib.util
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

import sim
from crypto.ground_truth import JOBS, JobSpec, run_job
from tests.conftest import tiny_config

needs_ezkl = pytest.mark.skipif(
    importlib.util.find_spec("ezkl") is None, reason="ezkl is not installed (the zk extra)"
)


@pytest.mark.parametrize(
    ("kind", "rows"),
    [
        ("commit", 300),
        ("train_plain", 300),
        ("fhe_encrypt", 20),
        ("fhe_infer", 20),
        ("fhe_train", 8),
    ],
)
def test_real_jobs_are_measured(kind, rows):
    m = run_job(JobSpec(kind, rows=rows, features=4, params={"epochs": 1}, time_limit=120))
    assert m.ok, m.error
    assert m.seconds > 0 and np.isfinite(m.seconds)
    assert m.peak_rss_mb > 10
    assert m.bytes_produced > 0
    assert m.error == ""
    assert m.as_row()["kind"] == kind


def test_a_job_past_its_time_limit_is_recorded_as_failed():
    m = run_job(
        JobSpec("train_plain", rows=200, features=4, params={"epochs": 10**9}, time_limit=3)
    )
    assert not m.ok
    assert m.error == "timed out after 3 s"
    assert np.isnan(m.seconds) and m.bytes_produced == 0
    # the caller goes on: the next job runs normally
    assert run_job(JobSpec("commit", rows=10, features=2)).ok


def test_a_job_past_its_memory_limit_is_recorded_as_failed():
    m = run_job(JobSpec("train_plain", rows=100, features=4, memory_limit_mb=200))
    assert not m.ok
    assert m.error


@pytest.mark.parametrize("limit_mb", [256, 512])
def test_fhe_training_past_its_memory_limit_ends_promptly_as_out_of_memory(limit_mb):
    started = time.monotonic()
    spec = JobSpec("fhe_train", rows=8, features=4, params={"epochs": 1}, time_limit=120)
    m = run_job(dataclasses.replace(spec, memory_limit_mb=limit_mb))
    assert time.monotonic() - started < 30  # far from the time limit
    assert not m.ok
    assert m.error == f"out of memory: address-space limit {limit_mb} MiB"
    assert np.isnan(m.seconds) and m.bytes_produced == 0
    # the caller goes on: the same job under a sufficient limit succeeds
    assert run_job(dataclasses.replace(spec, memory_limit_mb=1024)).ok


@pytest.mark.parametrize(
    ("kind", "rows", "limit_mb"),
    [
        ("commit", 300, 64),
        ("train_plain", 100, 512),
        ("fhe_encrypt", 20, 256),
        ("fhe_infer", 20, 128),
        pytest.param("zk_prove", 12, 256, marks=needs_ezkl),
    ],
)
def test_jobs_past_their_memory_limit_end_promptly_as_out_of_memory(kind, rows, limit_mb):
    started = time.monotonic()
    m = run_job(JobSpec(kind, rows=rows, features=4, time_limit=120, memory_limit_mb=limit_mb))
    assert time.monotonic() - started < 60  # far from the time limit
    assert not m.ok
    assert m.error == f"out of memory: address-space limit {limit_mb} MiB"


def test_job_specs_are_validated():
    with pytest.raises(ValueError, match="unknown job kind 'nope'; allowed: "):
        JobSpec("nope", rows=1, features=1)
    with pytest.raises(ValueError, match="rows >= 1"):
        JobSpec("commit", rows=0, features=1)
    assert {"commit", "train_plain"} <= set(JOBS)


def test_simulation_with_ground_truth_writes_real_measurements(tmp_path):
    base = {"rounds": 3, "market": {"n_corporations": 10, "n_solvers": 4}}
    gt = {"crypto": {"ground_truth": {"rate": 0.3, "max_jobs_per_round": 2}}}
    with_gt = sim.run(tiny_config(**base, **gt))
    without = sim.run(tiny_config(**base))
    table = with_gt.ground_truth
    assert len(table) > 0 and table["ok"].all()
    assert (table["seconds"] > 0).all() and (table["peak_rss_mb"] > 0).all()
    counts = table.groupby("round").size().reindex(range(3), fill_value=0)
    assert with_gt.rounds["gt_jobs"].tolist() == counts.tolist()
    # sampling has its own random stream: the simulated market is unchanged
    pd.testing.assert_frame_equal(with_gt.trades, without.trades)
    assert without.ground_truth.empty and (without.rounds["gt_jobs"] == 0).all()
    out = with_gt.save(tmp_path / "run")
    assert len(pd.read_parquet(out / "ground_truth.parquet")) == len(table)


def test_rate_zero_imports_no_crypto_library():
    # (JAX is not checked: cvxpy imports it on its own when it is installed.)
    code = (
        "import sys, sim\n"
        "sim.run({'rounds': 2, 'market': {'n_corporations': 5, 'n_solvers': 2}})\n"
        "heavy = {'tenseal', 'ezkl', 'cryptography', 'onnx', 'crypto.fhe', 'crypto.commit'}\n"
        "heavy &= set(sys.modules)\n"
        "print(sorted(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_peak_memory_is_the_workers_own():
    """A large parent must not inflate the worker's peak (ru_maxrss survives exec)."""
    ballast = np.ones(400 * 2**20 // 8)  # 400 MiB in this process
    m = run_job(JobSpec("commit", rows=100, features=2))
    assert m.ok
    assert m.peak_rss_mb < 300
    del ballast


def test_jobs_that_time_out_are_recorded_and_the_run_completes():
    cfg = tiny_config(
        rounds=2,
        market={"n_corporations": 8, "n_solvers": 3},
        crypto={"ground_truth": {"rate": 1.0, "kinds": ["fhe_train"], "time_limit": 0.5}},
    )
    result = sim.run(cfg)
    table = result.ground_truth
    assert len(result.rounds) == 2 and len(table) > 0
    assert not table["ok"].any()
    assert table["error"].str.startswith("timed out after 0.5 s").all()
    sellers = result.agents.set_index("agent")
    np.testing.assert_allclose(table["param_quality"], sellers.loc[table["seller"], "quality"])
    assert (table["param_industry"] == sellers.loc[table["seller"], "industry"].to_numpy()).all()
