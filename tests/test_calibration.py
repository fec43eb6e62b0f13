import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crypto.calibration import Calibration, fit, fit_kind, loo_rmse, refit

INTENTLAB = str(Path(sys.executable).with_name("intentlab"))


def synthetic(kind="fhe_train", n=40, seed=0, noise=0.05):
    """Measurements from a known power law: seconds = 0.002 rows^0.9 features^1.3 epochs."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(100, 10_000, n)
    features = rng.integers(2, 64, n)
    epochs = rng.integers(1, 10, n)
    seconds = 0.002 * rows**0.9 * features**1.3 * epochs * np.exp(rng.normal(0, noise, n))
    memory = 50 * rows**0.5 * np.exp(rng.normal(0, noise, n))
    if noise == 0:  # exactly the model form
        seconds = 0.002 * rows**0.9 * features**1.3 * epochs
        memory = 50 * rows**0.5
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


def test_leave_one_out_error_is_zero_on_data_of_the_model_form():
    f = fit_kind(synthetic(n=6, noise=0), "fhe_train", "seconds")
    assert f.terms == ("rows", "features", "epochs")
    assert f.loo_rmse < 1e-9 and f.residual_std < 1e-9


def test_leave_one_out_error_is_the_noise_level():
    # Log-normal noise of standard deviation 0.2: a fit of 4 parameters to 400 points predicts
    # a new point with a log error of standard deviation 0.2 (and a little from the
    # coefficients' own error, 0.2 * sqrt(4 / 400)); in sample the residuals look smaller.
    f = fit_kind(synthetic(n=400, noise=0.2), "fhe_train", "seconds")
    assert f.loo_rmse == pytest.approx(0.2, rel=0.08)
    assert f.loo_rmse > f.residual_std
    few = fit_kind(synthetic(n=6, noise=0.2), "fhe_train", "seconds")
    assert few.loo_rmse > 1.5 * few.residual_std  # 4 parameters on 6 points: R² flatters


def test_leave_one_out_error_of_a_mean_is_its_closed_form():
    # Every term constant: the fit is the mean of log y. Leaving point i out moves the mean by
    # (y_i - mean) / (n - 1), so its error is n / (n - 1) times its residual.
    frame = synthetic(n=7, noise=0.3)
    frame[["rows", "features", "param_epochs"]] = [100, 8, 2]
    f = fit_kind(frame, "fhe_train", "seconds")
    assert f.terms == () and f.n == 7
    assert f.loo_rmse == pytest.approx(7 / 6 * f.residual_std, rel=1e-12)


def test_leave_one_out_error_matches_the_hat_matrix():
    # For least squares the left-out residual is e_i / (1 - h_ii), h the hat matrix's diagonal.
    rng = np.random.default_rng(3)
    design = np.column_stack([np.ones(9), rng.normal(size=(9, 2))])
    y = rng.normal(size=9)
    residual = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    hat = np.diag(design @ np.linalg.pinv(design.T @ design) @ design.T)
    expected = np.sqrt(np.mean((residual / (1 - hat)) ** 2))
    assert loo_rmse(design, y) == pytest.approx(expected, rel=1e-9)


def test_leave_one_out_error_is_nan_where_a_point_alone_sets_a_term():
    frame = synthetic(n=6)
    frame["features"] = [8, 8, 8, 8, 8, 32]  # without the last point, features never varies
    f = fit_kind(frame, "fhe_train", "seconds")
    assert "features" in f.terms and np.isnan(f.loo_rmse)


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


def test_shipped_calibration_is_its_measurements_fitted():
    # The shipped file is what refitting its measurements gives, cross-validation included
    # (regenerated by crypto.calibration.refit; the coefficients never changed: 129.2 s a unit).
    from sim import SimConfig

    path = SimConfig().crypto.calibration_path()
    shipped = Calibration.load(path)
    again = refit(path, path.with_name("default-measurements.parquet"))
    assert again == shipped
    fits = [f for targets in shipped.fits.values() for f in targets.values()]
    assert all(np.isfinite(f.loo_rmse) and f.loo_rmse >= f.residual_std for f in fits)
    assert SimConfig().crypto.seconds_per_unit() == pytest.approx(129.2, abs=0.05)


def test_a_calibration_without_cross_validation_is_a_clear_error_and_refits(tmp_path):
    from sim import ConfigError, SimConfig

    measurements = pd.concat([synthetic(), synthetic(kind="zk_prove", seed=2)])
    cal = fit(measurements, notes="older")
    old = json.loads(cal.to_json())
    for targets in old["fits"].values():
        for record in targets.values():
            del record["loo_rmse"]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old))
    with pytest.raises(ValueError, match=r"fhe_train/seconds lacks loo_rmse.*refit"):
        Calibration.load(path)
    with pytest.raises(ConfigError, match=r"crypto\.calibration.*lacks loo_rmse"):
        SimConfig.from_dict({"crypto": {"calibration": str(path)}})
    again = refit(path, measurements)
    assert again == cal  # same fits, cross-validation added; machine, time and notes kept
    path.write_text(again.to_json())
    assert Calibration.load(path) == cal
