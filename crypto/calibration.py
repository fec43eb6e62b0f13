"""Cost models fitted to measured ground-truth jobs.

For each job kind, time and peak memory are fitted as power laws of the job's size,
``log y = c0 + c1 log(rows) + c2 log(features) + sum_k d_k log(param_k)``, by least squares
on the successful measurements; a term whose value never varies in the measurements is left
out. Each fit reports R², the residual standard deviation (in log space) and its
leave-one-out error: the root mean square log error of predicting each measurement from a fit
to the others, which R² on a handful of points cannot show (a fit with nearly as many
parameters as points has an R² near 1 whatever the data). A :class:`Calibration` bundles the
fits with the machine they were measured on and is stored as JSON; :func:`refit` fits a stored
calibration's measurements again.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crypto.ground_truth import JobSpec, run_job

TARGETS = ("seconds", "peak_rss_mb")


@dataclass(frozen=True)
class Fit:
    """A power-law fit of one target of one job kind.

    Attributes:
        kind: job kind.
        target: ``seconds`` or ``peak_rss_mb``.
        terms: regressors after the intercept, e.g. ``("rows", "features")``; each enters
            as its logarithm.
        coef: intercept, then one coefficient per term.
        r2: coefficient of determination in log space (NaN if the target never varies).
        residual_std: standard deviation of the log residuals.
        n: measurements fitted.
        loo_rmse: leave-one-out error, in log space: the root mean square of
            ``log measured − log predicted`` where each measurement is predicted by the same
            model form fitted to the other ``n − 1`` (0.1 is about a 10% error). NaN where
            leaving a measurement out leaves a coefficient undetermined (e.g. the only
            measurement at a second value of a term).
    """

    kind: str
    target: str
    terms: tuple[str, ...]
    coef: tuple[float, ...]
    r2: float
    residual_std: float
    n: int
    loo_rmse: float

    def predict(self, **size: float) -> float:
        """Predicted target for a job of the given size (every term must be given).

        Raises:
            ValueError: if a term is missing or not positive.
        """
        missing = [t for t in self.terms if t not in size]
        if missing:
            raise ValueError(f"{self.kind} {self.target} fit needs {', '.join(missing)}")
        if any(size[t] <= 0 for t in self.terms):
            raise ValueError(f"{self.kind} {self.target} fit needs positive {self.terms}")
        logs = np.array([1.0] + [np.log(size[t]) for t in self.terms])
        return float(np.exp(logs @ np.array(self.coef)))


def _regressors(frame: pd.DataFrame) -> list[str]:
    candidates = ["rows", "features", *sorted(c for c in frame.columns if c.startswith("param_"))]
    usable = []
    for name in candidates:
        values = pd.to_numeric(frame[name], errors="coerce")
        if values.notna().all() and (values > 0).all() and values.nunique() > 1:
            usable.append(name)
    return usable


def loo_rmse(design: np.ndarray, y: np.ndarray) -> float:
    """Leave-one-out root mean square error of the least-squares fit of ``y`` on ``design``.

    Each row is predicted by the fit to the other rows; the error is the root mean square of
    the differences.

    Args:
        design: ``(n, p)`` regressors (a column of ones for the intercept included).
        y: ``(n,)`` targets.

    Returns:
        The error, or NaN if leaving some row out leaves fewer than ``p`` independent rows.
    """
    n, p = design.shape
    residuals = np.empty(n)
    for i in range(n):
        keep = np.arange(n) != i
        if np.linalg.matrix_rank(design[keep]) < p:
            return float("nan")
        coef, *_ = np.linalg.lstsq(design[keep], y[keep], rcond=None)
        residuals[i] = y[i] - design[i] @ coef
    return float(np.sqrt(np.mean(residuals**2)))


def fit_kind(frame: pd.DataFrame, kind: str, target: str) -> Fit:
    """Fit one target of one kind from measurement rows (failed ones are ignored).

    Raises:
        ValueError: if there are fewer successful measurements than parameters + 1.
    """
    rows = frame[(frame["kind"] == kind) & frame["ok"].astype(bool)]
    rows = rows[pd.to_numeric(rows[target], errors="coerce") > 0]
    terms = _regressors(rows)
    if len(rows) < len(terms) + 2:
        raise ValueError(
            f"calibration: {kind} has {len(rows)} successful measurements of {target}; "
            f"fitting {len(terms) + 1} parameters needs at least {len(terms) + 2}"
        )
    design = np.column_stack([np.ones(len(rows))] + [np.log(rows[t].astype(float)) for t in terms])
    y = np.log(rows[target].astype(float).to_numpy())
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = y - design @ coef
    total = np.sum((y - y.mean()) ** 2)
    r2 = 1.0 - float(np.sum(residual**2) / total) if total > 0 else float("nan")
    names = tuple(t.removeprefix("param_") for t in terms)
    return Fit(
        kind,
        target,
        names,
        tuple(map(float, coef)),
        r2,
        float(residual.std()),
        len(rows),
        loo_rmse(design, y),
    )


@dataclass(frozen=True)
class Calibration:
    """Fitted cost models and where they were measured.

    Attributes:
        fits: ``{kind: {target: Fit}}``.
        machine: description of the measuring machine.
        created: ISO timestamp.
        notes: free text (e.g. that ZK parameters were test-only).
    """

    fits: dict[str, dict[str, Fit]]
    machine: dict[str, Any]
    created: str
    notes: str = ""

    def predict(self, kind: str, target: str = "seconds", **size: float) -> float:
        """Predicted ``target`` of a ``kind`` job of the given size.

        Raises:
            KeyError: if the calibration has no fit for ``kind``; the message lists the kinds.
        """
        if kind not in self.fits:
            raise KeyError(f"no calibration for {kind!r}; calibrated: {', '.join(self.fits)}")
        return self.fits[kind][target].predict(**size)

    def to_json(self) -> str:
        """The calibration as JSON."""
        fits = {k: {t: asdict(f) for t, f in v.items()} for k, v in self.fits.items()}
        payload = {"created": self.created, "machine": self.machine, "notes": self.notes}
        return json.dumps({**payload, "fits": fits}, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Calibration:
        """Read a calibration written by :meth:`to_json`.

        Raises:
            ValueError: if a fit lacks a field (e.g. ``loo_rmse`` in a calibration written
                before fits recorded it); the message says how to refit it.
        """
        data = json.loads(text)
        required = {field.name for field in fields(Fit)}
        for kind, targets in data["fits"].items():
            for target, record in targets.items():
                missing = sorted(required - set(record))
                if missing:
                    raise ValueError(
                        f"calibration fit {kind}/{target} lacks {', '.join(missing)} (an older "
                        "calibration file); fit its measurements (the measurements.parquet "
                        "intentlab calibrate writes beside it) again: "
                        "crypto.calibration.refit(CALIBRATION_JSON, MEASUREMENTS_PARQUET)"
                    )
        fits = {
            kind: {
                t: Fit(**{**f, "terms": tuple(f["terms"]), "coef": tuple(f["coef"])})
                for t, f in targets.items()
            }
            for kind, targets in data["fits"].items()
        }
        return cls(fits, data["machine"], data["created"], data.get("notes", ""))

    @classmethod
    def load(cls, path: str | os.PathLike) -> Calibration:
        """Read a calibration JSON file.

        Raises:
            ValueError: as :meth:`from_json`.
        """
        return cls.from_json(Path(path).read_text())


def machine() -> dict[str, Any]:
    """The machine measurements are taken on."""
    return {
        "node": platform.node(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def fit(measurements: pd.DataFrame, notes: str = "") -> Calibration:
    """Fit every kind and target present in ``measurements``."""
    fits = {
        kind: {target: fit_kind(measurements, kind, target) for target in TARGETS}
        for kind in sorted(measurements["kind"].unique())
    }
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return Calibration(fits, machine(), created, notes)


def refit(path: str | os.PathLike, measurements: str | os.PathLike | pd.DataFrame) -> Calibration:
    """Fit a calibration's measurements again, keeping its machine, time and notes.

    The fits are computed afresh (the same least squares, so the same coefficients for the same
    measurements) with every field :class:`Fit` records, also for a calibration file written
    before a field existed. The shipped calibration is regenerated with::

        .venv/bin/python -c "from pathlib import Path; from crypto.calibration import refit
        path = Path('configs/calibration/default.json')
        path.write_text(refit(path, path.with_name('default-measurements.parquet')).to_json())"

    Args:
        path: the calibration JSON file (only its ``machine``, ``created`` and ``notes`` are
            read).
        measurements: its measurements (a parquet file or the table).

    Returns:
        The calibration (:meth:`Calibration.to_json` gives its file).
    """
    data = json.loads(Path(path).read_text())
    if not isinstance(measurements, pd.DataFrame):
        measurements = pd.read_parquet(measurements)
    fitted = fit(measurements)
    return replace(
        fitted, machine=data["machine"], created=data["created"], notes=data.get("notes", "")
    )


def measure(specs: Iterable[JobSpec], progress: bool = False) -> pd.DataFrame:
    """Run every job (each in its own worker process) and tabulate the measurements."""
    from tqdm.auto import tqdm

    specs = list(specs)
    rows = [run_job(s).as_row() for s in tqdm(specs, desc="jobs", unit="job", disable=not progress)]
    return pd.DataFrame(rows)


def grid(
    sizes: Mapping[str, Iterable[tuple[int, int, dict[str, Any]]]], repeats: int = 1
) -> list[JobSpec]:
    """Job specs for ``{kind: [(rows, features, params), ...]}``, each repeated."""
    return [
        JobSpec(kind, rows, features, dict(params), seed=r)
        for kind, points in sizes.items()
        for rows, features, params in points
        for r in range(repeats)
    ]


DEFAULT_GRID: dict[str, list[tuple[int, int, dict[str, Any]]]] = {
    "commit": [(r, f, {}) for r in (2_000, 20_000, 100_000) for f in (8, 32)],
    "train_plain": [
        (r, f, {"epochs": e}) for r in (500, 5_000) for f in (8, 32) for e in (50, 200)
    ],
    "fhe_encrypt": [(r, f, {}) for r in (50, 200) for f in (8, 32)],
    "fhe_infer": [(r, f, {}) for r in (50, 200) for f in (8, 32)],
    "fhe_train": [(r, f, {"epochs": e}) for r in (10, 30) for f in (4, 9) for e in (1, 2)],
    "zk_prove": [(r, f, {}) for r in (12, 48) for f in (3, 8)],
}
QUICK_GRID: dict[str, list[tuple[int, int, dict[str, Any]]]] = {
    "commit": [(r, f, {}) for r in (500, 5_000) for f in (4, 16)],
}
