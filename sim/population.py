"""The population: agents drawn on entry, their endowments and stakes, and arrivals.

Every draw comes from the model's generator (validators' stakes from their own stream), in
the order the functions make them, so the same seed gives the same population.
"""

from __future__ import annotations

from copy import deepcopy
from typing import TYPE_CHECKING

import numpy as np

from agents import STRATEGIES, Corporation, Intent, MarketAgent, Solver, Strategy, Validator
from agents.strategies import takes
from sim.ledger import STAKE, WORLD

if TYPE_CHECKING:
    from sim.round.state import ModelState


def draw_strategy(model: ModelState, mix: dict[str, float], side: str) -> Strategy:
    """A strategy drawn from ``mix`` (name -> weight) with the agents' parameters.

    A strategy whose constructor takes ``rng`` (a learner that draws its own factors) gets a
    generator seeded from the model's; a plug-in strategy the config has no parameters for
    is built with its side (and ``rng``) alone.
    """
    names = sorted(mix)
    weights = np.array([mix[n] for n in names], dtype=float)
    name = names[model.rng.choice(len(names), p=weights / weights.sum())]
    agents, learner = model.config.agents, model.config.agents.learner
    params = {
        "markup": {"factor": agents.markup},
        "shading": {"factor": agents.shading},
        "fill_rate": {"step": agents.fill_rate_step, "max_factor": agents.fill_rate_max},
        "exp3": {
            "max_factor": learner.max_markup if side == "sell" else learner.max_shading,
            "factors": learner.factors,
            "eta": learner.eta,
            "exploration": learner.exploration,
        },
    }.get(name, {})
    cls = STRATEGIES[name]
    if takes(cls, "rng"):
        params = {**params, "rng": np.random.default_rng(model.rng.integers(2**63))}
    return cls(side, **params)


def draw_intent(model: ModelState, industry: int) -> Intent:
    """The intent a corporation of ``industry`` posts, drawn by the intent policy."""
    market, policy = model.config.market, model.config.market.intent
    if market.homogeneous:
        return Intent(
            allowed_kinds=frozenset(market.task_kinds),
            min_price=float(model.rng.uniform(0, policy.min_price_high)),
            require_fhe=False,
            require_proof=False,
            expiry=model.round + policy.duration - 1,
        )
    kinds = [k for k in market.task_kinds if model.rng.random() < policy.allow_kind_prob]
    if not kinds:
        kinds = [market.task_kinds[model.rng.integers(len(market.task_kinds))]]
    exclude = model.rng.random() < policy.exclude_own_industry_prob
    min_price = float(model.rng.uniform(0, policy.min_price_high))
    fhe = bool(model.rng.random() < policy.require_fhe_prob)
    proof = bool(model.rng.random() < policy.require_proof_prob)
    crypto = model.config.crypto.encryption  # without it, nobody can require FHE or proofs
    return Intent(
        allowed_kinds=frozenset(kinds),
        excluded_industries=frozenset({industry} if exclude else set()),
        min_price=min_price,
        require_fhe=fhe and crypto,
        require_proof=proof and crypto,
        expiry=model.round + policy.duration - 1,
    )


def add_corporations(model: ModelState, k: int) -> list[Corporation]:
    """Create ``k`` corporations with attributes drawn from the market config.

    A Sybil corporation enters as ``sybil_identities`` identities sharing one dataset
    and supply; each identity is a :class:`Corporation` of its own.
    """
    market, cfg = model.config.market, model.config
    adv = cfg.agents.adversaries
    new = []
    for _ in range(k):
        industry = int(model.rng.integers(market.n_industries))
        quality = float(np.clip(model.rng.beta(market.quality_alpha, market.quality_beta), 0.05, 1))
        if market.homogeneous:  # the draw still happens: same stream as heterogeneous
            quality = 1.0
        supply = float(model.rng.uniform(market.supply_low, market.supply_high))
        sharing_cost = float(model.rng.uniform(market.sharing_cost_low, market.sharing_cost_high))
        intent = draw_intent(model, industry)
        strategy_draw = draw_strategy(model, cfg.agents.corporation_strategies, "sell")
        role = _role(model.rng.random(), {"poisoner": adv.poisoner, "sybil": adv.sybil})
        open_data = bool(model.rng.random() < cfg.incentives.yuma.open_data_prob)
        intent = model.regime.market.intent(intent, open_data)
        identities = adv.sybil_identities if role == "sybil" else 1
        group = None
        if role == "sybil":
            group, model.sybil_groups = model.sybil_groups, model.sybil_groups + 1
        for identity in range(identities):
            corp = Corporation(
                model,
                industry=industry,
                supply=supply / identities,
                quality=quality,
                sharing_cost=sharing_cost,
                competitor_premium=0.0 if market.homogeneous else market.competitor_premium,
                intent=intent,
                strategy=strategy_draw if identity == 0 else deepcopy(strategy_draw),
                outside_option=cfg.agents.corporation_outside_option,
                entered=model.round,
            )
            corp.adversary = role
            corp.open_data = open_data
            corp.sybil_group = group
            if role == "poisoner":
                corp.true_quality = adv.poison_quality
            rows = max(2, cfg.incentives.data_value.rows_per_corporation // identities)
            model.pool.add(corp.unique_id, industry, corp.true_quality, rows)
            endow(model, corp)
            lock_stake(model, corp, cfg.incentives.staking.corporation_stake)
            new.append(corp)
    return new


def add_solvers(model: ModelState, k: int) -> list[Solver]:
    """Create ``k`` solvers with attributes drawn from the market config."""
    market = model.config.market
    adv = model.config.agents.adversaries
    new = []
    for _ in range(k):
        solver = Solver(
            model,
            capacity=float(model.rng.uniform(market.capacity_low, market.capacity_high)),
            speed=float(model.rng.lognormal(0.0, market.speed_sigma)),
            compute_price=float(
                model.rng.uniform(market.compute_price_low, market.compute_price_high)
            ),
            seconds_per_unit=model.seconds_per_unit,
            stake=float(model.rng.uniform(market.stake_low, market.stake_high)),
            fhe_capable=bool(model.rng.random() < market.fhe_capable_prob),
            proof_capable=bool(model.rng.random() < market.proof_capable_prob),
            strategy=draw_strategy(model, model.config.agents.solver_strategies, "buy"),
            outside_option=model.config.agents.solver_outside_option,
            entered=model.round,
        )
        solver.adversary = _role(model.rng.random(), {"lazy": adv.lazy, "colluder": adv.colluder})
        stake, solver.stake = solver.stake, 0.0
        endow(model, solver)
        lock_stake(model, solver, stake)
        new.append(solver)
    return new


def add_validators(model: ModelState, k: int) -> list[Validator]:
    """Create ``k`` validators; the first ``round(dishonest_share * k)`` are dishonest."""
    cfg = model.config.incentives.validators
    dishonest = round(cfg.dishonest_share * k)
    new = []
    for index in range(k):
        validator = Validator(
            model,
            stake=0.0,
            honest=index >= dishonest,
            noise=cfg.noise,
        )
        model.ledger.open(validator.unique_id)
        amount = float(model.validator_rng.uniform(cfg.stake_low, cfg.stake_high))
        lock_stake(model, validator, amount)
        new.append(validator)
    return new


def lock_stake(model: ModelState, agent: MarketAgent | Validator, amount: float) -> None:
    """Mint ``amount`` tokens to ``agent`` and lock them in the stake account."""
    if amount <= 0:
        return
    model.ledger.mint(agent.unique_id, amount)
    model.ledger.transfer("tokens", agent.unique_id, STAKE, amount)
    model.issued += amount
    agent.stake += amount


def endow(model: ModelState, agent: MarketAgent) -> None:
    """Open ``agent``'s account with the money endowment."""
    model.ledger.open(agent.unique_id)
    model.ledger.transfer("money", WORLD, agent.unique_id, model.config.market.money_endowment)


def arrivals(model: ModelState) -> tuple[int, int]:
    """Poisson arrivals of corporations and solvers, more the larger the other side is.

    Returns:
        Corporations and solvers that arrived.
    """
    agents, market = model.config.agents, model.config.market
    n_corps, n_solvers = len(model.active(Corporation)), len(model.active(Solver))
    pull_c = (n_solvers / market.n_solvers) ** agents.network_elasticity
    pull_s = (n_corps / market.n_corporations) ** agents.network_elasticity
    rate_c = agents.corporation_arrival_rate * market.n_corporations
    rate_s = agents.solver_arrival_rate * market.n_solvers
    k_c = int(model.rng.poisson(rate_c * pull_c))
    k_s = int(model.rng.poisson(rate_s * pull_s))
    add_corporations(model, k_c)
    add_solvers(model, k_s)
    return k_c, k_s


def _role(draw: float, shares: dict[str, float]) -> str | None:
    """The adversary role a uniform ``draw`` picks, or ``None`` (honest).

    The roles take their shares of ``[0, 1)`` in order; the rest of it is honest.
    """
    edge = 0.0
    for role, share in shares.items():
        edge += share
        if draw < edge:
            return role
    return None
