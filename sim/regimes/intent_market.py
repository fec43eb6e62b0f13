"""The intent market: a priced data market and data-value rewards with revenue sharing."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

import mechanisms
from sim.regimes.base import MarketRule, Regime, RewardRule
from sim.round.records import Rewards

if TYPE_CHECKING:
    from sim.round.records import RoundMarket, Settlement
    from sim.round.state import ModelState


class PricedMarket(MarketRule):
    """The configured mechanism clears the reported market; settlement verifies every trade."""

    name = "priced"
    verifies = True
    priced = True

    def clear(self, model: ModelState, rm: RoundMarket) -> mechanisms.Outcome:
        """Clear the reported market with the model's mechanism."""
        return model.mechanism.clear(rm.reported, rng=model.rng)


class DataValueRewards(RewardRule):
    """Emission split by data value, verified work and stake; task revenue shared back.

    If anything traded, the emission is split by ``incentives.shares``: corporations by the
    value of the data they delivered (``data_value.method``; only positive values earn),
    solvers by verified units processed times reputation, validators by stake. Each solver
    pays ``revenue_share`` of its task fees to its sellers in proportion to units times data
    value (by units where no seller has a positive value).
    """

    name = "data_value"
    shares_revenue = True

    def reward(
        self, model: ModelState, rm: RoundMarket, settled: Settlement, accuracy: np.ndarray
    ) -> Rewards:
        """Data values, tokens per agent, and the revenue share paid through the ledger."""
        inc = model.config.incentives
        corps, solvers = rm.corporations, rm.solvers
        stake_v = np.array([v.stake for v in model.validators()])
        n, m = len(corps), len(solvers)
        rewards = Rewards(
            np.zeros(n), np.zeros(m), np.zeros(stake_v.size), np.zeros(n), np.zeros(n)
        )
        if settled.trades.units.sum() <= 0:
            return rewards
        emission = inc.emission.amount(model.round)
        sold = settled.sold
        contributors = np.flatnonzero(sold > 0)
        data_value = rewards.data_value
        if inc.data_value.method == "units":
            data_value = rm.quality * sold
        else:
            data_value[contributors] = model.pool.values(
                [corps[i].unique_id for i in contributors],
                model.pool.shares_bought(settled.trades, rm.supply, m, contributors),
                rm.tasks.industry,
                model.valuation_rng,
            )
        score = np.maximum(data_value, 0.0)
        tokens_c, tokens_s, tokens_v = rewards.corporations, rewards.solvers, rewards.validators
        if score.sum() > 0:
            tokens_c = emission * inc.shares.data_providers * score / score.sum()
        work = np.where(settled.model_rejected, 0.0, settled.bought)
        work = work * model.reputation.value([s.unique_id for s in solvers])
        if work.sum() > 0:
            tokens_s = emission * inc.shares.solvers * work / work.sum()
        if stake_v.sum() > 0:
            tokens_v = emission * inc.shares.validators * stake_v / stake_v.sum()
        sellers, buyers, units = settled.trades  # the revenue share, over the trades only
        basis = units * score[sellers]
        valued = np.bincount(buyers, basis, minlength=m) > 0
        basis = np.where(valued[buyers], basis, units)
        total = np.bincount(buyers, basis, minlength=m)[buyers]
        split = np.divide(basis, total, out=np.zeros_like(basis), where=basis > 0)
        paid = inc.revenue_share * settled.fees[buyers] * split
        model.ledger.transfer(
            "money",
            [solvers[j].unique_id for j in buyers],
            [corps[i].unique_id for i in sellers],
            paid,
        )
        shared = np.bincount(sellers, paid, minlength=n)
        return Rewards(tokens_c, tokens_s, tokens_v, shared, data_value)


class IntentMarket(Regime):
    """The seed design: a priced data market, data-value rewards, revenue sharing."""

    name = "intent_market"
    market_rule = PricedMarket
    reward_rule = DataValueRewards
