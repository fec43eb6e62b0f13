"""CKKS homomorphic encryption (TenSEAL) for logistic-regression inference and training.

Roles: a data owner holds the secret context, encrypts its rows (one batched ``ckks_vector``
per row) and ships the ciphertexts with the public context (no secret key) to a solver; the
solver computes on ciphertexts; the data owner decrypts what comes back.

* Inference: the solver computes ``enc_x.dot(w) + b`` with plaintext weights (depth 1); the
  data owner decrypts the logits and applies the sigmoid.
* Training: the degree-3 sigmoid approximation ``0.5 + 0.197 z - 0.004 z^3`` on standardized
  features, L2 0.05, learning rate 1, with encrypted samples, labels and weights (depth 6). There
  is no bootstrapping: after each update the data owner decrypts and re-encrypts the weights.
  :func:`train_plain_approx` runs the same update rule in numpy.

Caveats measured with TenSEAL 0.3.18 (2 cores):

* Scale reset. After each rescale TenSEAL resets a ciphertext's scale to the global scale
  instead of ``scale**2 / q``, so every level multiplies the values by ``2**scale_bits / q``.
  With 40-bit primes this is exact to ~1e-8, but small primes lie far from a power of two:
  x1.016 per level for ``"infer"``; x1.17 after one level up to x6.0 after six for ``"train"``.
* Rotation noise. ``dot`` sums with rotations, whose key-switching noise is large next to a
  2^20 or 2^21 scale when the special (last) prime is no larger than the first: an offset of
  0.02 to 1.3 per dot product for ``"infer"`` and 0.1 to 0.8 for ``"train"``, roughly fixed
  for a given context.

So the notes' ``"infer"`` and ``"train"`` sets are fast but imprecise: ``"infer"`` probabilities
were off by up to 0.3, and ``"train"`` runs a distorted update (weights ~2-3.5x the plaintext
twin's, the bias shifted per context; held-out accuracy 0 to 6 points off the twin over seven
contexts on separable data, and over 5 epochs on :class:`crypto.data.IndustryData` the errors
compound). ``"infer_precise"`` (same N and cost as ``"infer"``: 26-bit primes, a 47-bit special
prime) matches plaintext probabilities to ~1e-4; ``"train_precise"`` (N=16384, 40-bit primes,
~2x the time of ``"train"``) matches the plaintext twin's weights to ~1e-5, and is the default
training set, :data:`TRAIN_PARAMS`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import tenseal as ts

__all__ = [
    "PARAMS",
    "SECURITY_MAX_COEFF_BITS",
    "SIGMOID_POLY",
    "TRAIN_DEPTH",
    "TRAIN_PARAMS",
    "CkksParams",
    "EncryptedDataset",
    "TrainResult",
    "ciphertext_nbytes",
    "context_depth",
    "context_nbytes",
    "decrypt",
    "decrypt_probabilities",
    "decrypt_rows",
    "encrypt_dataset",
    "encrypt_rows",
    "encrypted_logits",
    "make_context",
    "public_context_bytes",
    "sigmoid",
    "sigmoid_poly",
    "standardize",
    "train_encrypted",
    "train_plain_approx",
]

#: Largest total coefficient-modulus bit count for 128-bit security (SEAL ``MaxBitCount``).
SECURITY_MAX_COEFF_BITS: dict[int, int] = {
    1024: 27,
    2048: 54,
    4096: 109,
    8192: 218,
    16384: 438,
    32768: 881,
}

#: Coefficients (constant first) of the degree-3 sigmoid approximation, good on [-5, 5].
SIGMOID_POLY: tuple[float, ...] = (0.5, 0.197, 0.0, -0.004)

#: Multiplicative depth one encrypted training update consumes.
TRAIN_DEPTH = 6

_MAX_PRIME_BITS = 60


@dataclass(frozen=True)
class CkksParams:
    """A CKKS parameter set.

    Attributes:
        poly_modulus_degree: ring dimension N, a power of two from 1024 to 32768.
        coeff_mod_bit_sizes: bit sizes of the coefficient-modulus primes: the first (decryption)
            prime, the middle (rescaling) primes, and the special (key-switching) prime.
        global_scale_bits: log2 of the encoding scale; must equal every middle prime's size,
            because TenSEAL resets the scale to it after each rescale.
    """

    poly_modulus_degree: int
    coeff_mod_bit_sizes: tuple[int, ...]
    global_scale_bits: int

    def __post_init__(self) -> None:
        n = self.poly_modulus_degree
        if n not in SECURITY_MAX_COEFF_BITS:
            raise ValueError(
                f"poly_modulus_degree must be one of {sorted(SECURITY_MAX_COEFF_BITS)}, got {n}"
            )
        bits = tuple(int(b) for b in self.coeff_mod_bit_sizes)
        object.__setattr__(self, "coeff_mod_bit_sizes", bits)
        if len(bits) < 2:
            raise ValueError(
                "coeff_mod_bit_sizes needs at least a decryption prime and a special prime, "
                f"got {bits}"
            )
        min_bits = int(math.log2(2 * n)) + 1  # primes are 1 mod 2N
        if any(not min_bits <= b <= _MAX_PRIME_BITS for b in bits):
            raise ValueError(
                f"each prime needs {min_bits}..{_MAX_PRIME_BITS} bits at N={n}, got {bits}"
            )
        cap = SECURITY_MAX_COEFF_BITS[n]
        if sum(bits) > cap:
            raise ValueError(
                f"coefficient modulus of {sum(bits)} bits exceeds the 128-bit security cap of "
                f"{cap} bits at N={n}"
            )
        scale = self.global_scale_bits
        if not 1 <= scale < bits[0]:
            raise ValueError(
                f"global_scale_bits must be >= 1 and below the first prime's {bits[0]} bits, "
                f"got {scale}"
            )
        if any(b != scale for b in bits[1:-1]):
            raise ValueError(
                f"middle primes {bits[1:-1]} must all have global_scale_bits={scale} bits: "
                "TenSEAL resets the scale after each rescale, so any difference d multiplies "
                "results by 2**d"
            )

    @property
    def depth(self) -> int:
        """Multiplicative depth: the number of middle primes."""
        return len(self.coeff_mod_bit_sizes) - 2

    @property
    def slots(self) -> int:
        """Values one ciphertext holds (N/2)."""
        return self.poly_modulus_degree // 2

    @property
    def global_scale(self) -> float:
        """The encoding scale, ``2**global_scale_bits``."""
        return float(2**self.global_scale_bits)

    @property
    def total_coeff_bits(self) -> int:
        """Total bit count of the coefficient modulus."""
        return sum(self.coeff_mod_bit_sizes)


#: Named parameter sets; see the module docstring for the precision of each.
PARAMS: dict[str, CkksParams] = {
    "infer": CkksParams(4096, (40, 20, 40), 20),
    "infer_precise": CkksParams(4096, (36, 26, 47), 26),
    "standard": CkksParams(8192, (60, 40, 40, 60), 40),
    "train": CkksParams(8192, (40, 21, 21, 21, 21, 21, 21, 40), 21),
    "train_precise": CkksParams(16384, (60, 40, 40, 40, 40, 40, 40, 60), 40),
}

#: The default training parameter set (a name in :data:`PARAMS`), used wherever "the training
#: set" is meant: the ``fhe_train`` and ``pipeline`` ground-truth jobs, hence the calibration.
#: Measured on :class:`crypto.data.IndustryData` (8 features, 16 noisy rows, 5 full-batch
#: epochs, 3 datasets x 3 fresh contexts; ``docs/crypto.md``): ``"train_precise"`` matched the
#: plaintext twin's held-out accuracy in every run, ``"train"`` strayed from it by -25 to +4
#: points (-31 at worst over more contexts); ``"train_precise"`` takes ~2.1x the time.
TRAIN_PARAMS = "train_precise"


# --- contexts and sizes ----------------------------------------------------------------------


def make_context(params: CkksParams | str, n_threads: int | None = None) -> ts.Context:
    """Create a private CKKS context with relinearization and Galois keys.

    Args:
        params: a parameter set, or the name of one in :data:`PARAMS`.
        n_threads: threads TenSEAL may use; ``None`` lets TenSEAL use every core.

    Returns:
        A context holding the secret key, with ``global_scale`` set.

    Raises:
        ValueError: for an unknown parameter-set name or ``n_threads < 1``.
    """
    params = _resolve_params(params)
    if n_threads is not None and (
        isinstance(n_threads, bool) or not isinstance(n_threads, int) or n_threads < 1
    ):
        raise ValueError(f"n_threads must be None or an int >= 1, got {n_threads!r}")
    ctx = ts.context(
        ts.SCHEME_TYPE.CKKS,
        poly_modulus_degree=params.poly_modulus_degree,
        coeff_mod_bit_sizes=list(params.coeff_mod_bit_sizes),
        n_threads=n_threads,
    )
    ctx.global_scale = params.global_scale
    ctx.generate_galois_keys()
    return ctx


def public_context_bytes(ctx: ts.Context) -> bytes:
    """Serialize a context without its secret key, as shipped to a solver.

    Args:
        ctx: a private or public context; a private one is left unchanged.

    Returns:
        The serialized public context, with public, relinearization and Galois keys.
    """
    public = ctx
    if ctx.is_private():
        public = ctx.copy()
        public.make_context_public()
    return public.serialize(save_secret_key=False)


def context_nbytes(ctx: ts.Context) -> int:
    """Size in bytes of the serialized public context (Galois keys dominate it)."""
    return len(public_context_bytes(ctx))


def ciphertext_nbytes(vector: ts.CKKSVector) -> int:
    """Size in bytes of one serialized ciphertext."""
    return len(vector.serialize())


def context_depth(ctx: ts.Context) -> int:
    """Multiplicative depth a fresh ciphertext of ``ctx`` has available."""
    return int(ctx.seal_context().data.first_context_data().chain_index())


def _slots(ctx: ts.Context) -> int:
    return int(ctx.seal_context().data.first_context_data().parms().poly_modulus_degree()) // 2


def _resolve_params(params: CkksParams | str) -> CkksParams:
    if isinstance(params, CkksParams):
        return params
    if isinstance(params, str) and params in PARAMS:
        return PARAMS[params]
    raise ValueError(f"params must be a CkksParams or one of {sorted(PARAMS)}, got {params!r}")


# --- encryption ------------------------------------------------------------------------------


def encrypt_rows(ctx: ts.Context, X: np.ndarray | Sequence[Sequence[float]]) -> list[ts.CKKSVector]:
    """Encrypt each row of a matrix as one batched CKKS vector.

    Args:
        ctx: a context with a public key.
        X: a finite 2-D array, ``(n_rows, n_features)`` with ``n_features <= slots``.

    Returns:
        One ciphertext per row.

    Raises:
        ValueError: if ``X`` is not a non-empty finite 2-D array or a row exceeds the slots.
    """
    X = _as_matrix(X, "X")
    slots = _slots(ctx)
    if X.shape[1] > slots:
        raise ValueError(f"rows of {X.shape[1]} values exceed the context's {slots} slots")
    return [ts.ckks_vector(ctx, row.tolist()) for row in X]


def decrypt(vector: ts.CKKSVector) -> np.ndarray:
    """Decrypt one vector (its context must hold the secret key)."""
    return np.asarray(vector.decrypt(), dtype=float)


def decrypt_rows(vectors: Sequence[ts.CKKSVector]) -> np.ndarray:
    """Decrypt equal-length vectors into the rows of a 2-D array."""
    if len(vectors) == 0:
        raise ValueError("no vectors to decrypt")
    return np.vstack([decrypt(v) for v in vectors])


@dataclass(frozen=True)
class EncryptedDataset:
    """Serialized ciphertexts of a dataset, as a data owner ships them.

    Attributes:
        rows: one serialized ciphertext per row of features.
        labels: one serialized one-value ciphertext per label; empty when unlabelled.
        n_features: values per row.
        encrypt_seconds: wall time spent encrypting and serializing.
    """

    rows: tuple[bytes, ...]
    labels: tuple[bytes, ...]
    n_features: int
    encrypt_seconds: float

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return len(self.rows)

    @property
    def nbytes(self) -> int:
        """Total size of the ciphertexts, rows and labels."""
        return sum(map(len, self.rows)) + sum(map(len, self.labels))

    @property
    def bytes_per_row(self) -> float:
        """Ciphertext bytes per row, label included."""
        return self.nbytes / self.n_rows

    def load(self, ctx: ts.Context) -> tuple[list[ts.CKKSVector], list[ts.CKKSVector]]:
        """Deserialize rows and labels against a (public or private) context."""
        rows = [ts.ckks_vector_from(ctx, b) for b in self.rows]
        labels = [ts.ckks_vector_from(ctx, b) for b in self.labels]
        return rows, labels


def encrypt_dataset(
    ctx: ts.Context,
    X: np.ndarray | Sequence[Sequence[float]],
    y: np.ndarray | Sequence[float] | None = None,
) -> EncryptedDataset:
    """Encrypt and serialize a dataset's rows (and labels, if given).

    Args:
        ctx: a context with a public key.
        X: features, a finite 2-D array.
        y: optional labels, one per row.

    Returns:
        The serialized ciphertexts with their sizes.

    Raises:
        ValueError: on malformed ``X`` or ``y``.
    """
    start = time.perf_counter()
    X = _as_matrix(X, "X")
    rows = tuple(v.serialize() for v in encrypt_rows(ctx, X))
    labels: tuple[bytes, ...] = ()
    if y is not None:
        y = _as_vector(y, "y", len(X))
        labels = tuple(v.serialize() for v in encrypt_rows(ctx, y[:, None]))
    return EncryptedDataset(rows, labels, X.shape[1], time.perf_counter() - start)


# --- inference -------------------------------------------------------------------------------


def sigmoid(z: np.ndarray | float) -> np.ndarray:
    """The logistic function, numerically stable for large ``|z|``."""
    z = np.asarray(z, dtype=float)
    return np.exp(-np.logaddexp(0.0, -z))


def encrypted_logits(
    enc_rows: Sequence[ts.CKKSVector],
    weights: np.ndarray | Sequence[float],
    bias: float,
) -> list[ts.CKKSVector]:
    """Compute the encrypted logits ``x . w + b`` of plaintext logistic-regression weights.

    Args:
        enc_rows: encrypted feature rows, each of ``len(weights)`` values.
        weights: plaintext weights.
        bias: plaintext bias.

    Returns:
        One encrypted one-value logit per row (depth 1; needs Galois keys).

    Raises:
        ValueError: if a row's size differs from the weights' or a value is not finite.
    """
    w = _as_vector(weights, "weights")
    if not math.isfinite(bias):
        raise ValueError(f"bias must be finite, got {bias}")
    _check_sizes(enc_rows, len(w), "enc_rows")
    w_list = w.tolist()
    return [row.dot(w_list) + float(bias) for row in enc_rows]


def decrypt_probabilities(enc_logits: Sequence[ts.CKKSVector]) -> np.ndarray:
    """Decrypt one-value logits and apply the sigmoid (the data owner's step)."""
    return sigmoid(decrypt_rows(enc_logits)[:, 0])


# --- training --------------------------------------------------------------------------------


def sigmoid_poly(z: np.ndarray | float) -> np.ndarray:
    """The degree-3 sigmoid approximation ``0.5 + 0.197 z - 0.004 z^3`` (good on [-5, 5])."""
    z = np.asarray(z, dtype=float)
    return np.polynomial.polynomial.polyval(z, SIGMOID_POLY)


def standardize(
    X: np.ndarray | Sequence[Sequence[float]],
    mean: np.ndarray | None = None,
    std: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Standardize columns to zero mean and unit variance (constant columns keep std 1).

    Args:
        X: a finite 2-D array.
        mean: column means to use (e.g. the training set's); computed when ``None``.
        std: column standard deviations to use; computed when ``None``.

    Returns:
        ``(X_standardized, mean, std)``.
    """
    X = _as_matrix(X, "X")
    mean = X.mean(axis=0) if mean is None else _as_vector(mean, "mean", X.shape[1])
    if std is None:
        std = X.std(axis=0)
        std = np.where(std > 0, std, 1.0)
    else:
        std = _as_vector(std, "std", X.shape[1])
        if np.any(std <= 0):
            raise ValueError("std must be > 0")
    return (X - mean) / std, mean, std


@dataclass(frozen=True, eq=False)
class TrainResult:
    """Weights learned by logistic-regression training and the time it took.

    Attributes:
        weights: learned weights, one per feature.
        bias: learned bias.
        epoch_seconds: wall time of each epoch (for encrypted training, including the data
            owner's weight refresh but not the encryption of the data).
        n_samples: training samples per epoch.
    """

    weights: np.ndarray
    bias: float
    epoch_seconds: tuple[float, ...]
    n_samples: int

    @property
    def seconds_per_sample_epoch(self) -> float:
        """Mean wall time per sample per epoch."""
        return float(np.mean(self.epoch_seconds)) / self.n_samples

    def predict_proba(self, X: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
        """Exact-sigmoid probabilities of plaintext rows."""
        return sigmoid(_as_matrix(X, "X") @ self.weights + self.bias)

    def accuracy(self, X: np.ndarray | Sequence[Sequence[float]], y: np.ndarray) -> float:
        """Fraction of rows whose thresholded probability equals the 0/1 label."""
        y = _as_labels(y, len(_as_matrix(X, "X")))
        return float(np.mean((self.predict_proba(X) >= 0.5) == (y == 1)))


def train_plain_approx(
    X: np.ndarray | Sequence[Sequence[float]],
    y: np.ndarray | Sequence[float],
    epochs: int,
    *,
    batch_size: int | None = None,
    lr: float = 1.0,
    l2: float = 0.05,
    weights: np.ndarray | Sequence[float] | None = None,
    bias: float = 0.0,
) -> TrainResult:
    """Train logistic regression in numpy with the encrypted trainer's exact update rule.

    For each batch of ``m`` rows, in order: ``r = sigmoid_poly(X_b w + b) - y_b``,
    ``w <- w - lr (X_b^T r / m + l2 w)``, ``b <- b - lr mean(r)``.

    Args:
        X: standardized features, a finite 2-D array.
        y: 0/1 labels, one per row.
        epochs: passes over the data.
        batch_size: rows per update; ``None`` for full batch (one update per epoch).
        lr: learning rate.
        l2: L2 penalty on the weights (not the bias).
        weights: initial weights; zeros when ``None``.
        bias: initial bias.

    Returns:
        The learned weights and per-epoch timing.

    Raises:
        ValueError: on malformed data or hyperparameters.
    """
    X = _as_matrix(X, "X")
    y = _as_labels(y, len(X))
    batches = _batches(len(X), epochs, batch_size, lr, l2)
    w, b = _initial(weights, bias, X.shape[1])
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        for batch in batches:
            Xb = X[batch]
            r = sigmoid_poly(Xb @ w + b) - y[batch]
            w = w - lr * (Xb.T @ r / len(Xb) + l2 * w)
            b = b - lr * float(r.mean())
        times.append(time.perf_counter() - start)
    return TrainResult(w, float(b), tuple(times), len(X))


def train_encrypted(
    ctx: ts.Context,
    enc_rows: Sequence[ts.CKKSVector],
    enc_labels: Sequence[ts.CKKSVector],
    epochs: int,
    *,
    batch_size: int | None = None,
    lr: float = 1.0,
    l2: float = 0.05,
    weights: np.ndarray | Sequence[float] | None = None,
    bias: float = 0.0,
) -> TrainResult:
    """Train logistic regression on encrypted rows and labels with encrypted weights.

    Same update rule as :func:`train_plain_approx`, computed on ciphertexts (depth 6). After
    each update the weights are decrypted and re-encrypted with ``ctx``, simulating the data
    owner refreshing them (no bootstrapping).

    Args:
        ctx: the data owner's private context, with depth >= 6 and Galois keys (``"train"`` or
            ``"train_precise"``); ``enc_rows`` and ``enc_labels`` must belong to it.
        enc_rows: encrypted standardized feature rows, all of one size.
        enc_labels: encrypted one-value 0/1 labels, one per row.
        epochs: passes over the data.
        batch_size: rows per update; ``None`` for full batch (one update per epoch).
        lr: learning rate.
        l2: L2 penalty on the weights (not the bias).
        weights: initial plaintext weights; zeros when ``None``.
        bias: initial plaintext bias.

    Returns:
        The decrypted learned weights and per-epoch timing.

    Raises:
        ValueError: on malformed inputs or hyperparameters, a public context, or a context too
            shallow for one update.
    """
    if not ctx.is_private():
        raise ValueError("train_encrypted needs the private context to refresh the weights")
    depth = context_depth(ctx)
    if depth < TRAIN_DEPTH:
        raise ValueError(
            f"one encrypted update needs depth {TRAIN_DEPTH}, the context has {depth}; "
            'use PARAMS["train"] or PARAMS["train_precise"]'
        )
    if len(enc_rows) == 0 or len(enc_rows) != len(enc_labels):
        raise ValueError(
            f"need one label per row and at least one row, got {len(enc_rows)} rows and "
            f"{len(enc_labels)} labels"
        )
    n_features = enc_rows[0].size()
    _check_sizes(enc_rows, n_features, "enc_rows")
    _check_sizes(enc_labels, 1, "enc_labels")
    batches = _batches(len(enc_rows), epochs, batch_size, lr, l2)
    w, b = _initial(weights, bias, n_features)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        for batch in batches:
            enc_w = ts.ckks_vector(ctx, w.tolist())
            enc_b = ts.ckks_vector(ctx, [b])
            grad_w, grad_b = _encrypted_gradient(
                [enc_rows[i] for i in batch], [enc_labels[i] for i in batch], enc_w, enc_b
            )
            step = lr / len(batch)
            new_w = enc_w - grad_w * step
            if l2 > 0:
                new_w = new_w - enc_w * (lr * l2)
            new_b = enc_b - grad_b * step
            w, b = decrypt(new_w), float(decrypt(new_b)[0])  # the data owner's refresh
        times.append(time.perf_counter() - start)
    return TrainResult(w, b, tuple(times), len(enc_rows))


def _encrypted_gradient(
    rows: Sequence[ts.CKKSVector],
    labels: Sequence[ts.CKKSVector],
    enc_w: ts.CKKSVector,
    enc_b: ts.CKKSVector,
) -> tuple[ts.CKKSVector, ts.CKKSVector]:
    """Sums over a batch of ``x r`` and ``r``, with ``r = sigmoid_poly(x . w + b) - y``."""
    grad_w = grad_b = None
    for x, y in zip(rows, labels, strict=True):
        residual = (x.dot(enc_w) + enc_b).polyval(list(SIGMOID_POLY)) - y
        g = x * residual
        if grad_w is None:
            grad_w, grad_b = g, residual
        else:
            grad_w += g
            grad_b += residual
    return grad_w, grad_b


# --- validation ------------------------------------------------------------------------------


def _as_matrix(X: object, name: str) -> np.ndarray:
    try:
        arr = np.asarray(X, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric 2-D array") from exc
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    return arr


def _as_vector(v: object, name: str, length: int | None = None) -> np.ndarray:
    try:
        arr = np.asarray(v, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric 1-D array") from exc
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {arr.shape}")
    if length is not None and arr.size != length:
        raise ValueError(f"{name} must have {length} values, got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    return arr


def _as_labels(y: object, length: int) -> np.ndarray:
    arr = _as_vector(y, "y", length)
    if not np.all((arr == 0) | (arr == 1)):
        raise ValueError("y must hold 0/1 labels")
    return arr


def _check_sizes(vectors: Sequence[ts.CKKSVector], size: int, name: str) -> None:
    bad = [i for i, v in enumerate(vectors) if v.size() != size]
    if bad:
        raise ValueError(
            f"{name} must all have {size} values; row {bad[0]} has {vectors[bad[0]].size()}"
        )


def _batches(n: int, epochs: int, batch_size: int | None, lr: float, l2: float) -> list[np.ndarray]:
    """Validate the hyperparameters; return the row indices of each update, in order."""
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be an int >= 1, got {epochs!r}")
    if batch_size is not None and (
        isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
    ):
        raise ValueError(f"batch_size must be None or an int >= 1, got {batch_size!r}")
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be finite and > 0, got {lr}")
    if not (math.isfinite(l2) and l2 >= 0):
        raise ValueError(f"l2 must be finite and >= 0, got {l2}")
    size = n if batch_size is None else min(batch_size, n)
    return [np.arange(i, min(i + size, n)) for i in range(0, n, size)]


def _initial(
    weights: np.ndarray | Sequence[float] | None, bias: float, n_features: int
) -> tuple[np.ndarray, float]:
    w = np.zeros(n_features) if weights is None else _as_vector(weights, "weights", n_features)
    if not math.isfinite(bias):
        raise ValueError(f"bias must be finite, got {bias}")
    return w.copy(), float(bias)
