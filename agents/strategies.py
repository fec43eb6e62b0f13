"""How an agent turns its true per-unit values into reported asks and bids.

A seller reports an ask at or above its true cost; a buyer reports a bid at or below its
true value. Each strategy is a small class with two verbs: :meth:`Strategy.report` and,
for learners, :meth:`Strategy.learn` from the agent's own trade history.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Literal

import numpy as np

Side = Literal["sell", "buy"]


class Strategy:
    """Truthful reporting; the base class of all strategies.

    Args:
        side: ``"sell"`` for corporations (asks), ``"buy"`` for solvers (bids).
    """

    name: ClassVar[str] = "truthful"
    sides: ClassVar[tuple[Side, ...]] = ("sell", "buy")

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

    def learn(self, offered: float, traded: float) -> None:
        """Update from the last round: ``traded`` of ``offered`` units changed hands."""


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


class Adaptive(Strategy):
    """Learns how far to report from its true value from its own fills.

    After a round in which it traded everything it offered (or could buy), it moves its
    report ``step`` further from truthful (asks higher, bids lower), up to ``max_factor``;
    after a round with no trade it moves ``step`` back toward truthful (never past it).
    Partial fills leave the factor unchanged.

    Args:
        side: ``"sell"`` or ``"buy"``.
        step: change of the factor per round, ``> 0``.
        max_factor: largest factor, ``>= 0``.
        initial: starting factor, in ``[0, max_factor]``.
    """

    name = "adaptive"

    def __init__(self, side: Side, step: float, max_factor: float, initial: float = 0.0) -> None:
        super().__init__(side)
        if step <= 0 or max_factor < 0 or not 0 <= initial <= max_factor:
            raise ValueError(
                f"adaptive strategy needs step > 0 and 0 <= initial <= max_factor, got "
                f"step={step}, initial={initial}, max_factor={max_factor}"
            )
        self.step = float(step)
        self.max_factor = float(max_factor)
        self._factor = float(initial)

    @property
    def factor(self) -> float:
        """The current learned factor."""
        return self._factor

    def learn(self, offered: float, traded: float) -> None:
        """Move away from truthful after a full fill, toward it after no fill."""
        if offered <= 0:
            return
        if traded >= offered * (1 - 1e-9):
            self._factor = min(self.max_factor, self._factor + self.step)
        elif traded <= 0:
            self._factor = max(0.0, self._factor - self.step)


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


STRATEGIES: dict[str, type[Strategy]] = {
    cls.name: cls for cls in (Truthful, Markup, Shading, Adaptive)
}


def strategy_names(side: Side) -> list[str]:
    """Strategy names usable on ``side``."""
    return [name for name, cls in STRATEGIES.items() if side in cls.sides]
