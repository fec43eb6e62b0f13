"""How an agent turns its true per-unit values into reported asks and bids, and learns.

A seller reports an ask at or above its true cost; a buyer reports a bid at or below its
true value, by a *factor*: ``cost + factor * |cost|``, ``value - factor * |value|``. Each
strategy is a small class with two verbs, :meth:`Strategy.report` and
:meth:`Strategy.learn` (from the :class:`Feedback` of the round it took part in), and is
registered by ``name`` when defined (:data:`STRATEGIES`).

Strategies differ in what they learn from (:attr:`Strategy.feedback`): ``none`` (fixed
factors, and the fill-rate heuristic, which reads only its own fills), ``bandit`` (its
realized utility: :class:`Exp3`) and ``full`` (what other factors would have earned it, the
others' reports held fixed: :class:`Hedge`, :class:`Gradient`). The simulation gives bandit
feedback; :mod:`sim.learning` re-clears a round's market with one report changed and gives
full feedback.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np

Side = Literal["sell", "buy"]
#: What a strategy learns from: nothing or its fills, its realized utility, or the
#: utilities its probes would have earned.
FEEDBACK = ("none", "bandit", "full")

#: Every registered strategy, by name.
STRATEGIES: dict[str, type[Strategy]] = {}


@dataclass(frozen=True)
class Feedback:
    """What an agent observes after a round.

    Attributes:
        offered: units it offered (a seller) or could buy (a buyer).
        traded: units it traded.
        utility: what it gained this round (money; in the simulation including tokens, net
            of slashing and of a seller's sharing cost).
        counterfactual: the utility each of its :meth:`Strategy.probes` would have earned
            it this round, the others' reports held fixed; ``None`` where not computed.
    """

    offered: float
    traded: float
    utility: float = 0.0
    counterfactual: np.ndarray | None = None


class Strategy:
    """Truthful reporting; the base class of all strategies.

    Subclasses set ``name`` (registered when defined), ``sides`` and ``feedback``, and
    override :attr:`factor`, :meth:`learn` and, for full feedback, :meth:`probes`; one that
    does not report by a factor overrides :meth:`report`.

    Args:
        side: ``"sell"`` for corporations (asks), ``"buy"`` for solvers (bids).
    """

    name: ClassVar[str] = "truthful"
    sides: ClassVar[tuple[Side, ...]] = ("sell", "buy")
    feedback: ClassVar[str] = "none"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in vars(cls) and cls.name:
            if cls.feedback not in FEEDBACK:
                raise TypeError(f"strategy {cls.name!r}: feedback must be one of {FEEDBACK}")
            if STRATEGIES.get(cls.name, cls) is not cls:
                raise ValueError(f"strategy name {cls.name!r} is registered twice")
            STRATEGIES[cls.name] = cls

    def __init__(self, side: Side) -> None:
        if side not in self.sides:
            raise ValueError(
                f"strategy {self.name!r} is for {' or '.join(self.sides)} side, not {side!r}"
            )
        self.side = side

    @property
    def factor(self) -> float:
        """Relative distance of the report from the true value (0 = truthful)."""
        return 0.0

    def report(self, true: np.ndarray) -> np.ndarray:
        """The reported per-unit ask (seller) or bid (buyer) for true values ``true``.

        Sellers add ``factor * |true|``, buyers subtract it.
        """
        shift = self.factor * np.abs(true)
        return true + shift if self.side == "sell" else true - shift

    def probes(self) -> np.ndarray:
        """Factors whose counterfactual utilities it learns from (full feedback only)."""
        return np.zeros(0)

    def learn(self, feedback: Feedback) -> None:
        """Update from the round just played."""


class Truthful(Strategy):
    """Report true values."""

    name = "truthful"


class Markup(Strategy):
    """A seller that asks its cost times ``1 + factor``.

    Args:
        side: must be ``"sell"``.
        factor: relative markup, ``>= 0``.
    """

    name = "markup"
    sides = ("sell",)

    def __init__(self, side: Side, factor: float) -> None:
        super().__init__(side)
        if factor < 0:
            raise ValueError(f"markup factor must be >= 0, got {factor}")
        self._factor = float(factor)

    @property
    def factor(self) -> float:
        """The fixed markup."""
        return self._factor


class Shading(Markup):
    """A buyer that bids its value times ``1 - factor``.

    Args:
        side: must be ``"buy"``.
        factor: relative shading, ``>= 0``.
    """

    name = "shading"
    sides = ("buy",)


class FillRate(Strategy):
    """A fill-rate heuristic: moves its factor by its own fills, not by its payoffs.

    After a round in which it traded everything it offered (or could buy), it moves its
    report ``step`` further from truthful (asks higher, bids lower), up to ``max_factor``;
    after a round with no trade it moves ``step`` back toward truthful (never past it).
    Partial fills leave the factor unchanged. It steers toward the factor at which it is
    filled about half the time, whatever that earns: it is not an equilibrium learner
    (with two buyers in a single-item auction the sum of their factors never changes).

    Args:
        side: ``"sell"`` or ``"buy"``.
        step: change of the factor per round, ``> 0``.
        max_factor: largest factor, ``>= 0``.
        initial: starting factor, in ``[0, max_factor]``.
    """

    name = "fill_rate"

    def __init__(self, side: Side, step: float, max_factor: float, initial: float = 0.0) -> None:
        super().__init__(side)
        if step <= 0 or max_factor < 0 or not 0 <= initial <= max_factor:
            raise ValueError(
                f"fill_rate strategy needs step > 0 and 0 <= initial <= max_factor, got "
                f"step={step}, initial={initial}, max_factor={max_factor}"
            )
        self.step = float(step)
        self.max_factor = float(max_factor)
        self._factor = float(initial)

    @property
    def factor(self) -> float:
        """The current factor."""
        return self._factor

    def learn(self, feedback: Feedback) -> None:
        """Move away from truthful after a full fill, toward it after no fill."""
        offered, traded = feedback.offered, feedback.traded
        if offered <= 0:
            return
        if traded >= offered * (1 - 1e-9):
            self._factor = min(self.max_factor, self._factor + self.step)
        elif traded <= 0:
            self._factor = max(0.0, self._factor - self.step)


class _Scale:
    """The largest absolute utility seen so far: learners divide payoffs by it.

    Multiplicative-weights and gradient steps assume payoffs in ``[-1, 1]``; an agent does
    not know its payoffs' range in advance, so it normalizes by the largest it has seen
    (0 until it has seen one other than 0, when it does not learn).
    """

    def __init__(self) -> None:
        self.value = 0.0

    def __call__(self, utilities: np.ndarray) -> np.ndarray | None:
        """``utilities`` divided by the scale after taking them in; None while it is 0."""
        self.value = max(self.value, float(np.max(np.abs(utilities), initial=0.0)))
        return None if self.value <= 0 else np.asarray(utilities, dtype=float) / self.value


class _GridLearner(Strategy):
    """Weights over a grid of factors ``0, ..., max_factor``; a factor drawn each round.

    Args:
        side: ``"sell"`` or ``"buy"``.
        max_factor: the grid's largest factor (a buyer's must be ``<= 1``).
        factors: grid points, ``>= 2``.
        eta: learning rate, ``> 0``.
        rng: the agent's own generator (the draws of its factors).
    """

    def __init__(
        self,
        side: Side,
        max_factor: float,
        factors: int,
        eta: float,
        rng: np.random.Generator,
    ) -> None:
        super().__init__(side)
        _check_grid(self.name, side, max_factor, factors)
        if not eta > 0:
            raise ValueError(f"{self.name} strategy needs eta > 0, got {eta}")
        self.grid = np.linspace(0.0, float(max_factor), int(factors))
        self.eta = float(eta)
        self.rng = rng
        self.log_weights = np.zeros(self.grid.size)
        self.scale = _Scale()
        self.arm = self._draw()

    @property
    def factor(self) -> float:
        """The factor drawn for this round."""
        return float(self.grid[self.arm])

    def probabilities(self) -> np.ndarray:
        """The distribution the next factor is drawn from."""
        weights = np.exp(self.log_weights - self.log_weights.max())
        return weights / weights.sum()

    def expected_factor(self) -> float:
        """The mean of the factor's distribution."""
        return float(self.probabilities() @ self.grid)

    def _draw(self) -> int:
        return int(self.rng.choice(self.grid.size, p=self.probabilities()))

    def _update(self, gains: np.ndarray) -> None:
        self.log_weights += self.eta * gains
        self.log_weights -= self.log_weights.max()
        self.arm = self._draw()


class Hedge(_GridLearner):
    """Hedge (multiplicative weights) over a grid of factors, with full information.

    After each round it is told what every factor on its grid would have earned it, the
    others' reports held fixed (:attr:`Feedback.counterfactual` for :meth:`probes`, the
    grid), and multiplies each factor's weight by ``exp(eta * utility / scale)``
    (``scale``: the largest absolute utility seen). Its regret against the best fixed factor
    grows as ``O(sqrt(T log K))`` for ``eta`` of order ``sqrt(log K / T)``; a larger ``eta``
    concentrates the weights sooner and follows noise more. It needs an environment that can
    compute counterfactual payoffs (sealed-bid auctions re-cleared with one report changed:
    :mod:`sim.learning`); the simulation cannot, and refuses it.
    """

    name = "hedge"
    feedback = "full"

    def probes(self) -> np.ndarray:
        """The whole grid."""
        return self.grid

    def learn(self, feedback: Feedback) -> None:
        """Weigh every factor by what it would have earned; draw the next factor."""
        utilities = _counterfactual(self, feedback)
        gains = self.scale(utilities)
        if gains is not None:
            self._update(gains)


class Exp3(_GridLearner):
    """EXP3 over a grid of factors: learns from its realized utility alone (bandit feedback).

    Draws its factor from ``(1 - exploration) * weights + exploration / K``; after the round
    it credits only the factor it played, with the importance-weighted estimate
    ``utility / (scale * p)`` (``p``: that factor's probability), so that each factor's
    estimate is unbiased. Regret ``O(sqrt(T K log K))`` for suitable ``eta`` and
    ``exploration``: it needs many more rounds than :class:`Hedge` to settle, and keeps
    playing every factor ``exploration / K`` of the time.

    Args:
        side, max_factor, factors, eta, rng: see :class:`Hedge`.
        exploration: share of uniform exploration, in ``(0, 1]``.
    """

    name = "exp3"
    feedback = "bandit"

    def __init__(
        self,
        side: Side,
        max_factor: float,
        factors: int,
        eta: float,
        rng: np.random.Generator,
        exploration: float = 0.1,
    ) -> None:
        if not 0 < exploration <= 1:
            raise ValueError(f"exp3 strategy needs 0 < exploration <= 1, got {exploration}")
        self.exploration = float(exploration)
        super().__init__(side, max_factor, factors, eta, rng)

    def probabilities(self) -> np.ndarray:
        """Weights mixed with uniform exploration."""
        return (1 - self.exploration) * super().probabilities() + self.exploration / self.grid.size

    def learn(self, feedback: Feedback) -> None:
        """Credit the factor played with its importance-weighted utility; draw the next."""
        if feedback.offered <= 0:  # not in the market this round: nothing to learn from
            return
        gain = self.scale(np.array([feedback.utility]))
        if gain is None:
            return
        estimate = np.zeros(self.grid.size)
        estimate[self.arm] = gain[0] / self.probabilities()[self.arm]
        self._update(estimate)


class Gradient(Strategy):
    """Projected gradient ascent on the factor, from two counterfactual probes per round.

    It probes ``factor - delta`` and ``factor + delta`` (clipped to ``[0, max_factor]``):
    told what each would have earned (the others' reports held fixed), it steps
    ``step / sqrt(t) * slope / scale`` (``slope``: the finite difference, ``scale``: the
    largest absolute utility seen), at most ``delta`` either way (early on, when ``scale``
    rests on a few small utilities, the raw step can be huge), then projects onto
    ``[0, max_factor]``. The finite
    difference of a round's (discontinuous) payoff is an unbiased slope of the payoff
    smoothed over ``2 * delta``: it climbs to a local best response of that smoothed payoff,
    without a grid. Like :class:`Hedge` it needs counterfactual payoffs.

    Args:
        side: ``"sell"`` or ``"buy"``.
        max_factor: largest factor (a buyer's must be ``<= 1``).
        step: learning rate, ``> 0``.
        delta: half-width of the probe, ``> 0``.
        initial: starting factor, in ``[0, max_factor]``.
    """

    name = "gradient"
    feedback = "full"

    def __init__(
        self, side: Side, max_factor: float, step: float, delta: float, initial: float = 0.0
    ) -> None:
        super().__init__(side)
        _check_grid(self.name, side, max_factor, 2)
        if not (step > 0 and delta > 0 and 0 <= initial <= max_factor):
            raise ValueError(
                f"gradient strategy needs step > 0, delta > 0 and 0 <= initial <= max_factor, "
                f"got step={step}, delta={delta}, initial={initial}, max_factor={max_factor}"
            )
        self.max_factor = float(max_factor)
        self.step = float(step)
        self.delta = float(delta)
        self._factor = float(initial)
        self.rounds = 0
        self.scale = _Scale()

    @property
    def factor(self) -> float:
        """The current factor."""
        return self._factor

    def probes(self) -> np.ndarray:
        """The factor minus and plus ``delta``, clipped to the allowed range."""
        return np.clip([self._factor - self.delta, self._factor + self.delta], 0, self.max_factor)

    def learn(self, feedback: Feedback) -> None:
        """Step along the finite-difference slope of the probes' payoffs."""
        low, high = self.probes()
        utilities = self.scale(_counterfactual(self, feedback))
        if utilities is None or high <= low:
            return
        self.rounds += 1
        slope = (utilities[1] - utilities[0]) / (high - low)
        move = np.clip(self.step / np.sqrt(self.rounds) * slope, -self.delta, self.delta)
        self._factor = float(np.clip(self._factor + move, 0.0, self.max_factor))


def _check_grid(name: str, side: Side, max_factor: float, factors: int) -> None:
    if not (max_factor > 0 and (side == "sell" or max_factor <= 1)) or factors < 2:
        raise ValueError(
            f"{name} strategy needs 0 < max_factor (<= 1 for a buyer) and factors >= 2, "
            f"got max_factor={max_factor}, factors={factors}"
        )


def _counterfactual(strategy: Strategy, feedback: Feedback) -> np.ndarray:
    probes = strategy.probes()
    values = feedback.counterfactual
    if values is None or np.shape(values) != probes.shape:
        raise ValueError(
            f"{strategy.name} strategy needs the utilities of its {probes.size} probes "
            f"(full-information feedback), got {None if values is None else np.shape(values)}"
        )
    return np.asarray(values, dtype=float)


def report_all(strategies: Sequence[Strategy], true: np.ndarray) -> np.ndarray:
    """Every agent's reports at once: row ``k`` of ``true`` is agent ``k``'s true values.

    Strategies that report by a factor (:meth:`Strategy.report` not overridden) are computed
    in one vectorized step, with the same arithmetic as :meth:`Strategy.report`; any other
    strategy reports its own row.
    """
    true = np.asarray(true, dtype=float)
    if not strategies:
        return true.copy()
    # a buyer's -factor * |true| is exactly -(factor * |true|): the same arithmetic
    signed = np.array([s.factor if s.side == "sell" else -s.factor for s in strategies])
    out = np.abs(true)
    out *= signed.reshape((-1,) + (1,) * (true.ndim - 1))
    out += true
    for k, strategy in enumerate(strategies):
        if type(strategy).report is not Strategy.report:
            out[k] = strategy.report(true[k])
    return out


def takes(cls: type[Strategy], parameter: str) -> bool:
    """Whether ``cls``'s constructor takes ``parameter`` (``rng``: a learner that draws)."""
    return parameter in inspect.signature(cls).parameters


def strategy_names(side: Side, feedback: tuple[str, ...] = FEEDBACK) -> list[str]:
    """Names of the strategies usable on ``side`` that learn from one of ``feedback``."""
    return [n for n, cls in STRATEGIES.items() if side in cls.sides and cls.feedback in feedback]
