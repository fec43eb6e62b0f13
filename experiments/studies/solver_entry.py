"""How entry costs limit the number of solvers, against the number a planner would allow.

For each congestion exponent, market size and seed, the study runs the market with
``m = 1 .. max_solvers`` solvers and no entry or exit, and measures per round the mean
solver's profit (money plus token value, net of nothing), the corporations' (users')
surplus and the total welfare. With an entry cost ``K`` per solver and round:

* the **free-entry** count: solvers enter one by one while the mean solver's profit at
  the new count still covers ``K``;
* the **users' planner** count maximizes the corporations' surplus (Chitra et al., "An
  Analysis of Intent-Based Markets", 2024, ask whether free entry gives users the solver
  count they would choose);
* the **welfare planner** count maximizes total welfare net of the entry costs
  ``m · K``.

With congestion (``market.congestion``), each entrant lowers every solver's value: task
fees scale by ``m^−congestion``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

import sim
from experiments.figures import PALETTE, _band, _save
from experiments.studies.base import Study, Tables
from sim.config import SimConfig, between, one_of, param


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
        congestion: congestion exponents.
        corporations: market sizes (corporations).
        max_solvers: the largest solver count tried.
        seeds: seeds ``seed, seed + 1, ...`` (from the top-level ``seed``).
    """

    kind: str = param("solver_entry", one_of("solver_entry"))
    entry_costs: tuple[float, ...] = param((0.0, 1.0, 2.0, 5.0, 10.0), _numbers)
    congestion: tuple[float, ...] = param((0.0, 0.5), _numbers)
    corporations: tuple[int, ...] = param((30, 60), _sizes)
    max_solvers: int = param(20, between(1))
    seeds: int = param(2, between(1))


class SolverEntry(Study):
    """How an entry cost limits the solver count, against the count the users would choose.

    Tables ``entry`` (one row per congestion, market size, seed and solver count, per-round
    means) and ``counts`` (its :func:`counts` at the study's entry costs).
    """

    kind = "solver_entry"
    Config = EntryStudyConfig
    tables = ("entry.parquet", "counts.parquet")
    small = ("study.max_solvers=8", "study.seeds=2", "rounds=3", "study.corporations=[20,40]")
    tiny = ("study.seeds=1", "study.max_solvers=3", "study.corporations=[10]",
            "study.congestion=[0.0]")  # fmt: skip

    def run(self, base: SimConfig, config: EntryStudyConfig, progress: bool = False) -> Tables:
        """Run every solver count for every congestion, market size and seed."""
        agents = dataclasses.replace(
            base.agents,
            corporation_arrival_rate=0.0,
            solver_arrival_rate=0.0,
            grace_rounds=base.rounds + 1,  # nobody leaves: the count is what the study sets
        )
        jobs = [
            (g, n, base.seed + s, m)
            for g in config.congestion
            for n in config.corporations
            for s in range(config.seeds)
            for m in range(1, config.max_solvers + 1)
        ]
        rows = []
        for congestion, n, seed, m in tqdm(jobs, desc="runs", unit="run", disable=not progress):
            market = dataclasses.replace(
                base.market, n_corporations=n, n_solvers=m, congestion=congestion
            )
            run_config = dataclasses.replace(base, seed=seed, market=market, agents=agents)
            result = sim.run(run_config)
            per_round = result.agents.groupby("kind")["utility_total"].sum() / run_config.rounds
            rows.append(
                {
                    "congestion": congestion,
                    "corporations": n,
                    "seed": seed,
                    "solvers": m,
                    "solver_profit": per_round.get("solver", 0.0) / m,
                    "users_surplus": per_round.get("corporation", 0.0),
                    "welfare": result.rounds["welfare"].mean(),
                    "volume": result.rounds["volume"].mean(),
                }
            )
        table = pd.DataFrame(rows)
        return {"entry": table, "counts": counts(table, config.entry_costs)}

    def plot(self, tables: Tables, path: Path) -> Path:
        """Solver entry: profit and users' surplus against the solver count, and the counts.

        Left: the mean solver's profit per round against the number of solvers (one line per
        congestion exponent and market size, 95% band over seeds); entry costs as dotted
        lines. Middle: the corporations' (users') surplus. Right: the free-entry count and
        the users' planner's count against the entry cost.
        """
        table, found = tables["entry"], tables["counts"]
        fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), layout="constrained")
        curves = list(table.groupby(["congestion", "corporations"]))
        for k, ((congestion, n), group) in enumerate(curves):
            color = PALETTE[k % len(PALETTE)]
            label = f"congestion {congestion:g}, {n} corporations"
            for ax, column in zip(axes[:2], ("solver_profit", "users_surplus"), strict=True):
                _band(ax, group.groupby("solvers")[column], color, label=label)
            mine = found[(found["congestion"] == congestion) & (found["corporations"] == n)]
            axes[2].plot(mine["entry_cost"], mine["free_entry"], "-o", ms=3, color=color,
                         label=label)  # fmt: skip
            axes[2].plot(mine["entry_cost"], mine["users_planner"], ":", color=color)
        for cost in sorted(set(found["entry_cost"])):
            axes[0].axhline(cost, color="0.6", lw=0.6, ls=":")
        axes[0].set(xlabel="solvers", ylabel="mean solver profit per round (money)")
        axes[1].set(xlabel="solvers", ylabel="corporations' surplus per round (money)")
        axes[2].set(xlabel="entry cost K per solver and round (money)", ylabel="solvers")
        axes[2].plot([], [], "-o", color="0.3", ms=3, label="free entry")
        axes[2].plot([], [], ":", color="0.3", label="users' planner")
        for ax in axes:
            ax.grid(alpha=0.3)
        seeds = table["seed"].nunique()
        fig.legend(*axes[2].get_legend_handles_labels(), loc="outside right upper",
                   frameon=False, title=f"mean, 95% CI over {seeds} seeds")  # fmt: skip
        return _save(fig, Path(path))

    def summary(self, tables: Tables) -> pd.DataFrame:
        """The solver counts (see :func:`counts`) indexed by congestion, size and entry cost."""
        return tables["counts"].set_index(["congestion", "corporations", "entry_cost"])


def counts(table: pd.DataFrame, entry_costs: tuple[float, ...]) -> pd.DataFrame:
    """Free-entry, users'-planner and welfare-planner solver counts per entry cost.

    Means over seeds first; one row per congestion, market size and entry cost.
    """
    means = table.groupby(["congestion", "corporations", "solvers"]).mean(numeric_only=True)
    rows = []
    for (congestion, n), curve in means.groupby(level=["congestion", "corporations"]):
        curve = curve.droplevel(["congestion", "corporations"])
        m = curve.index.to_numpy()
        for cost in entry_costs:
            short = curve["solver_profit"].to_numpy() < cost
            rows.append(
                {
                    "congestion": congestion,
                    "corporations": n,
                    "entry_cost": cost,
                    # solvers enter one by one while the entrant's profit still covers K
                    "free_entry": int(np.argmax(short)) if short.any() else int(m.max()),
                    "users_planner": int(m[np.argmax(curve["users_surplus"].to_numpy())]),
                    "welfare_planner": int(m[np.argmax(curve["welfare"].to_numpy() - m * cost)]),
                }
            )
    return pd.DataFrame(rows)
