"""The network-simplex transport problems against independent LPs (HiGHS), within
double-precision tolerances (mechanisms/flow.py)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

from mechanisms import flow
from mechanisms.allocation import max_volume


def _capacities(edges, supply, demand):
    """The pairs of ``edges`` and the LP rows capping each seller's and buyer's units."""
    rows, cols = np.nonzero(edges)
    k, n, m = rows.size, supply.size, demand.size
    a = sp.vstack(
        [
            sp.csr_matrix((np.ones(k), (rows, np.arange(k))), shape=(n, k)),
            sp.csr_matrix((np.ones(k), (cols, np.arange(k))), shape=(m, k)),
        ]
    )
    return rows, cols, a, np.concatenate([supply, demand])


def _lexicographic_lp(edges, supply, demand, surplus):
    """Largest volume, then largest surplus at that volume: two LPs in HiGHS."""
    rows, cols, a, b = _capacities(edges, supply, demand)
    k = rows.size
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
    assert volume * (1 - 2 * flow.VOLUME_SLACK) - 1e-9 * total <= x.sum() <= volume + 1e-9 * total
    reached = (surplus * x).sum()
    slack = 1e-9 * (1 + abs(best)) + 2 * flow.VOLUME_SLACK * volume * np.abs(surplus).max()
    assert best - slack <= reached <= best + slack


def test_rationing_is_deterministic_and_empty_where_nothing_can_move():
    rng = np.random.default_rng(3)
    edges, supply, demand, surplus = _market(rng, 30, 20, ties=True)
    np.testing.assert_array_equal(
        max_volume(edges, supply, demand, surplus), max_volume(edges, supply, demand, surplus)
    )
    none = np.zeros_like(edges)
    assert not max_volume(none, supply, demand, surplus).any()
    assert not max_volume(edges, np.zeros_like(supply), demand, surplus).any()


def test_subnormal_quantities_and_gains_stay_feasible():
    tiny = 2.2250738585072014e-313
    rows, cols = np.array([0]), np.array([0])
    x = flow.max_flow_min_cost(rows, cols, np.array([1.0]), np.array([1.0]), np.array([tiny]))
    np.testing.assert_allclose(x, [1.0])
    x = flow.max_flow_min_cost(rows, cols, np.array([tiny]), np.array([tiny]), np.array([1.0]))
    assert 0 <= x[0] <= tiny
    least = np.array([5e-324])  # the volume slack survives the smallest subnormal too
    assert flow.max_flow_min_cost(rows, cols, least, least, np.array([2.0]))[0] == least[0]


def _transport_lp(edges, supply, demand, gain):
    """The welfare optimum over the allowed pairs, as an LP in HiGHS."""
    rows, cols, a, b = _capacities(edges, supply, demand)
    return -linprog(-gain[rows, cols], A_ub=a, b_ub=b).fun


@pytest.mark.parametrize("seed", range(12))
def test_max_gain_reaches_the_transportation_optimum_within_its_scaling(seed):
    rng = np.random.default_rng(100 + seed)
    n, m = int(rng.integers(1, 60)), int(rng.integers(1, 30))
    edges, supply, demand, gain = _market(rng, n, m, ties=seed % 2 == 0)
    rows, cols = np.nonzero(edges)
    x = np.zeros((n, m))
    x[rows, cols] = flow.max_gain(rows, cols, supply, demand, gain[rows, cols])
    assert np.all(x >= 0) and np.all(x[~edges] == 0)
    assert np.all(x.sum(axis=1) <= supply) and np.all(x.sum(axis=0) <= demand)
    assert np.all(x[gain <= 0] == 0)  # a pair that cannot gain never carries units
    best = _transport_lp(edges, supply, demand, gain)
    reached = (gain * x).sum()
    assert reached == pytest.approx(best, rel=1e-9, abs=1e-9)


def test_planner_flow_matches_the_lp_on_simulated_markets():
    from mechanisms import welfare
    from sim import MarketModel, SimConfig

    for seed in range(3):
        config = {"seed": seed, "market": {"n_corporations": 150, "n_solvers": 40}}
        model = MarketModel(SimConfig.from_dict(config))
        true = model.draw_market().true
        by_flow = welfare.optimum(true).info
        by_lp = welfare.optimum(true, solver="HIGHS").info["welfare"]
        assert by_flow["solver"] == "FLOW"
        assert by_flow["welfare"] == pytest.approx(by_lp, rel=1e-9)


def test_flow_refuses_concave_values():
    from mechanisms import Market, welfare

    market = Market([1.0, 2.0], [2.0], [[0.5], [0.2]], [[3.0], [2.0]])
    returns = welfare.Diminishing(np.ones(2), np.ones(1))
    with pytest.raises(ValueError, match="FLOW solver handles linear values only"):
        welfare.optimum(market, solver="FLOW", returns=returns)
    assert welfare.optimum(market, returns=returns).info["solver"] == welfare.CONCAVE_SOLVER
