"""The incentive layer's state: reputation and the data pool.

The data pool holds the rows behind solvers' models and corporations' data values (Yuma's
bonds live with the Yuma regime, :mod:`sim.regimes.yuma`).

Each class holds numpy arrays or dicts keyed by agent id and does one thing; the model
(:mod:`sim.model`) calls them in its round pipeline.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.config import DataValueConfig


class BetaReputation:
    """A Beta reputation per agent: ``(s + 1) / (s + f + 2)`` over decayed counts.

    Each round, past successes ``s`` and failures ``f`` are multiplied by ``decay`` before
    the round's verification outcomes are added, so old behaviour fades.

    Args:
        decay: weight kept by past outcomes per round, in ``(0, 1]``.
    """

    def __init__(self, decay: float) -> None:
        self.decay = decay
        self.counts: dict[int, np.ndarray] = {}

    def update(self, ids: Sequence[int], successes: np.ndarray, failures: np.ndarray) -> None:
        """Decay the counts of ``ids`` and add this round's outcomes."""
        for agent, s, f in zip(ids, successes, failures, strict=True):
            counts = self.counts.get(agent, np.zeros(2))
            self.counts[agent] = self.decay * counts + (float(s), float(f))

    def value(self, ids: Sequence[int]) -> np.ndarray:
        """Reputation in ``(0, 1)`` per agent; 0.5 for an agent never verified."""
        counts = np.array([self.counts.get(a, np.zeros(2)) for a in ids]).reshape(-1, 2)
        return (counts[:, 0] + 1) / (counts.sum(axis=1) + 2)


class DataPool:
    """Every corporation's rows of synthetic industry data, and the models trained on them.

    A corporation's rows are drawn once, on entry, from a generator derived from the run
    seed and its id (so the market's own draws are unchanged); a poisoner's labels are noise
    of quality ``poison_quality``. Solvers' models are logistic regressions trained with JAX
    on the rows they bought (each row weighted by the share of the seller's supply bought)
    plus a small public set; a model is scored on held-out rows of its task's industry.

    Args:
        config: the data-value settings.
        n_features: features per row.
        n_industries: industries.
        seed: the run seed.
    """

    def __init__(self, config: DataValueConfig, n_features: int, n_industries: int, seed: int):
        from crypto.data import IndustryData

        self.config = config
        self.seed = seed
        self.data = IndustryData(n_features, n_industries, config.industry_shift, seed=seed)
        rng = np.random.default_rng([seed, 0x7465])
        tests = [self.data.sample(i, config.test_rows, 1.0, rng) for i in range(n_industries)]
        self.x_test = np.stack([t.x for t in tests])  # (industries, test_rows, features)
        self.y_test = np.stack([t.y for t in tests])
        self.public = [
            self.data.sample(int(rng.integers(n_industries)), 1, 1.0, rng)
            for _ in range(config.public_rows)
        ]
        self.rows: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.cache: dict = {}  # coalition (digest of members' (id, share)) -> value
        self.trained = 0  # models trained for data values so far

    def add(self, corporation: int, industry: int, quality: float, rows: int) -> None:
        """Draw ``rows`` rows of ``industry`` at label quality ``quality`` for a corporation."""
        rng = np.random.default_rng([self.seed, 0x6461, corporation])
        d = self.data.sample(industry, rows, quality, rng)
        self.rows[corporation] = (d.x, d.y)

    def _stack(self, owners: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        xs = [self.rows[o][0] for o in owners] + [p.x for p in self.public]
        ys = [self.rows[o][1] for o in owners] + [p.y for p in self.public]
        owner = np.concatenate(
            [np.full(len(self.rows[o][1]), k) for k, o in enumerate(owners)]
            + [np.full(len(self.public), len(owners))]
        ).astype(int)
        return np.concatenate(xs), np.concatenate(ys), owner

    def _value(self, owners: Sequence[int], shares: np.ndarray | None = None):
        from crypto.train import TrainConfig
        from crypto.valuation import CoalitionValue

        x, y, owner = self._stack(owners)
        shares = np.ones(len(owners)) if shares is None else np.asarray(shares, float)
        return CoalitionValue(
            x,
            y,
            owner,
            self.x_test.reshape(-1, self.x_test.shape[-1]),
            self.y_test.reshape(-1),
            len(owners) + 1,
            TrainConfig(epochs=self.config.epochs),
            seed=self.seed,
            pad_rows=1024,
            shares=np.append(shares, 1.0),
            labels=[(o, round(float(w), 9)) for o, w in zip(owners, shares, strict=True)]
            + ["public"],
            cache=self.cache,
        )

    def model_accuracy(
        self, owners: Sequence[int], shares: np.ndarray, industries: np.ndarray
    ) -> np.ndarray:
        """Held-out accuracy of each solver's model.

        Args:
            owners: the corporations whose rows may be used (``n``).
            shares: ``(n, m)`` share of each corporation's rows each solver trained on.
            industries: ``(m,)`` the industry each solver's task serves.
        """
        value = self._value(owners)
        weights = np.vstack([shares, np.ones((1, shares.shape[1]))])  # public rows: all
        k, rows, _ = self.x_test.shape
        correct = value.correct(value.masks(weights.T)).reshape(-1, k, rows)
        return correct[np.arange(len(industries)), industries].mean(axis=1)

    def random_model_accuracy(self, industries: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Accuracy of random weights (what a lazy solver returns) on each task's industry."""
        out = np.empty(len(industries))
        for j, industry in enumerate(industries):
            w = rng.normal(size=self.x_test.shape[-1])
            b = rng.normal()
            out[j] = np.mean((self.x_test[industry] @ w + b > 0) == (self.y_test[industry] > 0.5))
        return out

    def values(
        self, owners: Sequence[int], shares: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Data value of each corporation in ``owners`` by the configured Shapley method.

        The coalition value is the accuracy, on the held-out rows of every industry, of a
        model trained on the coalition's rows (each owner's rows weighted by ``shares``, the
        share of its data it sold) plus the public rows. Coalition values are cached across
        rounds: a coalition whose members sold the same shares again is not retrained.
        """
        from crypto.valuation import exact_shapley, leave_one_out, monte_carlo_shapley

        n = len(owners)
        if n == 0:
            return np.zeros(0)
        value = self._value(owners, shares)

        def with_public(coalitions: np.ndarray) -> np.ndarray:
            coalitions = np.asarray(coalitions, bool)
            return value(np.column_stack([coalitions, np.ones(len(coalitions), bool)]))

        method = self.config.method
        if method == "loo":
            out = leave_one_out(with_public, n)
        elif method == "exact_shapley":
            out = exact_shapley(with_public, n, self.config.max_exact_players)
        else:
            out = monte_carlo_shapley(
                with_public, n, self.config.permutations, rng, self.config.truncation
            )
        self.trained += value.trained
        return out
