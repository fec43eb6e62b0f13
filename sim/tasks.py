"""The stream of modelling tasks solvers work on each round."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tasks:
    """One task per active solver for one round.

    Attributes:
        kind: ``(m,)`` index into the stream's task kinds.
        industry: ``(m,)`` industry the task's buyer operates in.
        fee: ``(m,)`` money the task's buyer pays per quality-weighted data unit.
    """

    kind: np.ndarray
    industry: np.ndarray
    fee: np.ndarray


class TaskStream:
    """Draws tasks: kind and industry uniformly, fee uniformly in ``[fee_low, fee_high]``.

    Args:
        kinds: task-kind names.
        n_industries: number of industries.
        fee_low: lowest fee per quality-weighted unit.
        fee_high: highest fee per quality-weighted unit.
    """

    def __init__(self, kinds: tuple[str, ...], n_industries: int, fee_low: float, fee_high: float):
        self.kinds = kinds
        self.n_industries = n_industries
        self.fee_low = fee_low
        self.fee_high = fee_high

    def draw(self, m: int, rng: np.random.Generator) -> Tasks:
        """Draw ``m`` tasks with the model's generator."""
        return Tasks(
            kind=rng.integers(len(self.kinds), size=m),
            industry=rng.integers(self.n_industries, size=m),
            fee=rng.uniform(self.fee_low, self.fee_high, size=m),
        )
