"""The network-flow rationing against an independent two-stage LP (HiGHS), with the
tolerances its integer scaling states (mechanisms/flow.py)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

from mechanisms import flow
from mechanisms.allocation import max_volume


def _lexicographic_lp(edges, supply, demand, surplus):
    """Largest volume, then largest surplus at that volume: two LPs in HiGHS."""
    rows, cols = np.nonzero(edges)
    k, n, m = rows.size, supply.size, demand.size
    a = sp.vstack(
        [
            sp.csr_matrix((np.ones(k), (rows, np.arange(k))), shape=(n, k)),
            sp.csr_matrix((np.ones(k), (cols, np.arange(k))), shape=(m, k)),
        ]
    )
    b = np.concatenate([supply, demand])
    volume = -linprog(-np.ones(k), A_ub=a, b_ub=b, method="highs").fun
    floor = sp.csr_matrix(-np.ones((1, k)))
    best = linprog(
        -surplus[rows, cols],
        A_ub=sp.vstack([a, floor]),
        b_ub=np.append(b, -volume * (1 - 1e-12)),
        method="highs",
    )
    return volume, -best.fun


def _market(rng, n, m, ties):
    supply, demand = rng.uniform(0, 20, n), rng.uniform(0, 30, m)
    supply[rng.random(n) < 0.1] = 0.0
    if ties:  # few distinct surpluses: many optimal allocations
        surplus = rng.choice([-1.0, 0.0, 0.5, 1.0], size=(n, m))
    else:
        surplus = rng.normal(size=(n, m))
    edges = rng.random((n, m)) < 0.6
    return edges, supply, demand, surplus


@pytest.mark.parametrize("seed", range(12))
def test_rationing_reaches_the_largest_volume_then_the_largest_surplus(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 40)), int(rng.integers(1, 25))
    edges, supply, demand, surplus = _market(rng, n, m, ties=seed % 2 == 0)
    x = max_volume(edges, supply, demand, surplus)
    assert np.all(x >= 0) and np.all(x[~edges] == 0)
    assert np.all(x.sum(axis=1) <= supply) and np.all(x.sum(axis=0) <= demand)
    volume, best = _lexicographic_lp(edges, supply, demand, surplus)
    total = max(supply.sum(), demand.sum())
    volume_bound = (n + m) * total / 2**flow.QUANTITY_BITS
    assert volume - volume_bound - 1e-9 * total <= x.sum() <= volume + 1e-9 * total
    gain_bound = 2**-flow.GAIN_BITS * np.abs(surplus).max() * volume
    reached = (surplus * x).sum()
    slack = volume_bound * np.abs(surplus).max() + 1e-9 * abs(best)
    assert reached >= best - gain_bound - slack
    assert reached <= best + slack


def test_rationing_is_deterministic_and_empty_where_nothing_can_move():
    rng = np.random.default_rng(3)
    edges, supply, demand, surplus = _market(rng, 30, 20, ties=True)
    np.testing.assert_array_equal(
        max_volume(edges, supply, demand, surplus), max_volume(edges, supply, demand, surplus)
    )
    none = np.zeros_like(edges)
    assert not max_volume(none, supply, demand, surplus).any()
    assert not max_volume(edges, np.zeros_like(supply), demand, surplus).any()


def test_subnormal_quantities_and_gains_scale_without_overflow():
    tiny = 2.2250738585072014e-313
    rows, cols = np.array([0]), np.array([0])
    x = flow.max_flow_min_cost(rows, cols, np.array([1.0]), np.array([1.0]), np.array([tiny]))
    np.testing.assert_allclose(x, [1.0])
    x = flow.max_flow_min_cost(rows, cols, np.array([tiny]), np.array([tiny]), np.array([1.0]))
    assert 0 <= x[0] <= tiny
