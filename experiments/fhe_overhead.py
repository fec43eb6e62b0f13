"""What encryption costs the market: the calibrated FHE/ZK cost scaled, against no encryption.

For each seed the study runs the same population once per arm: encrypted markets with the
calibrated processing cost (FHE training plus a ZK proof per data unit) multiplied by each
``cost_scales`` value, and one market without encryption, where solvers train in the
clear (the calibrated ``train_plain`` cost), intents can require neither FHE nor proofs, and
corporations bear ``crypto.leakage_cost`` per unit shared. Each round reports the clearing
price, volume, welfare and efficiency.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

import sim
from sim.config import SimConfig, between, build_config, one_of, param

#: Per-round figures the study compares (column, axis label with units).
PANELS = [
    ("price", "clearing price (money per unit)"),
    ("volume", "data units traded per round"),
    ("welfare", "welfare per round (money)"),
    ("efficiency", "efficiency (realized / optimal)"),
]


def _scales(value: tuple[float, ...]) -> str | None:
    return None if value and min(value) > 0 else "must be a non-empty list of numbers > 0"


@dataclass(frozen=True)
class OverheadStudyConfig:
    """The ``study`` block of ``experiment=fhe_overhead``.

    Attributes:
        kind: always ``fhe_overhead``.
        cost_scales: multipliers of the calibrated encrypted processing cost.
        plain: also run the market without encryption.
        seeds: seeds ``seed, seed + 1, ...`` (from the top-level ``seed``).
    """

    kind: str = param("fhe_overhead", one_of("fhe_overhead"))
    cost_scales: tuple[float, ...] = param((0.25, 0.5, 1.0, 2.0, 4.0), _scales)
    plain: bool = param(True)
    seeds: int = param(3, between(1))


def load_study(data: dict[str, Any]) -> OverheadStudyConfig:
    """Validate the ``study`` block of a config.

    Raises:
        ConfigError: naming the first unknown key or bad value.
    """
    return build_config(OverheadStudyConfig, data, "study.")


def run(base: SimConfig, study: OverheadStudyConfig, progress: bool = False) -> pd.DataFrame:
    """Every arm for every seed.

    Returns:
        The rounds of every run, with ``arm``, ``encryption``, ``cost_scale``,
        ``seconds_per_unit`` and ``seed`` columns.
    """
    arms = [(True, scale) for scale in study.cost_scales] + ([(False, 1.0)] if study.plain else [])
    jobs = [(base.seed + s, arm) for s in range(study.seeds) for arm in arms]
    frames = []
    for seed, (encryption, scale) in tqdm(jobs, desc="runs", unit="run", disable=not progress):
        crypto = dataclasses.replace(base.crypto, encryption=encryption, cost_scale=scale)
        config = dataclasses.replace(base, seed=seed, crypto=crypto)
        rounds = sim.run(config).rounds
        frames.append(
            rounds.assign(
                arm=f"encrypted x{scale:g}" if encryption else "plain",
                encryption=encryption,
                cost_scale=scale,
                seconds_per_unit=crypto.seconds_per_unit(),
                seed=seed,
            )
        )
    return pd.concat(frames, ignore_index=True)


def summary(rounds: pd.DataFrame) -> pd.DataFrame:
    """Per arm, the mean over seeds of each run's mean per round."""
    columns = ["seconds_per_unit", *(c for c, _ in PANELS)]
    per_run = rounds.groupby(["arm", "seed"], sort=False)[columns].mean()
    return per_run.groupby("arm", sort=False).mean().round(3)


def save(rounds: pd.DataFrame, base: SimConfig, study: OverheadStudyConfig, directory: Path):
    """Write ``rounds.parquet``, ``fhe_overhead.png``/``.pdf``, ``config.yaml``, ``DONE``."""
    from experiments import save_study
    from experiments.figures import plot_overhead

    return save_study(directory, base, study, {"rounds": rounds}, "fhe_overhead",
                      lambda p: plot_overhead(rounds, p))  # fmt: skip


def execute(
    base: SimConfig, study: OverheadStudyConfig, directory: Path, progress: bool = False
) -> pd.DataFrame:
    """Run the study, save it to ``directory`` and return its summary."""
    rounds = run(base, study, progress=progress)
    save(rounds, base, study, directory)
    return summary(rounds)
