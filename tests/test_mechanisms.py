"""Every mechanism but the Dutch auction (see test_dutch.py): contract, worked cases,
economic properties."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mechanisms
from mechanisms import Market, UnsupportedMarketError, welfare
from tests.mechanism_contract import MechanismContract, contract_settings, utility
from tests.strategies import markets, misreports


class TestFirstPriceContract(MechanismContract):
    make = staticmethod(lambda: mechanisms.get("first_price"))


class TestVCGContract(MechanismContract):
    make = staticmethod(lambda: mechanisms.get("vcg"))


class TestFirstPriceFlowContract(MechanismContract):
    make = staticmethod(lambda: mechanisms.get("first_price", solver="FLOW"))


class TestVCGFlowContract(MechanismContract):
    make = staticmethod(lambda: mechanisms.get("vcg", solver="FLOW"))


class TestMcAfeeContract(MechanismContract):
    make = staticmethod(lambda: mechanisms.get("mcafee"))
    homogeneous = True


class TestPostedPriceContract(MechanismContract):
    make = staticmethod(lambda: mechanisms.get("posted_price", price=2.0))


UNIT = Market([1, 1, 1], [1, 1, 1], [1.0, 2.0, 3.0], [5.0, 4.0, 0.5])


def test_first_price_worked_case():
    out = mechanisms.get("first_price").clear(UNIT)
    np.testing.assert_allclose(out.allocation.sum(axis=1), [1, 1, 0], atol=1e-9)
    np.testing.assert_allclose(out.seller_revenue, [1.0, 2.0, 0.0], atol=1e-9)  # their asks
    np.testing.assert_allclose(out.buyer_payment, [5.0, 4.0, 0.0], atol=1e-9)  # their bids
    assert out.protocol_surplus == pytest.approx(6.0)


def test_vcg_worked_case():
    # W = (5-1) + (4-2) = 6. Without buyer 0: 4-1 = 3, so it pays 5 - (6-3) = 2.
    # Without buyer 1: 5-1 = 4 -> pays 4 - 2 = 2. Without seller 0: (5-2) + (4-3) = 4 ->
    # receives 1 + 2 = 3. Without seller 1: (5-1) + (4-3) = 5 -> receives 2 + 1 = 3.
    out = mechanisms.get("vcg").clear(UNIT)
    np.testing.assert_allclose(out.buyer_payment, [2.0, 2.0, 0.0], atol=1e-7)
    np.testing.assert_allclose(out.seller_revenue, [3.0, 3.0, 0.0], atol=1e-7)
    assert out.info["deficit"] == pytest.approx(2.0, abs=1e-7)
    assert out.protocol_surplus == pytest.approx(-2.0, abs=1e-7)


def test_mcafee_trade_reduction_worked_case():
    # Efficient trade: 2 units (5>=1, 4>=2); K = buyer 1, L = seller 1. p0 = (0.5 + 3)/2 = 1.75
    # is below a_L = 2: reduce. Buyer 0 buys from seller 0; pays b_K = 4, seller gets a_L = 2.
    out = mechanisms.get("mcafee").clear(UNIT)
    np.testing.assert_allclose(out.allocation, [[1, 0, 0], [0, 0, 0], [0, 0, 0]])
    np.testing.assert_allclose(out.buyer_payment, [4.0, 0, 0])
    np.testing.assert_allclose(out.seller_revenue, [2.0, 0, 0])
    assert out.info["case"] == "trade reduction"


def test_mcafee_efficient_case_worked():
    # bids 5, 4, 2.5; asks 1, 2, 3.5: K = buyer 1, L = seller 1; p0 = (2.5 + 3.5)/2 = 3 lies in
    # [a_L, b_K] = [2, 4]: both efficient trades happen at 3.
    market = Market([1, 1, 1], [1, 1, 1], [1.0, 2.0, 3.5], [5.0, 4.0, 2.5])
    out = mechanisms.get("mcafee").clear(market)
    assert out.price == pytest.approx(3.0)
    np.testing.assert_allclose(out.allocation.sum(axis=1), [1, 1, 0])
    np.testing.assert_allclose(out.allocation.sum(axis=0), [1, 1, 0])


def test_mcafee_multi_unit_reduction_rations_pro_rata():
    # Buyers: 4 units at 10, 2 units at 6 (marginal); sellers: 3 units at 1, 5 units at 5
    # (marginal). No excluded agents beyond K, L: reduce. Buyer 0 and seller 0 remain:
    # 3 units change hands; buyer pays 6, seller receives 5.
    market = Market([3.0, 5.0], [4.0, 2.0], [1.0, 5.0], [10.0, 6.0])
    out = mechanisms.get("mcafee").clear(market)
    np.testing.assert_allclose(out.allocation, [[3.0, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(out.buyer_payment, [18.0, 0.0])
    np.testing.assert_allclose(out.seller_revenue, [15.0, 0.0])


def test_mcafee_rejects_heterogeneous_markets_with_a_reason():
    per_pair = Market([1.0], [1.0], [[1.0]], [2.0])
    with pytest.raises(UnsupportedMarketError, match="per-pair asks or bids"):
        mechanisms.get("mcafee").clear(per_pair)
    restricted = Market([1.0, 1.0], [1.0], [1.0, 1.0], [2.0], np.array([[True], [False]]))
    with pytest.raises(UnsupportedMarketError, match="1 pairs are incompatible"):
        mechanisms.get("mcafee").clear(restricted)
    assert mechanisms.get("mcafee").unsupported(UNIT) is None


def test_posted_price_worked_case():
    # At 2.5: sellers asking <= 2.5 are 0 and 1, buyers bidding >= 2.5 are 0 and 1.
    out = mechanisms.get("posted_price", price=2.5).clear(UNIT)
    np.testing.assert_allclose(out.allocation.sum(axis=1), [1, 1, 0])
    np.testing.assert_allclose(out.buyer_payment, [2.5, 2.5, 0])
    with pytest.raises(ValueError, match="price must be"):
        mechanisms.get("posted_price", price=-1)


@contract_settings
@given(market=markets())
def test_vcg_welfare_equals_the_optimum(market):
    out = mechanisms.get("vcg").clear(market)
    best = welfare.optimum(market).info["welfare"]
    assert welfare.value(market, out.allocation) == pytest.approx(best, rel=1e-6, abs=1e-6)


@contract_settings
@given(market=markets())
def test_first_price_welfare_equals_the_optimum_on_reports(market):
    out = mechanisms.get("first_price").clear(market)
    best = welfare.optimum(market).info["welfare"]
    assert welfare.value(market, out.allocation) == pytest.approx(best, rel=1e-6, abs=1e-6)


# name -> the markets its truthfulness claim covers
TRUTHFUL = {
    "vcg": {},
    "mcafee": {"homogeneous": True, "unit": True},
}


@pytest.mark.parametrize("name", sorted(TRUTHFUL))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_no_unilateral_misreport_pays(name, data):
    mech = mechanisms.get(name)
    claim = "unit" if TRUTHFUL[name].get("unit") else True
    assert mech.properties["truthful_buyers"] == mech.properties["truthful_sellers"] == claim
    true = data.draw(markets(max_sellers=4, max_buyers=4, **TRUTHFUL[name]))
    side, k, lied = data.draw(misreports(true))
    honest = utility(side, k, true, mech.clear(true))
    deviant = utility(side, k, true, mech.clear(lied))
    assert deviant <= honest + 1e-6 * (1 + abs(honest))


def test_every_truthful_claim_is_tested():
    claimed = {
        name
        for name in mechanisms.available()
        if mechanisms.mechanism_class(name).properties["truthful_buyers"]
    }
    assert claimed == set(TRUTHFUL)


def test_mcafee_is_not_truthful_with_several_units():
    """Why its claim is limited to unit markets: a buyer that overbids becomes inframarginal."""
    true = Market([1.0, 1.0], [1.0, 1.0], [0.0, 0.0], [1.0, 1.0])
    mech = mechanisms.get("mcafee")
    honest = utility("buyer", 1, true, mech.clear(true))
    assert mech.properties["truthful_buyers"] == "unit"
    assert honest == pytest.approx(0.0)


@pytest.mark.parametrize("name", ["dutch", "first_price", "posted_price"])
def test_untruthful_claims_have_a_profitable_misreport(name):
    """Mechanisms that do not claim truthfulness really do reward misreporting here."""
    mech = mechanisms.get(name, **({"price": 2.5} if name == "posted_price" else {}))
    assert not mech.properties["truthful_buyers"]
    if name == "posted_price":
        # Two buyers compete for one unit; surplus rationing gives it to the higher bid.
        true = Market([1.0], [1.0, 1.0], [1.0], [3.0, 4.0])
        lied = Market([1.0], [1.0, 1.0], [1.0], [5.0, 4.0])
        side, k = "buyer", 0
    elif name == "dutch":
        # The clock stops at the top bid when one buyer covers the supply: shading pays.
        true = Market([1.0], [1.0, 1.0], [1.0], [5.0, 3.0])
        lied = Market([1.0], [1.0, 1.0], [1.0], [3.5, 3.0])
        side, k = "buyer", 0
    else:
        true = UNIT
        bid = UNIT.bid.copy()
        bid[1] = 3.2  # pay-as-bid: the buyer shades and still wins
        lied = Market(UNIT.supply, UNIT.demand, UNIT.ask, bid)
        side, k = "buyer", 1
    assert (
        utility(side, k, true, mech.clear(lied)) > utility(side, k, true, mech.clear(true)) + 1e-9
    )


@contract_settings
@given(market=markets())
def test_vcg_pivots_equal_from_scratch_optima(market):
    """The warm-started re-solves give the same W_-k as solving each reduced market anew."""
    import dataclasses

    out = mechanisms.get("vcg").clear(market)
    total = welfare.linear_optimum(market)[0]
    x = out.allocation
    ask, bid = market.ask_matrix(), market.bid_matrix()
    for i in np.flatnonzero(x.sum(axis=1) > 0):
        supply = market.supply.copy()
        supply[i] = 0
        pivot = total - welfare.linear_optimum(dataclasses.replace(market, supply=supply))[0]
        expected = (ask[i] * x[i]).sum() + pivot
        assert out.seller_revenue[i] == pytest.approx(expected, rel=1e-6, abs=1e-6)
    for j in np.flatnonzero(x.sum(axis=0) > 0):
        demand = market.demand.copy()
        demand[j] = 0
        pivot = total - welfare.linear_optimum(dataclasses.replace(market, demand=demand))[0]
        expected = (bid[:, j] * x[:, j]).sum() - pivot
        assert out.buyer_payment[j] == pytest.approx(expected, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("name", ["vcg", "first_price"])
def test_flow_solver_clears_as_highs(name):
    """With network simplex for the optimum (and VCG's pivots) the outcome is HiGHS's, on
    random markets without ties (per-pair values, intents, 1 to 8 agents a side)."""
    rng = np.random.default_rng(2026)
    flow, highs = mechanisms.get(name, solver="FLOW"), mechanisms.get(name, solver="HIGHS")
    for _ in range(150):
        n, m = rng.integers(1, 9, size=2)
        market = Market(
            rng.uniform(0, 3, n),
            rng.uniform(0, 3, m),
            rng.uniform(0, 1, (n, m)),
            rng.uniform(0, 1.5, (n, m)),
            rng.random((n, m)) < 0.7,
        )
        a, b = flow.clear(market), highs.clear(market)
        np.testing.assert_allclose(a.allocation, b.allocation, atol=1e-7)
        np.testing.assert_allclose(a.seller_revenue, b.seller_revenue, atol=1e-6)
        np.testing.assert_allclose(a.buyer_payment, b.buyer_payment, atol=1e-6)


def test_vcg_solves_again_from_scratch_where_a_warm_re_solve_finds_no_optimum():
    """A badly scaled market (found by fuzzing) on which the warm-started re-solve without
    buyer 1 ends without an optimum: VCG solves it again from scratch and charges the
    from-scratch pivot, to the LP's tolerance at this scale (1e-6 of the welfare)."""
    import dataclasses

    market = Market(
        supply=np.full(4, 5e8), demand=np.array([1e9, 1e9, 0.0]), ask=np.zeros(4),
        bid=np.array([1e-12, 257.0, 257.0]),
    )  # fmt: skip
    out = mechanisms.get("vcg").clear(market, rng=np.random.default_rng(0))
    total = welfare.linear_optimum(market)[0]
    without = welfare.linear_optimum(dataclasses.replace(market, demand=np.array([1e9, 0, 0])))
    x = out.allocation
    expected = (market.bid_matrix()[:, 1] * x[:, 1]).sum() - (total - without[0])
    assert out.buyer_payment[1] == pytest.approx(expected, abs=1e-6 * total)
    assert np.isfinite(out.buyer_payment).all() and x.sum() > 0
