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
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

import sim
from sim.config import SimConfig, between, build_config, one_of, param


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


def load_study(data: dict[str, Any]) -> EntryStudyConfig:
    """Validate the ``study`` block of a config.

    Raises:
        ConfigError: naming the first unknown key or bad value.
    """
    return build_config(EntryStudyConfig, data, "study.")


def run(base: SimConfig, study: EntryStudyConfig, progress: bool = False) -> pd.DataFrame:
    """One row per congestion, market size, seed and solver count, per-round means."""
    agents = dataclasses.replace(
        base.agents,
        corporation_arrival_rate=0.0,
        solver_arrival_rate=0.0,
        grace_rounds=base.rounds + 1,  # nobody leaves: the count is what the study sets
    )
    jobs = [
        (g, n, base.seed + s, m)
        for g in study.congestion
        for n in study.corporations
        for s in range(study.seeds)
        for m in range(1, study.max_solvers + 1)
    ]
    rows = []
    for congestion, n, seed, m in tqdm(jobs, desc="runs", unit="run", disable=not progress):
        market = dataclasses.replace(
            base.market, n_corporations=n, n_solvers=m, congestion=congestion
        )
        config = dataclasses.replace(base, seed=seed, market=market, agents=agents)
        result = sim.run(config)
        per_round = result.agents.groupby("kind")["utility_total"].sum() / config.rounds
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
    return pd.DataFrame(rows)


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


def summary(table: pd.DataFrame, entry_costs: tuple[float, ...] | None = None) -> pd.DataFrame:
    """The solver counts (see :func:`counts`) indexed by congestion, size and entry cost."""
    costs = entry_costs if entry_costs is not None else EntryStudyConfig().entry_costs
    return counts(table, costs).set_index(["congestion", "corporations", "entry_cost"])


def save(table: pd.DataFrame, base: SimConfig, study: EntryStudyConfig, directory: Path):
    """Write ``entry.parquet``, ``counts.parquet``, ``solver_entry.png``/``.pdf``, config, DONE."""
    from experiments import save_study
    from experiments.figures import plot_entry

    found = counts(table, study.entry_costs)
    return save_study(directory, base, study, {"entry": table, "counts": found}, "solver_entry",
                      lambda p: plot_entry(table, found, p))  # fmt: skip


def execute(
    base: SimConfig, study: EntryStudyConfig, directory: Path, progress: bool = False
) -> pd.DataFrame:
    """Run the study, save it to ``directory`` and return the solver counts."""
    table = run(base, study, progress=progress)
    save(table, base, study, directory)
    return summary(table, study.entry_costs)
