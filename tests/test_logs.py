"""What reaches the console: ezkl's log goes to the log file, not to stdout or stderr."""

import logging

import pytest

pytest.importorskip("ezkl", reason="ezkl is not installed (the zk extra): pip install -e '.[zk]'")
pytest.importorskip("onnx", reason="onnx is not installed (the zk extra): pip install -e '.[zk]'")

from crypto import ground_truth, zk
from experiments import cli

#: A line of the fidelity report ezkl logs for every circuit it calibrates.
REPORT = "Numerical Fidelity Report"


@pytest.fixture
def log_file(tmp_path):
    """A root file handler, as Hydra's ``run.log`` is in a run."""
    path = tmp_path / "run.log"
    handler = logging.FileHandler(path)
    logging.getLogger().addHandler(handler)
    yield path
    logging.getLogger().removeHandler(handler)
    handler.close()


def test_a_real_zk_job_logs_to_the_callers_log_file(log_file, capfd):
    assert ground_truth.log_file() == log_file
    measured = ground_truth.run_job(ground_truth.JobSpec("zk_prove", 4, 2, time_limit=120))
    assert measured.ok, measured.error
    out, err = capfd.readouterr()
    assert REPORT not in out + err and "+------" not in out + err
    assert "InsecureSRSWarning" not in err and "locally generated" not in err
    logged = log_file.read_text()
    assert REPORT in logged and "zk_prove job (4 x 2)" in logged
    assert "InsecureSRSWarning" in logged  # Python warnings too


def test_calibrate_log_keeps_ezkl_off_the_console(tmp_path, capfd):
    path = tmp_path / "out" / cli.CALIBRATE_LOG
    handlers = list(logging.getLogger().handlers)
    with cli.command_log(path):
        zk.quality_circuit(tmp_path / "quality", 4, 2, 2.0)  # ezkl logs its fidelity report
        logging.getLogger("experiments.studies.detection").warning("one line for the console")
    out, err = capfd.readouterr()
    assert REPORT not in out + err and "+------" not in out + err
    assert err.count("one line for the console") == 1
    logged = path.read_text()
    assert REPORT in logged and "[ezkl." in logged and "one line for the console" in logged
    assert logging.getLogger().handlers == handlers  # as before
