"""The two crossed regimes: each market rule with the other reward rule.

With :class:`~sim.regimes.IntentMarket` (priced market, data-value rewards) and
:class:`~sim.regimes.Yuma` (open data, Yuma emission) they make the two-by-two design of
``experiment=intent_vs_yuma``: a difference between two regimes that share a rule is the
effect of the other rule alone.
"""

from __future__ import annotations

from sim.regimes.base import Regime
from sim.regimes.intent_market import DataValueRewards, PricedMarket
from sim.regimes.yuma import OpenData, YumaRewards


class PricedYuma(Regime):
    """Yuma's emission over the priced, verified data market."""

    name = "priced_yuma"
    market_rule = PricedMarket
    reward_rule = YumaRewards


class OpenDataRewards(Regime):
    """The intent market's rewards (data value, reputation, revenue share) over open data."""

    name = "open_data_rewards"
    market_rule = OpenData
    reward_rule = DataValueRewards
