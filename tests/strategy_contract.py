"""The contract every strategy passes.

A strategy's test class inherits :class:`StrategyContract` and sets ``make``: a function of
``(side, rng)`` that builds the strategy under test (``rng``: a generator it may use), and
``sides`` if it is for one side only; each test runs once per side.
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable

import numpy as np
import pytest

from agents.strategies import FEEDBACK, STRATEGIES, Feedback, Strategy, report_all

ROUNDS = 60


def feedback_for(strategy: Strategy, rng: np.random.Generator) -> Feedback:
    """A random round's feedback of the kind ``strategy`` learns from."""
    offered = float(rng.choice([0.0, 1.0, 2.5]))
    traded = float(rng.uniform(0, offered)) if rng.random() < 0.7 else offered
    utility = float(rng.normal())
    counterfactual = None
    if strategy.feedback == "full":
        counterfactual = rng.normal(size=strategy.probes().shape)
    return Feedback(offered, traded, utility, counterfactual)


class StrategyContract:
    make: Callable[[str, np.random.Generator], Strategy]
    sides: tuple[str, ...] = ("sell", "buy")

    def _played(self, side: str, seed: int = 0) -> tuple[Strategy, list[float]]:
        """A strategy after ``ROUNDS`` random rounds, and the factors it reported by."""
        strategy = self.make(side, np.random.default_rng(seed))
        feedback_rng = np.random.default_rng(seed + 100)
        factors = []
        for _ in range(ROUNDS):
            factors.append(strategy.factor)
            strategy.learn(feedback_for(strategy, feedback_rng))
        return strategy, factors

    @pytest.fixture
    def side(self, strategy_side):
        """Each side of :attr:`sides` in turn (``tests/conftest.py`` parametrizes it)."""
        return strategy_side

    def test_is_registered_with_a_known_feedback(self, side):
        strategy = self.make(side, np.random.default_rng(0))
        assert STRATEGIES[strategy.name] is type(strategy)
        assert strategy.feedback in FEEDBACK
        assert strategy.side == side

    def test_reports_stay_on_their_side_of_the_truth(self, side):
        strategy, factors = self._played(side)
        true = np.random.default_rng(1).normal(size=(5, 4))
        reported = strategy.report(true)
        assert reported.shape == true.shape
        assert np.all(reported >= true) if side == "sell" else np.all(reported <= true)
        assert min(factors) >= 0
        if side == "buy":  # a buyer never bids below zero on a positive value
            assert max(factors) <= 1

    def test_report_all_agrees_with_report(self, side):
        strategy, _ = self._played(side)
        true = np.random.default_rng(2).uniform(-1, 3, size=(1, 6))
        np.testing.assert_array_equal(report_all([strategy], true)[0], strategy.report(true[0]))

    def test_same_seed_same_factors(self, side):
        assert self._played(side, seed=3)[1] == self._played(side, seed=3)[1]

    def test_a_copy_learns_on_identically(self, side):
        strategy, _ = self._played(side, seed=4)
        twin = pickle.loads(pickle.dumps(strategy))
        clone = copy.deepcopy(strategy)
        rng = np.random.default_rng(5)
        for _ in range(10):
            feedback = feedback_for(strategy, rng)
            for s in (strategy, twin, clone):
                s.learn(feedback)
            assert strategy.factor == twin.factor == clone.factor

    def test_full_feedback_is_required_where_declared(self, side):
        strategy = self.make(side, np.random.default_rng(0))
        if strategy.feedback != "full":
            assert strategy.probes().size == 0
            strategy.learn(Feedback(1.0, 1.0, 1.0))  # learns without counterfactuals
            return
        assert strategy.probes().size >= 1
        with pytest.raises(ValueError, match="probes"):
            strategy.learn(Feedback(1.0, 1.0, 1.0))
