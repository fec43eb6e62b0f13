"""Plaintext model training with JAX: logistic regression and a small MLP.

Training is full-batch gradient descent compiled with ``jax.jit``; :func:`train_subsets`
trains one model per row mask at once with ``jax.vmap`` (for data valuation and learning
curves). Rows enter the loss with a weight, so a subset is a 0/1 mask over the same arrays
and every subset shares one compiled program. :func:`train_rowsets` trains one model per
row *set* instead (each model its own rows, weights and labels, padded to one length): the
same loss and initialization, at a cost that grows with the rows each model holds rather
than with the whole pool. JAX uses the GPU when it sees one, otherwise
the CPU; :func:`backend` says which. Randomness (MLP initialization) comes from a JAX key
derived from the caller's seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np


def backend() -> str:
    """The platform JAX computes on (``"gpu"``, ``"cpu"``, ...)."""
    return jax.default_backend()


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of full-batch gradient descent.

    Attributes:
        epochs: gradient steps, ``>= 1``.
        learning_rate: step size, ``> 0``.
        l2: L2 penalty on the weights, ``>= 0``.
        hidden: hidden units of the MLP (0: logistic regression).
    """

    epochs: int = 200
    learning_rate: float = 0.5
    l2: float = 1e-3
    hidden: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.learning_rate <= 0 or self.l2 < 0 or self.hidden < 0:
            raise ValueError(
                "TrainConfig needs epochs >= 1, learning_rate > 0, l2 >= 0 and hidden >= 0"
            )


def init_params(n_features: int, config: TrainConfig, seed: int = 0) -> dict[str, jax.Array]:
    """Initial parameters: zeros for logistic regression, scaled normal for the MLP."""
    if config.hidden == 0:
        return {"w": jnp.zeros(n_features), "b": jnp.zeros(())}
    k1, k2 = jax.random.split(jax.random.key(seed))
    return {
        "w1": jax.random.normal(k1, (n_features, config.hidden)) / jnp.sqrt(n_features),
        "b1": jnp.zeros(config.hidden),
        "w2": jax.random.normal(k2, (config.hidden,)) / jnp.sqrt(config.hidden),
        "b2": jnp.zeros(()),
    }


def logits(params: dict[str, jax.Array], x: jax.Array) -> jax.Array:
    """Model logits for rows ``x``."""
    if "w" in params:
        return x @ params["w"] + params["b"]
    hidden = jnp.tanh(x @ params["w1"] + params["b1"])
    return hidden @ params["w2"] + params["b2"]


def _loss(params, x, y, weight, l2):
    z = logits(params, x)
    per_row = jnp.logaddexp(0.0, z) - y * z  # binary cross-entropy with logits
    data = jnp.sum(weight * per_row) / jnp.maximum(jnp.sum(weight), 1.0)
    penalty = sum(jnp.sum(p**2) for k, p in params.items() if k.startswith("w"))
    return data + 0.5 * l2 * penalty


@jax.jit
def _descend(params, x, y, weight, epochs, learning_rate, l2):
    grad = jax.grad(_loss)

    def step(_, p):
        g = grad(p, x, y, weight, l2)
        return jax.tree_util.tree_map(lambda a, b: a - learning_rate * b, p, g)

    return jax.lax.fori_loop(0, epochs, step, params)


def train(
    x: np.ndarray, y: np.ndarray, config: TrainConfig = TrainConfig(), seed: int = 0
) -> dict[str, jax.Array]:
    """Train one model on all rows.

    Raises:
        ValueError: if ``x`` is not 2-D or ``y`` does not have one label per row.
    """
    x, y = _check(x, y)
    params = init_params(x.shape[1], config, seed)
    return _descend(
        params, x, y, jnp.ones(x.shape[0]), config.epochs, config.learning_rate, config.l2
    )


def train_subsets(
    x: np.ndarray,
    y: np.ndarray,
    masks: np.ndarray,
    config: TrainConfig = TrainConfig(),
    seed: int = 0,
) -> dict[str, jax.Array]:
    """Train one model per row mask, all at once (``jax.vmap`` over masks).

    Args:
        x: ``(rows, features)``.
        y: ``(rows,)`` labels in ``{0, 1}``.
        masks: ``(subsets, rows)`` 0/1 (or non-negative) row weights; an all-zero mask
            trains on nothing and returns the initial parameters' regularized descent.
        config: hyper-parameters shared by all subsets.
        seed: initialization seed shared by all subsets.

    Returns:
        Parameters with a leading ``subsets`` axis.

    Raises:
        ValueError: on mismatched shapes or negative mask entries.
    """
    x, y = _check(x, y)
    masks = jnp.asarray(masks, dtype=jnp.float32)
    if masks.ndim != 2 or masks.shape[1] != x.shape[0]:
        raise ValueError(f"masks must have shape (subsets, {x.shape[0]}), got {masks.shape}")
    if bool(jnp.any(masks < 0)):
        raise ValueError("masks must be non-negative")
    params = init_params(x.shape[1], config, seed)
    batched = jax.vmap(_descend, in_axes=(None, None, None, 0, None, None, None))
    return batched(params, x, y, masks, config.epochs, config.learning_rate, config.l2)


def train_rowsets(
    x: np.ndarray,
    y: np.ndarray,
    weight: np.ndarray,
    config: TrainConfig = TrainConfig(),
    seed: int = 0,
) -> dict[str, jax.Array]:
    """Train one model per row set, all at once (a leading model axis).

    Every model has the loss of :func:`train` on its own rows: weighted cross-entropy over
    ``max(sum of weights, 1)`` plus the L2 penalty, from the same initial parameters. Row
    sets are padded to one length with weight-0 rows; a padded row changes nothing but the
    float summation order. Callers that keep the shapes ``(models, rows)`` to a few sizes
    reuse one compiled program per size.

    Args:
        x: ``(models, rows, features)``.
        y: ``(models, rows)`` labels in ``{0, 1}``.
        weight: ``(models, rows)`` non-negative row weights (0 for padding).
        config: hyper-parameters shared by all models.
        seed: initialization seed shared by all models.

    Returns:
        Parameters with a leading ``models`` axis.

    Raises:
        ValueError: on mismatched shapes or negative weights.
    """
    x = np.asarray(x, np.float32)
    y = np.asarray(y, np.float32)
    weight = np.asarray(weight, np.float32)
    if x.ndim != 3 or y.shape != x.shape[:2] or weight.shape != x.shape[:2]:
        raise ValueError(
            "need x of shape (models, rows, features) and y, weight of shape (models, rows), "
            f"got {x.shape}, {y.shape}, {weight.shape}"
        )
    if np.any(weight < 0):
        raise ValueError("weight must be non-negative")
    return _train_rowsets(x, y, weight, config, seed if config.hidden else 0)


def fit_rowsets(
    x: jax.Array, y: jax.Array, weight: jax.Array, config: TrainConfig, seed: int
) -> dict[str, jax.Array]:
    """:func:`train_rowsets` without the checks, for use inside other compiled functions.

    Logistic regression takes a path of its own: the gradient written out with the
    features before the rows (``(models, features, rows)``), which vectorizes over the rows
    and runs several times faster than ``jax.grad`` of the vmapped loss; the loss, the
    initialization (zeros) and the steps are the same.
    """
    if config.hidden > 0:
        params = init_params(x.shape[2], config, seed)
        batched = jax.vmap(_descend, in_axes=(None, 0, 0, 0, None, None, None))
        return batched(params, x, y, weight, config.epochs, config.learning_rate, config.l2)
    features = jnp.swapaxes(x, 1, 2)  # (models, features, rows)
    scaled = weight / jnp.maximum(jnp.sum(weight, axis=1, keepdims=True), 1.0)
    rate, l2 = config.learning_rate, config.l2

    def step(_, params):
        w, b = params
        z = jnp.einsum("mfr,mf->mr", features, w) + b[:, None]
        g = scaled * (jax.nn.sigmoid(z) - y)  # d loss / d logit, per row
        grad_w = jnp.einsum("mfr,mr->mf", features, g) + l2 * w
        return w - rate * grad_w, b - rate * jnp.sum(g, axis=1)

    start = (jnp.zeros(x.shape[::2], x.dtype), jnp.zeros(x.shape[0], x.dtype))
    w, b = jax.lax.fori_loop(0, config.epochs, step, start)
    return {"w": w, "b": b}


_train_rowsets = jax.jit(fit_rowsets, static_argnames=("config", "seed"))


def accuracy(params: dict[str, jax.Array], x: np.ndarray, y: np.ndarray) -> jax.Array:
    """Share of rows classified correctly (works on batched parameters too)."""
    x, y = _check(x, y)

    def one(p):
        return jnp.mean((logits(p, x) > 0) == (y > 0.5))

    single = params["w"].ndim == 1 if "w" in params else params["w1"].ndim == 2
    return one(params) if single else jax.vmap(one)(params)


def _check(x: np.ndarray, y: np.ndarray) -> tuple[jax.Array, jax.Array]:
    x = jnp.asarray(x, dtype=jnp.float32)
    y = jnp.asarray(y, dtype=jnp.float32)
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise ValueError(
            f"need x of shape (rows, features) and y of shape (rows,), got {x.shape}, {y.shape}"
        )
    return x, y
