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

import matplotlib.pyplot as plt
import pandas as pd
from tqdm.auto import tqdm

import sim
from experiments.figures import (
    PAGE_WIDTH,
    PALETTE,
    _band,
    _save,
    fewer_seeds,
    interval,
    seeds,
)
from experiments.studies.base import Study, Tables
from sim.config import ConfigError, SimConfig, between, one_of, param
from sim.results import rounded

#: Per-round figures the study compares (column, panel title with units, the quantity's
#: range: its band stays within it).
PANELS = [
    ("price", "clearing price (money / unit)", (0.0, None)),
    ("volume", "data units traded / round", (0.0, None)),
    ("welfare", "welfare / round (money)", (None, None)),
    ("efficiency", "efficiency (realized / optimal)", (None, 1.0)),
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


class FheOverhead(Study):
    """How the cost of computing on encrypted data changes prices, volume and welfare.

    Table ``rounds``: every run's, with ``arm``, ``encryption``, ``cost_scale``,
    ``seconds_per_unit`` and ``seed`` columns.
    """

    kind = "fhe_overhead"
    Config = OverheadStudyConfig
    tables = ("rounds.parquet",)
    small = ("study.seeds=2", "rounds=8", "market.n_corporations=30", "market.n_solvers=8")
    tiny = ("study.seeds=1", "study.cost_scales=[1.0]")
    assumptions = {  # noqa: RUF012 (read-only)
        "crypto.leakage_cost": (0.0, 0.5, 1.0, 2.0),
        "market.compute_price_low+market.compute_price_high": (0.01, 0.02, 0.04),
        "market.fee_high": (4.0, 6.0, 10.0),
    }

    def run(self, base: SimConfig, config: OverheadStudyConfig, progress: bool = False) -> Tables:
        """Run every arm for every seed."""
        arms = [(True, s) for s in config.cost_scales] + ([(False, 1.0)] if config.plain else [])
        jobs = [(base.seed + s, arm) for s in range(config.seeds) for arm in arms]
        frames = []
        for seed, (encryption, scale) in tqdm(jobs, desc="runs", unit="run", disable=not progress):
            crypto = dataclasses.replace(base.crypto, encryption=encryption, cost_scale=scale)
            rounds = sim.run(dataclasses.replace(base, seed=seed, crypto=crypto)).rounds
            frames.append(
                rounds.assign(
                    arm=f"encrypted x{scale:g}" if encryption else "plain",
                    encryption=encryption,
                    cost_scale=scale,
                    seconds_per_unit=crypto.seconds_per_unit(),
                    seed=seed,
                )
            )
        return {"rounds": pd.concat(frames, ignore_index=True)}

    def plot(self, tables: Tables, path: Path) -> Path:
        """Price, volume, welfare and efficiency against the encrypted cost's scale.

        The encrypted arms are a line over the cost scale (log axis) with a 95% t band over
        seeds; the market without encryption is a dashed horizontal line with its band.
        """
        rounds = tables["rounds"]
        fig, axes = plt.subplots(2, 2, figsize=(PAGE_WIDTH, 4.2), sharex=True,
                                 layout="constrained")  # fmt: skip
        columns = [c for c, _, _ in PANELS]
        per_run = rounds.groupby(["encryption", "cost_scale", "seed"])[columns].mean()
        n = rounds["seed"].nunique()
        for ax, (column, title, (low, high)) in zip(axes.flat, PANELS, strict=True):
            encrypted = per_run.xs(True, level="encryption")[column].groupby(level="cost_scale")
            x = _band(ax, encrypted, PALETTE[0], t=True, floor=low, ceiling=high, full=n,
                      marker="o", ms=3, label="FHE + ZK")  # fmt: skip
            if False in per_run.index.get_level_values("encryption"):
                plain = per_run.xs(False, level="encryption")[column].agg(["mean", "sem", "count"])
                bottom, top = interval(plain, floor=low, ceiling=high)
                ax.axhline(plain["mean"], ls="--", color=PALETTE[1],
                           label="no encryption (leakage cost)")  # fmt: skip
                ax.axhspan(float(bottom), float(top), color=PALETTE[1], alpha=0.15)
            ax.set(xscale="log")
            ax.set_title(title, fontsize="small")
            ax.set_xticks(x, [f"{v:g}" for v in x])
            ax.minorticks_off()
            ax.grid(alpha=0.3)
        for ax in axes[-1]:
            ax.set_xlabel("encrypted cost / calibrated cost")
        handles = [*axes[0, 0].get_legend_handles_labels()[0], *fewer_seeds(axes.flat)]
        title = f"mean per round, 95% t interval over {seeds(n)}"
        fig.legend(handles=handles, loc="outside lower center", ncols=3, frameon=False,
                   title=title)  # fmt: skip
        return _save(fig, Path(path))

    def verdict(self, tables: Tables) -> pd.DataFrame:
        """Per seed, welfare per round encrypted at the calibrated cost minus without encryption.

        Negative: encryption at its measured cost loses more welfare than the leakage it
        prevents costs. Needs the ``encrypted x1`` and ``plain`` arms.
        """
        per_run = tables["rounds"].groupby(["arm", "seed"])["welfare"].mean()
        diff = per_run.loc["encrypted x1"] - per_run.loc["plain"]
        quantity = "welfare: encrypted x1 - plain"
        return pd.DataFrame({"quantity": quantity, "seed": diff.index, "value": diff.to_numpy()})

    def check_verdict(self, config: OverheadStudyConfig) -> None:
        """The verdict compares cost scale 1 with the plain arm: both must run."""
        if 1.0 not in config.cost_scales or not config.plain:
            raise ConfigError("study.study", "fhe_overhead's verdict needs cost_scales with 1 "
                              "and plain: true")  # fmt: skip

    def summary(self, tables: Tables) -> pd.DataFrame:
        """Per arm, the mean over seeds of each run's mean per round."""
        columns = ["seconds_per_unit", *(c for c, _, _ in PANELS)]
        per_run = tables["rounds"].groupby(["arm", "seed"], sort=False)[columns].mean()
        return rounded(per_run.groupby("arm", sort=False).mean())
