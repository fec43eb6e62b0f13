import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from scipy.optimize import linprog

from mechanisms import Market, welfare
from mechanisms.welfare import Diminishing
from tests.strategies import markets


def test_hand_solved_two_by_two():
    # gains: seller 0 -> [1.5, 2.5], seller 1 -> [1.0, 2.0]; supply [1, 2], demand [2, 1].
    # Best: seller 0 -> buyer 1 (2.5) and seller 1 -> buyer 0 (2 x 1.0) = 4.5.
    market = Market([1.0, 2.0], [2.0, 1.0], [0.5, 1.0], [2.0, 3.0])
    out = welfare.optimum(market)
    assert out.info["welfare"] == pytest.approx(4.5, rel=1e-7)
    assert welfare.value(market, out.allocation) == pytest.approx(4.5, rel=1e-7)


def test_hand_solved_with_compatibility():
    # Only buyer 0 (demand 2) may buy: seller 0 (gain 1.5) and seller 1 (gain 1.0), 1 unit each.
    compatible = np.array([[True, False], [True, False]])
    market = Market([1.0, 2.0], [2.0, 1.0], [0.5, 1.0], [2.0, 3.0], compatible)
    out = welfare.optimum(market)
    assert out.info["welfare"] == pytest.approx(2.5, rel=1e-7)
    np.testing.assert_allclose(out.allocation, [[1.0, 0.0], [1.0, 0.0]], atol=1e-7)


def test_hand_solved_per_pair_values():
    # A 3x2 assignment: gains [[4, 1], [3, 3], [1, 2]], unit capacities everywhere.
    # Best: (0,0)=4 and (1,1)=3 -> 7.
    bid = np.array([[4.0, 1.0], [3.0, 3.0], [1.0, 2.0]])
    market = Market(np.ones(3), np.ones(2), np.zeros((3, 2)), bid)
    out = welfare.optimum(market)
    assert out.info["welfare"] == pytest.approx(7.0, rel=1e-7)
    np.testing.assert_allclose(out.allocation, [[1, 0], [0, 1], [0, 0]], atol=1e-7)


def test_no_gain_means_no_trade():
    market = Market([1.0], [1.0], [3.0], [2.0])
    out = welfare.optimum(market)
    assert out.info["welfare"] == pytest.approx(0.0, abs=1e-9)
    assert out.volume == pytest.approx(0.0, abs=1e-9)


def test_value_rejects_wrong_shape():
    market = Market([1.0], [1.0], [0.0], [1.0])
    with pytest.raises(ValueError, match="shape"):
        welfare.value(market, np.zeros((2, 1)))


def test_unknown_solver_is_a_clear_error():
    market = Market([1.0], [1.0], [0.0], [1.0])
    with pytest.raises(ValueError, match="not installed; installed:"):
        welfare.optimum(market, solver="NOPE")


def _concave_market(rng, n=3, m=2):
    market = Market(
        rng.uniform(1, 2, n), rng.uniform(1, 2, m), rng.uniform(0, 1, n), rng.uniform(1, 3, m)
    )
    return market, Diminishing(rng.uniform(0.5, 1, n), rng.uniform(0.1, 1, m))


def test_concave_program_is_dpp_and_re_solved_for_the_same_shape():
    problem = welfare.program(3, 2)
    assert problem.is_dpp()
    assert welfare.program(3, 2) is problem
    rng = np.random.default_rng(0)
    market, returns = _concave_market(rng)
    welfare.optimum(market, returns=returns)
    compiled = problem._cache.param_prog
    assert compiled is not None
    other, returns = _concave_market(rng)
    out = welfare.optimum(other, returns=returns)
    assert problem._cache.param_prog is compiled  # re-solved, not recompiled
    assert out.info["welfare"] == pytest.approx(
        welfare.value(other, out.allocation, returns), rel=1e-6
    )


def test_planner_keeps_at_most_one_program_whatever_the_shapes():
    """A population that changes every round must not pile up one program per shape."""
    rng = np.random.default_rng(3)
    welfare._program.cache_clear()
    for n in range(2, 12):
        market, returns = _concave_market(rng, n, 3)
        welfare.optimum(market)  # linear: no cvxpy program at all
        assert welfare._program.cache_info().currsize == 0
    for n in range(2, 12):
        market, returns = _concave_market(rng, n, 3)
        welfare.optimum(market, returns=returns)
        assert welfare._program.cache_info().currsize == 1


def test_concave_planner_refuses_markets_beyond_its_limit(monkeypatch):
    monkeypatch.setattr(welfare, "MAX_PROGRAM_PAIRS", 5)
    market, returns = _concave_market(np.random.default_rng(0), 3, 2)
    with pytest.raises(ValueError, match="exceed the concave program's limit of 5 pairs"):
        welfare.optimum(market, returns=returns)
    assert welfare.optimum(market).info["welfare"] > 0  # linear values have no such limit


@pytest.mark.parametrize("solver", ["HIGHS", "CLARABEL", "SCIPY"])
def test_solvers_agree(solver):
    rng = np.random.default_rng(1)
    market = Market(
        rng.uniform(0, 5, 8),
        rng.uniform(0, 5, 4),
        rng.uniform(0, 2, (8, 4)),
        rng.uniform(0, 3, (8, 4)),
        rng.random((8, 4)) < 0.7,
    )
    reference = welfare.optimum(market, solver="HIGHS").info["welfare"]
    assert welfare.optimum(market, solver=solver).info["welfare"] == pytest.approx(
        reference, rel=1e-5
    )


@settings(max_examples=30, deadline=None)
@given(market=markets(max_sellers=8, max_buyers=6))
def test_planner_equals_an_independent_lp(market):
    """scipy's HiGHS on the edge formulation, built independently of cvxpy."""
    n, m = market.shape
    gain = market.bid_matrix() - market.ask_matrix()
    rows, cols = np.nonzero(market.compatible_matrix())
    best = 0.0
    if rows.size:
        k = rows.size
        a_ub = sp.vstack(
            [
                sp.csr_matrix((np.ones(k), (rows, np.arange(k))), shape=(n, k)),
                sp.csr_matrix((np.ones(k), (cols, np.arange(k))), shape=(m, k)),
            ]
        )
        res = linprog(
            -gain[rows, cols], A_ub=a_ub, b_ub=np.r_[market.supply, market.demand], method="highs"
        )
        assert res.status == 0
        best = -res.fun
    assert welfare.optimum(market).info["welfare"] == pytest.approx(best, rel=1e-6, abs=1e-6)


def test_concave_single_pair_by_hand():
    # max g x - r/2 (w x)^2 on [0, 5]: x* = g / (r w^2) = 2 / (0.5 * 4) = 1, welfare 1.
    market = Market([5.0], [5.0], [1.0], [3.0])
    returns = Diminishing(weight=np.array([2.0]), rate=np.array([0.5]))
    out = welfare.optimum(market, returns=returns)
    assert out.allocation[0, 0] == pytest.approx(1.0, rel=1e-5)
    assert out.info["welfare"] == pytest.approx(1.0, rel=1e-6)
    assert welfare.value(market, out.allocation, returns) == pytest.approx(1.0, rel=1e-6)
    assert welfare.program(1, 1).is_dpp()


def test_concave_buyer_stops_where_marginal_value_runs_out():
    # One buyer, two sellers (2 units each, quality weight 1) with gains 3 and 2, rate 1.
    # With u units bought the marginal welfare of seller 0's data is 3 - u and of seller 1's
    # 2 - u. Seller 0's 2 units are worth buying (3 - u >= 1 > 0 for u <= 2); after them
    # seller 1's marginal welfare is 2 - 2 = 0, so the optimum is x = (2, 0) with welfare
    # 3 * 2 - 0.5 * 2**2 = 4. Linear values would buy everything: 3 * 2 + 2 * 2 = 10.
    market = Market([2.0, 2.0], [10.0], [0.0, 1.0], [[3.0], [3.0]])
    returns = Diminishing(weight=np.ones(2), rate=np.ones(1))
    out = welfare.optimum(market, returns=returns)
    np.testing.assert_allclose(out.allocation, [[2.0], [0.0]], atol=1e-5)
    assert out.info["welfare"] == pytest.approx(4.0, rel=1e-6)
    linear = welfare.optimum(market).info["welfare"]
    assert linear == pytest.approx(3 * 2 + 2 * 2)


def test_diminishing_returns_validated():
    with pytest.raises(ValueError, match="weight"):
        Diminishing(weight=np.array([-1.0]), rate=np.array([1.0]))
    market = Market([1.0], [1.0], [0.0], [1.0])
    with pytest.raises(ValueError, match="shapes"):
        welfare.optimum(market, returns=Diminishing(np.ones(2), np.ones(1)))
