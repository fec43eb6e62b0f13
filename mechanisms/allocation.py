"""Allocation rules shared by uniform-price mechanisms."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog


def max_volume(
    edges: np.ndarray,
    supply: np.ndarray,
    demand: np.ndarray,
    surplus: np.ndarray,
) -> np.ndarray:
    """Ration trade over allowed pairs: maximize volume, then reported surplus.

    The rule is lexicographic. First the largest volume any feasible allocation over the
    allowed pairs reaches (a bipartite max-flow, solved as an LP with HiGHS). Among the
    allocations reaching it, the one that maximizes reported surplus
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
    ones = np.ones(k)
    a_ub = sp.vstack(
        [
            sp.csr_matrix((ones, (rows, np.arange(k))), shape=(n, k)),
            sp.csr_matrix((ones, (cols, np.arange(k))), shape=(m, k)),
        ]
    ).tocsr()
    b_ub = np.concatenate([supply, demand])
    first = linprog(-ones, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
    if first.status != 0:
        raise RuntimeError(f"max-volume LP failed: {first.message}")
    volume = -first.fun
    tolerance = 1e-6 * max(1.0, volume)  # above HiGHS' 1e-7 feasibility tolerance
    second = linprog(
        -surplus[rows, cols],
        A_ub=sp.vstack([a_ub, sp.csr_matrix(-ones)]).tocsr(),
        b_ub=np.append(b_ub, -(volume - tolerance)),
        bounds=(0, None),
        method="highs",
    )
    if second.status != 0:
        raise RuntimeError(f"surplus tie-break LP failed: {second.message}")
    allocation[rows, cols] = np.clip(second.x, 0.0, None)
    return allocation
