"""Rationing as an integer network flow (OR-tools' min-cost max-flow).

Sellers' supplies and buyers' demands are arc capacities from a source and to a sink, the
allowed pairs arcs between them. OR-tools works in integers, so quantities and per-unit
gains are scaled to integers first:

* quantities by ``2**QUANTITY_BITS / total`` (``total``: the larger of total supply and total
  demand) and rounded down, so a flow never exceeds a capacity and the volume is short of
  the exact one by at most ``(n + m) * total / 2**QUANTITY_BITS`` (``1e-12 * (n + m)`` of
  the total);
* gains by ``2**GAIN_BITS / max |gain|`` and rounded to the nearest integer, so the total
  gain of the chosen allocation is within ``2**-GAIN_BITS * max |gain| * volume`` (about
  ``1e-6`` of the largest gain per unit moved) of the best one at that volume
  (``tests/test_flow.py`` checks both bounds against HiGHS).

Flows times costs stay within int64 (``QUANTITY_BITS + GAIN_BITS`` = 60 bits). Ties are
broken by OR-tools, deterministically for a given market (arcs are added in row-major pair
order).
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import min_cost_flow

QUANTITY_BITS = 40
GAIN_BITS = 20


def max_flow_min_cost(
    rows: np.ndarray,
    cols: np.ndarray,
    supply: np.ndarray,
    demand: np.ndarray,
    gain: np.ndarray,
) -> np.ndarray:
    """The largest volume over the allowed pairs, and of that volume the largest gain.

    The allowed pairs are ``(rows[k], cols[k])``; among the allocations that reach the
    largest volume, the one with the largest total gain is returned.

    Args:
        rows: seller of each allowed pair.
        cols: buyer of each allowed pair.
        supply: ``(n,)`` seller capacities, ``>= 0``.
        demand: ``(m,)`` buyer capacities, ``>= 0``.
        gain: per-unit gain of each allowed pair (any sign).

    Returns:
        Units on each allowed pair.

    Raises:
        RuntimeError: if OR-tools does not reach an optimum.
    """
    k, n, m = rows.size, supply.size, demand.size
    total = float(max(supply.sum(), demand.sum()))
    if k == 0 or total <= 0:
        return np.zeros(k)
    # divide before multiplying: a subnormal total or gain must not scale to infinity
    cap_s = np.floor(supply / total * 2.0**QUANTITY_BITS).astype(np.int64)
    cap_d = np.floor(demand / total * 2.0**QUANTITY_BITS).astype(np.int64)
    largest = float(np.abs(gain).max())
    unit = gain / largest if largest > 0 else np.zeros(k)
    cost = -np.rint(unit * 2.0**GAIN_BITS).astype(np.int64)
    source, sink = n + m, n + m + 1
    inner = int(min(cap_s.sum(), cap_d.sum()))
    tails = [np.full(n, source), rows, n + np.arange(m)]
    heads = [np.arange(n), n + cols, np.full(m, sink)]
    caps = [cap_s, np.full(k, inner, dtype=np.int64), cap_d]
    costs = [np.zeros(n, np.int64), cost, np.zeros(m, np.int64)]
    solver = min_cost_flow.SimpleMinCostFlow()
    solver.add_arcs_with_capacity_and_unit_cost(
        np.concatenate(tails).astype(np.int32),
        np.concatenate(heads).astype(np.int32),
        np.concatenate(caps),
        np.concatenate(costs),
    )
    solver.set_nodes_supplies(np.array([source, sink], np.int32), np.array([inner, -inner]))
    status = solver.solve_max_flow_with_min_cost()
    if status != solver.OPTIMAL:
        raise RuntimeError(f"network flow: OR-tools ended with status {status}")
    flows = solver.flows(np.arange(n, n + k, dtype=np.int32))
    return np.asarray(flows, dtype=float) / 2.0**QUANTITY_BITS * total
