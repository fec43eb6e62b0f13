"""The contract every mechanism passes.

A mechanism's test class inherits :class:`MechanismContract`, sets ``make`` to a
zero-argument factory of the mechanism under test and, for mechanisms limited to
homogeneous markets, ``homogeneous = True``.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mechanisms
from mechanisms import PROPERTY_VALUES
from tests.strategies import markets, per_unit_prices

TOL = 1e-6
contract_settings = settings(
    max_examples=int(os.environ.get("INTENTLAB_HYPOTHESIS_EXAMPLES", "40")),
    deadline=None,
    # one contract, many mechanisms: each subclass runs the same test functions
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors],
)


class MechanismContract:
    make: Callable[[], mechanisms.Mechanism]
    homogeneous: bool = False

    def draw_market(self, data) -> mechanisms.Market:
        return data.draw(markets(homogeneous=self.homogeneous))

    def clear(self, market: mechanisms.Market) -> mechanisms.Outcome:
        return self.make().clear(market, rng=np.random.default_rng(0))

    def test_registered_with_declared_properties(self):
        mech = self.make()
        assert mech.name in mechanisms.available()
        assert isinstance(mechanisms.get(mech.name), type(mech))
        assert set(mech.properties) == set(PROPERTY_VALUES)
        for key, allowed in PROPERTY_VALUES.items():
            assert mech.properties[key] in allowed

    @contract_settings
    @given(data=st.data())
    def test_outcome_shapes(self, data):
        market = self.draw_market(data)
        out = self.clear(market)
        n, m = market.shape
        assert out.allocation.shape == (n, m)
        assert out.seller_revenue.shape == (n,)
        assert out.buyer_payment.shape == (m,)
        assert np.all(np.isfinite(out.allocation))

    @contract_settings
    @given(data=st.data())
    def test_feasible_and_intents_respected(self, data):
        market = self.draw_market(data)
        out = self.clear(market)
        x = out.allocation
        assert np.all(x >= -TOL)
        assert np.all(x.sum(axis=1) <= market.supply + TOL)
        assert np.all(x.sum(axis=0) <= market.demand + TOL)
        assert np.all(x[~market.compatible_matrix()] == 0)

    @contract_settings
    @given(data=st.data())
    def test_individually_rational_on_reports(self, data):
        """Sellers are never paid below their asks, buyers never charged above their bids,
        on every single trade (so a trade that settlement rejects can be refunded alone)."""
        if not self.make().properties["individually_rational"]:
            return
        market = self.draw_market(data)
        out = self.clear(market)
        x = out.allocation
        ask, bid = market.ask_matrix(), market.bid_matrix()
        assert np.all(out.seller_revenue >= (ask * x).sum(axis=1) - TOL)
        assert np.all(out.buyer_payment <= (bid * x).sum(axis=0) + TOL)
        seller_price, buyer_price = out.pair_prices()
        rows, cols = np.nonzero(x > TOL)
        assert np.all(seller_price[rows, cols] >= ask[rows, cols] - TOL)
        assert np.all(buyer_price[rows, cols] <= bid[rows, cols] + TOL)
        if out.price is not None:  # uniform price: one price for every unit
            seller_price, buyer_price = per_unit_prices(out)
            assert np.all(seller_price[rows] >= ask[rows, cols] - TOL)
            assert np.all(buyer_price[cols] <= bid[rows, cols] + TOL)

    @contract_settings
    @given(data=st.data())
    def test_pair_prices_add_up_to_revenues_and_payments(self, data):
        market = self.draw_market(data)
        out = self.clear(market)
        seller_price, buyer_price = out.pair_prices()
        x = out.allocation
        np.testing.assert_allclose((seller_price * x).sum(axis=1), out.seller_revenue, atol=TOL)
        np.testing.assert_allclose((buyer_price * x).sum(axis=0), out.buyer_payment, atol=TOL)

    @pytest.mark.parametrize(("n", "m"), [(0, 3), (3, 0), (0, 0)])
    def test_empty_side_clears_to_no_trade(self, n, m):
        market = mechanisms.Market(np.full(n, 2.0), np.full(m, 2.0), np.ones(n), np.full(m, 3.0))
        out = self.clear(market)
        assert out.allocation.shape == (n, m) and out.volume == 0
        assert out.seller_revenue.shape == (n,) and out.buyer_payment.shape == (m,)

    def test_zero_quantities_clear_to_no_trade(self):
        for supply, demand in (([0.0, 0.0], [2.0]), ([2.0, 1.0], [0.0])):
            market = mechanisms.Market(supply, demand, [0.5, 1.0], [3.0])
            out = self.clear(market)
            assert out.volume == 0
            assert not out.seller_revenue.any() and not out.buyer_payment.any()

    @contract_settings
    @given(data=st.data())
    def test_accounting_identities(self, data):
        market = self.draw_market(data)
        out = self.clear(market)
        x = out.allocation
        if out.price is not None:
            np.testing.assert_allclose(out.seller_revenue, out.price * x.sum(axis=1), atol=TOL)
            np.testing.assert_allclose(out.buyer_payment, out.price * x.sum(axis=0), atol=TOL)
        assert np.all(np.abs(out.seller_revenue[x.sum(axis=1) == 0]) <= TOL)
        assert np.all(np.abs(out.buyer_payment[x.sum(axis=0) == 0]) <= TOL)
        surplus = out.buyer_payment.sum() - out.seller_revenue.sum()
        assert out.protocol_surplus == pytest.approx(surplus, abs=TOL)
        balance = self.make().properties["budget_balanced"]
        scale = TOL * (1 + out.buyer_payment.sum())
        if balance == "strong":
            assert abs(out.protocol_surplus) <= scale
        elif balance == "weak":
            assert out.protocol_surplus >= -scale

    @contract_settings
    @given(data=st.data())
    def test_welfare_at_most_optimum(self, data):
        market = self.draw_market(data)
        out = self.clear(market)
        best = mechanisms.welfare.optimum(market).info["welfare"]
        assert mechanisms.welfare.value(market, out.allocation) <= best + 1e-6 * (1 + abs(best))

    @contract_settings
    @given(data=st.data())
    def test_deterministic_under_seed(self, data):
        market = self.draw_market(data)
        a = self.make().clear(market, rng=np.random.default_rng(7))
        b = self.make().clear(market, rng=np.random.default_rng(7))
        np.testing.assert_array_equal(a.allocation, b.allocation)
        np.testing.assert_array_equal(a.seller_revenue, b.seller_revenue)
        np.testing.assert_array_equal(a.buyer_payment, b.buyer_payment)
        assert a.price == b.price

    def test_pickles(self):
        mech = self.make()
        clone = pickle.loads(pickle.dumps(mech))
        market = mechanisms.Market([3.0, 2.0], [4.0, 1.0], [1.0, 2.0], [5.0, 3.0])
        np.testing.assert_array_equal(clone.clear(market).allocation, mech.clear(market).allocation)


def utility(side: str, k: int, true: mechanisms.Market, out: mechanisms.Outcome) -> float:
    """Quasi-linear utility of agent ``k`` at ``out`` under its true values in ``true``."""
    x = out.allocation
    if side == "seller":
        return float(out.seller_revenue[k] - (true.ask_matrix()[k] * x[k]).sum())
    return float((true.bid_matrix()[:, k] * x[:, k]).sum() - out.buyer_payment[k])
