"""The enforcement stage: rewards, slashing, reputation, and what cheaters took.

Rewards are minted by the regime's reward rule, caught agents slashed, reputations
updated, and the value cheaters took from others measured.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from sim.config import ADVERSARIES
from sim.ledger import MINT, STAKE
from sim.round.market import plays
from sim.round.records import Rewards, RoundMarket, Settlement, Slashing

if TYPE_CHECKING:
    from sim.round.state import ModelState


def mint_rewards(
    model: ModelState, rm: RoundMarket, settled: Settlement, accuracy: np.ndarray
) -> Rewards:
    """Mint the round's tokens by the regime's reward rule (which also shares revenue)."""
    rewards = model.regime.rewards.reward(model, rm, settled, accuracy)
    for agents, tokens in (
        (rm.corporations, rewards.corporations),
        (rm.solvers, rewards.solvers),
        (model.validators(), rewards.validators),
    ):
        if len(agents):
            model.ledger.mint([a.unique_id for a in agents], tokens)
            model.issued += float(tokens.sum())
    return rewards


def slash(model: ModelState, rm: RoundMarket, settled: Settlement) -> Slashing:
    """Slash agents caught this round by ``slash_fraction`` of their stake.

    The tokens are burned or handed to validators by stake. Caught Sybil identities
    are banned.

    Returns:
        Tokens slashed per corporation and per solver, and tokens burned.
    """
    staking = model.config.incentives.staking
    slashed = []
    burned = 0.0
    validators = model.validators()
    stake_v = np.array([v.stake for v in validators])
    for agents, caught in (
        (rm.corporations, settled.caught_corporations),
        (rm.solvers, settled.caught_solvers),
    ):
        amounts = np.zeros(len(agents))
        for k in np.flatnonzero(caught):
            agent = agents[k]
            amounts[k] = staking.slash_fraction * agent.stake
            agent.stake -= amounts[k]
            if agent.adversary == "sybil":
                agent.exited = model.round
        total = float(amounts.sum())
        if total > 0:
            if staking.slashed_to == "redistribute":  # validators hold stake (config check)
                model.ledger.transfer(
                    "tokens",
                    STAKE,
                    [v.unique_id for v in validators],
                    total * stake_v / stake_v.sum(),
                )
            else:
                model.ledger.transfer("tokens", STAKE, MINT, total)
                model.issued -= total
                burned += total
        slashed.append(amounts)
    return Slashing(slashed[0], slashed[1], burned)


def update_reputation(model: ModelState, rm: RoundMarket, settled: Settlement) -> None:
    """Verified trades count as successes, caught ones as failures."""
    trades = settled.trades
    model.reputation.update(
        [c.unique_id for c in rm.corporations],
        np.bincount(trades.sellers, minlength=len(rm.corporations)),
        settled.caught_corporations,
    )
    model.reputation.update(
        [s.unique_id for s in rm.solvers],
        np.bincount(trades.buyers, minlength=len(rm.solvers)) * ~settled.model_rejected,
        settled.caught_solvers,
    )


def extracted(
    model: ModelState,
    rm: RoundMarket,
    settled: Settlement,
    rewards: Rewards,
) -> dict[str, float]:
    """Value cheaters took from others this round, by adversary kind (money units).

    * poisoner: fees task clients paid for quality the data did not have;
    * lazy: fees task clients paid for a random model, and the token value of the
      rewards the undetected lazy solver earned;
    * sybil: token value the identities earned beyond their group's share of
      quality-weighted units among the round's contributors;
    * colluder: the per-unit price colluders avoided (against the same market
      cleared with their bids unshaded) times the units they bought.
    """
    corps, solvers, (sellers, buyers, units) = rm.corporations, rm.solvers, settled.trades
    fee = rm.tasks.fee
    poisoner, sybil, colluder = (
        plays(corps, "poisoner"),
        plays(corps, "sybil"),
        plays(solvers, "colluder"),
    )
    out = dict.fromkeys(ADVERSARIES, 0.0)
    gap = (rm.quality - rm.true_quality)[sellers] * fee[buyers]
    out["poisoner"] = float((gap * units)[poisoner[sellers]].sum())
    undetected = settled.lazy & ~settled.model_rejected
    price = model.config.incentives.token_price
    out["lazy"] = float((settled.fees + price * rewards.solvers)[undetected].sum())
    tokens_c = rewards.corporations
    if sybil.any() and tokens_c.sum() > 0:
        weighted = rm.quality * settled.sold
        fair = tokens_c.sum() * weighted[sybil].sum() / weighted.sum()
        out["sybil"] = price * float(tokens_c[sybil].sum() - fair)
    bought = settled.bought
    if (colluder & (bought > 0)).any() and model.regime.market.priced:
        reported = rm.reported
        shading = model.config.agents.adversaries.collusion_shading
        bid = reported.bid.copy()
        shaded = bid[..., colluder]
        bid[..., colluder] = np.where(
            shaded >= 0, shaded / (1 - shading), shaded / (1 + shading)
        )  # the bids the colluders would have made
        counter = model.mechanism.clear(
            dataclasses.replace(reported, bid=bid),
            rng=np.random.default_rng([model.config.seed, model.round]),
        )
        got = counter.allocation.sum(axis=0)
        paid = settled.trades.per_buyer(settled.buyer_price[sellers, buyers] * units, len(solvers))
        price = np.divide(paid, bought, out=np.zeros_like(paid), where=bought > 0)
        price_cf = np.divide(counter.buyer_payment, got, out=price.copy(), where=got > 1e-9)
        out["colluder"] = float(((price_cf - price) * bought)[colluder].sum())
    return out
