"""The Mesa model of the intent-based data market: one round per ``step``.

The model owns the population, the random streams, the ledger and the incentive state; a
round is the sequence of stages in :mod:`sim.round`, read top to bottom in :meth:`step`:
arrivals (:mod:`sim.population`); the market (tasks, intents, true costs and values,
reports); clearing by the regime's market rule (:mod:`sim.regimes`); settlement through
escrow with intent, stake and verification checks on every trade; work (models trained on
the delivered data, task fees in and compute costs out, ground-truth jobs); enforcement
(rewards by the regime's reward rule, slashing, reputation, what cheaters took);
adaptation (utilities, learning, exits); records; a ledger check.
"""

from __future__ import annotations

import dataclasses

import mesa
import numpy as np
import pandas as pd

from agents import MarketAgent, Validator
from sim import population, regimes
from sim.config import SimConfig
from sim.incentives import BetaReputation, DataPool
from sim.ledger import Ledger
from sim.round import adaptation, enforcement, market, recording, settlement, work
from sim.round.clock import StageClock
from sim.round.records import (
    ADVERSARY_COLUMNS,
    GT_COLUMNS,
    REJECTED_COLUMNS,
    ROUND_COLUMNS,
    TRADE_COLUMNS,
    Observations,
    RoundMarket,
)
from sim.tasks import TaskStream

__all__ = ["ROUND_COLUMNS", "MarketModel"]


class MarketModel(mesa.Model):
    """The market simulation.

    Args:
        config: the validated run configuration; ``config.seed`` seeds ``self.rng``.

    Attributes:
        ledger: money and token balances of every account.
        round: index of the next round to run (0-based).
        clock: CPU seconds spent in each stage of the rounds run so far.
        regime: the incentive regime (:mod:`sim.regimes`), with its per-run state.
    """

    def __init__(self, config: SimConfig) -> None:
        super().__init__(rng=config.seed)
        self.config = config
        cfg = config.market
        self.mechanism = config.mechanism.build()
        self.regime = regimes.get(config.incentives.regime)
        self.task_stream = TaskStream(cfg.task_kinds, cfg.n_industries, cfg.fee_low, cfg.fee_high)
        self.seconds_per_unit = config.crypto.seconds_per_unit()
        ver = config.incentives.verification
        proofs_on = ver.quality_proof or ver.evaluation_proof
        self.detection = ver.detection_table() if proofs_on else None
        self.ledger = Ledger()
        self.round = 0
        self.clock = StageClock()
        self.issued = 0.0
        self.trades: list[pd.DataFrame] = []
        self.measurements: list[dict] = []  # joined ground-truth jobs, in submission order
        self.ground_truth_jobs = work.GroundTruthJobs(config.crypto.ground_truth.workers)
        # Ground-truth sampling, verification, valuation and validators draw from their own
        # streams, derived from the seed, so that they do not shift the market's draws:
        # both incentive regimes see the same population and tasks until agents' choices
        # differ.
        self.ground_truth_rng = np.random.default_rng([config.seed, 0x67745F])
        self.verification_rng = np.random.default_rng([config.seed, 0x766572])
        self.detection_rng = np.random.default_rng([config.seed, 0x646574])
        self.valuation_rng = np.random.default_rng([config.seed, 0x76616C])
        self.validator_rng = np.random.default_rng([config.seed, 0x76616C6964])
        self.rejected: list[pd.DataFrame] = []
        self.adversaries: list[pd.DataFrame] = []
        self.datacollector = mesa.DataCollector(tables={"rounds": ROUND_COLUMNS})
        inc = config.incentives
        self.reputation = BetaReputation(inc.reputation.decay)
        self.pool = DataPool(inc.data_value, config.crypto.features, cfg.n_industries, config.seed)
        self.sybil_groups = 0
        population.add_validators(self, inc.validators.count)
        population.add_corporations(self, cfg.n_corporations)
        population.add_solvers(self, cfg.n_solvers)

    def active(self, agent_type: type[MarketAgent]) -> list:
        """Active agents of one type, in creation order."""
        return [a for a in self.agents_by_type.get(agent_type, []) if a.active]

    def validators(self) -> list[Validator]:
        """Every validator, in creation order."""
        return list(self.agents_by_type.get(Validator, []))

    def draw_market(self) -> RoundMarket:
        """This round's market (see :func:`sim.round.market.draw_market`); advances the run."""
        return market.draw_market(self)

    def step(self) -> None:
        """Run one round, stage by stage, and record it."""
        stage = self.clock.stage
        with stage("population"):
            entered = population.arrivals(self) if self.round > 0 else (0, 0)
        with stage("market"):
            rm = self.draw_market()
        ids = [a.unique_id for a in rm.corporations + rm.solvers]
        money_before = self.ledger.balances("money", ids)

        with stage("clearing"):
            outcome = self.regime.market.clear(self, rm)
        with stage("settlement"):
            settled = settlement.settle(self, rm, outcome)

        with stage("models"):
            accuracy = work.train_models(self, rm, settled)
        with stage("work"):
            work.execute(self, rm, settled)
            real = work.run_ground_truth(self, rm, settled)

        with stage("rewards"):
            rewards = enforcement.mint_rewards(self, rm, settled, accuracy)
        with stage("enforcement"):
            slashing = enforcement.slash(self, rm, settled)
            enforcement.update_reputation(self, rm, settled)
            extracted = enforcement.extracted(self, rm, settled, rewards)

        with stage("adaptation"):
            money = self.ledger.balances("money", ids) - money_before
            exited = adaptation.adapt(self, rm, settled, rewards, slashing, money)

        with stage("records"):
            recording.record_trades(self, rm, settled, real)
            recording.record_adversaries(self, rm, settled, slashing, extracted)
        with stage("optimum"):
            welfare = recording.realized_welfare(rm, settled)
            optimal = recording.optimal_welfare(self, rm, welfare)
        with stage("records"):
            observed = Observations(
                entered, exited, accuracy, len(real), extracted, welfare, optimal
            )
            row = recording.round_row(self, rm, outcome, settled, rewards, slashing, observed)
            self.datacollector.add_table_row("rounds", dataclasses.asdict(row))
            self.ledger.check(issued=self.issued)
        self.round += 1
        self.clock.rounds += 1

    # ------------------------------------------------------------------ results

    def rounds_frame(self) -> pd.DataFrame:
        """One row per round so far."""
        return self.datacollector.get_table_dataframe("rounds").reset_index(drop=True)

    def trades_frame(self) -> pd.DataFrame:
        """One row per executed trade so far."""
        return recording.concat(self.trades, TRADE_COLUMNS)

    def rejected_frame(self) -> pd.DataFrame:
        """One row per trade rejected at settlement, with the reason."""
        return recording.concat(self.rejected, REJECTED_COLUMNS)

    def adversaries_frame(self) -> pd.DataFrame:
        """Per round and adversary kind: attempts, detections, slashed tokens, extraction."""
        return recording.concat(self.adversaries, ADVERSARY_COLUMNS)

    def ground_truth_frame(self, progress: bool = False) -> pd.DataFrame:
        """One row per real job started so far, with its measurement, in the order started.

        Waits for the jobs still running in the background (:class:`sim.round.work.
        GroundTruthJobs`; ``progress``: with a progress bar) and stops their threads.
        """
        self.measurements.extend(self.ground_truth_jobs.join(progress))
        frames = [pd.DataFrame(self.measurements)] if self.measurements else []
        return recording.concat(frames, GT_COLUMNS)

    def agents_frame(self) -> pd.DataFrame:
        """One row per agent that ever joined (validators included), with its state now."""
        return recording.agents_frame(self)
