"""How entry costs limit the number of solvers, against the number users or a planner would pick.

Chitra et al., "An Analysis of Intent-Based Markets" (2024), model solvers that pay an
entry cost and then exert congested effort to serve users' orders; they find that a
planner maximizing the users' welfare may prefer fewer solvers than free entry brings.

For each congestion exponent, market size and seed, the study runs the market with
``N = 1 .. max_solvers`` solvers and no entry or exit, and measures per round:

* the mean solver's profit in money (fees less compute less data payments), and the same
  plus its token rewards net of slashing at ``incentives.token_price`` (the profit a solver
  deciding to enter sees when tokens subsidize it);
* the corporations' (users') surplus in money net of their sharing costs (token rewards
  excluded), and the realized welfare on true values (which counts no tokens).

From these curves, with an entry cost ``K`` per solver and round (:func:`counts`):

* **free entry**: every equilibrium count ``N`` with ``profit(N) >= K > profit(N + 1)``
  (:func:`free_entry`), on the profit with tokens (``free_entry*``) and on money alone
  (``free_entry_money*``); where ``profit(max_solvers) >= K`` more solvers may still enter
  and the count is *censored* at the cap;
* the **users' optimum**: the count that maximizes the users' surplus;
* the **welfare optimum**: the count that maximizes welfare net of the entry costs ``N K``.

Optima (:func:`optimum`) include ``N = 0`` (no market, nothing gained) and are censored
when they sit at the cap. Counts come from the mean curve over seeds (``counts``) and from
each seed's curve (``seed_counts``, for intervals over seeds).

Congestion (``market.congestion``, ``market.congestion_model``) acts on the solvers' side:
with ``effort`` each solver's processing cost per unit scales by ``N^congestion`` (more
rivals, more effort to win and serve an order) while the orders keep their value; with
``fee_dilution`` task fees scale by ``N^-congestion``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

import sim
from experiments.figures import PAGE_WIDTH, PALETTE, _band, _save, seeds, t_scale
from experiments.studies.base import Study, Tables, run_jobs
from sim.config import SimConfig, between, one_of, param
from sim.results import rounded

#: The per-round quantities each run of the ``entry`` table records.
MEASURES = ("solver_profit", "solver_profit_money", "users_surplus", "welfare", "volume")

#: Where each count comes from: column prefix -> the ``entry`` column it is computed on.
FREE_ENTRY = {"free_entry": "solver_profit", "free_entry_money": "solver_profit_money"}

_COUNT_STYLES = {"free_entry_min": "-", "free_entry_max": "-", "users_optimum": "--",
                 "welfare_optimum": ":"}  # fmt: skip


def _numbers(value: tuple[float, ...]) -> str | None:
    return None if value and min(value) >= 0 else "must be a non-empty list of numbers >= 0"


def _sizes(value: tuple[int, ...]) -> str | None:
    return None if value and min(value) >= 1 else "must be a non-empty list of integers >= 1"


@dataclass(frozen=True)
class EntryStudyConfig:
    """The ``study`` block of ``experiment=solver_entry``.

    Attributes:
        kind: always ``solver_entry``.
        entry_costs: entry costs ``K`` per solver and round (money).
        congestion: congestion exponents (``market.congestion``; the model is
            ``market.congestion_model``).
        corporations: market sizes (corporations).
        max_solvers: the largest solver count tried (the cap counts are censored at).
        seeds: seeds ``seed, seed + 1, ...`` (from the top-level ``seed``).
        workers: processes the runs use; 0: one per core (use 1 inside a sweep).
    """

    kind: str = param("solver_entry", one_of("solver_entry"))
    entry_costs: tuple[float, ...] = param(
        (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0), _numbers
    )
    congestion: tuple[float, ...] = param((0.0, 0.2, 0.4), _numbers)
    corporations: tuple[int, ...] = param((30, 60), _sizes)
    max_solvers: int = param(30, between(1))
    seeds: int = param(10, between(1))
    workers: int = param(0, between(0))


class SolverEntry(Study):
    """Free-entry equilibria, the users' optimum and the welfare optimum by entry cost.

    Tables ``entry`` (one row per congestion, market size, seed and solver count: per-round
    means, see :data:`MEASURES`), ``counts`` (:func:`counts` on the mean curves over seeds,
    with how monotone each profit curve is) and ``seed_counts`` (:func:`counts` per seed).
    """

    kind = "solver_entry"
    Config = EntryStudyConfig
    tables = ("entry.parquet", "counts.parquet", "seed_counts.parquet")
    small = ("study.max_solvers=10", "study.seeds=3", "rounds=5", "study.corporations=[30]")
    tiny = ("study.seeds=1", "study.max_solvers=3", "study.corporations=[10]",
            "study.congestion=[0.0]", "study.workers=1")  # fmt: skip
    assumptions = {  # noqa: RUF012 (read-only)
        "incentives.token_price": (0.0, 0.05, 0.5),
        "market.fee_high": (4.0, 6.0, 10.0),
        "market.compute_price_low+market.compute_price_high": (0.01, 0.02, 0.04),
        "rounds": (10, 20, 40),
    }

    def run(self, base: SimConfig, config: EntryStudyConfig, progress: bool = False) -> Tables:
        """Run every solver count for every congestion, market size and seed.

        Runs use ``config.workers`` forked processes where forking is safe (the tables do
        not depend on it: each run draws from its own seed), one after the other otherwise.
        """
        agents = dataclasses.replace(
            base.agents,
            corporation_arrival_rate=0.0,
            solver_arrival_rate=0.0,
            grace_rounds=base.rounds + 1,  # nobody leaves: the count is what the study sets
        )
        fixed = dataclasses.replace(base, agents=agents)
        jobs = [
            (g, n, base.seed + s, m)
            for g in config.congestion
            for n in config.corporations
            for s in range(config.seeds)
            for m in range(1, config.max_solvers + 1)
        ]
        measure = functools.partial(_measure, base=fixed)
        table = pd.DataFrame(run_jobs(measure, jobs, config.workers, progress))
        return {
            "entry": table,
            "counts": counts(table, config.entry_costs),
            "seed_counts": counts(table, config.entry_costs, by_seed=True),
        }

    def plot(self, tables: Tables, path: Path) -> Path:
        """Profit and surplus against the solver count; the counts against the entry cost.

        One row per congestion exponent, one colour per market size. Left: the mean
        solver's profit per round with tokens (solid) and in money (dashed), entry costs
        as dotted lines. Middle: the users' surplus (solid) and welfare (dashed). Right:
        free entry (the smallest and largest equilibrium, solid), the users' optimum
        (dashed) and the welfare optimum (dotted) against ``K``: lines are means over
        seeds of each seed's count; markers the counts on the mean curve, open where
        censored at the cap. Bands are 95% t intervals over seeds.
        """
        table, found, per_seed = tables["entry"], tables["counts"], tables["seed_counts"]
        congestion = sorted(table["congestion"].unique())
        sizes = sorted(table["corporations"].unique())
        colors = {n: PALETTE[k % len(PALETTE)] for k, n in enumerate(sizes)}
        fig, axes = plt.subplots(
            len(congestion), 3, figsize=(PAGE_WIDTH, 2.0 * len(congestion) + 0.9), squeeze=False,
            layout="constrained",
        )  # fmt: skip
        band = {"t": True, "lw": 1.0}
        for row, g in zip(axes, congestion, strict=True):
            for n in sizes:
                color = colors[n]
                runs = table[(table["congestion"] == g) & (table["corporations"] == n)]
                by_count = runs.groupby("solvers")
                _band(row[0], by_count["solver_profit"], color, **band)
                _band(row[0], by_count["solver_profit_money"], color, "--", **band)
                _band(row[1], by_count["users_surplus"], color, **band)
                _band(row[1], by_count["welfare"], color, "--", **band)
                mine = per_seed[(per_seed["congestion"] == g) & (per_seed["corporations"] == n)]
                by_cost = mine.groupby("entry_cost")
                for column, style in _COUNT_STYLES.items():
                    _band(row[2], by_cost[column], color, style, floor=0.0, **band)
                mean = found[(found["congestion"] == g) & (found["corporations"] == n)]
                _markers(row[2], mean, color)
            for cost in sorted(found["entry_cost"].unique()):
                row[0].axhline(cost, color="0.7", lw=0.5, ls=":")
            row[0].set_title(f"congestion {g:g}: solver profit", loc="left")
            row[1].set_title("users' surplus, welfare", loc="left")
            row[2].set_title("solver counts", loc="left")
            row[0].set_ylabel("money per round")
            row[1].set_ylabel("money per round")
            row[2].set_ylabel("solvers")
            for ax in row:
                ax.grid(alpha=0.3)
        for ax in axes[-1, :2]:
            ax.set_xlabel("solvers N")
        for row in axes:  # solver counts are integers
            for axis in (row[0].xaxis, row[1].xaxis, row[2].yaxis):
                axis.set_major_locator(MaxNLocator(integer=True))
        axes[-1, 2].set_xlabel("entry cost K per round")
        first = table.iloc[0]
        count, cap = table["seed"].nunique(), int(table["solvers"].max())
        fig.suptitle(
            f"Solver entry, {first['congestion_model']} congestion: {int(first['rounds'])} "
            f"rounds, {seeds(count)}, N = 1..{cap}, "
            f"{', '.join(map(str, sizes))} corporations"
        )
        fig.legend(handles=_legend(colors), loc="outside lower center", ncols=3, frameon=False)
        return _save(fig, Path(path))

    def verdict(self, tables: Tables) -> pd.DataFrame:
        """Per seed and congestion: how far free entry overshoots the users' optimum.

        The largest free-entry equilibrium less the users' optimum, each on the seed's own
        curves, averaged over the entry costs and market sizes: positive where free entry
        brings more solvers than the users would choose (Chitra et al.'s concern), negative
        where it brings fewer. Censored counts enter at the cap, so a difference at the cap
        is a bound.
        """
        found = tables["seed_counts"]
        found = found.assign(gap=found["free_entry_max"] - found["users_optimum"])
        per_seed = found.groupby(["congestion", "seed"])["gap"].mean()
        return pd.DataFrame(
            {
                "quantity": [f"overshoot at congestion {g:g}: free entry - users' optimum"
                             for g in per_seed.index.get_level_values("congestion")],
                "seed": per_seed.index.get_level_values("seed"),
                "value": per_seed.to_numpy(),
            }
        )  # fmt: skip

    def summary(self, tables: Tables) -> pd.DataFrame:
        """The counts on the mean curves (see :func:`counts`) by congestion, size and cost."""
        columns = [
            "free_entry", "free_entry_censored", "free_entry_money", "free_entry_money_censored",
            "users_optimum", "users_optimum_censored", "welfare_optimum",
            "welfare_optimum_censored", "profit_rise_over_band", "profit_money_rise_over_band",
        ]  # fmt: skip
        found = tables["counts"].set_index(["congestion", "corporations", "entry_cost"])
        return rounded(found[columns])


def _measure(job: tuple[float, int, int, int], base: SimConfig) -> dict:
    """One run with ``m`` solvers: the per-round means of :data:`MEASURES`."""
    congestion, n, seed, m = job
    market = dataclasses.replace(base.market, n_corporations=n, n_solvers=m, congestion=congestion)
    config = dataclasses.replace(base, seed=seed, market=market)
    return {
        "congestion": congestion,
        "congestion_model": config.market.congestion_model,
        "corporations": n,
        "seed": seed,
        "solvers": m,
        "rounds": config.rounds,
        **profits(sim.run(config)),
    }


def profits(result: sim.RunResult) -> dict[str, float]:
    """Per-round means of a run without entry or exit (:data:`MEASURES`).

    ``solver_profit`` is the mean solver's utility (money, plus token rewards net of
    slashing at ``incentives.token_price``); ``solver_profit_money`` its money alone (its
    balance less the endowment); ``users_surplus`` the corporations' money net of their
    sharing costs (their utility less the token rewards they hold at the token price);
    ``welfare`` and ``volume`` the rounds' means.
    """
    config = result.config
    rounds, price = config.rounds, config.incentives.token_price
    agents = result.agents
    solvers = agents[agents["kind"] == "solver"]
    corps = agents[agents["kind"] == "corporation"]
    money = solvers["money"] - config.market.money_endowment
    return {
        "solver_profit": float(solvers["utility_total"].mean()) / rounds,
        "solver_profit_money": float(money.mean()) / rounds,
        "users_surplus": float((corps["utility_total"] - price * corps["tokens"]).sum()) / rounds,
        "welfare": float(result.rounds["welfare"].mean()),
        "volume": float(result.rounds["volume"].mean()),
    }


def free_entry(profit: Sequence[float], cost: float) -> tuple[list[int], bool]:
    """Every free-entry equilibrium of a profit curve at entry cost ``cost``.

    ``N`` solvers are an equilibrium when each covers its entry cost and one more entrant
    would not: ``profit(N) >= cost > profit(N + 1)``; ``N = 0`` is one when
    ``profit(1) < cost``. At the last count of the curve (the cap) an entrant's profit is
    not known: if ``profit(cap) >= cost`` the cap is listed as censored (the equilibrium
    may lie beyond it).

    Args:
        profit: ``profit[k]`` is each solver's profit with ``k + 1`` solvers.
        cost: the entry cost.

    Returns:
        The equilibria in increasing order, and whether the last one is censored at the cap.

    Raises:
        ValueError: for an empty curve or a value that is not finite.
    """
    covers = _finite(profit, "profit") >= cost
    found = [] if covers[0] else [0]
    found += [k + 1 for k in range(covers.size - 1) if covers[k] and not covers[k + 1]]
    censored = bool(covers[-1])
    if censored:
        found.append(covers.size)
    return found, censored


def optimum(values: Sequence[float]) -> tuple[int, bool]:
    """The count that maximizes ``values`` (``values[k]`` at ``k + 1`` solvers), or 0.

    No solver gains nothing, so ``N = 0`` is chosen when every value is negative; ties go
    to the smallest count.

    Returns:
        The count, and whether it is censored (at the cap: larger counts were not tried).

    Raises:
        ValueError: for an empty curve or a value that is not finite.
    """
    curve = np.concatenate([[0.0], _finite(values, "values")])
    best = int(np.argmax(curve))
    return best, best == curve.size - 1


def _finite(values: Sequence[float], name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1 or array.size == 0 or not np.isfinite(array).all():
        raise ValueError(f"{name} must be a non-empty 1-d curve of finite numbers")
    return array


def _listed(found: list[int], censored: bool) -> str:
    """Equilibria as text, e.g. ``"9, 13"``; a censored cap as ``">=30"``."""
    text = [str(n) for n in found]
    if censored:
        text[-1] = f">={text[-1]}"
    return ", ".join(text)


def counts(
    table: pd.DataFrame, entry_costs: Sequence[float], by_seed: bool = False
) -> pd.DataFrame:
    """Free-entry equilibria, users' and welfare optima per entry cost.

    Args:
        table: the ``entry`` table: one row per congestion, market size, seed and solver
            count ``1 .. cap`` (every count present for every curve).
        entry_costs: the entry costs ``K``.
        by_seed: one curve per seed; otherwise the mean curve over seeds, with
            ``profit_rise_over_band`` and ``profit_money_rise_over_band`` (see
            :func:`rise_over_band`).

    Returns:
        One row per congestion, market size (and seed) and entry cost. For free entry on
        profit with tokens (``free_entry``) and on money alone (``free_entry_money``): the
        equilibria as text, their smallest (``_min``) and largest (``_max``), and whether
        the largest is censored at the cap (``_censored``). ``users_optimum`` and
        ``welfare_optimum`` (welfare less ``N K``) with their ``_censored`` marks.

    Raises:
        ValueError: if a curve misses a solver count.
    """
    keys = ["congestion", "corporations", *(["seed"] if by_seed else [])]
    rows = []
    for key, runs in table.groupby(keys):
        curve = runs.groupby("solvers")[list(MEASURES)].mean()
        n = curve.index.to_numpy()
        if not np.array_equal(n, np.arange(1, n.size + 1)):
            raise ValueError(f"curve {key} must have every solver count 1..{n.size}")
        shape = {}
        if not by_seed:
            shape = {
                "profit_rise_over_band": rise_over_band(runs, "solver_profit"),
                "profit_money_rise_over_band": rise_over_band(runs, "solver_profit_money"),
            }
        for cost in entry_costs:
            row = dict(zip(keys, key, strict=True)) | {"entry_cost": cost}
            for prefix, column in FREE_ENTRY.items():
                found, censored = free_entry(curve[column].to_numpy(), cost)
                row |= {
                    prefix: _listed(found, censored),
                    f"{prefix}_min": found[0],
                    f"{prefix}_max": found[-1],
                    f"{prefix}_censored": censored,
                }
            users, users_censored = optimum(curve["users_surplus"].to_numpy())
            welfare, welfare_censored = optimum(curve["welfare"].to_numpy() - n * cost)
            row |= {
                "users_optimum": users,
                "users_optimum_censored": users_censored,
                "welfare_optimum": welfare,
                "welfare_optimum_censored": welfare_censored,
                **shape,
            }
            rows.append(row)
    return pd.DataFrame(rows)


def rise_over_band(runs: pd.DataFrame, column: str) -> float:
    """How far a mean curve over seeds rises between consecutive counts, against its bands.

    The largest ``mean(N + 1) - mean(N)`` over ``N``, divided by the sum of the two
    counts' 95% t half-widths over seeds: at most 1 where every rise stays within
    overlapping bands (the curve is non-increasing within them), 0 for a curve that never
    rises, infinite where it rises with no spread (a single seed).

    Args:
        runs: rows of one curve: columns ``solvers``, ``seed`` and ``column``.
        column: the curve's column.
    """
    grouped = runs.groupby("solvers")[column]
    mean = grouped.mean().to_numpy()
    half = t_scale(grouped.size().to_numpy()) * np.nan_to_num(grouped.sem().to_numpy())
    rise = np.maximum(np.diff(mean), 0.0)
    width = half[:-1] + half[1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(rise > 0, rise / width, 0.0)
    return float(ratio.max()) if ratio.size else 0.0


def _markers(ax, mean: pd.DataFrame, color: str) -> None:
    """Counts on the mean curve: every free-entry equilibrium and both optima.

    Filled markers are counts; open markers are censored at the cap.
    """
    for _, row in mean.iterrows():
        points = [int(text.lstrip(">=")) for text in row["free_entry"].split(", ")]
        for k, n in enumerate(points):
            open_ = row["free_entry_censored"] and k == len(points) - 1
            _mark(ax, row["entry_cost"], n, "o", color, open_)
        _mark(ax, row["entry_cost"], row["users_optimum"], "s", color,
              row["users_optimum_censored"])  # fmt: skip
        _mark(ax, row["entry_cost"], row["welfare_optimum"], "^", color,
              row["welfare_optimum_censored"])  # fmt: skip


def _mark(ax, x: float, y: float, marker: str, color: str, hollow: bool) -> None:
    ax.plot([x], [y], marker, ms=3.5, color=color, mfc="none" if hollow else color, mew=0.8)


def _legend(colors: dict[int, str]) -> list[plt.Line2D]:
    handles = [plt.Line2D([], [], color=c, label=f"{n} corporations") for n, c in colors.items()]
    gray = "0.3"
    return [
        *handles,
        plt.Line2D([], [], color=gray, label="profit with tokens; users' surplus"),
        plt.Line2D([], [], color=gray, ls="--", label="profit in money; welfare"),
        plt.Line2D([], [], color=gray, marker="o", label="free entry (smallest, largest)"),
        plt.Line2D([], [], color=gray, ls="--", marker="s", label="users' optimum"),
        plt.Line2D([], [], color=gray, ls=":", marker="^", label="welfare optimum (net of NK)"),
        plt.Line2D([], [], color=gray, ls="", marker="o", mfc="none", label="censored at cap"),
    ]


__all__ = [
    "EntryStudyConfig",
    "SolverEntry",
    "counts",
    "free_entry",
    "optimum",
    "profits",
    "rise_over_band",
]
