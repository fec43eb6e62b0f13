import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mechanisms
from mechanisms import Market
from mechanisms.allocation import greedy_allocation, max_volume
from tests.mechanism_contract import MechanismContract, contract_settings
from tests.strategies import markets


class TestDutchContract(MechanismContract):
    make = staticmethod(lambda: mechanisms.get("dutch", tick=0.05))


def test_scalar_crossing_worked_case():
    # asks 1, 2, 3 and bids 5, 4, 0.5, one unit each; tick 0.5 from 5 down:
    # D/S = 1/3 at 5 and 4.5, 2/3 at 4, 3.5 and 3; at 2.5 D = 2 >= S = 2: stop.
    market = Market([1, 1, 1], [1, 1, 1], [1.0, 2.0, 3.0], [5.0, 4.0, 0.5])
    out = mechanisms.get("dutch", tick=0.5).clear(market)
    assert out.price == pytest.approx(2.5)
    assert out.info["ticks"] == 6
    np.testing.assert_allclose(out.allocation.sum(axis=1), [1, 1, 0])
    np.testing.assert_allclose(out.allocation.sum(axis=0), [1, 1, 0])
    np.testing.assert_allclose(out.seller_revenue, [2.5, 2.5, 0])
    np.testing.assert_allclose(out.buyer_payment, [2.5, 2.5, 0])


def test_quotes_on_the_tick_grid_count_at_their_step():
    # From 1.0 in ticks of 0.1 the eighth price is 1.0 - 7 * 0.1 = 0.29999999999999993 in
    # floating point; the ask of 0.3 is on that step and must sell there.
    homogeneous, per_pair = (
        Market([10.0], [1.0], [0.3], [1.0]),
        Market([10.0], [1.0], [[0.3]], [[1.0]]),
    )
    for clock, market in itertools.product(("exact", "ticks"), (homogeneous, per_pair)):
        out = mechanisms.get("dutch", tick=0.1, clock=clock).clear(market)
        assert out.info["ticks"] == 8 and out.info["crossed"] is False
        assert out.price == pytest.approx(0.3)
        np.testing.assert_allclose(out.allocation, [[1.0]])


def test_exact_clock_evaluates_only_near_ties():
    # A clear crossing is read off the histograms; an exact tie (D = S = 2 in the worked
    # case above) is decided by evaluating demand and supply as the ticking clock does.
    clear = Market([1, 1, 1], [1.5, 1, 1], [1.0, 2.0, 3.0], [5.0, 4.0, 0.5])
    tie = Market([1, 1, 1], [1, 1, 1], [1.0, 2.0, 3.0], [5.0, 4.0, 0.5])
    dutch = mechanisms.get("dutch", tick=0.5)
    assert dutch.clear(clear).info["evaluations"] == 0
    assert dutch.clear(tie).info["evaluations"] == 2
    assert dutch.clear(tie).price == dutch.clear(clear).price == pytest.approx(2.5)


def test_rationing_prefers_volume_then_surplus():
    # One seller (5 units, ask 1); buyers bid 4 (2 units) and 3 (10 units); tick 1.
    # At 4: D = 2 < S = 5. At 3: D = 12 >= 5: stop. Volume 5; the 4-bidder is filled first.
    market = Market([5.0], [2.0, 10.0], [1.0], [4.0, 3.0])
    out = mechanisms.get("dutch", tick=1.0).clear(market)
    assert out.price == pytest.approx(3.0)
    np.testing.assert_allclose(out.allocation, [[2.0, 3.0]])
    np.testing.assert_allclose(out.buyer_payment, [6.0, 9.0])


def test_compatibility_restricts_demand_supply_and_trade():
    # Only seller 0 - buyer 0 may trade; buyer 1 and seller 1 have no compatible partner.
    compatible = np.array([[True, False], [False, False]])
    market = Market([2.0, 2.0], [2.0, 2.0], [1.0, 1.0], [3.0, 3.0], compatible)
    out = mechanisms.get("dutch", tick=1.0).clear(market)
    assert out.price == pytest.approx(3.0)  # D = 2 >= S = 2 at the first price
    np.testing.assert_allclose(out.allocation, [[2.0, 0.0], [0.0, 0.0]])


def test_per_pair_values_decide_who_trades():
    # Buyer 0 values seller 0's data at 4 and seller 1's at 1; buyer 1 the opposite.
    ask = np.array([[0.5, 0.5], [0.5, 0.5]])
    bid = np.array([[4.0, 1.0], [1.0, 4.0]])
    market = Market([1.0, 1.0], [1.0, 1.0], ask, bid)
    out = mechanisms.get("dutch", tick=0.5).clear(market)
    # At 4: D = 2 >= S = 2, price 4: only the diagonal pairs are willing.
    assert out.price == pytest.approx(4.0)
    np.testing.assert_allclose(out.allocation, np.eye(2))


def test_no_trade_when_every_ask_exceeds_every_bid():
    market = Market([1.0], [1.0], [5.0], [2.0])
    out = mechanisms.get("dutch").clear(market)
    assert out.volume == 0 and out.price is None


def test_clock_stops_at_the_floor_without_a_crossing():
    # Supply 10 never falls to demand 1 before the lowest ask: clear at the floor price.
    market = Market([10.0], [1.0], [2.0], [3.0])
    out = mechanisms.get("dutch", tick=0.25).clear(market)
    assert out.price == pytest.approx(2.0)
    assert out.info["crossed"] is False
    np.testing.assert_allclose(out.allocation, [[1.0]])


@pytest.mark.parametrize("tick", [0, -1, float("nan"), float("inf"), "a"])
def test_bad_tick_is_a_clear_error(tick):
    with pytest.raises(ValueError, match="tick"):
        mechanisms.get("dutch", tick=tick)


def test_too_many_ticks_is_a_clear_error():
    market = Market([1.0], [1.0], [0.0], [100.0])
    with pytest.raises(ValueError, match="raise tick"):
        mechanisms.get("dutch", tick=0.001, max_ticks=1000).clear(market)


def test_registry_errors_name_the_allowed_values():
    with pytest.raises(ValueError, match=r"allowed: .*dutch"):
        mechanisms.get("dutchh")
    with pytest.raises(ValueError, match="tik"):
        mechanisms.get("dutch", tik=0.1)


@contract_settings
@given(market=markets())
def test_exact_clock_equals_ticking_clock(market):
    exact = mechanisms.get("dutch", tick=0.05, clock="exact").clear(market)
    ticks = mechanisms.get("dutch", tick=0.05, clock="ticks").clear(market)
    assert exact.price == ticks.price
    assert exact.info.get("ticks") == ticks.info.get("ticks")
    np.testing.assert_array_equal(exact.allocation, ticks.allocation)
    if ticks.info.get("ticks", 0) > 64:  # bisection over at most 2**k clock steps
        assert exact.info["evaluations"] < ticks.info["evaluations"]


@pytest.mark.parametrize("binned_per_agent", [0, 10**9], ids=["bisection", "binned"])
@pytest.mark.parametrize("tick", [0.1, 0.3, 0.07])
def test_exact_paths_equal_the_clock_with_quotes_on_step_boundaries(
    monkeypatch, binned_per_agent, tick
):
    # quotes on multiples of the tick sit on clock steps and integer quantities tie demand
    # and supply often; the exact clock must still stop where the ticking one does
    monkeypatch.setattr(mechanisms.dutch, "BINNED_STEPS_PER_AGENT", binned_per_agent)
    rng = np.random.default_rng(7)
    for _ in range(40):
        n, m = rng.integers(1, 40, 2)
        market = Market(
            rng.integers(1, 5, n).astype(float),
            rng.integers(1, 5, m).astype(float),
            rng.integers(1, 30, n) * tick,
            rng.integers(1, 30, m) * tick,
        )
        exact = mechanisms.get("dutch", tick=tick).clear(market)
        ticks = mechanisms.get("dutch", tick=tick, clock="ticks").clear(market)
        assert exact.price == ticks.price
        assert exact.info.get("ticks") == ticks.info.get("ticks")
        np.testing.assert_array_equal(exact.allocation, ticks.allocation)
        if binned_per_agent and exact.price is not None:
            assert exact.info["evaluations"] <= 2 or exact.info["binned_fallback"]


@contract_settings
@given(market=markets(homogeneous=True), price=st.floats(0, 10))
def test_greedy_rationing_matches_the_lp_rule(market, price):
    greedy = greedy_allocation(market, price)
    ask, bid = market.ask_matrix(), market.bid_matrix()
    edges = (ask <= price) & (bid >= price)
    lp = max_volume(edges, market.supply, market.demand, bid - ask)
    # the LP is exact to HiGHS' tolerance, 1e-7 of the largest quantity
    tol = 1e-6 * max(1.0, market.supply.max(), market.demand.max())
    assert greedy.sum() == pytest.approx(lp.sum(), abs=tol)
    surplus = bid - ask
    assert (surplus * greedy).sum() == pytest.approx((surplus * lp).sum(), abs=10 * tol)
    assert np.all(greedy[~edges] == 0)


def test_clock_option_is_validated():
    with pytest.raises(ValueError, match="clock must be one of exact, ticks"):
        mechanisms.get("dutch", clock="fast")
