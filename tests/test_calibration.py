import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crypto.calibration import Calibration, fit, fit_kind

INTENTLAB = str(Path(sys.executable).with_name("intentlab"))


def synthetic(kind="fhe_train", n=40, seed=0, noise=0.05):
    """Measurements from a known power law: seconds = 0.002 rows^0.9 features^1.3 epochs."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(100, 10_000, n)
    features = rng.integers(2, 64, n)
    epochs = rng.integers(1, 10, n)
    seconds = 0.002 * rows**0.9 * features**1.3 * epochs * np.exp(rng.normal(0, noise, n))
    memory = 50 * rows**0.5 * np.exp(rng.normal(0, noise, n))
    return pd.DataFrame({
        "kind": kind, "rows": rows, "features": features, "param_epochs": epochs,
        "ok": True, "seconds": seconds, "peak_rss_mb": memory, "bytes_produced": 1, "error": "",
    })  # fmt: skip


def test_fit_recovers_known_parameters():
    f = fit_kind(synthetic(), "fhe_train", "seconds")
    assert f.terms == ("rows", "features", "epochs")
    np.testing.assert_allclose(f.coef[1:], [0.9, 1.3, 1.0], atol=0.05)
    assert np.exp(f.coef[0]) == pytest.approx(0.002, rel=0.3)
    assert f.r2 > 0.99 and f.residual_std < 0.08 and f.n == 40
    assert f.predict(rows=1000, features=10, epochs=2) == pytest.approx(
        0.002 * 1000**0.9 * 10**1.3 * 2, rel=0.1
    )


def test_constant_terms_are_left_out_and_failures_ignored():
    frame = synthetic(n=30)
    frame["features"] = 8
    frame.loc[0, "ok"] = False
    frame.loc[0, "seconds"] = np.nan
    f = fit_kind(frame, "fhe_train", "peak_rss_mb")
    assert f.terms == ("rows", "epochs") and f.n == 29
    assert f.coef[1] == pytest.approx(0.5, abs=0.05)


def test_too_few_measurements_is_a_clear_error():
    with pytest.raises(ValueError, match="needs at least"):
        fit_kind(synthetic(n=3), "fhe_train", "seconds")


def test_calibration_round_trips_through_json():
    cal = fit(pd.concat([synthetic(), synthetic(kind="commit", seed=1)]), notes="synthetic")
    again = Calibration.from_json(cal.to_json())
    assert again == cal
    assert again.predict("commit", rows=500, features=4, epochs=1) > 0
    assert "cpus" in again.machine
    with pytest.raises(KeyError, match="calibrated: commit, fhe_train"):
        again.predict("zk_prove", rows=1, features=1)
    with pytest.raises(ValueError, match="needs epochs"):
        again.predict("commit", rows=1, features=1)


def test_calibrate_command_measures_real_jobs(tmp_path):
    out = tmp_path / "cal"
    proc = subprocess.run(
        [INTENTLAB, "calibrate", "--quick", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    for name in ("calibration.json", "measurements.parquet", "calibration.png", "DONE"):
        assert (out / name).is_file()
    measured = pd.read_parquet(out / "measurements.parquet")
    assert measured["ok"].all() and (measured["seconds"] > 0).all()
    saved = json.loads((out / "calibration.json").read_text())
    assert set(saved["fits"]) == set(measured["kind"])
    assert saved["machine"]["cpus"] >= 1


def test_calibrated_cost_model_prices_a_unit(tmp_path):
    from crypto.costs import CalibratedCostModel
    from sim import ConfigError, SimConfig

    proofs = synthetic(kind="zk_prove", seed=2).drop(columns="param_epochs")
    cal = fit(pd.concat([synthetic(kind="fhe_train"), proofs]))
    path = tmp_path / "cal.json"
    path.write_text(cal.to_json())
    model = CalibratedCostModel(cal, rows_per_unit=100, features=9, epochs=5)
    expected = cal.predict("fhe_train", rows=100, features=9, epochs=5) + cal.predict(
        "zk_prove", rows=100, features=9
    )
    assert model.seconds_per_unit() == pytest.approx(expected)
    config = SimConfig.from_dict({"crypto": {"calibration": str(path)}})
    assert config.crypto.cost_model().seconds_per_unit() == pytest.approx(expected)
    reference = SimConfig.from_dict({"crypto": {"cost_source": "reference"}})
    assert reference.crypto.cost_model().seconds_per_unit() == pytest.approx(0.18 * 100 * 5 + 5.2)
    only_train = tmp_path / "train.json"
    only_train.write_text(fit(synthetic(kind="fhe_train")).to_json())
    with pytest.raises(ConfigError, match="no fit for zk_prove"):
        SimConfig.from_dict({"crypto": {"calibration": str(only_train)}})
    with pytest.raises(ConfigError, match=r"crypto\.calibration"):
        SimConfig.from_dict({"crypto": {"calibration": str(tmp_path / "missing.json")}})


def test_shipped_default_calibration_is_complete():
    from sim import SimConfig

    config = SimConfig()
    cal = Calibration.load(config.crypto.calibration_path())
    assert {"fhe_train", "zk_prove", "fhe_encrypt", "commit"} <= set(cal.fits)
    assert all(f.n >= 4 for targets in cal.fits.values() for f in targets.values())
    assert config.crypto.cost_model().seconds_per_unit() > 0
