"""The Mesa model of the intent-based data market: one round per ``step``.

A round: arrivals; tasks; intents; true costs and values; reports; clearing; settlement
through escrow with an intent check on every trade; execution (task fees in, compute
costs out); token emission; utilities, learning and exits; metrics; a ledger check.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import mesa
import numpy as np
import pandas as pd

import mechanisms
from agents import STRATEGIES, Corporation, Intent, MarketAgent, Solver, Strategy, compatibility
from sim.config import SimConfig
from sim.ledger import ESCROW, STAKE, TREASURY, WORLD, Ledger
from sim.metrics import gini, hhi
from sim.tasks import Tasks, TaskStream

ROUND_COLUMNS = [
    "round",
    "mechanism",
    "incentives",
    "welfare",
    "optimal_welfare",
    "efficiency",
    "price",
    "volume",
    "trades",
    "rejected_trades",
    "seller_revenue",
    "protocol_surplus",
    "corporations_active",
    "corporations_trading",
    "corporations_entered",
    "corporations_exited",
    "solvers_active",
    "solvers_trading",
    "solvers_entered",
    "solvers_exited",
    "compatible_share",
    "solver_hhi",
    "reward_gini",
    "mean_reputation",
    "emission",
    "gt_jobs",
]
TRADE_COLUMNS = [
    "round",
    "seller",
    "buyer",
    "units",
    "price",
    "buyer_price",
    "task_kind",
    "task_industry",
    "seller_industry",
    "seller_quality",
    "fee",
    "true_cost",
    "true_value",
    "fhe",
    "proof",
    "proof_verified",
]
REJECTED_COLUMNS = ["round", "seller", "buyer", "units", "price", "reason"]
GT_COLUMNS = [
    "round", "seller", "buyer", "units", "kind", "rows", "features", "ok", "seconds",
    "peak_rss_mb", "bytes_produced", "error",
]  # fmt: skip


class RoundMarket(NamedTuple):
    """One round's market as the model draws it (see :meth:`MarketModel.draw_market`).

    ``cost`` and ``value`` are the true per-pair sharing costs and net values ``(n, m)``;
    ``reported`` is the market the mechanism clears, ``true`` the same market on true values.
    """

    corporations: list[Corporation]
    solvers: list[Solver]
    tasks: Tasks
    cost: np.ndarray
    value: np.ndarray
    quality: np.ndarray
    processing_cost: np.ndarray
    fhe: np.ndarray
    proof: np.ndarray
    compatible: np.ndarray
    supply: np.ndarray
    capacity: np.ndarray
    reported: mechanisms.Market
    true: mechanisms.Market


class MarketModel(mesa.Model):
    """The market simulation.

    Args:
        config: the validated run configuration; ``config.seed`` seeds ``self.rng``.

    Attributes:
        ledger: money and token balances of every account.
        round: index of the next round to run (0-based).
    """

    def __init__(self, config: SimConfig) -> None:
        super().__init__(rng=config.seed)
        self.config = config
        market = config.market
        self.mechanism = config.mechanism.build()
        self.task_stream = TaskStream(
            market.task_kinds, market.n_industries, market.fee_low, market.fee_high
        )
        self.seconds_per_unit = config.crypto.cost_model().seconds_per_unit()
        self.ledger = Ledger()
        self.round = 0
        self.issued = 0.0
        self.trades: list[pd.DataFrame] = []
        self.measurements: list[dict] = []
        # Ground-truth sampling draws from its own stream, derived from the seed, so that
        # turning it on does not change the simulated market.
        self.ground_truth_rng = np.random.default_rng([config.seed, 0x67745F])
        self.rejected: list[pd.DataFrame] = []
        self.datacollector = mesa.DataCollector(tables={"rounds": ROUND_COLUMNS})
        self.add_corporations(market.n_corporations)
        self.add_solvers(market.n_solvers)

    # ------------------------------------------------------------------ population

    def _strategy(self, mix: dict[str, float], side: str) -> Strategy:
        names = sorted(mix)
        weights = np.array([mix[n] for n in names], dtype=float)
        name = names[self.rng.choice(len(names), p=weights / weights.sum())]
        agents = self.config.agents
        params = {
            "markup": {"factor": agents.markup},
            "shading": {"factor": agents.shading},
            "adaptive": {"step": agents.adaptive_step, "max_factor": agents.adaptive_max},
        }.get(name, {})
        return STRATEGIES[name](side, **params)

    def _intent(self, industry: int) -> Intent:
        market, policy = self.config.market, self.config.market.intent
        if market.homogeneous:
            return Intent(
                allowed_kinds=frozenset(market.task_kinds),
                min_price=float(self.rng.uniform(0, policy.min_price_high)),
                require_fhe=False,
                require_proof=False,
                expiry=self.round + policy.duration - 1,
            )
        kinds = [k for k in market.task_kinds if self.rng.random() < policy.allow_kind_prob]
        if not kinds:
            kinds = [market.task_kinds[self.rng.integers(len(market.task_kinds))]]
        exclude = self.rng.random() < policy.exclude_own_industry_prob
        return Intent(
            allowed_kinds=frozenset(kinds),
            excluded_industries=frozenset({industry} if exclude else set()),
            min_price=float(self.rng.uniform(0, policy.min_price_high)),
            require_fhe=bool(self.rng.random() < policy.require_fhe_prob),
            require_proof=bool(self.rng.random() < policy.require_proof_prob),
            expiry=self.round + policy.duration - 1,
        )

    def add_corporations(self, k: int) -> list[Corporation]:
        """Create ``k`` corporations with attributes drawn from the market config."""
        market = self.config.market
        new = []
        for _ in range(k):
            industry = int(self.rng.integers(market.n_industries))
            quality = float(
                np.clip(self.rng.beta(market.quality_alpha, market.quality_beta), 0.05, 1)
            )
            if market.homogeneous:  # the draw still happens: same stream as heterogeneous
                quality = 1.0
            corp = Corporation(
                self,
                industry=industry,
                supply=float(self.rng.uniform(market.supply_low, market.supply_high)),
                quality=quality,
                sharing_cost=float(
                    self.rng.uniform(market.sharing_cost_low, market.sharing_cost_high)
                ),
                competitor_premium=0.0 if market.homogeneous else market.competitor_premium,
                intent=self._intent(industry),
                strategy=self._strategy(self.config.agents.corporation_strategies, "sell"),
                outside_option=self.config.agents.corporation_outside_option,
                entered=self.round,
            )
            self._endow(corp)
            new.append(corp)
        return new

    def add_solvers(self, k: int) -> list[Solver]:
        """Create ``k`` solvers with attributes drawn from the market config."""
        market = self.config.market
        new = []
        for _ in range(k):
            solver = Solver(
                self,
                capacity=float(self.rng.uniform(market.capacity_low, market.capacity_high)),
                speed=float(self.rng.lognormal(0.0, market.speed_sigma)),
                compute_price=float(
                    self.rng.uniform(market.compute_price_low, market.compute_price_high)
                ),
                seconds_per_unit=self.seconds_per_unit,
                stake=float(self.rng.uniform(market.stake_low, market.stake_high)),
                fhe_capable=bool(self.rng.random() < market.fhe_capable_prob),
                proof_capable=bool(self.rng.random() < market.proof_capable_prob),
                strategy=self._strategy(self.config.agents.solver_strategies, "buy"),
                outside_option=self.config.agents.solver_outside_option,
                entered=self.round,
            )
            self._endow(solver)
            self.ledger.mint(solver.unique_id, solver.stake)
            self.ledger.transfer("tokens", solver.unique_id, STAKE, solver.stake)
            self.issued += solver.stake
            new.append(solver)
        return new

    def _endow(self, agent: MarketAgent) -> None:
        self.ledger.open(agent.unique_id)
        self.ledger.transfer("money", WORLD, agent.unique_id, self.config.market.money_endowment)

    def active(self, agent_type: type[MarketAgent]) -> list:
        """Active agents of one type, in creation order."""
        return [a for a in self.agents_by_type.get(agent_type, []) if a.active]

    # ------------------------------------------------------------------ one round

    def step(self) -> None:
        """Run one round and record it."""
        cfg, r = self.config, self.round
        entered = self._arrivals() if r > 0 else (0, 0)
        rm = self.draw_market()
        corps, solvers, tasks = rm.corporations, rm.solvers, rm.tasks
        n, m = len(corps), len(solvers)
        kappa, value, quality, proc_cost = rm.cost, rm.value, rm.quality, rm.processing_cost
        fhe, proof, compatible = rm.fhe, rm.proof, rm.compatible
        supply, capacity, reported, true = rm.supply, rm.capacity, rm.reported, rm.true

        outcome = self.mechanism.clear(reported, rng=self.rng)
        accepted, seller_price, buyer_price, rejected = self._settle(
            corps, solvers, tasks, outcome, fhe, proof
        )
        self._execute(solvers, tasks, quality, proc_cost, accepted)
        gt_jobs = self._ground_truth(corps, solvers, accepted)
        tokens_c, tokens_s = self._emit(corps, solvers, quality, accepted)

        price = cfg.incentives.token_price
        gain_c = ((seller_price[:, None] - kappa) * accepted).sum(axis=1) + price * tokens_c
        gain_s = ((value - buyer_price[None, :]) * accepted).sum(axis=0) + price * tokens_s
        sold, bought = accepted.sum(axis=1), accepted.sum(axis=0)
        memory = cfg.agents.utility_memory
        for agent, gain, offered, traded in zip(
            corps + solvers,
            np.concatenate([gain_c, gain_s]),
            np.concatenate([supply, capacity]),
            np.concatenate([sold, bought]),
            strict=True,
        ):
            agent.observe(float(gain), memory)
            agent.strategy.learn(float(offered), float(traded))
            agent.units_traded += float(traded)
        exited = self._exits(corps, solvers)

        welfare = float(((value - kappa) * accepted).sum())
        optimal = (
            mechanisms.welfare.optimum(true, solver=cfg.welfare_solver).info["welfare"]
            if cfg.compute_optimum
            else float("nan")
        )
        self._record_trades(
            corps, solvers, tasks, accepted, seller_price, buyer_price, kappa, value, fhe, proof
        )
        volume = float(accepted.sum())
        revenue = float((seller_price[:, None] * accepted).sum())
        self.datacollector.add_table_row(
            "rounds",
            {
                "round": r,
                "mechanism": self.mechanism.name,
                "incentives": cfg.incentives.regime,
                "welfare": welfare,
                "optimal_welfare": optimal,
                "efficiency": welfare / optimal if optimal > 1e-9 else float("nan"),
                "price": outcome.price
                if outcome.price is not None and volume > 0
                else float("nan"),
                "volume": volume,
                "trades": int((accepted > 0).sum()),
                "rejected_trades": rejected,
                "seller_revenue": revenue,
                "protocol_surplus": float((buyer_price[None, :] * accepted).sum()) - revenue,
                "corporations_active": n,
                "corporations_trading": int((sold > 0).sum()),
                "corporations_entered": entered[0],
                "corporations_exited": exited[0],
                "solvers_active": m,
                "solvers_trading": int((bought > 0).sum()),
                "solvers_entered": entered[1],
                "solvers_exited": exited[1],
                "compatible_share": float(compatible.mean()) if compatible.size else float("nan"),
                "solver_hhi": hhi(bought),
                "reward_gini": gini(np.concatenate([tokens_c, tokens_s])),
                "mean_reputation": float("nan"),
                "emission": float(tokens_c.sum() + tokens_s.sum()),
                "gt_jobs": gt_jobs,
            },
        )
        self.ledger.check(issued=self.issued)
        self.round += 1

    def draw_market(self) -> RoundMarket:
        """This round's market: tasks, renewed intents, true values and the agents' reports.

        Draws from the model's generator, so it advances the run.
        """
        cfg, r = self.config, self.round
        corps, solvers = self.active(Corporation), self.active(Solver)
        n, m = len(corps), len(solvers)
        tasks = self.task_stream.draw(m, self.rng)
        duration = cfg.market.intent.duration
        for corp in corps:
            if r > corp.intent.expiry:
                corp.intent = dataclasses.replace(corp.intent, expiry=r + duration - 1)

        kappa = np.array([c.costs(tasks.industry) for c in corps]).reshape(n, m)
        quality = np.array([c.quality for c in corps])
        proc_cost = np.array([s.processing_cost for s in solvers])
        value = quality[:, None] * tasks.fee[None, :] - proc_cost[None, :]
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
        capacity = np.array([s.capacity for s in solvers])
        if cfg.market.homogeneous:  # one cost per seller, one value per buyer, no restrictions
            cost = np.array([c.sharing_cost for c in corps])
            worth = tasks.fee - proc_cost
            ask = np.array([c.ask(cost[i : i + 1])[0] for i, c in enumerate(corps)])
            bid = np.array([s.bid(worth[j : j + 1])[0] for j, s in enumerate(solvers)])
            reported = mechanisms.Market(supply, capacity, ask, bid)
            true = mechanisms.Market(supply, capacity, cost, worth)
        else:
            ask = np.array([c.ask(kappa[i]) for i, c in enumerate(corps)]).reshape(n, m)
            bid = np.array([s.bid(value[:, j]) for j, s in enumerate(solvers)]).reshape(m, n).T
            reported = mechanisms.Market(supply, capacity, ask, bid, compatible)
            true = mechanisms.Market(supply, capacity, kappa, value, compatible)

        return RoundMarket(
            corps,
            solvers,
            tasks,
            kappa,
            value,
            quality,
            proc_cost,
            fhe,
            proof,
            compatible,
            supply,
            capacity,
            reported,
            true,
        )

    def _arrivals(self) -> tuple[int, int]:
        agents, market = self.config.agents, self.config.market
        n_corps, n_solvers = len(self.active(Corporation)), len(self.active(Solver))
        pull_c = (n_solvers / market.n_solvers) ** agents.network_elasticity
        pull_s = (n_corps / market.n_corporations) ** agents.network_elasticity
        rate_c = agents.corporation_arrival_rate * market.n_corporations
        rate_s = agents.solver_arrival_rate * market.n_solvers
        k_c = int(self.rng.poisson(rate_c * pull_c))
        k_s = int(self.rng.poisson(rate_s * pull_s))
        self.add_corporations(k_c)
        self.add_solvers(k_s)
        return k_c, k_s

    def _settle(
        self,
        corps: list[Corporation],
        solvers: list[Solver],
        tasks: Tasks,
        outcome: mechanisms.Outcome,
        fhe: np.ndarray,
        proof: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """Escrow payments, check every trade against its seller's intent, pay or refund.

        Returns:
            The accepted allocation, the per-unit seller and buyer prices, and the number of
            rejected trades.
        """
        alloc = np.where(outcome.allocation > 1e-9, outcome.allocation, 0.0)
        sold, bought = alloc.sum(axis=1), alloc.sum(axis=0)
        seller_price = np.divide(
            outcome.seller_revenue, sold, out=np.zeros_like(sold), where=sold > 0
        )
        buyer_price = np.divide(
            outcome.buyer_payment, bought, out=np.zeros_like(bought), where=bought > 0
        )
        accepted = alloc.copy()
        reasons: dict[tuple[int, int], str] = {}
        ids_s = [s.unique_id for s in solvers]
        due = buyer_price * bought
        can_pay = due <= self.ledger.balances("money", ids_s) + 1e-9
        for j in np.flatnonzero(~can_pay):
            for i in np.flatnonzero(alloc[:, j]):
                reasons[(i, j)] = "insufficient_funds"
        for i, j in zip(*np.nonzero(alloc), strict=True):
            if (i, j) in reasons:
                continue
            why = corps[i].intent.violation(
                kind=self.config.market.task_kinds[tasks.kind[j]],
                industry=int(tasks.industry[j]),
                round=self.round,
                price=float(seller_price[i]),
                fhe=bool(fhe[j]),
                proof=bool(proof[j]),
            )
            if why:
                reasons[(i, j)] = why
        for i, j in reasons:
            accepted[i, j] = 0.0
        funded = np.where(can_pay, due, 0.0)
        self.ledger.transfer("money", ids_s, ESCROW, funded)
        refund = np.where(can_pay, buyer_price * (alloc - accepted).sum(axis=0), 0.0)
        self.ledger.transfer("money", ESCROW, ids_s, refund)
        payout = seller_price * accepted.sum(axis=1)
        shortfall = payout.sum() - self.ledger.balance("money", ESCROW)
        if shortfall > 0:  # a mechanism in deficit (VCG): the protocol treasury covers it
            self.ledger.transfer("money", TREASURY, ESCROW, shortfall)
        self.ledger.transfer("money", ESCROW, [c.unique_id for c in corps], payout)
        residual = self.ledger.balance("money", ESCROW)
        if residual > 0:  # the spread of a mechanism in surplus (first price)
            self.ledger.transfer("money", ESCROW, TREASURY, residual)
        if reasons:
            keys = list(reasons)
            self.rejected.append(
                pd.DataFrame(
                    {
                        "round": self.round,
                        "seller": [corps[i].unique_id for i, _ in keys],
                        "buyer": [solvers[j].unique_id for _, j in keys],
                        "units": [alloc[i, j] for i, j in keys],
                        "price": [seller_price[i] for i, _ in keys],
                        "reason": list(reasons.values()),
                    }
                )
            )
        return accepted, seller_price, buyer_price, len(reasons)

    def _execute(
        self,
        solvers: list[Solver],
        tasks: Tasks,
        quality: np.ndarray,
        proc_cost: np.ndarray,
        accepted: np.ndarray,
    ) -> None:
        """Solvers process the data: task clients pay fees, compute providers are paid."""
        ids = [s.unique_id for s in solvers]
        self.ledger.transfer("money", WORLD, ids, tasks.fee * (quality @ accepted))
        self.ledger.transfer("money", ids, WORLD, proc_cost * accepted.sum(axis=0))

    def _ground_truth(
        self, corps: list[Corporation], solvers: list[Solver], accepted: np.ndarray
    ) -> int:
        """Run a sample of this round's executed trades as real, measured jobs.

        Each executed trade is sampled with probability ``rate`` (at most
        ``max_jobs_per_round``); its job has ``units * rows_per_unit * scale`` rows. Jobs run
        in worker processes; a failed job is recorded as failed and the round goes on.
        """
        gt, crypto = self.config.crypto.ground_truth, self.config.crypto
        if gt.rate <= 0:
            return 0
        from crypto.ground_truth import JobSpec, run_job

        rows, cols = np.nonzero(accepted)
        draws = self.ground_truth_rng.random(rows.size)
        chosen = np.flatnonzero(draws < gt.rate)[: gt.max_jobs_per_round]
        for t in chosen:
            i, j = rows[t], cols[t]
            units = float(accepted[i, j])
            kind = gt.kinds[int(self.ground_truth_rng.integers(len(gt.kinds)))]
            spec = JobSpec(
                kind=kind,
                rows=max(1, round(units * crypto.rows_per_unit * gt.scale)),
                features=gt.features,
                params={
                    "industry": corps[i].industry,
                    "quality": corps[i].quality,
                    "n_industries": self.config.market.n_industries,
                    "data_seed": self.config.seed,
                    **({"epochs": crypto.epochs} if kind in ("train_plain", "fhe_train") else {}),
                },
                seed=int(self.ground_truth_rng.integers(2**31)),
                time_limit=gt.time_limit,
                memory_limit_mb=gt.memory_limit_mb,
            )
            measured = run_job(spec)
            self.measurements.append(
                {
                    "round": self.round,
                    "seller": corps[i].unique_id,
                    "buyer": solvers[j].unique_id,
                    "units": units,
                    **measured.as_row(),
                }
            )
        return len(chosen)

    def _emit(
        self,
        corps: list[Corporation],
        solvers: list[Solver],
        quality: np.ndarray,
        accepted: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mint the round's emission and return each agent's tokens.

        Corporations share theirs by quality-weighted units sold, solvers by units
        processed. Nothing is minted in a round without trade.
        """
        inc = self.config.incentives
        data = quality * accepted.sum(axis=1)
        work = accepted.sum(axis=0)
        tokens_c, tokens_s = np.zeros(len(corps)), np.zeros(len(solvers))
        if work.sum() <= 0:
            return tokens_c, tokens_s
        tokens_c = inc.emission_per_round * inc.corporation_share * data / data.sum()
        tokens_s = inc.emission_per_round * (1 - inc.corporation_share) * work / work.sum()
        self.ledger.mint([c.unique_id for c in corps], tokens_c)
        self.ledger.mint([s.unique_id for s in solvers], tokens_s)
        self.issued += float(tokens_c.sum() + tokens_s.sum())
        return tokens_c, tokens_s

    def _exits(self, corps: list[Corporation], solvers: list[Solver]) -> tuple[int, int]:
        grace = self.config.agents.grace_rounds
        counts = []
        for group in (corps, solvers):
            leaving = [a for a in group if a.should_exit(self.round, grace)]
            for agent in leaving:
                agent.exited = self.round
            counts.append(len(leaving))
        return counts[0], counts[1]

    def _record_trades(
        self,
        corps: list[Corporation],
        solvers: list[Solver],
        tasks: Tasks,
        accepted: np.ndarray,
        seller_price: np.ndarray,
        buyer_price: np.ndarray,
        kappa: np.ndarray,
        value: np.ndarray,
        fhe: np.ndarray,
        proof: np.ndarray,
    ) -> None:
        rows, cols = np.nonzero(accepted)
        if rows.size == 0:
            return
        kinds = np.asarray(self.config.market.task_kinds)
        self.trades.append(
            pd.DataFrame(
                {
                    "round": self.round,
                    "seller": np.array([c.unique_id for c in corps])[rows],
                    "buyer": np.array([s.unique_id for s in solvers])[cols],
                    "units": accepted[rows, cols],
                    "price": seller_price[rows],
                    "buyer_price": buyer_price[cols],
                    "task_kind": kinds[tasks.kind[cols]],
                    "task_industry": tasks.industry[cols],
                    "seller_industry": np.array([c.industry for c in corps])[rows],
                    "seller_quality": np.array([c.quality for c in corps])[rows],
                    "fee": tasks.fee[cols],
                    "true_cost": kappa[rows, cols],
                    "true_value": value[rows, cols],
                    "fhe": fhe[cols],
                    "proof": proof[cols],
                    "proof_verified": pd.array([pd.NA] * rows.size, dtype="boolean"),
                }
            )
        )

    # ------------------------------------------------------------------ results

    def rounds_frame(self) -> pd.DataFrame:
        """One row per round so far."""
        return self.datacollector.get_table_dataframe("rounds").reset_index(drop=True)

    def trades_frame(self) -> pd.DataFrame:
        """One row per executed trade so far."""
        return _concat(self.trades, TRADE_COLUMNS)

    def rejected_frame(self) -> pd.DataFrame:
        """One row per trade rejected at settlement, with the reason."""
        return _concat(self.rejected, REJECTED_COLUMNS)

    def ground_truth_frame(self) -> pd.DataFrame:
        """One row per real job run so far, with its measurement."""
        return _concat([pd.DataFrame(self.measurements)] if self.measurements else [], GT_COLUMNS)

    def agents_frame(self) -> pd.DataFrame:
        """One row per agent that ever joined, with its state now."""
        rows = []
        for agent in list(self.agents_by_type.get(Corporation, [])) + list(
            self.agents_by_type.get(Solver, [])
        ):
            corp = isinstance(agent, Corporation)
            rows.append(
                {
                    "agent": agent.unique_id,
                    "kind": agent.kind,
                    "strategy": agent.strategy.name,
                    "report_factor": agent.strategy.factor,
                    "industry": agent.industry if corp else -1,
                    "units": agent.supply if corp else agent.capacity,
                    "quality": agent.quality if corp else float("nan"),
                    "unit_cost": agent.sharing_cost if corp else agent.processing_cost,
                    "stake": 0.0 if corp else agent.stake,
                    "entered": agent.entered,
                    "exited": -1 if agent.exited is None else agent.exited,
                    "active": agent.active,
                    "running_utility": agent.running_utility,
                    "utility_total": agent.utility_total,
                    "units_traded": agent.units_traded,
                    "money": self.ledger.balance("money", agent.unique_id),
                    "tokens": self.ledger.balance("tokens", agent.unique_id),
                }
            )
        return pd.DataFrame(rows).sort_values("agent", ignore_index=True)


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in columns})
    frame = pd.concat(frames, ignore_index=True)
    return frame[columns + [c for c in frame.columns if c not in columns]]
