"""ezkl proofs over committed datasets (crypto.zk): quality predicate and model evaluation."""

from __future__ import annotations

import dataclasses
import logging
import time
import warnings

import numpy as np
import pytest

ezkl = pytest.importorskip(
    "ezkl", reason="ezkl is not installed (the zk extra): pip install -e '.[zk]'"
)
pytest.importorskip("onnx", reason="onnx is not installed (the zk extra): pip install -e '.[zk]'")

from crypto import zk  # noqa: E402

BOUND = 2.0
N_ROWS, N_FEATURES = 12, 3
LR_ROWS, LR_FEATURES = 16, 4

TIMINGS: dict[str, float] = {}


def _quality_data(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # Features at least 0.1 away from the bound, far more than the quantization step 2**-7.
    features = rng.uniform(-BOUND + 0.1, BOUND - 0.1, size=(N_ROWS, N_FEATURES))
    labels = rng.integers(0, 2, size=N_ROWS).astype(float)
    labels[:2] = [0.0, 1.0]
    data = np.c_[features, labels]
    data[2, 1] = BOUND + 0.7  # feature out of bounds -> invalid row
    data[5, -1] = 0.5  # non-binary label -> invalid row
    return data


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("zk")


@pytest.fixture(scope="module")
def quality_data() -> np.ndarray:
    return _quality_data(seed=7)


@pytest.fixture(scope="module")
def quality_circuit(work):
    return zk.quality_circuit(work / "quality", N_ROWS, N_FEATURES, BOUND)


@pytest.fixture(scope="module")
def user_srs(work, quality_circuit):
    """A user-supplied SRS file (in practice from a ceremony; here generated directly)."""
    path = work / "user" / "ceremony-params.bin"
    path.parent.mkdir()
    ezkl.gen_srs(str(path), quality_circuit.logrows)
    return path


@pytest.fixture(scope="module")
def quality_setup(work, quality_circuit, user_srs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", zk.InsecureSRSWarning)  # a user SRS must not warn
        result = zk.setup(quality_circuit, srs=user_srs, srs_dir=work / "quality-srs-cache")
    TIMINGS["quality setup"] = result.seconds
    return result


@pytest.fixture(scope="module")
def quality_proof(quality_circuit, quality_setup, quality_data):
    proof = zk.prove(quality_circuit, quality_data)
    TIMINGS["quality prove"] = proof.prove_seconds
    return proof


@pytest.fixture(scope="module")
def logistic_model():
    rng = np.random.default_rng(11)
    weights = rng.normal(0.0, 1.0, size=LR_FEATURES)
    x = rng.normal(0.0, 1.0, size=(LR_ROWS, LR_FEATURES))
    return weights, 0.3, x


@pytest.fixture(scope="module")
def logistic_circuit(work, logistic_model):
    weights, bias, _ = logistic_model
    return zk.logistic_circuit(work / "logistic", weights, bias, LR_ROWS)


@pytest.fixture(scope="module")
def logistic_setup(work, logistic_circuit):
    with pytest.warns(zk.InsecureSRSWarning, match="TESTING ONLY"):
        result = zk.setup(logistic_circuit, srs_dir=work / "srs-cache")
    TIMINGS["logistic setup"] = result.seconds
    return result


@pytest.fixture(scope="module")
def logistic_proof(logistic_circuit, logistic_setup, logistic_model):
    proof = zk.prove(logistic_circuit, logistic_model[2])
    TIMINGS["logistic prove"] = proof.prove_seconds
    return proof


def _flip(proof: zk.Proof, index: int) -> zk.Proof:
    tampered = bytearray(proof.proof_bytes)
    tampered[index] ^= 0x01
    return dataclasses.replace(proof, proof_bytes=bytes(tampered))


# ---------------------------------------------------------------------------------------------
# (a) quality predicate
# ---------------------------------------------------------------------------------------------


def test_quality_prove_and_verify(quality_circuit, quality_setup, quality_proof, quality_data):
    assert 1 <= quality_circuit.logrows <= zk.DEFAULT_MAX_LOGROWS
    assert quality_circuit.proving_key_path is None  # deleted after proving
    assert 1000 < quality_proof.nbytes < 100_000

    start = time.perf_counter()
    assert zk.verify(quality_proof, quality_circuit)
    TIMINGS["quality verify"] = time.perf_counter() - start

    published = zk.poseidon_commitment(quality_data, quality_circuit.input_scale)
    assert zk.verify(quality_proof, quality_circuit, commitment=published)
    assert zk.check_quality(
        quality_proof,
        quality_circuit,
        commitment=published,
        min_valid_share=0.8,
        label_mean_range=(0.1, 0.9),
    )
    # The thresholds bite: 10 of 12 rows are valid.
    assert not zk.check_quality(
        quality_proof, quality_circuit, commitment=published, min_valid_share=0.9
    )


def test_quality_statistic_matches_numpy(quality_circuit, quality_proof, quality_data):
    stats = zk.quality_stats(quality_proof, quality_circuit.batch_size)
    reference = zk.quality_reference(quality_data, BOUND)
    quantum = 2.0**-quality_circuit.input_scale
    assert reference.valid_share == pytest.approx(10 / 12)
    assert stats.valid_share == pytest.approx(reference.valid_share, abs=quantum)
    assert stats.label_mean == pytest.approx(reference.label_mean, abs=quantum)


def test_commitment_is_the_public_instance(quality_circuit, quality_proof, quality_data):
    native = zk.poseidon_commitment(quality_data, quality_circuit.input_scale)
    assert quality_proof.commitment == native == quality_circuit.commitment(quality_data)
    assert native != quality_circuit.commitment(_quality_data(seed=8))


def test_tampered_proof_fails(quality_circuit, quality_proof):
    n = quality_proof.nbytes
    for index in (0, 40, n // 2, n - 1):
        assert not zk.verify(_flip(quality_proof, index), quality_circuit), index
    truncated = dataclasses.replace(quality_proof, proof_bytes=quality_proof.proof_bytes[:-32])
    assert not zk.verify(truncated, quality_circuit)


def test_proof_with_bytes_appended_fails(quality_circuit, quality_proof, caplog):
    proof_bytes = quality_proof.proof_bytes
    # ezkl ignores bytes after the transcript it reads; verify refuses each padding: a byte, a
    # zero word, a repeated point, a whole second proof.
    for extra in (b"\x00", bytes(32), proof_bytes[-64:], proof_bytes):
        padded = dataclasses.replace(quality_proof, proof_bytes=proof_bytes + extra)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="crypto.zk"):
            assert not zk.verify(padded, quality_circuit), len(extra)
        assert "malformed proof: it verifies without its last byte" in caplog.text
    assert zk.verify(quality_proof, quality_circuit)


def test_other_datasets_commitment_fails(quality_circuit, quality_proof, quality_data):
    other = quality_data.copy()
    other[0, 0] += 0.5
    other_commitment = zk.poseidon_commitment(other, quality_circuit.input_scale)
    assert other_commitment != quality_proof.commitment
    assert not zk.verify(quality_proof, quality_circuit, commitment=other_commitment)
    assert not zk.check_quality(
        quality_proof, quality_circuit, commitment=other_commitment, min_valid_share=0.0
    )
    # A proof whose carried commitment was swapped fails too.
    swapped = dataclasses.replace(quality_proof, commitment=other_commitment)
    assert not zk.verify(swapped, quality_circuit)


def test_wrong_claimed_quality_output_fails(quality_circuit, quality_proof, quality_data):
    labels = quality_data[:, -1]
    honest = {"label_sum": labels.sum(), "valid_rows": 10}
    assert zk.verify(quality_proof, quality_circuit, outputs=honest)
    assert not zk.verify(quality_proof, quality_circuit, outputs={**honest, "valid_rows": 12})
    assert not zk.verify(
        quality_proof, quality_circuit, outputs={**honest, "label_sum": labels.sum() + 1}
    )
    forged = dataclasses.replace(
        quality_proof,
        output_felts=(
            quality_proof.output_felts[0],
            ezkl.float_to_felt(12.0, quality_circuit.output_scales[1]),
        ),
    )
    assert not zk.verify(forged, quality_circuit)


def test_user_srs_is_used_as_given(work, quality_circuit, quality_setup, user_srs, monkeypatch):
    assert quality_setup.srs_path == user_srs
    assert not quality_setup.test_only_srs
    assert not list(
        (work / "srs-cache").glob(f"kzg{quality_circuit.logrows}*")
    )  # nothing generated

    def _no_gen(*args, **kwargs):
        raise AssertionError("gen_srs must not run when a user SRS is given")

    monkeypatch.setattr(ezkl, "gen_srs", _no_gen)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = zk.srs_path(quality_circuit.logrows, work / "unused", user_srs=str(user_srs))
    assert got == user_srs
    assert not (work / "unused").exists()
    assert zk.srs_logrows(user_srs) == quality_circuit.logrows
    # A smaller circuit may use a larger SRS; a larger one may not.
    assert zk.srs_path(quality_circuit.logrows - 1, work, user_srs=user_srs) == user_srs
    with pytest.raises(ValueError, match="supports logrows"):
        zk.srs_path(quality_circuit.logrows + 1, work, user_srs=user_srs)
    with pytest.raises(FileNotFoundError):
        zk.srs_path(quality_circuit.logrows, work, user_srs=work / "missing.srs")
    junk = work / "junk.srs"
    junk.write_bytes(b"\xff" * 16)
    with pytest.raises(ValueError, match="KZG SRS"):
        zk.srs_path(quality_circuit.logrows, work, user_srs=junk)


def test_generated_srs_is_cached_once(tmp_path, monkeypatch):
    calls = []
    real = ezkl.gen_srs

    def counting(path, logrows):
        calls.append(logrows)
        return real(path, logrows)

    monkeypatch.setattr(ezkl, "gen_srs", counting)
    with pytest.warns(zk.InsecureSRSWarning, match="TESTING ONLY"):
        first = zk.srs_path(5, tmp_path)
    with pytest.warns(zk.InsecureSRSWarning):
        second = zk.srs_path(5, tmp_path)
    assert first == second and first.parent == tmp_path and "test-only" in first.name
    assert calls == [5]
    assert zk.srs_logrows(first) == 5
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no temporary left behind


# ---------------------------------------------------------------------------------------------
# (b) model evaluation
# ---------------------------------------------------------------------------------------------


def test_logistic_prove_and_verify(
    logistic_circuit, logistic_setup, logistic_proof, logistic_model
):
    weights, bias, x = logistic_model
    assert logistic_setup.test_only_srs
    assert logistic_circuit.logrows <= zk.DEFAULT_MAX_LOGROWS
    assert zk.verify(logistic_proof, logistic_circuit)
    assert zk.verify(logistic_proof, logistic_circuit, commitment=logistic_circuit.commitment(x))

    logits = logistic_proof.outputs[zk.LOGITS_OUTPUT]
    assert logits.shape == (LR_ROWS, 1)
    expected = x @ weights + bias
    # Inputs and weights are rounded to 2**-scale: error <= (|x|_1 + |w|_1 + 1) * 2**-(scale+1)
    # per row, to first order.
    half_quantum = 2.0 ** -(logistic_circuit.input_scale + 1)
    tolerance = (np.abs(x).sum(axis=1) + np.abs(weights).sum() + 1.0) * half_quantum * 1.1
    assert np.all(np.abs(logits[:, 0] - expected) <= tolerance)
    # The claimed logits as floats verify.
    assert zk.verify(logistic_proof, logistic_circuit, outputs=[logits.copy()])


def test_logistic_wrong_output_or_dataset_fails(logistic_circuit, logistic_proof, logistic_model):
    x = logistic_model[2]
    claimed = logistic_proof.outputs[zk.LOGITS_OUTPUT].copy()
    claimed[3, 0] += 0.5
    assert not zk.verify(logistic_proof, logistic_circuit, outputs={zk.LOGITS_OUTPUT: claimed})
    other = x.copy()
    other[-1, -1] -= 1.0
    assert not zk.verify(
        logistic_proof, logistic_circuit, commitment=logistic_circuit.commitment(other)
    )
    assert not zk.verify(_flip(logistic_proof, logistic_proof.nbytes // 3), logistic_circuit)


def test_proof_sizes_and_timings(quality_proof, logistic_proof, logistic_setup):
    for proof in (quality_proof, logistic_proof):
        assert proof.nbytes < 20_000
        assert proof.json_nbytes > proof.nbytes
        assert proof.to_json()["instances"][0][0] == proof.commitment
    assert logistic_setup.pk_nbytes > logistic_setup.vk_nbytes
    print(  # shown with -s; a record of the costs on this machine
        {k: round(v, 3) for k, v in TIMINGS.items()},
        {"quality proof B": quality_proof.nbytes, "logistic proof B": logistic_proof.nbytes},
    )


# ---------------------------------------------------------------------------------------------
# Validation and resources
# ---------------------------------------------------------------------------------------------


def test_invalid_inputs_raise(work, quality_circuit, quality_setup, quality_proof, quality_data):
    with pytest.raises(ValueError, match="shape"):
        zk.prove(quality_circuit, quality_data[:-1])
    with pytest.raises(ValueError, match="finite"):
        zk.prove(quality_circuit, np.full_like(quality_data, np.nan))
    with pytest.raises(ValueError, match=r"\|v\|"):
        zk.prove(quality_circuit, quality_data * 1e9)
    with pytest.raises(ValueError, match="commitment"):
        zk.verify(quality_proof, quality_circuit, commitment="not-a-felt")
    with pytest.raises(ValueError, match="claimed outputs"):
        zk.verify(quality_proof, quality_circuit, outputs={"label_sum": 1.0})
    with pytest.raises(ValueError, match="bound"):
        zk.quality_graph(3, 0.0)
    with pytest.raises(ValueError, match="opset"):
        zk.quality_graph(3, 1.0, opset=18)
    with pytest.raises(ValueError, match="weights"):
        zk.logistic_graph([1.0, np.inf], 0.0)
    with pytest.raises(ValueError, match="logrows"):
        zk.srs_path(0, work)
    with pytest.raises(ValueError, match="min_valid_share"):
        zk.check_quality(
            quality_proof, quality_circuit, commitment=quality_proof.commitment, min_valid_share=2
        )


def test_prove_requires_setup(tmp_path):
    circuit = zk.quality_circuit(tmp_path, 4, 2, BOUND)
    with pytest.raises(ValueError, match="setup"):
        zk.prove(circuit, np.zeros((4, 3)))


def test_max_logrows_is_enforced(tmp_path):
    with pytest.raises(RuntimeError, match="logrows"):
        zk.quality_circuit(tmp_path, N_ROWS, N_FEATURES, BOUND, max_logrows=9)


def test_second_proof_regenerates_proving_key(logistic_circuit, logistic_proof, logistic_model):
    assert logistic_circuit.proving_key_path is None  # deleted after the first proof
    other = logistic_model[2][::-1].copy()
    proof = zk.prove(logistic_circuit, other, keep_proving_key=True)
    try:
        assert logistic_circuit.proving_key_path is not None
        assert zk.verify(proof, logistic_circuit, commitment=logistic_circuit.commitment(other))
        assert zk.verify(logistic_proof, logistic_circuit)  # same verifying key as before
        assert not zk.verify(
            proof, logistic_circuit, commitment=logistic_circuit.commitment(logistic_model[2])
        )
    finally:
        logistic_circuit.discard_proving_key()
    assert logistic_circuit.proving_key_path is None


# Reference agreement: the label-poisoning check. A public reference model (fixed in the
# circuit) predicts each committed row's label; the proof shows how many labels agree.
REF_W, REF_B = np.array([1.0, -0.5, 0.25]), 0.1
AGREE_ROWS = 16


def _agreement_data(flipped: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((AGREE_ROWS, REF_W.size))
    near = np.abs(x @ REF_W + REF_B) < 0.1  # keep rows off the decision boundary, far more
    x[near] += 0.3 * np.sign(REF_W)  # than the quantization step 2**-7
    labels = (x @ REF_W + REF_B > 0).astype(float)
    labels[:flipped] = 1 - labels[:flipped]
    return np.c_[x, labels]


@pytest.fixture(scope="module")
def agreement_circuit(work):
    circuit = zk.agreement_circuit(work / "agreement", REF_W, REF_B, AGREE_ROWS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", zk.InsecureSRSWarning)
        zk.setup(circuit, srs_dir=work / "agreement-srs")
    return circuit


@pytest.mark.parametrize("flipped", [0, 4, 9])
def test_agreement_proof_counts_the_labels_the_reference_predicts(agreement_circuit, flipped):
    data = _agreement_data(flipped)
    proof = zk.prove(agreement_circuit, data)
    assert zk.agreement_reference(data, REF_W, REF_B) == AGREE_ROWS - flipped
    assert zk.agreement_share(proof, AGREE_ROWS) == (AGREE_ROWS - flipped) / AGREE_ROWS
    published = zk.poseidon_commitment(data, agreement_circuit.input_scale)
    # a verifier requiring 75% agreement accepts the honest and the lightly poisoned data
    assert zk.check_agreement(proof, agreement_circuit, commitment=published, min_share=0.75) == (
        flipped <= 4
    )
    claimed = {zk.AGREEMENT_OUTPUT: np.array([[AGREE_ROWS]])}  # a poisoner claiming all agree
    assert zk.verify(proof, agreement_circuit) and (
        flipped == 0 or not zk.verify(proof, agreement_circuit, outputs=claimed)
    )
    other = zk.poseidon_commitment(_agreement_data(flipped, seed=4), 7)
    assert not zk.check_agreement(proof, agreement_circuit, commitment=other, min_share=0.0)


def test_agreement_refuses_bad_arguments(agreement_circuit):
    with pytest.raises(ValueError, match="min_share"):
        zk.check_agreement(None, agreement_circuit, commitment="0x0", min_share=1.5)
    with pytest.raises(ValueError, match="3 features and a label"):
        zk.agreement_reference(np.zeros((4, 3)), REF_W, REF_B)
