"""Vickrey-Clarke-Groves double auction with Clarke-pivot payments."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np

from mechanisms import welfare
from mechanisms.base import Mechanism
from mechanisms.market import Market, Outcome


class VCG(Mechanism):
    """Welfare-maximizing allocation; every agent is paid its externality.

    With ``W`` the optimal reported welfare and ``W_-k`` the optimum without agent ``k``:
    buyer ``j`` pays ``sum_i bid_ij x_ij - (W - W_-j)`` and seller ``i`` receives
    ``sum_j ask_ij x_ij + (W - W_-i)``. Truthful reporting is a dominant strategy on both
    sides and nobody loses by taking part, but the payments do not balance: the protocol
    covers a deficit, reported as ``info["deficit"]`` (and as a negative
    ``Outcome.protocol_surplus``). An agent that does not trade in the optimum has
    ``W_-k = W`` and needs no extra solve; every trading agent costs one re-solve of the
    cached planner program.

    Args:
        solver: cvxpy solver of the welfare programs.
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

    def __init__(self, solver: str = welfare.DEFAULT_SOLVER) -> None:
        self.solver = solver

    def _clear(self, market: Market, rng: np.random.Generator | None) -> Outcome:
        best = welfare.optimum(market, solver=self.solver)
        x = np.where(best.allocation > 1e-9, best.allocation, 0.0)
        total = best.info["welfare"]
        n, m = market.shape
        ask, bid = market.ask_matrix(), market.bid_matrix()

        def without(side: str, k: int) -> float:
            qty = getattr(market, side).copy()
            qty[k] = 0.0
            reduced = dataclasses.replace(market, **{side: qty})
            return welfare.optimum(reduced, solver=self.solver).info["welfare"]

        sold, bought = x.sum(axis=1), x.sum(axis=0)
        seller_pivot = np.array(
            [total - without("supply", i) if sold[i] > 0 else 0.0 for i in range(n)]
        )
        buyer_pivot = np.array(
            [total - without("demand", j) if bought[j] > 0 else 0.0 for j in range(m)]
        )
        revenue = (ask * x).sum(axis=1) + np.maximum(seller_pivot, 0.0)
        payment = (bid * x).sum(axis=0) - np.maximum(buyer_pivot, 0.0)
        return Outcome(
            x,
            revenue,
            payment,
            None,
            {"welfare": total, "deficit": float(revenue.sum() - payment.sum())},
        )
