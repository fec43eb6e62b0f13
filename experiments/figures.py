"""Figures in one paper style: the style, its helpers, and the figures of runs and sweeps.

Every figure, each study's (``experiments/studies/``) included, uses the style below (9 pt
text, the colour-blind-safe Okabe-Ito palette, TrueType fonts embedded in PDFs so they stay
editable, tight bounding boxes) and is written as PDF (vector) and PNG by the callers,
atomically (a temporary file renamed into place, so a figure file is never half-written).
Bands are 95% confidence intervals of the mean over seeds (and markets).

The module leaves matplotlib's backend alone, so a notebook shows what it plots; the
``intentlab`` command draws off screen (``MPLBACKEND=Agg`` unless the user set another).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
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


def t_scale(count) -> np.ndarray:
    """The two-sided 95% Student t quantile for ``count`` independent units.

    A mean's 95% interval over ``n`` units is ``± t_scale(n) · sem`` (``n − 1`` degrees of
    freedom, at least 1).
    """
    from scipy.stats import t as student

    return student.ppf(0.975, np.maximum(np.asarray(count) - 1, 1))


def _band(
    ax,
    grouped,
    color,
    style: str = "-",
    alpha: float = 0.2,
    t: bool = False,
    floor: float | None = None,
    ceiling: float | None = None,
    **line,
) -> np.ndarray:
    """Plot the mean of each group as a line and its 95% confidence interval as a band.

    Args:
        ax: the axes.
        grouped: a grouped series (groups on the x axis, e.g. rounds or market sizes).
        color: line and band colour.
        style: matplotlib line format.
        alpha: band opacity.
        t: Student's t interval with the group's size less one degrees of freedom (for few
            independent units, e.g. seeds) instead of the normal ``1.96 * sem``.
        floor: the band's lower edge never goes below this (a quantity's lower bound).
        ceiling: the band's upper edge never goes above this (a quantity's upper bound).
        **line: further keywords of the line (label, marker, ...).

    Returns:
        The x values.
    """
    stats = grouped.agg(["mean", "sem", "count"])
    scale = t_scale(stats["count"].to_numpy()) if t else 1.96
    x, half = stats.index.to_numpy(), scale * stats["sem"].fillna(0).to_numpy()
    low, high = stats["mean"] - half, stats["mean"] + half
    if floor is not None:
        low = np.maximum(low, floor)
    if ceiling is not None:
        high = np.minimum(high, ceiling)
    ax.plot(x, stats["mean"], style, color=color, **line)
    ax.fill_between(x, low, high, color=color, alpha=alpha)
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
