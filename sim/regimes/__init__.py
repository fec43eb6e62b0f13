"""Incentive regimes as registered plug-ins: a market rule and a reward rule each.

Public surface::

    sim.regimes.available()          # intent_market, open_data_rewards, priced_yuma, yuma
    regime = sim.regimes.get("yuma") # a fresh instance (its rules keep per-run state)
    regime.market.clear(model, rm)   # the round's outcome
    regime.rewards.reward(model, rm, settled, accuracy)

See :mod:`sim.regimes.base` for the protocol and ``docs/extending.md`` for a new regime.
"""

from sim.regimes.base import MarketRule, Regime, RewardRule, get
from sim.regimes.composed import OpenDataRewards, PricedYuma
from sim.regimes.intent_market import DataValueRewards, IntentMarket, PricedMarket
from sim.regimes.registry import available
from sim.regimes.yuma import OpenData, Yuma, YumaBonds, YumaRewards

__all__ = [
    "DataValueRewards",
    "IntentMarket",
    "MarketRule",
    "OpenData",
    "OpenDataRewards",
    "PricedMarket",
    "PricedYuma",
    "Regime",
    "RewardRule",
    "Yuma",
    "YumaBonds",
    "YumaRewards",
    "available",
    "get",
]
