"""Measured against fitted cost curves: a calibration as an experiment preset.

``experiment=calibration`` runs a grid of real jobs (TenSEAL, ezkl, commitments, JAX; each
in its own worker process), fits the cost models of :mod:`crypto.calibration` and writes
the measurements, the fitted ``calibration.json`` (usable as ``crypto.calibration``) and the
measured-against-fitted figure. ``intentlab calibrate`` does the same from flags.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.config import SimConfig, between, build_config, one_of, param
from sim.results import write_complete


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


def load_study(data: dict[str, Any]) -> CalibrationStudyConfig:
    """Validate the ``study`` block of a config.

    Raises:
        ConfigError: naming the first unknown key or bad value.
    """
    from crypto import calibration
    from sim.config import ConfigError

    study = build_config(CalibrationStudyConfig, data, "study.")
    known = set(calibration.DEFAULT_GRID) | set(calibration.QUICK_GRID)
    unknown = sorted(set(study.kinds) - known)
    if unknown:
        raise ConfigError(
            "study.kinds", f"unknown kind {unknown[0]!r}; allowed: {', '.join(sorted(known))}"
        )
    return study


def run(study: CalibrationStudyConfig, progress: bool = False) -> pd.DataFrame:
    """Measure the grid's jobs; one row per job."""
    from crypto import calibration

    sizes = calibration.QUICK_GRID if study.grid == "quick" else calibration.DEFAULT_GRID
    if study.kinds:
        sizes = {k: v for k, v in sizes.items() if k in study.kinds}
    return calibration.measure(calibration.grid(sizes, study.repeats), progress=progress)


def save(table: pd.DataFrame, directory: Path, config: dict[str, Any] | None = None):
    """Fit the measurements and write them, ``calibration.json``, the figure and ``DONE``.

    Returns:
        The fitted :class:`crypto.calibration.Calibration`.

    Raises:
        ValueError: if a kind has too few successful measurements to fit.
    """
    import yaml

    from crypto import calibration
    from experiments.figures import FORMATS, plot_calibration

    fitted = calibration.fit(table)
    files = {
        "measurements.parquet": lambda p: table.to_parquet(p, index=False),
        "calibration.json": lambda p: Path(p).write_text(fitted.to_json()),
    }
    if config is not None:
        files["config.yaml"] = lambda p: Path(p).write_text(yaml.safe_dump(config, sort_keys=False))
    write_complete(
        directory,
        files,
        figures=lambda d: [
            plot_calibration(table, fitted, d / f"calibration.{x}") for x in FORMATS
        ],
    )
    return fitted


def summary(fitted) -> pd.DataFrame:
    """One row per fitted kind and target: R², measurements, regressors."""
    return (
        pd.DataFrame(
            [
                {"kind": kind, "target": target, "r2": f.r2, "n": f.n, "terms": ", ".join(f.terms)}
                for kind, targets in fitted.fits.items()
                for target, f in targets.items()
            ]
        )
        .set_index(["kind", "target"])
        .round(3)
    )


def execute(
    base: SimConfig, study: CalibrationStudyConfig, directory: Path, progress: bool = False
) -> pd.DataFrame:
    """Measure, fit, save to ``directory`` and return the fits' summary."""
    from experiments import config_record

    table = run(study, progress=progress)
    return summary(save(table, directory, config_record(base, study)))
