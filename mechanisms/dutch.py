"""The descending-clock (Dutch) uniform-price auction."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from mechanisms.allocation import at_price
from mechanisms.base import Mechanism, UnsupportedMarketError, is_number
from mechanisms.market import Market, Outcome

CLOCKS = ("exact", "ticks")
BINNED_STEPS_PER_AGENT = 4
"""The exact clock bins quotes by clock step when the clock has at most this many steps
per agent, and bisects otherwise (the bins' memory grows with the number of steps)."""
SNAP = 1e-9
"""A quote within this fraction of a tick of a clock price counts as at that price, so that
quotes on the tick grid (an ask of 1.00 at tick 0.01) are not lost to rounding."""


class DutchAuction(Mechanism):
    """A uniform per-unit price descends from above in ticks until demand meets supply.

    The clock prices are ``p_k = start - k * tick``, from ``start``, the highest compatible
    bid, down to the last step ``K - 1`` not below the lowest compatible ask. At ``p_k``:

    * buyer ``j`` wants to buy (all of ``demand_j``) if some compatible seller's data is
      worth at least ``p_k`` to it: ``max_i bid_ij >= p_k`` over compatible ``i``;
    * seller ``i`` wants to sell (all of ``supply_i``) if some compatible buyer pays it
      enough: ``min_j ask_ij <= p_k`` over compatible ``j``.

    Each best quote is placed on the clock's steps once, to within :data:`SNAP` of a tick
    (buyer ``j`` is in from step ``ceil((start - bid_j) / tick)``, seller ``i`` up to step
    ``floor((start - ask_i) / tick)``), and both clocks read demand ``D(k)`` and supply
    ``S(k)`` off these integer steps. The clock stops at the first step with ``D >= S``, or
    at step ``K - 1``. Trade happens at that price on the compatible pairs with
    ``ask_ij <= p <= bid_ij`` (to within :data:`SNAP` of a tick), rationed by
    :func:`mechanisms.allocation.at_price` (maximum volume, then maximum reported surplus).
    Every traded unit pays ``p``: the auction is budget balanced and individually rational on
    reported values.

    ``D(k) - S(k)`` never decreases as the clock descends, so the stopping step is the first
    clock step of a monotone predicate. ``clock="exact"`` reads it off per-step histograms
    of the steps in ``O(n + m + K)``; only when demand and supply at the stop, or one step
    before it, tie to within rounding (``1e-9`` of the quantities) does it evaluate them as
    the ticking clock does, and it bisects over the steps (``O((n + m) log K)``) when that
    check fails or the clock has more than ``BINNED_STEPS_PER_AGENT`` steps per agent. Both
    come after the ``O(nm)`` pass that reduces per-pair values to each agent's best
    compatible ask or bid. ``clock="ticks"`` runs the clock one tick at a time
    (``O((n + m) K)``), for studying the clock itself. Both clocks return the same price and
    allocation.

    Args:
        tick: clock decrement per step, ``> 0``.
        clock: ``"exact"`` (histograms of the steps) or ``"ticks"`` (tick by tick).
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
        if not (is_number(tick) and tick > 0):
            raise ValueError(f"dutch: tick must be a finite number > 0, got {tick!r}")
        if clock not in CLOCKS:
            raise ValueError(f"dutch: clock must be one of {', '.join(CLOCKS)}, got {clock!r}")
        if not (is_number(max_ticks) and isinstance(max_ticks, int) and max_ticks >= 1):
            raise ValueError(f"dutch: max_ticks must be an integer >= 1, got {max_ticks!r}")
        self.tick = float(tick)
        self.clock = clock
        self.max_ticks = max_ticks

    def _clear(self, market: Market, rng: np.random.Generator | None) -> Outcome:
        price, info = self.clearing_price(market)
        if price is None:
            return Outcome.empty(market, **info)
        allocation = at_price(market, price, slack=SNAP * self.tick)
        return Outcome.uniform_price(allocation, price, **info)

    def clearing_price(self, market: Market) -> tuple[float | None, dict]:
        """Where the clock stops, without allocating.

        Returns:
            The clearing price (``None`` if nothing can trade) and diagnostics: ``ticks``
            (clock steps to the stop), ``evaluations`` (demand/supply evaluations made as
            the ticking clock makes them), ``start_price``, ``demand_at_price``,
            ``supply_at_price``, ``crossed``, ``binned_fallback`` (the exact clock's
            histograms could not decide the stop and it bisected instead).

        Raises:
            UnsupportedMarketError: if the clock would need more than ``max_ticks`` steps.
        """
        best_bid, best_ask = _best_quotes(market)
        start = float(best_bid.max(initial=-np.inf))  # -inf: no buyer (or none compatible)
        floor = float(best_ask.min(initial=np.inf))
        if not (math.isfinite(start) and math.isfinite(floor)):  # quotes are finite or +-inf
            return None, {"ticks": 0, "reason": "no compatible pair"}
        # the lowest ask's seller leaves after step `last`, by the arithmetic of `_steps`
        last = math.floor((start + (1 + SNAP) * self.tick - floor) * (1.0 / self.tick)) - 1
        if last < 0:
            return None, {"ticks": 0, "reason": "every ask above every bid"}
        if last > self.max_ticks:
            raise UnsupportedMarketError(
                f"dutch: the clock needs {last} ticks from {start:.6g} down to {floor:.6g}; "
                f"raise tick (now {self.tick}) or max_ticks (now {self.max_ticks})"
            )
        enter, leave = _steps(best_bid, best_ask, start, self.tick, last)

        def excess(k: int) -> tuple[float, float]:
            return float(market.demand @ (enter <= k)), float(market.supply @ (leave > k))

        fallback = False  # the histograms could not decide the stop (exact clock only)
        if self.clock == "ticks":
            for k in range(last + 1):
                demand, supply = excess(k)
                if demand >= supply:
                    break
            evaluations = k + 1
        else:
            k, evaluations = None, 0
            if last <= BINNED_STEPS_PER_AGENT * (best_bid.size + best_ask.size):
                k, demand, supply, certain = _binned_stop(market, enter, leave, last)
                if not certain:  # a near tie: decide it as the ticking clock does
                    before = excess(k - 1) if k > 0 else (0.0, 1.0)
                    demand, supply = excess(k)
                    evaluations = 2 if k > 0 else 1
                    if not (before[0] < before[1] and (demand >= supply or k == last)):
                        k, fallback = None, True
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


def _steps(
    best_bid: np.ndarray, best_ask: np.ndarray, start: float, tick: float, last: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each buyer's first clock step and each seller's last clock step plus one.

    Buyer ``j`` is in at steps ``k >= ceil((start - bid_j) / tick - SNAP)`` and seller ``i``
    at steps ``k < floor((start - ask_i) / tick + SNAP) + 1``; agents without a partner
    (quote ``-inf`` or ``+inf``) get ``last + 1`` and ``0``, and are never in.
    """
    inv = 1.0 / tick
    enter = np.subtract(start, best_bid)  # >= 0
    enter *= inv
    enter -= SNAP
    np.ceil(enter, out=enter)  # >= -0.0
    np.minimum(enter, last + 1, out=enter)
    leave = np.subtract(start + (1 + SNAP) * tick, best_ask)
    leave *= inv
    np.maximum(leave, 0.0, out=leave)  # <= last + 1; truncation is floor from here on
    return enter.astype(np.intp), leave.astype(np.intp)


def _binned_stop(
    market: Market, enter: np.ndarray, leave: np.ndarray, last: int
) -> tuple[int, float, float, bool]:
    """The clock's stopping step from histograms of the steps, in ``O(n + m + K)``.

    Cumulative sums of the demand binned by buyers' first steps and of the supply binned by
    sellers' leaving steps give ``D(k)`` and ``S(k)`` at every step at once. They add in
    another order than the ticking clock's sums, so the stop is certain only when ``D - S``
    is clear of zero by more than rounding (``1e-9`` of all quantities) at the stop and one
    step before it.

    Returns:
        The step, ``D`` and ``S`` there, and whether the step is certain.
    """
    steps = last + 2
    demand = np.bincount(enter, weights=market.demand, minlength=steps).cumsum()
    gone = np.bincount(leave, weights=market.supply, minlength=steps).cumsum()
    supply = gone[-1] - gone[: last + 1]  # sellers whose leaving step is after k
    margin = demand[: last + 1] - supply
    k = last if margin[-1] < 0 else int((margin >= 0).argmax())  # margin never decreases
    tol = 1e-9 * (demand[-1] + gone[-1])
    certain = (k == last or margin[k] > tol) and (k == 0 or margin[k - 1] < -tol)
    return k, float(demand[k]), float(supply[k]), bool(certain)


def _best_quotes(market: Market) -> tuple[np.ndarray, np.ndarray]:
    """Each buyer's highest compatible bid and each seller's lowest compatible ask.

    Agents with zero quantity, or without a compatible partner of positive quantity, get
    ``-inf`` (buyers) or ``+inf`` (sellers) and never enter the clock.
    """
    homogeneous = market.compatible is None and market.ask.ndim == 1 and market.bid.ndim == 1
    if homogeneous and market.all_positive:
        return market.bid, market.ask
    has_supply, has_demand = market.supply > 0, market.demand > 0
    if homogeneous:
        best_bid = np.where(has_demand & has_supply.any(), market.bid, -np.inf)
        best_ask = np.where(has_supply & has_demand.any(), market.ask, np.inf)
        return best_bid, best_ask
    active = market.compatible_matrix() & has_supply[:, None] & has_demand[None, :]
    best_bid = np.where(active, market.bid_matrix(), -np.inf).max(axis=0, initial=-np.inf)
    best_ask = np.where(active, market.ask_matrix(), np.inf).min(axis=1, initial=np.inf)
    return best_bid, best_ask
