"""What a round's stages and the regimes' rules read and write of the model.

:class:`sim.MarketModel` implements :class:`ModelState`; a stage takes it as its first
argument, so a test can call any stage on a model it has built by hand.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import pandas as pd

import mechanisms
from agents import MarketAgent, Validator
from crypto.detection import DetectionTable
from sim.config import SimConfig
from sim.incentives import BetaReputation, DataPool
from sim.ledger import Ledger
from sim.tasks import TaskStream


class ModelState(Protocol):
    """The model's state the stages use.

    Attributes:
        config: the run's configuration.
        round: index of the round being run.
        rng: the market's random generator (population, tasks, clearing).
        ground_truth_rng: ground-truth sampling's own stream.
        verification_rng: audits' own stream.
        detection: the measured detection table proofs are drawn from (``None`` when no
            proof is enabled).
        detection_rng: proof outcomes' own stream (see :func:`sim.round.settlement.proof_outcomes`).
        valuation_rng: data valuation's own stream.
        validator_rng: validators' own stream.
        ledger: money and token balances.
        issued: tokens issued so far, by the model's own count.
        mechanism: the configured mechanism.
        regime: the incentive regime (a :class:`sim.regimes.Regime`).
        reputation: Beta reputation of every agent.
        pool: every corporation's rows and the models trained on them.
        task_stream: draws the solvers' tasks.
        seconds_per_unit: reference compute-seconds to process one data unit.
        sybil_groups: Sybil groups created so far.
        agents_by_type: Mesa's agents by class.
        trades: the trades table's frames, one per round.
        rejected: the rejected table's frames.
        adversaries: the adversaries table's frames.
        measurements: ground-truth measurements, one dict per job, once joined.
        ground_truth_jobs: the ground-truth jobs running in the background
            (:class:`sim.round.work.GroundTruthJobs`).
    """

    config: SimConfig
    round: int
    rng: np.random.Generator
    ground_truth_rng: np.random.Generator
    verification_rng: np.random.Generator
    detection: DetectionTable | None
    detection_rng: np.random.Generator
    valuation_rng: np.random.Generator
    validator_rng: np.random.Generator
    ledger: Ledger
    issued: float
    mechanism: mechanisms.Mechanism
    regime: Any
    reputation: BetaReputation
    pool: DataPool
    task_stream: TaskStream
    seconds_per_unit: float
    sybil_groups: int
    agents_by_type: Any
    trades: list[pd.DataFrame]
    rejected: list[pd.DataFrame]
    adversaries: list[pd.DataFrame]
    measurements: list[dict]
    ground_truth_jobs: Any  # sim.round.work.GroundTruthJobs (work imports the stages' state)

    def active(self, agent_type: type[MarketAgent]) -> list:
        """Active agents of one type, in creation order."""
        ...

    def validators(self) -> list[Validator]:
        """Every validator, in creation order."""
        ...
