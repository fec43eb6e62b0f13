"""Zero-knowledge proofs over committed datasets with ezkl (Halo2 + KZG over small ONNX graphs).

Three circuits, all over a *private* dataset that the proof binds to its Poseidon commitment:

* :func:`quality_circuit` proves public quality statistics of a dataset of shape
  ``(rows, features + 1)`` (features, then a 0/1 label column): the label sum and the number of
  valid rows, a row being valid when every feature lies in ``[-bound, bound]`` and its label is
  exactly 0 or 1; divided by the public row count they give the label balance (mean label) and
  the share of valid rows (:func:`quality_stats`). The verifier checks the proof against the
  published commitment and the statistics against its thresholds (:func:`check_quality`).
* :func:`logistic_circuit` proves that public logits are what a logistic-regression model
  ``x @ w + b`` (weights fixed in the circuit, hence in its verifying key) computes on a
  committed validation set.
* :func:`agreement_circuit` proves how many rows of a labeled dataset carry the label a public
  reference model predicts (:func:`agreement_graph`): flipped labels lower that count, so a
  threshold on it (:func:`check_agreement`) detects label poisoning.

The dataset input uses ezkl's ``"hashed"`` visibility: the circuit hashes the quantized input
with Poseidon and exposes the hash as the first public instance, followed by the outputs
(``"public"``); parameters are ``"fixed"``. :func:`poseidon_commitment` computes the same hash
natively, so a verifier can compare it with a published commitment.

Verbs: :class:`Circuit` (``gen_settings``, ``calibrate_settings`` bounded by ``max_logrows``,
``compile_circuit``), :func:`setup` (verifying key in the circuit's directory, proving key in a
temporary directory), :func:`prove` (deletes the proving key afterwards unless asked to keep it;
a later :func:`prove` regenerates it, key generation being deterministic) and :func:`verify`
(``False``, not an exception, for a tampered proof, a proof with bytes appended, another
commitment or a wrong claimed output). The verifier substitutes its own public values into the
proof before checking it, so it never trusts the instances a prover ships. ezkl reads only the
transcript the verifying key calls for and ignores any bytes after it, so :func:`verify` also
requires the proof to fail without its last byte: exactly as long as that transcript.

SRS: :func:`srs_path` returns a user-supplied SRS file as given, or generates one with
``ezkl.gen_srs`` and caches it per ``logrows``. A generated SRS comes from a locally sampled
secret, so whoever ran it can forge proofs: it is for tests only (:class:`InsecureSRSWarning`).
``ezkl.get_srs`` (download) is never used: it fails offline.

Costs measured with ezkl 23.0.5 on 2 busy cores, with a 4 x 8-bit decomposition (base 256; the
default base 2**14 forces a 2**14-row range table, hence ``logrows`` >= 15): the quality circuit
on 12 x (3 + 1) values and the logistic circuit on 16 x 4 values both need ``logrows`` 12, the
Poseidon hash of the input dominating the rows. Setup 2-3 s, prove 2.5-4.5 s, verify ~20 ms,
proof 4.9 KB / 3.8 KB (ezkl's JSON proof file ~28 KB), verifying key ~13 KB, proving key ~50 MB,
peak memory of the whole test process 0.45 GiB. Setup and prove double per extra ``logrows``.

Quantization: values are rounded to multiples of ``2**-input_scale`` (7 by default), weights too,
so features within ``2**-input_scale`` of the bound may be classified unlike in floating point.

Logging: ezkl forwards its Rust crates' log records to Python's logging, under the loggers
:data:`EZKL_LOGGERS` (a fidelity report table at WARNING per circuit calibrated, key and
proof timings at INFO). Without a handler, Python prints its warnings on stderr; ``intentlab
calibrate`` sends them to its log file instead.

ezkl and onnx are optional (the ``zk`` extra) and imported lazily; this module imports nothing
else of intentlab.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import tempfile
import time
import warnings
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import onnx

__all__ = [
    "AGREEMENT_OUTPUT",
    "DEFAULT_INPUT_SCALE",
    "DEFAULT_MAX_LOGROWS",
    "EZKL_LOGGERS",
    "LOGITS_OUTPUT",
    "QUALITY_OUTPUTS",
    "Circuit",
    "InsecureSRSWarning",
    "Proof",
    "QualityStats",
    "SetupResult",
    "ZkUnavailableError",
    "agreement_circuit",
    "agreement_graph",
    "agreement_reference",
    "agreement_share",
    "check_agreement",
    "check_quality",
    "logistic_circuit",
    "logistic_graph",
    "not_ezkl",
    "poseidon_commitment",
    "prove",
    "quality_circuit",
    "quality_graph",
    "quality_reference",
    "quality_stats",
    "setup",
    "srs_logrows",
    "srs_path",
    "verify",
]

logger = logging.getLogger(__name__)

EZKL_LOGGERS = ("ezkl", "halo2_proofs", "tract_core", "tract_hir", "tract_linalg", "tract_onnx")
"""The top-level loggers ezkl logs through: its own and those of its proof system (halo2) and
ONNX runtime (tract), whose Rust log targets it forwards to Python's logging."""


def not_ezkl(record: logging.LogRecord) -> bool:
    """A logging filter for console handlers: keep every record but ezkl's.

    ezkl's records (:data:`EZKL_LOGGERS`) belong in a log file, not on the console.
    """
    return record.name.split(".")[0] not in EZKL_LOGGERS


DEFAULT_MAX_LOGROWS = 17
"""Upper bound on the circuit size ``2**logrows`` that calibration may pick (memory guard)."""

DEFAULT_INPUT_SCALE = 7
"""Fixed-point scale: inputs and parameters are rounded to multiples of ``2**-scale``."""

DEFAULT_OPSET = 13
"""ONNX opset of the graph builders (13-17 keep ``axes`` an attribute of the reductions)."""

QUALITY_OUTPUTS = ("label_sum", "valid_rows")
"""Public outputs of the quality circuit, in instance order (sums: exact in fixed point)."""

LOGITS_OUTPUT = "logits"
"""Public output of the logistic-regression circuit."""

AGREEMENT_OUTPUT = "agree_rows"
"""Public output of the reference-agreement circuit: rows whose label the reference predicts."""

_INSTALL_HINT = "install the zk extra: pip install -e '.[zk]'"
_DECOMP_BASE = 256
_DECOMP_LEGS = 4
_DECOMP_BITS = 32  # log2(_DECOMP_BASE ** _DECOMP_LEGS)
_MIN_OPSET, _MAX_OPSET = 13, 17
_MAX_SRS_LOGROWS = 28
_FELT_HEX_LEN = 64
_BATCH_DIM = "batch_size"


class ZkUnavailableError(ImportError):
    """ezkl or onnx is not installed."""


class InsecureSRSWarning(UserWarning):
    """A locally generated SRS is in use: proofs made with it are for testing only."""


def _import_ezkl() -> Any:
    try:
        import ezkl
    except ImportError as exc:
        raise ZkUnavailableError(f"ezkl is not installed; {_INSTALL_HINT}") from exc
    return ezkl


def _import_onnx() -> Any:
    try:
        import onnx
    except ImportError as exc:
        raise ZkUnavailableError(f"onnx is not installed; {_INSTALL_HINT}") from exc
    return onnx


# ----------------------------------------------------------------------------------------------
# ONNX graph builders
# ----------------------------------------------------------------------------------------------


def _check_opset(opset: int) -> None:
    if not isinstance(opset, int) or not _MIN_OPSET <= opset <= _MAX_OPSET:
        raise ValueError(f"opset must be an int in [{_MIN_OPSET}, {_MAX_OPSET}], got {opset!r}")


def _check_positive_int(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def quality_graph(n_features: int, bound: float, *, opset: int = DEFAULT_OPSET) -> onnx.ModelProto:
    """Build the quality-predicate graph.

    Input ``data`` has shape ``(batch_size, n_features + 1)``: features, then a label column.
    Outputs (each of shape ``(1, 1)``): ``label_sum``, the sum of the labels, and ``valid_rows``,
    the number of rows whose features all lie in ``[-bound, bound]`` and whose (quantized) label
    is exactly 0 or 1. Sums rather than means: ezkl 23 turns a mean over ``n`` rows into a
    product with ``1/n`` rounded at the parameter scale (``1/12`` became ``11/128``), while sums
    are exact; the verifier divides by the public row count (:func:`quality_stats`).

    Args:
        n_features: Number of feature columns (the label column comes after them).
        bound: Positive bound on the absolute value of a valid feature.
        opset: ONNX opset, 13 to 17.

    Returns:
        The checked ONNX model.

    Raises:
        ValueError: On a non-positive ``n_features`` or ``bound``, or an unsupported opset.
    """
    _check_positive_int("n_features", n_features)
    if not (isinstance(bound, int | float | np.floating) and math.isfinite(bound) and bound > 0):
        raise ValueError(f"bound must be a positive finite number, got {bound!r}")
    _check_opset(opset)
    onnx = _import_onnx()
    from onnx import TensorProto, helper, numpy_helper

    n_features = int(n_features)
    inits = [
        numpy_helper.from_array(np.arange(n_features, dtype=np.int64), "feature_idx"),
        numpy_helper.from_array(np.array([n_features], dtype=np.int64), "label_idx"),
        numpy_helper.from_array(np.array(bound, dtype=np.float32), "bound"),
        numpy_helper.from_array(np.array(1.0, dtype=np.float32), "one"),
        numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero"),
    ]
    float_ = TensorProto.FLOAT
    nodes = [
        helper.make_node("Gather", ["data", "feature_idx"], ["features"], axis=1),
        helper.make_node("Gather", ["data", "label_idx"], ["labels"], axis=1),
        helper.make_node("ReduceSum", ["labels"], ["label_sum"], keepdims=1),
        # Feature check: |x| <= bound.
        helper.make_node("Abs", ["features"], ["abs_features"]),
        helper.make_node("LessOrEqual", ["abs_features", "bound"], ["in_bound_b"]),
        helper.make_node("Cast", ["in_bound_b"], ["in_bound"], to=float_),
        # Label check: |y * (y - 1)| <= 0, i.e. the quantized label is exactly 0 or 1. (ezkl
        # 23 gives Equal's output the scale of its inputs, so LessOrEqual is used instead.)
        helper.make_node("Sub", ["labels", "one"], ["labels_m1"]),
        helper.make_node("Mul", ["labels", "labels_m1"], ["label_poly"]),
        helper.make_node("Abs", ["label_poly"], ["abs_label_poly"]),
        helper.make_node("LessOrEqual", ["abs_label_poly", "zero"], ["binary_b"]),
        helper.make_node("Cast", ["binary_b"], ["binary"], to=float_),
        helper.make_node("Concat", ["in_bound", "binary"], ["checks"], axis=1),
        helper.make_node("ReduceMin", ["checks"], ["row_ok"], axes=[1], keepdims=1),
        helper.make_node("ReduceSum", ["row_ok"], ["valid_rows"], keepdims=1),
    ]
    graph = helper.make_graph(
        nodes,
        "quality_predicate",
        [helper.make_tensor_value_info("data", float_, [_BATCH_DIM, n_features + 1])],
        [helper.make_tensor_value_info(name, float_, [1, 1]) for name in QUALITY_OUTPUTS],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(model, full_check=True)
    return model


def _circuit_params(
    weights: Any, bias: float, n_rows: int, input_scale: int
) -> tuple[np.ndarray, float]:
    """Checked weights and bias of a circuit with a fixed linear model on ``n_rows`` rows."""
    w, b = _logistic_params(weights, bias)
    _check_positive_int("n_rows", n_rows)
    _check_scale(input_scale)
    limit = _max_abs_value(int(input_scale), w.size)
    if max(np.abs(w).max(), abs(b)) > limit:
        raise ValueError(f"weights and bias must satisfy |v| <= {limit:g}")
    return w, b


def _logistic_params(weights: Any, bias: float) -> tuple[np.ndarray, float]:
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim == 2 and w.shape[1] == 1:
        w = w[:, 0]
    if w.ndim != 1 or w.size == 0:
        raise ValueError(f"weights must be a non-empty vector (or column), got shape {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError("weights must be finite")
    if not (isinstance(bias, int | float | np.number) and math.isfinite(float(bias))):
        raise ValueError(f"bias must be a finite number, got {bias!r}")
    return w, float(bias)


def logistic_graph(weights: Any, bias: float, *, opset: int = DEFAULT_OPSET) -> onnx.ModelProto:
    """Build the logistic-regression logit graph ``logits = x @ w + b``.

    Input ``x`` has shape ``(batch_size, n_features)``; output ``logits`` has shape
    ``(batch_size, 1)``. The weights are graph initializers (``"fixed"`` in the circuit).

    Args:
        weights: Weight vector of shape ``(n_features,)`` or ``(n_features, 1)``.
        bias: Intercept.
        opset: ONNX opset, 13 to 17.

    Returns:
        The checked ONNX model.

    Raises:
        ValueError: On malformed or non-finite parameters or an unsupported opset.
    """
    w, b = _logistic_params(weights, bias)
    _check_opset(opset)
    onnx = _import_onnx()
    from onnx import TensorProto, helper, numpy_helper

    inits = [
        numpy_helper.from_array(w.reshape(-1, 1).astype(np.float32), "w"),
        numpy_helper.from_array(np.array([b], dtype=np.float32), "b"),
    ]
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "w", "b"], [LOGITS_OUTPUT])],
        "logistic_regression",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [_BATCH_DIM, w.size])],
        [helper.make_tensor_value_info(LOGITS_OUTPUT, TensorProto.FLOAT, [_BATCH_DIM, 1])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(model, full_check=True)
    return model


def agreement_graph(weights: Any, bias: float, *, opset: int = DEFAULT_OPSET) -> onnx.ModelProto:
    """Build the reference-agreement graph: rows whose label a public reference model predicts.

    Input ``data`` has shape ``(batch_size, n_features + 1)``: features, then a 0/1 label.
    Output ``agree_rows`` (shape ``(1, 1)``) counts the rows whose label equals the reference
    prediction ``[x @ w + b > 0]``. Flipping labels moves that count toward
    ``rows - agree_rows``, so a verifier that requires a share of agreement above a threshold
    detects label poisoning with a power that grows with the flipped share (the weights are
    fixed in the circuit, so its verifying key names the reference model).

    Args:
        weights: Reference weight vector of shape ``(n_features,)`` or ``(n_features, 1)``.
        bias: Reference intercept.
        opset: ONNX opset, 13 to 17.

    Returns:
        The checked ONNX model.

    Raises:
        ValueError: On malformed or non-finite parameters or an unsupported opset.
    """
    w, b = _logistic_params(weights, bias)
    _check_opset(opset)
    onnx = _import_onnx()
    from onnx import TensorProto, helper, numpy_helper

    n_features = w.size
    float_ = TensorProto.FLOAT
    inits = [
        numpy_helper.from_array(np.arange(n_features, dtype=np.int64), "feature_idx"),
        numpy_helper.from_array(np.array([n_features], dtype=np.int64), "label_idx"),
        numpy_helper.from_array(w.reshape(-1, 1).astype(np.float32), "w"),
        numpy_helper.from_array(np.array([b], dtype=np.float32), "b"),
        numpy_helper.from_array(np.array(0.0, dtype=np.float32), "zero"),
        numpy_helper.from_array(np.array(1.0, dtype=np.float32), "one"),
    ]
    nodes = [
        helper.make_node("Gather", ["data", "feature_idx"], ["features"], axis=1),
        helper.make_node("Gather", ["data", "label_idx"], ["labels"], axis=1),
        helper.make_node("Gemm", ["features", "w", "b"], ["logits"]),
        # prediction [logit > 0] as 1 - [logit <= 0] (LessOrEqual, as in quality_graph)
        helper.make_node("LessOrEqual", ["logits", "zero"], ["not_positive_b"]),
        helper.make_node("Cast", ["not_positive_b"], ["not_positive"], to=float_),
        helper.make_node("Sub", ["one", "not_positive"], ["predicted"]),
        # a 0/1 label agrees when |predicted - label| is 0
        helper.make_node("Sub", ["predicted", "labels"], ["gap"]),
        helper.make_node("Abs", ["gap"], ["abs_gap"]),
        helper.make_node("Sub", ["one", "abs_gap"], ["agrees"]),
        helper.make_node("ReduceSum", ["agrees"], [AGREEMENT_OUTPUT], keepdims=1),
    ]
    graph = helper.make_graph(
        nodes,
        "reference_agreement",
        [helper.make_tensor_value_info("data", float_, [_BATCH_DIM, n_features + 1])],
        [helper.make_tensor_value_info(AGREEMENT_OUTPUT, float_, [1, 1])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(model, full_check=True)
    return model


# ----------------------------------------------------------------------------------------------
# SRS
# ----------------------------------------------------------------------------------------------


def _check_logrows(logrows: int) -> None:
    if isinstance(logrows, bool) or not isinstance(logrows, int | np.integer):
        raise ValueError(f"logrows must be an int, got {logrows!r}")
    if not 1 <= logrows <= _MAX_SRS_LOGROWS:
        raise ValueError(f"logrows must be in [1, {_MAX_SRS_LOGROWS}], got {logrows}")


def srs_logrows(path: str | os.PathLike[str]) -> int:
    """Read the ``logrows`` (k) of a KZG SRS file (Halo2 format: k as a little-endian u32 first).

    Args:
        path: SRS file.

    Returns:
        The number of rows the SRS supports, as ``log2``.

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: If the header is not a plausible SRS header.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"SRS file not found: {p}")
    with p.open("rb") as fh:
        header = fh.read(4)
    k = int.from_bytes(header, "little") if len(header) == 4 else 0
    if not 1 <= k <= _MAX_SRS_LOGROWS:
        raise ValueError(f"{p} does not look like a KZG SRS file (header k={k})")
    return k


def srs_path(
    logrows: int,
    directory: str | os.PathLike[str],
    user_srs: str | os.PathLike[str] | None = None,
) -> Path:
    """Return the SRS to use for a circuit of ``2**logrows`` rows.

    A user-supplied SRS (for instance from a public ceremony) is returned as given, after checking
    that it supports at least ``logrows``; ezkl downsizes a larger SRS itself. Without one, an SRS
    is generated with ``ezkl.gen_srs`` once per ``logrows`` and cached in ``directory``. A
    generated SRS is for TESTING ONLY: its secret was sampled locally, so whoever generated it
    can forge proofs. Its use raises an :class:`InsecureSRSWarning` and logs a warning.

    Args:
        logrows: ``log2`` of the circuit's row count.
        directory: Cache directory for generated SRS files.
        user_srs: Optional SRS file to use instead.

    Returns:
        Path of the SRS file: ``Path(user_srs)`` when given, else the cached test-only file.

    Raises:
        FileNotFoundError: If ``user_srs`` does not exist.
        ValueError: On an invalid ``logrows`` or an SRS too small for it.
    """
    _check_logrows(logrows)
    logrows = int(logrows)
    if user_srs is not None:
        path = Path(user_srs)
        k = srs_logrows(path)
        if k < logrows:
            raise ValueError(f"SRS {path} supports logrows {k} < required {logrows}")
        logger.info("using user-supplied SRS %s (k=%d) for logrows %d", path, k, logrows)
        return path
    cache = Path(directory)
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"kzg{logrows}-test-only.srs"
    message = (
        f"using a locally generated KZG SRS (logrows {logrows}, {path}): FOR TESTING ONLY, "
        "whoever generated it can forge proofs; pass a ceremony SRS as user_srs in production"
    )
    if not path.is_file():
        ezkl = _import_ezkl()
        start = time.perf_counter()
        fd, tmp = tempfile.mkstemp(dir=cache, prefix=path.name, suffix=".tmp")
        os.close(fd)
        try:
            ezkl.gen_srs(tmp, logrows)
            os.chmod(tmp, 0o644)  # public parameters (mkstemp creates 0600)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        logger.info("generated test-only SRS k=%d in %.1f s", logrows, time.perf_counter() - start)
    logger.warning(message)
    warnings.warn(message, InsecureSRSWarning, stacklevel=2)
    return path


# ----------------------------------------------------------------------------------------------
# Quantization and commitments
# ----------------------------------------------------------------------------------------------


def _check_scale(scale: int) -> None:
    if isinstance(scale, bool) or not isinstance(scale, int | np.integer) or not 0 <= scale <= 20:
        raise ValueError(f"input_scale must be an int in [0, 20], got {scale!r}")


def _max_abs_value(scale: int, n_terms: int) -> float:
    """Largest input magnitude whose products (scale ``2 * scale``) and sums fit the range."""
    headroom = _DECOMP_BITS - 2 - 2 * scale - math.ceil(math.log2(n_terms + 1))
    return float(2.0**headroom)


def _as_matrix(data: Any, name: str = "data") -> np.ndarray:
    arr = np.asarray(data, dtype=np.float64)
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    return arr


def _flat_f32(arr: np.ndarray) -> list[float]:
    """Flatten as float32 values (the graphs' input type), returned as Python floats."""
    return [float(v) for v in np.asarray(arr, dtype=np.float32).ravel()]


def poseidon_commitment(data: Any, input_scale: int = DEFAULT_INPUT_SCALE) -> str:
    """Poseidon commitment of a dataset, computed natively exactly as the circuit does.

    The values are cast to float32, quantized to field elements at ``input_scale`` (row-major)
    and hashed with ``ezkl.poseidon_hash``; the result equals the first public instance of a
    proof over ``data``.

    Args:
        data: 2-D array of finite values.
        input_scale: The circuit's input scale (:attr:`Circuit.input_scale`).

    Returns:
        The hash as ezkl's 64-character little-endian hex field element.

    Raises:
        ValueError: On malformed data or scale.
    """
    arr = _as_matrix(data)
    _check_scale(input_scale)
    ezkl = _import_ezkl()
    felts = [ezkl.float_to_felt(v, int(input_scale), ezkl.PyInputType.F32) for v in _flat_f32(arr)]
    digest = ezkl.poseidon_hash(felts)
    if len(digest) != 1:
        raise RuntimeError(f"expected one Poseidon digest, ezkl returned {len(digest)}")
    return str(digest[0])


def _check_felt(value: str, name: str) -> str:
    text = str(value).lower().removeprefix("0x")
    if len(text) != _FELT_HEX_LEN or any(c not in "0123456789abcdef" for c in text):
        raise ValueError(f"{name} must be a 64-hex-digit field element, got {value!r}")
    return text


# ----------------------------------------------------------------------------------------------
# Circuit, setup, prove, verify
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetupResult:
    """Outcome of :func:`setup`.

    Attributes:
        vk_path: Verifying key (kept in the circuit's directory).
        srs_path: SRS used; verification needs the same file.
        logrows: ``log2`` of the circuit's row count.
        seconds: Wall time of key generation.
        vk_nbytes: Verifying-key size.
        pk_nbytes: Proving-key size (the key itself lives in a temporary directory).
        test_only_srs: Whether the SRS was generated locally (insecure).
    """

    vk_path: Path
    srs_path: Path
    logrows: int
    seconds: float
    vk_nbytes: int
    pk_nbytes: int
    test_only_srs: bool


class Circuit:
    """An ezkl circuit compiled from an ONNX graph into a work directory.

    The graph's only input must have a symbolic first dimension ``batch_size`` (fixed here to
    ``batch_size``). Visibility is fixed: input ``"hashed"`` (Poseidon commitment public),
    outputs ``"public"``, parameters ``"fixed"``. Construction runs ``gen_settings``,
    ``calibrate_settings`` (target ``"resources"``, scale ``input_scale``, at most
    ``max_logrows``) and ``compile_circuit``.

    Args:
        model: The ONNX model.
        directory: Work directory (created if missing) for the graph, settings, compiled
            circuit and verifying key.
        batch_size: Number of rows the circuit proves over.
        calibration_data: Representative data of shape ``(batch_size, n_columns)``.
        name: File-name stem inside ``directory``.
        input_scale: Fixed-point scale of inputs and parameters.
        max_logrows: Upper bound on ``logrows``. ezkl 23's calibration may return a larger
            ``logrows`` than asked for (11 for a bound of 10); the circuit then raises.

    Raises:
        ValueError: On invalid arguments.
        RuntimeError: If ezkl cannot calibrate or compile within ``max_logrows``.
    """

    def __init__(
        self,
        model: onnx.ModelProto,
        directory: str | os.PathLike[str],
        *,
        batch_size: int,
        calibration_data: Any,
        name: str = "circuit",
        input_scale: int = DEFAULT_INPUT_SCALE,
        max_logrows: int = DEFAULT_MAX_LOGROWS,
    ) -> None:
        _check_positive_int("batch_size", batch_size)
        _check_scale(input_scale)
        _check_logrows(max_logrows)
        if not name or not name.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"name must be alphanumeric (with - or _), got {name!r}")
        onnx = _import_onnx()
        ezkl = _import_ezkl()
        graph = model.graph
        if len(graph.input) != 1:
            raise ValueError(f"the graph must have exactly one input, got {len(graph.input)}")
        dims = graph.input[0].type.tensor_type.shape.dim
        if len(dims) != 2 or dims[0].dim_param != _BATCH_DIM or dims[1].dim_value < 1:
            raise ValueError(f"the graph input must have shape ({_BATCH_DIM!r}, n_columns)")
        self.name = name
        self.batch_size = int(batch_size)
        self.n_columns = int(dims[1].dim_value)
        self.input_scale = int(input_scale)
        self.max_logrows = int(max_logrows)
        self.output_names = tuple(o.name for o in graph.output)
        calib = _as_matrix(calibration_data, "calibration_data")
        self._check_shape(calib, "calibration_data")

        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.onnx_path = self.directory / f"{name}.onnx"
        self.settings_path = self.directory / f"{name}.settings.json"
        self.compiled_path = self.directory / f"{name}.ezkl"
        self.vk_path = self.directory / f"{name}.vk"
        calib_path = self.directory / f"{name}.calibration.json"
        onnx.save(model, str(self.onnx_path))
        calib_path.write_text(json.dumps({"input_data": [_flat_f32(calib)]}))

        run_args = ezkl.PyRunArgs()
        run_args.input_visibility = "hashed"
        run_args.output_visibility = "public"
        run_args.param_visibility = "fixed"
        run_args.input_scale = self.input_scale
        run_args.param_scale = self.input_scale
        run_args.decomp_base = _DECOMP_BASE
        run_args.decomp_legs = _DECOMP_LEGS
        run_args.check_mode = "safe"
        run_args.variables = [(_BATCH_DIM, self.batch_size)]
        start = time.perf_counter()
        try:
            ok = ezkl.gen_settings(str(self.onnx_path), str(self.settings_path), run_args)
            ok = ok and ezkl.calibrate_settings(
                str(calib_path),
                str(self.onnx_path),
                str(self.settings_path),
                "resources",
                scales=[self.input_scale],
                max_logrows=self.max_logrows,
            )
            ok = ok and ezkl.compile_circuit(
                str(self.onnx_path), str(self.compiled_path), str(self.settings_path)
            )
        except RuntimeError as exc:
            raise RuntimeError(
                f"ezkl could not build circuit {name!r} within max_logrows={max_logrows}: {exc}"
            ) from exc
        if not ok:
            raise RuntimeError(f"ezkl could not build circuit {name!r}")
        self.settings: dict[str, Any] = json.loads(self.settings_path.read_text())
        if self.logrows > self.max_logrows:
            raise RuntimeError(f"calibration chose logrows {self.logrows} > {self.max_logrows}")
        shapes = [tuple(s) for s in self.settings["model_instance_shapes"]]
        if len(shapes) != len(self.output_names):
            raise RuntimeError(
                f"ezkl reports {len(shapes)} outputs, the graph has {len(self.output_names)}"
            )
        self.output_shapes: tuple[tuple[int, ...], ...] = tuple(shapes)
        self.output_scales: tuple[int, ...] = tuple(self.settings["model_output_scales"])
        self.setup_result: SetupResult | None = None
        self._pk_dir: Path | None = None
        self._pk_path: Path | None = None
        self._pk_finalizer: weakref.finalize | None = None
        logger.info(
            "compiled circuit %s: logrows %d, %d rows, %.2f s",
            name,
            self.logrows,
            self.settings["num_rows"],
            time.perf_counter() - start,
        )

    @property
    def logrows(self) -> int:
        """``log2`` of the circuit's row count, as chosen by calibration."""
        return int(self.settings["run_args"]["logrows"])

    @property
    def input_shape(self) -> tuple[int, int]:
        """Shape of the dataset the circuit proves over."""
        return (self.batch_size, self.n_columns)

    @property
    def outputs(self) -> dict[str, tuple[int, ...]]:
        """Public outputs by name, with their shapes, in instance order."""
        return dict(zip(self.output_names, self.output_shapes, strict=True))

    @property
    def max_abs_input(self) -> float:
        """Largest input magnitude the circuit's decomposition range safely covers."""
        return _max_abs_value(self.input_scale, self.n_columns)

    @property
    def proving_key_path(self) -> Path | None:
        """The proving key, while it exists (in a temporary directory)."""
        return self._pk_path if self._pk_path is not None and self._pk_path.exists() else None

    def commitment(self, data: Any) -> str:
        """Poseidon commitment of ``data`` as this circuit computes it.

        Args:
            data: Dataset of shape :attr:`input_shape`.

        Returns:
            The hash as a hex field element (see :func:`poseidon_commitment`).
        """
        arr = _as_matrix(data)
        self._check_shape(arr, "data")
        return poseidon_commitment(arr, self.input_scale)

    def _check_shape(self, arr: np.ndarray, name: str) -> None:
        if arr.shape != self.input_shape:
            raise ValueError(f"{name} must have shape {self.input_shape}, got {arr.shape}")

    def _check_data(self, data: Any) -> np.ndarray:
        arr = _as_matrix(data)
        self._check_shape(arr, "data")
        limit = self.max_abs_input
        if np.abs(arr).max() > limit:
            raise ValueError(f"data values must satisfy |v| <= {limit:g} for this circuit")
        return arr

    def _new_pk_dir(self) -> Path:
        if self._pk_dir is None:
            self._pk_dir = Path(tempfile.mkdtemp(prefix=f"intentlab-zk-{self.name}-pk-"))
            self._pk_finalizer = weakref.finalize(
                self, shutil.rmtree, str(self._pk_dir), ignore_errors=True
            )
        return self._pk_dir

    def discard_proving_key(self) -> None:
        """Delete the proving key (a later :func:`prove` regenerates it)."""
        if self._pk_path is not None and self._pk_path.exists():
            self._pk_path.unlink()
        self._pk_path = None


def setup(
    circuit: Circuit,
    *,
    srs: str | os.PathLike[str] | None = None,
    srs_dir: str | os.PathLike[str] | None = None,
) -> SetupResult:
    """Generate the circuit's keys: verifying key in its directory, proving key in a temp dir.

    Args:
        circuit: The compiled circuit.
        srs: User-supplied SRS file, used as given (see :func:`srs_path`).
        srs_dir: Cache directory for a generated test-only SRS (default: the circuit's
            directory).

    Returns:
        The setup result, also stored as ``circuit.setup_result``.

    Raises:
        ValueError: If the SRS is unusable.
    """
    srs_file = srs_path(circuit.logrows, srs_dir or circuit.directory, user_srs=srs)
    ezkl = _import_ezkl()
    circuit.discard_proving_key()
    pk_path = circuit._new_pk_dir() / f"{circuit.name}.pk"
    start = time.perf_counter()
    ezkl.setup(str(circuit.compiled_path), str(circuit.vk_path), str(pk_path), str(srs_file))
    seconds = time.perf_counter() - start
    circuit._pk_path = pk_path
    result = SetupResult(
        vk_path=circuit.vk_path,
        srs_path=srs_file,
        logrows=circuit.logrows,
        seconds=seconds,
        vk_nbytes=circuit.vk_path.stat().st_size,
        pk_nbytes=pk_path.stat().st_size,
        test_only_srs=srs is None,
    )
    circuit.setup_result = result
    logger.info(
        "setup %s: logrows %d, %.2f s, vk %d B, pk %d B%s",
        circuit.name,
        result.logrows,
        seconds,
        result.vk_nbytes,
        result.pk_nbytes,
        " (TEST-ONLY SRS)" if result.test_only_srs else "",
    )
    return result


def _require_setup(circuit: Circuit) -> SetupResult:
    if circuit.setup_result is None:
        raise ValueError(f"circuit {circuit.name!r} has no keys: call setup(circuit) first")
    return circuit.setup_result


def _regenerate_proving_key(circuit: Circuit, keys: SetupResult, ezkl: Any) -> Path:
    """Re-run key generation (deterministic for a given SRS) and check the verifying key."""
    pk_path = circuit._new_pk_dir() / f"{circuit.name}.pk"
    vk_tmp = circuit._new_pk_dir() / f"{circuit.name}.vk.check"
    start = time.perf_counter()
    ezkl.setup(str(circuit.compiled_path), str(vk_tmp), str(pk_path), str(keys.srs_path))
    same = vk_tmp.read_bytes() == keys.vk_path.read_bytes()
    vk_tmp.unlink()
    if not same:
        pk_path.unlink()
        raise RuntimeError("regenerated keys do not match the verifying key: run setup again")
    logger.info("regenerated proving key in %.2f s", time.perf_counter() - start)
    circuit._pk_path = pk_path
    return pk_path


@dataclass(frozen=True, eq=False)
class Proof:
    """A proof with its public instances.

    Attributes:
        circuit: Name of the circuit that produced it.
        proof_bytes: The Halo2 proof transcript.
        commitment: Poseidon commitment of the private dataset (first public instance).
        output_felts: The public outputs as field elements, flattened in instance order.
        outputs: The public outputs decoded to floats, by name.
        prove_seconds: Wall time of proving (witness generation included).
        json_nbytes: Size of the proof file ezkl wrote (JSON with instances and proof).
    """

    circuit: str
    proof_bytes: bytes
    commitment: str
    output_felts: tuple[str, ...]
    outputs: dict[str, np.ndarray]
    prove_seconds: float
    json_nbytes: int

    @property
    def nbytes(self) -> int:
        """Size of the proof transcript in bytes."""
        return len(self.proof_bytes)

    def to_json(self) -> dict[str, Any]:
        """The proof in ezkl's JSON proof format (the fields ``ezkl.verify`` reads)."""
        return _proof_json(self.proof_bytes, [self.commitment, *self.output_felts])


def _proof_json(proof_bytes: bytes, instances: Sequence[str]) -> dict[str, Any]:
    return {
        "instances": [list(instances)],
        "proof": list(proof_bytes),
        "protocol": None,
        "split": None,
    }


def _decode_outputs(circuit: Circuit, felts: Sequence[str], ezkl: Any) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    pos = 0
    for name, shape, scale in zip(
        circuit.output_names, circuit.output_shapes, circuit.output_scales, strict=True
    ):
        size = math.prod(shape)
        values = [ezkl.felt_to_float(f, scale) for f in felts[pos : pos + size]]
        out[name] = np.asarray(values, dtype=np.float64).reshape(shape)
        pos += size
    return out


def _n_output_instances(circuit: Circuit) -> int:
    return sum(math.prod(shape) for shape in circuit.output_shapes)


def prove(circuit: Circuit, data: Any, *, keep_proving_key: bool = False) -> Proof:
    """Prove the circuit's outputs on a private dataset bound to its Poseidon commitment.

    Args:
        circuit: A circuit on which :func:`setup` ran.
        data: The private dataset, of shape ``circuit.input_shape``.
        keep_proving_key: Keep the (large) proving key for further proofs; by default it is
            deleted after proving and regenerated by the next call.

    Returns:
        The proof with its public commitment and decoded outputs.

    Raises:
        ValueError: On malformed data or a circuit without keys.
        RuntimeError: If ezkl fails to produce the proof.
    """
    keys = _require_setup(circuit)
    arr = circuit._check_data(data)
    ezkl = _import_ezkl()
    pk_path = circuit._pk_path
    try:
        if pk_path is None or not pk_path.exists():
            pk_path = _regenerate_proving_key(circuit, keys, ezkl)
        with tempfile.TemporaryDirectory(prefix=f"intentlab-zk-{circuit.name}-") as tmp:
            input_path = Path(tmp) / "input.json"
            witness_path = Path(tmp) / "witness.json"
            proof_path = Path(tmp) / "proof.json"
            input_path.write_text(json.dumps({"input_data": [_flat_f32(arr)]}))
            start = time.perf_counter()
            ezkl.gen_witness(
                str(input_path),
                str(circuit.compiled_path),
                str(witness_path),
                None,
                str(keys.srs_path),
            )
            ezkl.prove(
                str(witness_path),
                str(circuit.compiled_path),
                str(pk_path),
                str(proof_path),
                str(keys.srs_path),
            )
            seconds = time.perf_counter() - start
            raw = json.loads(proof_path.read_text())
            json_nbytes = proof_path.stat().st_size
    finally:
        if not keep_proving_key:
            circuit.discard_proving_key()
    instances = raw["instances"]
    if len(instances) != 1 or len(instances[0]) != 1 + _n_output_instances(circuit):
        raise RuntimeError(f"unexpected public instances layout from ezkl: {instances!r}")
    felts = [str(f) for f in instances[0]]
    proof_field = raw["proof"]
    if isinstance(proof_field, str):
        proof_bytes = bytes.fromhex(proof_field.removeprefix("0x"))
    else:
        proof_bytes = bytes(proof_field)
    proof = Proof(
        circuit=circuit.name,
        proof_bytes=proof_bytes,
        commitment=felts[0],
        output_felts=tuple(felts[1:]),
        outputs=_decode_outputs(circuit, felts[1:], ezkl),
        prove_seconds=seconds,
        json_nbytes=json_nbytes,
    )
    logger.info(
        "proved %s in %.2f s: proof %d B (JSON file %d B)",
        circuit.name,
        seconds,
        proof.nbytes,
        json_nbytes,
    )
    return proof


def _claimed_felts(
    circuit: Circuit, outputs: Mapping[str, Any] | Sequence[Any], ezkl: Any
) -> list[str]:
    if isinstance(outputs, Mapping):
        missing = set(circuit.output_names) - set(outputs)
        extra = set(outputs) - set(circuit.output_names)
        if missing or extra:
            raise ValueError(
                f"claimed outputs must name exactly {circuit.output_names}; "
                f"missing {sorted(missing)}, unknown {sorted(extra)}"
            )
        values = [outputs[name] for name in circuit.output_names]
    else:
        values = list(outputs)
        if len(values) != len(circuit.output_names):
            raise ValueError(f"expected {len(circuit.output_names)} claimed outputs")
    felts: list[str] = []
    for name, shape, scale, value in zip(
        circuit.output_names, circuit.output_shapes, circuit.output_scales, values, strict=True
    ):
        arr = np.asarray(value, dtype=np.float64)
        if arr.size != math.prod(shape):
            raise ValueError(f"claimed output {name!r} must have shape {shape}, got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"claimed output {name!r} must be finite")
        felts.extend(ezkl.float_to_felt(float(v), scale) for v in arr.ravel())
    return felts


def _is_verification_failure(exc: BaseException) -> bool:
    # ezkl raises RuntimeError on a failed check; a Rust panic surfaces as pyo3's PanicException,
    # which derives from BaseException.
    return isinstance(exc, RuntimeError | ValueError) or type(exc).__name__ == "PanicException"


def _ezkl_rejection(
    ezkl: Any,
    circuit: Circuit,
    keys: SetupResult,
    path: Path,
    proof_bytes: bytes,
    instances: Sequence[str],
) -> str | None:
    """Write the proof file of ``proof_bytes`` and ``instances`` to ``path`` and verify it.

    Returns:
        ``None`` if ``ezkl.verify`` accepts the proof, else its reason for rejecting it.
    """
    path.write_text(json.dumps(_proof_json(proof_bytes, instances)))
    try:
        ok = ezkl.verify(
            str(path), str(circuit.settings_path), str(keys.vk_path), str(keys.srs_path)
        )
    except BaseException as exc:
        if not _is_verification_failure(exc):
            raise
        return str(exc)
    return None if ok else "ezkl.verify returned False"


def verify(
    proof: Proof,
    circuit: Circuit,
    *,
    commitment: str | None = None,
    outputs: Mapping[str, Any] | Sequence[Any] | None = None,
) -> bool:
    """Check a proof against the circuit's verifying key and the verifier's public values.

    The public instances checked are the verifier's, not the prover's: ``commitment`` (the
    published dataset commitment) replaces the proof's, and ``outputs`` (claimed outputs,
    quantized at the circuit's output scales) replace the proof's outputs.

    ezkl reads from a proof only the transcript the circuit's verifying key calls for and
    ignores any bytes after it, so the proof must also fail without its last byte: it is
    exactly as long as that transcript. The reason for a rejection is logged (INFO).

    Args:
        proof: The proof.
        circuit: The circuit, with the verifying key and SRS of its :func:`setup`.
        commitment: Expected Poseidon commitment (default: the one carried by the proof).
        outputs: Claimed outputs, by name or in order (default: those carried by the proof).

    Returns:
        True if the proof verifies for these public values, False otherwise (tampered proof,
        bytes appended to the proof, another commitment, a wrong claimed output).

    Raises:
        ValueError: On malformed arguments or a circuit without keys.
    """
    keys = _require_setup(circuit)
    ezkl = _import_ezkl()
    expected_commitment = _check_felt(
        proof.commitment if commitment is None else commitment, "commitment"
    )
    felts = list(proof.output_felts) if outputs is None else _claimed_felts(circuit, outputs, ezkl)
    if len(felts) != _n_output_instances(circuit):
        logger.info("proof carries %d outputs, circuit has %d", len(felts), len(circuit.outputs))
        return False
    instances = [expected_commitment, *felts]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"intentlab-zk-{circuit.name}-verify-") as tmp:
        path = Path(tmp) / "proof.json"
        rejection = _ezkl_rejection(ezkl, circuit, keys, path, proof.proof_bytes, instances)
        if rejection is None:
            shorter = _ezkl_rejection(ezkl, circuit, keys, path, proof.proof_bytes[:-1], instances)
            if shorter is None:  # ezkl did not read the last byte: bytes follow the transcript
                rejection = (
                    f"malformed proof: it verifies without its last byte, so not all of its "
                    f"{proof.nbytes} bytes belong to the proof transcript"
                )
    if rejection is not None:
        logger.info("verification of %s failed: %s", circuit.name, rejection)
        return False
    logger.info("verified %s in %.3f s", circuit.name, time.perf_counter() - start)
    return True


# ----------------------------------------------------------------------------------------------
# The two circuits
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QualityStats:
    """Quality statistics of a labeled dataset.

    Attributes:
        label_mean: Mean of the label column (the share of positive labels).
        valid_share: Share of rows with all features in ``[-bound, bound]`` and a 0/1 label.
    """

    label_mean: float
    valid_share: float


def quality_reference(data: Any, bound: float) -> QualityStats:
    """Compute the quality statistics in floating point with numpy (the circuit's definition).

    Args:
        data: Array of shape ``(rows, features + 1)``, the label last.
        bound: Feature bound.

    Returns:
        The statistics.

    Raises:
        ValueError: On malformed data.
    """
    arr = _as_matrix(data)
    if arr.shape[1] < 2:
        raise ValueError("data needs at least one feature column and the label column")
    features, labels = arr[:, :-1], arr[:, -1]
    ok = np.all(np.abs(features) <= bound, axis=1) & ((labels == 0) | (labels == 1))
    return QualityStats(label_mean=float(labels.mean()), valid_share=float(ok.mean()))


def quality_circuit(
    directory: str | os.PathLike[str],
    n_rows: int,
    n_features: int,
    bound: float,
    *,
    calibration_data: Any | None = None,
    name: str = "quality",
    input_scale: int = DEFAULT_INPUT_SCALE,
    max_logrows: int = DEFAULT_MAX_LOGROWS,
    seed: int = 0,
) -> Circuit:
    """Compile the quality-predicate circuit (see :func:`quality_graph`).

    Args:
        directory: Work directory.
        n_rows: Rows of the dataset.
        n_features: Feature columns (the label column comes after them).
        bound: Feature bound.
        calibration_data: Representative data; default: random features in
            ``[-2 bound, 2 bound]`` and random 0/1 labels.
        name: File-name stem.
        input_scale: Fixed-point scale.
        max_logrows: Upper bound on ``logrows``.
        seed: Seed of the default calibration data.

    Returns:
        The compiled circuit.
    """
    model = quality_graph(n_features, bound)
    _check_positive_int("n_rows", n_rows)
    if calibration_data is None:
        rng = np.random.default_rng(seed)
        features = rng.uniform(-2 * bound, 2 * bound, size=(n_rows, n_features))
        calibration_data = np.c_[features, rng.integers(0, 2, size=n_rows)]
    return Circuit(
        model,
        directory,
        batch_size=n_rows,
        calibration_data=calibration_data,
        name=name,
        input_scale=input_scale,
        max_logrows=max_logrows,
    )


def quality_stats(proof: Proof, n_rows: int) -> QualityStats:
    """Decode the public quality statistics carried by a quality-circuit proof.

    Args:
        proof: A proof from a :func:`quality_circuit`.
        n_rows: The circuit's (public) row count, ``circuit.batch_size``.

    Returns:
        The statistics (trust them only after :func:`verify` or :func:`check_quality`).

    Raises:
        ValueError: If the proof does not carry the quality outputs.
    """
    _check_positive_int("n_rows", n_rows)
    if set(proof.outputs) != set(QUALITY_OUTPUTS):
        raise ValueError(f"not a quality proof: outputs {sorted(proof.outputs)}")
    label_sum, valid_rows = (float(proof.outputs[name].ravel()[0]) for name in QUALITY_OUTPUTS)
    return QualityStats(label_mean=label_sum / n_rows, valid_share=valid_rows / n_rows)


def check_quality(
    proof: Proof,
    circuit: Circuit,
    *,
    commitment: str,
    min_valid_share: float = 1.0,
    label_mean_range: tuple[float, float] = (0.0, 1.0),
) -> bool:
    """Verifier's full check: the proof holds for ``commitment`` and its statistics pass.

    Args:
        proof: The prover's proof.
        circuit: The quality circuit (verifying key and SRS).
        commitment: The published Poseidon commitment of the dataset.
        min_valid_share: Smallest acceptable share of valid rows.
        label_mean_range: Acceptable ``(low, high)`` range of the mean label.

    Returns:
        True if the proof verifies and the statistics meet the thresholds.

    Raises:
        ValueError: On malformed thresholds.
    """
    low, high = label_mean_range
    if not (0.0 <= low <= high <= 1.0):
        raise ValueError(f"label_mean_range must satisfy 0 <= low <= high <= 1, got {low, high}")
    if not 0.0 <= min_valid_share <= 1.0:
        raise ValueError(f"min_valid_share must be in [0, 1], got {min_valid_share}")
    if not verify(proof, circuit, commitment=commitment):
        return False
    stats = quality_stats(proof, circuit.batch_size)
    return stats.valid_share >= min_valid_share and low <= stats.label_mean <= high


def logistic_circuit(
    directory: str | os.PathLike[str],
    weights: Any,
    bias: float,
    n_rows: int,
    *,
    calibration_data: Any | None = None,
    name: str = "logistic",
    input_scale: int = DEFAULT_INPUT_SCALE,
    max_logrows: int = DEFAULT_MAX_LOGROWS,
    seed: int = 0,
) -> Circuit:
    """Compile the logistic-regression evaluation circuit (see :func:`logistic_graph`).

    Args:
        directory: Work directory.
        weights: Weight vector (fixed in the circuit and its verifying key).
        bias: Intercept.
        n_rows: Rows of the validation set.
        calibration_data: Representative features; default: standard normal.
        name: File-name stem.
        input_scale: Fixed-point scale (of inputs and weights).
        max_logrows: Upper bound on ``logrows``.
        seed: Seed of the default calibration data.

    Returns:
        The compiled circuit.

    Raises:
        ValueError: On invalid arguments or weights too large for the circuit's range.
    """
    w, b = _circuit_params(weights, bias, n_rows, input_scale)
    model = logistic_graph(w, b)
    if calibration_data is None:
        calibration_data = np.random.default_rng(seed).standard_normal((n_rows, w.size))
    return Circuit(
        model,
        directory,
        batch_size=n_rows,
        calibration_data=calibration_data,
        name=name,
        input_scale=input_scale,
        max_logrows=max_logrows,
    )


def agreement_reference(data: Any, weights: Any, bias: float) -> int:
    """Rows whose label equals ``[x @ w + b > 0]``, in floating point (the circuit's definition).

    Args:
        data: Array of shape ``(rows, features + 1)``, the 0/1 label last.
        weights: Reference weights.
        bias: Reference intercept.
    """
    arr = _as_matrix(data)
    w, b = _logistic_params(weights, bias)
    if arr.shape[1] != w.size + 1:
        raise ValueError(f"data needs {w.size} features and a label, got {arr.shape[1]} columns")
    predicted = (arr[:, :-1] @ w + b > 0).astype(float)
    return int((predicted == arr[:, -1]).sum())


def agreement_circuit(
    directory: str | os.PathLike[str],
    weights: Any,
    bias: float,
    n_rows: int,
    *,
    calibration_data: Any | None = None,
    name: str = "agreement",
    input_scale: int = DEFAULT_INPUT_SCALE,
    max_logrows: int = DEFAULT_MAX_LOGROWS,
    seed: int = 0,
) -> Circuit:
    """Compile the reference-agreement circuit (see :func:`agreement_graph`).

    Arguments as :func:`logistic_circuit`, with ``weights`` and ``bias`` the reference model
    and ``calibration_data`` (default: standard normal features and random 0/1 labels) of
    shape ``(n_rows, features + 1)``.

    Returns:
        The compiled circuit.

    Raises:
        ValueError: On invalid arguments or weights too large for the circuit's range.
    """
    w, b = _circuit_params(weights, bias, n_rows, input_scale)
    model = agreement_graph(w, b)
    if calibration_data is None:
        rng = np.random.default_rng(seed)
        calibration_data = np.c_[
            rng.standard_normal((n_rows, w.size)), rng.integers(0, 2, size=n_rows)
        ]
    return Circuit(
        model,
        directory,
        batch_size=n_rows,
        calibration_data=calibration_data,
        name=name,
        input_scale=input_scale,
        max_logrows=max_logrows,
    )


def agreement_share(proof: Proof, n_rows: int) -> float:
    """The share of rows whose label the reference predicts, from an agreement proof.

    Trust it only after :func:`verify` or :func:`check_agreement`.

    Raises:
        ValueError: If the proof does not carry the agreement output.
    """
    _check_positive_int("n_rows", n_rows)
    if set(proof.outputs) != {AGREEMENT_OUTPUT}:
        raise ValueError(f"not an agreement proof: outputs {sorted(proof.outputs)}")
    return float(proof.outputs[AGREEMENT_OUTPUT].ravel()[0]) / n_rows


def check_agreement(proof: Proof, circuit: Circuit, *, commitment: str, min_share: float) -> bool:
    """Verifier's full check: the proof holds for ``commitment`` and enough labels agree.

    Args:
        proof: The prover's proof.
        circuit: The agreement circuit (verifying key and SRS).
        commitment: The published Poseidon commitment of the dataset.
        min_share: Smallest acceptable share of rows whose label the reference predicts.

    Returns:
        True if the proof verifies and the agreement share is at least ``min_share``.

    Raises:
        ValueError: On a threshold outside ``[0, 1]``.
    """
    if not 0.0 <= min_share <= 1.0:
        raise ValueError(f"min_share must be in [0, 1], got {min_share}")
    if not verify(proof, circuit, commitment=commitment):
        return False
    return agreement_share(proof, circuit.batch_size) >= min_share
