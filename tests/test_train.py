import numpy as np
import pytest

from crypto.data import IndustryData
from crypto.train import TrainConfig, accuracy, backend, train, train_rowsets, train_subsets


@pytest.fixture(scope="module")
def data():
    gen = IndustryData(n_features=6, n_industries=3, shift=1.0, seed=0)
    rng = np.random.default_rng(0)
    return gen, gen.sample(0, 400, quality=1.0, rng=rng), gen.sample(0, 400, quality=1.0, rng=rng)


def test_generator_is_seeded_and_validated(data):
    gen, _, _ = data
    a = gen.sample(1, 50, 0.9, np.random.default_rng(5))
    b = gen.sample(1, 50, 0.9, np.random.default_rng(5))
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    assert a.x.dtype == np.float32 and set(np.unique(a.y)) <= {0.0, 1.0}
    for bad in ({"industry": 3}, {"rows": 0}, {"quality": 1.5}):
        kwargs = {"industry": 0, "rows": 10, "quality": 0.5, "rng": np.random.default_rng(0), **bad}
        with pytest.raises(ValueError):
            gen.sample(**kwargs)


def test_industries_shift_the_features(data):
    gen, _, _ = data
    rng = np.random.default_rng(1)
    means = [gen.sample(k, 2000, 1.0, rng).x.mean(axis=0) for k in range(3)]
    assert np.linalg.norm(means[0] - means[1]) > 0.5


def test_label_quality_controls_noise(data):
    gen, _, test = data
    rng = np.random.default_rng(2)
    clean = gen.sample(0, 2000, 1.0, rng)
    noisy = gen.sample(0, 2000, 0.0, rng)
    cfg = TrainConfig(epochs=300)
    assert float(accuracy(train(clean.x, clean.y, cfg), test.x, test.y)) > 0.8
    assert float(accuracy(train(noisy.x, noisy.y, cfg), test.x, test.y)) < 0.7


def test_logistic_regression_learns_and_is_deterministic(data):
    _, tr, te = data
    a = train(tr.x, tr.y, TrainConfig(epochs=300), seed=3)
    b = train(tr.x, tr.y, TrainConfig(epochs=300), seed=3)
    np.testing.assert_array_equal(np.asarray(a["w"]), np.asarray(b["w"]))
    assert float(accuracy(a, te.x, te.y)) > 0.8
    assert backend() in {"cpu", "gpu", "tpu"}


def test_mlp_learns_a_nonlinear_rule():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(600, 2)).astype(np.float32)
    y = ((x[:, 0] * x[:, 1]) > 0).astype(np.float32)  # XOR-like: no linear separator
    linear = train(x, y, TrainConfig(epochs=500))
    mlp = train(x, y, TrainConfig(epochs=2000, hidden=16, learning_rate=1.0), seed=1)
    assert float(accuracy(linear, x, y)) < 0.65
    assert float(accuracy(mlp, x, y)) > 0.9


@pytest.mark.parametrize("hidden", [0, 8])
def test_vmapped_subsets_equal_separate_training(data, hidden):
    _, tr, te = data
    rng = np.random.default_rng(6)
    masks = (rng.random((5, tr.rows)) < 0.5).astype(np.float32)
    cfg = TrainConfig(epochs=100, hidden=hidden)
    batched = train_subsets(tr.x, tr.y, masks, cfg, seed=2)
    accs = np.asarray(accuracy(batched, te.x, te.y))
    assert accs.shape == (5,)
    for k in range(5):
        rows = masks[k] > 0
        alone = train(tr.x[rows], tr.y[rows], cfg, seed=2)
        for name, value in alone.items():
            np.testing.assert_allclose(np.asarray(batched[name][k]), np.asarray(value), atol=2e-5)
        assert accs[k] == pytest.approx(float(accuracy(alone, te.x, te.y)))


@pytest.mark.parametrize("hidden", [0, 8])
def test_row_sets_train_the_same_models_as_separate_training(data, hidden):
    # each model its own rows and weights, padded to one length with weight-0 rows: the
    # same loss, start and steps as training each row set alone (float order aside)
    _, tr, te = data
    rng = np.random.default_rng(7)
    counts = [3, 40, 64, 17]
    x = np.zeros((4, 64, tr.x.shape[1]), np.float32)
    y = np.zeros((4, 64), np.float32)
    w = np.zeros((4, 64), np.float32)
    picks = [rng.choice(tr.rows, k, replace=False) for k in counts]
    weights = [rng.uniform(0.1, 1.0, k).astype(np.float32) for k in counts]
    for k, (rows, weight) in enumerate(zip(picks, weights, strict=True)):
        x[k, : len(rows)], y[k, : len(rows)], w[k, : len(rows)] = tr.x[rows], tr.y[rows], weight
    cfg = TrainConfig(epochs=100, hidden=hidden)
    batched = train_rowsets(x, y, w, cfg, seed=2)
    for k, (rows, weight) in enumerate(zip(picks, weights, strict=True)):
        mask = np.zeros((1, tr.rows), np.float32)
        mask[0, rows] = weight  # the mask path over the whole pool: the reference
        alone = train_subsets(tr.x, tr.y, mask, cfg, seed=2)
        for name, value in alone.items():
            np.testing.assert_allclose(
                np.asarray(batched[name][k]), np.asarray(value[0]), atol=2e-5
            )
        single = {name: value[k] for name, value in batched.items()}
        reference = {name: value[0] for name, value in alone.items()}
        assert float(accuracy(single, te.x, te.y)) == pytest.approx(
            float(accuracy(reference, te.x, te.y)), abs=1 / te.rows
        )


def test_bad_inputs_raise(data):
    _, tr, _ = data
    with pytest.raises(ValueError, match="masks must have shape"):
        train_subsets(tr.x, tr.y, np.ones((2, 3)))
    with pytest.raises(ValueError, match="non-negative"):
        train_subsets(tr.x, tr.y, -np.ones((1, tr.rows)))
    with pytest.raises(ValueError, match="rows, features"):
        train(tr.x[:, 0], tr.y)
    with pytest.raises(ValueError, match="TrainConfig"):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match="models, rows, features"):
        train_rowsets(tr.x, tr.y, np.ones(tr.rows))
    with pytest.raises(ValueError, match="non-negative"):
        train_rowsets(tr.x[None], tr.y[None], -np.ones((1, tr.rows)))
