"""Hypothesis strategies for markets, kept in one module for every property test."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import mechanisms

_price = st.floats(0.0, 10.0, allow_nan=False, allow_infinity=False)
_quantity = st.floats(0.0, 20.0, allow_nan=False, allow_infinity=False)


@st.composite
def markets(draw, max_sellers: int = 6, max_buyers: int = 6) -> mechanisms.Market:
    """Random markets: scalar or per-pair asks and bids, optional compatibility."""
    n = draw(st.integers(1, max_sellers))
    m = draw(st.integers(1, max_buyers))
    supply = draw(hnp.arrays(float, n, elements=_quantity))
    demand = draw(hnp.arrays(float, m, elements=_quantity))
    ask_shape = draw(st.sampled_from([(n,), (n, m)]))
    bid_shape = draw(st.sampled_from([(m,), (n, m)]))
    ask = draw(hnp.arrays(float, ask_shape, elements=_price))
    bid = draw(hnp.arrays(float, bid_shape, elements=_price))
    compatible = draw(st.none() | hnp.arrays(bool, (n, m)))
    return mechanisms.Market(supply, demand, ask, bid, compatible)


def per_unit_prices(outcome: mechanisms.Outcome) -> tuple[np.ndarray, np.ndarray]:
    """Average per-unit price each seller receives and each buyer pays (0 where no trade)."""
    sold, bought = outcome.allocation.sum(axis=1), outcome.allocation.sum(axis=0)
    seller = np.divide(outcome.seller_revenue, sold, out=np.zeros_like(sold), where=sold > 0)
    buyer = np.divide(outcome.buyer_payment, bought, out=np.zeros_like(bought), where=bought > 0)
    return seller, buyer
