"""The adaptation stage: agents take in their round's gain, strategies learn, agents exit."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from agents import Corporation, Feedback, Solver
from sim.round.records import Rewards, RoundMarket, Settlement, Slashing

if TYPE_CHECKING:
    from sim.round.state import ModelState


def adapt(
    model: ModelState,
    rm: RoundMarket,
    settled: Settlement,
    rewards: Rewards,
    slashing: Slashing,
    money: np.ndarray,
) -> tuple[int, int]:
    """Update utilities and strategies, then let agents below their outside option leave.

    An agent's gain is the money it made this round (``money``, corporations then solvers)
    plus its tokens net of slashing at the token price, less a corporation's true sharing
    cost of what it delivered.

    Returns:
        Corporations and solvers that exited this round.
    """
    cfg = model.config
    corps, solvers, (sellers, buyers, units) = rm.corporations, rm.solvers, settled.trades
    sharing = settled.trades.per_seller(rm.cost[sellers, buyers] * units, len(corps))
    tokens = np.concatenate(
        [rewards.corporations - slashing.corporations, rewards.solvers - slashing.solvers]
    )
    price = cfg.incentives.token_price
    gains = money + price * tokens - np.concatenate([sharing, np.zeros(len(solvers))])
    for agent, gain, offered, traded in zip(
        corps + solvers,
        gains,
        np.concatenate([rm.supply, rm.capacity]),
        np.concatenate([settled.sold, settled.bought]),
        strict=True,
    ):
        agent.observe(float(gain), cfg.agents.utility_memory)
        agent.strategy.learn(Feedback(float(offered), float(traded), float(gain)))
        agent.units_traded += float(traded)
    return exits(model, corps, solvers)


def exits(model: ModelState, corps: list[Corporation], solvers: list[Solver]) -> tuple[int, int]:
    """Mark agents past their grace period below their outside option as exited.

    Returns:
        Corporations and solvers that exited this round (banned Sybil identities included).
    """
    grace = model.config.agents.grace_rounds
    counts = []
    for group in (corps, solvers):
        leaving = [a for a in group if a.should_exit(model.round, grace)]
        for agent in leaving:
            agent.exited = model.round
        counts.append(sum(a.exited == model.round for a in group))
    return counts[0], counts[1]
