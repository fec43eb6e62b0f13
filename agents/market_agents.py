"""Corporations (data sellers) and solvers (data buyers) as thin Mesa agents.

Agents hold their own attributes, strategy and running utility; the model gathers them
into numpy arrays each round and does the heavy work vectorized.
"""

from __future__ import annotations

import mesa
import numpy as np

from agents.intent import Intent
from agents.strategies import Strategy, report_all


class MarketAgent(mesa.Agent):
    """What corporations and solvers share: strategy, entry/exit and a running utility.

    Args:
        model: the Mesa model.
        strategy: how the agent reports its values.
        outside_option: per-round utility available outside the market; the agent leaves
            when its running utility falls below it (after ``grace_rounds``).
        entered: the round the agent joined.
    """

    kind = "agent"

    def __init__(
        self, model: mesa.Model, strategy: Strategy, outside_option: float, entered: int
    ) -> None:
        super().__init__(model)
        self.strategy = strategy
        self.outside_option = float(outside_option)
        self.entered = entered
        self.exited: int | None = None
        self.running_utility: float | None = None
        self.units_traded = 0.0
        self.utility_total = 0.0
        self.adversary: str | None = None
        self.stake = 0.0

    @property
    def active(self) -> bool:
        """Whether the agent still participates."""
        return self.exited is None

    def observe(self, utility: float, memory: float) -> None:
        """Fold one round's utility into the running utility (an EMA with weight ``memory``)."""
        self.utility_total += utility
        if self.running_utility is None:
            self.running_utility = utility
        else:
            self.running_utility = (1 - memory) * self.running_utility + memory * utility

    def should_exit(self, round: int, grace_rounds: int) -> bool:
        """Leave once past the grace period with running utility below the outside option."""
        return (
            self.active
            and round - self.entered >= grace_rounds
            and self.running_utility is not None
            and self.running_utility < self.outside_option
        )


class Corporation(MarketAgent):
    """A data seller.

    Args:
        model: the Mesa model.
        industry: the industry the corporation competes in.
        supply: data units offered per round.
        quality: data quality in ``(0, 1]``.
        sharing_cost: private per-unit cost of sharing with a solver serving another industry.
        competitor_premium: relative extra sharing cost toward solvers serving its own
            industry (the cost is ``sharing_cost * (1 + competitor_premium)`` there).
        intent: the terms it shares data under.
        strategy, outside_option, entered: see :class:`MarketAgent`.

    Attributes:
        true_quality: the quality its rows really have (below ``quality`` for a poisoner).
        open_data: whether it publishes its data for free under Yuma.
        sybil_group: for a Sybil identity, the id shared by all identities of its owner.
    """

    kind = "corporation"

    def __init__(
        self,
        model: mesa.Model,
        *,
        industry: int,
        supply: float,
        quality: float,
        sharing_cost: float,
        competitor_premium: float,
        intent: Intent,
        strategy: Strategy,
        outside_option: float,
        entered: int,
    ) -> None:
        super().__init__(model, strategy, outside_option, entered)
        if not 0 < quality <= 1:
            raise ValueError(f"Corporation quality must be in (0, 1], got {quality}")
        if supply < 0 or sharing_cost < 0 or competitor_premium < 0:
            raise ValueError("Corporation supply, sharing_cost and competitor_premium must be >= 0")
        self.industry = int(industry)
        self.supply = float(supply)
        self.quality = float(quality)
        self.sharing_cost = float(sharing_cost)
        self.competitor_premium = float(competitor_premium)
        self.intent = intent
        self.true_quality = self.quality
        self.open_data = False
        self.sybil_group: int | None = None

    def costs(self, task_industry: np.ndarray) -> np.ndarray:
        """True per-unit sharing cost toward solvers whose tasks serve ``task_industry``."""
        rival = task_industry == self.industry
        return self.sharing_cost * (1 + self.competitor_premium * rival)

    def ask(self, costs: np.ndarray) -> np.ndarray:
        """Reported per-unit asks: the strategy's report, never below the intent's minimum."""
        return np.maximum(self.strategy.report(costs), self.intent.min_price)


class Solver(MarketAgent):
    """A data buyer that trains models on (encrypted) data for its task's client.

    Args:
        model: the Mesa model.
        capacity: data units it can process per round.
        speed: hardware speed relative to the reference machine of the cost model.
        compute_price: money per reference compute-second.
        seconds_per_unit: reference compute-seconds to process one data unit (FHE training
            plus proof generation), from the cost model.
        stake: protocol tokens the solver has staked.
        fhe_capable: whether it can compute on FHE-encrypted data.
        proof_capable: whether it produces ZK proofs of its computation.
        strategy, outside_option, entered: see :class:`MarketAgent`.
    """

    kind = "solver"

    def __init__(
        self,
        model: mesa.Model,
        *,
        capacity: float,
        speed: float,
        compute_price: float,
        seconds_per_unit: float,
        stake: float,
        fhe_capable: bool,
        proof_capable: bool,
        strategy: Strategy,
        outside_option: float,
        entered: int,
    ) -> None:
        super().__init__(model, strategy, outside_option, entered)
        if capacity < 0 or speed <= 0 or compute_price < 0 or seconds_per_unit < 0 or stake < 0:
            raise ValueError(
                "Solver needs capacity, compute_price, seconds_per_unit, stake >= 0 and speed > 0"
            )
        self.capacity = float(capacity)
        self.speed = float(speed)
        self.compute_price = float(compute_price)
        self.processing_cost = seconds_per_unit / self.speed * self.compute_price
        self.stake = float(stake)
        self.fhe_capable = bool(fhe_capable)
        self.proof_capable = bool(proof_capable)

    def bid(self, values: np.ndarray) -> np.ndarray:
        """Reported per-unit bids for true net values ``values`` (one per seller)."""
        return self.strategy.report(values)


def sharing_costs(corporations: list[Corporation], task_industry: np.ndarray) -> np.ndarray:
    """``(n, m)`` true per-unit sharing costs: :meth:`Corporation.costs`, for every seller."""
    cost = np.array([c.sharing_cost for c in corporations])[:, None]
    premium = np.array([c.competitor_premium for c in corporations])[:, None]
    industry = np.array([c.industry for c in corporations], dtype=int)[:, None]
    rival = task_industry[None, :] == industry
    return cost * (1 + premium * rival)


def asks(corporations: list[Corporation], costs: np.ndarray) -> np.ndarray:
    """Every seller's asks for its row of ``costs``: :meth:`Corporation.ask`, vectorized."""
    floor = np.array([c.intent.min_price for c in corporations]).reshape(
        -1, *[1] * (costs.ndim - 1)
    )
    return np.maximum(report_all([c.strategy for c in corporations], costs), floor)


def bids(solvers: list[Solver], values: np.ndarray) -> np.ndarray:
    """Every buyer's bids for its row of ``values``: :meth:`Solver.bid`, vectorized."""
    return report_all([s.strategy for s in solvers], values)


class Validator(mesa.Agent):
    """A validator: verifies deliveries in the intent market, weights solvers under Yuma.

    Args:
        model: the Mesa model.
        stake: tokens staked.
        honest: an honest validator weights solvers by their observed model accuracy; a
            dishonest one puts all its weight on ``favourite``.
        noise: standard deviation of its error in observing a model's accuracy.
    """

    kind = "validator"

    def __init__(self, model: mesa.Model, *, stake: float, honest: bool, noise: float) -> None:
        super().__init__(model)
        if stake < 0 or noise < 0:
            raise ValueError("Validator needs stake >= 0 and noise >= 0")
        self.stake = float(stake)
        self.honest = bool(honest)
        self.noise = float(noise)
        self.favourite: int | None = None

    def weights(
        self, solvers: list[int], accuracy: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Weights on ``solvers``.

        An honest validator observes each model's accuracy with noise and weights it by
        how far it beats the worst model it observed this round (relative scoring, as
        subnet validators rank miners against each other). A dishonest one puts all its
        weight on ``favourite`` (none if the favourite is not among ``solvers``).
        """
        if not self.honest:
            return (np.asarray(solvers) == self.favourite).astype(float)
        observed = accuracy + rng.normal(0, self.noise, len(solvers))
        return observed - observed.min()
