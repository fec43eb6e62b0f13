"""The Mesa model of the intent-based data market: one round per ``step``.

A round: arrivals; tasks; intents; true costs and values; reports; clearing (the
mechanism under ``intent_market``, free sharing of open data under ``yuma``); settlement
through escrow with intent, stake and verification checks on every trade; models trained
on the delivered data; execution (task fees in, compute costs out); token emission and
revenue sharing by the regime's rule; slashing and reputation; utilities, learning and
exits; metrics; a ledger check.
"""

from __future__ import annotations

import dataclasses
from copy import deepcopy

import mesa
import numpy as np
import pandas as pd

import mechanisms
from agents import (
    STRATEGIES,
    Corporation,
    Intent,
    MarketAgent,
    Solver,
    Strategy,
    Validator,
    compatibility,
)
from sim import regimes
from sim.config import ADVERSARIES, SimConfig
from sim.incentives import BetaReputation, DataPool
from sim.ledger import ESCROW, MINT, STAKE, TREASURY, WORLD, Ledger
from sim.metrics import gini, hhi
from sim.round.records import (
    ADVERSARY_COLUMNS,
    GT_COLUMNS,
    REJECTED_COLUMNS,
    ROUND_COLUMNS,
    TRADE_COLUMNS,
    Rewards,
    RoundMarket,
    RoundRow,
    Settlement,
)
from sim.tasks import TaskStream


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
        self.regime = regimes.get(config.incentives.regime)
        self.task_stream = TaskStream(
            market.task_kinds, market.n_industries, market.fee_low, market.fee_high
        )
        self.seconds_per_unit = config.crypto.seconds_per_unit()
        self.ledger = Ledger()
        self.round = 0
        self.issued = 0.0
        self.trades: list[pd.DataFrame] = []
        self.measurements: list[dict] = []
        # Ground-truth sampling, verification, valuation and validators draw from their own
        # streams, derived from the seed, so that they do not shift the market's draws:
        # both incentive regimes see the same population and tasks until agents' choices
        # differ.
        self.ground_truth_rng = np.random.default_rng([config.seed, 0x67745F])
        self.verification_rng = np.random.default_rng([config.seed, 0x766572])
        self.valuation_rng = np.random.default_rng([config.seed, 0x76616C])
        self.validator_rng = np.random.default_rng([config.seed, 0x76616C6964])
        self.rejected: list[pd.DataFrame] = []
        self.adversaries: list[pd.DataFrame] = []
        self.datacollector = mesa.DataCollector(tables={"rounds": ROUND_COLUMNS})
        inc = config.incentives
        self.reputation = BetaReputation(inc.reputation.decay)
        self.pool = DataPool(
            inc.data_value, config.crypto.features, market.n_industries, config.seed
        )
        self.sybil_groups = 0
        self.add_validators(inc.validators.count)
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
        min_price = float(self.rng.uniform(0, policy.min_price_high))
        fhe = bool(self.rng.random() < policy.require_fhe_prob)
        proof = bool(self.rng.random() < policy.require_proof_prob)
        crypto = self.config.crypto.encryption  # without it, nobody can require FHE or proofs
        return Intent(
            allowed_kinds=frozenset(kinds),
            excluded_industries=frozenset({industry} if exclude else set()),
            min_price=min_price,
            require_fhe=fhe and crypto,
            require_proof=proof and crypto,
            expiry=self.round + policy.duration - 1,
        )

    def add_corporations(self, k: int) -> list[Corporation]:
        """Create ``k`` corporations with attributes drawn from the market config.

        A Sybil corporation enters as ``sybil_identities`` identities sharing one dataset
        and supply; each identity is a :class:`Corporation` of its own.
        """
        market, cfg = self.config.market, self.config
        adv = cfg.agents.adversaries
        new = []
        for _ in range(k):
            industry = int(self.rng.integers(market.n_industries))
            quality = float(
                np.clip(self.rng.beta(market.quality_alpha, market.quality_beta), 0.05, 1)
            )
            if market.homogeneous:  # the draw still happens: same stream as heterogeneous
                quality = 1.0
            supply = float(self.rng.uniform(market.supply_low, market.supply_high))
            sharing_cost = float(
                self.rng.uniform(market.sharing_cost_low, market.sharing_cost_high)
            )
            intent = self._intent(industry)
            strategy_draw = self._strategy(cfg.agents.corporation_strategies, "sell")
            role = _role(self.rng.random(), {"poisoner": adv.poisoner, "sybil": adv.sybil})
            open_data = bool(self.rng.random() < cfg.incentives.yuma.open_data_prob)
            intent = self.regime.market.intent(intent, open_data)
            identities = adv.sybil_identities if role == "sybil" else 1
            group = None
            if role == "sybil":
                group, self.sybil_groups = self.sybil_groups, self.sybil_groups + 1
            for identity in range(identities):
                corp = Corporation(
                    self,
                    industry=industry,
                    supply=supply / identities,
                    quality=quality,
                    sharing_cost=sharing_cost,
                    competitor_premium=0.0 if market.homogeneous else market.competitor_premium,
                    intent=intent,
                    strategy=strategy_draw if identity == 0 else deepcopy(strategy_draw),
                    outside_option=cfg.agents.corporation_outside_option,
                    entered=self.round,
                )
                corp.adversary = role
                corp.open_data = open_data
                corp.sybil_group = group
                if role == "poisoner":
                    corp.true_quality = adv.poison_quality
                rows = max(2, cfg.incentives.data_value.rows_per_corporation // identities)
                self.pool.add(corp.unique_id, industry, corp.true_quality, rows)
                self._endow(corp)
                self._stake(corp, cfg.incentives.staking.corporation_stake)
                new.append(corp)
        return new

    def add_solvers(self, k: int) -> list[Solver]:
        """Create ``k`` solvers with attributes drawn from the market config."""
        market = self.config.market
        adv = self.config.agents.adversaries
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
            solver.adversary = _role(
                self.rng.random(), {"lazy": adv.lazy, "colluder": adv.colluder}
            )
            stake, solver.stake = solver.stake, 0.0
            self._endow(solver)
            self._stake(solver, stake)
            new.append(solver)
        return new

    def add_validators(self, k: int) -> list[Validator]:
        """Create ``k`` validators; the first ``round(dishonest_share * k)`` are dishonest."""
        cfg = self.config.incentives.validators
        dishonest = round(cfg.dishonest_share * k)
        new = []
        for index in range(k):
            validator = Validator(
                self,
                stake=0.0,
                honest=index >= dishonest,
                noise=cfg.noise,
            )
            self.ledger.open(validator.unique_id)
            self._stake(validator, float(self.validator_rng.uniform(cfg.stake_low, cfg.stake_high)))
            new.append(validator)
        return new

    def _stake(self, agent: MarketAgent | Validator, amount: float) -> None:
        """Mint ``amount`` tokens to ``agent`` and lock them in the stake account."""
        if amount <= 0:
            return
        self.ledger.mint(agent.unique_id, amount)
        self.ledger.transfer("tokens", agent.unique_id, STAKE, amount)
        self.issued += amount
        agent.stake += amount

    def _endow(self, agent: MarketAgent) -> None:
        self.ledger.open(agent.unique_id)
        self.ledger.transfer("money", WORLD, agent.unique_id, self.config.market.money_endowment)

    def active(self, agent_type: type[MarketAgent]) -> list:
        """Active agents of one type, in creation order."""
        return [a for a in self.agents_by_type.get(agent_type, []) if a.active]

    def validators(self) -> list[Validator]:
        """Every validator, in creation order."""
        return list(self.agents_by_type.get(Validator, []))

    # ------------------------------------------------------------------ one round

    def step(self) -> None:
        """Run one round and record it."""
        cfg, r = self.config, self.round
        entered = self._arrivals() if r > 0 else (0, 0)
        rm = self.draw_market()
        corps, solvers = rm.corporations, rm.solvers
        ids_c, ids_s = [c.unique_id for c in corps], [s.unique_id for s in solvers]
        money_before = self.ledger.balances("money", ids_c + ids_s)

        outcome = self.regime.market.clear(self, rm)
        settled = self._settle(rm, outcome)
        accepted = settled.accepted
        accuracy = self._models(rm, settled)
        self._execute(rm, settled)
        gt_jobs = self._ground_truth(corps, solvers, accepted)
        rewards = self._reward(rm, settled, accuracy)
        slashed_c, slashed_s, burned = self._slash(rm, settled)
        self._update_reputation(rm, settled)
        extracted = self._extracted(rm, settled, rewards)

        price = cfg.incentives.token_price
        money = self.ledger.balances("money", ids_c + ids_s) - money_before
        sharing = (rm.cost * accepted).sum(axis=1)
        tokens = np.concatenate([rewards.corporations - slashed_c, rewards.solvers - slashed_s])
        gains = money + price * tokens - np.concatenate([sharing, np.zeros(len(solvers))])
        sold, bought = accepted.sum(axis=1), accepted.sum(axis=0)
        memory = cfg.agents.utility_memory
        for agent, gain, offered, traded in zip(
            corps + solvers,
            gains,
            np.concatenate([rm.supply, rm.capacity]),
            np.concatenate([sold, bought]),
            strict=True,
        ):
            agent.observe(float(gain), memory)
            agent.strategy.learn(float(offered), float(traded))
            agent.units_traded += float(traded)
        exited = self._exits(corps, solvers)

        realized = np.where(settled.lazy[None, :], 0.0, rm.value)  # a lazy model is worthless
        welfare = float(((realized - rm.cost) * accepted).sum())
        optimal = (
            mechanisms.welfare.optimum(rm.true, solver=cfg.welfare_solver).info["welfare"]
            if cfg.compute_optimum
            else float("nan")
        )
        self._record_trades(rm, settled)
        self._record_adversaries(rm, settled, slashed_c, slashed_s, extracted)
        volume = float(accepted.sum())
        revenue = float((settled.seller_price * accepted).sum())
        tokens_v = rewards.validators
        reputation = self.reputation.value(ids_s)
        row = RoundRow(
            round=r,
            mechanism=self.regime.market.label(self),
            incentives=cfg.incentives.regime,
            welfare=welfare,
            optimal_welfare=optimal,
            efficiency=welfare / optimal if optimal > 1e-9 else float("nan"),
            price=outcome.price if outcome.price is not None and volume > 0 else float("nan"),
            volume=volume,
            trades=int((accepted > 0).sum()),
            rejected_trades=settled.rejected,
            seller_revenue=revenue,
            protocol_surplus=float((settled.buyer_price * accepted).sum()) - revenue,
            corporations_active=len(corps),
            corporations_trading=int((sold > 0).sum()),
            corporations_entered=entered[0],
            corporations_exited=exited[0],
            solvers_active=len(solvers),
            solvers_trading=int((bought > 0).sum()),
            solvers_entered=entered[1],
            solvers_exited=exited[1],
            compatible_share=float(rm.compatible.mean()) if rm.compatible.size else float("nan"),
            solver_hhi=hhi(bought),
            solver_reward_hhi=hhi(rewards.solvers),
            reward_gini=gini(np.concatenate([rewards.corporations, rewards.solvers, tokens_v])),
            mean_reputation=float(reputation.mean()) if len(solvers) else float("nan"),
            emission=float(rewards.corporations.sum() + rewards.solvers.sum() + tokens_v.sum()),
            gt_jobs=gt_jobs,
            model_accuracy=float(accuracy.mean()) if len(solvers) else float("nan"),
            data_share=float((sold > 0).mean()) if len(corps) else float("nan"),
            tokens_corporations=float(rewards.corporations.sum()),
            tokens_solvers=float(rewards.solvers.sum()),
            tokens_validators=float(tokens_v.sum()),
            revenue_shared=float(rewards.revenue.sum()),
            slashed=float(slashed_c.sum() + slashed_s.sum()),
            burned=burned,
            cheat_attempts=sum(settled.attempts.values()),
            detections=sum(settled.detected.values()),
            false_positives=settled.false_positives,
            extracted=float(sum(extracted.values())),
        )
        self.datacollector.add_table_row("rounds", dataclasses.asdict(row))
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
        if cfg.market.congestion > 0 and m > 0:  # solvers crowd each other's clients
            tasks = dataclasses.replace(tasks, fee=tasks.fee * m**-cfg.market.congestion)
        duration = cfg.market.intent.duration
        for corp in corps:
            if r > corp.intent.expiry:
                corp.intent = dataclasses.replace(corp.intent, expiry=r + duration - 1)

        leak = 0.0 if cfg.crypto.encryption else cfg.crypto.leakage_cost  # shared in the clear
        kappa = np.array([c.costs(tasks.industry) for c in corps]).reshape(n, m) + leak
        quality = np.array([c.quality for c in corps])
        true_quality = np.array([c.true_quality for c in corps])
        proc_cost = np.array([s.processing_cost for s in solvers])
        # solvers value data net of the revenue share they will pay back on the fees
        keep = 1 - cfg.incentives.revenue_share if self.regime.rewards.shares_revenue else 1
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
        eligible = self._eligible(solvers)
        capacity = np.where(eligible, [s.capacity for s in solvers], 0.0)
        shading = cfg.agents.adversaries.collusion_shading * _is(solvers, "colluder")
        if cfg.market.homogeneous:  # one cost per seller, one value per buyer, no restrictions
            cost = np.array([c.sharing_cost for c in corps]) + leak
            worth = tasks.fee - proc_cost
            net = keep * tasks.fee - proc_cost
            ask = np.array([c.ask(cost[i : i + 1])[0] for i, c in enumerate(corps)])
            bid = np.array([s.bid(net[j : j + 1])[0] for j, s in enumerate(solvers)])
            bid = bid - shading * np.abs(bid)
            reported = mechanisms.Market(supply, capacity, ask, bid)
            true = mechanisms.Market(supply, capacity, cost, worth)
        else:
            ask = np.array([c.ask(kappa[i]) for i, c in enumerate(corps)]).reshape(n, m)
            bid = np.array([s.bid(believed[:, j]) for j, s in enumerate(solvers)]).reshape(m, n).T
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
            eligible,
            proc_cost,
            fhe,
            proof,
            compatible,
            supply,
            capacity,
            reported,
            true,
        )

    def _staked(self, solvers: list[Solver]) -> np.ndarray:
        """Solvers whose stake meets ``staking.solver_min_stake``."""
        stake = np.array([s.stake for s in solvers])
        return stake >= self.config.incentives.staking.solver_min_stake - 1e-12

    def _eligible(self, solvers: list[Solver]) -> np.ndarray:
        """Solvers whose stake and reputation meet the thresholds to bid."""
        reputation = self.reputation.value([s.unique_id for s in solvers])
        return self._staked(solvers) & (reputation >= self.config.incentives.reputation.min_to_bid)

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

    def _settle(self, rm: RoundMarket, outcome: mechanisms.Outcome) -> Settlement:
        """Escrow payments, check every trade, pay verified deliveries and refund the rest.

        Each trade is checked against its seller's intent, its buyer's funds and stake, and
        the verification design.

        Where the regime's market rule does not verify (Yuma's open data), no verification
        runs; validators' weights are the only check on solvers.
        """
        corps, solvers, tasks = rm.corporations, rm.solvers, rm.tasks
        inc = self.config.incentives
        ver = inc.verification
        verify = self.regime.market.verifies
        n, m = len(corps), len(solvers)
        alloc = np.where(outcome.allocation > 1e-9, outcome.allocation, 0.0)
        seller_price, buyer_price = outcome.pair_prices()  # per unit, trade by trade
        accepted = alloc.copy()
        reasons: dict[tuple[int, int], str] = {}
        ids_s = [s.unique_id for s in solvers]
        due = (buyer_price * alloc).sum(axis=0)
        can_pay = due <= self.ledger.balances("money", ids_s) + 1e-9
        staked = self._staked(solvers)
        for j in np.flatnonzero(~can_pay | ~staked):
            for i in np.flatnonzero(alloc[:, j]):
                reasons[(i, j)] = "insufficient_funds" if not can_pay[j] else "insufficient_stake"
        for i, j in zip(*np.nonzero(alloc), strict=True):
            if (i, j) in reasons:
                continue
            why = corps[i].intent.violation(
                kind=self.config.market.task_kinds[tasks.kind[j]],
                industry=int(tasks.industry[j]),
                round=self.round,
                price=float(seller_price[i, j]),
                fhe=bool(rm.fhe[j]),
                proof=bool(rm.proof[j]),
            )
            if why:
                reasons[(i, j)] = why

        # verification of the trades that passed the contract's checks
        pairs = [(i, j) for i, j in zip(*np.nonzero(alloc), strict=True) if (i, j) not in reasons]
        audited = self.verification_rng.random(len(pairs)) < (ver.audit_rate if verify else 0)
        flagged = np.zeros((n, m), dtype=bool)
        if verify and ver.bid_screen:  # public estimate: claimed quality, fee, median solver
            market = self.config.market
            typical = (
                self.seconds_per_unit * (market.compute_price_low + market.compute_price_high) / 2
            )
            estimate = rm.quality[:, None] * tasks.fee[None, :] - typical
            flagged = (rm.reported.bid_matrix() < (1 - ver.screen_margin) * estimate) & (
                estimate > 0
            )
        attempts = dict.fromkeys(ADVERSARIES, 0)
        detected = dict.fromkeys(ADVERSARIES, 0)
        caught_c, caught_s = np.zeros(n), np.zeros(m)
        lazy_caught = np.zeros(m, dtype=bool)
        false_positives = 0
        for (i, j), audit in zip(pairs, audited, strict=True):
            seller, buyer = corps[i].adversary, solvers[j].adversary
            for role in (seller, buyer):
                if role and role != "lazy":  # a lazy solver cheats once it has the data
                    attempts[role] += 1
            if not verify:
                attempts["lazy"] += buyer == "lazy"
                continue
            why = None
            if seller == "sybil" and ver.identity_check:
                why = "failed_identity_check"
            elif seller == "poisoner" and (ver.quality_proof or audit):
                why = "failed_quality_proof" if ver.quality_proof else "failed_audit"
            elif flagged[i, j]:
                why = "failed_bid_screen"
            if why == "failed_bid_screen":
                caught_s[j] += 1
                if buyer == "colluder":
                    detected["colluder"] += 1
                else:
                    false_positives += 1
            elif why:
                caught_c[i] += 1
                detected[seller] += 1
            if why:
                reasons[(i, j)] = why
            elif buyer == "lazy":
                attempts["lazy"] += 1
                if ver.evaluation_proof or audit:
                    lazy_caught[j] = True  # the delivery stands; the task client pays nothing
                    caught_s[j] += 1
                    detected["lazy"] += 1

        for i, j in reasons:
            accepted[i, j] = 0.0
        funded = np.where(can_pay, due, 0.0)
        self.ledger.transfer("money", ids_s, ESCROW, funded)
        # each rejected trade is refunded at its own price
        refund = np.where(can_pay, (buyer_price * (alloc - accepted)).sum(axis=0), 0.0)
        self.ledger.transfer("money", ESCROW, ids_s, refund)
        payout = (seller_price * accepted).sum(axis=1)
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
                        "price": [seller_price[i, j] for i, j in keys],
                        "buyer_price": [buyer_price[i, j] for i, j in keys],
                        "reason": list(reasons.values()),
                    }
                )
            )
        lazy = _is(solvers, "lazy")
        return Settlement(
            accepted=accepted,
            seller_price=seller_price,
            buyer_price=buyer_price,
            rejected=len(reasons),
            verified=verify,
            lazy=lazy,
            lazy_caught=lazy_caught,
            caught_corporations=caught_c,
            caught_solvers=caught_s,
            attempts=attempts,
            detected=detected,
            false_positives=false_positives,
            # by claimed quality; nothing for a lazy solver's caught model
            fees=np.where(lazy_caught, 0.0, tasks.fee * (rm.quality @ accepted)),
        )

    def _models(self, rm: RoundMarket, settled: Settlement) -> np.ndarray:
        """Each solver's model accuracy on its task's industry.

        Models are trained with JAX on the rows each solver bought (weighted by the share
        of each seller's supply) and the public rows; a lazy solver returns random weights.
        """
        accepted = settled.accepted
        shares = np.divide(
            accepted,
            rm.supply[:, None],
            out=np.zeros_like(accepted),
            where=rm.supply[:, None] > 0,
        )
        ids = [c.unique_id for c in rm.corporations]
        accuracy = self.pool.model_accuracy(ids, shares, rm.tasks.industry)
        lazy = settled.lazy
        if lazy.any():
            accuracy[lazy] = self.pool.random_model_accuracy(
                rm.tasks.industry[lazy], self.valuation_rng
            )
        return accuracy

    def _execute(self, rm: RoundMarket, settled: Settlement) -> None:
        """Solvers process the data: task clients pay fees, compute providers are paid.

        Fees follow the claimed quality; nothing is paid for a lazy solver's caught model.
        Lazy solvers skip the work and pay no compute.
        """
        ids = [s.unique_id for s in rm.solvers]
        self.ledger.transfer("money", WORLD, ids, settled.fees)
        work = np.where(settled.lazy, 0.0, rm.processing_cost * settled.accepted.sum(axis=0))
        self.ledger.transfer("money", ids, WORLD, work)

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
                    "industry_shift": self.config.incentives.data_value.industry_shift,
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

    def _reward(self, rm: RoundMarket, settled: Settlement, accuracy: np.ndarray) -> Rewards:
        """Mint the round's tokens by the regime's reward rule (which also shares revenue)."""
        rewards = self.regime.rewards.reward(self, rm, settled, accuracy)
        for agents, tokens in (
            (rm.corporations, rewards.corporations),
            (rm.solvers, rewards.solvers),
            (self.validators(), rewards.validators),
        ):
            if len(agents):
                self.ledger.mint([a.unique_id for a in agents], tokens)
                self.issued += float(tokens.sum())
        return rewards

    def _slash(self, rm: RoundMarket, settled: Settlement) -> tuple[np.ndarray, np.ndarray, float]:
        """Slash agents caught this round by ``slash_fraction`` of their stake.

        The tokens are burned or handed to validators by stake. Caught Sybil identities
        are banned.

        Returns:
            Tokens slashed per corporation and per solver, and tokens burned.
        """
        staking = self.config.incentives.staking
        slashed = []
        burned = 0.0
        validators = self.validators()
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
                    agent.exited = self.round
            total = float(amounts.sum())
            if total > 0:
                if staking.slashed_to == "redistribute":  # validators hold stake (config check)
                    self.ledger.transfer(
                        "tokens",
                        STAKE,
                        [v.unique_id for v in validators],
                        total * stake_v / stake_v.sum(),
                    )
                else:
                    self.ledger.transfer("tokens", STAKE, MINT, total)
                    self.issued -= total
                    burned += total
            slashed.append(amounts)
        return slashed[0], slashed[1], burned

    def _update_reputation(self, rm: RoundMarket, settled: Settlement) -> None:
        """Verified trades count as successes, caught ones as failures."""
        traded = settled.accepted > 0
        self.reputation.update(
            [c.unique_id for c in rm.corporations],
            traded.sum(axis=1),
            settled.caught_corporations,
        )
        self.reputation.update(
            [s.unique_id for s in rm.solvers],
            traded.sum(axis=0) - settled.lazy_caught * traded.sum(axis=0),
            settled.caught_solvers,
        )

    def _extracted(
        self,
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
        accepted = settled.accepted
        corps, solvers = rm.corporations, rm.solvers
        fee = rm.tasks.fee
        poisoner, sybil, colluder = (
            _is(corps, "poisoner"),
            _is(corps, "sybil"),
            _is(solvers, "colluder"),
        )
        out = dict.fromkeys(ADVERSARIES, 0.0)
        gap = (rm.quality - rm.true_quality)[:, None] * fee[None, :]
        out["poisoner"] = float((gap * accepted)[poisoner].sum())
        undetected = settled.lazy & ~settled.lazy_caught
        price = self.config.incentives.token_price
        out["lazy"] = float((settled.fees + price * rewards.solvers)[undetected].sum())
        tokens_c = rewards.corporations
        if sybil.any() and tokens_c.sum() > 0:
            units = rm.quality * accepted.sum(axis=1)
            fair = tokens_c.sum() * units[sybil].sum() / units.sum()
            out["sybil"] = price * float(tokens_c[sybil].sum() - fair)
        bought = accepted.sum(axis=0)
        if (colluder & (bought > 0)).any() and self.regime.market.priced:
            reported = rm.reported
            shading = self.config.agents.adversaries.collusion_shading
            bid = reported.bid.copy()
            shaded = bid[..., colluder]
            bid[..., colluder] = np.where(
                shaded >= 0, shaded / (1 - shading), shaded / (1 + shading)
            )  # the bids the colluders would have made
            counter = self.mechanism.clear(
                dataclasses.replace(reported, bid=bid),
                rng=np.random.default_rng([self.config.seed, self.round]),
            )
            got = counter.allocation.sum(axis=0)
            paid = (settled.buyer_price * accepted).sum(axis=0)
            price = np.divide(paid, bought, out=np.zeros_like(paid), where=bought > 0)
            price_cf = np.divide(counter.buyer_payment, got, out=price.copy(), where=got > 1e-9)
            out["colluder"] = float(((price_cf - price) * bought)[colluder].sum())
        return out

    def _exits(self, corps: list[Corporation], solvers: list[Solver]) -> tuple[int, int]:
        grace = self.config.agents.grace_rounds
        counts = []
        for group in (corps, solvers):
            leaving = [a for a in group if a.should_exit(self.round, grace)]
            for agent in leaving:
                agent.exited = self.round
            counts.append(sum(a.exited == self.round for a in group))  # banned Sybils too
        return counts[0], counts[1]

    def _record_trades(self, rm: RoundMarket, settled: Settlement) -> None:
        accepted = settled.accepted
        rows, cols = np.nonzero(accepted)
        if rows.size == 0:
            return
        corps, solvers, tasks = rm.corporations, rm.solvers, rm.tasks
        kinds = np.asarray(self.config.market.task_kinds)
        verified = (
            pd.array(~settled.lazy_caught[cols], dtype="boolean")
            if settled.verified
            else pd.array([pd.NA] * rows.size, dtype="boolean")
        )
        self.trades.append(
            pd.DataFrame(
                {
                    "round": self.round,
                    "seller": np.array([c.unique_id for c in corps])[rows],
                    "buyer": np.array([s.unique_id for s in solvers])[cols],
                    "units": accepted[rows, cols],
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
                    "fhe": rm.fhe[cols],
                    "proof": rm.proof[cols],
                    "proof_verified": verified,
                }
            )
        )

    def _record_adversaries(
        self,
        rm: RoundMarket,
        settled: Settlement,
        slashed_c: np.ndarray,
        slashed_s: np.ndarray,
        extracted: dict[str, float],
    ) -> None:
        slashed = dict.fromkeys(ADVERSARIES, 0.0)
        for agents, amounts in ((rm.corporations, slashed_c), (rm.solvers, slashed_s)):
            for agent, amount in zip(agents, amounts, strict=True):
                if agent.adversary:
                    slashed[agent.adversary] += float(amount)
        self.adversaries.append(
            pd.DataFrame(
                {
                    "round": self.round,
                    "adversary": list(ADVERSARIES),
                    "attempts": [settled.attempts[a] for a in ADVERSARIES],
                    "detected": [settled.detected[a] for a in ADVERSARIES],
                    "slashed": [slashed[a] for a in ADVERSARIES],
                    "extracted": [extracted[a] for a in ADVERSARIES],
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

    def adversaries_frame(self) -> pd.DataFrame:
        """Per round and adversary kind: attempts, detections, slashed tokens, extraction."""
        return _concat(self.adversaries, ADVERSARY_COLUMNS)

    def ground_truth_frame(self) -> pd.DataFrame:
        """One row per real job run so far, with its measurement."""
        return _concat([pd.DataFrame(self.measurements)] if self.measurements else [], GT_COLUMNS)

    def agents_frame(self) -> pd.DataFrame:
        """One row per agent that ever joined (validators included), with its state now."""
        rows = []
        market_agents = list(self.agents_by_type.get(Corporation, [])) + list(
            self.agents_by_type.get(Solver, [])
        )
        reputation = self.reputation.value([a.unique_id for a in market_agents])
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
                    "money": self.ledger.balance("money", agent.unique_id),
                    "tokens": self.ledger.balance("tokens", agent.unique_id),
                }
            )
        for validator in self.agents_by_type.get(Validator, []):
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
                    "money": self.ledger.balance("money", validator.unique_id),
                    "tokens": self.ledger.balance("tokens", validator.unique_id),
                }
            )
        return pd.DataFrame(rows).sort_values("agent", ignore_index=True)


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in columns})
    frame = pd.concat(frames, ignore_index=True)
    return frame[columns + [c for c in frame.columns if c not in columns]]


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


def _is(agents: list[MarketAgent], role: str) -> np.ndarray:
    """Which of ``agents`` play adversary ``role``."""
    return np.array([a.adversary == role for a in agents], dtype=bool)
