"""Figures in one paper style: runs, sweeps, mechanism comparisons and incentive regimes.

Every figure uses the style below (9 pt text, the colour-blind-safe Okabe-Ito palette,
TrueType fonts embedded in PDFs so they stay editable, tight bounding boxes) and is written
as PDF (vector) and PNG by the callers, atomically (a temporary file renamed into place, so
a figure file is never half-written). Bands are 95% confidence intervals of the mean over
seeds (and markets).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd

from sim.results import write_atomic

#: Every figure is written in these formats (vector PDF for papers, PNG for screens).
FORMATS = ("pdf", "png")

# Okabe-Ito, colour-blind safe.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442"]

PAPER_STYLE = {
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "savefig.bbox": "tight",
    "savefig.dpi": 200,
}
matplotlib.rcParams.update(PAPER_STYLE)

#: Per-round metrics a sweep figure shows (column, axis label with units).
SWEEP_PANELS = [
    ("welfare", "welfare per round (money)"),
    ("efficiency", "efficiency (realized / optimal)"),
    ("price", "clearing price (money per unit)"),
    ("volume", "data units traded per round"),
    ("data_share", "corporations supplying (share)"),
    ("model_accuracy", "model accuracy (held out)"),
    ("corporations_active", "corporations active"),
    ("solvers_active", "solvers active"),
    ("reward_gini", "reward inequality (Gini)"),
]


def _save(fig: matplotlib.figure.Figure, path: Path) -> Path:
    """Write ``fig`` to ``path`` atomically (temporary file, then rename), then close it.

    The format follows the suffix of ``path`` (``.pdf``, ``.png``).
    """
    try:
        write_atomic(path, lambda tmp: fig.savefig(tmp, format=path.suffix.lstrip(".")))
    finally:
        plt.close(fig)
    return path


def _band(ax, grouped, color, style: str = "-", alpha: float = 0.2, **line) -> np.ndarray:
    """Plot the mean of each group as a line and its 95% confidence interval as a band.

    Args:
        ax: the axes.
        grouped: a grouped series (groups on the x axis, e.g. rounds or market sizes).
        color: line and band colour.
        style: matplotlib line format.
        alpha: band opacity.
        **line: further keywords of the line (label, marker, ...).

    Returns:
        The x values.
    """
    stats = grouped.agg(["mean", "sem"])
    x, half = stats.index.to_numpy(), 1.96 * stats["sem"].fillna(0).to_numpy()
    ax.plot(x, stats["mean"], style, color=color, **line)
    ax.fill_between(x, stats["mean"] - half, stats["mean"] + half, color=color, alpha=alpha)
    return x


def plot_sweep(table: pd.DataFrame, swept: list[str], path: str | Path) -> Path:
    """A sweep's per-round metrics, one line per combination of swept values.

    Args:
        table: the long ``rounds`` table of :func:`experiments.collect.collect` (columns
            ``seed``, ``round`` and the swept parameters).
        swept: the swept parameters (without the seed).
        path: output file (``.png`` or ``.pdf``).

    Returns:
        The path written.
    """
    path = Path(path)
    groups = list(table.groupby(swept, sort=True, dropna=False)) if swept else [((), table)]
    fig, axes = plt.subplots(3, 3, figsize=(11, 8), sharex=True, layout="constrained")
    for k, (key, group) in enumerate(groups):
        values = key if isinstance(key, tuple) else (key,)
        label = ", ".join(f"{p}={v}" for p, v in zip(swept, values, strict=True)) or "all runs"
        color = PALETTE[k % len(PALETTE)]
        for ax, (column, _) in zip(axes.flat, SWEEP_PANELS, strict=True):
            if column in group:
                _band(ax, group.groupby("round")[column], color, label=label)
    for ax, (_, ylabel) in zip(axes.flat, SWEEP_PANELS, strict=True):
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("round")
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    seeds = table["seed"].nunique()
    handles, labels = axes.flat[0].get_legend_handles_labels()
    title = f"mean and 95% CI over {seeds} seed" + ("s" if seeds != 1 else "")
    fig.legend(handles, labels, loc="outside right upper", frameon=False, title=title)
    return _save(fig, path)


def plot_rounds(rounds: pd.DataFrame, path: str | Path, title: str | None = None) -> Path:
    """Plot welfare, efficiency, price and participation per round into one figure.

    Args:
        rounds: a run's ``rounds`` table.
        path: output file; the format follows its suffix (``.png``, ``.pdf``).
        title: figure title.

    Returns:
        The path written.
    """
    path = Path(path)
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.5), sharex=True, layout="constrained")
    r = rounds["round"]
    ax = axes[0, 0]
    ax.plot(r, rounds["welfare"], color=PALETTE[0], label="realized")
    ax.plot(r, rounds["optimal_welfare"], color=PALETTE[1], ls="--", label="optimum (planner)")
    ax.set(ylabel="welfare per round (money)", title="Welfare")
    ax.legend(frameon=False)
    ax = axes[0, 1]
    ax.plot(r, rounds["efficiency"], color=PALETTE[2])
    ax.set(ylabel="realized / optimal welfare", title="Efficiency", ylim=(0, 1.05))
    ax = axes[1, 0]
    ax.plot(r, rounds["price"], color=PALETTE[3], label="clearing price")
    ax.set(xlabel="round", ylabel="price (money per data unit)", title="Price and volume")
    twin = ax.twinx()
    twin.bar(r, rounds["volume"], color=PALETTE[5], alpha=0.35, label="volume")
    twin.set_ylabel("volume (data units)")
    ax.set_zorder(twin.get_zorder() + 1)
    ax.patch.set_visible(False)
    ax = axes[1, 1]
    ax.plot(r, rounds["corporations_active"], color=PALETTE[0], label="corporations active")
    ax.plot(
        r, rounds["corporations_trading"], color=PALETTE[0], ls=":", label="corporations trading"
    )
    ax.plot(r, rounds["solvers_active"], color=PALETTE[4], label="solvers active")
    ax.plot(r, rounds["solvers_trading"], color=PALETTE[4], ls=":", label="solvers trading")
    ax.set(xlabel="round", ylabel="agents", title="Participation")
    ax.legend(frameon=False, fontsize="small")
    for ax in axes.flat:
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


COMPARISON_PANELS = [
    ("efficiency", "efficiency (realized / optimal welfare)"),
    ("seller_revenue", "seller revenue per market (money)"),
    ("protocol_surplus", "protocol surplus per market (money)"),
    ("volume", "volume per market (data units)"),
]


def plot_comparison(table: pd.DataFrame, path: str | Path) -> Path:
    """Mechanisms side by side against market size, one line style per market family.

    Lines are means over seeds and markets, bands the 95% confidence interval of the mean.

    Args:
        table: the ``comparison`` table of ``experiment=mechanism_comparison``.
        path: output file (``.png`` or ``.pdf``).

    Returns:
        The path written.
    """
    path = Path(path)
    ok = table[table["supported"]]
    names = sorted(table["mechanism"].unique())
    colors = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}
    styles = {"intent": "-", "homogeneous": "--"}
    fig, axes = plt.subplots(2, 2, figsize=(10, 7), sharex=True, layout="constrained")
    for ax, (column, label) in zip(axes.flat, COMPARISON_PANELS, strict=True):
        for (family, name), group in ok.groupby(["family", "mechanism"]):
            _band(ax, group.groupby("corporations")[column], colors[name],
                  styles.get(family, ":"), alpha=0.15, marker="o", ms=3)  # fmt: skip
        ax.set(ylabel=label, xscale="log")
        sizes = sorted(ok["corporations"].unique())
        ax.set_xticks(sizes, [str(v) for v in sizes])
        ax.minorticks_off()
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("corporations in the market (log scale)")
    handles = [plt.Line2D([], [], color=colors[n], label=n) for n in names]
    handles += [
        plt.Line2D([], [], color="0.3", ls=s, label=f"{f} markets") for f, s in styles.items()
    ]
    fig.legend(handles=handles, loc="outside right upper", frameon=False)
    return _save(fig, path)


def plot_calibration(measurements: pd.DataFrame, calibration, path: str | Path) -> Path:
    """Measured against fitted time and memory, one marker colour per job kind (log-log).

    Args:
        measurements: the measurement table (one row per job).
        calibration: a :class:`crypto.calibration.Calibration` fitted to it.
        path: output file (``.png`` or ``.pdf``).

    Returns:
        The path written.
    """
    path = Path(path)
    ok = measurements[measurements["ok"].astype(bool)]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), layout="constrained")
    labels = {"seconds": "wall time (s)", "peak_rss_mb": "peak memory (MiB)"}
    for ax, target in zip(axes, ("seconds", "peak_rss_mb"), strict=True):
        lo, hi = np.inf, 0.0
        for i, (kind, rows) in enumerate(ok.groupby("kind")):
            fit = calibration.fits[kind][target]
            fitted = [
                fit.predict(
                    **{t: row[t if t in ("rows", "features") else f"param_{t}"] for t in fit.terms}
                )
                for _, row in rows.iterrows()
            ]
            ax.scatter(fitted, rows[target], s=18, color=PALETTE[i % len(PALETTE)],
                       label=f"{kind} (R² {fit.r2:.3f}, n={fit.n})")  # fmt: skip
            lo = min(lo, min(fitted), rows[target].min())
            hi = max(hi, max(fitted), rows[target].max())
        ax.plot([lo, hi], [lo, hi], color="0.4", lw=1, ls="--", label="measured = fitted")
        ax.set(xscale="log", yscale="log", xlabel=f"fitted {labels[target]}",
               ylabel=f"measured {labels[target]}")  # fmt: skip
        ax.grid(alpha=0.3)
        ax.legend(frameon=False, fontsize="small")
    return _save(fig, path)


def plot_regimes(rounds: pd.DataFrame, path: str | Path) -> Path:
    """Incentive regimes over time: one colour per regime, mean over seeds with a 95% band.

    Args:
        rounds: the ``rounds`` table of ``experiment=intent_vs_yuma`` (columns ``regime``
            and ``seed`` added to the simulation's rounds).
        path: output file (``.png`` or ``.pdf``).

    Returns:
        The path written.
    """
    from experiments.intent_vs_yuma import PANELS

    path = Path(path)
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
    fig.legend(handles=handles, loc="outside right upper", frameon=False, title=f"{seeds} seeds")
    return _save(fig, path)


def plot_adversaries(table: pd.DataFrame, path: str | Path) -> Path:
    """Detection rate and value extracted per verification design, one bar per adversary.

    Args:
        table: the ``adversaries`` table of ``experiment=adversaries`` (columns ``design``
            and ``seed`` added to the simulation's adversary table).
        path: output file (``.png`` or ``.pdf``).

    Returns:
        The path written.
    """
    path = Path(path)
    per_run = table.groupby(["design", "adversary", "seed"], sort=False)[
        ["attempts", "detected", "extracted"]
    ].sum()
    per_run["rate"] = per_run["detected"] / per_run["attempts"].where(per_run["attempts"] > 0)
    designs = list(dict.fromkeys(table["design"]))
    kinds = list(dict.fromkeys(table["adversary"]))
    width = 0.8 / len(kinds)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
    for ax, (column, label) in zip(
        axes,
        [("rate", "detected / cheating trades"), ("extracted", "value extracted per run (money)")],
        strict=True,
    ):
        for k, kind in enumerate(kinds):
            stats = (
                per_run.xs(kind, level="adversary")[column]
                .groupby(level="design")
                .agg(["mean", "sem"])
                .reindex(designs)
            )
            x = np.arange(len(designs)) + (k - (len(kinds) - 1) / 2) * width
            ax.bar(x, stats["mean"], width, yerr=1.96 * stats["sem"].fillna(0),
                   color=PALETTE[k % len(PALETTE)], label=kind, capsize=2)  # fmt: skip
        ax.set_xticks(np.arange(len(designs)), designs, rotation=20)
        ax.set(ylabel=label, xlabel="verification design")
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylim(0, 1.05)
    seeds = table["seed"].nunique()
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside right upper", frameon=False,
               title=f"mean, 95% CI over {seeds} seeds")  # fmt: skip
    return _save(fig, path)


def plot_overhead(rounds: pd.DataFrame, path: str | Path) -> Path:
    """Price, volume, welfare and efficiency against the encrypted cost's scale.

    The encrypted arms are a line over the cost scale (log axis) with a 95% band over
    seeds; the market without encryption is a dashed horizontal line with its band.

    Args:
        rounds: the ``rounds`` table of ``experiment=fhe_overhead``.
        path: output file (``.png`` or ``.pdf``).

    Returns:
        The path written.
    """
    from experiments.fhe_overhead import PANELS

    path = Path(path)
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.4), layout="constrained")
    per_run = rounds.groupby(["encryption", "cost_scale", "seed"])[[c for c, _ in PANELS]].mean()
    for ax, (column, label) in zip(axes, PANELS, strict=True):
        encrypted = per_run.xs(True, level="encryption")[column].groupby(level="cost_scale")
        x = _band(ax, encrypted, PALETTE[0], marker="o", ms=3, label="FHE + ZK")
        if False in per_run.index.get_level_values("encryption"):
            plain = per_run.xs(False, level="encryption")[column]
            mean, sem = plain.mean(), plain.sem() if len(plain) > 1 else 0.0
            ax.axhline(mean, ls="--", color=PALETTE[1], label="no encryption (leakage cost)")
            ax.axhspan(mean - 1.96 * sem, mean + 1.96 * sem, color=PALETTE[1], alpha=0.15)
        ax.set(xscale="log", xlabel="encrypted cost / calibrated cost", ylabel=label)
        ax.set_xticks(x, [f"{v:g}" for v in x])
        ax.minorticks_off()
        ax.grid(alpha=0.3)
    seeds = rounds["seed"].nunique()
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside right upper", frameon=False,
               title=f"mean per round, 95% CI over {seeds} seeds")  # fmt: skip
    return _save(fig, path)


def plot_entry(table: pd.DataFrame, counts: pd.DataFrame, path: str | Path) -> Path:
    """Solver entry: profit and users' surplus against the solver count, and the counts.

    Left: the mean solver's profit per round against the number of solvers (one line per
    congestion exponent and market size, 95% band over seeds); entry costs as dotted lines.
    Middle: the corporations' (users') surplus. Right: the free-entry count and the users'
    planner's count against the entry cost.

    Args:
        table: the ``entry`` table of ``experiment=solver_entry``.
        counts: its :func:`experiments.solver_entry.counts`.
        path: output file (``.png`` or ``.pdf``).

    Returns:
        The path written.
    """
    path = Path(path)
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), layout="constrained")
    curves = list(table.groupby(["congestion", "corporations"]))
    for k, ((congestion, n), group) in enumerate(curves):
        color = PALETTE[k % len(PALETTE)]
        label = f"congestion {congestion:g}, {n} corporations"
        for ax, column in zip(axes[:2], ("solver_profit", "users_surplus"), strict=True):
            _band(ax, group.groupby("solvers")[column], color, label=label)
        mine = counts[(counts["congestion"] == congestion) & (counts["corporations"] == n)]
        axes[2].plot(mine["entry_cost"], mine["free_entry"], "-o", ms=3, color=color, label=label)
        axes[2].plot(mine["entry_cost"], mine["users_planner"], ":", color=color)
    for cost in sorted(set(counts["entry_cost"])):
        axes[0].axhline(cost, color="0.6", lw=0.6, ls=":")
    axes[0].set(xlabel="solvers", ylabel="mean solver profit per round (money)")
    axes[1].set(xlabel="solvers", ylabel="corporations' surplus per round (money)")
    axes[2].set(xlabel="entry cost K per solver and round (money)", ylabel="solvers")
    axes[2].plot([], [], "-o", color="0.3", ms=3, label="free entry")
    axes[2].plot([], [], ":", color="0.3", label="users' planner")
    for ax in axes:
        ax.grid(alpha=0.3)
    seeds = table["seed"].nunique()
    fig.legend(*axes[2].get_legend_handles_labels(), loc="outside right upper", frameon=False,
               title=f"mean, 95% CI over {seeds} seeds")  # fmt: skip
    return _save(fig, path)
