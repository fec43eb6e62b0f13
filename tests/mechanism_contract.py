"""The contract every mechanism passes. A mechanism's test class inherits it and sets
``make`` to a zero-argument factory of the mechanism under test."""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable

import numpy as np
from hypothesis import HealthCheck, given, settings

import mechanisms
from tests.strategies import markets, per_unit_prices

TOL = 1e-6
contract_settings = settings(
    max_examples=int(os.environ.get("INTENTLAB_HYPOTHESIS_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class MechanismContract:
    make: Callable[[], mechanisms.Mechanism]

    def clear(self, market: mechanisms.Market) -> mechanisms.Outcome:
        return self.make().clear(market, rng=np.random.default_rng(0))

    def test_registered(self):
        mech = self.make()
        assert mech.name in mechanisms.available()
        assert isinstance(mechanisms.get(mech.name), type(mech))
        for key in ("individually_rational", "budget_balanced", "truthful_buyers"):
            assert key in mech.properties

    @contract_settings
    @given(market=markets())
    def test_outcome_shapes(self, market):
        out = self.clear(market)
        n, m = market.shape
        assert out.allocation.shape == (n, m)
        assert out.seller_revenue.shape == (n,)
        assert out.buyer_payment.shape == (m,)
        assert np.all(np.isfinite(out.allocation))

    @contract_settings
    @given(market=markets())
    def test_feasible(self, market):
        out = self.clear(market)
        x = out.allocation
        assert np.all(x >= -TOL)
        assert np.all(x.sum(axis=1) <= market.supply + TOL)
        assert np.all(x.sum(axis=0) <= market.demand + TOL)
        assert np.all(x[~market.compatible_matrix()] == 0)

    @contract_settings
    @given(market=markets())
    def test_individually_rational_on_reports(self, market):
        """No seller is paid below its ask, no buyer charged above its bid, on any trade."""
        out = self.clear(market)
        traded = out.allocation > TOL
        seller_price, buyer_price = per_unit_prices(out)
        ask, bid = market.ask_matrix(), market.bid_matrix()
        rows, cols = np.nonzero(traded)
        assert np.all(seller_price[rows] >= ask[rows, cols] - TOL)
        assert np.all(buyer_price[cols] <= bid[rows, cols] + TOL)
        assert np.all(out.seller_revenue >= -TOL)
        assert np.all(out.buyer_payment >= -TOL)

    @contract_settings
    @given(market=markets())
    def test_payments_balance_allocation(self, market):
        out = self.clear(market)
        x = out.allocation
        if out.price is not None:
            np.testing.assert_allclose(out.seller_revenue, out.price * x.sum(axis=1), atol=TOL)
            np.testing.assert_allclose(out.buyer_payment, out.price * x.sum(axis=0), atol=TOL)
        no_sale = x.sum(axis=1) == 0
        assert np.all(np.abs(out.seller_revenue[no_sale]) <= TOL)
        no_buy = x.sum(axis=0) == 0
        assert np.all(np.abs(out.buyer_payment[no_buy]) <= TOL)
        if self.make().properties.get("budget_balanced") == "strong":
            assert abs(out.protocol_surplus) <= TOL * (1 + out.buyer_payment.sum())

    @contract_settings
    @given(market=markets())
    def test_welfare_at_most_optimum(self, market):
        out = self.clear(market)
        best = mechanisms.welfare.optimum(market).info["welfare"]
        assert mechanisms.welfare.value(market, out.allocation) <= best + 1e-6 * (1 + abs(best))

    @contract_settings
    @given(market=markets())
    def test_deterministic_under_seed(self, market):
        a = self.make().clear(market, rng=np.random.default_rng(7))
        b = self.make().clear(market, rng=np.random.default_rng(7))
        np.testing.assert_array_equal(a.allocation, b.allocation)
        np.testing.assert_array_equal(a.seller_revenue, b.seller_revenue)
        np.testing.assert_array_equal(a.buyer_payment, b.buyer_payment)
        assert a.price == b.price

    def test_pickles(self):
        mech = self.make()
        clone = pickle.loads(pickle.dumps(mech))
        market = mechanisms.Market([3.0, 2.0], [4.0], [1.0, 2.0], [5.0])
        np.testing.assert_array_equal(clone.clear(market).allocation, mech.clear(market).allocation)
