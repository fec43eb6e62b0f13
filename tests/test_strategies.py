import numpy as np
import pytest

from agents import Adaptive, Markup, Shading, Strategy, Truthful
from agents.strategies import report_all


def test_truthful_reports_true_values():
    values = np.array([1.0, -2.0, 0.0])
    np.testing.assert_array_equal(Truthful("sell").report(values), values)
    np.testing.assert_array_equal(Truthful("buy").report(values), values)


def test_markup_and_shading_move_away_from_truth():
    values = np.array([1.0, -2.0])
    np.testing.assert_allclose(Markup("sell", 0.5).report(values), [1.5, -1.0])
    np.testing.assert_allclose(Shading("buy", 0.5).report(values), [0.5, -3.0])


def test_strategies_refuse_the_wrong_side():
    with pytest.raises(ValueError, match="sell side"):
        Markup("buy", 0.1)
    with pytest.raises(ValueError, match="buy side"):
        Shading("sell", 0.1)
    with pytest.raises(ValueError, match=">= 0"):
        Markup("sell", -0.1)


def test_adaptive_learns_from_its_fills():
    s = Adaptive("sell", step=0.1, max_factor=0.25)
    s.learn(offered=10, traded=10)  # full fill: ask higher
    assert s.factor == pytest.approx(0.1)
    s.learn(offered=10, traded=10)
    s.learn(offered=10, traded=10)
    assert s.factor == pytest.approx(0.25)  # capped
    s.learn(offered=10, traded=4)  # partial: unchanged
    assert s.factor == pytest.approx(0.25)
    s.learn(offered=10, traded=0)  # no fill: back toward truthful
    assert s.factor == pytest.approx(0.15)
    for _ in range(5):
        s.learn(offered=10, traded=0)
    assert s.factor == 0.0  # never past truthful
    np.testing.assert_allclose(s.report(np.array([2.0])), [2.0])


def test_adaptive_buyer_shades_after_full_fills():
    s = Adaptive("buy", step=0.2, max_factor=0.5)
    s.learn(offered=5, traded=5)
    np.testing.assert_allclose(s.report(np.array([10.0])), [8.0])


class _Doubling(Strategy):
    """A plug-in that reports twice its true values: not a factor strategy."""

    name = "doubling"

    def report(self, true):
        return 2 * np.asarray(true)


def test_report_all_equals_each_agents_own_report():
    rng = np.random.default_rng(4)
    strategies = [
        Truthful("sell"),
        Markup("sell", 0.3),
        Shading("buy", 0.2),
        Adaptive("buy", 0.05, 0.5, 0.25),
        _Doubling("sell"),
    ]
    true = rng.normal(size=(len(strategies), 7))
    expected = np.array([s.report(row) for s, row in zip(strategies, true, strict=True)])
    np.testing.assert_array_equal(report_all(strategies, true), expected)
    assert report_all([], np.zeros((0, 3))).shape == (0, 3)
