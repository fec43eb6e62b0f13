"""The processing-cost model solvers price their work with.

Until a fitted calibration is loaded, the model's parameters are single measurements
taken on the reference machine (2 cores, TenSEAL 0.3.18, ezkl 23.0.5):

* encrypted logistic-regression training (CKKS, N=8192, depth 6, 9 features): 0.074 s per
  row per epoch;
* an ezkl proof of a logistic-regression evaluation (16 inputs, batch 256, logrows 15):
  5.2 s per proof, one proof per data unit.

Every parameter is a config value (``crypto.*``), so a user can replace them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CostModel:
    """Reference compute-seconds to process one data unit.

    Attributes:
        fhe_seconds_per_row_epoch: encrypted training time per row per epoch.
        rows_per_unit: rows in one data unit.
        epochs: training epochs per job.
        proof_seconds_per_unit: ZK proof generation time per data unit.
    """

    fhe_seconds_per_row_epoch: float = 0.074
    rows_per_unit: int = 100
    epochs: int = 5
    proof_seconds_per_unit: float = 5.2

    def __post_init__(self) -> None:
        for name in ("fhe_seconds_per_row_epoch", "proof_seconds_per_unit"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"CostModel.{name} must be >= 0, got {getattr(self, name)}")
        for name in ("rows_per_unit", "epochs"):
            if not getattr(self, name) >= 1:
                raise ValueError(f"CostModel.{name} must be >= 1, got {getattr(self, name)}")

    def seconds_per_unit(self) -> float:
        """Reference compute-seconds to train on and prove one data unit."""
        fhe = self.fhe_seconds_per_row_epoch * self.rows_per_unit * self.epochs
        return fhe + self.proof_seconds_per_unit
