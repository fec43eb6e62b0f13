"""Bittensor's Yuma consensus as a regime: free open data and validator-weighted emission."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

import mechanisms
from mechanisms import yuma
from mechanisms.allocation import at_price
from sim.regimes.base import MarketRule, Regime, RewardRule
from sim.round.records import Rewards

if TYPE_CHECKING:
    from agents import Solver, Validator
    from sim.round.records import RoundMarket, Settlement
    from sim.round.state import ModelState


class OpenData(MarketRule):
    """Nobody is paid for data; open-data corporations share it for free.

    Open corporations' units go, at price 0, to compatible solvers that value them
    (maximum volume, then maximum value, as :func:`mechanisms.allocation.at_price`). No
    verification runs (Bittensor has none); validators' weights are the only check on
    solvers.
    """

    name = "open_data"
    verifies = False
    priced = False
    gives_open_data = True

    def clear(self, model: ModelState, rm: RoundMarket) -> mechanisms.Outcome:
        """Give the open corporations' data to the solvers that value it, at price 0."""
        is_open = np.array([c.open_data for c in rm.corporations], dtype=bool)
        market = rm.reported
        free = mechanisms.Market(
            np.where(is_open, market.supply, 0.0),
            market.demand,
            np.zeros(market.shape[0]),
            market.bid_matrix(),
            market.compatible_matrix() & is_open[:, None],
        )
        return mechanisms.Outcome.uniform_price(at_price(free, 0.0), 0.0)

    def label(self, model: ModelState) -> str:
        """``open_data``: no mechanism sets prices."""
        return self.name


class YumaBonds:
    """Validators' EMA bonds with solvers, kept by solver id across entries and exits."""

    def __init__(self) -> None:
        self.solvers: list[int] = []
        self.bonds: np.ndarray | None = None

    def aligned(self, validators: int, solvers: Sequence[int]) -> np.ndarray:
        """Previous bonds ``(validators, len(solvers))``; zero for solvers new to the epoch."""
        out = np.zeros((validators, len(solvers)))
        if self.bonds is not None:
            where = {s: k for k, s in enumerate(self.solvers)}
            for j, s in enumerate(solvers):
                if s in where:
                    out[:, j] = self.bonds[:, where[s]]
        return out

    def store(self, solvers: Sequence[int], bonds: np.ndarray) -> None:
        """Keep this epoch's bonds for the next."""
        self.solvers = list(solvers)
        self.bonds = bonds


class YumaRewards(RewardRule):
    """Emission by Yuma consensus over validators' weights on solvers.

    Validators weight solvers by observed model accuracy; one Yuma epoch per round splits
    the emission between solvers (incentive) and validators (dividends). Corporations get
    nothing. The rule keeps the validators' bonds across rounds.
    """

    name = "yuma"
    shares_revenue = False

    def __init__(self) -> None:
        self.bonds = YumaBonds()

    def reward(
        self, model: ModelState, rm: RoundMarket, settled: Settlement, accuracy: np.ndarray
    ) -> Rewards:
        """Tokens to solvers and validators by one Yuma epoch."""
        inc = model.config.incentives
        corps, solvers = rm.corporations, rm.solvers
        validators = model.validators()
        stake_v = np.array([v.stake for v in validators])
        rewards = Rewards.nothing(len(corps), len(solvers), len(validators))
        if solvers and stake_v.sum() > 0:
            weights = self._weights(model, validators, solvers, accuracy)
            ids = [s.unique_id for s in solvers]
            result = yuma.epoch(
                weights,
                stake_v,
                self.bonds.aligned(len(validators), ids),
                kappa=inc.yuma.kappa,
                bond_penalty=inc.yuma.bond_penalty,
                bond_alpha=inc.yuma.bond_alpha,
                bond_normalization=inc.yuma.bond_normalization,
            )
            self.bonds.store(ids, result.bonds)
            emission = inc.emission.amount(model.round)
            tokens_s, tokens_v = yuma.split(result, emission, inc.yuma.validator_share)
            rewards = rewards._replace(solvers=tokens_s, validators=tokens_v)
        return rewards

    @staticmethod
    def _weights(
        model: ModelState, validators: list[Validator], solvers: list[Solver], accuracy: np.ndarray
    ) -> np.ndarray:
        """Each validator's weights on the active solvers.

        The dishonest validators back one favourite together, a lazy solver where there is
        one.
        """
        ids = [s.unique_id for s in solvers]
        cabal = [v for v in validators if not v.honest]
        if cabal and cabal[0].favourite not in ids:
            lazy = [s.unique_id for s in solvers if s.adversary == "lazy"]
            pool = lazy or ids
            favourite = pool[int(model.validator_rng.integers(len(pool)))]
            for v in cabal:
                v.favourite = favourite
        weights = [v.weights(ids, accuracy, model.validator_rng) for v in validators]
        return np.array(weights).reshape(len(validators), len(ids))


class Yuma(Regime):
    """Bittensor's Yuma consensus: free open data, emission by validators' weights."""

    name = "yuma"
    market_rule = OpenData
    reward_rule = YumaRewards
