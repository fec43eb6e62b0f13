"""Allocation rules shared by uniform-price mechanisms."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from mechanisms import flow
from mechanisms.market import Market


def incidence(rows: np.ndarray, cols: np.ndarray, n: int, m: int) -> sp.csr_matrix:
    """Capacity rows of a transportation LP over pairs ``(rows[k], cols[k])``.

    Returns the ``(n + m, k)`` 0/1 matrix whose first ``n`` rows sum each seller's units and
    last ``m`` rows each buyer's, so ``A @ x <= concat(supply, demand)``.
    """
    k = rows.size
    ones = np.ones(k)
    return sp.vstack(
        [
            sp.csr_matrix((ones, (rows, np.arange(k))), shape=(n, k)),
            sp.csr_matrix((ones, (cols, np.arange(k))), shape=(m, k)),
        ]
    ).tocsr()


def max_volume(
    edges: np.ndarray,
    supply: np.ndarray,
    demand: np.ndarray,
    surplus: np.ndarray,
) -> np.ndarray:
    """Ration trade over allowed pairs: maximize volume, then reported surplus.

    The rule is lexicographic: the largest volume any feasible allocation over the allowed
    pairs reaches (a bipartite max-flow) and, among the allocations reaching it, the one
    that maximizes reported surplus ``sum((bid - ask) * x)``: a min-cost max-flow
    (:func:`mechanisms.flow.max_flow_min_cost`, POT's network simplex). Remaining ties
    are broken by the simplex, deterministically for a given market.

    Args:
        edges: ``(n, m)`` bool, the pairs allowed to trade.
        supply: ``(n,)`` seller capacities.
        demand: ``(m,)`` buyer capacities.
        surplus: ``(n, m)`` reported gain per unit on each pair.

    Returns:
        ``(n, m)`` allocation, zero outside ``edges``.

    Raises:
        RuntimeError: if the network simplex does not reach an optimum.
    """
    allocation = np.zeros(edges.shape)
    rows, cols = np.nonzero(edges & (supply[:, None] > 0) & (demand[None, :] > 0))
    if rows.size:
        allocation[rows, cols] = flow.max_flow_min_cost(
            rows, cols, supply, demand, surplus[rows, cols]
        )
    return allocation


def at_price(market: Market, price: float, slack: float = 0.0) -> np.ndarray:
    """Trades at ``price`` on the willing pairs: maximum volume, then maximum surplus.

    The willing pairs are compatible with ``ask_ij <= price + slack`` and
    ``bid_ij >= price - slack``. Homogeneous markets take the greedy path
    (:func:`greedy_allocation`), all others the network flow of :func:`max_volume`; both
    follow the
    same rule.
    """
    if market.compatible is None and market.ask.ndim == 1 and market.bid.ndim == 1:
        return greedy_allocation(market, price, slack)
    ask, bid = market.ask_matrix(), market.bid_matrix()
    edges = market.compatible_matrix() & (ask <= price + slack) & (bid >= price - slack)
    return max_volume(edges, market.supply, market.demand, bid - ask)


def greedy_allocation(market: Market, price: float, slack: float = 0.0) -> np.ndarray:
    """The max-volume, max-surplus allocation at ``price`` for a homogeneous market.

    With one ask per seller, one bid per buyer and no restrictions, any willing seller can
    serve any willing buyer, so the maximum volume is ``min(willing supply, willing
    demand)``, and surplus ``sum(bid_j * bought_j) - sum(ask_i * sold_i)`` is largest when
    the lowest asks sell and the highest bids buy first (ties by index). Units are paired by
    the north-west corner rule; ``slack`` widens who is willing as in :func:`at_price`.
    ``O((n + m) log(n + m))``.
    """
    n, m = market.shape
    allocation = np.zeros((n, m))
    sellers = np.flatnonzero((market.ask <= price + slack) & (market.supply > 0))
    buyers = np.flatnonzero((market.bid >= price - slack) & (market.demand > 0))
    sellers = sellers[np.argsort(market.ask[sellers], kind="stable")]
    buyers = buyers[np.argsort(-market.bid[buyers], kind="stable")]
    volume = min(market.supply[sellers].sum(), market.demand[buyers].sum())
    sold_end = np.cumsum(_fill(market.supply[sellers], volume))
    bought_end = np.cumsum(_fill(market.demand[buyers], volume))
    points = np.unique(np.concatenate([[0.0], sold_end, bought_end]))
    points = points[points <= volume]
    lengths = np.diff(points)
    middles = points[:-1] + lengths / 2
    a = np.searchsorted(sold_end, middles, side="right")
    b = np.searchsorted(bought_end, middles, side="right")
    keep = (lengths > 0) & (a < sellers.size) & (b < buyers.size)
    np.add.at(allocation, (sellers[a[keep]], buyers[b[keep]]), lengths[keep])
    return allocation


def _fill(capacity: np.ndarray, volume: float) -> np.ndarray:
    """Fill ``capacity`` in order up to ``volume``."""
    before = np.concatenate([[0.0], np.cumsum(capacity)[:-1]])
    return np.clip(volume - before, 0.0, capacity)
