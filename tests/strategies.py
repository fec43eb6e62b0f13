"""Hypothesis strategies for markets, kept in one module for every property test."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import mechanisms

_price = st.floats(0.0, 10.0, allow_nan=False, allow_infinity=False)
_quantity = st.floats(0.0, 20.0, allow_nan=False, allow_infinity=False)


@st.composite
def markets(
    draw,
    max_sellers: int = 6,
    max_buyers: int = 6,
    homogeneous: bool = False,
    unit: bool = False,
) -> mechanisms.Market:
    """Random markets.

    Args:
        max_sellers: largest ``n``.
        max_buyers: largest ``m``.
        homogeneous: one ask per seller, one bid per buyer, no restrictions; otherwise asks
            and bids are scalar or per pair and compatibility is optional.
        unit: every agent has exactly one unit.
    """
    n = draw(st.integers(1, max_sellers))
    m = draw(st.integers(1, max_buyers))
    if unit:
        supply, demand = np.ones(n), np.ones(m)
    else:
        supply = draw(hnp.arrays(float, n, elements=_quantity))
        demand = draw(hnp.arrays(float, m, elements=_quantity))
    ask_shape = (n,) if homogeneous else draw(st.sampled_from([(n,), (n, m)]))
    bid_shape = (m,) if homogeneous else draw(st.sampled_from([(m,), (n, m)]))
    ask = draw(hnp.arrays(float, ask_shape, elements=_price))
    bid = draw(hnp.arrays(float, bid_shape, elements=_price))
    compatible = None if homogeneous else draw(st.none() | hnp.arrays(bool, (n, m)))
    return mechanisms.Market(supply, demand, ask, bid, compatible)


@st.composite
def misreports(draw, market: mechanisms.Market) -> tuple[str, int, mechanisms.Market]:
    """A random agent and a market in which only that agent's report changed."""
    side = draw(st.sampled_from(["seller", "buyer"]))
    n, m = market.shape
    k = draw(st.integers(0, (n if side == "seller" else m) - 1))
    ask, bid = market.ask.copy(), market.bid.copy()
    if side == "seller":
        row = ask[k] if ask.ndim == 1 else ask[k, :]
        ask[k] = draw(_report_like(row))
    else:
        col = bid[k] if bid.ndim == 1 else bid[:, k]
        if bid.ndim == 1:
            bid[k] = draw(_report_like(col))
        else:
            bid[:, k] = draw(_report_like(col))
    return side, k, dataclasses.replace(market, ask=ask, bid=bid)


def _report_like(true):
    shape = np.shape(true)
    if shape == ():
        return _price
    return hnp.arrays(float, shape, elements=_price)


def per_unit_prices(outcome: mechanisms.Outcome) -> tuple[np.ndarray, np.ndarray]:
    """Average per-unit price each seller receives and each buyer pays (0 where no trade)."""
    sold, bought = outcome.allocation.sum(axis=1), outcome.allocation.sum(axis=0)
    seller = np.divide(outcome.seller_revenue, sold, out=np.zeros_like(sold), where=sold > 0)
    buyer = np.divide(outcome.buyer_payment, bought, out=np.zeros_like(bought), where=bought > 0)
    return seller, buyer


_LIMIT = mechanisms.market.MAX_MAGNITUDE
_wild_quantity = st.one_of(
    st.sampled_from([0.0, 1e-9, 1.0, 20.0, _LIMIT]), st.floats(0.0, _LIMIT, allow_subnormal=True)
)
_wild_price = st.one_of(
    st.sampled_from([0.0, 1.0, 1.5, 2.0, -_LIMIT, _LIMIT, 1e-12]),  # ties and extremes
    st.floats(-_LIMIT, _LIMIT, allow_subnormal=True),
)


@st.composite
def wild_markets(draw, max_sellers: int = 5, max_buyers: int = 5) -> mechanisms.Market:
    """Valid markets at the edges: empty sides, zero quantities, tied and extreme (finite)
    prices, and no compatible pair at all."""
    n = draw(st.integers(0, max_sellers))
    m = draw(st.integers(0, max_buyers))
    supply = draw(hnp.arrays(float, n, elements=_wild_quantity))
    demand = draw(hnp.arrays(float, m, elements=_wild_quantity))
    ask = draw(hnp.arrays(float, draw(st.sampled_from([(n,), (n, m)])), elements=_wild_price))
    bid = draw(hnp.arrays(float, draw(st.sampled_from([(m,), (n, m)])), elements=_wild_price))
    compatible = draw(
        st.sampled_from([None, np.zeros((n, m), bool)]) | hnp.arrays(bool, (n, m)).map(np.array)
    )
    return mechanisms.Market(supply, demand, ask, bid, compatible)
