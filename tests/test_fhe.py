"""Tests of crypto.fhe: CKKS parameters, contexts, serialization, encrypted LR inference/training.

Error bounds are about 10x the largest errors measured on the reference machine (TenSEAL 0.3.18,
2 cores) over many fresh contexts; CKKS noise is random (SEAL does not take a seed), so the
margins must absorb run-to-run variation.
"""

import numpy as np
import pytest
import tenseal as ts

from crypto import fhe
from crypto.data import IndustryData

_CONTEXTS: dict[str, ts.Context] = {}


def context(name: str) -> ts.Context:
    """One private context per parameter set for the whole module (Galois keys are slow)."""
    if name not in _CONTEXTS:
        _CONTEXTS[name] = fhe.make_context(name)
    return _CONTEXTS[name]


def separable_data(n: int, d: int, seed: int, margin: float = 0.25):
    """Gaussian rows labelled by a random hyperplane, keeping only rows at least `margin` from it."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=d)
    w /= np.linalg.norm(w)
    X = rng.normal(size=(4 * n, d))
    z = X @ w
    keep = np.abs(z) > margin
    X, z = X[keep][:n], z[keep][:n]
    return X, (z > 0).astype(float)


# --- parameter sets --------------------------------------------------------------------------


def test_named_params_depth_slots_and_security():
    infer, standard, train = fhe.PARAMS["infer"], fhe.PARAMS["standard"], fhe.PARAMS["train"]
    assert (infer.poly_modulus_degree, infer.coeff_mod_bit_sizes, infer.global_scale_bits) == (
        4096,
        (40, 20, 40),
        20,
    )
    assert (infer.depth, infer.slots, infer.global_scale) == (1, 2048, 2.0**20)
    assert (standard.depth, standard.slots, standard.global_scale) == (2, 4096, 2.0**40)
    assert train.coeff_mod_bit_sizes == (40, 21, 21, 21, 21, 21, 21, 40)
    assert (train.depth, train.slots, train.global_scale_bits) == (6, 4096, 21)
    assert fhe.PARAMS["train_precise"].depth == fhe.TRAIN_DEPTH
    for params in fhe.PARAMS.values():
        assert params.total_coeff_bits <= fhe.SECURITY_MAX_COEFF_BITS[params.poly_modulus_degree]


def test_params_accept_a_list_and_store_a_tuple():
    params = fhe.CkksParams(4096, [40, 20, 40], 20)
    assert params.coeff_mod_bit_sizes == (40, 20, 40)
    assert params == fhe.PARAMS["infer"]


@pytest.mark.parametrize(
    ("n", "bits", "scale"),
    [
        (4096, (40, 20, 20, 40), 20),  # 120 > 109
        (8192, (60, 40, 40, 40, 60), 40),  # 240 > 218
        (16384, (60, *[40] * 8, 60), 40),  # 440 > 438
    ],
)
def test_security_cap_violation_raises(n, bits, scale):
    with pytest.raises(ValueError, match="security cap"):
        fhe.CkksParams(n, bits, scale)


@pytest.mark.parametrize(
    ("n", "bits", "scale", "match"),
    [
        (3000, (40, 20, 40), 20, "poly_modulus_degree"),
        (4096, (40,), 20, "at least"),
        (4096, (40, 61, 40), 40, "bits at N="),
        (4096, (30, 13, 30), 13, "bits at N="),  # primes must be 1 mod 2N = 8192
        (4096, (20, 20, 40), 20, "below the first prime"),
        (4096, (40, 24, 40), 20, "middle primes"),
        (8192, (60, 40, 30, 60), 40, "middle primes"),
    ],
)
def test_invalid_params_raise(n, bits, scale, match):
    with pytest.raises(ValueError, match=match):
        fhe.CkksParams(n, bits, scale)


# --- contexts, round trips, error bounds -----------------------------------------------------


def test_make_context_validates_and_sets_up_keys():
    with pytest.raises(ValueError, match="n_threads"):
        fhe.make_context("infer", n_threads=0)
    with pytest.raises(ValueError, match="one of"):
        fhe.make_context("no-such-set")
    ctx = fhe.make_context(fhe.PARAMS["infer"], n_threads=1)
    assert ctx.is_private() and ctx.has_galois_keys() and ctx.has_relin_keys()
    assert ctx.global_scale == 2.0**20
    assert fhe.context_depth(ctx) == 1
    assert fhe.context_depth(context("train")) == 6


# Bounds (linear ops, ct x ct multiplication, dot with a plaintext vector) for values in [-1, 1]
# and N(0, 1) weights. Fresh CKKS noise is ~N*sigma/scale: measured max 4e-9 at 2^40, 4e-5 at
# 2^26, 2e-3 at 2^20. A multiplication adds rescaling noise (1e-7, 4e-4, 2e-2). "infer" also
# carries TenSEAL's scale reset (x1.016 per level, see crypto.fhe) inside its 5e-2 bound. dot
# adds key-switching noise from the rotations: 6e-7 at 2^40 and 2e-3 for "infer_precise", but
# 0.02 to 1.3 for "infer" (40-bit special prime over a 2^20 scale), so "infer" gets no dot bound.
OP_BOUNDS = {
    "standard": (1e-6, 1e-5, 1e-5),
    "infer_precise": (5e-4, 5e-3, 2e-2),
    "infer": (2e-2, 5e-2, None),
}


@pytest.mark.parametrize("name", sorted(OP_BOUNDS))
def test_roundtrip_and_arithmetic_within_bounds(name):
    linear, mul, dot = OP_BOUNDS[name]
    ctx = context(name)
    rng = np.random.default_rng(7)
    a, b = rng.uniform(-1, 1, (2, 5, 6))
    w = rng.normal(size=6)
    ea, eb = fhe.encrypt_rows(ctx, a), fhe.encrypt_rows(ctx, b)
    assert np.abs(fhe.decrypt_rows(ea) - a).max() < linear
    assert (
        np.abs(fhe.decrypt_rows([x + y for x, y in zip(ea, eb, strict=True)]) - (a + b)).max()
        < linear
    )
    assert (
        np.abs(fhe.decrypt_rows([x * y for x, y in zip(ea, eb, strict=True)]) - a * b).max() < mul
    )
    if dot is not None:
        got = fhe.decrypt_rows([x.dot(w.tolist()) for x in ea])[:, 0]
        assert np.abs(got - a @ w).max() < dot


def test_train_params_carry_tenseal_scale_reset():
    """Documents the caveat in crypto.fhe: 21-bit primes at N=8192 lie far below 2**21."""
    ctx = context("train")
    v = ts.ckks_vector(ctx, [1.0])
    for _ in range(fhe.TRAIN_DEPTH):
        v = v * 1.0
    assert fhe.decrypt(v)[0] > 2.0  # measured 5.97; exact arithmetic would give 1.0


def test_encrypt_rows_validates_input():
    ctx = context("infer")
    with pytest.raises(ValueError, match="2-D"):
        fhe.encrypt_rows(ctx, np.ones(3))
    with pytest.raises(ValueError, match="finite"):
        fhe.encrypt_rows(ctx, [[1.0, np.nan]])
    with pytest.raises(ValueError, match="slots"):
        fhe.encrypt_rows(ctx, np.ones((1, 2049)))
    with pytest.raises(ValueError, match="no vectors"):
        fhe.decrypt_rows([])


# --- serialization and sizes -----------------------------------------------------------------


def test_public_context_has_no_secret_key_and_ciphertexts_survive_serialization():
    ctx = context("infer_precise")
    blob = fhe.public_context_bytes(ctx)
    assert ctx.is_private()  # the caller's context keeps its secret key
    public = ts.context_from(blob)
    assert public.is_private() is False
    assert public.has_galois_keys()
    assert fhe.public_context_bytes(public) == public.serialize()

    x = np.array([0.5, -1.0, 2.0, 0.25])
    w = [1.0, 2.0, -0.5, 4.0]
    received = ts.ckks_vector_from(public, fhe.encrypt_rows(ctx, [x])[0].serialize())
    with pytest.raises(ValueError, match="secret"):
        received.decrypt()
    # the solver computes on the public context and sends the result back
    result = received.dot(w) + 1.0
    back = ts.ckks_vector_from(ctx, result.serialize())
    assert fhe.decrypt(back)[0] == pytest.approx(x @ w + 1.0, abs=2e-2)

    # sizes measured: 6.2 MiB public context (Galois keys), 80 KiB per ciphertext
    assert 3 * 2**20 < fhe.context_nbytes(ctx) < 12 * 2**20
    assert 40 * 2**10 < fhe.ciphertext_nbytes(back) < 160 * 2**10


def test_encrypted_dataset_bytes_and_load():
    ctx = context("infer_precise")
    public = ts.context_from(fhe.public_context_bytes(ctx))
    X = np.arange(12.0).reshape(4, 3) / 10
    y = np.array([0.0, 1.0, 1.0, 0.0])
    data = fhe.encrypt_dataset(ctx, X, y)
    assert (data.n_rows, data.n_features, len(data.labels)) == (4, 3, 4)
    assert data.nbytes == sum(map(len, data.rows)) + sum(map(len, data.labels))
    assert data.bytes_per_row == pytest.approx(data.nbytes / 4)
    assert data.encrypt_seconds > 0
    rows, labels = data.load(public)
    back = [ts.ckks_vector_from(ctx, v.serialize()) for v in rows + labels]
    assert np.abs(fhe.decrypt_rows(back[:4]) - X).max() < 5e-4
    assert np.abs(fhe.decrypt_rows(back[4:])[:, 0] - y).max() < 5e-4
    unlabelled = fhe.encrypt_dataset(ctx, X)
    assert unlabelled.labels == () and unlabelled.nbytes == sum(map(len, unlabelled.rows))
    with pytest.raises(ValueError, match="y must have 4"):
        fhe.encrypt_dataset(ctx, X, y[:3])


# --- inference -------------------------------------------------------------------------------


# Probability bounds: sigmoid' <= 1/4 turns the dot bounds above into 5e-3 and 2.5e-6; measured
# 1e-4 and 1e-7. "infer" is left out: its logits are off by up to 1.3 (probabilities by 0.3).
@pytest.mark.parametrize(("name", "bound"), [("infer_precise", 5e-3), ("standard", 1e-5)])
def test_encrypted_inference_matches_plaintext(name, bound):
    ctx = context(name)
    rng = np.random.default_rng(3)
    X = rng.normal(size=(20, 6))
    w, b = rng.normal(size=6), -0.3
    probs = fhe.decrypt_probabilities(fhe.encrypted_logits(fhe.encrypt_rows(ctx, X), w, b))
    expected = fhe.sigmoid(X @ w + b)
    assert probs.shape == (20,)
    assert np.abs(probs - expected).max() < bound


def test_encrypted_logits_validate_weights():
    ctx = context("infer_precise")
    rows = fhe.encrypt_rows(ctx, np.ones((2, 3)))
    with pytest.raises(ValueError, match="must all have 2 values"):
        fhe.encrypted_logits(rows, [1.0, 2.0], 0.0)
    with pytest.raises(ValueError, match="bias"):
        fhe.encrypted_logits(rows, [1.0, 2.0, 3.0], float("inf"))


# --- plaintext twin --------------------------------------------------------------------------


def test_sigmoid_poly_and_standardize():
    z = np.linspace(-5, 5, 101)
    assert np.abs(fhe.sigmoid_poly(z) - fhe.sigmoid(z)).max() < 0.06  # measured 0.051
    assert fhe.sigmoid_poly(2.0) == pytest.approx(0.5 + 0.394 - 0.032)
    X = np.array([[1.0, 5.0], [3.0, 5.0], [5.0, 5.0]])
    Xs, mean, std = fhe.standardize(X)
    np.testing.assert_allclose(Xs.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(std, [np.std([1, 3, 5]), 1.0])
    np.testing.assert_allclose(fhe.standardize([[3.0, 6.0]], mean, std)[0], [[0.0, 1.0]])


def test_plain_twin_applies_the_documented_update():
    X = np.array([[1.0, -1.0], [0.5, 2.0], [-1.0, 0.0]])
    y = np.array([1.0, 0.0, 1.0])
    w0, b0 = np.array([0.2, -0.1]), 0.05
    r = fhe.sigmoid_poly(X @ w0 + b0) - y
    w1 = w0 - 0.5 * (X.T @ r / 3 + 0.05 * w0)
    b1 = b0 - 0.5 * r.mean()
    got = fhe.train_plain_approx(X, y, 1, lr=0.5, weights=w0, bias=b0)
    np.testing.assert_allclose(got.weights, w1)
    assert got.bias == pytest.approx(b1)
    assert len(got.epoch_seconds) == 1 and got.n_samples == 3
    # mini-batches of 2 then 1 make two updates per epoch
    batched = fhe.train_plain_approx(X, y, 1, batch_size=2, lr=0.5, weights=w0, bias=b0)
    assert not np.allclose(batched.weights, w1)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"epochs": 0}, "epochs"),
        ({"epochs": 1, "batch_size": 0}, "batch_size"),
        ({"epochs": 1, "lr": 0.0}, "lr"),
        ({"epochs": 1, "l2": -1.0}, "l2"),
        ({"epochs": 1, "weights": [1.0]}, "weights"),
    ],
)
def test_plain_twin_validates_hyperparameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fhe.train_plain_approx(np.ones((3, 2)), [0.0, 1.0, 1.0], **kwargs)


def test_plain_twin_rejects_non_binary_labels():
    with pytest.raises(ValueError, match="0/1"):
        fhe.train_plain_approx(np.ones((3, 2)), [0.0, 2.0, 1.0], 1)


# --- encrypted training ----------------------------------------------------------------------


def test_train_encrypted_refuses_unsuitable_contexts_and_inputs():
    shallow = context("standard")
    rows = fhe.encrypt_rows(shallow, np.ones((2, 3)))
    labels = fhe.encrypt_rows(shallow, [[0.0], [1.0]])
    with pytest.raises(ValueError, match="depth 6"):
        fhe.train_encrypted(shallow, rows, labels, 1)
    ctx = context("train")
    public = ctx.copy()
    public.make_context_public()
    with pytest.raises(ValueError, match="private"):
        fhe.train_encrypted(public, rows, labels, 1)
    rows = fhe.encrypt_rows(ctx, np.ones((2, 3)))
    labels = fhe.encrypt_rows(ctx, [[0.0], [1.0]])
    with pytest.raises(ValueError, match="one label per row"):
        fhe.train_encrypted(ctx, rows, labels[:1], 1)
    with pytest.raises(ValueError, match="enc_labels must all have 1"):
        fhe.train_encrypted(ctx, rows, rows, 1)
    with pytest.raises(ValueError, match="epochs"):
        fhe.train_encrypted(ctx, rows, labels, 0)


def test_encrypted_training_matches_plain_twin_with_precise_params():
    """2 epochs of mini-batches of 4 on 8 rows: 4 encrypted updates, each followed by a refresh.

    At scale 2^40 every encrypted step is exact to ~1e-6 (measured max weight gap 5e-6).
    """
    X, y = separable_data(8, 5, seed=1)
    X = fhe.standardize(X)[0]
    ctx = context("train_precise")
    plain = fhe.train_plain_approx(X, y, 2, batch_size=4)
    enc = fhe.train_encrypted(
        ctx, fhe.encrypt_rows(ctx, X), fhe.encrypt_rows(ctx, y[:, None]), 2, batch_size=4
    )
    assert np.abs(plain.weights).max() > 0.1  # the updates moved the weights
    np.testing.assert_allclose(enc.weights, plain.weights, atol=1e-4)
    assert enc.bias == pytest.approx(plain.bias, abs=1e-4)
    assert len(enc.epoch_seconds) == 2 and enc.seconds_per_sample_epoch > 0


def test_encrypted_training_with_train_params_points_the_same_way():
    """With "train" the scale reset inflates the update (measured x3.5) but keeps its direction."""
    X, y = separable_data(20, 5, seed=2)
    X = fhe.standardize(X)[0]
    ctx = context("train")
    plain = fhe.train_plain_approx(X, y, 1)
    enc = fhe.train_encrypted(ctx, fhe.encrypt_rows(ctx, X), fhe.encrypt_rows(ctx, y[:, None]), 1)
    cosine = (
        enc.weights @ plain.weights / np.linalg.norm(enc.weights) / np.linalg.norm(plain.weights)
    )
    assert cosine > 0.95
    assert enc.accuracy(X, y) >= plain.accuracy(X, y) - 0.1


def industry_split(seed: int, n_test: int = 2000):
    """Two corporations' noisy rows and clean held-out rows of their industries, standardized.

    As in a simulation: :class:`crypto.data.IndustryData` with 8 features (the ground-truth
    jobs' default) and the default 5 industries and shift; 8 rows of industry 0 at label
    quality 0.8 and 8 of industry 1 at 0.6 (the simulation draws qualities from Beta(4, 2),
    mean 0.67); held-out rows with clean labels, as a buyer's. Returns ``(X, y, X_test, y_test)``.
    """
    data = IndustryData(n_features=8, seed=seed)
    rng = np.random.default_rng(seed)
    parts = [(0, 0.8), (1, 0.6)]
    train = [data.sample(industry, 8, quality, rng) for industry, quality in parts]
    test = [data.sample(industry, n_test // 2, 1.0, rng) for industry, _ in parts]
    X, mean, std = fhe.standardize(np.concatenate([d.x for d in train]))
    X_test = fhe.standardize(np.concatenate([d.x for d in test]), mean, std)[0]
    return X, np.concatenate([d.y for d in train]), X_test, np.concatenate([d.y for d in test])


def test_default_train_params_keep_accuracy_on_industry_data():
    """The default training set keeps held-out accuracy within 3 points of the plaintext twin.

    16 noisy rows, 5 full-batch epochs (the simulation's ``crypto.epochs``) in a fresh context
    of :data:`crypto.fhe.TRAIN_PARAMS`. Data seed 2 is one where 16 rows teach a model clearly
    better than the majority class (plaintext 0.81 against 0.56). Measured: ``"train_precise"``
    0.000 gap (~15 s on the reference machine); ``"train"`` 0.105 to 0.310 below plaintext
    over ten fresh contexts, so this test fails with it.
    """
    assert fhe.PARAMS[fhe.TRAIN_PARAMS].depth >= fhe.TRAIN_DEPTH
    X, y, X_test, y_test = industry_split(seed=2)
    plain = fhe.train_plain_approx(X, y, 5)
    majority = max(y_test.mean(), 1 - y_test.mean())
    assert plain.accuracy(X_test, y_test) > majority + 0.15  # the task is learnable here
    ctx = fhe.make_context(fhe.TRAIN_PARAMS)  # fresh: CKKS noise differs per context
    enc = fhe.train_encrypted(ctx, fhe.encrypt_rows(ctx, X), fhe.encrypt_rows(ctx, y[:, None]), 5)
    assert abs(enc.accuracy(X_test, y_test) - plain.accuracy(X_test, y_test)) <= 0.03


@pytest.mark.slow
def test_encrypted_training_accuracy_close_to_plain_twin():
    """60 rows x 5 features, 2 full-batch epochs, accuracy on the rows and on 200 held-out rows.

    Uses "train_precise": with the notes' "train" set the held-out gap was 0 to 6 points over
    seven contexts (per-context rotation noise shifts the bias), too erratic to assert 3 points.
    Measured ~30 s on the reference machine (~220 ms per sample per epoch).
    """
    X, y = separable_data(260, 5, seed=2)
    Xtr, mean, std = fhe.standardize(X[:60])
    Xte = fhe.standardize(X[60:], mean, std)[0]
    ytr, yte = y[:60], y[60:]
    ctx = context("train_precise")
    enc = fhe.train_encrypted(
        ctx, fhe.encrypt_rows(ctx, Xtr), fhe.encrypt_rows(ctx, ytr[:, None]), 2
    )
    plain = fhe.train_plain_approx(Xtr, ytr, 2)
    assert plain.accuracy(Xte, yte) > 0.9  # the task is learnable in 2 epochs
    assert abs(enc.accuracy(Xtr, ytr) - plain.accuracy(Xtr, ytr)) <= 0.03
    assert abs(enc.accuracy(Xte, yte) - plain.accuracy(Xte, yte)) <= 0.03
