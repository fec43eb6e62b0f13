"""The contract every incentive regime passes.

A regime's test class inherits :class:`RegimeContract` and sets ``name`` to the registered
name of the regime under test.
"""

from __future__ import annotations

import numpy as np

import mechanisms
from sim import regimes
from sim.model import MarketModel
from sim.round import settlement
from tests.conftest import tiny_config

TOL = 1e-9


class RegimeContract:
    name: str

    def model(self, seed: int = 2) -> MarketModel:
        return MarketModel(tiny_config(seed=seed, incentives={"regime": self.name}))

    def test_registered_with_a_market_rule_and_a_reward_rule(self):
        assert self.name in regimes.available()
        regime = regimes.get(self.name)
        assert isinstance(regime.market, regimes.MarketRule) and regime.market.name
        assert isinstance(regime.rewards, regimes.RewardRule) and regime.rewards.name
        assert regimes.get(self.name).rewards is not regime.rewards  # per-run state

    def test_market_rule_clears_a_feasible_outcome(self):
        model = self.model()
        for _ in range(3):
            rm = model.draw_market()
            out = model.regime.market.clear(model, rm)
            x = out.allocation
            assert x.shape == rm.reported.shape
            assert np.all(x >= -TOL)
            assert np.all(x.sum(axis=1) <= rm.supply + 1e-6)
            assert np.all(x.sum(axis=0) <= rm.capacity + 1e-6)
            assert np.all(x[~rm.reported.compatible_matrix()] == 0)
            assert isinstance(model.regime.market.label(model), str)
            model.step()

    def test_reward_rule_mints_at_most_the_emission_and_the_model_books_it(self):
        model = self.model()
        for _ in range(4):
            model.step()
        rounds = model.rounds_frame()
        emission = model.config.incentives.emission.amount(0)
        assert (rounds["emission"] <= emission + 1e-6).all()
        assert (rounds["emission"] >= 0).all()
        assert (rounds["incentives"] == self.name).all()
        model.ledger.check(issued=model.issued)

    def test_reward_rule_shapes(self):
        model = self.model()
        rm = model.draw_market()
        outcome = model.regime.market.clear(model, rm)
        assert isinstance(outcome, mechanisms.Outcome)
        settled = settlement.settle(model, rm, outcome)
        accuracy = np.full(len(rm.solvers), 0.7)
        rewards = model.regime.rewards.reward(model, rm, settled, accuracy)
        n, m = rm.reported.shape
        assert rewards.corporations.shape == (n,) and rewards.solvers.shape == (m,)
        assert rewards.validators.shape == (len(model.validators()),)
        for tokens in (rewards.corporations, rewards.solvers, rewards.validators):
            assert np.all(tokens >= -TOL)
        if not model.regime.rewards.shares_revenue:
            assert not rewards.revenue.any()
        if not model.regime.market.priced:
            assert np.all(outcome.seller_revenue == 0)
