import copy
import dataclasses
import importlib.util
import pickle
import subprocess
import sys
import threading
import time

import numpy as np
import pandas as pd
import pytest

import sim
from crypto.data import IndustryData
from crypto.ground_truth import HELDOUT_STREAM, JOBS, JobSpec, run_job
from sim import ConfigError, SimConfig
from sim.round.work import GroundTruthJobs
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
    # only the pipeline reports stages and a proof
    assert m.stages == {} and m.proof_verified is None and np.isnan(m.heldout_accuracy)
    assert not any(c.startswith("seconds_") for c in m.as_row())


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
    assert run_job(dataclasses.replace(spec, memory_limit_mb=2048)).ok


@pytest.mark.parametrize(
    ("kind", "rows", "limit_mb"),
    [
        ("commit", 300, 64),
        ("train_plain", 100, 512),
        ("fhe_encrypt", 20, 256),
        ("fhe_infer", 20, 128),
        pytest.param("zk_prove", 12, 256, marks=needs_ezkl),
        pytest.param("pipeline", 8, 512, marks=needs_ezkl),
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
    gt = {"rate": 0.3, "max_jobs_per_round": 2, "kinds": ["commit", "train_plain"], "workers": 2}
    with_gt = sim.run(tiny_config(**base, crypto={"ground_truth": gt}))
    without = sim.run(tiny_config(**base))
    table = with_gt.ground_truth
    assert len(table) > 0 and table["ok"].all()
    assert (table["seconds"] > 0).all() and (table["peak_rss_mb"] > 0).all()
    counts = table.groupby("round").size().reindex(range(3), fill_value=0)
    assert with_gt.rounds["gt_jobs"].tolist() == counts.tolist()
    assert table["round"].is_monotonic_increasing  # in the order the rounds started them
    # sampling has its own random stream: the simulated market is unchanged; the trades
    # table marks exactly the trades that ran as jobs
    marked = with_gt.trades.loc[with_gt.trades["ground_truth"], ["round", "seller", "buyer"]]
    pd.testing.assert_frame_equal(
        marked.reset_index(drop=True), table[["round", "seller", "buyer"]], check_dtype=False
    )
    assert not without.trades["ground_truth"].any()
    columns = [c for c in with_gt.trades if c != "ground_truth"]
    pd.testing.assert_frame_equal(with_gt.trades[columns], without.trades[columns])
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


# --- the trade's pipeline -------------------------------------------------------------------

PIPELINE_STAGES = ["commit", "encrypt", "train", "decrypt", "setup", "prove", "verify"]


def _twin_accuracy(spec: JobSpec) -> float:
    """Held-out accuracy of the pipeline's model trained in plaintext (the same update rule).

    The rows and held-out rows are drawn as the job documents: one ``IndustryData`` per
    spec seed, the held-out rows with clean labels from their own stream.
    """
    from crypto import fhe

    heldout_rows = spec.params.get("heldout_rows", 16)
    data = IndustryData(n_features=spec.features, n_industries=1, shift=1.0, seed=spec.seed)
    train = data.sample(0, spec.rows, 1.0, np.random.default_rng(spec.seed))
    held = data.sample(0, heldout_rows, 1.0, np.random.default_rng([spec.seed, HELDOUT_STREAM]))
    xs, mean, std = fhe.standardize(train.x)
    twin = fhe.train_plain_approx(xs, train.y, spec.params.get("epochs", 1))
    w = twin.weights / std
    b = twin.bias - w @ mean
    return float(np.mean((held.x @ w + b > 0) == (held.y == 1)))


def _check_pipeline(m, spec: JobSpec) -> None:
    assert m.ok, m.error
    assert list(m.stages) == PIPELINE_STAGES
    assert all(v > 0 and np.isfinite(v) for v in m.stages.values())
    assert m.seconds == pytest.approx(sum(m.stages.values()))
    # ciphertexts of every row and label dominate the bytes (>= 100 KiB each at N=16384)
    assert m.bytes_produced > 2 * spec.rows * 100 * 1024
    assert m.peak_rss_mb > 100
    row = m.as_row()
    assert [c for c in row if c.startswith("seconds_")] == [f"seconds_{s}" for s in PIPELINE_STAGES]
    assert row["proof_verified"] == m.proof_verified and row["param_min_share"] is not None
    # the proof counts what the plaintext twin predicts (up to one row near the boundary)
    heldout_rows = spec.params.get("heldout_rows", 16)
    assert (m.heldout_accuracy * heldout_rows) == pytest.approx(
        round(m.heldout_accuracy * heldout_rows)
    )
    assert abs(m.heldout_accuracy - _twin_accuracy(spec)) <= 1 / heldout_rows + 1e-9


@needs_ezkl
def test_pipeline_runs_every_stage_and_an_honest_model_verifies():
    spec = JobSpec("pipeline", rows=24, features=4, params={"min_share": 0.6}, time_limit=120)
    m = run_job(spec)
    _check_pipeline(m, spec)
    # clean data, honest training: the proven accuracy passes the default threshold
    assert _twin_accuracy(spec) >= 0.6
    assert m.heldout_accuracy >= 0.6 and m.proof_verified is True


@needs_ezkl
def test_pipeline_proof_fails_verification_below_the_threshold():
    spec = JobSpec("pipeline", rows=8, features=4, params={"min_share": 1.0}, time_limit=120)
    assert _twin_accuracy(spec) < 1.0  # the model errs on some held-out row
    m = run_job(spec)
    _check_pipeline(m, spec)
    assert m.heldout_accuracy < 1.0 and m.proof_verified is False


@needs_ezkl
def test_a_lazy_pipeline_delivers_random_weights_and_its_proof_fails():
    spec = JobSpec("pipeline", rows=24, features=4, params={"lazy": True}, seed=2, time_limit=120)
    m = run_job(spec)
    assert m.ok, m.error
    assert m.stages["train"] < 0.05 and m.stages["decrypt"] < 0.05  # no training happened
    assert m.heldout_accuracy < _twin_accuracy(spec) - 0.2
    assert m.proof_verified is False  # below the honest claim less 2.33 standard errors


@needs_ezkl
def test_a_pipeline_that_cannot_build_its_circuit_is_recorded_as_failed():
    m = run_job(JobSpec("pipeline", rows=8, features=4, params={"max_logrows": 1}, time_limit=120))
    assert not m.ok
    assert "logrows" in m.error
    assert m.stages == {} and m.proof_verified is None and m.bytes_produced == 0
    assert np.isnan(m.seconds) and np.isnan(m.heldout_accuracy)
    row = m.as_row()
    assert row["ok"] is False and row["proof_verified"] is None


# --- the pool: jobs in the background --------------------------------------------------------

SLOW_JOB = JobSpec("train_plain", rows=200, features=4, params={"epochs": 10**9}, time_limit=3)


def _ground_truth_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("ground-truth")]


def test_pool_returns_rows_in_submission_order_not_completion_order():
    jobs = GroundTruthJobs(workers=2)
    jobs.submit(SLOW_JOB, {"i": 0})
    jobs.submit(JobSpec("commit", rows=10, features=2), {"i": 1})
    deadline = time.monotonic() + 2.5
    while jobs.pending > 1 and time.monotonic() < deadline:  # the quick job ends first
        time.sleep(0.05)
    assert jobs.pending == 1
    rows = jobs.join()
    assert [r["i"] for r in rows] == [0, 1]
    assert [r["kind"] for r in rows] == ["train_plain", "commit"]
    assert rows[0]["error"] == "timed out after 3 s" and rows[1]["ok"]
    assert jobs.pending == 0 and jobs.join() == [] and not _ground_truth_threads()


def test_a_job_that_cannot_start_is_recorded_as_failed():
    jobs = GroundTruthJobs(workers=1)
    unpicklable = JobSpec("commit", rows=10, features=2, params={"f": lambda: 0})
    with pytest.raises(Exception, match="pickle"):
        run_job(unpicklable)  # run_job raises: the worker cannot be started
    jobs.submit(unpicklable, {"i": 0})
    jobs.submit(JobSpec("commit", rows=10, features=2), {"i": 1})
    first, second = jobs.join()  # the pool records it and goes on
    assert first["ok"] is False and "pickle" in first["error"] and np.isnan(first["seconds"])
    assert second["ok"] and second["i"] == 1


def test_rounds_do_not_wait_for_ground_truth_jobs():
    gt = {"rate": 1.0, "max_jobs_per_round": 1, "kinds": ["fhe_train"], "time_limit": 5}
    model = sim.MarketModel(tiny_config(rounds=2, crypto={"ground_truth": {**gt, "workers": 2}}))
    started = time.monotonic()
    model.step()
    model.step()
    assert time.monotonic() - started < 5  # neither round waited for its job
    assert model.ground_truth_jobs.pending >= 1 and _ground_truth_threads()
    table = model.ground_truth_frame()  # waits for them
    assert model.rounds_frame()["gt_jobs"].tolist() == [1, 1]
    assert table["round"].tolist() == [0, 1] and (table["kind"] == "fhe_train").all()
    assert not _ground_truth_threads()


def test_a_model_with_pending_jobs_can_be_copied_and_pickled():
    gt = {"rate": 1.0, "max_jobs_per_round": 2, "kinds": ["commit"], "workers": 2}
    model = sim.MarketModel(tiny_config(rounds=2, crypto={"ground_truth": gt}))
    model.step()
    model.step()
    clone, thawed = copy.deepcopy(model), pickle.loads(pickle.dumps(model))
    assert not _ground_truth_threads()  # copying waited for the jobs and stopped the threads
    table = model.ground_truth_frame()
    assert len(table) == model.rounds_frame()["gt_jobs"].sum() > 0 and table["ok"].all()
    pd.testing.assert_frame_equal(clone.ground_truth_frame(), table)
    pd.testing.assert_frame_equal(thawed.ground_truth_frame(), table)
    thawed.step()  # the copy starts its own threads
    assert len(thawed.ground_truth_frame()) == thawed.rounds_frame()["gt_jobs"].sum() > len(table)
    assert not _ground_truth_threads()


def test_ground_truth_config_defaults_to_the_pipeline_in_one_worker():
    gt = SimConfig().crypto.ground_truth
    assert gt.kinds == ("pipeline",) and gt.workers == 1 and gt.rate == 0.0
    with pytest.raises(ConfigError, match=r"crypto\.ground_truth\.workers: 0 not allowed"):
        SimConfig.from_dict({"crypto": {"ground_truth": {"workers": 0}}})
    with pytest.raises(ValueError, match="workers >= 1"):
        GroundTruthJobs(0)


@pytest.mark.slow
@needs_ezkl
def test_simulation_runs_the_trade_pipeline_without_changing_the_market(tmp_path):
    base = {"rounds": 2, "market": {"n_corporations": 10, "n_solvers": 4}}
    gt = {"rate": 1.0, "max_jobs_per_round": 1, "workers": 2}
    with_gt = sim.run(tiny_config(**base, crypto={"ground_truth": gt}))
    without = sim.run(tiny_config(**base))
    table = with_gt.ground_truth
    assert table["round"].tolist() == [0, 1] and (table["kind"] == "pipeline").all()
    assert table["ok"].all(), table["error"].tolist()
    stages = [f"seconds_{s}" for s in PIPELINE_STAGES]
    assert (table[stages] > 0).all().all()
    np.testing.assert_allclose(table["seconds"], table[stages].sum(axis=1))
    assert table["proof_verified"].isin([True, False]).all()
    assert table["heldout_accuracy"].between(0, 1).all()
    assert (table["param_epochs"] == with_gt.config.crypto.epochs).all()
    # the jobs draw only from their own stream: the market is the run without them
    assert with_gt.trades["ground_truth"].sum() == 2
    pd.testing.assert_frame_equal(
        with_gt.trades.drop(columns="ground_truth"), without.trades.drop(columns="ground_truth")
    )
    pd.testing.assert_frame_equal(
        with_gt.rounds.drop(columns="gt_jobs"), without.rounds.drop(columns="gt_jobs")
    )
    assert with_gt.rounds["gt_jobs"].tolist() == [1, 1]
    for name in ("agents", "rejected", "adversaries"):
        pd.testing.assert_frame_equal(getattr(with_gt, name), getattr(without, name))
    saved = pd.read_parquet(with_gt.save(tmp_path / "run") / "ground_truth.parquet")
    assert saved["proof_verified"].tolist() == table["proof_verified"].tolist()
    assert list(saved.columns) == list(table.columns)
