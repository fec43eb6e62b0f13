"""McAfee's trade-reduction double auction for homogeneous data units."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from mechanisms.allocation import greedy_allocation
from mechanisms.base import Mechanism
from mechanisms.market import Market, Outcome


class McAfee(Mechanism):
    """McAfee (1992), generalized to agents with several (divisible) units.

    Only for homogeneous markets: one ask per seller, one bid per buyer, no intent
    restrictions (a market with per-pair values or incompatible pairs is rejected with
    :class:`~mechanisms.base.UnsupportedMarketError`). Quantities are public; only prices
    are reported.

    Buyers are ranked by bid (highest first), sellers by ask (lowest first), ties by index.
    The efficient trade fills the highest bids from the lowest asks while ``bid >= ask``;
    ``K`` is the last buyer and ``L`` the last seller it uses. With ``b_{K+1}`` and
    ``a_{L+1}`` the first bid and ask it leaves out entirely, the candidate price is
    ``p0 = (b_{K+1} + a_{L+1}) / 2``.

    * If both exist and ``a_L <= p0 <= b_K``, the efficient trade happens at ``p0`` (strong
      budget balance).
    * Otherwise the marginal buyer ``K`` and seller ``L`` are excluded; buyers ranked above
      ``K`` and sellers ranked above ``L`` trade ``min`` of their total demand and supply,
      the long side rationed in proportion to quantity. Buyers pay ``b_K``, sellers receive
      ``a_L``, and the protocol keeps ``(b_K - a_L)`` per unit (weak budget balance).

    With one unit per agent this is McAfee's mechanism exactly, and truthful reporting is a
    dominant strategy on both sides. With several units per agent it is not: where the
    efficient trade ends inside an agent's quantity decides who is marginal, and a report
    that moves that boundary can pay.
    """

    name = "mcafee"
    properties: ClassVar[dict[str, Any]] = {
        "truthful_buyers": "unit",
        "truthful_sellers": "unit",
        "budget_balanced": "weak",
        "individually_rational": True,
        "efficient": False,
        "markets": "homogeneous",
    }

    def _clear(self, market: Market, rng: np.random.Generator | None) -> Outcome:
        buyers = np.flatnonzero(market.demand > 0)
        sellers = np.flatnonzero(market.supply > 0)
        buyers = buyers[np.argsort(-market.bid[buyers], kind="stable")]
        sellers = sellers[np.argsort(market.ask[sellers], kind="stable")]
        bids, asks = market.bid[buyers], market.ask[sellers]
        if bids.size == 0 or asks.size == 0:
            return Outcome.empty(market, case="no trade")
        # Walk the demand and supply step curves: on each quantity segment the marginal bid
        # and ask are constant; bid >= ask holds on a prefix of segments (the efficient trade).
        cum_d, cum_s = np.cumsum(market.demand[buyers]), np.cumsum(market.supply[sellers])
        ends = np.unique(np.concatenate([cum_d, cum_s]))
        ends = ends[ends <= min(cum_d[-1], cum_s[-1])]
        k_at = np.minimum(np.searchsorted(cum_d, ends, side="left"), bids.size - 1)
        l_at = np.minimum(np.searchsorted(cum_s, ends, side="left"), asks.size - 1)
        gains = bids[k_at] >= asks[l_at]
        if not gains[0]:
            return Outcome.empty(market, case="no trade")
        last = int(np.argmin(gains)) - 1 if not gains.all() else gains.size - 1
        big_k, big_l = int(k_at[last]), int(l_at[last])  # K and L of the docstring
        if big_k + 1 < bids.size and big_l + 1 < asks.size:
            p0 = (bids[big_k + 1] + asks[big_l + 1]) / 2
            if asks[big_l] <= p0 <= bids[big_k]:
                allocation = greedy_allocation(market, p0)
                return Outcome.uniform_price(allocation, p0, case="efficient at p0")
        # Trade reduction: exclude the marginal buyer and seller.
        in_b, in_s = buyers[:big_k], sellers[:big_l]
        volume = min(market.demand[in_b].sum(), market.supply[in_s].sum())
        n, m = market.shape
        allocation = np.zeros((n, m))
        if volume > 0:
            sold = market.supply[in_s] * (volume / market.supply[in_s].sum())
            bought = market.demand[in_b] * (volume / market.demand[in_b].sum())
            allocation[np.ix_(in_s, in_b)] = np.outer(sold, bought) / volume
        price_b, price_s = float(bids[big_k]), float(asks[big_l])
        return Outcome(
            allocation,
            price_s * allocation.sum(axis=1),
            price_b * allocation.sum(axis=0),
            None,
            {"case": "trade reduction", "buyer_price": price_b, "seller_price": price_s},
        )
