"""The detection table: measured by real proofs, read back verified, drawn from by rate."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from crypto import detection
from sim import ConfigError
from sim.config import PROJECT_DIR
from tests.conftest import detection_file, tiny_config

SHIPPED = PROJECT_DIR / "configs" / "calibration" / "detection.json"
TRIALS = PROJECT_DIR / "configs" / "calibration" / "detection-trials.parquet"


def test_threshold_is_the_claim_less_z_standard_errors():
    assert detection.threshold(0.8, 100, 2.0) == pytest.approx(0.8 - 2 * 0.04)
    assert detection.threshold(0.8, 100, 0.0) == 0.8


def test_rate_interpolates_between_measured_strengths_and_clips(tmp_path):
    path = detection_file({("quality_proof", "label_flip", 0.0): 0.1,
                           ("quality_proof", "label_flip", 0.5): 0.9}, tmp_path)  # fmt: skip
    table = detection.DetectionTable.load(path)
    np.testing.assert_allclose(
        table.rate("quality_proof", "label_flip", np.array([0.0, 0.25, 0.5, 0.7])),
        [0.1, 0.5, 0.9, 0.9],
    )
    with pytest.raises(KeyError, match="evaluation_proof/random"):
        table.rate("evaluation_proof", "random")


def test_a_damaged_table_is_refused(tmp_path):
    data = json.loads(SHIPPED.read_text())
    data["points"][0]["detected"] += 1  # a changed measurement
    with pytest.raises(ValueError, match="digest"):
        detection.DetectionTable.from_json(json.dumps(data))
    with pytest.raises(ValueError, match="not a detection table"):
        detection.DetectionTable.from_json("{}")


def test_a_config_naming_a_missing_or_incomplete_table_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as info:
        tiny_config(incentives={"verification": {"detection": str(tmp_path / "none.json")}})
    assert info.value.key == "incentives.verification.detection"
    partial = detection_file({("quality_proof", "label_flip", 0.0): 0.0}, tmp_path)
    with pytest.raises(ConfigError, match="evaluation_proof/honest"):
        tiny_config(incentives={"verification": {"detection": partial}})
    # without the evaluation proof the quality proof's measurement suffices
    tiny_config(incentives={"verification": {"detection": partial, "evaluation_proof": False}})


def test_the_shipped_table_is_its_trials_tabulated():
    """The shipped table counts the rejections of its shipped trials, every one a real proof
    whose proven share is the numpy count up to one row of fixed-point rounding."""
    table = detection.DetectionTable.load(SHIPPED)
    trials = pd.read_parquet(TRIALS)
    for p in table.points:
        rows = trials[(trials["design"] == p.design) & (trials["attack"] == p.attack)
                      & (trials["strength"] == p.strength)]  # fmt: skip
        assert len(rows) == p.trials
        assert p.detected == int((~rows["accepted"]).sum())
        assert p.low <= p.rate <= p.high
    assert (trials["accepted"] == (trials["proven_share"] >= trials["min_share"])).all()
    gap = (trials["proven_share"] - trials["reference_share"]).abs() * table.rows
    assert gap.max() <= 1 + 1e-9
    # the attacks the simulation draws from are all measured
    assert {("quality_proof", "label_flip"), ("evaluation_proof", "honest"),
            ("evaluation_proof", "random")} <= {(p.design, p.attack) for p in table.points}  # fmt: skip


@pytest.mark.slow
def test_measured_detection_rises_with_poisoning():
    """Real proofs on 16 rows: honest data passes more often than fully flipped labels."""
    config = detection.MeasureConfig(rows=16, trials=6, strengths=(0.0, 0.5),
                                     attacks=("honest",), n_industries=2)  # fmt: skip
    trials = detection.measure(config)
    flip = trials[trials["design"] == "quality_proof"].groupby("strength")["accepted"].mean()
    assert flip[0.0] > flip[0.5]
