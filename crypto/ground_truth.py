"""Real jobs, measured: the ground truth the cost models are calibrated on.

A :class:`JobSpec` names a job kind, a data shape and parameters; :func:`run_job` runs it in
a fresh worker process under a wall-time and an address-space limit and returns a
:class:`Measurement` (wall seconds, peak resident memory, bytes produced, ok or the error).
A job that raises, crashes, runs out of memory or time is recorded as failed; the caller
goes on. Job kinds live in one registry, :data:`JOBS`; each is a function of the spec that
prepares the job (imports, data, keys) and returns the work itself, a function returning
the bytes it produced, or a :class:`Report` with the seconds of each of its stages; only the
work is timed. The ``pipeline`` kind runs a trade's whole pipeline, down-scaled: commit,
encrypt, train on ciphertexts, decrypt the model, and prove and verify its accuracy on the
buyer's committed held-out rows with ezkl.

Each worker gets its own scratch directory (its ``tempfile.tempdir``), which the caller
removes once the worker has ended, so a killed worker leaves no keys or proofs behind.

A worker's log (what its libraries log, ezkl's fidelity reports and timings among it, and
Python warnings) goes to the caller's log file (:func:`log_file`: Hydra's ``run.log`` in a
run, ``calibrate.log`` under ``intentlab calibrate``), appended, each line naming the job;
where the caller has none, the worker's warnings go to stderr as before.

The caller enforces the address-space limit itself: it watches the worker's peak address
space (``VmPeak``) and ends the worker as out of memory once it passes the limit; the worker
checks its own peak before it reports. The worker's ``RLIMIT_AS`` is twice the limit, only a
backstop against a burst between two looks, because a native library may not survive a
failed allocation: SEAL's memory pool (in TenSEAL) throws ``std::bad_alloc`` while it holds its
spin lock, and unwinding then spins on that lock for good, holding the GIL, so the worker can
neither report the failure nor end.

Importing this module imports no crypto library: each job imports what it needs inside the
worker.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import resource
import shutil
import signal
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from crypto.data import IndustryData


@dataclass(frozen=True)
class Report:
    """What a job's work produced, stage by stage.

    Attributes:
        bytes_produced: bytes of ciphertexts, proofs or models produced.
        stages: wall seconds of each timed stage, in order; the job's ``seconds`` is their sum.
        proof_verified: whether the verifier accepted the job's proof (``None``: no proof).
        heldout_accuracy: the share of held-out rows the proof shows the model predicts
            (``NaN``: no proof).
    """

    bytes_produced: int
    stages: dict[str, float] = field(default_factory=dict)
    proof_verified: bool | None = None
    heldout_accuracy: float = float("nan")


Work = Callable[[], int | Report]
Prepare = Callable[["JobSpec"], Work]

#: Job kinds: name -> prepare(spec) -> work() -> bytes produced (or a :class:`Report`).
JOBS: dict[str, Prepare] = {}

#: Seconds between two looks at a running worker's address space.
POLL_SECONDS = 0.02

#: What a worker reports: ``(status, seconds, peak resident MiB, bytes produced, error,
#: stage seconds, proof verified, held-out accuracy)``.
Result = tuple[str, float, float, int, str, dict[str, float], bool | None, float]


def job(kind: str) -> Callable[[Prepare], Prepare]:
    """Register a job under ``kind``: a function that prepares it and returns the work."""

    def register(fn: Prepare) -> Prepare:
        JOBS[kind] = fn
        return fn

    return register


@dataclass(frozen=True)
class JobSpec:
    """One real job.

    Attributes:
        kind: a key of :data:`JOBS`.
        rows: data rows.
        features: features per row.
        params: kind-specific parameters (e.g. ``{"params": "train", "epochs": 1}``).
        seed: seeds the job's synthetic data.
        time_limit: wall seconds before the worker is killed, ``> 0``.
        memory_limit_mb: limit on the worker's peak address space in MiB (``None``: no
            limit); a job past it fails as out of memory.
    """

    kind: str
    rows: int
    features: int
    params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    time_limit: float = 300.0
    memory_limit_mb: int | None = 8192

    def __post_init__(self) -> None:
        if self.kind not in JOBS:
            raise ValueError(f"unknown job kind {self.kind!r}; allowed: {', '.join(sorted(JOBS))}")
        if self.rows < 1 or self.features < 1:
            raise ValueError(
                f"JobSpec needs rows >= 1 and features >= 1, got {self.rows}, {self.features}"
            )
        if not self.time_limit > 0:
            raise ValueError(f"JobSpec.time_limit must be > 0, got {self.time_limit}")
        if self.memory_limit_mb is not None and self.memory_limit_mb < 64:
            raise ValueError(f"JobSpec.memory_limit_mb must be >= 64, got {self.memory_limit_mb}")


@dataclass(frozen=True)
class Measurement:
    """What running a job measured.

    Attributes:
        kind, rows, features: from the spec.
        ok: whether the job completed.
        seconds: wall seconds of the job itself (``NaN`` if it did not report).
        peak_rss_mb: the worker's peak resident memory in MiB (``NaN`` if unknown).
        bytes_produced: bytes of ciphertexts, proofs or models produced (0 on failure).
        error: why it failed (``""`` when ok).
        params: the spec's parameters.
        stages: wall seconds of each stage of a job that reports them (``pipeline``), in
            order; ``seconds`` is their sum. Empty for other kinds and failed jobs.
        proof_verified: whether the verifier accepted the job's proof (``None``: the job
            proves nothing or failed).
        heldout_accuracy: the proven share of held-out rows the delivered model predicts
            (``NaN``: no proof).
    """

    kind: str
    rows: int
    features: int
    ok: bool
    seconds: float
    peak_rss_mb: float
    bytes_produced: int
    error: str
    params: dict[str, Any]
    stages: dict[str, float] = field(default_factory=dict)
    proof_verified: bool | None = None
    heldout_accuracy: float = float("nan")

    @classmethod
    def failed(cls, spec: JobSpec, error: str) -> Measurement:
        """The measurement of ``spec`` run without a result, failed with ``error``."""
        nan = float("nan")
        return cls(
            spec.kind, spec.rows, spec.features, False, nan, nan, 0, error, dict(spec.params)
        )

    def as_row(self) -> dict[str, Any]:
        """A flat dict for a results table.

        Stage seconds become ``seconds_<stage>`` columns, parameters ``param_<name>``.
        """
        row = {k: v for k, v in vars(self).items() if k not in ("params", "stages")}
        row.update({f"seconds_{k}": v for k, v in self.stages.items()})
        row.update({f"param_{k}": v for k, v in self.params.items()})
        return row


def status_mb(field: str, pid: int | str = "self") -> float | None:
    """A ``Vm*`` field of ``/proc/<pid>/status`` in MiB (``None`` where it cannot be read)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return None


def peak_rss_mb() -> float:
    """This process's peak resident memory in MiB.

    Read from ``VmHWM`` in ``/proc/self/status``, which starts afresh with the worker's own
    address space; ``ru_maxrss`` would carry over the forked parent's size across ``exec``.
    """
    peak = status_mb("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _past_memory_limit(spec: JobSpec, pid: int | str = "self") -> bool:
    """Whether the process's peak address space (``VmPeak``) passed the spec's limit."""
    peak = status_mb("VmPeak", pid)
    return spec.memory_limit_mb is not None and peak is not None and peak > spec.memory_limit_mb


def _out_of_memory(spec: JobSpec) -> str:
    """The error of a job that ran out of memory."""
    if spec.memory_limit_mb is None:
        return "out of memory"
    return f"out of memory: address-space limit {spec.memory_limit_mb} MiB"


def _failure(error: str) -> Result:
    return ("error", float("nan"), float("nan"), 0, error, {}, None, float("nan"))


LOG_FORMAT = "[%(asctime)s][%(name)s][%(levelname)s] - %(message)s"
"""The format of the log files intentlab writes (Hydra's ``run.log`` has the same); a real
job's worker puts its job before the message."""


def log_file() -> Path | None:
    """This process's log file: that of the root logger's last file handler, if any.

    Hydra's ``run.log`` in a run; ``calibrate.log`` in the output directory of
    ``intentlab calibrate``. :func:`run_job`'s workers append their log to it. A handler
    writing to ``os.devnull`` (pytest's, without ``--log-file``) does not count.
    """
    for handler in reversed(logging.getLogger().handlers):
        if isinstance(handler, logging.FileHandler) and handler.baseFilename != os.devnull:
            return Path(handler.baseFilename)
    return None


def _log_to(path: Path, spec: JobSpec) -> None:
    """Send this worker's log records (INFO and above) and Python warnings to ``path``."""
    handler = logging.FileHandler(path, encoding="utf-8")
    job = f"{spec.kind} job ({spec.rows} x {spec.features})"
    handler.setFormatter(
        logging.Formatter(LOG_FORMAT.replace("%(message)s", f"{job}: %(message)s"))
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)


def _worker(  # runs in the child process
    spec: JobSpec, conn: Connection, scratch: str, log: Path | None = None
) -> None:
    try:
        tempfile.tempdir = scratch  # the caller removes it, even after killing this worker
        if log is not None:  # before a job imports its libraries (ezkl reads levels once)
            _log_to(log, spec)
        if spec.memory_limit_mb is not None:
            backstop = 2 * spec.memory_limit_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (backstop, backstop))
        work = JOBS[spec.kind](spec)
        started = time.perf_counter()
        produced = work()
        seconds = time.perf_counter() - started
        report = produced if isinstance(produced, Report) else Report(int(produced))
        stages = {name: float(v) for name, v in report.stages.items()}
        result: Result = (
            "ok", sum(stages.values()) if stages else seconds, peak_rss_mb(),
            int(report.bytes_produced), "", stages,
            None if report.proof_verified is None else bool(report.proof_verified),
            float(report.heldout_accuracy),
        )  # fmt: skip
    except MemoryError:
        result = _failure(_out_of_memory(spec))
    except BaseException as exc:  # a failing job is data, not a crash
        result = _failure(traceback.format_exception_only(type(exc), exc)[-1].strip())
    if _past_memory_limit(spec):  # between two looks of the caller, or the cause of an error
        result = _failure(_out_of_memory(spec))
    try:
        conn.send(result)
    finally:
        conn.close()


def _death(exitcode: int) -> str:
    """The error of a worker that ended without a result, from its exit code."""
    if exitcode >= 0:
        return f"worker died (exit code {exitcode})"
    try:
        return f"worker died ({signal.Signals(-exitcode).name})"
    except ValueError:  # a signal without a name (real-time signals)
        return f"worker died (signal {-exitcode})"


def _await(spec: JobSpec, process: BaseProcess, conn: Connection) -> Result | str:
    """The worker's result, or why there is none (time or memory limit passed, worker died)."""
    deadline = time.monotonic() + spec.time_limit
    waiting = [conn, process.sentinel]
    while (remaining := deadline - time.monotonic()) > 0:
        ready = wait(waiting, timeout=min(POLL_SECONDS, remaining))
        if conn in ready:
            try:
                return conn.recv()
            except EOFError:  # no result will come: wait for the worker to end
                waiting = [process.sentinel]
        elif process.sentinel in ready:
            process.join()
            return _death(process.exitcode)
        if _past_memory_limit(spec, process.pid):
            return _out_of_memory(spec)
    return f"timed out after {spec.time_limit:g} s"


def run_job(spec: JobSpec) -> Measurement:
    """Run ``spec`` in a fresh worker process and measure it; never raises for job failures.

    The worker's log goes to this process's log file (:func:`log_file`), if it has one. It
    raises only when the worker cannot be started (e.g. parameters that cannot be pickled).
    """
    ctx = mp.get_context("spawn")  # no state shared with the caller (JAX, TenSEAL threads)
    scratch = tempfile.mkdtemp(prefix=f"intentlab-job-{spec.kind}-")
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_worker, args=(spec, child, scratch, log_file()), daemon=True)
    try:
        process.start()
        child.close()
        result = _await(spec, process, parent)
    finally:
        child.close()
        if process.pid is not None:  # started
            if process.is_alive():
                process.kill()
            process.join()
        parent.close()
        shutil.rmtree(scratch, ignore_errors=True)
    status, seconds, peak, produced, error, stages, verified, accuracy = (
        _failure(result) if isinstance(result, str) else result
    )
    return Measurement(
        spec.kind, spec.rows, spec.features, status == "ok", seconds, peak, produced, error,
        dict(spec.params), stages, verified, accuracy,
    )  # fmt: skip


def _industry_data(spec: JobSpec) -> IndustryData:
    """The run's :class:`crypto.data.IndustryData` generator, from the spec's parameters."""
    from crypto.data import IndustryData

    p = spec.params
    return IndustryData(
        n_features=spec.features,
        n_industries=int(p.get("n_industries", 1)),
        shift=float(p.get("industry_shift", 1.0)),
        seed=int(p.get("data_seed", spec.seed)),
    )


def _dataset(spec: JobSpec) -> tuple[np.ndarray, np.ndarray]:
    """The job's rows, from :class:`crypto.data.IndustryData`.

    ``params`` may name the corporation's ``industry`` and label ``quality`` and the
    generator (``n_industries``, ``industry_shift``, ``data_seed``: a simulation passes its
    own, so every job of a run draws from the same industries); the rows themselves are
    drawn with ``spec.seed``.
    """
    p = spec.params
    rng = np.random.default_rng(spec.seed)
    sample = _industry_data(spec).sample(
        int(p.get("industry", 0)), spec.rows, float(p.get("quality", 1.0)), rng
    )
    return sample.x, sample.y


@job("commit")
def _commit(spec: JobSpec) -> Work:
    """Merkle root over row chunks of the dataset and an Ed25519 signature of it."""
    from crypto import commit

    x, _ = _dataset(spec)
    signer = commit.Signer.from_seed(bytes(32))
    rows_per_chunk = int(spec.params.get("rows_per_chunk", 64))

    def work() -> int:
        root = commit.merkle_root(commit.chunk_array(x, rows_per_chunk))
        return len(root) + len(commit.sign_commitment(signer.private_key, root, b"ground-truth"))

    return work


@job("train_plain")
def _train_plain(spec: JobSpec) -> Work:
    """Plaintext logistic regression (or an MLP with ``hidden`` units) with JAX.

    The program is compiled on the job's shapes before the timed work starts.
    """
    import jax

    from crypto.train import TrainConfig, train

    x, y = _dataset(spec)
    hidden = int(spec.params.get("hidden", 0))
    config = TrainConfig(epochs=int(spec.params.get("epochs", 100)), hidden=hidden)
    jax.block_until_ready(train(x, y, TrainConfig(epochs=1, hidden=hidden), seed=spec.seed))

    def work() -> int:
        params = jax.block_until_ready(train(x, y, config, seed=spec.seed))
        return int(sum(np.asarray(v).nbytes for v in params.values()))

    return work


def _fhe_context(spec: JobSpec, default: str):
    from crypto import fhe

    return fhe, fhe.make_context(str(spec.params.get("params", default)), n_threads=1)


@job("fhe_encrypt")
def _fhe_encrypt(spec: JobSpec) -> Work:
    """Encrypt and serialize the dataset's rows and labels (CKKS, ``params`` set)."""
    fhe, ctx = _fhe_context(spec, "standard")
    x, y = _dataset(spec)
    return lambda: fhe.encrypt_dataset(ctx, x, y).nbytes


@job("fhe_infer")
def _fhe_infer(spec: JobSpec) -> Work:
    """Encrypted logistic-regression logits of encrypted rows, decrypted by the owner."""
    fhe, ctx = _fhe_context(spec, "infer_precise")
    x, _ = _dataset(spec)
    rows = fhe.encrypt_rows(ctx, x)
    weights = np.linspace(-1, 1, spec.features)

    def work() -> int:
        logits = fhe.encrypted_logits(rows, weights, 0.1)
        fhe.decrypt_probabilities(logits)
        return sum(fhe.ciphertext_nbytes(v) for v in logits)

    return work


@job("fhe_train")
def _fhe_train(spec: JobSpec) -> Work:
    """Encrypted logistic-regression training (``epochs``, ``params`` set, full batch)."""
    from crypto import fhe

    _, ctx = _fhe_context(spec, fhe.TRAIN_PARAMS)
    x, y = _dataset(spec)
    x = fhe.standardize(x)[0]
    rows, labels = fhe.encrypt_rows(ctx, x), fhe.encrypt_rows(ctx, y[:, None])
    epochs = int(spec.params.get("epochs", 1))

    def work() -> int:
        result = fhe.train_encrypted(ctx, rows, labels, epochs)
        return int(np.asarray(result.weights).nbytes)

    return work


@job("zk_prove")
def _zk_prove(spec: JobSpec) -> Work:
    """An ezkl proof that the committed dataset satisfies the quality predicate.

    Without ``params["srs"]`` (a user-supplied SRS file) the job generates test-only SRS
    parameters with ``ezkl.gen_srs`` (and warns that they are for testing only). Setup is
    preparation; proving is the timed work. Keys and files live in a temporary directory that
    the job removes.
    """
    from pathlib import Path

    from crypto import zk

    x, y = _dataset(spec)
    bound = 4.0
    data = np.column_stack([np.clip(x, -bound, bound), y])
    directory = Path(tempfile.mkdtemp(prefix="intentlab-zk-"))
    try:
        circuit = zk.quality_circuit(
            directory, spec.rows, spec.features, bound,
            max_logrows=int(spec.params.get("max_logrows", zk.DEFAULT_MAX_LOGROWS)),
        )  # fmt: skip
        zk.setup(circuit, srs=spec.params.get("srs"), srs_dir=directory)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise

    def work() -> int:
        try:
            return zk.prove(circuit, data).nbytes
        finally:
            shutil.rmtree(directory, ignore_errors=True)

    return work


#: Seeds the buyer's held-out rows of a ``pipeline`` job, a stream apart from the seller's.
HELDOUT_STREAM = 0x686F6C64


class _Stages:
    """Wall seconds of a job's stages, in the order they ran."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.seconds[name] = time.perf_counter() - started


def _raw_model(
    weights: np.ndarray, bias: float, mean: np.ndarray, std: np.ndarray
) -> tuple[np.ndarray, float]:
    """A model on standardized features as the same model on raw features."""
    w = np.asarray(weights, dtype=float) / std
    return w, float(bias - w @ mean)


@job("pipeline")
def _pipeline(spec: JobSpec) -> Work:
    """A trade's real pipeline, down-scaled, each stage timed.

    Stages: ``commit`` (Merkle root over row chunks and an Ed25519 signature, as the
    ``commit`` kind); ``encrypt`` (the seller standardizes its rows as ``fhe_train`` does and
    encrypts and serializes rows and labels with TenSEAL, parameter set ``params``, default
    ``"train_precise"``); ``train`` (the solver loads the ciphertexts and trains logistic
    regression on them for ``epochs``, default 1; :func:`crypto.fhe.train_encrypted` decrypts
    the weights after each update, the data owner's refresh); ``decrypt`` (the delivery: the
    encrypted final weights are serialized, loaded and decrypted, and the standardization is
    folded into the model); ``setup`` (an ezkl agreement circuit with the delivered weights
    fixed in it, and its keys); ``prove`` (the share of the buyer's held-out rows whose label
    the model predicts: its accuracy); ``verify`` (:func:`crypto.zk.check_agreement` against the
    buyer's Poseidon commitment of those rows, with ``min_share``).

    As in the detection measurement (:mod:`crypto.detection`, design ``evaluation_proof``),
    the solver claims the accuracy an honest model has (the plaintext twin's, on 20 times the
    held-out rows of clean data, untimed) and the verifier's ``min_share`` is that claim less
    ``z`` standard errors (default 2.33) unless ``params`` sets ``min_share``. With
    ``lazy`` the solver skips training and delivers random weights (the simulation's lazy
    solver): the ``train`` stage is empty.

    The held-out set has ``heldout_rows`` rows (default 16) of the seller's industry with
    clean labels (quality 1), from the same generator and a seed stream of their own.

    Untimed preparation: imports, data, the CKKS context (the seller's keys), the buyer's
    commitment, and the SRS: the user's ``srs`` file, or test-only parameters generated with
    ``ezkl.gen_srs`` for the ``logrows`` of a circuit compiled on the plaintext twin of the
    model (for measurement only: whoever generated them can forge proofs). ``max_logrows``
    (default :data:`crypto.zk.DEFAULT_MAX_LOGROWS`) bounds every circuit. The encrypted final
    weights, which :func:`crypto.fhe.train_encrypted` decrypts without returning, are
    re-encrypted between ``train`` and ``decrypt``, untimed.
    """
    import logging
    import warnings
    from pathlib import Path

    import onnx  # noqa: F401  (imported here, so that no stage's time holds it)
    import tenseal as ts

    from crypto import commit, fhe, zk
    from crypto.detection import accuracy, threshold

    p = spec.params
    x, y = _dataset(spec)
    heldout_rows = int(p.get("heldout_rows", 16))
    if heldout_rows < 1:
        raise ValueError(f"heldout_rows must be >= 1, got {heldout_rows}")
    max_logrows = int(p.get("max_logrows", zk.DEFAULT_MAX_LOGROWS))
    epochs = int(p.get("epochs", 1))
    rows_per_chunk = int(p.get("rows_per_chunk", 64))
    heldout = _industry_data(spec).sample(
        int(p.get("industry", 0)), heldout_rows, 1.0,
        np.random.default_rng([spec.seed, HELDOUT_STREAM]),
    )  # fmt: skip
    held = np.column_stack([heldout.x, heldout.y]).astype(np.float64)
    scale = zk.DEFAULT_INPUT_SCALE
    commitment = zk.poseidon_commitment(held, scale)  # published by the buyer beforehand
    signer = commit.Signer.from_seed(bytes(32))
    ctx = fhe.make_context(str(p.get("params", fhe.TRAIN_PARAMS)), n_threads=1)
    # quiet in this worker: ezkl logs a fidelity report per circuit, and the test-only SRS
    # would warn on every job (the docs say it is test-only)
    warnings.simplefilter("ignore", zk.InsecureSRSWarning)
    for logger in (zk.__name__, "ezkl"):
        logging.getLogger(logger).setLevel(logging.ERROR)
    directory = Path(tempfile.mkdtemp(prefix="pipeline-"))
    srs_dir = directory / "srs"
    srs = p.get("srs")
    xs, mean, std = fhe.standardize(x)
    twin = fhe.train_plain_approx(xs, y, epochs)
    w, b = _raw_model(twin.weights, twin.bias, mean, std)
    clean = _industry_data(spec).sample(
        int(p.get("industry", 0)), 20 * heldout_rows, 1.0,
        np.random.default_rng([spec.seed, HELDOUT_STREAM, 1]),
    )  # fmt: skip
    claim = accuracy(w, b, clean.x, clean.y)
    tolerated = threshold(claim, heldout_rows, float(p.get("z", 2.33)))
    min_share = float(p.get("min_share", np.clip(tolerated, 0, 1)))
    if not 0 <= min_share <= 1:
        raise ValueError(f"min_share must be in [0, 1], got {min_share}")
    lazy = bool(p.get("lazy", False))
    random_model = np.random.default_rng([spec.seed, HELDOUT_STREAM, 2])
    random_model = (random_model.normal(size=x.shape[1]), float(random_model.normal()))
    if srs is None:  # size the test-only SRS on the plaintext twin's circuit, untimed
        sizing = zk.agreement_circuit(
            directory / "sizing", w, b, heldout_rows, input_scale=scale, max_logrows=max_logrows
        )
        zk.srs_path(sizing.logrows, srs_dir)
    stage = _Stages()

    def work() -> Report:
        produced = 0
        with stage("commit"):
            root = commit.merkle_root(commit.chunk_array(x, rows_per_chunk))
            produced += len(root) + len(
                commit.sign_commitment(signer.private_key, root, b"ground-truth")
            )
        with stage("encrypt"):
            xs, mean, std = fhe.standardize(x)
            shipped = fhe.encrypt_dataset(ctx, xs, y)
            produced += shipped.nbytes
        weights, bias = random_model  # what a lazy solver delivers: train and decrypt are empty
        enc_model = b""
        with stage("train"):
            if not lazy:
                rows, labels = shipped.load(ctx)
                trained = fhe.train_encrypted(ctx, rows, labels, epochs)
        if not lazy:
            enc_model = ts.ckks_vector(ctx, [*trained.weights, trained.bias]).serialize()
        with stage("decrypt"):
            if not lazy:
                model = fhe.decrypt(ts.ckks_vector_from(ctx, enc_model))
                weights, bias = _raw_model(model[:-1], model[-1], mean, std)
                produced += len(enc_model)
        with stage("setup"):
            circuit = zk.agreement_circuit(
                directory / "model", weights, bias, heldout_rows,
                input_scale=scale, max_logrows=max_logrows,
            )  # fmt: skip
            zk.setup(circuit, srs=srs, srs_dir=srs_dir)
        with stage("prove"):
            proof = zk.prove(circuit, held)
            produced += proof.nbytes
        with stage("verify"):
            verified = zk.check_agreement(
                proof, circuit, commitment=commitment, min_share=min_share
            )
        accuracy = zk.agreement_share(proof, heldout_rows)
        return Report(produced, stage.seconds, verified, accuracy)

    return work
