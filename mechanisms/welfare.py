"""The welfare benchmark: realized welfare and the planner's optimum on true values.

Welfare of an allocation is ``sum_ij (bid_ij - ask_ij) * x_ij`` where, for the benchmark,
``bid`` holds the buyers' *true* values (net of processing cost) and ``ask`` the sellers'
*true* sharing costs. Transfers cancel out and are not part of welfare.
"""

from __future__ import annotations

import os
import sys
from functools import lru_cache
from typing import NamedTuple

import cvxpy as cp
import numpy as np

from mechanisms.market import Market, Outcome

DEFAULT_SOLVER = "HIGHS"


def value(market: Market, allocation: np.ndarray) -> float:
    """Welfare ``sum((bid - ask) * allocation)`` of an allocation on ``market``'s values.

    Raises:
        ValueError: if the allocation's shape is not the market's.
    """
    allocation = np.asarray(allocation, dtype=float)
    if allocation.shape != market.shape:
        raise ValueError(f"allocation shape {allocation.shape} != market shape {market.shape}")
    return float(np.sum((market.bid_matrix() - market.ask_matrix()) * allocation))


class _Program(NamedTuple):
    problem: cp.Problem
    x: cp.Variable
    gain: cp.Parameter
    cap: cp.Parameter
    supply: cp.Parameter
    demand: cp.Parameter


@lru_cache(maxsize=16)
def _program(n: int, m: int) -> _Program:
    """The planner LP for an ``n x m`` market, built once and re-solved with new values."""
    x = cp.Variable((n, m), nonneg=True)
    gain = cp.Parameter((n, m))
    cap = cp.Parameter((n, m), nonneg=True)
    supply = cp.Parameter(n, nonneg=True)
    demand = cp.Parameter(m, nonneg=True)
    problem = cp.Problem(
        cp.Maximize(cp.sum(cp.multiply(gain, x))),
        [x <= cap, cp.sum(x, axis=1) <= supply, cp.sum(x, axis=0) <= demand],
    )
    return _Program(problem, x, gain, cap, supply, demand)


def program(n: int, m: int) -> cp.Problem:
    """The cached cvxpy planner problem for an ``n x m`` market (DPP, parameters only)."""
    return _program(n, m).problem


@lru_cache(maxsize=1)
def _silence_highs_banner() -> None:
    """Create the first HiGHS object with stdout closed: HiGHS prints a banner then, once."""
    import highspy

    sys.stdout.flush()
    saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def optimum(market: Market, solver: str = DEFAULT_SOLVER) -> Outcome:
    """The welfare-maximizing allocation on ``market``'s (true) values.

    Solves ``max sum((bid - ask) * x)`` subject to ``x >= 0``, row sums ``<= supply``,
    column sums ``<= demand`` and ``x = 0`` on incompatible pairs. The cvxpy problem is built
    once per market shape with parameters and re-solved by setting their values.

    Args:
        market: the market on true values.
        solver: a cvxpy solver name, ``HIGHS`` by default.

    Returns:
        An outcome with the optimal allocation, no payments, and ``info["welfare"]``.

    Raises:
        ValueError: if ``solver`` is not installed for cvxpy.
        RuntimeError: if the solver does not reach an optimum.
    """
    if solver not in cp.installed_solvers():
        raise ValueError(
            f"welfare solver {solver!r} is not installed; installed: "
            f"{', '.join(cp.installed_solvers())}"
        )
    n, m = market.shape
    if n == 0 or m == 0:
        return Outcome.empty(market, welfare=0.0, status="empty")
    prog = _program(n, m)
    cap = np.minimum(market.supply[:, None], market.demand[None, :])
    prog.gain.value = market.bid_matrix() - market.ask_matrix()
    prog.cap.value = np.where(market.compatible_matrix(), cap, 0.0)
    prog.supply.value = market.supply
    prog.demand.value = market.demand
    if solver == "HIGHS":
        _silence_highs_banner()
    prog.problem.solve(solver=solver)
    if prog.problem.status != cp.OPTIMAL:
        raise RuntimeError(f"welfare planner: solver {solver} ended with {prog.problem.status}")
    allocation = np.clip(prog.x.value, 0.0, None)
    allocation[~market.compatible_matrix()] = 0.0
    return Outcome(
        allocation,
        np.zeros(n),
        np.zeros(m),
        None,
        {"welfare": float(prog.problem.value), "status": prog.problem.status, "solver": solver},
    )
