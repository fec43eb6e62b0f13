"""The headline study: the same population under the intent market and under Yuma.

For each seed the study runs the simulation twice, once per incentive regime, with every
other setting equal. The model draws the population, tasks and intents from the same
streams under both regimes, so the runs differ only where agents' choices (trades, exits,
entries) differ. Each round reports data provision (share of corporations supplying, and
volume), model accuracy, welfare, solver concentration (HHI of solver rewards and of units
processed) and reward inequality (Gini).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from tqdm.auto import tqdm

import sim
from experiments.figures import PALETTE, _band, _save
from experiments.studies.base import Study, Tables
from sim.config import INCENTIVE_REGIMES, SimConfig, between, one_of, param

#: The per-round figures the study compares (column, axis label).
PANELS = [
    ("data_share", "corporations supplying data (share)"),
    ("volume", "data units traded per round"),
    ("model_accuracy", "solvers' model accuracy (held out)"),
    ("welfare", "welfare per round (money)"),
    ("solver_reward_hhi", "solver reward concentration (HHI)"),
    ("reward_gini", "reward inequality (Gini)"),
]


def _regimes(value: tuple[str, ...]) -> str | None:
    if value and set(value) <= set(INCENTIVE_REGIMES) and len(set(value)) == len(value):
        return None
    return f"must be distinct names; allowed: {', '.join(INCENTIVE_REGIMES)}"


@dataclass(frozen=True)
class RegimeStudyConfig:
    """The ``study`` block of ``experiment=intent_vs_yuma``.

    Attributes:
        kind: always ``intent_vs_yuma``.
        regimes: incentive regimes to run.
        seeds: seeds ``seed, seed + 1, ...`` (from the top-level ``seed``).
    """

    kind: str = param("intent_vs_yuma", one_of("intent_vs_yuma"))
    regimes: tuple[str, ...] = param(("intent_market", "yuma"), _regimes)
    seeds: int = param(3, between(1))


class IntentVsYuma(Study):
    """Whether the intent market gets competitors to share data where Yuma does not, at what cost.

    Tables ``rounds`` and ``adversaries``: every run's, with ``regime`` and ``seed`` columns.
    """

    kind = "intent_vs_yuma"
    Config = RegimeStudyConfig
    tables = ("rounds.parquet", "adversaries.parquet")
    small = ("study.seeds=2", "rounds=12", "market.n_corporations=30", "market.n_solvers=8")
    tiny = ("study.seeds=1",)

    def run(self, base: SimConfig, config: RegimeStudyConfig, progress: bool = False) -> Tables:
        """Run every regime for every seed."""
        rounds, adversaries = [], []
        jobs = [(base.seed + s, r) for s in range(config.seeds) for r in config.regimes]
        for seed, regime in tqdm(jobs, desc="runs", unit="run", disable=not progress):
            run_config = dataclasses.replace(
                base,
                seed=seed,
                incentives=dataclasses.replace(base.incentives, regime=regime),
            )
            result = sim.run(run_config)
            rounds.append(result.rounds.assign(regime=regime, seed=seed))
            adversaries.append(result.adversaries.assign(regime=regime, seed=seed))
        return {
            "rounds": pd.concat(rounds, ignore_index=True),
            "adversaries": pd.concat(adversaries, ignore_index=True),
        }

    def plot(self, tables: Tables, path: Path) -> Path:
        """Incentive regimes over time: one colour per regime, mean over seeds, 95% band."""
        rounds = tables["rounds"]
        regimes = list(dict.fromkeys(rounds["regime"]))
        colors = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(regimes)}
        fig, axes = plt.subplots(2, 3, figsize=(13, 6.5), sharex=True, layout="constrained")
        for ax, (column, label) in zip(axes.flat, PANELS, strict=True):
            for regime, group in rounds.groupby("regime", sort=False):
                _band(ax, group.groupby("round")[column], colors[regime], label=regime)
            ax.set_ylabel(label, fontsize="small")
            ax.grid(alpha=0.3)
        for ax in axes[1]:
            ax.set_xlabel("round")
        seeds = rounds["seed"].nunique()
        handles = [plt.Line2D([], [], color=colors[r], label=r) for r in regimes]
        fig.legend(handles=handles, loc="outside right upper", frameon=False,
                   title=f"{seeds} seeds")  # fmt: skip
        return _save(fig, Path(path))

    def summary(self, tables: Tables) -> pd.DataFrame:
        """Per regime, the mean over seeds of each run's mean over its second half of rounds."""
        rounds = tables["rounds"]
        late = rounds[rounds["round"] >= rounds["round"].max() / 2]
        columns = [c for c, _ in PANELS]
        per_run = late.groupby(["regime", "seed"])[columns].mean()
        return per_run.groupby("regime").mean().round(3)
