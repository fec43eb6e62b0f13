"""``intentlab bench``: speed ratios measured side by side, written as a JSON report.

* ``planner``: ``mechanisms.welfare.optimum`` on a new market each round (its LP over the
  pairs that can gain, built per market), against the LP over every pair with per-pair caps
  built and solved directly with HiGHS (``scipy.optimize.linprog``), at 1,000 sellers x 100
  buyers. Target: ratio <= 1.5, optima equal to 1e-6 relative.
* ``dutch``: the Dutch auction's exact clearing against its ticking clock at 10,000 sellers
  x 100 buyers (homogeneous market), for two tick sizes, both clocks timed back to back in
  each of several repeats. ``speedup`` times finding the clearing price (the part the two
  clocks do differently); ``clear_speedup`` times the whole ``clear``, whose allocation of a
  dense 10,000 x 100 outcome is the same work for both.
  Target: >= 50x faster, same price within one tick.
* ``memory``: resident memory of a simulation run (300 corporations x 100 solvers, 40
  rounds, planner on), read after every round in a fresh process. A long run must hold its
  memory flat: target peak at the last round <= 1.1 x the peak at round 5.
* ``valuation``: Monte Carlo Shapley values of corporations' data against exact Shapley on
  small markets (8 owners of synthetic industry data, models trained with JAX): largest
  absolute error (accuracy points) and time per estimate, by number of permutations.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linprog
from tqdm.auto import tqdm

import mechanisms
from mechanisms import Market, welfare
from mechanisms.allocation import incidence
from sim.results import write_atomic


def _timed(fn: Callable[[], Any], repeats: int) -> tuple[float, list[float], Any]:
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times, result


def _planner_market(rng: np.random.Generator, n: int, m: int) -> Market:
    return Market(
        rng.uniform(5, 20, n),
        rng.uniform(20, 60, m),
        rng.uniform(0.2, 1.5, (n, m)),
        rng.uniform(0.0, 4.0, (n, m)),
        rng.random((n, m)) < 0.7,
    )


def _direct_lp(market: Market) -> float:
    """The planner's LP, same variables and bounds, built and solved with scipy's HiGHS."""
    n, m = market.shape
    rows, cols = np.indices((n, m)).reshape(2, -1)
    k = rows.size
    a_ub = incidence(rows, cols, n, m)
    cap = np.where(
        market.compatible_matrix(), np.minimum(market.supply[:, None], market.demand[None, :]), 0
    )
    gain = (market.bid_matrix() - market.ask_matrix()).ravel()
    res = linprog(
        -gain,
        A_ub=a_ub,
        b_ub=np.concatenate([market.supply, market.demand]),
        bounds=np.column_stack([np.zeros(k), cap.ravel()]),
        method="highs",
    )
    if res.status != 0:
        raise RuntimeError(res.message)
    return float(-res.fun)


def bench_planner(n: int = 1000, m: int = 100, rounds: int = 5, seed: int = 0) -> dict[str, Any]:
    """The planner on a new market each round against the all-pairs LP in HiGHS."""
    rng = np.random.default_rng(seed)
    first = _planner_market(rng, n, m)
    started = time.perf_counter()
    welfare.optimum(first)  # the first solve also loads HiGHS
    compile_seconds = time.perf_counter() - started
    planner, direct, gaps = [], [], []
    for _ in tqdm(range(rounds), desc="planner rounds", unit="round"):
        market = _planner_market(rng, n, m)
        t_planner, _, out = _timed(lambda mk=market: welfare.optimum(mk), 1)
        t_direct, _, value = _timed(lambda mk=market: _direct_lp(mk), 1)
        planner.append(t_planner)
        direct.append(t_direct)
        gaps.append(abs(out.info["welfare"] - value) / max(1.0, abs(value)))
    ratio = statistics.median(planner) / statistics.median(direct)
    return {
        "sellers": n,
        "buyers": m,
        "rounds": rounds,
        "first_solve_seconds": compile_seconds,
        "planner_resolve_seconds": planner,
        "direct_highs_seconds": direct,
        "ratio_planner_over_direct": ratio,
        "target_ratio_at_most": 1.5,
        "max_relative_gap": max(gaps),
        "target_gap_at_most": 1e-6,
        "meets_targets": bool(ratio <= 1.5 and max(gaps) <= 1e-6),
    }


def _per_call(fn: Callable[[], Any], seconds: float = 0.05) -> float:
    """Seconds per call of ``fn``, averaged over enough calls to take about ``seconds``."""
    calls, started = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            return elapsed / calls


def bench_dutch(
    n: int = 10_000,
    m: int = 100,
    ticks: tuple[float, ...] = (0.01, 0.001),
    seed: int = 0,
    repeats: int = 7,
) -> dict[str, Any]:
    """Exact clearing against the ticking clock on a homogeneous market.

    Each repeat times both clocks back to back (each averaged over a loop of calls), so a
    slow spell of the machine hits both; the speedups are the medians over repeats.
    """
    rng = np.random.default_rng(seed)
    market = Market(
        rng.uniform(5, 20, n), rng.uniform(20, 60, m), rng.uniform(0.2, 1.5, n),
        rng.uniform(0.5, 4.0, m),
    )  # fmt: skip
    results = []
    for tick in tqdm(ticks, desc="dutch tick sizes", unit="tick"):
        exact = mechanisms.get("dutch", tick=tick, clock="exact")
        clock = mechanisms.get("dutch", tick=tick, clock="ticks")
        (p_exact, info), (p_clock, _) = exact.clearing_price(market), clock.clearing_price(market)
        out_exact, out_clock = exact.clear(market), clock.clear(market)
        price, full = {"exact": [], "ticks": []}, {"exact": [], "ticks": []}
        for _ in range(repeats):
            for name, mech in (("exact", exact), ("ticks", clock)):
                price[name].append(_per_call(lambda mc=mech: mc.clearing_price(market)))
                full[name].append(_per_call(lambda mc=mech: mc.clear(market)))
        speedups = [t / e for t, e in zip(price["ticks"], price["exact"], strict=True)]
        clear_speedups = [t / e for t, e in zip(full["ticks"], full["exact"], strict=True)]
        results.append(
            {
                "tick": tick,
                "clock_steps": info["ticks"],
                "exact_evaluations": info["evaluations"],
                "price_exact_seconds": price["exact"],
                "price_ticking_seconds": price["ticks"],
                "speedups": speedups,
                "speedup": statistics.median(speedups),
                "clear_exact_seconds": full["exact"],
                "clear_ticking_seconds": full["ticks"],
                "clear_speedup": statistics.median(clear_speedups),
                "price_exact": p_exact,
                "price_ticking": p_clock,
                "same_price_within_one_tick": bool(abs(p_exact - p_clock) <= tick + 1e-12),
                "same_allocation": bool(np.array_equal(out_exact.allocation, out_clock.allocation)),
                "target_speedup_at_least": 50,
                "meets_target": bool(statistics.median(speedups) >= 50),
            }
        )
    return {"sellers": n, "buyers": m, "repeats": repeats, "by_tick": results}


def bench_valuation(
    owners: int = 8,
    permutations: tuple[int, ...] = (10, 50, 200),
    markets: int = 3,
    truncation: float = 0.0,
) -> dict[str, Any]:
    """Monte Carlo against exact Shapley values on small markets of real models."""
    from crypto.data import IndustryData
    from crypto.valuation import CoalitionValue, exact_shapley, monte_carlo_shapley

    results = []
    for seed in tqdm(range(markets), desc="valuation markets", unit="market"):
        rng = np.random.default_rng(seed)
        data = IndustryData(8, 3, seed=seed)
        parts = [data.sample(i % 3, 24, rng.uniform(0.3, 1.0), rng) for i in range(owners)]
        tests = [data.sample(i, 200, 1.0, rng) for i in range(3)]
        pool = (
            np.concatenate([p.x for p in parts]),
            np.concatenate([p.y for p in parts]),
            np.repeat(np.arange(owners), 24),
            np.concatenate([t.x for t in tests]),
            np.concatenate([t.y for t in tests]),
            owners,
        )
        started = time.perf_counter()
        exact = exact_shapley(CoalitionValue(*pool), owners)
        exact_seconds = time.perf_counter() - started
        for count in permutations:
            fresh = CoalitionValue(*pool)  # its own cache: count the models it trains
            started = time.perf_counter()
            estimate = monte_carlo_shapley(
                fresh, owners, count, np.random.default_rng(100 + seed), truncation
            )
            results.append(
                {
                    "market": seed,
                    "permutations": count,
                    "max_abs_error": float(np.abs(estimate - exact).max()),
                    "mean_abs_error": float(np.abs(estimate - exact).mean()),
                    "exact_total": float(exact.sum()),
                    "seconds": time.perf_counter() - started,
                    "models_trained": fresh.trained,
                    "exact_seconds": exact_seconds,
                    "exact_models": 2**owners,
                }
            )
    return {"owners": owners, "truncation": truncation, "by_market": results}


def _memory_trace(config: dict, rounds: int) -> tuple[list[float], float]:
    """Peak resident memory (MiB) after each round of a run of ``config``, and its CPU time.

    Runs in the calling process: call it in a fresh one.
    """
    import resource

    from sim import MarketModel, SimConfig

    started = time.process_time()
    model = MarketModel(SimConfig.from_dict(config))
    peaks = []
    for _ in range(rounds):
        model.step()
        peaks.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # KiB on Linux
    return peaks, time.process_time() - started


def bench_memory(
    n: int = 300, m: int = 100, rounds: int = 40, early: int = 5, seed: int = 0
) -> dict[str, Any]:
    """Peak resident memory per round of one run, measured in a fresh process."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    config = {
        "seed": seed,
        "rounds": rounds,
        "market": {"n_corporations": n, "n_solvers": m},
    }
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        peaks, cpu_seconds = pool.submit(_memory_trace, config, rounds).result()
    ratio = peaks[-1] / peaks[early - 1]
    return {
        "corporations": n,
        "solvers": m,
        "rounds": rounds,
        "peak_rss_mib_by_round": peaks,
        "ratio_last_over_round": {"round": early, "ratio": ratio},
        "target_ratio_at_most": 1.1,
        "meets_target": bool(ratio <= 1.1),
        "run_cpu_seconds": cpu_seconds,
    }


def environment() -> dict[str, Any]:
    """Where the numbers were measured."""
    versions = {}
    for package in ("numpy", "scipy", "cvxpy", "highspy", "mesa"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
    }


def run(out: Path, quick: bool = False) -> dict[str, Any]:
    """Run every benchmark and write the JSON report to ``out``.

    Args:
        out: report path.
        quick: smaller sizes for a smoke run (the report says so; targets do not apply).
    """
    if quick:
        planner = bench_planner(n=100, m=20, rounds=2)
        dutch = bench_dutch(n=500, m=20, ticks=(0.01,), repeats=2)
        valuation = bench_valuation(owners=4, permutations=(10,), markets=1)
        memory = bench_memory(n=30, m=10, rounds=8, early=2)
    else:
        planner = bench_planner()
        dutch = bench_dutch()
        valuation = bench_valuation()
        memory = bench_memory()
    report = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "environment": environment(),
        "planner": planner,
        "dutch": dutch,
        "valuation": valuation,
        "memory": memory,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(out, lambda path: Path(path).write_text(json.dumps(report, indent=2) + "\n"))
    return report
