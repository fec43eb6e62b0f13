"""End-to-end tests of the `intentlab` command line, run as a subprocess."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from experiments import cli

INTENTLAB = str(Path(sys.executable).with_name("intentlab"))
TINY = ["market=small", "rounds=3"]


def intentlab(*args, cwd):
    return subprocess.run([INTENTLAB, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_run_writes_a_complete_run_directory(tmp_path):
    out = tmp_path / "run"
    proc = intentlab("run", *TINY, "seed=4", f"hydra.run.dir={out}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for name in (
        "rounds.parquet",
        "trades.parquet",
        "agents.parquet",
        "config.yaml",
        "rounds.png",
        "DONE",
    ):
        assert (out / name).is_file(), name
    assert set(json.loads((out / "DONE").read_text())["files"]) >= {"rounds.parquet", "config.yaml"}
    rounds = pd.read_parquet(out / "rounds.parquet")
    assert len(rounds) == 3
    assert "mean efficiency" in proc.stdout and str(out) in proc.stdout
    assert "rounds: 100%" in proc.stderr  # the progress bar
    assert "Traceback" not in proc.stderr
    redraw = intentlab("figures", str(out), cwd=tmp_path)
    assert redraw.returncode == 0, redraw.stderr
    assert (out / "figures" / "rounds.pdf").is_file()
    manifest = json.loads((out / "figures" / "manifest.json").read_text())
    assert manifest["figures"][0]["files"] == ["rounds.pdf", "rounds.png"]
    assert manifest["figures"][0]["experiment"] == "run"


def test_multirun_sweeps_seeds_into_the_sweep_dir(tmp_path):
    sweep = tmp_path / "sweep"
    proc = intentlab("run", "-m", *TINY, "seed=0,1", f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    runs = sorted(p.parent for p in sweep.glob("*/DONE"))
    assert [p.name for p in runs] == ["0", "1"]
    a, b = (pd.read_parquet(p / "trades.parquet") for p in runs)
    assert not a.equals(b)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "market.n_corporation=5",
            "market.n_corporation: unknown key; allowed keys in market: n_corporations",
        ),
        (
            "mechanism=nope",
            "mechanism=nope: unknown option; allowed: dutch, first_price, mcafee, posted_price, vcg",
        ),
        ("market.n_corporations=-5", "market.n_corporations: -5 not allowed, must be >= 1"),
        ("seed=0,1,-2", "seed: -2 not allowed, must be >= 0"),
        (
            "agents.corporation_strategies={shading:1}",
            "agents.corporation_strategies.shading: unknown key",
        ),
        (  # a sensitivity point the run's config refuses, before any directory or run
            "experiment=sensitivity study.one_at_a_time=[[market.n_solvers,[0]]]",
            "study.one_at_a_time: market.n_solvers: 0 not allowed, must be >= 1",
        ),
    ],
)
def test_bad_override_is_one_line_and_nonzero(tmp_path, override, message):
    proc = intentlab("run", *override.split(), f"hydra.run.dir={tmp_path / 'never'}", cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert message in lines[0]
    assert not (tmp_path / "never").exists()


def test_unknown_command_and_incomplete_figures_dir(tmp_path):
    proc = intentlab("walk", cwd=tmp_path)
    assert proc.returncode == 2 and "allowed: run, figures" in proc.stderr
    proc = intentlab("figures", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2 and "no complete run" in proc.stderr
    (tmp_path / "config.yaml").write_text("seed: 0\n")  # a run that never finished
    proc = intentlab("figures", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2 and "incomplete" in proc.stderr


def test_mechanism_comparison_preset_runs_from_the_command_line(tmp_path):
    out = tmp_path / "cmp"
    proc = intentlab(
        "run", "experiment=mechanism_comparison", "study.corporations=[6]", "study.solvers=[2]",
        "study.seeds=1", "study.markets=1", f"hydra.run.dir={out}", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (out / "DONE").is_file() and (out / "comparison.png").is_file()
    assert "efficiency" in proc.stdout
    bad = intentlab("run", "experiment=mechanism_comparison", "study.seeds=0", cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.strip() == "intentlab run: error: study.seeds: 0 not allowed, must be >= 1"


def test_figures_of_a_preset_run_it_small_then_draw_it(tmp_path):
    proc = intentlab("figures", "mechanism_comparison", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "results" / "figures" / "mechanism_comparison"
    study = yaml.safe_load((out / "config.yaml").read_text())["study"]
    assert study["corporations"] == [10, 30] and study["markets"] == 2  # its small sizes
    manifest = json.loads((out / "figures" / "manifest.json").read_text())
    assert manifest["figures"][0]["files"] == ["comparison.pdf", "comparison.png"]
    again = intentlab("figures", "mechanism_comparison", cwd=tmp_path)
    assert again.returncode == 0 and "complete, skipped" in again.stdout


def test_figures_all_draws_every_preset_and_stops_at_the_first_failure(monkeypatch):
    figures, presets = cli.figures_command, list(cli.small_presets())
    assert {"mechanism_comparison", "network_effects", "calibration"} <= set(presets)
    drawn = []
    monkeypatch.setattr(cli, "figures_command", lambda args: drawn.append(*args) or 0)
    assert figures(["--all"]) == 0 and drawn == presets
    drawn.clear()
    monkeypatch.setattr(cli, "figures_command", lambda args: drawn.append(*args) or len(drawn) - 1)
    assert figures(["--all"]) == 1 and drawn == presets[:2]


def test_calibrate_detection_refuses_bad_flags_before_any_proof(tmp_path, capsys):
    taken = tmp_path / "file"
    taken.write_text("")
    assert cli.main(["calibrate", "--detection", "--out", str(taken)]) == 2
    assert "is a file" in capsys.readouterr().err
    assert cli.main(["calibrate", "--detection", "--trials", "0", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("intentlab calibrate: error: study.trials") and "\n" not in err
    assert list(tmp_path.iterdir()) == [taken]  # nothing written


def test_figures_help_and_an_unknown_preset_name_the_presets(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["figures", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: intentlab figures") and "intent_vs_yuma" in out
    assert not (tmp_path / "--help").exists()
    assert cli.main(["figures", "intent_vs_yum"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("intentlab figures: error: no directory or preset 'intent_vs_yum'")
    assert "presets: " in err and "intent_vs_yuma" in err and "\n" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["hydra.run.dir={file}"], "hydra.run.dir: {file} is a file, not a directory"),
        (
            ["hydra.run.dir={file}/sub"],
            "hydra.run.dir: {file}/sub is under {file}, which is a file",
        ),
        (["-m", "seed=0,1", "hydra.sweep.dir={file}"], "hydra.sweep.dir: {file} is a file"),
        (["-m", "seed=0,1", "hydra.sweep.dir={file}/sub/deeper"], "is under {file}, which is"),
    ],
)
def test_an_output_directory_that_is_a_file_is_one_line_before_any_job(tmp_path, args, message):
    taken = tmp_path / "file"
    taken.write_text("")
    args = [a.format(file=taken) for a in args]
    proc = intentlab("run", *TINY, *args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("intentlab run: error: hydra.") and message.format(file=taken) in line
    assert "Launching" not in proc.stdout and "launching" not in proc.stdout  # no job started
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # nothing written
    assert taken.read_text() == ""


@pytest.mark.parametrize("flags", [[], ["--detection"]])
def test_calibrate_out_that_is_a_file_is_refused_before_any_job(
    tmp_path, capsys, monkeypatch, flags
):
    from experiments.studies import calibration, detection

    def no_job(*args, **kwargs):
        raise AssertionError("a job ran")

    monkeypatch.setattr(calibration, "measure", no_job)
    monkeypatch.setattr(detection.DetectionStudy, "run", no_job)
    taken = tmp_path / "file"
    taken.write_text("")
    for out, problem in ((taken, "is a file"), (taken / "sub", f"is under {taken}, which is")):
        assert cli.main(["calibrate", *flags, "--quick", "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"intentlab calibrate: error: --out: {out} {problem}"), err
        assert "\n" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_run_turns_off_rays_log_deduplication(monkeypatch, tmp_path):
    # Ray's driver would print one job's summary for several ("[repeated 2x across cluster]")
    monkeypatch.setenv("RAY_DEDUP_LOGS", "")  # restored after the test
    monkeypatch.delenv("RAY_DEDUP_LOGS")
    monkeypatch.setattr(cli, "_hydra", lambda args: 0)  # no run: what run_command sets up
    assert cli.main(["run", *TINY, f"hydra.run.dir={tmp_path / 'run'}"]) == 0
    assert os.environ["RAY_DEDUP_LOGS"] == "0"
