"""Transportation problems as network flows, solved exactly by the network simplex.

Sellers' supplies and buyers' demands are the masses of a transport problem over the
allowed pairs, solved by the network simplex of POT (Python Optimal Transport,
``ot.emd`` on a sparse cost matrix: only the allowed pairs are arcs). Capacities are
inequalities, so a dummy buyer takes what sellers keep and a dummy seller what buyers
do not get (arcs at no cost, and one between the two dummies). The simplex works in
floating point on quantities divided by the larger of total supply and total demand:
flows and objectives are exact to double-precision rounding, except that a capacity below
:data:`TINY` of that total moves nothing (a balance of the total cannot resolve it).
Returned flows are trimmed so that no seller's or buyer's total exceeds its capacity by
any rounding: a full seller or buyer ends :data:`MARGIN` (relative) below its capacity.

* :func:`max_gain`: the welfare planner's problem, the largest total gain at any volume.
* :func:`max_flow_min_cost`: the rationing rule, the largest volume and, among the
  allocations of that volume, the largest gain. Two solves: the largest volume first, then
  the largest gain with the volume held at that maximum less :data:`VOLUME_SLACK` of it (so
  that rounding in the first solve cannot make the second infeasible).

Ties are broken by the simplex's pivoting, deterministically for a given input (arcs are
passed in row-major pair order). POT's optional backends (JAX, PyTorch, CuPy, TensorFlow)
are switched off through its ``POT_BACKEND_DISABLE_*`` environment variables when this
module is imported (POT itself is imported on the first solve), so that clearing a market
never imports them.
"""

from __future__ import annotations

import os
from functools import cache

import numpy as np
import scipy.sparse as sp

VOLUME_SLACK = 1e-12
"""Relative amount by which the rationing rule's volume may fall short of the maximum."""

TINY = 1e-12
"""Capacities below this share of the larger total (supply or demand) move nothing."""

MARGIN = 1e-11
"""Relative room left below a full capacity, above any summation rounding of its total."""

MAX_ITERATIONS = 10**9
"""Network simplex pivots before a solve is given up as failed."""


for _backend in ("JAX", "PYTORCH", "CUPY", "TENSORFLOW"):  # read by POT on its import
    os.environ.setdefault(f"POT_BACKEND_DISABLE_{_backend}", "1")


@cache
def _emd():
    import ot

    return ot.emd


def max_gain(
    rows: np.ndarray,
    cols: np.ndarray,
    supply: np.ndarray,
    demand: np.ndarray,
    gain: np.ndarray,
) -> np.ndarray:
    """The allocation over the allowed pairs with the largest total gain, at any volume.

    The transportation problem ``max sum(gain * x)`` subject to row sums ``<= supply`` and
    column sums ``<= demand``; pairs with ``gain <= 0`` never carry units.

    Args:
        rows: seller of each allowed pair.
        cols: buyer of each allowed pair.
        supply: ``(n,)`` seller capacities, ``>= 0``.
        demand: ``(m,)`` buyer capacities, ``>= 0``.
        gain: per-unit gain of each allowed pair (any sign).

    Returns:
        Units on each allowed pair.

    Raises:
        RuntimeError: if the network simplex does not reach an optimum.
    """
    keep = gain > 0
    if keep.all():
        return _transport(rows, cols, -gain, supply, demand, 0.0)
    x = np.zeros(rows.size)
    x[keep] = _transport(rows[keep], cols[keep], -gain[keep], supply, demand, 0.0)
    return x


def max_flow_min_cost(
    rows: np.ndarray,
    cols: np.ndarray,
    supply: np.ndarray,
    demand: np.ndarray,
    gain: np.ndarray,
) -> np.ndarray:
    """The largest volume over the allowed pairs, and of that volume the largest gain.

    Arguments as for :func:`max_gain`.

    Returns:
        Units on each allowed pair: their total is within :data:`VOLUME_SLACK` (relative)
        of the largest volume, and their gain the largest at that volume.

    Raises:
        RuntimeError: if the network simplex does not reach an optimum.
    """
    volume = _transport(rows, cols, -np.ones(rows.size), supply, demand, 0.0).sum()
    if volume <= 0:
        return np.zeros(rows.size)
    return _transport(rows, cols, -gain, supply, demand, volume)


def _transport(
    rows: np.ndarray,
    cols: np.ndarray,
    cost: np.ndarray,
    supply: np.ndarray,
    demand: np.ndarray,
    volume: float,
) -> np.ndarray:
    """Least-cost flow over the pairs, moving at least ``volume`` between real agents.

    The volume is held :data:`VOLUME_SLACK` below ``volume``, taken off after dividing by
    the total so that a subnormal volume keeps its slack too.
    """
    n, m, k = supply.size, demand.size, rows.size
    supply = np.asarray(supply, dtype=float)
    demand = np.asarray(demand, dtype=float)
    scale = max(supply.sum(), demand.sum())
    if k == 0 or scale <= 0:
        return np.zeros(k)
    capacity_s = np.where(supply / scale < TINY, 0.0, supply / scale)
    capacity_d = np.where(demand / scale < TINY, 0.0, demand / scale)
    volume = volume / scale * (1 - VOLUME_SLACK)
    if capacity_s.sum() <= 0 or capacity_d.sum() <= 0:
        return np.zeros(k)
    tails = np.concatenate([rows, np.arange(n), np.full(m, n), [n]])
    heads = np.concatenate([cols, np.full(n, m), np.arange(m), [m]])
    costs = np.concatenate([np.asarray(cost, dtype=float), np.zeros(n + m + 1)])
    arcs = sp.coo_array((costs, (tails, heads)), shape=(n + 1, m + 1))  # zeros stay arcs
    # the dummy buyer takes what sellers keep, the dummy seller gives what buyers miss
    a = np.append(capacity_s, max(capacity_d.sum() - volume, 0.0))
    b = np.append(capacity_d, max(capacity_s.sum() - volume, 0.0))
    plan, log = _emd()(a, b, arcs, numItermax=MAX_ITERATIONS, log=True)
    if log["result_code"] != 1:
        raise RuntimeError(f"network simplex: {log['warning'] or 'no optimum'}")
    plan = sp.coo_matrix(plan)
    real = (plan.row < n) & (plan.col < m)
    keys = rows.astype(np.int64) * (m + 1) + cols
    found = plan.row[real].astype(np.int64) * (m + 1) + plan.col[real]
    order = np.argsort(keys, kind="stable")
    where = order[np.searchsorted(keys, found, sorter=order)]
    x = np.zeros(k)
    np.add.at(x, where, np.clip(plan.data[real], 0.0, None) * scale)
    used = np.flatnonzero(x)
    x[used] = _trim(x[used], rows[used], cols[used], supply, demand)
    return x


def _trim(x, rows, cols, supply, demand) -> np.ndarray:
    """Scale saturated rows, then columns, to :data:`MARGIN` below their capacity.

    The margin exceeds the rounding of any summation order of a row or column (at most
    ``terms * 2.2e-16`` relative), so totals never exceed capacities however summed.
    """
    for index, capacity in ((rows, supply), (cols, demand)):
        total = np.bincount(index, weights=x, minlength=capacity.size)
        full = total > capacity * (1 - MARGIN)
        if full.any():
            ratio = np.ones(capacity.size)
            ratio[full] = capacity[full] * (1 - MARGIN) / total[full]
            x = x * ratio[index]
    return x
