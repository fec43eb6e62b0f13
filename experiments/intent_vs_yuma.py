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
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

import sim
from sim.config import INCENTIVE_REGIMES, SimConfig, between, build_config, one_of, param

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


def load_study(data: dict[str, Any]) -> RegimeStudyConfig:
    """Validate the ``study`` block of a config.

    Raises:
        ConfigError: naming the first unknown key or bad value.
    """
    return build_config(RegimeStudyConfig, data, "study.")


def run(
    base: SimConfig, study: RegimeStudyConfig, progress: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run every regime for every seed.

    Returns:
        The rounds of every run (columns ``regime`` and ``seed`` added) and the adversary
        table of every run (same columns).
    """
    rounds, adversaries = [], []
    jobs = [(base.seed + s, r) for s in range(study.seeds) for r in study.regimes]
    for seed, regime in tqdm(jobs, desc="runs", unit="run", disable=not progress):
        config = dataclasses.replace(
            base,
            seed=seed,
            incentives=dataclasses.replace(base.incentives, regime=regime),
        )
        result = sim.run(config)
        rounds.append(result.rounds.assign(regime=regime, seed=seed))
        adversaries.append(result.adversaries.assign(regime=regime, seed=seed))
    return pd.concat(rounds, ignore_index=True), pd.concat(adversaries, ignore_index=True)


def save(
    rounds: pd.DataFrame,
    adversaries: pd.DataFrame,
    base: SimConfig,
    study: RegimeStudyConfig,
    directory: Path,
) -> Path:
    """Write the study's tables, figure, ``config.yaml`` and ``DONE``.

    Files: ``rounds.parquet``, ``adversaries.parquet``, ``intent_vs_yuma.png``/``.pdf``.
    """
    from experiments import save_study
    from experiments.figures import plot_regimes

    tables = {"rounds": rounds, "adversaries": adversaries}
    return save_study(directory, base, study, tables, "intent_vs_yuma",
                      lambda p: plot_regimes(rounds, p))  # fmt: skip


def summary(rounds: pd.DataFrame) -> pd.DataFrame:
    """Per regime, the mean over seeds of each run's mean over its second half of rounds."""
    late = rounds[rounds["round"] >= rounds["round"].max() / 2]
    columns = [c for c, _ in PANELS]
    per_run = late.groupby(["regime", "seed"])[columns].mean()
    return per_run.groupby("regime").mean().round(3)


def execute(
    base: SimConfig, study: RegimeStudyConfig, directory: Path, progress: bool = False
) -> pd.DataFrame:
    """Run the study, save it to ``directory`` and return its summary."""
    rounds, adversaries = run(base, study, progress=progress)
    save(rounds, adversaries, base, study, directory)
    return summary(rounds)
