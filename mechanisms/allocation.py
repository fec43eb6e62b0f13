"""Allocation rules shared by uniform-price mechanisms."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog


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
    that maximizes reported surplus
    ``sum((bid - ask) * x)``. Remaining ties are broken by HiGHS, deterministically for a
    given market.

    Args:
        edges: ``(n, m)`` bool, the pairs allowed to trade.
        supply: ``(n,)`` seller capacities.
        demand: ``(m,)`` buyer capacities.
        surplus: ``(n, m)`` reported gain per unit on each pair.

    Returns:
        ``(n, m)`` allocation, zero outside ``edges``.

    Raises:
        RuntimeError: if HiGHS does not solve the LP.
    """
    n, m = edges.shape
    allocation = np.zeros((n, m))
    rows, cols = np.nonzero(edges & (supply[:, None] > 0) & (demand[None, :] > 0))
    k = rows.size
    if k == 0:
        return allocation
    a_ub = incidence(rows, cols, n, m)
    scale = float(max(supply.max(), demand.max()))  # solve with quantities of order 1
    gain = surplus[rows, cols]
    gain = gain / max(float(np.abs(gain).max()), np.finfo(float).tiny)  # in [-1, 1]
    # One LP, lexicographic by weight: any allocation short of the maximum volume by d can be
    # augmented along a path of at most 2 min(n, m) + 1 pairs, which changes (normalized)
    # surplus by at most d * (path length); a volume weight above that makes volume first.
    weight = 2 * min(n, m) + 2
    result = linprog(
        -(weight + gain),
        A_ub=a_ub,
        b_ub=np.concatenate([supply, demand]) / scale,
        bounds=(0, None),
        method="highs",
    )
    if result.status != 0:
        raise RuntimeError(f"max-volume LP failed: {result.message}")
    allocation[rows, cols] = np.clip(result.x, 0.0, None) * scale
    return allocation
