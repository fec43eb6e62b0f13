"""``intentlab bench``: speed ratios measured side by side, written as a JSON report.

* ``planner``: ``mechanisms.welfare.optimum`` with its default solver, ``FLOW`` (a min-cost
  flow over the pairs that can gain, POT's network simplex), on a new market each round,
  against the LP over every pair with per-pair caps built and solved directly with HiGHS
  (``scipy.optimize.linprog``), at 1,000 sellers x 100 buyers. Target: ratio <= 1.5, optima
  equal to 1e-5 relative (see :func:`bench_planner` for why).
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
* ``scale`` (:func:`bench_scale`, also ``intentlab bench --scale`` alone): whole rounds of
  the default simulation at 100 x 30, 1,000 x 300, 3,000 x 1,000 and 10,000 x 1,000, each
  size in a fresh process: CPU seconds per round and per stage, peak resident memory after
  every round, beside a hand-vectorized numpy floor of the same round
  (:func:`bench_floor`). Targets: <= 0.1, <= 0.5 and <= 5 CPU-s per round at 100 x 30,
  1,000 x 300 and 10,000 x 1,000; <= 3 GiB peak at 10,000 x 1,000; peak after the last
  round <= 1.1 x the peak after round 5.
* ``sweep`` (:func:`bench_sweep`): runs per hour of a local sweep of short runs on the
  default (parallel) launcher against ``hydra/launcher=basic`` (serial). Target: parallel
  >= 1.7 x serial throughput on 2 cores.
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

PLANNER_GAP_TARGET = 1e-5
"""Relative gap allowed between the planner's flow optimum and HiGHS's LP optimum."""


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
    """The planner (default solver, ``FLOW``) on a new market each round against HiGHS.

    The direct LP is the same transportation problem over every pair, with per-pair caps,
    built and solved with ``scipy.optimize.linprog``. ``max_relative_gap`` compares the two
    optima. Neither is exact: the flow returns the welfare of a feasible allocation, exact
    up to the rounding rules of :mod:`mechanisms.flow` (a network simplex in double
    precision whose full sellers and buyers end 1e-11 below capacity), and HiGHS stops at
    its feasibility and optimality tolerances (about 1e-7). The target, 1e-5 relative,
    leaves room for HiGHS's tolerances.
    """
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
        "planner_solver": welfare.DEFAULT_SOLVER,
        "first_solve_seconds": compile_seconds,
        "planner_resolve_seconds": planner,
        "direct_highs_seconds": direct,
        "ratio_planner_over_direct": ratio,
        "target_ratio_at_most": 1.5,
        "max_relative_gap": max(gaps),
        "target_gap_at_most": PLANNER_GAP_TARGET,
        "meets_targets": bool(ratio <= 1.5 and max(gaps) <= PLANNER_GAP_TARGET),
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
    owners: int = 10,
    permutations: tuple[int, ...] = (4, 50),
    markets: int = 30,
    truncation: float = 0.005,
    games: int = 10,
) -> dict[str, Any]:
    """The default data-value estimator against exact Shapley on solvers' games.

    Each market (a seed) draws ``games`` solvers' games of ``owners`` sellers the way the
    simulation forms them (:func:`sim.incentives.draw_games`) and values them exactly
    (``exact_shapley``), by the default settings (``DataValueConfig()``: exact up to
    ``exact_players``, else the kernel estimator) and, for comparison, by the truncated
    permutation estimator alone (no exact games) with each count in ``permutations``, at
    tolerance ``truncation``; every market's games go through one batched
    ``DataPool.values`` call. Reported: the rank agreement with exact Shapley (Spearman per
    game; median, mean, min), the largest and mean absolute error (accuracy points), and
    CPU seconds and models trained per game (compilation excluded).
    A game whose every coalition scores the same has all values 0 under both methods and
    counts as agreeing (1); an estimate that ties every seller where exact Shapley does not
    counts as 0.
    """
    from dataclasses import replace

    from scipy.stats import spearmanr

    from sim.config import DataValueConfig
    from sim.incentives import draw_games

    default = DataValueConfig()
    settings = {"default": default} | {
        count: replace(
            default,
            estimator="permutation",
            exact_players=0,
            permutations=count,
            truncation=truncation,
        )
        for count in permutations
    }
    exact_settings = replace(default, method="exact_shapley", max_exact_players=max(owners, 1))

    def values(config: DataValueConfig, seed: int) -> tuple[np.ndarray, float, int]:
        pool, sellers, shares, industries = draw_games(config, owners, games, seed)
        started = time.process_time()
        out = pool.values(sellers, shares, industries, np.random.default_rng(100 + seed))
        return out.reshape(games, owners), time.process_time() - started, pool.trained

    def rank_agreement(estimate: np.ndarray, exact: np.ndarray) -> float:
        if np.ptp(estimate) < 1e-9 and np.ptp(exact) < 1e-9:
            return 1.0
        rho = float(spearmanr(estimate, exact).statistic)
        return 0.0 if np.isnan(rho) else rho

    for config in (exact_settings, *settings.values()):  # compile outside the timings
        values(config, markets)
    results: list[dict[str, Any]] = []
    for seed in tqdm(range(markets), desc="valuation markets", unit="market"):
        exact, exact_seconds, exact_models = values(exact_settings, seed)
        for name, config in settings.items():
            estimate, seconds, trained = values(config, seed)
            rho = [rank_agreement(e, x) for e, x in zip(estimate, exact, strict=True)]
            results.append(
                {
                    "market": seed,
                    "estimator": "default" if name == "default" else "permutation",
                    "permutations": None if name == "default" else name,
                    "spearman": rho,
                    "max_abs_error": float(np.abs(estimate - exact).max()),
                    "mean_abs_error": float(np.abs(estimate - exact).mean()),
                    "exact_total": float(exact.sum(axis=1).mean()),
                    "seconds": seconds / games,
                    "models_trained": trained / games,
                    "exact_seconds": exact_seconds / games,
                    "exact_models": exact_models / games,
                }
            )

    def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
        rho = [r for row in rows for r in row["spearman"]]
        errors = [row["max_abs_error"] for row in rows]
        return {
            "games": len(rho),
            "median_spearman": float(np.median(rho)),
            "mean_spearman": float(np.mean(rho)),
            "min_spearman": float(np.min(rho)),
            "max_abs_error_mean": float(np.mean(errors)),
            "max_abs_error_worst": float(np.max(errors)),
            "mean_abs_error": float(np.mean([row["mean_abs_error"] for row in rows])),
            "seconds_per_game": float(np.mean([row["seconds"] for row in rows])),
            "models_per_game": float(np.mean([row["models_trained"] for row in rows])),
            "exact_seconds_per_game": float(np.mean([row["exact_seconds"] for row in rows])),
            "exact_models_per_game": float(np.mean([row["exact_models"] for row in rows])),
        }

    return {
        "owners": owners,
        "games_per_market": games,
        "truncation": truncation,
        "target": "default estimator: median Spearman >= 0.95 against exact Shapley",
        "default": {
            "exact_players": default.exact_players,
            "estimator": default.estimator,
            "samples": default.samples,
            **summary([r for r in results if r["estimator"] == "default"]),
        },
        "permutation": {
            str(count): summary([r for r in results if r["permutations"] == count])
            for count in permutations
        },
        # the permutation rows first: a report reader keyed by permutations sees them as before
        "by_market": [r for r in results if r["permutations"] is not None]
        + [r for r in results if r["permutations"] is None],
    }


def _memory_trace(config: dict, rounds: int) -> tuple[list[float], float]:
    """Peak resident memory (MiB) after each round of a run of ``config``, and its CPU time.

    Runs in the calling process: call it in a fresh one.
    """
    from crypto.ground_truth import peak_rss_mb
    from sim import MarketModel, SimConfig

    started = time.process_time()
    model = MarketModel(SimConfig.from_dict(config))
    peaks = []
    for _ in range(rounds):
        model.step()
        peaks.append(peak_rss_mb())
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


# --------------------------------------------------------------------------- scale

SCALE_SIZES: tuple[tuple[int, int], ...] = ((100, 30), (1000, 300), (3000, 1000), (10_000, 1000))
"""Market sizes (corporations, solvers) of the scale benchmark."""

CPU_TARGETS: dict[tuple[int, int], float] = {(100, 30): 0.1, (1000, 300): 0.5, (10_000, 1000): 5.0}
"""CPU seconds per round (median after the warm-up) the engine should stay under, by size."""

PEAK_TARGETS_GIB: dict[tuple[int, int], float] = {(10_000, 1000): 3.0}
"""Peak resident memory (GiB) a run should stay under, by size."""

GROWTH_TARGET = 1.1
"""Peak resident memory after the last round over the peak after :data:`GROWTH_FROM_ROUND`."""

GROWTH_FROM_ROUND = 5
"""The round (1-based) whose peak memory the growth ratio compares the last round's with."""


def parse_sizes(text: str) -> list[tuple[int, int, int | None]]:
    """Parse ``--sizes``: comma-separated ``NxM`` or ``NxM:ROUNDS``.

    Returns:
        ``(corporations, solvers, rounds or None)`` per size, in the order given.

    Raises:
        ValueError: one line naming the bad item and the allowed form.
    """
    sizes = []
    for item in text.split(","):
        item = item.strip()
        shape, _, rounds = item.partition(":")
        n, sep, m = shape.lower().partition("x")
        try:
            if not sep:
                raise ValueError
            size = (int(n), int(m), int(rounds) if rounds else None)
        except ValueError:
            raise ValueError(
                f"--sizes: bad size {item!r}; allowed: NxM or NxM:ROUNDS with integers, "
                f"comma-separated (e.g. 100x30,1000x300:5)"
            ) from None
        if size[0] < 1 or size[1] < 1 or (size[2] is not None and size[2] < 1):
            raise ValueError(f"--sizes: {item!r}: corporations, solvers and rounds must be >= 1")
        sizes.append(size)
    return sizes


def _scale_config(n: int, m: int, rounds: int, seed: int) -> dict[str, Any]:
    return {"seed": seed, "rounds": rounds, "market": {"n_corporations": n, "n_solvers": m}}


def _scale_child(conn: Any, config: dict[str, Any], rounds: int) -> None:
    """Run ``rounds`` rounds of ``config`` and send a record of each to ``conn``.

    Runs in a fresh (spawned) process. Sends ``("setup", dict)``, then ``("round", dict)``
    after every round, then ``("done", None)``, or ``("error", reason)`` if a round raises.
    """
    try:
        from agents import Corporation, Solver
        from crypto.ground_truth import peak_rss_mb
        from sim import MarketModel, SimConfig

        cpu, wall = time.process_time(), time.perf_counter()
        model = MarketModel(SimConfig.from_dict(config))
        conn.send(
            (
                "setup",
                {
                    "cpu_seconds": time.process_time() - cpu,
                    "wall_seconds": time.perf_counter() - wall,
                    "peak_rss_mib": peak_rss_mb(),
                },
            )
        )
        clock = getattr(model, "clock", None)
        for _ in range(rounds):
            before = dict(clock.seconds) if clock is not None else {}
            cpu, wall = time.process_time(), time.perf_counter()
            model.step()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            after = dict(clock.seconds) if clock is not None else {}
            stages = {name: after[name] - before.get(name, 0.0) for name in after}
            conn.send(
                (
                    "round",
                    {
                        "cpu_seconds": cpu,
                        "wall_seconds": wall,
                        "stages": stages,
                        "peak_rss_mib": peak_rss_mb(),
                        "active": [len(model.active(Corporation)), len(model.active(Solver))],
                    },
                )
            )
        conn.send(("done", None))
    except Exception as exc:  # the parent records the size as failed, with this reason
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def _exit_reason(process: Any) -> str:
    import signal

    process.join(5)
    code = process.exitcode
    if code is not None and code < 0:
        name = signal.Signals(-code).name
        hint = " (out of memory?)" if -code == signal.SIGKILL else ""
        return f"the process was killed by {name}{hint}"
    return f"the process exited with status {code} before finishing"


def _engine_trace(
    config: dict[str, Any],
    rounds: int,
    time_limit: float,
    memory_limit_gib: float | None,
    bar: Any,
) -> dict[str, Any]:
    """Rounds of ``config`` in a fresh process, stopped at the time or memory limit.

    Returns:
        ``setup`` (its record, or ``None``), ``rounds`` (one record per finished round),
        ``wall_seconds`` (start of the process to its end) and ``reason`` (``None`` if every
        round ran, otherwise why the run stopped).
    """
    from multiprocessing import get_context

    from crypto.ground_truth import status_mb

    ctx = get_context("spawn")
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_scale_child, args=(sender, config, rounds), daemon=True)
    started = time.perf_counter()
    process.start()
    sender.close()  # the child holds the only sending end: its exit reads as end of file
    setup, trace, reason = None, [], None
    deadline = started + time_limit
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            reason = f"time limit of {time_limit:g} s reached after {len(trace)} of {rounds} rounds"
            break
        if memory_limit_gib is not None:
            rss = status_mb("VmRSS", process.pid)
            rss = None if rss is None else rss / 1024
            if rss is not None and rss > memory_limit_gib:
                reason = (
                    f"memory limit of {memory_limit_gib:g} GiB exceeded ({rss:.2f} GiB resident) "
                    f"after {len(trace)} of {rounds} rounds"
                )
                break
        if not receiver.poll(min(left, 0.2)):
            continue
        try:
            kind, payload = receiver.recv()
        except EOFError:
            reason = f"{_exit_reason(process)} after {len(trace)} of {rounds} rounds"
            break
        if kind == "setup":
            setup = payload
        elif kind == "round":
            trace.append(payload)
            bar.update(1)
        elif kind == "error":
            reason = f"{payload} (in round {len(trace) + 1} of {rounds})"
            break
        else:  # done
            break
    if process.is_alive():
        process.kill()  # the child this function started, by its handle
    process.join(10)
    receiver.close()
    wall = time.perf_counter() - started
    return {"setup": setup, "rounds": trace, "wall_seconds": wall, "reason": reason}


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _stage_medians(trace: list[dict[str, Any]]) -> dict[str, float]:
    """Each stage's median CPU seconds over the rounds of ``trace``."""
    names = sorted({name for r in trace for name in r["stages"]})
    return {name: statistics.median(r["stages"].get(name, 0.0) for r in trace) for name in names}


FULL_SIZE_SHARE = 0.9
"""A round is at full size while its active pairs are at least this share of the initial."""


def _summary(trace: list[dict[str, Any]], warmup: int, pairs: int) -> dict[str, Any]:
    """Medians over the rounds after the warm-up, and the memory trace.

    ``full_size`` repeats the CPU median over the rounds after the warm-up up to the first
    round at whose end the active corporations x solvers are below :data:`FULL_SIZE_SHARE`
    of the initial ``pairs``: agents whose utility falls below their outside option exit
    once their grace rounds are over, and later rounds clear a smaller market.
    """
    steady = trace[warmup:]
    shrunk = [
        i for i, r in enumerate(trace) if r["active"][0] * r["active"][1] < FULL_SIZE_SHARE * pairs
    ]
    full = trace[warmup : shrunk[0] + 1 if shrunk else len(trace)]  # exits end a round
    peaks = [r["peak_rss_mib"] for r in trace]
    growth = None
    if len(peaks) > GROWTH_FROM_ROUND:
        growth = {"round": GROWTH_FROM_ROUND, "ratio": peaks[-1] / peaks[GROWTH_FROM_ROUND - 1]}
    return {
        "first_round_cpu_seconds": trace[0]["cpu_seconds"] if trace else None,
        "first_round_stage_cpu_seconds": trace[0]["stages"] if trace else {},
        "cpu_seconds_per_round": _median([r["cpu_seconds"] for r in steady]),
        "mean_cpu_seconds_per_round": statistics.mean(r["cpu_seconds"] for r in steady)
        if steady
        else None,
        "full_size": {
            "rounds": len(full),
            "cpu_seconds_per_round": _median([r["cpu_seconds"] for r in full]),
            "stage_cpu_seconds_per_round": _stage_medians(full),
        },
        "active_by_round": [r["active"] for r in trace],
        "stage_cpu_seconds_per_round": _stage_medians(steady),
        "unstaged_cpu_seconds_per_round": _median(
            [r["cpu_seconds"] - sum(r["stages"].values()) for r in steady]
        ),
        "wall_seconds_per_round": _median([r["wall_seconds"] for r in steady]),
        "cpu_seconds_by_round": [r["cpu_seconds"] for r in trace],
        "stage_cpu_seconds_by_round": [r["stages"] for r in trace],
        "wall_seconds_by_round": [r["wall_seconds"] for r in trace],
        "peak_rss_mib_by_round": peaks,
        "peak_rss_gib": max(peaks) / 1024 if peaks else None,
        "rss_growth": growth,
    }


def _floor_population(n: int, m: int, seed: int) -> dict[str, Any]:
    """Agents' fixed attributes, drawn from the default market's distributions."""
    from sim import SimConfig

    cfg = SimConfig.from_dict(_scale_config(n, m, 1, seed))
    market, policy = cfg.market, cfg.market.intent
    rng = np.random.default_rng(seed)
    kinds = len(market.task_kinds)
    allowed = rng.random((n, kinds)) < policy.allow_kind_prob
    none = ~allowed.any(axis=1)
    allowed[none, rng.integers(kinds, size=int(none.sum()))] = True  # at least one kind
    crypto = cfg.crypto.encryption
    speed = rng.lognormal(0.0, market.speed_sigma, m)
    compute_price = rng.uniform(market.compute_price_low, market.compute_price_high, m)
    return {
        "rng": rng,
        "kinds": kinds,
        "industries": market.n_industries,
        "fee": (market.fee_low, market.fee_high),
        "premium": market.competitor_premium,
        "tick": float(cfg.mechanism.params.get("tick", 0.01)),
        "keep": 1.0 - cfg.incentives.revenue_share,  # the default regime shares revenue
        "industry": rng.integers(market.n_industries, size=n),
        "quality": np.clip(rng.beta(market.quality_alpha, market.quality_beta, n), 0.05, 1.0),
        "supply": rng.uniform(market.supply_low, market.supply_high, n),
        "sharing_cost": rng.uniform(market.sharing_cost_low, market.sharing_cost_high, n),
        "allowed": allowed,
        "exclude_own": rng.random(n) < policy.exclude_own_industry_prob,
        "min_price": rng.uniform(0.0, policy.min_price_high, n),
        "require_fhe": (rng.random(n) < policy.require_fhe_prob) & crypto,
        "require_proof": (rng.random(n) < policy.require_proof_prob) & crypto,
        "capacity": rng.uniform(market.capacity_low, market.capacity_high, m),
        "processing_cost": cfg.crypto.seconds_per_unit() / speed * compute_price,
        "fhe": rng.random(m) < market.fhe_capable_prob,
        "proof": rng.random(m) < market.proof_capable_prob,
    }


def _grid_price(
    best_bid: np.ndarray, best_ask: np.ndarray, supply: np.ndarray, demand: np.ndarray, tick: float
) -> float | None:
    """The Dutch clock's stopping price, from histograms of each agent's clock step.

    The clock descends from the highest best bid in steps of ``tick``; it stops at the first
    step where the demand of buyers whose best bid is at least the price reaches the supply
    of sellers whose best ask is at most the price (or at the lowest best ask's step).
    """
    from mechanisms.dutch import SNAP

    start, lowest = float(best_bid.max(initial=-np.inf)), float(best_ask.min(initial=np.inf))
    if not (np.isfinite(start) and np.isfinite(lowest)):
        return None
    last = int(np.floor((start + (1 + SNAP) * tick - lowest) / tick)) - 1
    if last < 0:
        return None
    enter = np.minimum(np.ceil((start - best_bid) / tick - SNAP), last + 1).astype(np.intp)
    leave = np.clip((start + (1 + SNAP) * tick - best_ask) / tick, 0, last + 1).astype(np.intp)
    demand_at = np.bincount(enter, weights=demand, minlength=last + 2).cumsum()[: last + 1]
    gone = np.bincount(leave, weights=supply, minlength=last + 2).cumsum()
    margin = demand_at - (gone[-1] - gone[: last + 1])
    k = last if margin[-1] < 0 else int((margin >= 0).argmax())
    return start - k * tick


def _floor_round(pop: dict[str, Any]) -> dict[str, Any]:
    """One round of the default market, hand-vectorized: draw, price, allocate, settle."""
    rng, n, m = pop["rng"], pop["supply"].size, pop["capacity"].size
    kind = rng.integers(pop["kinds"], size=m)  # this round's tasks
    task_industry = rng.integers(pop["industries"], size=m)
    fee = rng.uniform(*pop["fee"], size=m)
    rival = pop["industry"][:, None] == task_industry[None, :]
    kappa = pop["sharing_cost"][:, None] * (1.0 + pop["premium"] * rival)  # true costs
    ask = np.maximum(kappa, pop["min_price"][:, None])  # truthful, never below the intent's
    gross = pop["quality"][:, None] * fee[None, :]
    value = gross - pop["processing_cost"][None, :]  # true values
    bid = pop["keep"] * gross - pop["processing_cost"][None, :]  # net of the revenue share
    compatible = pop["allowed"][:, kind]
    compatible &= ~(pop["exclude_own"][:, None] & rival)
    compatible &= ~pop["require_fhe"][:, None] | pop["fhe"][None, :]
    compatible &= ~pop["require_proof"][:, None] | pop["proof"][None, :]
    best_bid = np.where(compatible, bid, -np.inf).max(axis=0)
    best_ask = np.where(compatible, ask, np.inf).min(axis=1)
    supply, capacity = pop["supply"], pop["capacity"]
    price = _grid_price(best_bid, best_ask, supply, capacity, pop["tick"])
    if price is None:
        allocation = np.zeros((n, m))
    else:
        slack = 1e-9 * pop["tick"]
        willing = compatible & (ask <= price + slack) & (bid >= price - slack)
        allocation = willing * capacity[None, :]  # sellers spread over willing buyers ...
        spread = allocation.sum(axis=1)
        allocation *= (supply / np.where(spread > 0, spread, 1.0))[:, None]
        bought = allocation.sum(axis=0)  # ... and buyers cut back pro rata to capacity
        allocation *= np.minimum(1.0, capacity / np.where(bought > 0, bought, 1.0))[None, :]
    sold, bought = allocation.sum(axis=1), allocation.sum(axis=0)
    return {
        "price": price,
        "volume": float(sold.sum()),
        "seller_revenue": (price or 0.0) * sold,
        "buyer_payments": (price or 0.0) * bought,
        "welfare": float(((value - kappa) * allocation).sum()),
        "market": (supply, capacity, ask, bid, compatible),
    }


def bench_floor(n: int, m: int, seed: int = 0, repeats: int = 5) -> dict[str, Any]:
    """A hand-vectorized numpy round of the default market: a floor on the engine's cost.

    Each repeat draws a round's tasks for a fixed population (drawn once, untimed, from the
    default market's distributions), builds the per-pair sharing costs (competitor premium
    toward the own industry), asks (never below the intent's minimum price), true and
    believed values (quality x fee - processing cost, the belief net of the revenue share)
    and the compatibility of intents and tasks as boolean masks (task kind, excluded own
    industry, FHE, proof); finds the Dutch auction's exact clearing price on its tick grid
    (histograms of each agent's best compatible quote, as ``clock: exact`` does, without its
    near-tie check); allocates pro rata on the willing pairs (compatible, ask <= price <=
    bid): each willing seller spreads its supply over its willing buyers in proportion to
    their capacity, then each buyer scales its units down to its capacity (feasible, not
    the engine's maximum-volume, maximum-surplus rationing); and sums payments and welfare.
    The price is checked (untimed) against ``mechanisms.get("dutch").clearing_price`` on the
    last repeat's market.

    Returns:
        ``cpu_seconds`` (process CPU time, median over repeats), every repeat's CPU and wall
        seconds, the last repeat's price, volume and welfare, and ``price_matches_dutch``.
    """
    pop = _floor_population(n, m, seed)
    cpu, wall, out = [], [], None
    for _ in range(repeats):
        out = None  # free the last repeat's arrays before the next
        started_cpu, started_wall = time.process_time(), time.perf_counter()
        out = _floor_round(pop)
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started_wall)
    supply, capacity, ask, bid, compatible = out["market"]
    dutch = mechanisms.get("dutch", tick=pop["tick"], clock="exact")
    engine_price, _ = dutch.clearing_price(Market(supply, capacity, ask, bid, compatible))
    matches = (out["price"] is None and engine_price is None) or (
        out["price"] is not None
        and engine_price is not None
        and abs(out["price"] - engine_price) <= 1e-9 * max(1.0, abs(engine_price))
    )
    return {
        "computes": (
            "draw tasks; per-pair costs, asks, values, bids, intent compatibility; exact "
            "Dutch clearing price on the tick grid; pro-rata allocation on willing pairs; "
            "payments and welfare"
        ),
        "repeats": repeats,
        "cpu_seconds": statistics.median(cpu),
        "cpu_seconds_by_repeat": cpu,
        "wall_seconds_by_repeat": wall,
        "price": out["price"],
        "volume": out["volume"],
        "welfare": out["welfare"],
        "compatible_share": float(compatible.mean()),
        "price_matches_dutch": bool(matches),
    }


def _meets(value: float | None, target: float | None, ok: bool) -> bool | None:
    if target is None:
        return None
    return bool(ok and value is not None and value <= target)


def bench_scale(
    sizes: list[tuple[int, int, int | None]] | None = None,
    rounds: int = 20,
    time_limit: float = 600.0,
    memory_limit_gib: float | None = 16.0,
    floor_repeats: int = 5,
    warmup: int = 1,
    seed: int = 0,
) -> dict[str, Any]:
    """Whole rounds of the default simulation by market size, each size in a fresh process.

    For each size: the floor (:func:`bench_floor`, in this process), then the engine's run
    of ``rounds`` rounds (planner on) in a fresh spawned process, stopped at ``time_limit``
    seconds or when its resident memory passes ``memory_limit_gib``. A size that stops
    early, or whose round raises, is recorded with ``status: "failed"`` and the ``reason``
    (with what it measured before), and the next size runs.

    Args:
        sizes: ``(corporations, solvers, rounds or None)``; default :data:`SCALE_SIZES`.
        rounds: rounds per size where a size names none.
        time_limit: wall seconds for a size's run (model construction included).
        memory_limit_gib: resident memory (GiB) at which a size's run is stopped; ``None``:
            no limit (the machine's own, where the OOM killer ends the run).
        floor_repeats: repeats of the floor's round.
        warmup: rounds left out of the medians (the first includes JAX compiles).
        seed: the runs' seed.

    Returns:
        The options and one entry per size under ``sizes``.
    """
    if sizes is None:
        sizes = [(n, m, None) for n, m in SCALE_SIZES]
    entries = []
    for n, m, size_rounds in sizes:
        size_rounds = size_rounds or rounds
        label = f"{n}x{m}"
        try:
            floor = {"status": "ok", **bench_floor(n, m, seed, floor_repeats)}
        except Exception as exc:  # a floor that cannot run must not stop the engine's
            floor = {"status": "failed", "reason": f"{type(exc).__name__}: {exc}"}
        config = _scale_config(n, m, size_rounds, seed)
        with tqdm(total=size_rounds, desc=f"scale {label}", unit="round") as bar:
            trace = _engine_trace(config, size_rounds, time_limit, memory_limit_gib, bar)
        ok = trace["reason"] is None
        summary = _summary(trace["rounds"], warmup, n * m)
        per_round = summary["cpu_seconds_per_round"]
        growth = summary["rss_growth"]
        targets = {
            "cpu_seconds_per_round_at_most": CPU_TARGETS.get((n, m)),
            "peak_rss_gib_at_most": PEAK_TARGETS_GIB.get((n, m)),
            "rss_growth_at_most": GROWTH_TARGET if size_rounds > GROWTH_FROM_ROUND else None,
        }
        meets = {
            "meets_cpu_target": _meets(per_round, targets["cpu_seconds_per_round_at_most"], ok),
            "meets_cpu_target_at_full_size": _meets(
                summary["full_size"]["cpu_seconds_per_round"],
                targets["cpu_seconds_per_round_at_most"],
                ok,
            ),
            "meets_memory_target": _meets(
                summary["peak_rss_gib"], targets["peak_rss_gib_at_most"], ok
            ),
            "meets_growth_target": _meets(
                growth["ratio"] if growth else None, targets["rss_growth_at_most"], ok
            ),
        }
        decided = [v for v in meets.values() if v is not None]
        floor_cpu = floor.get("cpu_seconds")
        full_cpu = summary["full_size"]["cpu_seconds_per_round"]  # the floor's market size
        engine_cpu = full_cpu if full_cpu is not None else per_round
        entries.append(
            {
                "size": label,
                "corporations": n,
                "solvers": m,
                "status": "ok" if ok else "failed",
                "reason": trace["reason"],
                "rounds_requested": size_rounds,
                "rounds_done": len(trace["rounds"]),
                "setup": trace["setup"],
                "wall_seconds": trace["wall_seconds"],
                **summary,
                "floor": floor,
                "engine_over_floor": (
                    engine_cpu / floor_cpu if engine_cpu is not None and floor_cpu else None
                ),
                "targets": targets,
                **meets,
                "meets_target": (all(decided) if decided else None) if ok else False,
            }
        )
    return {
        "config": "default (per-pair market with intents, Dutch auction, planner on)",
        "seed": seed,
        "rounds": rounds,
        "warmup_rounds": warmup,
        "time_limit_seconds": time_limit,
        "memory_limit_gib": memory_limit_gib,
        "cpu_time": "process CPU time (all threads) of the run's process",
        "sizes": entries,
    }


# --------------------------------------------------------------------------- sweep

SWEEP_TARGET = 1.7
"""Throughput of a parallel sweep over a serial one the default launcher should reach."""


def _sweep_once(
    launcher: str | None, runs: int, rounds: int, market: str, time_limit: float
) -> dict[str, Any]:
    """One local sweep as a subprocess of ``intentlab run -m``: wall time and its result."""
    import signal
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory(prefix="intentlab-bench-sweep-") as tmp:
        sweep_dir = Path(tmp) / "sweep"
        command = [
            sys.executable, "-m", "experiments.cli", "run", "-m",
            "seed=" + ",".join(str(s) for s in range(runs)), f"rounds={rounds}",
            f"market={market}", f"hydra.sweep.dir={sweep_dir}",
        ]  # fmt: skip
        if launcher is not None:
            command.append(f"hydra/launcher={launcher}")
        started = time.perf_counter()
        process = subprocess.Popen(
            command,
            cwd=tmp,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group: a timeout ends its workers too
        )
        reason = None
        try:
            _, stderr = process.communicate(timeout=time_limit)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the group this function started
            _, stderr = process.communicate()
            reason = f"time limit of {time_limit:g} s reached"
        wall = time.perf_counter() - started
        complete = len(list(sweep_dir.glob("*/DONE")))
        if reason is None and process.returncode != 0:
            tail = stderr.strip().splitlines()[-1:] or [""]
            reason = f"exit status {process.returncode}: {tail[0]}"
        elif reason is None and complete != runs:
            reason = f"{complete} of {runs} runs complete"
    return {
        "launcher": launcher or "default",
        "command": command[2:],
        "status": "ok" if reason is None else "failed",
        "reason": reason,
        "wall_seconds": wall,
        "runs_complete": complete,
        "runs_per_hour": runs / wall * 3600 if reason is None else None,
    }


def bench_sweep(
    runs: int = 8, rounds: int = 5, market: str = "small", time_limit: float = 900.0
) -> dict[str, Any]:
    """Runs per hour of a local sweep on the default launcher and on the serial one.

    Each sweep is ``intentlab run -m seed=0,...,runs-1 rounds=R market=M`` in a subprocess
    into a temporary directory, timed on the wall clock from start to exit; the serial one
    adds ``hydra/launcher=basic``. A sweep that fails or passes ``time_limit`` is recorded
    as failed.
    """
    sweeps = {}
    for name, launcher in tqdm(
        (("serial", "basic"), ("parallel", None)), desc="sweeps", unit="sweep"
    ):
        sweeps[name] = _sweep_once(launcher, runs, rounds, market, time_limit)
    serial, parallel = sweeps["serial"]["runs_per_hour"], sweeps["parallel"]["runs_per_hour"]
    ratio = parallel / serial if serial and parallel else None
    return {
        "runs": runs,
        "rounds": rounds,
        "market": market,
        "cpus": os.cpu_count(),
        "serial": sweeps["serial"],
        "parallel": sweeps["parallel"],
        "ratio_parallel_over_serial": ratio,
        "target_ratio_at_least": SWEEP_TARGET,
        "meets_target": bool(ratio is not None and ratio >= SWEEP_TARGET),
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


QUICK_SCALE_SIZES = ((12, 4, 3), (30, 10, 3))
"""Sizes (corporations, solvers, rounds) of the scale benchmark's smoke run."""


def summary_lines(report: dict[str, Any]) -> list[str]:
    """The report's results, one readable line each, as ``intentlab bench`` prints them."""
    lines = []
    planner = report.get("planner")
    if planner:
        lines.append(
            f"planner ({planner.get('planner_solver', '?')}) / all-pairs LP in HiGHS: "
            f"{planner['ratio_planner_over_direct']:.2f} (target <= 1.5), "
            f"max relative gap {planner['max_relative_gap']:.1e} "
            f"(target <= {planner['target_gap_at_most']:.0e})"
        )
    for row in report.get("dutch", {}).get("by_tick", []):
        lines.append(
            f"dutch exact vs ticking clock, tick {row['tick']} ({row['clock_steps']} steps): "
            f"price {row['speedup']:.0f}x faster (target >= 50x), whole clear "
            f"{row['clear_speedup']:.1f}x, same price: {row['same_price_within_one_tick']}"
        )
    lines += _valuation_lines(report.get("valuation") or {})
    memory = report.get("memory")
    if memory:
        lines.append(
            f"memory, {memory['corporations']} x {memory['solvers']} over {memory['rounds']} "
            f"rounds: peak RSS {memory['peak_rss_mib_by_round'][-1]:.0f} MiB, "
            f"{memory['ratio_last_over_round']['ratio']:.3f}x round "
            f"{memory['ratio_last_over_round']['round']}'s (target <= 1.1)"
        )
    for size in report.get("scale", {}).get("sizes", []):
        lines.append(_scale_line(size))
    sweep = report.get("sweep")
    if sweep:
        rates = []
        for name in ("parallel", "serial"):
            row = sweep[name]
            if row["runs_per_hour"] is None:
                rates.append(f"{name} FAILED ({row['reason']})")
            else:
                rates.append(
                    f"{name} {row['runs_per_hour']:.0f} runs/h ({row['wall_seconds']:.1f} s)"
                )
        ratio = sweep["ratio_parallel_over_serial"]
        verdict = f"parallel/serial {ratio:.2f}x" if ratio is not None else "no ratio"
        lines.append(
            f"sweep of {sweep['runs']} runs x {sweep['rounds']} rounds: {', '.join(rates)}; "
            f"{verdict} (target >= {sweep['target_ratio_at_least']}x)"
        )
    return lines


def _valuation_lines(valuation: dict[str, Any]) -> list[str]:
    """The valuation benchmark's lines: per estimator setting, whichever layout it has."""
    settings = {}
    if isinstance(valuation.get("default"), dict):
        settings["default estimator"] = valuation["default"]
    for count, row in (valuation.get("permutation") or {}).items():
        settings[f"{count} permutations"] = row
    lines = []
    for name, row in settings.items():
        parts = [f"data values, {valuation.get('owners', '?')} owners, {name}:"]
        if row.get("median_spearman") is not None:
            parts.append(f"median Spearman {row['median_spearman']:.3f},")
        if row.get("max_abs_error_worst") is not None:
            parts.append(f"max |error| {row['max_abs_error_worst']:.4f} accuracy points,")
        if row.get("seconds_per_game") is not None:
            parts.append(f"{row['seconds_per_game'] * 1e3:.2f} ms per game")
        lines.append(" ".join(parts).rstrip(","))
    if settings and valuation.get("target"):
        lines.append(f"data values target: {valuation['target']}")
    if settings or not valuation.get("by_market"):
        return lines
    by_count: dict[Any, list[dict]] = {}  # the per-market layout: one row per estimate
    for row in valuation["by_market"]:
        by_count.setdefault(row.get("permutations"), []).append(row)
    for count, rows in by_count.items():
        try:
            lines.append(
                f"Monte Carlo Shapley, {valuation['owners']} owners, {count} permutations: "
                f"max |error| {max(r['max_abs_error'] for r in rows):.4f} accuracy points "
                f"(exact total {statistics.mean(r['exact_total'] for r in rows):.3f}), "
                f"{statistics.mean(r['seconds'] for r in rows):.2f} s"
            )
        except (KeyError, TypeError):  # another layout: the report has it all
            lines.append(f"Monte Carlo Shapley, {count} permutations: see the report")
    return lines


def _scale_line(size: dict[str, Any]) -> str:
    """One line of the scale benchmark's result for a size."""
    parts = []
    per_round = size["cpu_seconds_per_round"]
    target = size["targets"]["cpu_seconds_per_round_at_most"]
    if per_round is not None:
        parts.append(f"{per_round:.3f} CPU-s/round" + (f" (target <= {target})" if target else ""))
    full = size["full_size"]
    shrank = 0 < full["rounds"] < size["rounds_done"] - 1  # agents exited during the run
    if full["cpu_seconds_per_round"] is not None and shrank:
        parts.append(
            f"{full['cpu_seconds_per_round']:.3f} at full size ({full['rounds']} rounds, "
            f"before agents exit)"
        )
    if size["first_round_cpu_seconds"] is not None:
        parts.append(f"first round {size['first_round_cpu_seconds']:.2f} s")
    floor_cpu = size["floor"].get("cpu_seconds")
    if floor_cpu is not None:
        ratio = size["engine_over_floor"]
        parts.append(
            f"numpy floor {floor_cpu:.4f} s" + (f" (engine {ratio:.0f}x)" if ratio else "")
        )
    if size["peak_rss_gib"] is not None:
        growth = size["rss_growth"]
        parts.append(
            f"peak {size['peak_rss_gib'] * 1024:.0f} MiB"
            + (f", {growth['ratio']:.3f}x round {growth['round']}'s" if growth else "")
        )
    for label, medians in (
        ("top stages", size["stage_cpu_seconds_per_round"]),
        ("at full size", full["stage_cpu_seconds_per_round"] if shrank else {}),
    ):
        stages = sorted(medians.items(), key=lambda kv: -kv[1])[:3]
        if stages:
            parts.append(f"{label} " + ", ".join(f"{k} {v:.3f}" for k, v in stages))
    if size["status"] != "ok":
        parts.append(f"FAILED: {size['reason']}")
    elif size["meets_target"] is not None:
        missed = [
            key.removeprefix("meets_").removesuffix("_target").replace("_target", "")
            for key in (
                "meets_cpu_target",
                "meets_cpu_target_at_full_size",
                "meets_memory_target",
                "meets_growth_target",
            )
            if size[key] is False
        ]
        parts.append(f"misses: {', '.join(missed)}" if missed else "meets its targets")
    done = f"{size['rounds_done']}/{size['rounds_requested']} rounds"
    return f"scale {size['size']}, {done}: " + "; ".join(parts)


def run(
    out: Path,
    quick: bool = False,
    scale_only: bool = False,
    sizes: list[tuple[int, int, int | None]] | None = None,
    rounds: int | None = None,
    time_limit: float = 600.0,
    memory_limit_gib: float | None = 16.0,
    floor_repeats: int | None = None,
    sweep: bool = True,
    sweep_runs: int | None = None,
) -> dict[str, Any]:
    """Run the benchmarks and write the JSON report to ``out`` (atomically).

    Args:
        out: report path.
        quick: smaller sizes for a smoke run (the report says so; targets do not apply).
        scale_only: only the scale and sweep benchmarks (``intentlab bench --scale``).
        sizes: the scale benchmark's sizes (see :func:`parse_sizes`); default
            :data:`SCALE_SIZES`, or :data:`QUICK_SCALE_SIZES` when ``quick``.
        rounds: rounds per size that names none; default 20 (3 when ``quick``).
        time_limit: wall seconds for each size's run.
        memory_limit_gib: resident memory at which a size's run is stopped.
        floor_repeats: repeats of the numpy floor; default 5 (2 when ``quick``).
        sweep: measure the sweep throughput.
        sweep_runs: runs per sweep; default 8 (2 when ``quick``).
    """
    report: dict[str, Any] = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "scale_only": scale_only,
        "environment": environment(),
    }
    if not scale_only:
        if quick:
            report["planner"] = bench_planner(n=100, m=20, rounds=2)
            report["dutch"] = bench_dutch(n=500, m=20, ticks=(0.01,), repeats=2)
            report["valuation"] = bench_valuation(owners=4, permutations=(10,), markets=1)
            report["memory"] = bench_memory(n=30, m=10, rounds=8, early=2)
        else:
            report["planner"] = bench_planner()
            report["dutch"] = bench_dutch()
            report["valuation"] = bench_valuation()
            report["memory"] = bench_memory()
    if sizes is None and quick:
        sizes = list(QUICK_SCALE_SIZES)
    report["scale"] = bench_scale(
        sizes=sizes,
        rounds=rounds or (3 if quick else 20),
        time_limit=time_limit,
        memory_limit_gib=memory_limit_gib,
        floor_repeats=floor_repeats or (2 if quick else 5),
    )
    if sweep:
        runs = sweep_runs or (2 if quick else 8)
        report["sweep"] = bench_sweep(runs=runs, rounds=2 if quick else 5)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(out, lambda path: Path(path).write_text(json.dumps(report, indent=2) + "\n"))
    return report
