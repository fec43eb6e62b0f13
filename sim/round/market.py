"""The market stage: this round's tasks, intents, true costs and values, and reports."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

import mechanisms
from agents import Corporation, MarketAgent, Solver, compatibility
from agents.market_agents import asks, bids, sharing_costs
from sim.round.records import RoundMarket

if TYPE_CHECKING:
    from sim.round.state import ModelState


def draw_market(model: ModelState) -> RoundMarket:
    """This round's market: tasks, renewed intents, true values and the agents' reports.

    Draws from the model's generator, so it advances the run.
    """
    cfg, r = model.config, model.round
    corps, solvers = model.active(Corporation), model.active(Solver)
    m = len(solvers)
    tasks = model.task_stream.draw(m, model.rng)
    duration = cfg.market.intent.duration
    for corp in corps:
        if r > corp.intent.expiry:
            corp.intent = dataclasses.replace(corp.intent, expiry=r + duration - 1)

    leak = 0.0 if cfg.crypto.encryption else cfg.crypto.leakage_cost  # shared in the clear
    kappa = sharing_costs(corps, tasks.industry) + leak
    quality = np.array([c.quality for c in corps])
    true_quality = np.array([c.true_quality for c in corps])
    proc_cost = np.array([s.processing_cost for s in solvers])
    effort, dilution = cfg.market.congested(m)  # rivals crowd each solver (Chitra et al. 2024)
    proc_cost = proc_cost * effort
    tasks = dataclasses.replace(tasks, fee=tasks.fee * dilution)
    # solvers value data net of the revenue share they will pay back on the fees
    keep = 1 - cfg.incentives.revenue_share if model.regime.rewards.shares_revenue else 1
    believed = keep * quality[:, None] * tasks.fee[None, :] - proc_cost[None, :]
    value = true_quality[:, None] * tasks.fee[None, :] - proc_cost[None, :]
    fhe = np.array([s.fhe_capable for s in solvers], dtype=bool)
    proof = np.array([s.proof_capable for s in solvers], dtype=bool)
    compatible = compatibility(
        [c.intent for c in corps],
        kinds=cfg.market.task_kinds,
        task_kind=tasks.kind,
        task_industry=tasks.industry,
        fhe_capable=fhe,
        proof_capable=proof,
        round=r,
    )
    supply = np.array([c.supply for c in corps])
    can_bid = eligible(model, solvers)
    capacity = np.where(can_bid, [s.capacity for s in solvers], 0.0)
    shading = cfg.agents.adversaries.collusion_shading * plays(solvers, "colluder")
    if cfg.market.homogeneous:  # one cost per seller, one value per buyer, no restrictions
        cost = np.array([c.sharing_cost for c in corps]) + leak
        worth = tasks.fee - proc_cost
        net = keep * tasks.fee - proc_cost
        ask = asks(corps, cost)
        bid = bids(solvers, net)
        bid = bid - shading * np.abs(bid)
        reported = mechanisms.Market(supply, capacity, ask, bid)
        true = mechanisms.Market(supply, capacity, cost, worth)
    else:
        ask = asks(corps, kappa)
        bid = bids(solvers, believed.T).T
        if shading.any():  # colluders shade together
            bid = bid - shading[None, :] * np.abs(bid)
        reported = mechanisms.Market(supply, capacity, ask, bid, compatible)
        true = mechanisms.Market(supply, capacity, kappa, value, compatible)

    return RoundMarket(
        corps,
        solvers,
        tasks,
        kappa,
        value,
        quality,
        true_quality,
        can_bid,
        proc_cost,
        fhe,
        proof,
        compatible,
        supply,
        capacity,
        reported,
        true,
    )


def staked(model: ModelState, solvers: list[Solver]) -> np.ndarray:
    """Solvers whose stake meets ``staking.solver_min_stake``."""
    stake = np.array([s.stake for s in solvers])
    return stake >= model.config.incentives.staking.solver_min_stake - 1e-12


def eligible(model: ModelState, solvers: list[Solver]) -> np.ndarray:
    """Solvers whose stake and reputation meet the thresholds to bid."""
    reputation = model.reputation.value([s.unique_id for s in solvers])
    return staked(model, solvers) & (reputation >= model.config.incentives.reputation.min_to_bid)


def plays(agents: list[MarketAgent], role: str) -> np.ndarray:
    """Which of ``agents`` play adversary ``role``."""
    return np.array([a.adversary == role for a in agents], dtype=bool)
