"""The work stage: models, jobs and ground truth.

Solvers train models on the data they received and run their jobs (task fees in, compute
costs out); a sample of trades also runs as real, measured jobs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from crypto.ground_truth import JobSpec, run_job
from sim.ledger import WORLD
from sim.round.records import RoundMarket, Settlement, Trades

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


def run_ground_truth(model: ModelState, rm: RoundMarket, trades: Trades) -> int:
    """Run a sample of this round's executed trades as real, measured jobs.

    Each executed trade is sampled with probability ``rate`` (at most
    ``max_jobs_per_round``); its job has ``units * rows_per_unit * scale`` rows. Jobs run
    in worker processes; a failed job is recorded as failed and the round goes on.
    """
    gt, crypto = model.config.crypto.ground_truth, model.config.crypto
    corps, solvers = rm.corporations, rm.solvers
    if gt.rate <= 0:
        return 0
    rows, cols, traded = trades
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
                "quality": corps[i].quality,
                "n_industries": model.config.market.n_industries,
                "data_seed": model.config.seed,
                "industry_shift": model.config.incentives.data_value.industry_shift,
                **({"epochs": crypto.epochs} if kind in ("train_plain", "fhe_train") else {}),
            },
            seed=int(model.ground_truth_rng.integers(2**31)),
            time_limit=gt.time_limit,
            memory_limit_mb=gt.memory_limit_mb,
        )
        measured = run_job(spec)
        model.measurements.append(
            {
                "round": model.round,
                "seller": corps[i].unique_id,
                "buyer": solvers[j].unique_id,
                "units": units,
                **measured.as_row(),
            }
        )
    return len(chosen)
