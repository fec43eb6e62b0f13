"""The typed records a round's stages pass on, and the rows they produce.

:class:`RoundMarket` is the drawn market, :class:`Settlement` what settlement decided,
:class:`Rewards` the round's rewards, and :class:`RoundRow` one row of ``rounds.parquet``:
each of its fields is one column, documented once, and :data:`ROUND_COLUMNS` is derived
from it.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np

import mechanisms
from agents import Corporation, Solver
from sim.tasks import Tasks


@dataclasses.dataclass(frozen=True)
class RoundRow:
    """One row of ``rounds.parquet`` (``docs/results.md`` lists the same columns).

    Attributes:
        round: 0-based round index.
        mechanism: the mechanism's name, or the market rule's label (``open_data``).
        incentives: the incentive regime's name.
        welfare: ``sum (v_ij - kappa_ij) x_ij`` over executed trades, on true values.
        optimal_welfare: the planner's optimum on true values (NaN if not computed).
        efficiency: ``welfare / optimal_welfare`` (NaN when the optimum is 0 or absent).
        price: the uniform clearing price (NaN without trade or without a uniform price).
        volume: data units executed.
        trades: pairs executed.
        rejected_trades: trades the settlement step rejected.
        seller_revenue: money paid to sellers.
        protocol_surplus: buyer payments minus seller revenue.
        corporations_active: corporations in the market this round.
        corporations_trading: of them, those that traded.
        corporations_entered: corporations that arrived at the start of the round.
        corporations_exited: corporations that left at its end.
        solvers_active: solvers in the market this round.
        solvers_trading: of them, those that traded.
        solvers_entered: solvers that arrived at the start of the round.
        solvers_exited: solvers that left at its end.
        compatible_share: share of corporation-solver pairs the intents allow.
        solver_hhi: Herfindahl-Hirschman index of solvers' shares of volume.
        solver_reward_hhi: Herfindahl-Hirschman index of solvers' shares of solver tokens.
        reward_gini: Gini coefficient of the round's token rewards over active agents.
        mean_reputation: mean Beta reputation of the active solvers.
        emission: tokens minted this round.
        gt_jobs: real jobs run this round.
        model_accuracy: mean held-out accuracy of the active solvers' models.
        data_share: share of active corporations that delivered data.
        initial_active: share of the corporations present in round 0 still active.
        initial_sharing: share of the corporations present in round 0 that delivered data
            this round (exited ones count as not sharing).
        competitor_volume: data units delivered to solvers whose task serves the seller's own
            industry (sharing with competitors).
        competitor_sellers: corporations that delivered data to such solvers.
        tokens_corporations: tokens minted to corporations.
        tokens_solvers: tokens minted to solvers.
        tokens_validators: tokens minted to validators.
        revenue_shared: money solvers paid back to their sellers out of task fees.
        slashed: tokens slashed from caught agents.
        burned: of them, tokens burned.
        cheat_attempts: cheating trades, all adversary kinds.
        detections: detected cheating trades.
        false_positives: honest trades a proof or the bid screen rejected.
        extracted: value cheaters took from others (money).
    """

    round: int
    mechanism: str
    incentives: str
    welfare: float
    optimal_welfare: float
    efficiency: float
    price: float
    volume: float
    trades: int
    rejected_trades: int
    seller_revenue: float
    protocol_surplus: float
    corporations_active: int
    corporations_trading: int
    corporations_entered: int
    corporations_exited: int
    solvers_active: int
    solvers_trading: int
    solvers_entered: int
    solvers_exited: int
    compatible_share: float
    solver_hhi: float
    solver_reward_hhi: float
    reward_gini: float
    mean_reputation: float
    emission: float
    gt_jobs: int
    model_accuracy: float
    data_share: float
    initial_active: float
    initial_sharing: float
    competitor_volume: float
    competitor_sellers: int
    tokens_corporations: float
    tokens_solvers: float
    tokens_validators: float
    revenue_shared: float
    slashed: float
    burned: float
    cheat_attempts: int
    detections: int
    false_positives: int
    extracted: float


#: The columns of ``rounds.parquet``, in order.
ROUND_COLUMNS = [f.name for f in dataclasses.fields(RoundRow)]

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
    "seller_true_quality",
    "fee",
    "true_cost",
    "true_value",
    "fhe",
    "proof",
    "proof_kind",
    "proof_verified",
    "ground_truth",
]
REJECTED_COLUMNS = ["round", "seller", "buyer", "units", "price", "buyer_price", "reason"]
ADVERSARY_COLUMNS = [
    "round", "adversary", "attempts", "detected", "misflagged", "slashed", "extracted",
]  # fmt: skip
GT_COLUMNS = [
    "round", "seller", "buyer", "units", "kind", "rows", "features", "ok", "seconds",
    "peak_rss_mb", "bytes_produced", "error", "proof_verified", "heldout_accuracy",
    "drawn_proof_verified",
]  # fmt: skip


class RoundMarket(NamedTuple):
    """One round's market as the model draws it (see :meth:`sim.MarketModel.draw_market`).

    ``cost`` and ``value`` are the true per-pair sharing costs and net values ``(n, m)``
    (values at the data's true quality); ``quality`` is the quality corporations claim,
    ``true_quality`` the quality their rows have; ``reported`` is the market the mechanism
    clears, ``true`` the same market on true values. Solvers not ``eligible`` to bid (stake
    or reputation below the threshold) enter with no capacity.
    """

    corporations: list[Corporation]
    solvers: list[Solver]
    tasks: Tasks
    cost: np.ndarray
    value: np.ndarray
    quality: np.ndarray
    true_quality: np.ndarray
    eligible: np.ndarray
    processing_cost: np.ndarray
    fhe: np.ndarray
    proof: np.ndarray
    compatible: np.ndarray
    supply: np.ndarray
    capacity: np.ndarray
    reported: mechanisms.Market
    true: mechanisms.Market


class Trades(NamedTuple):
    """The round's accepted trades, one entry per pair with units, in row-major order.

    Sums over trades (:meth:`per_seller`, :meth:`per_buyer`) cost what the trades cost,
    not ``n * m``.
    """

    sellers: np.ndarray
    buyers: np.ndarray
    units: np.ndarray

    @classmethod
    def of(cls, accepted: np.ndarray) -> Trades:
        """The trades of an ``(n, m)`` allocation."""
        sellers, buyers = np.nonzero(accepted)
        return cls(sellers, buyers, accepted[sellers, buyers])

    def per_seller(self, values: np.ndarray, n: int) -> np.ndarray:
        """``(n,)`` sums of per-trade ``values`` by seller."""
        return np.bincount(self.sellers, values, minlength=n).astype(float)

    def per_buyer(self, values: np.ndarray, m: int) -> np.ndarray:
        """``(m,)`` sums of per-trade ``values`` by buyer."""
        return np.bincount(self.buyers, values, minlength=m).astype(float)

    def where(self, keep: np.ndarray) -> Trades:
        """The trades for which ``keep`` holds, in the same order."""
        return Trades(self.sellers[keep], self.buyers[keep], self.units[keep])


class Settlement(NamedTuple):
    """What settlement decided (see :meth:`sim.MarketModel._settle`).

    ``accepted`` holds the units delivered and paid; ``lazy`` marks lazy solvers and
    ``model_rejected`` the solvers whose model failed verification this round (a lazy one
    caught, or an honest one a proof rejected falsely); ``caught_*`` count each agent's
    failed verifications; ``attempts`` and ``detected`` count cheating trades by adversary
    kind; ``misflagged`` counts, by kind (``honest`` or an adversary kind), the trades a
    check rejected for something the agent did not do (:func:`sim.round.settlement.verify`),
    and :attr:`false_positives` sums them; ``fees`` is what each solver's task client pays
    for its model. ``seller_price`` and ``buyer_price`` are ``(n, m)`` per-unit prices of
    each trade (see :meth:`mechanisms.Outcome.pair_prices`). ``trades`` lists the accepted
    trades; :attr:`sold` and :attr:`bought` sum them by agent.
    """

    accepted: np.ndarray
    seller_price: np.ndarray
    buyer_price: np.ndarray
    rejected: int
    verified: bool
    lazy: np.ndarray
    model_rejected: np.ndarray
    caught_corporations: np.ndarray
    caught_solvers: np.ndarray
    attempts: dict[str, int]
    detected: dict[str, int]
    misflagged: dict[str, int]
    fees: np.ndarray
    trades: Trades

    @property
    def false_positives(self) -> int:
        """Trades a check rejected for something the agent did not do, all kinds."""
        return sum(self.misflagged.values())

    @property
    def sold(self) -> np.ndarray:
        """``(n,)`` accepted units each seller delivered."""
        return self.trades.per_seller(self.trades.units, self.accepted.shape[0])

    @property
    def bought(self) -> np.ndarray:
        """``(m,)`` accepted units each buyer received."""
        return self.trades.per_buyer(self.trades.units, self.accepted.shape[1])

    def with_accepted(self, accepted: np.ndarray) -> Settlement:
        """The same settlement with other accepted units, and the trades that follow."""
        return self._replace(accepted=accepted, trades=Trades.of(accepted))


class Rewards(NamedTuple):
    """One round's rewards.

    Tokens minted to each corporation, solver and validator, money each corporation
    received as revenue share, and each corporation's data value.
    """

    corporations: np.ndarray
    solvers: np.ndarray
    validators: np.ndarray
    revenue: np.ndarray
    data_value: np.ndarray

    @classmethod
    def nothing(cls, corporations: int, solvers: int, validators: int) -> Rewards:
        """No tokens, no revenue shared, no data value."""
        n = corporations
        return cls(np.zeros(n), np.zeros(solvers), np.zeros(validators), np.zeros(n), np.zeros(n))


class Slashing(NamedTuple):
    """Tokens slashed from each corporation and solver this round, and of them, burned."""

    corporations: np.ndarray
    solvers: np.ndarray
    burned: float


class Observations(NamedTuple):
    """What the stages measured on the way that the round's row reports.

    ``entered`` and ``exited`` count (corporations, solvers); ``accuracy`` is each solver's
    model accuracy; ``gt_jobs`` the real jobs run; ``extracted`` the value cheaters took,
    by adversary kind; ``welfare`` the executed trades' welfare on true values and
    ``optimal`` the planner's optimum (``nan`` if not computed).
    """

    entered: tuple[int, int]
    exited: tuple[int, int]
    accuracy: np.ndarray
    gt_jobs: int
    extracted: dict[str, float]
    welfare: float = 0.0
    optimal: float = float("nan")
