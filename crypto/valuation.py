"""Data valuation: what each data owner's rows are worth to a model trained on the pool.

The value of a coalition of owners is the held-out accuracy of a logistic regression trained
with JAX on their rows (:class:`CoalitionValue`). Every coalition is a 0/1 mask over one
padded row pool, and masks are evaluated in fixed-size batches through
:func:`crypto.train.train_subsets` (``jax.vmap``), so one compiled program serves every round
of a simulation. Values are cached by coalition; a cache shared across instances (keyed by
the owners' labels) carries values from one round of a simulation to the next.

* :func:`leave_one_out`: ``v(N) - v(N without i)``, ``n + 1`` models.
* :func:`exact_shapley`: every coalition, ``2^n`` models (small ``n`` only).
* :func:`monte_carlo_shapley`: truncated Monte Carlo over permutations (Ghorbani and Zou,
  2019): marginal contributions along random orders, evaluated prefix chunk by prefix chunk;
  once a permutation's prefix is within ``truncation`` of ``v(N)`` its remaining marginals
  count as zero.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from itertools import combinations

import jax
import jax.numpy as jnp
import numpy as np

from crypto.train import TrainConfig, logits, train_subsets

Value = Callable[[np.ndarray], np.ndarray]
"""Maps coalitions ``(k, n)`` bool to their values ``(k,)``."""

BATCH = 64
"""Coalitions trained per compiled call; shorter batches are padded."""


class CoalitionValue:
    """Held-out accuracy of a model trained on the rows of a coalition of owners.

    Args:
        x: ``(rows, features)`` the pooled training rows.
        y: ``(rows,)`` their labels.
        owner: ``(rows,)`` the owner index of each row, in ``[0, n)``.
        x_test: held-out rows the models are scored on.
        y_test: their labels.
        n: number of owners (players).
        config: training hyper-parameters (default: 100 epochs).
        seed: initialization seed shared by every model.
        pad_rows: pad the pool to a multiple of this many rows (padded rows carry weight 0),
            so that pools of nearby sizes share one compiled program.
        shares: ``(n,)`` weight of each owner's rows when it is in a coalition (for example
            the share of its data it sold); default 1.
        test_weight: weight of each held-out row in the accuracy; default equal.
        labels: a hashable label per owner that identifies its rows and their weight (for
            example ``(owner id, share)``); with ``cache``, coalitions are keyed by their
            members' labels, so equal coalitions of different instances share one value.
        cache: a dict to keep values in (default: a new one, keyed by member indices).

    Raises:
        ValueError: on mismatched shapes or an owner index out of range.
    """

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        owner: np.ndarray,
        x_test: np.ndarray,
        y_test: np.ndarray,
        n: int,
        config: TrainConfig | None = None,
        seed: int = 0,
        pad_rows: int = 512,
        shares: np.ndarray | None = None,
        test_weight: np.ndarray | None = None,
        labels: list | None = None,
        cache: dict | None = None,
    ) -> None:
        owner = np.asarray(owner)
        if x.ndim != 2 or y.shape != (x.shape[0],) or owner.shape != y.shape:
            raise ValueError("CoalitionValue: x (rows, features), y and owner (rows,) must match")
        if owner.size and (owner.min() < 0 or owner.max() >= n):
            raise ValueError(f"CoalitionValue: owner indices must be in [0, {n})")
        rows = x.shape[0]
        padded = max(pad_rows, math.ceil(rows / pad_rows) * pad_rows)
        self.x = np.zeros((padded, x.shape[1]), np.float32)
        self.x[:rows] = x
        self.y = np.zeros(padded, np.float32)
        self.y[:rows] = y
        self.owner = owner
        self.row_weight = None if shares is None else np.asarray(shares, np.float32)[owner]
        self.rows = rows
        self.n = n
        self.x_test = jnp.asarray(x_test, jnp.float32)
        self.y_test = jnp.asarray(y_test, jnp.float32)
        weight = np.ones(len(y_test)) if test_weight is None else np.asarray(test_weight, float)
        if weight.shape != (len(y_test),) or weight.sum() <= 0 or np.any(weight < 0):
            raise ValueError("CoalitionValue: test_weight must be (test rows,), >= 0, not all 0")
        self.test_weight = weight / weight.sum()
        self.config = config or TrainConfig(epochs=100)
        self.seed = seed
        if labels is not None and len(labels) != n:
            raise ValueError(f"CoalitionValue: need one label per owner ({n}), got {len(labels)}")
        self.labels = labels
        self.cache: dict = {} if cache is None else cache
        self.trained = 0

    def masks(self, coalitions: np.ndarray, row_weight: np.ndarray | None = None) -> np.ndarray:
        """Row weights ``(k, padded rows)`` for coalitions ``(k, n)`` (bool or weights)."""
        weights = np.asarray(coalitions, np.float32)[:, self.owner]
        if row_weight is not None:
            weights = weights * row_weight[None, :]
        out = np.zeros((weights.shape[0], self.x.shape[0]), np.float32)
        out[:, : self.rows] = weights
        return out

    def correct(self, masks: np.ndarray) -> np.ndarray:
        """``(k, test rows)``: whether each mask's model classifies each held-out row right.

        Masks are trained in padded batches of :data:`BATCH`, so every call has the same
        shapes and the compiled programs are reused.
        """
        out = []
        for start in range(0, masks.shape[0], BATCH):
            chunk = masks[start : start + BATCH]
            padded = np.zeros((BATCH, masks.shape[1]), np.float32)
            padded[: chunk.shape[0]] = chunk
            params = train_subsets(self.x, self.y, padded, self.config, self.seed)
            correct = correct_predictions(params, self.x_test, self.y_test)
            out.append(np.asarray(correct)[: chunk.shape[0]])
            self.trained += chunk.shape[0]
        return np.concatenate(out) if out else np.zeros((0, self.x_test.shape[0]), bool)

    def __call__(self, coalitions: np.ndarray) -> np.ndarray:
        """Values of coalitions ``(k, n)`` bool, trained only for those not cached."""
        coalitions = np.asarray(coalitions, bool).reshape(-1, self.n)
        if self.labels is None:
            keys = [np.packbits(c).tobytes() for c in coalitions]
        else:
            keys = [  # a digest of the members' labels: small, whatever the coalition's size
                hashlib.blake2b(
                    "\x1f".join(sorted(repr(self.labels[k]) for k in np.flatnonzero(c))).encode(),
                    digest_size=16,
                ).digest()
                for c in coalitions
            ]
        todo = [i for i, key in enumerate(keys) if key not in self.cache]
        unique = list(dict.fromkeys(keys[i] for i in todo))
        if unique:
            first = {key: i for i, key in reversed(list(enumerate(keys)))}
            rows = coalitions[[first[key] for key in unique]]
            values = self.correct(self.masks(rows, self.row_weight)) @ self.test_weight
            self.cache.update(zip(unique, values.tolist(), strict=True))
        return np.array([self.cache[key] for key in keys])


@jax.jit
def correct_predictions(params: dict[str, jax.Array], x: jax.Array, y: jax.Array) -> jax.Array:
    """``(models, rows)``: whether each model classifies each row correctly."""
    z = jax.vmap(lambda p: logits(p, x))(params)
    return (z > 0) == (y[None, :] > 0.5)


def leave_one_out(value: Value, n: int) -> np.ndarray:
    """``v(N) - v(N without i)`` for every player ``i``."""
    coalitions = np.ones((n + 1, n), bool)
    coalitions[np.arange(n), np.arange(n)] = False
    v = value(coalitions)
    return v[n] - v[:n]


def exact_shapley(value: Value, n: int, max_players: int = 12) -> np.ndarray:
    """Shapley values from all ``2^n`` coalitions.

    Raises:
        ValueError: if ``n > max_players``.
    """
    if n > max_players:
        raise ValueError(f"exact_shapley: {n} players need 2^{n} models; at most {max_players}")
    coalitions = ((np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1).astype(bool)
    v = value(coalitions)
    index = {tuple(np.flatnonzero(c)): k for k, c in enumerate(coalitions)}
    phi = np.zeros(n)
    for size in range(n):
        weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
        for members in combinations(range(n), size):
            base = v[index[members]]
            for i in set(range(n)) - set(members):
                phi[i] += weight * (v[index[tuple(sorted((*members, i)))]] - base)
    return phi


def monte_carlo_shapley(
    value: Value,
    n: int,
    permutations: int,
    rng: np.random.Generator,
    truncation: float = 0.0,
    chunk: int | None = None,
) -> np.ndarray:
    """Truncated Monte Carlo Shapley values.

    Args:
        value: coalition values.
        n: players.
        permutations: random orders to average over, ``>= 1``.
        rng: the caller's generator.
        truncation: a permutation stops once ``|v(N) - v(prefix)| <= truncation``; its
            remaining marginals count as zero (0 disables truncation).
        chunk: prefixes evaluated per permutation per step (default about ``n / 4``).

    Raises:
        ValueError: if ``permutations < 1``.
    """
    if permutations < 1:
        raise ValueError(f"monte_carlo_shapley: permutations must be >= 1, got {permutations}")
    if n == 0:
        return np.zeros(0)
    chunk = chunk or max(1, math.ceil(n / 4))
    orders = np.array([rng.permutation(n) for _ in range(permutations)])
    full, empty = value(np.array([np.ones(n, bool), np.zeros(n, bool)]))
    phi = np.zeros(n)
    previous = np.full(permutations, empty)
    alive = np.ones(permutations, bool)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        live = np.flatnonzero(alive)
        if live.size == 0:
            break
        prefixes = np.zeros((live.size, stop - start, n), bool)
        for row, p in enumerate(live):
            for k in range(start, stop):
                prefixes[row, k - start, orders[p, : k + 1]] = True
        v = value(prefixes.reshape(-1, n)).reshape(live.size, stop - start)
        steps = np.diff(np.column_stack([previous[live], v]), axis=1)
        for row, p in enumerate(live):
            phi[orders[p, start:stop]] += steps[row]
        previous[live] = v[:, -1]
        if truncation > 0:
            alive[live] = np.abs(full - v[:, -1]) > truncation
    return phi / permutations
