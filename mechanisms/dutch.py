"""The descending-clock (Dutch) uniform-price auction."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from mechanisms.allocation import at_price
from mechanisms.base import Mechanism
from mechanisms.market import Market, Outcome

CLOCKS = ("exact", "ticks")
BINNED_STEPS_PER_AGENT = 4
"""The exact clock bins quotes by clock step when the clock has at most this many steps
per agent, and bisects otherwise (the bins' memory grows with the number of steps)."""


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
    :func:`mechanisms.allocation.at_price` (maximum volume, then maximum reported surplus).
    Every traded unit pays ``p``: the auction is budget balanced and individually rational on
    reported values.

    ``D(p) - S(p)`` never decreases as the clock descends, so the stopping step is the first
    clock step of a monotone predicate. ``clock="exact"`` reads it off per-step histograms
    of the quotes in ``O(n + m + K)`` for ``K`` clock steps and confirms it with two
    evaluations of ``D`` and ``S`` made exactly as the ticking clock makes them; when the
    clock has more than ``BINNED_STEPS_PER_AGENT`` steps per agent, or the check fails, it
    bisects over the steps instead (``O((n + m) log K)``). Both come after the ``O(nm)``
    pass that reduces per-pair values to each agent's best compatible ask or bid.
    ``clock="ticks"`` runs the clock one tick at a time (``O((n + m) K)``), for studying
    the clock itself. Both clocks return the same price and allocation.

    Args:
        tick: clock decrement per step, ``> 0``.
        clock: ``"exact"`` (bisection) or ``"ticks"`` (tick by tick).
        max_ticks: refuse markets whose clock would need more steps than this.
    """

    name = "dutch"
    properties: ClassVar[dict[str, Any]] = {
        "truthful_buyers": False,
        "truthful_sellers": False,
        "budget_balanced": "strong",
        "individually_rational": True,
        "efficient": False,
        "markets": "any",
    }

    def __init__(self, tick: float = 0.01, clock: str = "exact", max_ticks: int = 1_000_000):
        if not (isinstance(tick, int | float) and math.isfinite(tick) and tick > 0):
            raise ValueError(f"dutch: tick must be a finite number > 0, got {tick!r}")
        if clock not in CLOCKS:
            raise ValueError(f"dutch: clock must be one of {', '.join(CLOCKS)}, got {clock!r}")
        if not (isinstance(max_ticks, int) and max_ticks >= 1):
            raise ValueError(f"dutch: max_ticks must be an integer >= 1, got {max_ticks!r}")
        self.tick = float(tick)
        self.clock = clock
        self.max_ticks = max_ticks

    def _clear(self, market: Market, rng: np.random.Generator | None) -> Outcome:
        price, info = self.clearing_price(market)
        if price is None:
            return Outcome.empty(market, **info)
        return Outcome.uniform_price(at_price(market, price), price, **info)

    def clearing_price(self, market: Market) -> tuple[float | None, dict]:
        """Where the clock stops, without allocating.

        Returns:
            The clearing price (``None`` if nothing can trade) and diagnostics: ``ticks``
            (clock steps to the stop), ``evaluations`` (demand/supply evaluations made),
            ``start_price``, ``demand_at_price``, ``supply_at_price``, ``crossed``,
            ``binned_fallback`` (the exact clock's binned stop failed its check and it
            bisected instead).

        Raises:
            ValueError: if the clock would need more than ``max_ticks`` steps.
        """
        best_bid, best_ask = _best_quotes(market)
        start, floor = float(best_bid.max()), float(best_ask.min())
        if not (math.isfinite(start) and math.isfinite(floor)):  # quotes are finite or +-inf
            return None, {"ticks": 0, "reason": "no compatible pair"}
        if start < floor:
            return None, {"ticks": 0, "reason": "every ask above every bid"}
        last = math.floor((start - floor) / self.tick + 1e-9)
        if last > self.max_ticks:
            raise ValueError(
                f"dutch: the clock needs {last} ticks from {start:.6g} down to {floor:.6g}; "
                f"raise tick (now {self.tick}) or max_ticks (now {self.max_ticks})"
            )

        def excess(k: int) -> tuple[float, float]:
            price = start - k * self.tick
            return (
                float(market.demand @ (best_bid >= price)),
                float(market.supply @ (best_ask <= price)),
            )

        fallback = False  # the binned stop failed its check (exact clock only)
        if self.clock == "ticks":
            for k in range(last + 1):
                demand, supply = excess(k)
                if demand >= supply:
                    break
            evaluations = k + 1
        else:
            k, evaluations = None, 0
            if last <= BINNED_STEPS_PER_AGENT * (best_bid.size + best_ask.size):
                k = _binned_stop(market, best_bid, best_ask, start, self.tick, last)
                # the stop is k exactly when the clock has not crossed at k - 1 and has
                # crossed at k (or k is the floor): D - S never decreases as k grows
                before = excess(k - 1) if k > 0 else (0.0, 1.0)
                demand, supply = excess(k)
                evaluations = 2 if k > 0 else 1
                if not (before[0] < before[1] and (demand >= supply or k == last)):
                    k, fallback = None, True  # a quote on a step boundary rounded off
            if k is None:
                lo, hi = 0, last
                while lo < hi:  # first k in [0, last] with D >= S, or last
                    mid = (lo + hi) // 2
                    demand, supply = excess(mid)
                    evaluations += 1
                    if demand >= supply:
                        hi = mid
                    else:
                        lo = mid + 1
                k = lo
                demand, supply = excess(k)
        return start - k * self.tick, {
            "ticks": k + 1,
            "evaluations": evaluations,
            "start_price": start,
            "demand_at_price": demand,
            "supply_at_price": supply,
            "crossed": bool(demand >= supply),
            "binned_fallback": fallback,
        }


def _binned_stop(
    market: Market, best_bid: np.ndarray, best_ask: np.ndarray, start: float, tick: float, last: int
) -> int:
    """The clock's stopping step from per-step histograms of the quotes, in ``O(n + m + K)``.

    Buyer ``j`` is in from step ``ceil((start - bid_j) / tick)`` on and seller ``i`` up to
    step ``floor((start - ask_i) / tick)``; cumulative sums of the quantities binned by those
    steps give demand and supply at every step at once. Rounding can put a quote lying on
    a step boundary one step off, so the caller confirms the step with two exact
    evaluations.
    """
    enters = np.clip(np.ceil((start - best_bid) / tick), 0, last + 1).astype(np.intp)
    after = np.subtract(start + tick, best_ask)  # 1 + the seller's last step, in place:
    after /= tick
    np.clip(after, 0, last + 1, out=after)  # truncation is floor from here on
    demand = np.bincount(enters, weights=market.demand, minlength=last + 2).cumsum()
    gone = np.bincount(after.astype(np.intp), weights=market.supply, minlength=last + 2).cumsum()
    supply = gone[-1] - gone[: last + 1]  # sellers whose last step is >= k
    crossed = demand[: last + 1] >= supply
    return int(crossed.argmax()) if crossed.any() else last


def _best_quotes(market: Market) -> tuple[np.ndarray, np.ndarray]:
    """Each buyer's highest compatible bid and each seller's lowest compatible ask.

    Agents with zero quantity, or without a compatible partner of positive quantity, get
    ``-inf`` (buyers) or ``+inf`` (sellers) and never enter the clock.
    """
    has_supply, has_demand = market.supply > 0, market.demand > 0
    if market.compatible is None and market.ask.ndim == 1 and market.bid.ndim == 1:
        if has_supply.all() and has_demand.all():
            return market.bid, market.ask
        best_bid = np.where(has_demand & has_supply.any(), market.bid, -np.inf)
        best_ask = np.where(has_supply & has_demand.any(), market.ask, np.inf)
        return best_bid, best_ask
    active = market.compatible_matrix() & has_supply[:, None] & has_demand[None, :]
    best_bid = np.where(active, market.bid_matrix(), -np.inf).max(axis=0, initial=-np.inf)
    best_ask = np.where(active, market.ask_matrix(), np.inf).min(axis=1, initial=np.inf)
    return best_bid, best_ask
