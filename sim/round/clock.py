"""CPU time per stage of a round, summed over the rounds run so far."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager


class StageClock:
    """Sums the process CPU time (all threads) spent in each named stage.

    ``seconds`` maps a stage's name to its CPU seconds so far; ``rounds`` counts the rounds
    timed. The benchmark (``intentlab bench --scale``) reads both.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.rounds = 0

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as stage ``name``."""
        started = time.process_time()
        try:
            yield
        finally:
            self.seconds[name] += time.process_time() - started
