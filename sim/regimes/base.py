"""The incentive-regime protocol and the one registry every regime lives in.

A regime is composed of two rules, each a small class:

* a :class:`MarketRule` decides how data changes hands (a priced market cleared by the
  configured mechanism, or free sharing of open data) and whether settlement checks the
  verification design;
* a :class:`RewardRule` mints the round's emission and shares task revenue (data-value
  rewards with revenue sharing, or Yuma's validator consensus).

A :class:`Regime` names one market rule and one reward rule; defining a subclass with a
``name`` registers it, so a new regime (for instance Yuma's reward rule on top of the priced
data market) is one small class.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, ClassVar

import mechanisms
from sim.regimes import registry

if TYPE_CHECKING:
    import numpy as np

    from agents import Intent
    from sim.round.records import Rewards, RoundMarket, Settlement
    from sim.round.state import ModelState


class MarketRule:
    """How data changes hands in a round.

    Attributes:
        name: the rule's name.
        verifies: settlement checks every trade against the verification design.
        priced: a mechanism sets the prices (so a counterfactual clearing is meaningful).
        gives_open_data: corporations with open data give it away (minimum price 0).
    """

    name: ClassVar[str] = ""
    verifies: ClassVar[bool] = True
    priced: ClassVar[bool] = True
    gives_open_data: ClassVar[bool] = False

    def clear(self, model: ModelState, rm: RoundMarket) -> mechanisms.Outcome:
        """The round's allocation and payments."""
        raise NotImplementedError

    def label(self, model: ModelState) -> str:
        """What the rounds table's ``mechanism`` column says."""
        return model.mechanism.name

    def intent(self, intent: Intent, open_data: bool) -> Intent:
        """The intent a new corporation posts (``open_data``: it publishes its data)."""
        if open_data and self.gives_open_data:
            return dataclasses.replace(intent, min_price=0.0)
        return intent


class RewardRule:
    """How a round's emission is minted and task revenue shared.

    Attributes:
        name: the rule's name.
        shares_revenue: solvers pay ``incentives.revenue_share`` of their task fees back to
            their sellers (so they value data net of it).
    """

    name: ClassVar[str] = ""
    shares_revenue: ClassVar[bool] = False

    def reward(
        self, model: ModelState, rm: RoundMarket, settled: Settlement, accuracy: np.ndarray
    ) -> Rewards:
        """Tokens for each agent this round (the model mints them) and revenue shared."""
        raise NotImplementedError


class Regime:
    """An incentive regime: one market rule and one reward rule.

    Subclasses set ``name``, ``market_rule`` and ``reward_rule`` (classes) and are
    registered by name when defined. A model builds its own instance, so rules with state
    (Yuma's bonds) start fresh in every run.
    """

    name: ClassVar[str] = ""
    market_rule: ClassVar[type[MarketRule]]
    reward_rule: ClassVar[type[RewardRule]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name:
            registry.register(cls.name, cls)

    def __init__(self) -> None:
        self.market = self.market_rule()
        self.rewards = self.reward_rule()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(market={self.market.name}, rewards={self.rewards.name})"


def get(name: str) -> Regime:
    """A new instance of the regime registered under ``name``.

    Raises:
        ValueError: for an unknown name; the message lists the allowed names.
    """
    return registry.lookup(name)()
