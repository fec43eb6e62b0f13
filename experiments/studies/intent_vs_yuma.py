"""The headline study: do competitors share data under the intent market where Yuma fails?

The study crosses two market rules with two reward rules on the same agents and seeds:

* ``intent_market``: priced market (the mechanism clears), data-value rewards (data value,
  reputation, revenue share);
* ``priced_yuma``: priced market, Yuma emission;
* ``open_data_rewards``: open data only (price 0), data-value rewards;
* ``yuma``: open data only, Yuma emission.

For each seed every regime runs on the same population draws (the model draws population,
tasks and intents from the same streams, so runs differ only where agents' choices differ).
Each round reports the share of the *initial* corporations that share data (and that are
still active: survival), units sold to solvers serving the seller's own industry (sharing
with competitors), volume, model accuracy, welfare and efficiency against the planner,
solver reward concentration (HHI) and reward inequality (Gini).

Statistics are over seeds, the independent units: each seed's mean over the second half of
its rounds, then the mean over seeds and its 95% t interval; differences against the
reference regime (``yuma`` when it runs, else the last regime) are paired by seed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import MaxNLocator

import sim
from experiments.figures import (
    PAGE_WIDTH,
    PALETTE,
    _band,
    _grace,
    _save,
    fewer_seeds,
    t_scale,
)
from experiments.studies.base import Study, Tables, run_jobs
from sim import regimes
from sim.config import SimConfig, between, one_of, param
from sim.results import rounded

#: The per-round panels: column, axis label, and the quantity's bounds (for the bands).
PANELS = [
    ("initial_sharing", "initial corporations sharing", (0.0, 1.0)),
    ("competitor_volume", "units to competitors / round", (0.0, None)),
    ("volume", "units traded / round", (0.0, None)),
    ("model_accuracy", "solvers' model accuracy", (0.0, 1.0)),
    ("welfare", "welfare / round (money)", (None, None)),
    ("efficiency", "efficiency (welfare / optimum)", (None, 1.0)),
    ("solver_reward_hhi", "solver reward HHI", (0.0, 1.0)),
    ("reward_gini", "reward Gini", (0.0, 1.0)),
]

#: The quantities the summary reports per regime (per-seed late means).
MEASURES = [
    "initial_sharing",
    "initial_active",
    "competitor_volume",
    "competitor_share",
    "competitor_sellers",
    "volume",
    "model_accuracy",
    "welfare",
    "efficiency",
    "solver_reward_hhi",
    "reward_gini",
]


#: The measures compared with the reference regime, paired by seed, and their short names.
COMPARED = {"initial_sharing": "sharing", "competitor_volume": "competitors", "welfare": "welfare"}


def _regimes(value: tuple[str, ...]) -> str | None:
    allowed = regimes.available()
    if value and set(value) <= set(allowed) and len(set(value)) == len(value):
        return None
    return f"must be distinct names; allowed: {', '.join(allowed)}"


@dataclass(frozen=True)
class RegimeStudyConfig:
    """The ``study`` block of ``experiment=intent_vs_yuma``.

    Attributes:
        kind: always ``intent_vs_yuma``.
        regimes: incentive regimes to run (registered names).
        seeds: seeds ``seed, seed + 1, ...`` (from the top-level ``seed``).
        workers: processes the runs use; 0: one per core (use 1 inside a sweep).
    """

    kind: str = param("intent_vs_yuma", one_of("intent_vs_yuma"))
    regimes: tuple[str, ...] = param(
        ("intent_market", "priced_yuma", "open_data_rewards", "yuma"), _regimes
    )
    seeds: int = param(10, between(1))
    workers: int = param(0, between(0))


def _run_one(job: tuple[SimConfig, str, int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One regime on one seed: its rounds and adversaries tables, labelled."""
    base, regime, seed = job
    config = dataclasses.replace(
        base, seed=seed, incentives=dataclasses.replace(base.incentives, regime=regime)
    )
    result = sim.run(config)
    labels = {"regime": regime, "seed": seed}
    rounds = result.rounds.assign(**labels, grace_rounds=config.agents.grace_rounds)
    return rounds, result.adversaries.assign(**labels)


class IntentVsYuma(Study):
    """Market rule x reward rule: who shares data, with whom, and at what welfare.

    Tables ``rounds`` and ``adversaries``: every run's, with ``regime`` and ``seed`` columns;
    ``rounds`` also has the run's ``grace_rounds`` (the rounds before agents may leave).
    """

    kind = "intent_vs_yuma"
    Config = RegimeStudyConfig
    tables = ("rounds.parquet", "adversaries.parquet")
    small = ("study.seeds=3", "rounds=12", "market.n_corporations=30", "market.n_solvers=8")
    tiny = ("study.seeds=2", "study.workers=1")
    verdict_runs = {"regimes": ("intent_market", "yuma")}  # noqa: RUF012 (read-only)
    assumptions = {  # noqa: RUF012 (read-only)
        "agents.corporation_outside_option": (0.0, 0.5, 1.0, 2.0),
        "agents.solver_outside_option": (0.0, 1.0, 2.0, 4.0),
        "market.sharing_cost_low+market.sharing_cost_high": (0.0, 0.25, 0.85, 1.5),
        "market.competitor_premium": (0.0, 1.0, 2.0, 4.0),
        "incentives.yuma.open_data_prob": (0.1, 0.4, 0.7, 1.0),
        "incentives.token_price": (0.0, 0.05, 0.5, 2.0),
        "incentives.emission.initial": (0.0, 100.0, 1000.0, 10000.0),
        "incentives.data_value.industry_shift": (0.0, 0.5, 1.0, 2.0),
        "agents.grace_rounds": (0, 5, 10, 30),
    }

    def run(self, base: SimConfig, config: RegimeStudyConfig, progress: bool = False) -> Tables:
        """Run every regime for every seed."""
        jobs = [(base, r, base.seed + s) for s in range(config.seeds) for r in config.regimes]
        done = run_jobs(_run_one, jobs, config.workers, progress)
        return {
            "rounds": pd.concat([r for r, _ in done], ignore_index=True),
            "adversaries": pd.concat([a for _, a in done], ignore_index=True),
        }

    def plot(self, tables: Tables, path: Path) -> Path:
        """One panel per measure over rounds: mean over seeds, 95% t band over seeds.

        The first panel also shows the initial corporations still active (dashed): the
        survival curve behind the sharing curve. Accuracy and efficiency average only the
        seeds whose market still has solvers (or a positive optimum) that round. The end of
        the grace period is marked where every run has the same one.
        """
        rounds = tables["rounds"]
        names = list(dict.fromkeys(rounds["regime"]))
        colors = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}
        fig, axes = plt.subplots(2, 4, figsize=(PAGE_WIDTH, 3.9), sharex=True,
                                 layout="constrained")  # fmt: skip
        for ax, (column, label, (low, high)) in zip(axes.flat, PANELS, strict=True):
            for regime, group in rounds.groupby("regime", sort=False):
                by_round, n = group.groupby("round"), group["seed"].nunique()
                _band(ax, by_round[column], colors[regime], t=True, floor=low, ceiling=high,
                      full=n, lw=1.0)  # fmt: skip
                if column == "initial_sharing":
                    ax.plot(by_round["initial_active"].mean(), "--", color=colors[regime],
                            lw=0.8)  # fmt: skip
            ax.set_title(label, fontsize="small")
            ax.grid(alpha=0.3)
        for ax in axes[1]:
            ax.set_xlabel("round")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        seeds = rounds["seed"].nunique()
        handles = [plt.Line2D([], [], color=colors[r], label=_label(r)) for r in names]
        handles.append(plt.Line2D([], [], color="0.4", ls="--", lw=0.8, label="still active"))
        grace = rounds["grace_rounds"].unique() if "grace_rounds" in rounds else ()
        if len(grace) == 1:  # tables written before the column have no marker
            handles += _grace(axes.flat, int(grace[0]), rounds["round"].max())
        handles += fewer_seeds(axes.flat)
        fig.legend(handles=handles, loc="outside lower center", ncols=2, frameon=False,
                   fontsize="small")  # fmt: skip
        fig.suptitle(
            f"Market rule x reward rule: mean and 95% t band over {seeds} seeds "
            f"({rounds['corporations_active'].iloc[0]} corporations at start)\n"
            "accuracy, efficiency and HHI: over the seeds whose market still trades or rewards",
            fontsize="small",
        )
        return _save(fig, Path(path))

    def summary(self, tables: Tables) -> pd.DataFrame:
        """Per regime: each measure's mean over seeds, its 95% t half-width, and the answer.

        Each seed contributes its mean over the second half of the rounds. ``*_vs_ref`` are
        paired differences against the reference regime (``yuma`` when it runs, else the last
        regime), with their half-widths.
        """
        return summarize(tables["rounds"])

    def verdict(self, tables: Tables) -> pd.DataFrame:
        """Per seed, the first regime minus the reference: sharing, competitors, welfare.

        ``initial_sharing`` (share of the initial corporations sharing data),
        ``competitor_volume`` (units per round sold to solvers serving the seller's own
        industry) and ``welfare`` (per round), each seed's mean over the second half of its
        rounds; positive values say the first regime (``intent_market`` in the preset) gets
        more of it.
        """
        seeds = per_seed(tables["rounds"])
        names = list(dict.fromkeys(tables["rounds"]["regime"]))
        reference = _reference(names)
        first = next(n for n in names if n != reference)
        rows = []
        for measure, name in COMPARED.items():
            diff = _paired(seeds, first, reference, measure)
            quantity = f"{name}: {first} - {reference}"
            rows += [{"quantity": quantity, "seed": s, "value": v} for s, v in diff.items()]
        return pd.DataFrame(rows)


def _label(regime: str) -> str:
    made = regimes.get(regime)
    return f"{regime} ({made.market.name} / {made.rewards.name})"


def per_seed(rounds: pd.DataFrame) -> pd.DataFrame:
    """Each regime's and seed's means over the second half of its rounds."""
    late = rounds[rounds["round"] >= rounds["round"].max() / 2]
    grouped = late.groupby(["regime", "seed"], sort=False)
    out = grouped[[m for m in MEASURES if m != "competitor_share"]].mean()
    sums = grouped[["competitor_volume", "volume"]].sum()
    out["competitor_share"] = sums["competitor_volume"] / sums["volume"].where(sums["volume"] > 0)
    return out[MEASURES]


def summarize(rounds: pd.DataFrame, reference: str | None = None) -> pd.DataFrame:
    """The summary table of :meth:`IntentVsYuma.summary` (see there)."""
    seeds = per_seed(rounds)
    names = list(dict.fromkeys(rounds["regime"]))
    reference = reference or _reference(names)
    rows = []
    for regime in names:
        mine = seeds.loc[regime]
        row = {"regime": regime, "seeds": len(mine)}
        for measure in MEASURES:
            row[measure], row[f"{measure}_ci"] = _mean_ci(mine[measure])
        for measure in COMPARED:
            paired = _paired(seeds, regime, reference, measure)
            row[f"{measure}_vs_ref"], row[f"{measure}_vs_ref_ci"] = _mean_ci(paired)
        row["answer"] = _answer(regime, row, reference)
        rows.append(row)
    return rounded(pd.DataFrame(rows).set_index("regime"))


def _paired(seeds: pd.DataFrame, regime: str, reference: str, measure: str) -> pd.Series:
    """Per seed, ``regime``'s measure less the reference's (seeds of ``regime``)."""
    mine = seeds.loc[regime, measure]
    return mine - seeds.loc[reference, measure].reindex(mine.index)


def _reference(names: list[str]) -> str:
    """The regime others are compared with: ``yuma`` when it runs, else the last."""
    return "yuma" if "yuma" in names else names[-1]


def _mean_ci(values: pd.Series) -> tuple[float, float]:
    values = values.dropna()
    if values.empty:
        return float("nan"), float("nan")
    half = t_scale(len(values)) * values.sem() if len(values) > 1 else float("nan")
    return float(values.mean()), float(half)


def _answer(regime: str, row: dict, reference: str) -> str:
    """One sentence: how many share, with competitors, at what welfare, against the reference."""

    def ci(measure: str, scale: float = 1.0, digits: int = 0) -> str:
        mean, half = rounded(row[measure] * scale, digits), row[f"{measure}_ci"] * scale
        return f"{mean:.{digits}f} ± {half:.{digits}f}"

    text = (
        f"{_label(regime)}: {ci('initial_sharing', 100)}% of the initial corporations share "
        f"data ({ci('initial_active', 100)}% still active), "
        f"{ci('competitor_volume', digits=1)} units per round go to competitors, "
        f"welfare {ci('welfare')} per round"
    )
    if regime != reference:
        text += (
            f"; against {reference}: sharing {ci('initial_sharing_vs_ref', 100)} points, "
            f"welfare {ci('welfare_vs_ref')}"
        )
    return text + " (mean ± 95% t half-width over seeds)"


__all__ = ["PANELS", "IntentVsYuma", "RegimeStudyConfig", "per_seed", "summarize"]
