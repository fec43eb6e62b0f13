"""Measured against fitted cost curves: a calibration as an experiment preset.

``experiment=calibration`` runs a grid of real jobs (TenSEAL, ezkl, commitments, JAX; each
in its own worker process), fits the cost models of :mod:`crypto.calibration` and writes
the measurements, the fitted ``calibration.json`` (usable as ``crypto.calibration``) and the
measured-against-fitted figure. ``intentlab calibrate`` does the same from flags.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from crypto import calibration
from experiments.figures import PAGE_WIDTH, PALETTE, _save
from experiments.studies.base import Study, Tables
from sim.config import ConfigError, SimConfig, between, one_of, param


@dataclass(frozen=True)
class CalibrationStudyConfig:
    """The ``study`` block of ``experiment=calibration``.

    Attributes:
        kind: always ``calibration``.
        grid: ``default`` (every job kind, about two minutes) or ``quick`` (commitments).
        kinds: job kinds to keep from the grid (empty: all of them).
        repeats: measurements per grid point.
    """

    kind: str = param("calibration", one_of("calibration"))
    grid: str = param("default", one_of("default", "quick"))
    kinds: tuple[str, ...] = param(())
    repeats: int = param(1, between(1))

    def __post_init__(self) -> None:
        known = set(calibration.DEFAULT_GRID) | set(calibration.QUICK_GRID)
        unknown = sorted(set(self.kinds) - known)
        if unknown:
            raise ConfigError(
                "study.kinds", f"unknown kind {unknown[0]!r}; allowed: {', '.join(sorted(known))}"
            )


class CalibrationStudy(Study):
    """How well the fitted cost curves explain real jobs measured on this machine.

    Tables ``measurements`` (one row per job) and ``calibration`` (the fitted
    :class:`crypto.calibration.Calibration` as JSON).
    """

    kind = "calibration"
    Config = CalibrationStudyConfig
    tables = ("measurements.parquet", "calibration.json")
    small = ("study.kinds=[commit,train_plain,fhe_encrypt]",)
    tiny = ("study.grid=quick",)

    def run(
        self, base: SimConfig, config: CalibrationStudyConfig, progress: bool = False
    ) -> Tables:
        """Measure the grid's jobs and fit them (``base`` is not used)."""
        return fitted(measure(config, progress=progress))

    def plot(self, tables: Tables, path: Path) -> Path:
        """Measured against fitted time and memory (see :func:`plot_calibration`)."""
        cost_model = calibration.Calibration.from_json(tables["calibration"])
        return plot_calibration(tables["measurements"], cost_model, path)

    def summary(self, tables: Tables) -> pd.DataFrame:
        """One row per fitted kind and target: fit quality, measurements, regressors.

        Fit quality in log space: R², the residual spread (``residual_std``) and the
        leave-one-out error (``loo_rmse``, each measurement predicted by a fit to the others).
        """
        fits = calibration.Calibration.from_json(tables["calibration"]).fits
        return (
            pd.DataFrame(
                [
                    {
                        "kind": k,
                        "target": t,
                        "r2": f.r2,
                        "residual_std": f.residual_std,
                        "loo_rmse": f.loo_rmse,
                        "n": f.n,
                        "terms": ", ".join(f.terms),
                    }
                    for k, targets in fits.items()
                    for t, f in targets.items()
                ]
            )
            .set_index(["kind", "target"])
            .round(3)
        )


def measure(config: CalibrationStudyConfig, progress: bool = False) -> pd.DataFrame:
    """Measure the grid's jobs; one row per job."""
    sizes = calibration.QUICK_GRID if config.grid == "quick" else calibration.DEFAULT_GRID
    if config.kinds:
        sizes = {k: v for k, v in sizes.items() if k in config.kinds}
    return calibration.measure(calibration.grid(sizes, config.repeats), progress=progress)


def fitted(measurements: pd.DataFrame) -> Tables:
    """The study's tables: the measurements and the calibration fitted to them.

    Raises:
        ValueError: if a kind has too few successful measurements to fit.
    """
    return {"measurements": measurements, "calibration": calibration.fit(measurements).to_json()}


def plot_calibration(
    measurements: pd.DataFrame, cost_model: calibration.Calibration, path: str | Path
) -> Path:
    """Measured against fitted time and memory, one marker colour per job kind (log-log).

    The figure is a page wide; each panel's legend gives every fit's R² and leave-one-out
    error (``LOO``, root mean square in log space) and its measurements.

    Args:
        measurements: the measurement table (one row per job).
        cost_model: a :class:`crypto.calibration.Calibration` fitted to it.
        path: output file (``.png`` or ``.pdf``).

    Returns:
        The path written.
    """
    ok = measurements[measurements["ok"].astype(bool)]
    fig, axes = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 4.4), layout="constrained")
    labels = {"seconds": "wall time (s)", "peak_rss_mb": "peak memory (MiB)"}
    for ax, target in zip(axes, ("seconds", "peak_rss_mb"), strict=True):
        lo, hi = np.inf, 0.0
        for i, (kind, rows) in enumerate(ok.groupby("kind")):
            fit = cost_model.fits[kind][target]
            predicted = [
                fit.predict(
                    **{t: row[t if t in ("rows", "features") else f"param_{t}"] for t in fit.terms}
                )
                for _, row in rows.iterrows()
            ]
            label = f"{kind}: R² {fit.r2:.3f}, LOO {fit.loo_rmse:.2f}, n={fit.n}"
            ax.scatter(predicted, rows[target], s=18, color=PALETTE[i % len(PALETTE)], label=label)
            lo = min(lo, min(predicted), rows[target].min())
            hi = max(hi, max(predicted), rows[target].max())
        ax.plot([lo, hi], [lo, hi], color="0.4", lw=1, ls="--", label="measured = fitted")
        ax.set(xscale="log", yscale="log", xlabel=f"fitted {labels[target]}",
               ylabel=f"measured {labels[target]}")  # fmt: skip
        ax.grid(alpha=0.3)
        ax.set_aspect("equal", adjustable="datalim")
        ax.legend(frameon=False, fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.2))
    return _save(fig, Path(path))
