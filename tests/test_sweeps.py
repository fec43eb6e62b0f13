"""Sweeps on local cores, resuming an interrupted sweep, locks, and `intentlab collect`."""

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import yaml
from filelock import FileLock

from experiments import launcher
from tests.test_cli import INTENTLAB, TINY, intentlab

TABLES = ("rounds.parquet", "trades.parquet", "agents.parquet", "adversaries.parquet")
#: How the local launcher runs a two-job sweep here (in parallel where there are two cores).
TWO_JOBS = "launching 2 jobs " + (
    "on 2 worker processes" if len(os.sched_getaffinity(0)) > 1 else "one after the other"
)


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory):
    """The same two-job sweep on all local cores (the default) and serially."""
    root = tmp_path_factory.mktemp("sweeps")
    parallel = intentlab(
        "run", "-m", "seed=0,1", *TINY, f"hydra.sweep.dir={root / 'parallel'}", cwd=root
    )
    serial = intentlab(
        "run", "-m", "seed=0,1", *TINY, "hydra/launcher=basic", f"hydra.sweep.dir={root / 'serial'}",
        cwd=root,
    )  # fmt: skip
    assert parallel.returncode == 0, parallel.stderr
    assert serial.returncode == 0, serial.stderr
    return root, parallel


def test_local_parallel_sweep_equals_the_serial_one(sweeps):
    root, parallel = sweeps
    # it ran on the local launcher, in forked workers (one per core, here two jobs)
    assert f"LocalLauncher: {TWO_JOBS}" in parallel.stdout
    for job in ("0", "1"):
        for name in (*TABLES, "config.yaml", "DONE", ".hydra/config.yaml", ".hydra/overrides.yaml"):
            a = (root / "parallel" / job / name).read_bytes()
            assert a == (root / "serial" / job / name).read_bytes(), (job, name)


def test_a_sweep_shows_its_progress_and_one_results_line_per_job(tmp_path):
    sweep = tmp_path / "sweep"
    result = intentlab(
        "run", "-m", "market=small", "rounds=2", "seed=0,1,2", f"hydra.sweep.dir={sweep}",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    # stderr is no terminal here: one progress line per finished job
    lines = [x for x in result.stderr.splitlines() if x.startswith("sweep: ")]
    assert len(lines) == 3, result.stderr
    for done, line in enumerate(lines, start=1):
        assert re.fullmatch(
            rf"sweep: #[0-2] done, {done}/3 jobs, [0-2] running, [0-9.]+ s elapsed"
            + (", about [0-9]+ s left" if done < 3 else ""),
            line,
        ), line
    assert lines[-1].startswith("sweep: #") and ", 3/3 jobs, 0 running, " in lines[-1]
    # the console gets each job's results line; its summary goes to its directory
    assert sorted(x for x in result.stdout.splitlines() if not x.startswith("[")) == [
        f"results: {sweep / job}" for job in ("0", "1", "2")
    ]
    for job in ("0", "1", "2"):
        summary = (sweep / job / launcher.JOB_OUTPUT).read_text()
        assert "efficiency" in summary and summary.endswith(f"results: {sweep / job}\n")
    again = intentlab(
        "run", "-m", "market=small", "rounds=2", "seed=0,1,2", f"hydra.sweep.dir={sweep}",
        cwd=tmp_path,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("complete, skipped: ") == 3 and "3/3 jobs" in again.stderr
    assert "efficiency" in (sweep / "0" / launcher.JOB_OUTPUT).read_text()  # kept


def test_sweep_progress_on_a_terminal_is_a_bar_under_the_jobs_lines(capsys):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    progress = launcher.SweepProgress(2, stream=stream)
    progress.start()
    progress.start()
    progress.print("results: a\n")
    progress.finish(0)
    progress.finish(1)
    progress.close()
    assert capsys.readouterr().out == "results: a\n"
    drawn = stream.getvalue()
    assert "sweep:" in drawn and "2 running" in drawn and "2/2" in drawn and "0 running" in drawn


def test_rerunning_a_complete_sweep_recomputes_nothing(sweeps):
    root, _ = sweeps
    before = {p: p.stat().st_mtime_ns for p in (root / "serial").rglob("*.parquet")}
    again = intentlab(
        "run", "-m", "seed=0,1", *TINY, "hydra/launcher=basic", f"hydra.sweep.dir={root / 'serial'}",
        cwd=root,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("complete, skipped") == 2
    assert {p: p.stat().st_mtime_ns for p in before} == before


def test_a_killed_sweep_resumes_without_recomputing_finished_runs(tmp_path):
    sweep = tmp_path / "sweep"
    args = [INTENTLAB, "run", "-m", "seed=0,1,2", *TINY, "hydra/launcher=basic",
            f"hydra.sweep.dir={sweep}"]  # fmt: skip
    process = subprocess.Popen(
        args, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 240
    while not (sweep / "0" / "DONE").exists():
        assert process.poll() is None and time.monotonic() < deadline, "job 0 never finished"
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)  # interrupt the sweep after its first run
    process.wait()
    assert not (sweep / "2" / "DONE").exists()
    finished = {p: p.stat().st_mtime_ns for p in (sweep / "0").glob("*.parquet")}
    again = intentlab(*args[1:], cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "complete, skipped" in again.stdout
    assert {p: p.stat().st_mtime_ns for p in finished} == finished
    assert all((sweep / job / "DONE").exists() for job in ("0", "1", "2"))


def test_resuming_a_sweep_redoes_its_damaged_runs(sweeps, tmp_path):
    root, _ = sweeps
    sweep = tmp_path / "sweep"
    shutil.copytree(root / "serial", sweep)
    (sweep / "0" / "config.yaml").unlink()
    flipped = bytearray((sweep / "1" / "trades.parquet").read_bytes())
    flipped[len(flipped) // 2] ^= 0xFF
    (sweep / "1" / "trades.parquet").write_bytes(bytes(flipped))
    again = intentlab(
        "run", "-m", "seed=0,1", *TINY, "hydra/launcher=basic", f"hydra.sweep.dir={sweep}",
        cwd=tmp_path,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "complete, skipped" not in again.stdout
    assert "config.yaml is missing" in again.stderr and "trades.parquet is damaged" in again.stderr
    for job in ("0", "1"):
        for name in (*TABLES, "config.yaml", "DONE"):
            assert (sweep / job / name).read_bytes() == (root / "serial" / job / name).read_bytes()


def test_a_second_sweep_into_a_directory_in_use_is_refused(tmp_path):
    sweep = tmp_path / "sweep"
    small = ["market=small", "rounds=3", "compute_optimum=false", "hydra/launcher=basic",
             f"hydra.sweep.dir={sweep}"]  # fmt: skip
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    started = {  # both at once
        seeds: subprocess.Popen(
            [INTENTLAB, "run", "-m", f"seed={seeds}", *small], cwd=tmp_path, **pipes
        )
        for seeds in ("1,2", "3,4")
    }
    ended = {seeds: (*p.communicate(timeout=300), p.returncode) for seeds, p in started.items()}
    refused = [seeds for seeds, (_, _, code) in ended.items() if code != 0]
    assert len(refused) == 1, ended
    (winner,) = set(ended) - set(refused)
    _, stderr, code = ended[refused[0]]
    assert code == 1
    (line,) = stderr.strip().splitlines()
    assert line == (
        f"intentlab run: error: hydra.sweep.dir: {sweep} is in use by another process "
        f"(it holds {sweep / '.sweep.lock'})"
    )
    seeds = [int(s) for s in winner.split(",")]
    for job, seed in enumerate(seeds):
        assert (sweep / str(job) / "DONE").is_file()
        assert yaml.safe_load((sweep / str(job) / "config.yaml").read_text())["seed"] == seed
    assert sorted(p.name for p in sweep.iterdir() if p.is_dir()) == ["0", "1"]
    multirun = yaml.safe_load((sweep / "multirun.yaml").read_text())
    assert f"seed={winner}" in multirun["hydra"]["overrides"]["task"]


def test_a_run_into_a_directory_in_use_is_refused(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    with FileLock(out / ".lock"):  # another process writing this run
        proc = intentlab("run", *TINY, f"hydra.run.dir={out}", cwd=tmp_path)
    assert proc.returncode == 1
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(f"intentlab run: error: hydra.run.dir: {out} is in use")
    assert not (out / "DONE").exists() and not (out / "rounds.parquet").exists()


def test_a_complete_directory_of_another_config_is_refused(sweeps):
    root, _ = sweeps
    other = intentlab(
        "run", "-m", "seed=0", "market=small", "rounds=4", "hydra/launcher=basic",
        f"hydra.sweep.dir={root / 'serial'}", cwd=root,
    )  # fmt: skip
    assert other.returncode == 2
    assert "hydra.sweep.dir:" in other.stderr and "another configuration" in other.stderr
    assert "Traceback" not in other.stderr


def test_collect_gathers_complete_runs_and_warns_about_the_rest(sweeps, tmp_path):
    root, _ = sweeps
    out = tmp_path / "collected.parquet"
    (root / "parallel" / "9" / ".hydra").mkdir(parents=True)  # a run that never finished
    result = intentlab("collect", str(root / "parallel"), "--out", str(out), cwd=root)
    assert result.returncode == 0, result.stderr
    assert "incomplete run" in result.stderr and "/9" in result.stderr
    table = pd.read_parquet(out)
    assert set(table["seed"]) == {0, 1}
    assert len(table) == 2 * 3  # two runs of three rounds
    assert {"run", "round", "welfare"} <= set(table.columns)
    assert "2 complete runs, 1 incomplete" in result.stdout


def test_collect_reports_jobs_that_never_started(sweeps, tmp_path):
    root, _ = sweeps
    sweep = tmp_path / "sweep"
    # job 1 never started (9 is a run another test left incomplete)
    shutil.copytree(root / "parallel", sweep, ignore=shutil.ignore_patterns("1", "9"))
    result = intentlab("collect", str(sweep), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"warning: never started: jobs 1 of {sweep}" in result.stderr
    assert "1 complete runs, 0 incomplete, 0 damaged, 1 never started" in result.stdout


def test_collect_names_swept_parameters_as_columns(tmp_path):
    sweep = tmp_path / "sweep"
    result = intentlab(
        "run", "-m", "seed=3", "mechanism.tick=0.01,0.05", *TINY, f"hydra.sweep.dir={sweep}",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    collected = intentlab("collect", str(sweep), "--table", "trades", cwd=tmp_path)
    assert collected.returncode == 0, collected.stderr
    table = pd.read_parquet(sweep / "trades_collected.parquet")
    assert set(table["mechanism.tick"]) == {0.01, 0.05}
    assert set(table["seed"]) == {3}
    missing = intentlab("collect", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert missing.returncode == 2 and "no such directory" in missing.stderr


def test_figures_of_a_sweep_come_with_a_manifest(sweeps):
    root, _ = sweeps
    drawn = intentlab("figures", str(root / "serial"), cwd=root)
    assert drawn.returncode == 0, drawn.stderr
    figures = root / "serial" / "figures"
    assert (figures / "sweep.pdf").read_bytes().startswith(b"%PDF")
    assert (figures / "sweep.png").is_file()
    manifest = json.loads((figures / "manifest.json").read_text())
    (entry,) = manifest["figures"]
    assert entry["experiment"] == "sweep" and entry["runs"] == ["0", "1"]
    assert entry["seeds"] == [0, 1] and entry["swept"] == []
    assert manifest["intentlab"] and "git_commit" in manifest


def test_figures_of_a_preset_run_it_small(tmp_path):
    drawn = intentlab("figures", "mechanism_comparison", cwd=tmp_path)
    assert drawn.returncode == 0, drawn.stderr
    out = tmp_path / "results" / "figures" / "mechanism_comparison"
    assert (out / "DONE").is_file() and (out / "figures" / "comparison.pdf").is_file()
    manifest = json.loads((out / "figures" / "manifest.json").read_text())
    assert manifest["figures"][0]["experiment"] == "mechanism_comparison"


@pytest.mark.parametrize("launcher", ["ray", "submitit_local", "joblib"])
def test_ray_and_submitit_launchers_give_the_same_results(sweeps, launcher):
    # ray: a local Ray started by the launcher (a cluster address by config);
    # submitit_local: the Slurm launcher's local executor (same code path as submitit_slurm);
    # joblib: Hydra's joblib launcher (loky), the local default before the local launcher
    root, _ = sweeps
    out = root / launcher
    result = intentlab(
        "run", "-m", "seed=0,1", *TINY, f"hydra/launcher={launcher}", f"hydra.sweep.dir={out}",
        cwd=root,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    if launcher == "ray":  # each job's lines its own, none merged by Ray's log deduplication
        assert result.stdout.count("results: ") == 2 and "repeated" not in result.stdout
    for job in ("0", "1"):
        assert (out / job / "DONE").is_file(), (launcher, job)
        for name in (*TABLES, "config.yaml"):
            assert (out / job / name).read_bytes() == (root / "serial" / job / name).read_bytes()


def test_a_parallel_sweep_stops_like_a_serial_one_when_a_job_exits(sweeps, tmp_path):
    # both jobs find a complete run of another config: each exits 2, no third job starts
    root, _ = sweeps
    sweep = tmp_path / "sweep"
    shutil.copytree(root / "serial", sweep)
    other = intentlab(
        "run", "-m", "seed=0,1,2", "market=small", "rounds=4", f"hydra.sweep.dir={sweep}",
        cwd=tmp_path,
    )  # fmt: skip
    assert other.returncode == 2
    lines = [line for line in other.stderr.splitlines() if "error" in line]
    assert lines and all("holds a complete run of another configuration" in x for x in lines)
    assert "Traceback" not in other.stderr
    assert not (sweep / "2").exists()


def test_a_one_worker_local_sweep_runs_in_the_sweep_process(sweeps, tmp_path):
    root, _ = sweeps
    sweep = tmp_path / "sweep"
    result = intentlab(
        "run", "-m", "seed=0,1", *TINY, "hydra.launcher.n_jobs=1", f"hydra.sweep.dir={sweep}",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "LocalLauncher: launching 2 jobs one after the other" in result.stdout
    assert (
        "sweep: #0 done, 1/2 jobs" in result.stderr and "sweep: #1 done, 2/2 jobs" in result.stderr
    )
    assert result.stdout.count("results: ") == 2 and "efficiency" not in result.stdout
    for job in ("0", "1"):
        for name in (*TABLES, "config.yaml", "DONE"):
            assert (sweep / job / name).read_bytes() == (root / "serial" / job / name).read_bytes()


def test_local_launcher_settings_and_job_count():
    from hydra import compose, initialize_config_dir

    from experiments import CONFIG_DIR, launcher

    with pytest.raises(ValueError, match="n_jobs: 0 not allowed"):
        launcher.LocalLauncher(n_jobs=0)
    with pytest.raises(ValueError, match="threads: 0 not allowed"):
        launcher.LocalLauncher(threads=0)

    class Context:  # what expected_jobs reads of Hydra's context
        config_loader = None

    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        plain = compose("config", return_hydra_config=True)
        preset = compose("config", ["experiment=network_effects"], return_hydra_config=True)
    plain.hydra.overrides.task = ["seed=0,1,2", "mechanism=dutch,vcg", "rounds=3"]
    assert launcher.expected_jobs(plain, Context()) == 6
    assert launcher.expected_jobs(preset, Context()) == 9  # its sweeper params: 3 x 3


def test_the_launcher_keeps_the_configs_the_sweeper_composed_from_its_config():
    import pickle

    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from joblib.externals import cloudpickle

    from experiments import CONFIG_DIR

    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        master = compose("config", ["market=small"], return_hydra_config=True)
        other = compose("config", ["market=small"], return_hydra_config=True)
        kept = launcher._KeptConfigs(loader, master)
        config = kept.load_sweep_config(master_config=master, sweep_overrides=["seed=3"])
        kept.load_sweep_config(other, ["seed=4"])  # another master: composed, not kept
        assert config.seed == 3 and kept.list_groups("") == loader.list_groups("")
        again = cloudpickle.loads(cloudpickle.dumps(kept))  # as it travels to the zygote
        assert again.configs == kept.configs
        taken = kept.take([["seed=4"], ["seed=3"], ["seed=5"]])
        assert list(taken) == [1] and pickle.loads(taken[1]) == config
        assert kept.take([["seed=3"]]) == {}  # taken once


def test_a_sweep_through_the_hydra_entry_point_equals_the_serial_one(sweeps, tmp_path):
    # without `intentlab run`, nothing forks before Hydra sets the launcher up: it forks then
    root, _ = sweeps
    sweep = tmp_path / "sweep"
    code = "import sys; from experiments.run import main; sys.argv[0] = 'run'; main()"
    result = subprocess.run(
        [sys.executable, "-c", code, "-m", "seed=0,1", *TINY, f"hydra.sweep.dir={sweep}"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"LocalLauncher: {TWO_JOBS}" in result.stdout
    for job in ("0", "1"):
        for name in (*TABLES, "config.yaml", "DONE"):
            assert (sweep / job / name).read_bytes() == (root / "serial" / job / name).read_bytes()


def test_a_failed_job_travels_back_with_its_traceback():
    from hydra.core.utils import JobReturn, JobStatus

    from experiments import launcher

    def fail():
        raise ValueError("boom")

    try:
        fail()
    except ValueError as exc:
        failed = JobReturn(status=JobStatus.FAILED, _return_value=exc)
    sent = launcher._portable(failed, 3)
    assert "in fail" in "".join(sent._return_value.__notes__)  # the worker's traceback
    unpicklable = ValueError(lambda: None)  # its argument cannot be pickled
    sent = launcher._portable(JobReturn(status=JobStatus.FAILED, _return_value=unpicklable), 4)
    assert isinstance(sent._return_value, RuntimeError)
    assert "job #4: its result could not be sent back" in str(sent._return_value)


#: A sweep through ``intentlab run`` in which every composition of a job's config and every
#: run of a job is written to a file: the process, and what the job's process has frozen.
_WATCHED_SWEEP = """
import gc, os, sys
from hydra._internal.config_loader_impl import ConfigLoaderImpl
import experiments.run
from experiments import cli

log = sys.argv[1]
def note(text):
    with open(log, "a") as f:
        f.write(f"{os.getpid()} {text}\\n")
compose = ConfigLoaderImpl.load_sweep_config
def load_sweep_config(self, master_config, sweep_overrides):
    note("compose " + " ".join(sweep_overrides))
    return compose(self, master_config, sweep_overrides)
ConfigLoaderImpl.load_sweep_config = load_sweep_config
run = experiments.run._run
def watched(cfg, out, key, progress):
    note(f"job {cfg.seed} frozen={gc.get_freeze_count()} collecting={gc.isenabled()}")
    return run(cfg, out, key, progress)
experiments.run._run = watched
note("sweep")
sys.exit(cli.main(["run", "-m", *sys.argv[2:]]))
"""


def test_a_local_sweep_composes_each_jobs_config_once_and_its_workers_start_frozen(tmp_path):
    # Hydra's sweeper composes every job's config to validate it; the launcher keeps those
    # (a second composition costs ~0.1 s per job) and its workers start with what the
    # zygote imported frozen out of their garbage collections
    log = tmp_path / "log"
    result = subprocess.run(
        [sys.executable, "-c", _WATCHED_SWEEP, str(log), "seed=0,1,2", *TINY,
         f"hydra.sweep.dir={tmp_path / 'sweep'}"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [line.split(" ", 1) for line in log.read_text().splitlines()]
    sweep = next(pid for pid, text in lines if text == "sweep")
    composed = sorted((pid, text.split()[1]) for pid, text in lines if text.startswith("compose"))
    assert composed == [(sweep, "seed=0"), (sweep, "seed=1"), (sweep, "seed=2")], lines
    jobs = [(pid, text) for pid, text in lines if text.startswith("job")]
    assert len(jobs) == 3, lines
    if len(os.sched_getaffinity(0)) > 1:  # forked workers
        assert all(pid != sweep for pid, _ in jobs), lines
        for _, text in jobs:
            frozen = int(re.search(r"frozen=(\d+)", text).group(1))
            assert frozen > 100_000 and "collecting=True" in text, text
