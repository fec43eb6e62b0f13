import pickle

import numpy as np
import pytest

from mechanisms import Market, Outcome


def test_valid_market_is_read_only_and_broadcasts():
    market = Market([1, 2], [3], [0.5, 1.0], [2.0])
    assert market.shape == (2, 1)
    np.testing.assert_array_equal(market.ask_matrix(), [[0.5], [1.0]])
    np.testing.assert_array_equal(market.bid_matrix(), [[2.0], [2.0]])
    assert market.compatible_matrix().all()
    with pytest.raises(ValueError):
        market.supply[0] = 5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"supply": [-1.0, 1.0]}, "supply must be >= 0"),
        ({"demand": [-0.1]}, "demand must be >= 0"),
        ({"supply": [np.nan, 1.0]}, "supply contains NaN or inf"),
        ({"ask": [np.inf, 1.0]}, "ask contains NaN or inf"),
        ({"bid": [[1.0], [np.nan]]}, "bid contains NaN or inf"),
        ({"ask": [1.0, 2.0, 3.0]}, r"ask must have shape \(2,\) or \(2, 1\)"),
        ({"bid": [1.0, 2.0]}, r"bid must have shape \(1,\) or \(2, 1\)"),
        ({"supply": [[1.0, 2.0]]}, "supply must be 1-D"),
        ({"compatible": np.ones((1, 2), bool)}, r"compatible must have shape \(2, 1\)"),
        ({"compatible": np.ones((2, 1))}, "compatible must be bool"),
    ],
)
def test_invalid_market_raises_clear_error(kwargs, message):
    base = {"supply": [1.0, 2.0], "demand": [3.0], "ask": [0.5, 1.0], "bid": [2.0]}
    with pytest.raises(ValueError, match=message):
        Market(**{**base, **kwargs})


def test_uniform_price_outcome_accounts():
    out = Outcome.uniform_price(np.array([[1.0, 2.0], [0.0, 3.0]]), 2.0)
    np.testing.assert_allclose(out.seller_revenue, [6.0, 6.0])
    np.testing.assert_allclose(out.buyer_payment, [2.0, 10.0])
    assert out.volume == 6.0 and out.protocol_surplus == 0.0


def test_all_positive_says_whether_every_agent_has_a_quantity():
    assert Market([1.0, 2.0], [3.0], [0.5, 0.5], [1.0]).all_positive
    assert not Market([1.0, 0.0], [3.0], [0.5, 0.5], [1.0]).all_positive
    assert not Market([1.0], [0.0], [0.5], [1.0]).all_positive
    market = Market([1.0, 0.0], [3.0], [0.5, 0.5], [1.0])
    assert pickle.loads(pickle.dumps(market)).all_positive is False
