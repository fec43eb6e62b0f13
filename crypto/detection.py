"""How often each verification design catches each attack, measured against the real circuits.

Two designs, each a real ezkl circuit (:func:`crypto.zk.agreement_circuit`) and a threshold:

* ``quality_proof``: a seller proves, over its committed rows, how many labels a public
  reference model predicts. With label quality ``q`` (labels flipped with probability
  ``(1 - q) / 2``) and a reference of accuracy ``a`` on clean labels, a row agrees with
  probability ``e(q) = 1/2 + (a - 1/2) q``. The verifier accepts a claim of quality ``q``
  when the proven share reaches ``e(q) - z sqrt(e (1 - e) / rows)``. The attack
  (``label_flip``) flips a share ``f`` of the committed rows' labels (strength ``f``,
  0 to 0.5) while claiming the quality the rows were drawn with; ``f = 0`` is an honest
  seller, whose rejections are false positives.
* ``evaluation_proof``: a solver proves the delivered model's accuracy on a held-out set the
  buyer committed before delivery (clean labels of the task's industry), the delivered
  weights fixed in the circuit. It claims the accuracy an honestly trained model has on the
  industry; the verifier accepts when the proven share reaches the claim less ``z``
  standard errors. Attacks: ``honest`` (trained on the bought rows: rejections are false
  positives), ``random`` (random weights, what the simulation's lazy solver returns) and
  ``stale`` (a model trained honestly for another industry, delivered again).

:func:`measure` runs the trials (every trial is a real proof, verified) and
:func:`tabulate` turns them into a :class:`DetectionTable`: detections out of trials per
design, attack and strength, with Clopper-Pearson intervals. The simulation draws its
detections from such a table (``incentives.verification.detection``); the shipped one is
``configs/calibration/detection.json``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: Verification designs whose detection is measured, by their ``incentives.verification`` flag.
DESIGNS = ("quality_proof", "evaluation_proof")
#: Attacks measured per design; strength 0 of ``label_flip`` and ``honest`` are honest agents.
ATTACKS = {"quality_proof": ("label_flip",), "evaluation_proof": ("honest", "random", "stale")}
#: Shares of flipped labels measured for the quality proof.
STRENGTHS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)


@dataclass(frozen=True)
class MeasureConfig:
    """What :func:`measure` runs.

    Attributes:
        rows: rows each proof covers (the committed rows; the buyer's held-out rows).
        trials: proofs per design, attack and strength.
        strengths: flipped-label shares for ``label_flip``.
        attacks: ``evaluation_proof`` attacks to measure.
        z: standard errors below the claim the verifier tolerates.
        features, n_industries, industry_shift: the synthetic data
            (:class:`crypto.data.IndustryData`).
        quality_alpha, quality_beta: claimed qualities are drawn from ``Beta(alpha, beta)``
            clipped to ``[0.05, 1]``, as the simulation's corporations.
        train_rows: rows an honest solver trains on; the reference model trains on ten times
            as many clean rows.
        seed: seeds the data and the trials.
        max_logrows: bound on the circuits' size.
        srs: a user SRS file (default: test-only SRS generated locally).
    """

    rows: int = 32
    trials: int = 30
    strengths: tuple[float, ...] = STRENGTHS
    attacks: tuple[str, ...] = ATTACKS["evaluation_proof"]
    z: float = 2.33
    features: int = 8
    n_industries: int = 5
    industry_shift: float = 1.0
    quality_alpha: float = 4.0
    quality_beta: float = 2.0
    train_rows: int = 200
    seed: int = 0
    max_logrows: int = 17
    srs: str | None = None

    def __post_init__(self) -> None:
        if self.rows < 2 or self.trials < 1:
            raise ValueError(f"needs rows >= 2 and trials >= 1, got {self.rows}, {self.trials}")
        if not self.strengths or not all(0 <= s <= 0.5 for s in self.strengths):
            raise ValueError(f"strengths must be in [0, 0.5], got {self.strengths}")
        unknown = sorted(set(self.attacks) - set(ATTACKS["evaluation_proof"]))
        if unknown:
            allowed = ", ".join(ATTACKS["evaluation_proof"])
            raise ValueError(f"unknown attack {unknown[0]!r}; allowed: {allowed}")
        if self.z < 0:
            raise ValueError(f"z must be >= 0, got {self.z}")


def threshold(claim: float, rows: int, z: float) -> float:
    """The smallest proven share a verifier accepts for a claimed share over ``rows`` rows."""
    return claim - z * np.sqrt(claim * (1 - claim) / rows)


@dataclass(frozen=True)
class Point:
    """Detections of one attack at one strength.

    Attributes:
        design, attack, strength: what was measured.
        trials: proofs run.
        detected: proofs rejected (for an honest agent: false positives).
        low, high: 95% Clopper-Pearson interval of the rate.
    """

    design: str
    attack: str
    strength: float
    trials: int
    detected: int
    low: float
    high: float

    @property
    def rate(self) -> float:
        """Detections per trial."""
        return self.detected / self.trials


@dataclass(frozen=True)
class DetectionTable:
    """Measured detection rates per design, attack and strength.

    Attributes:
        points: one per design, attack and strength.
        rows, z: the proofs' rows and the verifier's tolerance.
        machine, created, notes: provenance.
    """

    points: tuple[Point, ...]
    rows: int
    z: float
    machine: dict[str, Any]
    created: str
    notes: str = ""

    def rate(self, design: str, attack: str, strength: float | np.ndarray = 0.0) -> np.ndarray:
        """The detection rate, linear between measured strengths (clipped to their range).

        Raises:
            KeyError: if the table has no point of ``design`` and ``attack``.
        """
        pts = sorted(
            (p for p in self.points if p.design == design and p.attack == attack),
            key=lambda p: p.strength,
        )
        if not pts:
            raise KeyError(f"the detection table has no {design}/{attack} measurement")
        xs, ys = [p.strength for p in pts], [p.rate for p in pts]
        return np.interp(np.asarray(strength, dtype=float), xs, ys)

    def frame(self) -> pd.DataFrame:
        """One row per point, with its rate."""
        return pd.DataFrame([{**asdict(p), "rate": p.rate} for p in self.points])

    def _payload(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "z": self.z,
            "points": [asdict(p) for p in self.points],
        }

    def _digest(self) -> str:
        """SHA-256 of the measurements (not of the provenance)."""
        return hashlib.sha256(json.dumps(self._payload(), sort_keys=True).encode()).hexdigest()

    def to_json(self) -> str:
        """The table as JSON, with a SHA-256 digest of its measurements."""
        meta = {"created": self.created, "machine": self.machine, "notes": self.notes}
        return json.dumps({**meta, **self._payload(), "sha256": self._digest()}, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> DetectionTable:
        """Read a table written by :meth:`to_json`, checking its digest and its points.

        Raises:
            ValueError: on a damaged or inconsistent table.
        """
        try:
            data = json.loads(text)
            points = tuple(Point(**p) for p in data["points"])
            table = cls(points, int(data["rows"]), float(data["z"]), data["machine"],
                        data["created"], data.get("notes", ""))  # fmt: skip
            expected = data["sha256"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"not a detection table: {exc}") from None
        if table._digest() != expected:
            raise ValueError("detection table damaged: its SHA-256 digest does not match")
        for p in points:
            if p.design not in ATTACKS or p.attack not in ATTACKS[p.design]:
                raise ValueError(f"detection table: unknown design/attack {p.design}/{p.attack}")
            if not 0 <= p.detected <= p.trials or p.trials < 1:
                raise ValueError(f"detection table: {p.detected} of {p.trials} trials")
        return table

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> DetectionTable:
        """Read a table file (cached per path and modification time)."""
        path = Path(path)
        return _load(str(path.resolve()), path.stat().st_mtime_ns)


@lru_cache(maxsize=8)
def _load(path: str, mtime: int) -> DetectionTable:
    return DetectionTable.from_json(Path(path).read_text())


def tabulate(
    trials: pd.DataFrame, config: MeasureConfig, machine: dict[str, Any]
) -> DetectionTable:
    """Detections out of trials per design, attack and strength (Clopper-Pearson 95%)."""
    from scipy.stats import binomtest

    points = []
    keys = ["design", "attack", "strength"]
    for (design, attack, strength), group in trials.groupby(keys, sort=True):
        n, k = len(group), int((~group["accepted"].astype(bool)).sum())
        ci = binomtest(k, n).proportion_ci(0.95, method="exact")
        points.append(Point(design, attack, float(strength), n, k, float(ci.low), float(ci.high)))
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    notes = (f"{config.trials} trials per point, {config.rows} rows per proof, "
             f"{config.features} features, seed {config.seed}")  # fmt: skip
    return DetectionTable(tuple(points), config.rows, config.z, machine, created, notes)


# ------------------------------------------------------------------ measurement


class _Prover:
    """Compiles, sets up, proves and verifies agreement circuits in one work directory."""

    def __init__(self, config: MeasureConfig, directory: Path) -> None:
        self.config, self.directory, self.count = config, directory, 0

    def circuit(self, weights: np.ndarray, bias: float, sample: np.ndarray):
        """An agreement circuit for ``weights``, scaled on ``sample`` (rows of its industry)."""
        from crypto import zk

        self.count += 1
        path = self.directory / f"c{self.count}"
        c = zk.agreement_circuit(path, weights, bias, self.config.rows, calibration_data=sample,
                                 max_logrows=self.config.max_logrows)  # fmt: skip
        zk.setup(c, srs=self.config.srs, srs_dir=self.directory)
        return c

    def check(self, circuit, data: np.ndarray, min_share: float) -> dict[str, Any]:
        """Prove ``data`` (features and label) and run the verifier's full check."""
        import time

        from crypto import zk

        proof = zk.prove(circuit, data, keep_proving_key=True)
        started = time.perf_counter()
        accepted = zk.check_agreement(proof, circuit, commitment=zk.poseidon_commitment(data),
                                      min_share=min_share)  # fmt: skip
        return {
            "proven_share": zk.agreement_share(proof, self.config.rows),
            "accepted": bool(accepted),
            "prove_seconds": proof.prove_seconds,
            "verify_seconds": time.perf_counter() - started,
            "proof_bytes": proof.nbytes,
            "logrows": circuit.logrows,
        }


def _fit(x: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, float]:
    """Logistic regression with JAX (:func:`crypto.train.train`), as numpy weights and bias."""
    from crypto.train import TrainConfig, train

    params = train(x, y, TrainConfig(), seed=seed)
    return np.asarray(params["w"], dtype=float).ravel(), float(np.asarray(params["b"]).ravel()[0])


def accuracy(w: np.ndarray, b: float, x: np.ndarray, y: np.ndarray) -> float:
    """Share of rows whose 0/1 label the linear model ``[x @ w + b > 0]`` predicts."""
    return float(np.mean((x @ w + b > 0) == (y > 0.5)))


def _rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.c_[x, y].astype(np.float32)


def measure(config: MeasureConfig, progress: bool = False) -> pd.DataFrame:
    """Run every trial as a real proof; one row per trial.

    Columns: ``design``, ``attack``, ``strength``, ``trial``, ``industry``, ``claim`` (the
    claimed share), ``min_share`` (the verifier's threshold), ``proven_share``,
    ``reference_share`` (the same count in numpy: equal to the proven one),
    ``accepted``, ``prove_seconds``, ``verify_seconds``, ``proof_bytes``, ``logrows``.
    """
    from tqdm.auto import tqdm

    from crypto.data import IndustryData
    from crypto.zk import InsecureSRSWarning, agreement_reference

    data = IndustryData(config.features, config.n_industries, config.industry_shift,
                        seed=config.seed)  # fmt: skip
    rng = np.random.default_rng([config.seed, 0x646574])
    big = 20 * config.train_rows

    def clean(industry: int, rows: int):
        s = data.sample(industry, rows, 1.0, rng)
        return s.x.astype(float), s.y.astype(float)

    def claimed_quality() -> float:
        return float(np.clip(rng.beta(config.quality_alpha, config.quality_beta), 0.05, 1))

    references = {}
    for k in range(config.n_industries):
        w, b = _fit(*clean(k, 10 * config.train_rows), seed=k)
        references[k] = (w, b, accuracy(w, b, *clean(k, big)))
    total = len(config.strengths) * config.trials + len(config.attacks) * config.trials
    bar = tqdm(total=total, desc="proofs", unit="proof", disable=not progress)
    rows: list[dict[str, Any]] = []
    directory = Path(tempfile.mkdtemp(prefix="intentlab-detection-"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InsecureSRSWarning)
            prover = _Prover(config, directory)
            circuits = {
                k: prover.circuit(w, b, _rows(*clean(k, config.rows)))
                for k, (w, b, _) in references.items()
            }
            for strength in config.strengths:
                for trial in range(config.trials):
                    k = int(rng.integers(config.n_industries))
                    q = claimed_quality()
                    s = data.sample(k, config.rows, q, rng)
                    flip = rng.permutation(config.rows)[: round(strength * config.rows)]
                    y = s.y.copy()
                    y[flip] = 1 - y[flip]
                    committed = _rows(s.x, y)
                    w, b, a = references[k]
                    claim = 0.5 + (a - 0.5) * q
                    row = _trial("quality_proof", "label_flip", strength, trial, k, claim)
                    row["min_share"] = threshold(claim, config.rows, config.z)
                    row["reference_share"] = agreement_reference(committed, w, b) / config.rows
                    rows.append({**row, **prover.check(circuits[k], committed, row["min_share"])})
                    bar.update()
            for attack in config.attacks:
                for trial in range(config.trials):
                    k = int(rng.integers(config.n_industries))
                    test_x, test_y = clean(k, big)
                    honest = _honest(data, k, config, rng, claimed_quality())
                    claim = accuracy(*honest, test_x, test_y)
                    w, b = _delivered(attack, honest, data, k, config, rng, claimed_quality)
                    heldout = _rows(*clean(k, config.rows))
                    row = _trial("evaluation_proof", attack, 0.0, trial, k, claim)
                    row["min_share"] = threshold(claim, config.rows, config.z)
                    row["reference_share"] = agreement_reference(heldout, w, b) / config.rows
                    row["population_accuracy"] = accuracy(w, b, test_x, test_y)
                    circuit = prover.circuit(w, b, _rows(*clean(k, config.rows)))
                    rows.append({**row, **prover.check(circuit, heldout, row["min_share"])})
                    circuit.discard_proving_key()
                    shutil.rmtree(circuit.directory, ignore_errors=True)
                    bar.update()
    finally:
        bar.close()
        shutil.rmtree(directory, ignore_errors=True)
    return pd.DataFrame(rows)


def _trial(design: str, attack: str, strength: float, trial: int, k: int, claim: float) -> dict:
    return {"design": design, "attack": attack, "strength": float(strength), "trial": trial,
            "industry": k, "claim": claim}  # fmt: skip


def _honest(data, industry: int, config: MeasureConfig, rng, quality: float):
    s = data.sample(industry, config.train_rows, quality, rng)
    return _fit(s.x.astype(float), s.y.astype(float), seed=int(rng.integers(2**31)))


def _delivered(
    attack: str,
    honest: tuple[np.ndarray, float],
    data,
    industry: int,
    config: MeasureConfig,
    rng: np.random.Generator,
    claimed_quality: Callable[[], float],
) -> tuple[np.ndarray, float]:
    """The model a solver of this kind delivers."""
    if attack == "honest":
        return honest
    if attack == "random":
        return rng.normal(size=config.features), float(rng.normal())
    other = (industry + 1 + int(rng.integers(config.n_industries - 1))) % config.n_industries
    return _honest(data, other if config.n_industries > 1 else industry, config, rng,
                   claimed_quality())  # fmt: skip
