import numpy as np
import pytest

from agents import Exp3, Feedback, FillRate, Gradient, Hedge, Markup, Shading, Strategy, Truthful
from agents.strategies import STRATEGIES, report_all, strategy_names
from tests.strategy_contract import StrategyContract


class TestTruthfulContract(StrategyContract):
    make = staticmethod(lambda side, rng: Truthful(side))


class TestMarkupContract(StrategyContract):
    make = staticmethod(lambda side, rng: Markup(side, 0.3))
    sides = ("sell",)


class TestShadingContract(StrategyContract):
    make = staticmethod(lambda side, rng: Shading(side, 0.3))
    sides = ("buy",)


class TestFillRateContract(StrategyContract):
    make = staticmethod(lambda side, rng: FillRate(side, 0.1, 0.5))


class TestHedgeContract(StrategyContract):
    make = staticmethod(lambda side, rng: Hedge(side, 0.9, 11, 0.5, rng))


class TestExp3Contract(StrategyContract):
    make = staticmethod(lambda side, rng: Exp3(side, 0.9, 11, 0.5, rng, exploration=0.2))


class TestGradientContract(StrategyContract):
    make = staticmethod(lambda side, rng: Gradient(side, 0.9, 0.5, 0.05, initial=0.3))


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


def test_fill_rate_learns_from_its_fills_not_its_payoffs():
    s = FillRate("sell", step=0.1, max_factor=0.25)
    s.learn(Feedback(offered=10, traded=10, utility=-5.0))  # full fill: ask higher, loss or not
    assert s.factor == pytest.approx(0.1)
    s.learn(Feedback(10, 10))
    s.learn(Feedback(10, 10))
    assert s.factor == pytest.approx(0.25)  # capped
    s.learn(Feedback(10, 4))  # partial: unchanged
    assert s.factor == pytest.approx(0.25)
    s.learn(Feedback(10, 0, utility=3.0))  # no fill: back toward truthful
    assert s.factor == pytest.approx(0.15)
    for _ in range(5):
        s.learn(Feedback(10, 0))
    assert s.factor == 0.0  # never past truthful
    np.testing.assert_allclose(s.report(np.array([2.0])), [2.0])


def test_fill_rate_buyer_shades_after_full_fills():
    s = FillRate("buy", step=0.2, max_factor=0.5)
    s.learn(Feedback(5, 5))
    np.testing.assert_allclose(s.report(np.array([10.0])), [8.0])


def test_hedge_moves_its_weight_to_the_factor_that_would_have_earned_most():
    s = Hedge("buy", max_factor=0.5, factors=6, eta=1.0, rng=np.random.default_rng(0))
    np.testing.assert_allclose(s.probabilities(), np.full(6, 1 / 6))
    payoffs = np.array([0.0, 0.1, 0.2, 1.0, 0.2, 0.1])  # factor 0.3 best
    for _ in range(20):
        s.learn(Feedback(1, 1, 0.0, payoffs))
    # exactly exp(eta * cumulative payoff / largest payoff seen), normalized
    expected = np.exp(20 * payoffs)
    np.testing.assert_allclose(s.probabilities(), expected / expected.sum())
    assert s.expected_factor() == pytest.approx(0.3, abs=1e-6)
    assert s.factor == pytest.approx(0.3)


def test_exp3_credits_only_the_factor_it_played():
    s = Exp3("sell", max_factor=1.0, factors=5, eta=0.1, rng=np.random.default_rng(3),
             exploration=0.5)  # fmt: skip
    p = s.probabilities()
    np.testing.assert_allclose(p, np.full(5, 0.2))
    arm = s.arm
    s.learn(Feedback(1.0, 1.0, utility=2.0))
    weights = np.exp(s.log_weights - s.log_weights.max())
    assert np.argmax(weights) == arm  # importance-weighted: 0.1 * (2 / 2) / 0.2
    assert s.log_weights[arm] - np.delete(s.log_weights, arm).max() == pytest.approx(0.5)
    before = s.log_weights.copy()
    s.learn(Feedback(0.0, 0.0, utility=9.0))  # not in the market: nothing to learn
    np.testing.assert_array_equal(s.log_weights, before)


def test_gradient_climbs_the_finite_difference():
    s = Gradient("buy", max_factor=0.9, step=0.001, delta=0.05, initial=0.3)
    np.testing.assert_allclose(s.probes(), [0.25, 0.35])
    s.learn(Feedback(1, 1, 0.0, np.array([0.5, 0.0])))  # slope -0.5/0.5 / 0.1 = -10
    assert s.factor == pytest.approx(0.3 - 0.001 * 10)
    s.learn(Feedback(1, 1, 0.0, np.array([0.0, 0.5])))
    assert s.factor == pytest.approx(0.29 + 0.001 / np.sqrt(2) * 10)  # step / sqrt(t)
    big = Gradient("buy", max_factor=0.9, step=1.0, delta=0.05, initial=0.3)
    big.learn(Feedback(1, 1, 0.0, np.array([0.0, 0.5])))  # a raw step of 10
    assert big.factor == pytest.approx(0.35)  # at most delta per round
    edge = Gradient("sell", max_factor=0.5, step=1.0, delta=0.05, initial=0.48)
    edge.learn(Feedback(1, 1, 0.0, np.array([0.0, 0.5])))
    assert edge.factor == 0.5  # projected onto [0, max_factor]


def test_learners_refuse_bad_parameters():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="max_factor"):
        Hedge("buy", 1.5, 5, 0.1, rng)  # a buyer cannot shade more than its value
    with pytest.raises(ValueError, match="eta"):
        Hedge("sell", 1.0, 5, 0.0, rng)
    with pytest.raises(ValueError, match="exploration"):
        Exp3("sell", 1.0, 5, 0.1, rng, exploration=0.0)
    with pytest.raises(ValueError, match="delta"):
        Gradient("sell", 1.0, 0.1, 0.0)


def test_strategy_names_by_feedback():
    bandit = set(strategy_names("buy", feedback=("none", "bandit")))
    assert {"truthful", "shading", "fill_rate", "exp3"} <= bandit
    assert not {"hedge", "gradient", "markup"} & bandit
    assert {"hedge", "gradient", "markup"} <= set(strategy_names("sell"))
    assert all(STRATEGIES[n].feedback == "full" for n in ("hedge", "gradient"))


class _Doubling(Strategy):
    """A strategy that reports twice its true values: not a factor strategy (unregistered:
    no name of its own)."""

    name = ""

    def report(self, true):
        return 2 * np.asarray(true)


def test_report_all_equals_each_agents_own_report():
    rng = np.random.default_rng(4)
    strategies = [
        Truthful("sell"),
        Markup("sell", 0.3),
        Shading("buy", 0.2),
        FillRate("buy", 0.05, 0.5, 0.25),
        _Doubling("sell"),
    ]
    true = rng.normal(size=(len(strategies), 7))
    expected = np.array([s.report(row) for s, row in zip(strategies, true, strict=True)])
    np.testing.assert_array_equal(report_all(strategies, true), expected)
    assert report_all([], np.zeros((0, 3))).shape == (0, 3)
