"""The welfare benchmark: realized welfare and the planner's optimum on true values.

Welfare of an allocation ``x`` is ``sum_ij (bid_ij - ask_ij) * x_ij`` where, for the
benchmark, ``bid`` holds the buyers' *true* values (net of processing cost) and ``ask`` the
sellers' *true* sharing costs. Transfers cancel out and are not part of welfare.

Linear values make the optimum a transportation problem, solved as a min-cost flow
(``solver="FLOW"``, POT's network simplex, :func:`mechanisms.flow.max_gain`) or as an LP
by a cvxpy solver (``HIGHS`` goes straight to scipy's HiGHS); the flow is the default.

Buyer values may also be concave, with diminishing returns in quality-weighted units: with
``returns = Diminishing(weight, rate)``, buyer ``j`` loses ``rate_j / 2 * u_j**2`` where
``u_j = sum_i weight_i * x_ij`` are the quality-weighted units it receives. The planner then
solves a convex quadratic program instead of a linear one.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from mechanisms import flow
from mechanisms.allocation import incidence
from mechanisms.market import Market, Outcome

if TYPE_CHECKING:
    import cvxpy as cp

FLOW = "FLOW"
"""The network-flow solver of linear optima (POT's network simplex); not a cvxpy solver."""

DEFAULT_SOLVER = FLOW
"""The planner's solver for linear values; concave values default to :data:`CONCAVE_SOLVER`."""

CONCAVE_SOLVER = "HIGHS"
"""The cvxpy solver of the concave planner when none is named."""


@dataclass(frozen=True, eq=False)
class Diminishing:
    """Diminishing returns in quality-weighted units.

    Attributes:
        weight: ``(n,)`` quality weight of a unit from seller ``i``, ``>= 0``.
        rate: ``(m,)`` curvature of buyer ``j``'s value, ``>= 0`` (0 = linear).
    """

    weight: np.ndarray
    rate: np.ndarray

    def __post_init__(self) -> None:
        for name in ("weight", "rate"):
            arr = np.asarray(getattr(self, name), dtype=float)
            if arr.ndim != 1 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
                raise ValueError(f"Diminishing.{name} must be a 1-D array of finite values >= 0")
            object.__setattr__(self, name, arr)

    def loss(self, allocation: np.ndarray) -> float:
        """Total value lost to diminishing returns at ``allocation``."""
        units = self.weight @ allocation
        return float(0.5 * np.sum(self.rate * units**2))


def value(market: Market, allocation: np.ndarray, returns: Diminishing | None = None) -> float:
    """Welfare of an allocation on ``market``'s values.

    Args:
        market: the market whose asks and bids are taken as costs and values.
        allocation: ``(n, m)`` units traded.
        returns: diminishing returns of buyers' values, if any.

    Raises:
        ValueError: if the allocation's or ``returns``' shape does not match the market.
    """
    allocation = np.asarray(allocation, dtype=float)
    if allocation.shape != market.shape:
        raise ValueError(f"allocation shape {allocation.shape} != market shape {market.shape}")
    linear = float(np.sum((market.bid_matrix() - market.ask_matrix()) * allocation))
    if returns is None:
        return linear
    _check_returns(market, returns)
    return linear - returns.loss(allocation)


MAX_PROGRAM_PAIRS = 1_000_000
"""The concave planner refuses markets with more seller-buyer pairs than this: its cvxpy
program holds dense per-pair parameters, so its memory grows with ``n * m``, and cvxpy's
index arithmetic overflows at a few million pairs."""


class _Program(NamedTuple):
    problem: cp.Problem
    x: cp.Variable
    gain: cp.Parameter
    cap: cp.Parameter
    supply: cp.Parameter
    demand: cp.Parameter
    weight: cp.Parameter
    rate: cp.Parameter


@lru_cache(maxsize=1)
def _program(n: int, m: int) -> _Program:
    """The concave planner program for an ``n x m`` market, built once and re-solved.

    Only the most recent shape is kept: a run whose population changes every round
    rebuilds the program instead of holding one per shape (each costs memory in proportion
    to ``n * m``).

    The allocation is a flat variable of ``n * m`` entries (row-major) so that per-pair
    gains and caps enter as parameter vectors: cvxpy maps those to the solver's data in
    linear time, where elementwise products with an ``(n, m)`` parameter would not scale.
    Diminishing returns use an auxiliary variable ``u = weight @ x`` so that the program stays
    DPP (``rate * u**2`` multiplies a parameter with a parameter-free square), and move the
    linear part into a constraint (cvxpy densifies parametrized linear terms of quadratic
    objectives).
    """
    import cvxpy as cp

    x = cp.Variable(n * m, nonneg=True)
    grid = cp.reshape(x, (n, m), order="C")
    gain = cp.Parameter(n * m)
    cap = cp.Parameter(n * m, nonneg=True)
    supply = cp.Parameter(n, nonneg=True)
    demand = cp.Parameter(m, nonneg=True)
    weight = cp.Parameter(n, nonneg=True)
    rate = cp.Parameter(m, nonneg=True)
    units = cp.Variable(m)
    linear = cp.Variable()  # epigraph of the linear part: keeps cvxpy's quadratic extraction
    constraints = [  # sparse
        x <= cap,
        cp.sum(grid, axis=1) <= supply,
        cp.sum(grid, axis=0) <= demand,
        units == weight @ grid,
        linear <= gain @ x,
    ]
    objective = linear - 0.5 * cp.sum(cp.multiply(rate, cp.square(units)))
    problem = cp.Problem(cp.Maximize(objective), constraints)
    return _Program(problem, x, gain, cap, supply, demand, weight, rate)


def program(n: int, m: int) -> cp.Problem:
    """The cvxpy concave planner problem for an ``n x m`` market (DPP, parameters only).

    The most recently used shape is cached: asking again for it returns the same problem.
    """
    return _program(n, m).problem


def linear_optimum(market: Market, solver: str = DEFAULT_SOLVER) -> tuple[float, np.ndarray]:
    """The linear-value optimum, a transportation problem over the pairs that can gain.

    One variable per compatible pair with positive gain and positive quantities on both
    sides (other pairs never trade at an optimum). ``FLOW`` solves it as a min-cost flow
    (:func:`mechanisms.flow.max_gain`, exact to double-precision rounding; its welfare is
    that of the feasible allocation returned, so never above the optimum); ``HIGHS`` as an
    LP through ``scipy.optimize.linprog``; any other cvxpy solver as the same LP through
    cvxpy.
    Nothing is cached: memory grows with the usable pairs of this market only.

    Returns:
        The optimal welfare and the ``(n, m)`` allocation.

    Raises:
        RuntimeError: if the solver does not reach an optimum.
    """
    n, m = market.shape
    allocation = np.zeros((n, m))
    gain = market.bid_matrix() - market.ask_matrix()
    usable = market.compatible_matrix() & (gain > 0)
    usable &= (market.supply[:, None] > 0) & (market.demand[None, :] > 0)
    rows, cols = np.nonzero(usable)
    if rows.size == 0:
        return 0.0, allocation
    pair_gain = gain[rows, cols]
    if solver == FLOW:
        x = flow.max_gain(rows, cols, market.supply, market.demand, pair_gain)
        allocation[rows, cols] = x
        return float(pair_gain @ x), allocation
    a_ub = incidence(rows, cols, n, m)
    b_ub = np.concatenate([market.supply, market.demand])
    if solver == "HIGHS":
        from scipy.optimize import linprog

        result = linprog(-pair_gain, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
        if result.status != 0:
            raise RuntimeError(f"welfare LP failed: {result.message}")
        x, best = result.x, float(-result.fun)
    else:
        import cvxpy as cp

        var = cp.Variable(rows.size, nonneg=True)
        problem = cp.Problem(cp.Maximize(pair_gain @ var), [a_ub @ var <= b_ub])
        problem.solve(solver=solver)
        if problem.status != cp.OPTIMAL:
            raise RuntimeError(f"welfare planner: solver {solver} ended with {problem.status}")
        x, best = var.value, float(problem.value)
    allocation[rows, cols] = np.clip(x, 0.0, None)
    return best, allocation


def installed_solvers() -> list[str]:
    """Solvers available to the planner: ``FLOW`` and every installed cvxpy solver."""
    import cvxpy as cp

    return [FLOW, *cp.installed_solvers()]


def check_solver(solver: str) -> None:
    """Refuse a solver name that is neither ``FLOW`` nor an installed cvxpy solver.

    Raises:
        ValueError: naming the installed solvers.
    """
    if solver == FLOW:
        return
    if solver not in installed_solvers():
        raise ValueError(
            f"welfare solver {solver!r} is not installed; installed: "
            f"{', '.join(installed_solvers())}"
        )


@lru_cache(maxsize=1)
def silence_highs_banner() -> None:
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


def _check_returns(market: Market, returns: Diminishing) -> None:
    n, m = market.shape
    if returns.weight.shape != (n,) or returns.rate.shape != (m,):
        raise ValueError(
            f"Diminishing weight and rate must have shapes ({n},) and ({m},), got "
            f"{returns.weight.shape} and {returns.rate.shape}"
        )


def optimum(
    market: Market, solver: str | None = None, returns: Diminishing | None = None
) -> Outcome:
    """The welfare-maximizing allocation on ``market``'s (true) values.

    Solves ``max sum((bid - ask) * x) [- diminishing-returns loss]`` subject to ``x >= 0``,
    row sums ``<= supply``, column sums ``<= demand`` and ``x = 0`` on incompatible pairs.
    Linear values are a transportation problem over the pairs that can gain
    (:func:`linear_optimum`), built per market and never cached. Diminishing returns make
    it a quadratic program, a cvxpy problem built once for the most recent market shape
    (:func:`program`) and re-solved by setting its parameters; it refuses markets of more
    than :data:`MAX_PROGRAM_PAIRS` pairs.

    Args:
        market: the market on true values.
        solver: ``FLOW`` (linear values only) or a cvxpy solver name; ``None`` picks
            :data:`DEFAULT_SOLVER` for linear values and :data:`CONCAVE_SOLVER` for concave.
        returns: diminishing returns of buyers' values; ``None`` for linear values.

    Returns:
        An outcome with the optimal allocation, no payments, and ``info["welfare"]``.

    Raises:
        ValueError: if ``solver`` is not installed, is ``FLOW`` for concave values,
            ``returns`` has wrong shapes, or a concave market has more than
            :data:`MAX_PROGRAM_PAIRS` pairs.
        RuntimeError: if the solver does not reach an optimum.
    """
    concave = returns is not None and bool(np.any(returns.rate > 0))
    if solver is None:
        solver = CONCAVE_SOLVER if concave else DEFAULT_SOLVER
    check_solver(solver)
    if concave and solver == FLOW:
        raise ValueError(
            "welfare planner: the FLOW solver handles linear values only; diminishing "
            "returns need a cvxpy solver (e.g. HIGHS)"
        )
    n, m = market.shape
    if n == 0 or m == 0:
        return Outcome.empty(market, welfare=0.0, status="empty")
    if returns is not None:
        _check_returns(market, returns)
    if not concave:
        best, allocation = linear_optimum(market, solver)
        info = {"welfare": best, "status": "optimal", "solver": solver}
        return Outcome(allocation, np.zeros(n), np.zeros(m), None, info)
    if n * m > MAX_PROGRAM_PAIRS:
        raise ValueError(
            f"welfare planner: diminishing returns on {n} x {m} = {n * m} pairs exceed the "
            f"concave program's limit of {MAX_PROGRAM_PAIRS} pairs"
        )
    import cvxpy as cp

    prog = _program(n, m)
    cap = np.minimum(market.supply[:, None], market.demand[None, :])
    compatible = market.compatible_matrix()
    prog.gain.value = (market.bid_matrix() - market.ask_matrix()).ravel()
    prog.cap.value = np.where(compatible, cap, 0.0).ravel()
    prog.supply.value = market.supply
    prog.demand.value = market.demand
    prog.weight.value = returns.weight
    prog.rate.value = returns.rate
    if solver == "HIGHS":
        silence_highs_banner()
    # No warm start: on degenerate programs the optimum HiGHS returns would otherwise
    # depend on what was solved before, and results must depend only on the input.
    prog.problem.solve(solver=solver, warm_start=False)
    if prog.problem.status != cp.OPTIMAL:
        raise RuntimeError(f"welfare planner: solver {solver} ended with {prog.problem.status}")
    allocation = np.clip(prog.x.value.reshape(n, m), 0.0, None)
    allocation[~compatible] = 0.0
    return Outcome(
        allocation,
        np.zeros(n),
        np.zeros(m),
        None,
        {"welfare": float(prog.problem.value), "status": prog.problem.status, "solver": solver},
    )
