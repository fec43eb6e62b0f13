"""The processing-cost models solvers price their work with.

:class:`CalibratedCostModel` predicts the cost of a data unit from a fitted calibration (the
default in simulations: ``configs/calibration/default.json``). :class:`CostModel` is the
reference alternative, whose parameters are single measurements taken on the reference
machine (2 cores, TenSEAL 0.3.18, ezkl 23.0.5):

* encrypted logistic-regression training (CKKS ``train_precise``, N=16384, depth 6, 9 features):
  0.18 s per row per epoch;
* an ezkl proof of a logistic-regression evaluation (16 inputs, batch 256, logrows 15):
  5.2 s per proof, one proof per data unit.

Every parameter is a config value (``crypto.*``), so a user can replace them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crypto.calibration import Calibration


@dataclass(frozen=True)
class CostModel:
    """Reference compute-seconds to process one data unit.

    Attributes:
        fhe_seconds_per_row_epoch: encrypted training time per row per epoch.
        rows_per_unit: rows in one data unit.
        epochs: training epochs per job.
        proof_seconds_per_unit: ZK proof generation time per data unit.
        plain_seconds_per_row_epoch: plaintext training time per row per epoch (no FHE).
    """

    fhe_seconds_per_row_epoch: float = 0.18
    rows_per_unit: int = 100
    epochs: int = 5
    proof_seconds_per_unit: float = 5.2
    plain_seconds_per_row_epoch: float = 4e-7

    def __post_init__(self) -> None:
        for name in (
            "fhe_seconds_per_row_epoch",
            "proof_seconds_per_unit",
            "plain_seconds_per_row_epoch",
        ):
            if not getattr(self, name) >= 0:
                raise ValueError(f"CostModel.{name} must be >= 0, got {getattr(self, name)}")
        for name in ("rows_per_unit", "epochs"):
            if not getattr(self, name) >= 1:
                raise ValueError(f"CostModel.{name} must be >= 1, got {getattr(self, name)}")

    def seconds_per_unit(self) -> float:
        """Reference compute-seconds to train on and prove one data unit."""
        fhe = self.fhe_seconds_per_row_epoch * self.rows_per_unit * self.epochs
        return fhe + self.proof_seconds_per_unit

    def plain_seconds_per_unit(self) -> float:
        """Reference compute-seconds to train on one unit in the clear, without a proof."""
        return self.plain_seconds_per_row_epoch * self.rows_per_unit * self.epochs


@dataclass(frozen=True)
class CalibratedCostModel:
    """Processing cost per data unit from a fitted calibration.

    One unit of ``rows_per_unit`` rows and ``features`` features costs an encrypted training
    job (``fhe_train`` fit, ``epochs`` epochs) plus a ZK proof over the unit (``zk_prove``
    fit), as predicted by the calibration's time fits.

    Attributes:
        calibration: the fitted calibration (see :mod:`crypto.calibration`).
        rows_per_unit: rows in one data unit.
        features: features per row.
        epochs: training epochs per job.
    """

    calibration: Calibration
    rows_per_unit: int = 100
    features: int = 9
    epochs: int = 5

    def __post_init__(self) -> None:
        missing = {"fhe_train", "zk_prove"} - set(self.calibration.fits)
        if missing:
            raise ValueError(
                f"the calibration has no fit for {', '.join(sorted(missing))}; "
                f"calibrated: {', '.join(self.calibration.fits)}"
            )

    def seconds_per_unit(self) -> float:
        """Predicted reference compute-seconds to train on and prove one data unit."""
        size = {"rows": self.rows_per_unit, "features": self.features}
        train = self.calibration.predict("fhe_train", "seconds", **size, epochs=self.epochs)
        prove = self.calibration.predict("zk_prove", "seconds", **size)
        return train + prove

    def plain_seconds_per_unit(self) -> float:
        """Predicted compute-seconds to train on one unit in the clear (``train_plain`` fit).

        Raises:
            ValueError: if the calibration has no ``train_plain`` fit.
        """
        if "train_plain" not in self.calibration.fits:
            raise ValueError("the calibration has no fit for train_plain")
        size = {"rows": self.rows_per_unit, "features": self.features}
        return self.calibration.predict("train_plain", "seconds", **size, epochs=self.epochs)
