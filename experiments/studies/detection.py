"""Measured detection: the verification designs' power and false positives, from real proofs.

``experiment=detection`` runs the attacks of :mod:`crypto.detection` against the real ezkl
circuits (every trial a proof, verified) and writes the trials, the detection table the
simulation draws from (``detection.json``, usable as ``incentives.verification.detection``)
and the power curves. ``intentlab calibrate --detection`` does the same from flags.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from crypto import detection
from crypto.calibration import machine
from experiments.figures import PAGE_WIDTH, PALETTE, _save
from experiments.studies.base import Study, Tables
from sim.config import ConfigError, SimConfig, between, one_of, param
from sim.results import rounded


def _strengths(value: tuple[float, ...]) -> str | None:
    if value and all(0 <= s <= 0.5 for s in value) and len(set(value)) == len(value):
        return None
    return "must be distinct shares of flipped labels in [0, 0.5]"


@dataclass(frozen=True)
class DetectionStudyConfig:
    """The ``study`` block of ``experiment=detection``.

    Attributes:
        kind: always ``detection``.
        rows: rows each proof covers.
        trials: proofs per design, attack and strength.
        strengths: shares of flipped labels the quality proof is tried against.
        attacks: delivered models the evaluation proof is tried against (``honest``,
            ``random``, ``stale``).
        z: standard errors below the claim the verifier tolerates.
        seed: seeds data and trials.
    """

    kind: str = param("detection", one_of("detection"))
    rows: int = param(32, between(2))
    trials: int = param(30, between(1))
    strengths: tuple[float, ...] = param(detection.STRENGTHS, _strengths)
    attacks: tuple[str, ...] = param(detection.ATTACKS["evaluation_proof"])
    z: float = param(2.33, between(0))
    seed: int = param(0, between(0))

    def __post_init__(self) -> None:
        allowed = detection.ATTACKS["evaluation_proof"]
        unknown = sorted(set(self.attacks) - set(allowed))
        if unknown or not self.attacks:
            raise ConfigError("study.attacks", f"must be a non-empty list of {', '.join(allowed)}")

    def measure_config(self, base: SimConfig) -> detection.MeasureConfig:
        """The measurement on the simulation's data (industries, shift, quality draws)."""
        market = base.market
        return detection.MeasureConfig(
            rows=self.rows, trials=self.trials, strengths=tuple(self.strengths),
            attacks=tuple(self.attacks), z=self.z, features=base.crypto.ground_truth.features,
            n_industries=market.n_industries,
            industry_shift=base.incentives.data_value.industry_shift,
            quality_alpha=market.quality_alpha, quality_beta=market.quality_beta, seed=self.seed,
        )  # fmt: skip


class DetectionStudy(Study):
    """How often each verification design catches each attack, and how often the honest.

    Tables ``trials`` (one row per proof) and ``detection`` (the
    :class:`crypto.detection.DetectionTable` as JSON).
    """

    kind = "detection"
    Config = DetectionStudyConfig
    tables = ("trials.parquet", "detection.json")
    small = ("study.trials=3", "study.rows=16", "study.strengths=[0.0,0.25,0.5]")
    tiny = ("study.trials=1", "study.rows=16", "study.strengths=[0.0,0.5]",
            "study.attacks=[honest,random]")  # fmt: skip

    def run(self, base: SimConfig, config: DetectionStudyConfig, progress: bool = False) -> Tables:
        """Run every trial as a real proof and tabulate the detections."""
        measure = config.measure_config(base)
        zk_log = logging.getLogger("crypto.zk")
        level = zk_log.level
        zk_log.setLevel(logging.ERROR)  # one test-only SRS warning per setup is noise here
        if measure.srs is None:
            logging.getLogger(__name__).warning(
                "detection proofs use locally generated test-only SRS parameters"
            )
        try:
            trials = detection.measure(measure, progress=progress)
        finally:
            zk_log.setLevel(level)
        table = detection.tabulate(trials, measure, machine())
        return {"trials": trials, "detection": table.to_json()}

    def plot(self, tables: Tables, path: Path) -> Path:
        """Power curves (see :func:`plot_detection`)."""
        return plot_detection(detection.DetectionTable.from_json(tables["detection"]), path)

    def summary(self, tables: Tables) -> pd.DataFrame:
        """One row per design, attack and strength: detections, trials, rate and interval."""
        keys = ["design", "attack", "strength"]
        frame = detection.DetectionTable.from_json(tables["detection"]).frame().set_index(keys)
        trials = tables["trials"]
        exact = (trials["proven_share"] - trials["reference_share"]).abs() < 1e-9
        frame["proven_equals_numpy"] = exact.groupby([trials[k] for k in keys]).sum()
        return rounded(frame)


def plot_detection(table: detection.DetectionTable, path: str | Path) -> Path:
    """Rejections per proof, by attack, with 95% Clopper-Pearson intervals.

    Left: the quality proof against the share of flipped labels; right: the evaluation
    proof per delivered model. Honest agents' rejections are the false-positive rates.

    Returns:
        The path written.
    """
    frame = table.frame()
    fig, (left, right) = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 2.8), layout="constrained")
    quality = frame[frame["design"] == "quality_proof"].sort_values("strength")
    if len(quality):
        left.fill_between(quality["strength"], quality["low"], quality["high"],
                          color=PALETTE[0], alpha=0.2, lw=0)  # fmt: skip
        left.plot(quality["strength"], quality["rate"], "o-", color=PALETTE[0], ms=3)
    left.set(xlabel="share of labels flipped", ylabel="rejected (share of proofs)",
             title="quality proof (reference agreement)", ylim=(-0.02, 1.02))  # fmt: skip
    evaluation = frame[frame["design"] == "evaluation_proof"]
    x = np.arange(len(evaluation))
    right.bar(x, evaluation["rate"], color=PALETTE[1])
    spread = [evaluation["rate"] - evaluation["low"], evaluation["high"] - evaluation["rate"]]
    right.errorbar(x, evaluation["rate"], yerr=spread, fmt="none", color="0.2", lw=1)
    right.set_xticks(x, evaluation["attack"])
    right.set(ylabel="rejected (share of proofs)", ylim=(0, 1.02),
              title="evaluation proof (held-out accuracy)")  # fmt: skip
    n = int(frame["trials"].max()) if len(frame) else 0
    fig.suptitle(f"{table.rows} rows per proof, {n} proofs per point, z = {table.z:g}",
                 fontsize="small")  # fmt: skip
    for ax in (left, right):
        ax.grid(alpha=0.3)
    return _save(fig, Path(path))
