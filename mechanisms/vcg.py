"""Vickrey-Clarke-Groves double auction with Clarke-pivot payments."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np

from mechanisms import welfare
from mechanisms.base import Mechanism, UnsupportedMarketError
from mechanisms.market import Market, Outcome


class VCG(Mechanism):
    """Welfare-maximizing allocation; every agent is paid its externality.

    With ``W`` the optimal reported welfare and ``W_-k`` the optimum without agent ``k``:
    buyer ``j`` pays ``sum_i bid_ij x_ij - (W - W_-j)`` and seller ``i`` receives
    ``sum_j ask_ij x_ij + (W - W_-i)``. Truthful reporting is a dominant strategy on both
    sides and nobody loses by taking part, but the payments do not balance: the protocol
    covers a deficit, reported as ``info["deficit"]`` (and as a negative
    ``Outcome.protocol_surplus``). The allocation comes from the planner
    (:func:`mechanisms.welfare.optimum`). An agent that does not trade in it has
    ``W_-k = W`` and needs no extra solve; every trading agent costs one re-solve: HiGHS's
    dual simplex from the previous basis on the compatible pairs with gain, or with
    ``solver="FLOW"`` one network-simplex solve (:func:`mechanisms.welfare.linear_optimum`),
    much faster on small markets.

    Args:
        solver: ``FLOW`` or a cvxpy solver of the welfare programs.
    """

    name = "vcg"
    properties: ClassVar[dict[str, Any]] = {
        "truthful_buyers": True,
        "truthful_sellers": True,
        "budget_balanced": "none",
        "individually_rational": True,
        "efficient": True,
        "markets": "any",
    }

    def __init__(self, solver: str = "HIGHS") -> None:
        try:
            welfare.check_solver(solver)
        except ValueError as exc:
            raise ValueError(f"{self.name}: {exc}") from None
        self.solver = solver

    def _clear(self, market: Market, rng: np.random.Generator | None) -> Outcome:
        best = welfare.optimum(market, solver=self.solver)
        x = np.where(best.allocation > 1e-9, best.allocation, 0.0)
        total = best.info["welfare"]
        n, m = market.shape
        ask, bid = market.ask_matrix(), market.bid_matrix()

        sold, bought = x.sum(axis=1), x.sum(axis=0)
        with_out = _FlowReoptimizer(market) if self.solver == welfare.FLOW else _Reoptimizer(market)
        seller_pivot = np.array(
            [total - with_out.welfare_without(i) if sold[i] > 0 else 0.0 for i in range(n)]
        )
        buyer_pivot = np.array(
            [total - with_out.welfare_without(n + j) if bought[j] > 0 else 0.0 for j in range(m)]
        )
        # each agent's pivot spread over its units: per-trade prices that add up to VCG's
        bonus = np.divide(np.maximum(seller_pivot, 0.0), sold, out=np.zeros(n), where=sold > 0)
        rebate = np.divide(np.maximum(buyer_pivot, 0.0), bought, out=np.zeros(m), where=bought > 0)
        out = Outcome.priced(x, ask + bonus[:, None], bid - rebate[None, :], welfare=total)
        out.info["deficit"] = -out.protocol_surplus
        return out


class _FlowReoptimizer:
    """The welfare optimum with one agent's capacity set to zero, by network simplex."""

    def __init__(self, market: Market) -> None:
        self.market = market

    def welfare_without(self, row: int) -> float:
        """Optimal welfare with agent ``row`` (sellers first, then buyers) taking no part."""
        market = self.market
        n = market.shape[0]
        supply, demand = market.supply.copy(), market.demand.copy()
        if row < n:
            supply[row] = 0.0
        else:
            demand[row - n] = 0.0
        without = dataclasses.replace(market, supply=supply, demand=demand)
        return welfare.linear_optimum(without, solver=welfare.FLOW)[0]


class _Reoptimizer:
    """The welfare LP in HiGHS, re-solved with one agent's capacity set to zero.

    Rows ``0..n-1`` are sellers' supplies, rows ``n..n+m-1`` buyers' demands; columns are
    the compatible pairs with positive gain. Each re-solve starts from the previous basis
    (dual simplex), which is much faster than solving from scratch; the optimal value does
    not depend on the starting basis.
    """

    def __init__(self, market: Market) -> None:
        import highspy

        n, m = market.shape
        gain = market.bid_matrix() - market.ask_matrix()
        usable = market.compatible_matrix() & (gain > 0)
        rows, cols = np.nonzero(usable)
        k = rows.size
        self.capacity = np.concatenate([market.supply, market.demand])
        self.optimal = highspy.HighsModelStatus.kOptimal
        self.highs = None
        if k == 0:
            return
        welfare.silence_highs_banner()
        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = k, n + m
        lp.col_cost_ = -gain[rows, cols]
        lp.col_lower_ = np.zeros(k)
        lp.col_upper_ = np.full(k, highspy.kHighsInf)
        lp.row_lower_ = np.full(n + m, -highspy.kHighsInf)
        lp.row_upper_ = self.capacity.copy()
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.arange(0, 2 * k + 1, 2)
        lp.a_matrix_.index_ = np.column_stack([rows, n + cols]).ravel()
        lp.a_matrix_.value_ = np.ones(2 * k)
        self.highs.passModel(lp)
        self.highs.run()

    def welfare_without(self, row: int) -> float:
        """Optimal welfare with agent ``row``'s capacity set to zero.

        The re-solve starts from the previous basis; where that ends without an optimum (a
        badly scaled market: quantities near 1e9, gains 1e-12 apart), it is solved again
        from scratch.

        Raises:
            UnsupportedMarketError: if even that finds no optimum.
        """
        if self.highs is None:
            return 0.0
        inf = float("inf")
        self.highs.changeRowBounds(row, -inf, 0.0)
        self.highs.run()
        if self.highs.getModelStatus() != self.optimal:
            self.highs.clearSolver()  # the warm start failed: solve cold
            self.highs.run()
        status = self.highs.getModelStatus()
        value = -self.highs.getInfo().objective_function_value
        self.highs.changeRowBounds(row, -inf, float(self.capacity[row]))
        if status != self.optimal:
            raise UnsupportedMarketError(
                f"vcg: the welfare without agent {row} has no optimum the LP solver can find "
                f"({status}); the market is too badly scaled"
            )
        return float(value)
