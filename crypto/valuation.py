"""Data valuation: what each data owner's rows are worth to a model trained on them.

The value of a coalition of owners is the held-out accuracy of a logistic regression trained
with JAX on their rows. Two ways to train the coalitions' models:

* :class:`RowSets`: every owner's rows are one block of a row table; a model gathers only
  its own blocks (each with a weight) into an array padded to a power of two of rows, and
  models of one size train together through :func:`crypto.train.fit_rowsets`, so a model
  costs its own rows and one compiled program per size serves every round. Many games
  (one per solver, say) share the calls: :func:`game_values`.
* :class:`CoalitionValue`: every coalition is a 0/1 mask over one padded pool of every
  owner's rows, evaluated in fixed-size batches through :func:`crypto.train.train_subsets`.
  Values are cached by coalition; a cache shared across instances (keyed by the owners'
  labels) carries values from one round of a simulation to the next.

Values from coalition values, for one game (a ``value`` callable) or many
(:func:`game_values`):

* :func:`leave_one_out`: ``v(N) - v(N without i)``, ``n + 1`` models.
* :func:`exact_shapley`: every coalition, ``2^n`` models (small ``n`` only).
* :func:`kernel_shapley`: paired, stratified KernelSHAP, ``samples * n`` coalitions: the
  weighted least-squares fit of an additive game (:func:`kernel_shapley_design`).
* :func:`monte_carlo_shapley`: truncated Monte Carlo over permutations (Ghorbani and Zou,
  2019): marginal contributions along random orders, evaluated prefix chunk by prefix chunk;
  from a permutation's first prefix within ``truncation`` of ``v(N)`` on, its marginals
  count as zero.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Callable
from itertools import combinations

import jax
import jax.numpy as jnp
import numpy as np

from crypto.train import TrainConfig, fit_rowsets, logits, train_subsets

Value = Callable[[np.ndarray], np.ndarray]
"""Maps coalitions ``(k, n)`` bool to their values ``(k,)``."""

BATCH = 64
"""Coalitions trained per compiled call; shorter batches are padded."""


ROW_BUCKETS = tuple(16 * 2**k for k in range(16))
"""Row counts a model's rows are padded to (each its own compiled program)."""

MODEL_ROWS = 4096
"""Models per compiled call times their padded rows: each call trains ``MODEL_ROWS // size``
models of one row size, so every call has about the same cost and a fixed shape."""


class RowSets:
    """Models trained on unions of row blocks, each scored on one of several held-out sets.

    Every data owner's rows (and the public rows) are one contiguous block of a row table.
    A model is a set of blocks with one weight per block (its rows' weight in the loss) and
    the index of the held-out set it is scored on. Models are packed into padded arrays of a
    few sizes (:data:`ROW_BUCKETS`), and each size is trained ``MODEL_ROWS // size`` models
    per call through :func:`crypto.train.fit_rowsets` (``jax.vmap``-shaped, one compiled
    program per size), so the work grows with the rows each model holds and the compiled
    programs serve every round. Models with equal blocks, weights and held-out set are
    trained once per call (and once across calls that share a :class:`ModelMemo`).

    Args:
        x: ``(rows, features)`` the row table.
        y: ``(rows,)`` its labels.
        x_test: ``(sets, test rows, features)`` held-out rows, one set per index.
        y_test: ``(sets, test rows)`` their labels.
        config: training hyper-parameters (default: 100 epochs).
        seed: initialization seed shared by every model.

    Attributes:
        rows: rows in the table.
        trained: models trained so far.

    Raises:
        ValueError: on mismatched shapes.
    """

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        x_test: np.ndarray,
        y_test: np.ndarray,
        config: TrainConfig | None = None,
        seed: int = 0,
    ) -> None:
        if x.ndim != 2 or y.shape != (x.shape[0],):
            raise ValueError("RowSets: x (rows, features) and y (rows,) must match")
        if x_test.ndim != 3 or y_test.shape != x_test.shape[:2] or x_test.shape[2] != x.shape[1]:
            raise ValueError("RowSets: x_test (sets, rows, features), y_test (sets, rows)")
        self.x = np.asarray(x, np.float32)
        self.y = np.asarray(y, np.float32)
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []
        self.rows = len(self.y)
        self.x_test = jnp.asarray(x_test, jnp.float32)
        self.y_test = jnp.asarray(y_test, jnp.float32)
        self.config = config or TrainConfig(epochs=100)
        self.seed = seed
        self.trained = 0

    def add(self, x: np.ndarray, y: np.ndarray) -> int:
        """Append a block of rows to the table; returns its first row."""
        x = np.asarray(x, np.float32).reshape(-1, self.x.shape[1])
        y = np.asarray(y, np.float32).reshape(x.shape[0])
        start = self.rows
        self._pending.append((x, y))
        self.rows += len(y)
        return start

    def _table(self) -> None:
        if self._pending:  # joined once per batch of additions, not per block
            self.x = np.concatenate([self.x, *(x for x, _ in self._pending)])
            self.y = np.concatenate([self.y, *(y for _, y in self._pending)])
            self._pending = []

    def accuracy(
        self,
        model: np.ndarray,
        start: np.ndarray,
        length: np.ndarray,
        weight: np.ndarray,
        test: np.ndarray,
        memo: ModelMemo | None = None,
    ) -> np.ndarray:
        """Held-out accuracy of each model.

        Args:
            model: ``(entries,)`` the model each block entry belongs to, in ``[0, models)``.
            start: ``(entries,)`` the block's first row in the table.
            length: ``(entries,)`` its rows.
            weight: ``(entries,)`` the weight of its rows in the model's loss, ``>= 0``.
            test: ``(models,)`` the held-out set each model is scored on.
            memo: accuracies of models trained before (by earlier calls with the same memo);
                they are not trained again, and this call's models are added.

        Returns:
            ``(models,)`` share of the held-out set classified right.

        Raises:
            ValueError: on mismatched lengths, a block outside the table, a negative weight or
                a model with more rows than the largest size.
        """
        model, start, length = (np.asarray(a, np.int64) for a in (model, start, length))
        weight = np.asarray(weight, np.float32)
        test = np.asarray(test, np.int64)
        count = len(test)
        if not model.shape == start.shape == length.shape == weight.shape:
            raise ValueError("RowSets.accuracy: model, start, length, weight must match")
        if model.size and (model.min() < 0 or model.max() >= count):
            raise ValueError(f"RowSets.accuracy: model indices must be in [0, {count})")
        if np.any(start < 0) or np.any(start + length > self.rows) or np.any(weight < 0):
            raise ValueError("RowSets.accuracy: blocks must lie in the table, weights >= 0")
        if count == 0:
            return np.zeros(0)
        self._table()
        key = _model_keys(model, start, length, weight, test)
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        memo = memo if memo is not None else ModelMemo()
        known, values = memo.get(key[first])
        first = first[~known]  # each distinct model not trained before, trained once
        index = np.full(count, -1)
        index[first] = np.arange(len(first))
        entry = np.flatnonzero(index[model] >= 0)
        values[~known] = self._train(
            index[model[entry]], start[entry], length[entry], weight[entry], test[first]
        )
        memo.put(key[first], values[~known])
        return values[inverse.reshape(-1)]

    def _train(self, model, start, length, weight, test) -> np.ndarray:
        count = len(test)
        rows = np.bincount(model, weights=length, minlength=count).astype(np.int64)
        if rows.size and rows.max() > ROW_BUCKETS[-1]:
            raise ValueError(f"RowSets: a model holds {rows.max()} rows, at most {ROW_BUCKETS[-1]}")
        bucket = np.searchsorted(ROW_BUCKETS, rows)
        order = np.argsort(bucket, kind="stable")  # models by size: each size contiguous
        rank = np.empty(count, np.int64)
        rank[order] = np.arange(count)
        by_rank = np.argsort(rank[model], kind="stable")
        model, start, length, weight = (
            rank[model[by_rank]],
            start[by_rank],
            length[by_rank],
            weight[by_rank],
        )
        # every model's rows, model by model (in rank order): table row, place, weight
        first = np.concatenate([[0], np.cumsum(rows[order])])
        owner = np.repeat(model, length)
        row = _ranges(start, length)
        place = np.arange(len(row)) - first[owner]
        row_weight = np.repeat(weight, length)
        x_table, y_table = self.x, self.y
        if len(y_table) == 0:  # padding reads row 0, with weight 0
            x_table, y_table = np.zeros((1, self.x.shape[1]), np.float32), np.zeros(1, np.float32)
        correct = np.zeros(count)
        tests = test[order]
        sizes = bucket[order]
        seed = self.seed if self.config.hidden else 0  # only the MLP's start depends on it
        for b in np.unique(bucket):
            size = ROW_BUCKETS[b]
            batch = max(1, MODEL_ROWS // size)
            lo, hi = np.searchsorted(sizes, [b, b + 1])
            for a in range(lo, hi, batch):
                z = min(a + batch, hi)
                r0, r1 = first[a], first[z]
                index = np.zeros((batch, size), np.int64)
                w = np.zeros((batch, size), np.float32)
                index[owner[r0:r1] - a, place[r0:r1]] = row[r0:r1]
                w[owner[r0:r1] - a, place[r0:r1]] = row_weight[r0:r1]
                t = np.zeros(batch, np.int64)
                t[: z - a] = tests[a:z]
                hits = _fit_score(
                    x_table[index],
                    y_table[index],
                    w,
                    self.x_test,
                    self.y_test,
                    t,
                    self.config,
                    seed,
                )
                correct[a:z] = np.asarray(hits)[: z - a]
                self.trained += z - a
        return correct[rank] / self.y_test.shape[1]


class ModelMemo:
    """Accuracies of models already trained, by model key.

    A key is a 64-bit hash of a model's blocks, weights and held-out set; keys are kept
    sorted, so lookups are one ``searchsorted``.
    """

    def __init__(self) -> None:
        self.keys = np.zeros(0, np.uint64)
        self.values = np.zeros(0)

    def get(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(found (k,) bool, values (k,))``; values are 0 where not found."""
        at = np.minimum(np.searchsorted(self.keys, keys), max(len(self.keys) - 1, 0))
        found = self.keys[at] == keys if len(self.keys) else np.zeros(len(keys), bool)
        return found, np.where(found, self.values[at] if len(self.keys) else 0.0, 0.0)

    def put(self, keys: np.ndarray, values: np.ndarray) -> None:
        """Remember ``values`` under ``keys`` (keys not already held)."""
        keys = np.concatenate([self.keys, keys])
        order = np.argsort(keys, kind="stable")
        self.keys, self.values = keys[order], np.concatenate([self.values, values])[order]


@functools.partial(jax.jit, static_argnames=("config", "seed"))
def _fit_score(x, y, weight, x_test, y_test, test, config, seed):
    params = fit_rowsets(x, y, weight, config, seed)
    z = jax.vmap(logits)(params, x_test[test])
    return jnp.sum((z > 0) == (y_test[test] > 0.5), axis=1)


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + n) for s, n in zip(starts, lengths)])``, vectorized."""
    total = int(lengths.sum())
    ends = np.cumsum(lengths)
    return np.arange(total) - np.repeat(ends - lengths - starts, lengths)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer: a 64-bit hash of each value (wrapping arithmetic)."""
    h = np.asarray(h, np.uint64)
    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def _model_keys(model, start, length, weight, test) -> np.ndarray:
    """A 64-bit key per model: a hash of its set of (block, weight) entries and its test set."""
    with np.errstate(over="ignore"):
        bits = weight.astype(np.float32).view(np.uint32).astype(np.uint64)
        entry = _mix(
            _mix(start.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + length.astype(np.uint64))
            ^ bits
        )
        key = np.zeros(len(test), np.uint64)
        np.add.at(key, model, entry)  # a sum: the same set in any order has the same key
        return key + _mix(test.astype(np.uint64) + np.uint64(0x51ED27))


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


GameValue = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""Maps games ``(k,)`` and their coalitions ``(k, players)`` bool to values ``(k,)``; a
game's coalitions never hold columns past its own players."""

METHODS = ("shapley", "exact_shapley", "loo")
ESTIMATORS = ("kernel", "permutation")


def game_values(
    value: GameValue,
    sizes: np.ndarray | list[int],
    rng: np.random.Generator,
    method: str = "shapley",
    *,
    exact_players: int = 6,
    max_exact_players: int = 12,
    estimator: str = "kernel",
    samples: int = 12,
    permutations: int = 4,
    truncation: float = 0.0,
    chunk: int | None = None,
) -> list[np.ndarray]:
    """Every player's value in each of many games, their coalitions evaluated together.

    All games' coalitions go to ``value`` in one call (the truncated permutation estimator
    needs one more call per ``chunk`` of prefix positions), so a caller that trains models
    for coalitions trains those of every game at once.

    Args:
        value: coalition values of the games.
        sizes: players of each game.
        rng: draws the estimators' samples, game by game.
        method: ``shapley`` (exact for a game of at most ``exact_players`` players or
            whose ``2^n - 2`` coalitions are no more than the estimator's, else
            ``estimator``), ``exact_shapley`` (every game exact) or ``loo``.
        exact_players: see ``method``.
        max_exact_players: ``exact_shapley`` refuses larger games.
        estimator: ``kernel`` (:func:`kernel_shapley_design`, ``samples`` coalitions per
            player) or ``permutation`` (truncated Monte Carlo, :func:`monte_carlo_shapley`).
        samples: the kernel estimator's coalitions per player, ``>= 1``.
        permutations: the permutation estimator's random orders per game, ``>= 1``.
        truncation: the permutation estimator stops an order at the first prefix within
            this of the whole coalition's value (0: never).
        chunk: prefix positions evaluated per call (default about a quarter of the largest
            game); the values do not depend on it.

    Returns:
        One array of player values per game.

    Raises:
        ValueError: on an unknown method or estimator, a bad count, or a game larger than
            ``max_exact_players`` under ``exact_shapley``.
    """
    sizes = np.asarray(sizes, np.int64).reshape(-1)
    if method not in METHODS:
        raise ValueError(f"game_values: method {method!r}; allowed: {', '.join(METHODS)}")
    if estimator not in ESTIMATORS:
        raise ValueError(f"game_values: estimator {estimator!r}; allowed: {', '.join(ESTIMATORS)}")
    if samples < 1 or permutations < 1:
        raise ValueError("game_values: samples and permutations must be >= 1")
    if method == "exact_shapley" and sizes.size and sizes.max() > max_exact_players:
        n = int(sizes.max())
        raise ValueError(
            f"exact_shapley: {n} players need 2^{n} models; at most {max_exact_players}"
        )
    width = int(sizes.max()) if sizes.size else 0
    out = [np.zeros(int(n)) for n in sizes]
    # one call for every game that needs only one: exact, leave-one-out, kernel designs and
    # the permutation games' whole and empty coalitions
    plan: list[tuple[str, np.ndarray, np.ndarray, np.ndarray | None]] = []
    games: list[np.ndarray] = []
    coalitions: list[np.ndarray] = []
    permuted: list[int] = []
    for n in np.unique(sizes).tolist():
        members = np.flatnonzero(sizes == n)
        if method == "loo":
            design, kind = _loo_design(n), "loo"
        elif (
            method == "exact_shapley"
            or n <= exact_players
            or (estimator == "kernel" and 2**n - 2 <= samples * n)
        ):
            design, kind = _all_coalitions(n), "exact"
        elif estimator == "permutation":
            permuted.extend(members.tolist())
            continue
        else:
            for g in members:
                design, weight = kernel_shapley_design(n, samples, rng)
                plan.append(("kernel", np.array([g]), design, weight))
                games.append(np.full(len(design), g))
                coalitions.append(_pad(design, width))
            continue
        plan.append((kind, members, design, None))
        games.append(np.repeat(members, len(design)))
        coalitions.append(_pad(np.tile(design, (len(members), 1)), width))
    permuted = sorted(permuted)
    if permuted:
        ends = np.zeros((len(permuted), 2, width), bool)
        for row, g in enumerate(permuted):
            ends[row, 0, : sizes[g]] = True
        games.append(np.repeat(np.array(permuted, np.int64), 2))
        coalitions.append(ends.reshape(-1, width))
    v = value(np.concatenate(games), np.concatenate(coalitions)) if games else np.zeros(0)
    at = 0
    for kind, members, design, weight in plan:
        block = np.asarray(v[at : at + len(members) * len(design)]).reshape(len(members), -1)
        at += block.size
        n = design.shape[1]
        if kind == "loo":
            phi = block[:, [n]] - block[:, :n]
        elif kind == "exact":
            phi = block @ shapley_matrix(n)
        else:
            phi = kernel_shapley_estimate(design, weight, block[0])[None, :]
        for row, g in enumerate(members):
            out[g] = phi[row]
    if permuted:
        whole_empty = np.asarray(v[at:]).reshape(-1, 2)
        phis = _permutation_games(
            value, sizes[permuted], permuted, whole_empty, permutations, rng, truncation, chunk
        )
        for g, phi in zip(permuted, phis, strict=True):
            out[g] = phi
    return out


def _pad(coalitions: np.ndarray, width: int) -> np.ndarray:
    out = np.zeros((coalitions.shape[0], width), bool)
    out[:, : coalitions.shape[1]] = coalitions
    return out


@functools.cache
def _all_coalitions(n: int) -> np.ndarray:
    """Every coalition of ``n`` players, ``(2^n, n)``; row ``k`` holds the bits of ``k``."""
    return ((np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1).astype(bool)


def _loo_design(n: int) -> np.ndarray:
    """Each player left out, then the whole coalition: ``(n + 1, n)``."""
    design = np.ones((n + 1, n), bool)
    design[np.arange(n), np.arange(n)] = False
    return design


@functools.cache
def shapley_matrix(n: int) -> np.ndarray:
    """The matrix that turns coalition values into Shapley values.

    Shapley values are ``v @ shapley_matrix(n)`` (``(2^n, n)``) for ``v`` over every
    coalition in the order of :func:`_all_coalitions`.
    Player ``i`` gains ``|S|! (n - |S| - 1)! / n!`` times ``v(S + i) - v(S)`` for every
    ``S`` without ``i``: a coalition ``T`` enters with ``+w(|T| - 1)`` for its members and
    ``-w(|T|)`` for the others.
    """
    coalitions = _all_coalitions(n)
    size = coalitions.sum(axis=1)
    w = np.array([math.factorial(k) * math.factorial(n - k - 1) for k in range(n)] + [0.0])
    w = w / math.factorial(n)
    return np.where(coalitions, w[np.maximum(size - 1, 0)][:, None], -w[size][:, None])


def leave_one_out(value: Value, n: int) -> np.ndarray:
    """``v(N) - v(N without i)`` for every player ``i``."""
    v = value(_loo_design(n))
    return v[n] - v[:n]


def exact_shapley(value: Value, n: int, max_players: int = 12) -> np.ndarray:
    """Shapley values from all ``2^n`` coalitions.

    Raises:
        ValueError: if ``n > max_players``.
    """
    if n > max_players:
        raise ValueError(f"exact_shapley: {n} players need 2^{n} models; at most {max_players}")
    return np.asarray(value(_all_coalitions(n)), float) @ shapley_matrix(n)


def kernel_shapley_design(
    n: int, samples: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Coalitions and regression weights of the paired, stratified kernel estimator.

    KernelSHAP (Lundberg and Lee, 2017) finds Shapley values as the weighted least-squares
    fit of an additive game to coalition values, a coalition of size ``s`` weighing
    ``(n - 1) / (C(n, s) s (n - s))``. This design spends ``samples * n`` coalitions
    (besides the whole and the empty one) by size: sizes ``s`` and ``n - s`` together,
    largest kernel weight first, are enumerated while their coalitions fit their share of
    what is left; the rest is split among the remaining sizes in proportion to their weight,
    each sampled without replacement and together with its complement (antithetic pairs).
    A sampled size's weight is spread evenly over its samples.

    Args:
        n: players, ``>= 1``.
        samples: coalitions per player.
        rng: draws the sampled coalitions.

    Returns:
        ``(coalitions (k, n) bool, weights (k,))``; the first two rows are the whole and the
        empty coalition (weight 0: they enter as the constraint).
    """
    budget = samples * n
    size_weight = {s: (n - 1) / (s * (n - s)) for s in range(1, n)}
    pairs = [(s, n - s) if s != n - s else (s,) for s in range(1, n // 2 + 1)]
    rows = [np.ones((1, n), bool), np.zeros((1, n), bool)]
    weights = [np.zeros(2)]
    left = list(pairs)
    while left:  # enumerate whole size pairs while they fit
        total = sum(size_weight[s] for pair in left for s in pair)
        pair = left[0]
        count = sum(math.comb(n, s) for s in pair)
        share = budget * sum(size_weight[s] for s in pair) / total
        if count > share:
            break
        for s in pair:
            every = _subsets_of_size(n, s)
            rows.append(every)
            weights.append(np.full(len(every), size_weight[s] / len(every)))
        budget -= count
        left.pop(0)
    if left and budget >= 2:
        pair_weight = np.array([sum(size_weight[s] for s in pair) for pair in left])
        raw = pair_weight / pair_weight.sum() * (budget // 2)  # complement pairs per size pair
        counts = np.floor(raw).astype(int)
        counts[np.argsort(counts - raw, kind="stable")[: budget // 2 - counts.sum()]] += 1
        for pair, count in zip(left, counts, strict=True):
            s = pair[0]
            available = math.comb(n, s) if len(pair) == 2 else math.comb(n, s) // 2
            picked = _sample_subsets(n, s, min(int(count), available), rng, len(pair) == 1)
            if len(picked) == 0:
                continue
            rows += [picked, ~picked]
            per_size = len(picked) * (3 - len(pair))  # rows of each size: both halves if n = 2s
            weights += [np.full(len(picked), size_weight[size] / per_size) for size in (s, n - s)]
    return np.concatenate(rows), np.concatenate(weights)


def _subsets_of_size(n: int, s: int) -> np.ndarray:
    out = np.zeros((math.comb(n, s), n), bool)
    for row, members in enumerate(combinations(range(n), s)):
        out[row, list(members)] = True
    return out


def _sample_subsets(
    n: int, s: int, count: int, rng: np.random.Generator, self_complement: bool
) -> np.ndarray:
    """Draw ``count`` distinct coalitions of size ``s``, uniformly at random.

    With ``self_complement`` (``n = 2s``) no two are each other's complement.
    """
    drawn = np.zeros((0, n), bool)
    while True:
        members = rng.random((2 * count + 8, n)).argsort(axis=1)[:, :s]
        batch = np.zeros((len(members), n), bool)
        np.put_along_axis(batch, members, True, axis=1)
        drawn = np.concatenate([drawn, batch])
        canonical = np.where(drawn[:, :1], drawn, ~drawn) if self_complement else drawn
        keys = np.packbits(canonical, axis=1)
        _, first = np.unique(keys, axis=0, return_index=True)
        if len(first) >= count:
            return drawn[np.sort(first)[:count]]


def kernel_shapley_estimate(
    coalitions: np.ndarray, weights: np.ndarray, values: np.ndarray
) -> np.ndarray:
    """Shapley values fitted to the values of a :func:`kernel_shapley_design`.

    Solves ``min sum_S w_S (v(S) - v(empty) - sum_{i in S} phi_i)^2`` subject to
    ``sum phi = v(N) - v(empty)`` (efficiency), rows 0 and 1 being the whole and the empty
    coalition.
    """
    n = coalitions.shape[1]
    whole, empty = values[0], values[1]
    a = coalitions[2:].astype(float)
    b = np.asarray(values[2:], float) - empty
    aw = a.T * weights[2:]
    system = np.zeros((n + 1, n + 1))
    system[:n, :n] = aw @ a
    system[:n, n] = system[n, :n] = 1.0
    rhs = np.append(aw @ b, whole - empty)
    return np.linalg.lstsq(system, rhs, rcond=None)[0][:n]


def kernel_shapley(value: Value, n: int, samples: int, rng: np.random.Generator) -> np.ndarray:
    """Shapley values estimated from ``samples * n`` coalitions.

    See :func:`kernel_shapley_design`; exact when the design enumerates every coalition.
    """
    design, weights = kernel_shapley_design(n, samples, rng)
    return kernel_shapley_estimate(design, weights, np.asarray(value(design), float))


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
        truncation: a permutation stops at its first prefix with
            ``|v(N) - v(prefix)| <= truncation``; its remaining marginals count as zero
            (0 disables truncation). Checked at every prefix, so the tolerance means the
            same whatever the number of players and ``chunk``.
        chunk: prefixes evaluated per permutation per step (default about ``n / 4``); it
            changes how many coalitions are evaluated, not the values.

    Raises:
        ValueError: if ``permutations < 1``.
    """
    if permutations < 1:
        raise ValueError(f"monte_carlo_shapley: permutations must be >= 1, got {permutations}")
    if n == 0:
        return np.zeros(0)
    ends = np.asarray(value(np.array([np.ones(n, bool), np.zeros(n, bool)])), float)
    return _permutation_games(
        lambda _, coalitions: value(coalitions),
        np.array([n]),
        [0],
        ends[None, :],
        permutations,
        rng,
        truncation,
        chunk,
    )[0]


def _permutation_games(
    value: GameValue,
    sizes: np.ndarray,
    games: list[int],
    whole_empty: np.ndarray,
    permutations: int,
    rng: np.random.Generator,
    truncation: float,
    chunk: int | None,
) -> list[np.ndarray]:
    """Truncated Monte Carlo over several games.

    Every game's live orders are evaluated together, ``chunk`` prefix positions per call.
    """
    width = int(sizes.max())
    chunk = chunk or max(1, math.ceil(width / 4))
    orders = [np.array([rng.permutation(int(n)) for _ in range(permutations)]) for n in sizes]
    phi = [np.zeros(int(n)) for n in sizes]
    full = np.repeat(whole_empty[:, 0], permutations)  # per (game, order)
    previous = np.repeat(whole_empty[:, 1], permutations)
    alive = np.ones(len(sizes) * permutations, bool)
    length = np.repeat(sizes, permutations)
    for start in range(0, width, chunk):
        stop = start + chunk
        live = np.flatnonzero(alive & (length > start))
        if live.size == 0:
            break
        steps = np.minimum(length[live], stop) - start
        rows = np.zeros((int(steps.sum()), width), bool)
        row = 0
        for p, count in zip(live, steps, strict=True):
            order = orders[p // permutations][p % permutations]
            for k in range(start, start + count):
                rows[row, order[: k + 1]] = True
                row += 1
        owner = np.repeat(np.array(games)[live // permutations], steps)
        v = np.asarray(value(owner, rows), float)
        at = 0
        for p, count in zip(live, steps, strict=True):
            values = v[at : at + count]
            at += count
            marginal = np.diff(np.append(previous[p], values))
            if truncation > 0:
                close = np.flatnonzero(np.abs(full[p] - values) <= truncation)
                if close.size:  # the first prefix within tolerance ends the order
                    marginal[close[0] + 1 :] = 0.0
                    alive[p] = False
            order = orders[p // permutations][p % permutations]
            phi[p // permutations][order[start : start + count]] += marginal
            previous[p] = values[-1]
    return [total / permutations for total in phi]
