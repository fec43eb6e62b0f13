"""Sealed-bid, pay-as-bid double auction."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from mechanisms import welfare
from mechanisms.base import Mechanism
from mechanisms.market import Market, Outcome


class FirstPrice(Mechanism):
    """Allocate to maximize reported welfare; everyone pays or receives its own report.

    The allocation maximizes ``sum((bid - ask) * x)`` over compatible pairs (the welfare
    planner on the reported market). Buyer ``j`` pays ``sum_i bid_ij * x_ij``, seller ``i``
    receives ``sum_j ask_ij * x_ij``; the spread goes to the protocol, which therefore never
    pays in (weak budget balance). Nobody is better off than with zero trade at their
    reports, so agents shade their reports in practice.

    Args:
        solver: cvxpy solver of the allocation program.
    """

    name = "first_price"
    properties: ClassVar[dict[str, Any]] = {
        "truthful_buyers": False,
        "truthful_sellers": False,
        "budget_balanced": "weak",
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
        x = welfare.optimum(market, solver=self.solver).allocation
        x = np.where(x > 1e-9, x, 0.0)
        out = Outcome.priced(x, market.ask_matrix(), market.bid_matrix())
        out.info["spread"] = out.protocol_surplus
        return out
