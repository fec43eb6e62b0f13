"""The descending-clock (Dutch) uniform-price auction."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from mechanisms.allocation import max_volume
from mechanisms.base import Mechanism
from mechanisms.market import Market, Outcome


class DutchAuction(Mechanism):
    """A uniform per-unit price descends from above in ticks until demand meets supply.

    At clock price ``p``:

    * buyer ``j`` wants to buy (all of ``demand_j``) if some compatible seller's data is
      worth at least ``p`` to it: ``max_i bid_ij >= p`` over compatible ``i``;
    * seller ``i`` wants to sell (all of ``supply_i``) if some compatible buyer pays it
      enough: ``min_j ask_ij <= p`` over compatible ``j``.

    The clock starts at the highest compatible bid and descends by ``tick``; it stops at the
    first price where demand ``D(p)`` is at least supply ``S(p)``, or at the lowest clock
    price not below the lowest compatible ask, whichever comes first. Trade happens at that
    price on the pairs that are compatible and where ``ask_ij <= p <= bid_ij``, rationed by
    :func:`mechanisms.allocation.max_volume` (maximum volume, then maximum reported
    surplus). Every traded unit pays ``p``: the auction is budget balanced and individually
    rational on reported values.

    Args:
        tick: clock decrement per step, ``> 0``.
        max_ticks: refuse markets whose clock would need more steps than this.
    """

    name = "dutch"
    properties: ClassVar[dict[str, Any]] = {
        "truthful_buyers": False,
        "truthful_sellers": False,
        "budget_balanced": "strong",
        "individually_rational": True,
        "efficient": False,
        "uniform_price": True,
    }

    def __init__(self, tick: float = 0.01, max_ticks: int = 1_000_000) -> None:
        if not (isinstance(tick, int | float) and math.isfinite(tick) and tick > 0):
            raise ValueError(f"dutch: tick must be a finite number > 0, got {tick!r}")
        if not (isinstance(max_ticks, int) and max_ticks >= 1):
            raise ValueError(f"dutch: max_ticks must be an integer >= 1, got {max_ticks!r}")
        self.tick = float(tick)
        self.max_ticks = max_ticks

    def clear(self, market: Market, rng: np.random.Generator | None = None) -> Outcome:
        """Run the clock and allocate at the stopping price (``rng`` is unused)."""
        ask, bid = market.ask_matrix(), market.bid_matrix()
        active = (
            market.compatible_matrix() & (market.supply[:, None] > 0) & (market.demand[None, :] > 0)
        )
        if not active.any():
            return Outcome.empty(market, ticks=0, reason="no compatible pair")
        best_bid = np.where(active, bid, -np.inf).max(axis=0)  # per buyer
        best_ask = np.where(active, ask, np.inf).min(axis=1)  # per seller
        start = float(best_bid.max())
        floor = float(best_ask.min())
        if start < floor:
            return Outcome.empty(market, ticks=0, reason="every ask above every bid")
        last = math.floor((start - floor) / self.tick + 1e-9)
        if last > self.max_ticks:
            raise ValueError(
                f"dutch: the clock needs {last} ticks from {start:.6g} down to {floor:.6g}; "
                f"raise tick (now {self.tick}) or max_ticks (now {self.max_ticks})"
            )
        for k in range(last + 1):
            price = start - k * self.tick
            demand = market.demand[best_bid >= price].sum()
            supply = market.supply[best_ask <= price].sum()
            if demand >= supply:
                break
        edges = active & (ask <= price) & (bid >= price)
        allocation = max_volume(edges, market.supply, market.demand, bid - ask)
        return Outcome.uniform_price(
            allocation,
            price,
            ticks=k + 1,
            start_price=start,
            demand_at_price=float(demand),
            supply_at_price=float(supply),
            crossed=bool(demand >= supply),
        )
