"""Result files are verified on read (the SHA-256 sums in `DONE`); figures are written whole."""

import json
import re
import shutil
from pathlib import Path

import matplotlib.figure
import matplotlib.pyplot as plt
import pandas as pd
import pytest
import yaml

import sim
from experiments import figures
from experiments.collect import collect, expected_jobs
from experiments.redraw import draw
from experiments.run import is_complete
from sim.results import DamagedRunError, RunResult, verify
from tests.conftest import tiny_config
from tests.test_cli import intentlab


def flip_a_byte(run):
    data = bytearray((run / "rounds.parquet").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (run / "rounds.parquet").write_bytes(bytes(data))


def truncate(run):
    data = (run / "rounds.parquet").read_bytes()
    (run / "rounds.parquet").write_bytes(data[: len(data) // 2])


def replace_with_a_foreign_table(run):
    rounds = pd.read_parquet(run / "rounds.parquet")
    rounds.assign(efficiency=1.78e308).to_parquet(run / "rounds.parquet", index=False)


def unlist(run):
    done = json.loads((run / "DONE").read_text())
    del done["files"]["rounds.parquet"]
    (run / "DONE").write_text(json.dumps(done))


def remove_config(run):
    (run / "config.yaml").unlink()


def garble_done(run):
    (run / "DONE").write_text('{"files": {"rounds.parquet": ')


def done_without_files(run):
    (run / "DONE").write_text('{"digests": {}}')


DAMAGES = {
    "flipped byte": (flip_a_byte, "rounds.parquet is damaged: its SHA-256 differs"),
    "truncated": (truncate, "rounds.parquet is damaged: its SHA-256 differs"),
    "foreign table": (replace_with_a_foreign_table, "rounds.parquet is damaged"),
    "unlisted table": (unlist, "rounds.parquet is not listed in DONE"),
    "missing config": (remove_config, "config.yaml is missing (listed in DONE)"),
    "DONE not JSON": (garble_done, "DONE is unreadable"),
    "DONE without files": (done_without_files, 'DONE is damaged: it has no "files" mapping'),
}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A tiny run, saved once; each test damages a copy of it."""
    return sim.run(tiny_config(rounds=2)).save(tmp_path_factory.mktemp("saved") / "run")


@pytest.fixture
def sweep(saved, tmp_path):
    """A sweep directory holding two copies of the run: jobs 0 and 1."""
    for job in ("0", "1"):
        shutil.copytree(saved, tmp_path / "sweep" / job)
    return tmp_path / "sweep"


@pytest.fixture(params=DAMAGES)
def damaged(request, sweep):
    """The sweep with job 1 damaged, and the message that names what is wrong."""
    damage, message = DAMAGES[request.param]
    damage(sweep / "1")
    return sweep, message


def test_an_intact_run_verifies_and_lists_every_file(saved):
    listed = verify(saved, reads=["rounds.parquet", "config.yaml"])
    assert listed == json.loads((saved / "DONE").read_text())["files"]


def test_load_refuses_a_damaged_run(damaged):
    sweep, message = damaged
    with pytest.raises(DamagedRunError) as caught:
        RunResult.load(sweep / "1")
    assert str(caught.value).startswith(f"{sweep / '1'}: ")
    assert message in str(caught.value) and "\n" not in str(caught.value)
    RunResult.load(sweep / "0")  # the intact copy still loads


def test_collect_lists_a_damaged_run_and_collects_the_rest(damaged):
    sweep, message = damaged
    found = collect(sweep)
    assert list(found.damaged) == [sweep / "1"] and message in found.damaged[sweep / "1"]
    assert found.runs == [sweep / "0"] and set(found.table["run"]) == {"0"}


def test_figures_refuse_a_damaged_run_and_a_sweep_holding_one(damaged):
    sweep, message = damaged
    with pytest.raises(DamagedRunError, match=re.escape(message)):
        draw(sweep / "1")
    with pytest.raises(DamagedRunError, match=re.escape(message)):
        draw(sweep)
    assert not (sweep / "figures").exists()


def test_resume_redoes_a_damaged_run(damaged, saved, capsys):
    sweep, message = damaged
    record = yaml.safe_load((saved / "config.yaml").read_text())
    assert is_complete(sweep / "0", record)
    assert not is_complete(sweep / "1", record)
    assert not (sweep / "1" / "DONE").exists()  # so no reader takes it for complete
    assert message in capsys.readouterr().err


def test_a_foreign_table_a_reader_reads_must_be_listed(sweep):
    shutil.copy(sweep / "0" / "rounds.parquet", sweep / "1" / "extra.parquet")
    with pytest.raises(FileNotFoundError, match=r"1 damaged: .*extra\.parquet is not listed"):
        collect(sweep, "extra")
    assert set(collect(sweep).table["run"]) == {"0", "1"}  # a file no reader reads is harmless


def test_collect_command_refuses_damaged_runs_unless_told_to_skip_them(sweep, tmp_path):
    flip_a_byte(sweep / "1")
    out = tmp_path / "collected.parquet"
    refused = intentlab("collect", str(sweep), "--out", str(out), cwd=tmp_path)
    assert refused.returncode == 1
    (line,) = refused.stderr.strip().splitlines()
    assert str(sweep / "1") in line and "rounds.parquet is damaged" in line
    assert "--skip-damaged" in line and not out.exists()
    skipped = intentlab("collect", str(sweep), "--out", str(out), "--skip-damaged", cwd=tmp_path)
    assert skipped.returncode == 0, skipped.stderr
    assert "damaged run, not collected" in skipped.stderr and str(sweep / "1") in skipped.stderr
    assert set(pd.read_parquet(out)["run"]) == {"0"}
    assert "1 complete runs, 0 incomplete, 1 damaged" in skipped.stdout


def test_figures_command_on_a_damaged_run_is_one_line(sweep, tmp_path):
    truncate(sweep / "1")
    proc = intentlab("figures", str(sweep / "1"), cwd=tmp_path)
    assert proc.returncode == 1
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("intentlab figures: error: damaged run:")
    assert str(sweep / "1") in line and "rounds.parquet is damaged" in line


def test_expected_jobs_are_the_product_of_the_sweep_values(tmp_path):
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    hydra = {
        "sweep": {"dir": str(sweep), "subdir": "${hydra.job.num}"},
        "sweeper": {"params": {"agents.network_elasticity": "0.0,1.0"}},
        "overrides": {"task": ["seed=range(3)", "mechanism=dutch,vcg", "rounds=2"]},
    }
    (sweep / "multirun.yaml").write_text(yaml.safe_dump({"hydra": hydra}))
    assert expected_jobs(sweep) == [sweep / str(job) for job in range(12)]
    hydra["sweep"]["subdir"] = "${hydra.job.override_dirname}"  # not numbered: not expected
    (sweep / "multirun.yaml").write_text(yaml.safe_dump({"hydra": hydra}))
    assert expected_jobs(sweep) == []


def test_a_figure_is_replaced_whole_or_not_at_all(saved, tmp_path, monkeypatch):
    rounds = pd.read_parquet(saved / "rounds.parquet")
    path = figures.plot_rounds(rounds, tmp_path / "rounds.png")
    before = path.read_bytes()

    def fail(self, fname, **kwargs):
        Path(fname).write_bytes(b"half a figure")
        raise OSError("disk full")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", fail)
    with pytest.raises(OSError, match="disk full"):
        figures.plot_rounds(rounds, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["rounds.png"]
    assert not plt.get_fignums()
