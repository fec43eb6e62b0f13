"""The records stage: each round's trades, adversaries and row, and the agents' table."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

import mechanisms
from agents import Corporation, Solver, Validator
from sim.config import ADVERSARIES
from sim.metrics import gini, hhi
from sim.round.records import (
    Observations,
    Rewards,
    RoundMarket,
    RoundRow,
    Settlement,
    Slashing,
)
from sim.round.settlement import proofs

if TYPE_CHECKING:
    from sim.round.state import ModelState


def record_trades(
    model: ModelState, rm: RoundMarket, settled: Settlement, real: np.ndarray
) -> None:
    """Append the round's executed trades to the trades table.

    ``real`` are the positions of the trades also started as real ground-truth jobs; the
    market's proof outcomes are drawn from the detection table for every trade.
    """
    rows, cols, units = settled.trades
    if rows.size == 0:
        return
    corps, solvers, tasks = rm.corporations, rm.solvers, rm.tasks
    kinds = np.asarray(model.config.market.task_kinds)
    verified = (
        pd.array(~settled.model_rejected[cols], dtype="boolean")
        if settled.verified
        else pd.array([pd.NA] * rows.size, dtype="boolean")
    )
    quality, evaluation = proofs(model, rm)
    proof_kind = np.select(
        [quality & evaluation[cols], evaluation[cols]],
        ["quality+evaluation", "evaluation"],
        "quality" if quality else "none",
    )
    model.trades.append(
        pd.DataFrame(
            {
                "round": model.round,
                "seller": np.array([c.unique_id for c in corps])[rows],
                "buyer": np.array([s.unique_id for s in solvers])[cols],
                "units": units,
                "price": settled.seller_price[rows, cols],
                "buyer_price": settled.buyer_price[rows, cols],
                "task_kind": kinds[tasks.kind[cols]],
                "task_industry": tasks.industry[cols],
                "seller_industry": np.array([c.industry for c in corps])[rows],
                "seller_quality": rm.quality[rows],
                "seller_true_quality": rm.true_quality[rows],
                "fee": tasks.fee[cols],
                "true_cost": rm.cost[rows, cols],
                "true_value": rm.value[rows, cols],
                "fhe": np.full(rows.size, model.config.crypto.encryption),
                "proof": rm.proof[cols],
                "proof_kind": proof_kind,
                "proof_verified": verified,
                "ground_truth": np.isin(np.arange(rows.size), real),
            }
        )
    )


def record_adversaries(
    model: ModelState,
    rm: RoundMarket,
    settled: Settlement,
    slashing: Slashing,
    extracted: dict[str, float],
) -> None:
    """Append the round's rows of the adversaries table (every kind, zeros included).

    Besides the adversary kinds, a row ``honest`` holds what checks did to honest agents:
    their misflagged trades and the tokens slashed from them (no attempts, nothing
    extracted).
    """
    kinds = ("honest", *ADVERSARIES)
    slashed = dict.fromkeys(kinds, 0.0)
    for agents, amounts in (
        (rm.corporations, slashing.corporations),
        (rm.solvers, slashing.solvers),
    ):
        for agent, amount in zip(agents, amounts, strict=True):
            slashed[agent.adversary or "honest"] += float(amount)
    model.adversaries.append(
        pd.DataFrame(
            {
                "round": model.round,
                "adversary": list(kinds),
                "attempts": [settled.attempts.get(a, 0) for a in kinds],
                "detected": [settled.detected.get(a, 0) for a in kinds],
                "misflagged": [settled.misflagged[a] for a in kinds],
                "slashed": [slashed[a] for a in kinds],
                "extracted": [extracted.get(a, 0.0) for a in kinds],
            }
        )
    )


def agents_frame(model: ModelState) -> pd.DataFrame:
    """One row per agent that ever joined (validators included), with its state now."""
    rows = []
    market_agents = list(model.agents_by_type.get(Corporation, [])) + list(
        model.agents_by_type.get(Solver, [])
    )
    reputation = model.reputation.value([a.unique_id for a in market_agents])
    for agent, rep in zip(market_agents, reputation, strict=True):
        corp = isinstance(agent, Corporation)
        rows.append(
            {
                "agent": agent.unique_id,
                "kind": agent.kind,
                "strategy": agent.strategy.name,
                "report_factor": agent.strategy.factor,
                "adversary": agent.adversary or "",
                "industry": agent.industry if corp else -1,
                "units": agent.supply if corp else agent.capacity,
                "quality": agent.quality if corp else float("nan"),
                "true_quality": agent.true_quality if corp else float("nan"),
                "unit_cost": agent.sharing_cost if corp else agent.processing_cost,
                "stake": agent.stake,
                "reputation": float(rep),
                "entered": agent.entered,
                "exited": -1 if agent.exited is None else agent.exited,
                "active": agent.active,
                "running_utility": agent.running_utility,
                "utility_total": agent.utility_total,
                "units_traded": agent.units_traded,
                "money": model.ledger.balance("money", agent.unique_id),
                "tokens": model.ledger.balance("tokens", agent.unique_id),
            }
        )
    for validator in model.agents_by_type.get(Validator, []):
        rows.append(
            {
                "agent": validator.unique_id,
                "kind": validator.kind,
                "strategy": "honest" if validator.honest else "dishonest",
                "report_factor": 0.0,
                "adversary": "" if validator.honest else "dishonest_validator",
                "industry": -1,
                "units": 0.0,
                "quality": float("nan"),
                "true_quality": float("nan"),
                "unit_cost": float("nan"),
                "stake": validator.stake,
                "reputation": float("nan"),
                "entered": 0,
                "exited": -1,
                "active": True,
                "running_utility": float("nan"),
                "utility_total": float("nan"),
                "units_traded": 0.0,
                "money": model.ledger.balance("money", validator.unique_id),
                "tokens": model.ledger.balance("tokens", validator.unique_id),
            }
        )
    return pd.DataFrame(rows).sort_values("agent", ignore_index=True)


def realized_welfare(rm: RoundMarket, settled: Settlement) -> float:
    """Welfare of the executed trades on true costs and values (a lazy model is worthless)."""
    sellers, buyers, units = settled.trades
    realized = np.where(settled.lazy[buyers], 0.0, rm.value[sellers, buyers])
    return float(((realized - rm.cost[sellers, buyers]) * units).sum())


def optimal_welfare(model: ModelState, rm: RoundMarket, realized: float) -> float:
    """The planner's optimum on true values, ``nan`` unless ``compute_optimum``.

    The executed trades are a feasible allocation of the true market, so their welfare
    ``realized`` (:func:`realized_welfare`) is a lower bound of the optimum too: the larger
    of it and the planner's is recorded (every solver is exact only to its floating-point
    tolerance), and efficiency never exceeds 1.
    """
    cfg = model.config
    if not cfg.compute_optimum:
        return float("nan")
    planned = mechanisms.welfare.optimum(rm.true, solver=cfg.welfare_solver).info["welfare"]
    return max(planned, realized)


def round_row(
    model: ModelState,
    rm: RoundMarket,
    outcome: mechanisms.Outcome,
    settled: Settlement,
    rewards: Rewards,
    slashing: Slashing,
    observed: Observations,
) -> RoundRow:
    """The round's row of ``rounds.parquet``."""
    cfg = model.config
    corps, solvers, (sellers, buyers, units) = rm.corporations, rm.solvers, settled.trades
    welfare, optimal = observed.welfare, observed.optimal
    volume = float(units.sum())
    revenue = float((settled.seller_price[sellers, buyers] * units).sum())
    sold, bought = settled.sold, settled.bought
    tokens_v, accuracy = rewards.validators, observed.accuracy
    entered, exited = observed.entered, observed.exited
    reputation = model.reputation.value([s.unique_id for s in solvers])
    nan = float("nan")
    initial = sum(c.entered == 0 for c in model.agents_by_type.get(Corporation, []))
    first = np.array([c.entered == 0 for c in corps], dtype=bool)
    industry = np.array([c.industry for c in corps], dtype=int)
    rival = industry[sellers] == rm.tasks.industry[buyers]
    return RoundRow(
        round=model.round,
        mechanism=model.regime.market.label(model),
        incentives=cfg.incentives.regime,
        welfare=welfare,
        optimal_welfare=optimal,
        efficiency=welfare / optimal if optimal > 1e-9 else nan,
        price=outcome.price if outcome.price is not None and volume > 0 else nan,
        volume=volume,
        trades=int(units.size),
        rejected_trades=settled.rejected,
        seller_revenue=revenue,
        protocol_surplus=float((settled.buyer_price[sellers, buyers] * units).sum()) - revenue,
        corporations_active=len(corps),
        corporations_trading=int((sold > 0).sum()),
        corporations_entered=entered[0],
        corporations_exited=exited[0],
        solvers_active=len(solvers),
        solvers_trading=int((bought > 0).sum()),
        solvers_entered=entered[1],
        solvers_exited=exited[1],
        compatible_share=float(rm.compatible.mean()) if rm.compatible.size else nan,
        solver_hhi=hhi(bought),
        solver_reward_hhi=hhi(rewards.solvers),
        reward_gini=gini(np.concatenate([rewards.corporations, rewards.solvers, tokens_v])),
        mean_reputation=float(reputation.mean()) if len(solvers) else nan,
        emission=float(rewards.corporations.sum() + rewards.solvers.sum() + tokens_v.sum()),
        gt_jobs=observed.gt_jobs,
        model_accuracy=float(accuracy.mean()) if len(solvers) else nan,
        data_share=float((sold > 0).mean()) if len(corps) else nan,
        initial_active=float(first.sum() / initial) if initial else nan,
        initial_sharing=float((first & (sold > 0)).sum() / initial) if initial else nan,
        competitor_volume=float(units[rival].sum()),
        competitor_sellers=int(np.unique(sellers[rival]).size),
        tokens_corporations=float(rewards.corporations.sum()),
        tokens_solvers=float(rewards.solvers.sum()),
        tokens_validators=float(tokens_v.sum()),
        revenue_shared=float(rewards.revenue.sum()),
        slashed=float(slashing.corporations.sum() + slashing.solvers.sum()),
        burned=slashing.burned,
        cheat_attempts=sum(settled.attempts.values()),
        detections=sum(settled.detected.values()),
        false_positives=settled.false_positives,
        extracted=float(sum(observed.extracted.values())),
    )


def concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    """Stack ``frames``; the documented ``columns`` first (an empty table has just them)."""
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in columns})
    frame = pd.concat(frames, ignore_index=True)
    return frame[columns + [c for c in frame.columns if c not in columns]]
