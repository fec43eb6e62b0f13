"""The work stage: models, jobs and ground truth.

Solvers train models on the data they received and run their jobs (task fees in, compute
costs out); a sample of trades also runs as real, measured jobs, in the background.
"""

from __future__ import annotations

import os
import weakref
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm.auto import tqdm

from crypto.ground_truth import JobSpec, Measurement, run_job
from sim.ledger import WORLD
from sim.round.records import RoundMarket, Settlement
from sim.round.settlement import proofs

if TYPE_CHECKING:
    from sim.round.state import ModelState


def train_models(model: ModelState, rm: RoundMarket, settled: Settlement) -> np.ndarray:
    """Each solver's model accuracy on its task's industry.

    Models are trained with JAX on the rows each solver bought (weighted by the share
    of each seller's supply) and the public rows; a lazy solver returns random weights.
    Each model gathers only its own sellers' rows and all solvers train in a few batched
    calls (:meth:`sim.incentives.DataPool.model_accuracy`), so the cost grows with the
    trades.
    """
    shares = model.pool.shares_bought(settled.trades, rm.supply, len(rm.solvers))
    ids = [c.unique_id for c in rm.corporations]
    accuracy = model.pool.model_accuracy(ids, shares, rm.tasks.industry)
    lazy = settled.lazy
    if lazy.any():
        accuracy[lazy] = model.pool.random_model_accuracy(
            rm.tasks.industry[lazy], model.valuation_rng
        )
    return accuracy


def execute(model: ModelState, rm: RoundMarket, settled: Settlement) -> None:
    """Solvers process the data: task clients pay fees, compute providers are paid.

    Fees follow the claimed quality; nothing is paid for a lazy solver's caught model.
    Lazy solvers skip the work and pay no compute.
    """
    ids = [s.unique_id for s in rm.solvers]
    model.ledger.transfer("money", WORLD, ids, settled.fees)
    work = np.where(settled.lazy, 0.0, rm.processing_cost * settled.bought)
    model.ledger.transfer("money", ids, WORLD, work)


#: Job kinds that train, and so take the run's ``crypto.epochs``.
_TRAINING_KINDS = ("train_plain", "fhe_train", "pipeline")


class GroundTruthJobs:
    """Ground-truth jobs running in the background, joined in the order they were submitted.

    A pool of ``workers`` threads (started at the first job) each runs one job at a time with
    :func:`crypto.ground_truth.run_job`, so every job still runs in its own worker process
    under its limits, while the rounds go on. :meth:`join` waits for every job submitted so
    far and returns their rows in submission order; it then stops the threads (the next job
    starts them again). A job that raises in the caller, or that a process forked while it
    ran cannot see finish, is recorded as failed.

    Pickling or copying waits for the pending jobs and keeps their rows for the next
    :meth:`join`: the copy has no threads and starts its own.

    Args:
        workers: jobs running at once, ``>= 1``.
    """

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"GroundTruthJobs needs workers >= 1, got {workers}")
        self.workers = workers
        self._executor: ThreadPoolExecutor | None = None
        self._finalizer: weakref.finalize | None = None
        self._pid = os.getpid()  # the process the threads run in
        # (row, spec, submitting process, future), in submission order
        self._pending: list[tuple[dict[str, Any], JobSpec, int, Future[Measurement]]] = []
        self._joined: list[dict[str, Any]] = []

    @property
    def pending(self) -> int:
        """Jobs submitted and not finished yet."""
        return sum(not future.done() for *_, future in self._pending)

    def submit(self, spec: JobSpec, row: dict[str, Any]) -> None:
        """Start ``spec`` in the background; its row will be ``row`` and the measurement."""
        if self._pid != os.getpid():  # forked: the parent's threads do not run here
            self._executor, self._finalizer, self._pid = None, None, os.getpid()
        if self._executor is None:
            executor = ThreadPoolExecutor(self.workers, thread_name_prefix="ground-truth")
            self._executor = executor
            # a pool dropped without a join: queued jobs are cancelled, running ones end
            self._finalizer = weakref.finalize(
                self, executor.shutdown, wait=False, cancel_futures=True
            )
        future = self._executor.submit(run_job, spec)
        self._pending.append((row, spec, os.getpid(), future))

    def join(self, progress: bool = False) -> list[dict[str, Any]]:
        """Wait for every job submitted so far; their rows, in submission order.

        Args:
            progress: show a progress bar over the jobs still to finish.
        """
        self.close(progress)
        rows, self._joined = self._joined, []
        return rows

    def close(self, progress: bool = False) -> None:
        """Wait for the pending jobs (their rows are kept for :meth:`join`); stop the threads."""
        waiting = tqdm(self._pending, desc="ground-truth jobs", unit="job",
                       disable=not progress or self.pending == 0)  # fmt: skip
        for row, spec, pid, future in waiting:
            if pid != os.getpid() and not future.done():
                measured = Measurement.failed(spec, "lost: the process forked while it ran")
            else:
                try:
                    measured = future.result()
                except BaseException as exc:  # a failing job is data, not a crash
                    measured = Measurement.failed(spec, f"{type(exc).__name__}: {exc}")
            self._joined.append({**row, **measured.as_row()})
        self._pending = []
        if self._executor is not None and self._pid == os.getpid():
            self._finalizer.detach()
            self._executor.shutdown(wait=True)
        self._executor, self._finalizer, self._pid = None, None, os.getpid()

    def __getstate__(self) -> dict[str, Any]:
        self.close()
        return {"workers": self.workers, "joined": list(self._joined)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["workers"])
        self._joined = list(state["joined"])


def run_ground_truth(model: ModelState, rm: RoundMarket, settled: Settlement) -> np.ndarray:
    """Start a sample of this round's executed trades as real, measured jobs.

    Each executed trade is sampled with probability ``rate`` (at most
    ``max_jobs_per_round``); its job has ``units * rows_per_unit * scale`` rows. Which
    trades, their kinds and seeds are drawn here, from ``model.ground_truth_rng``; the jobs
    run in the background (``model.ground_truth_jobs``, see :class:`GroundTruthJobs`), so
    the round does not wait for them and nothing of the market depends on them. A failed
    job is recorded as failed and the run goes on.

    The job runs on the data the seller delivered (a poisoner's at its true quality) and,
    for a ``pipeline``, the model the buyer delivers (random weights from a lazy solver).
    Its row keeps the outcome the market drew for that delivery from the detection table
    (``drawn_proof_verified``; missing where no evaluation proof ran) next to the real
    proof's (``proof_verified``).

    Returns:
        The positions in ``settled.trades`` of the trades started as jobs.
    """
    gt, crypto = model.config.crypto.ground_truth, model.config.crypto
    corps, solvers = rm.corporations, rm.solvers
    if gt.rate <= 0:
        return np.zeros(0, dtype=int)
    rows, cols, traded = settled.trades
    _, evaluation = proofs(model, rm)
    draws = model.ground_truth_rng.random(rows.size)
    chosen = np.flatnonzero(draws < gt.rate)[: gt.max_jobs_per_round]
    for t in chosen:
        i, j = rows[t], cols[t]
        units = float(traded[t])
        kind = gt.kinds[int(model.ground_truth_rng.integers(len(gt.kinds)))]
        spec = JobSpec(
            kind=kind,
            rows=max(1, round(units * crypto.rows_per_unit * gt.scale)),
            features=gt.features,
            params={
                "industry": corps[i].industry,
                "quality": corps[i].true_quality,
                **({"lazy": True} if kind == "pipeline" and solvers[j].adversary == "lazy" else {}),
                "n_industries": model.config.market.n_industries,
                "data_seed": model.config.seed,
                "industry_shift": model.config.incentives.data_value.industry_shift,
                **({"epochs": crypto.epochs} if kind in _TRAINING_KINDS else {}),
            },
            seed=int(model.ground_truth_rng.integers(2**31)),
            time_limit=gt.time_limit,
            memory_limit_mb=gt.memory_limit_mb,
        )
        row = {
            "round": model.round,
            "seller": corps[i].unique_id,
            "buyer": solvers[j].unique_id,
            "units": units,
            "drawn_proof_verified": not settled.model_rejected[j] if evaluation[j] else None,
        }
        model.ground_truth_jobs.submit(spec, row)
    return chosen
