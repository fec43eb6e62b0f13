import numpy as np
import pytest

from mechanisms import Market, welfare


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


def test_program_is_dpp_and_built_once_per_shape():
    problem = welfare.program(3, 2)
    assert problem.is_dpp()
    assert welfare.program(3, 2) is problem
    rng = np.random.default_rng(0)
    market = Market(
        rng.uniform(1, 2, 3), rng.uniform(1, 2, 2), rng.uniform(0, 1, 3), rng.uniform(1, 3, 2)
    )
    welfare.optimum(market)
    compiled = problem._cache.param_prog
    assert compiled is not None
    other = Market(
        rng.uniform(1, 2, 3), rng.uniform(1, 2, 2), rng.uniform(0, 1, 3), rng.uniform(1, 3, 2)
    )
    out = welfare.optimum(other)
    assert problem._cache.param_prog is compiled  # re-solved, not recompiled
    assert out.info["welfare"] == pytest.approx(welfare.value(other, out.allocation), rel=1e-6)


@pytest.mark.parametrize("solver", ["HIGHS", "CLARABEL"])
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
