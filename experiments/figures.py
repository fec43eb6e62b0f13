"""Figures in one paper style: the style, its helpers, and the figures of runs and sweeps.

Every figure, each study's (``experiments/studies/``) included, uses the style below (9 pt
text, the colour-blind-safe Okabe-Ito palette, TrueType fonts embedded in PDFs so they stay
editable, tight bounding boxes) and is written as PDF (vector) and PNG by the callers,
atomically (a temporary file renamed into place, so a figure file is never half-written).
Figures are drawn at the size they are printed: :data:`COLUMN_WIDTH` (one column of a
two-column paper) or :data:`PAGE_WIDTH` (the text width) wide, so 9 pt text stays 9 pt.
Bands are 95% confidence intervals of the mean over seeds (and markets), within the range
the quantity can take; points that stand on fewer seeds than the rest of their line are
marked.

Importing the module quiets fontTools' INFO messages (one per font table it subsets while
writing a PDF) unless the application set that logger's level itself.

The module leaves matplotlib's backend alone, so a notebook shows what it plots; the
``intentlab`` command draws off screen (``MPLBACKEND=Agg`` unless the user set another).
"""

from __future__ import annotations

import logging
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd

from sim.config import SimConfig
from sim.results import market_label, price_note, write_atomic

#: Every figure is written in these formats (vector PDF for papers, PNG for screens).
FORMATS = ("pdf", "png")

#: Figure widths in inches: one column of a two-column paper, and the full text width.
COLUMN_WIDTH = 3.3
PAGE_WIDTH = 6.8

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
    "savefig.pad_inches": 0.02,  # the tight box stays within the width a figure is drawn at
    "savefig.dpi": 200,
}
matplotlib.rcParams.update(PAPER_STYLE)

_FONTTOOLS = logging.getLogger("fontTools")  # subsetting a font logs each table at INFO
if _FONTTOOLS.level == logging.NOTSET:
    _FONTTOOLS.setLevel(logging.WARNING)

#: Per-round metrics a sweep figure shows: column, panel title with units, and the range the
#: quantity can take (``None``: unbounded), which its band stays within.
SWEEP_PANELS = [
    ("welfare", "welfare / round (money)", (None, None)),
    ("efficiency", "efficiency (realized / optimal)", (None, 1.0)),
    ("price", "clearing price (money / unit)", (0.0, None)),
    ("volume", "data units traded / round", (0.0, None)),
    ("data_share", "corporations supplying (share)", (0.0, 1.0)),
    ("model_accuracy", "model accuracy (held out)", (0.0, 1.0)),
    ("corporations_active", "corporations active", (0.0, None)),
    ("solvers_active", "solvers active", (0.0, None)),
    ("reward_gini", "reward inequality (Gini)", (0.0, 1.0)),
]

#: The legend entry of points marked by :func:`_band` (``full``): fewer seeds than the line.
_FEWER = "_fewer"  # the marks' label: hidden from legends, found by fewer_seeds
FEWER = plt.Line2D([], [], color="0.3", ls="", marker="o", mfc="none", ms=4,
                   label="fewer seeds (the others have no value)")  # fmt: skip


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


def interval(
    stats, t: bool = True, floor: float | None = None, ceiling: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The 95% confidence interval of each mean, within a quantity's range.

    Args:
        stats: ``mean``, ``sem`` and ``count`` (a frame's columns, or a series' entries for
            one mean), e.g. ``grouped.agg(["mean", "sem", "count"])``.
        t: Student's t with ``count − 1`` degrees of freedom (few independent units, e.g.
            seeds) instead of the normal ``1.96``.
        floor: the lower edge never goes below this (a quantity's lower bound).
        ceiling: the upper edge never goes above this (a quantity's upper bound).

    Returns:
        The lower and upper edges; a mean without a standard error (one unit) is its own
        interval.
    """
    mean = np.asarray(stats["mean"], dtype=float)
    scale = t_scale(np.asarray(stats["count"], dtype=float)) if t else 1.96
    half = np.nan_to_num(scale * np.asarray(stats["sem"], dtype=float))
    low, high = mean - half, mean + half
    if floor is not None:
        low = np.maximum(low, floor)
    if ceiling is not None:
        high = np.minimum(high, ceiling)
    return low, high


def _band(
    ax,
    grouped,
    color,
    style: str = "-",
    alpha: float = 0.2,
    t: bool = False,
    floor: float | None = None,
    ceiling: float | None = None,
    full: int | None = None,
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
        full: the units a complete group has (e.g. the seeds); groups with fewer values
            (NaN left out) are marked with open circles (:func:`fewer_seeds` gives their
            legend entry).
        **line: further keywords of the line (label, marker, ...).

    Returns:
        The x values.
    """
    stats = grouped.agg(["mean", "sem", "count"])
    x = stats.index.to_numpy()
    low, high = interval(stats, t, floor, ceiling)
    ax.plot(x, stats["mean"], style, color=color, **line)
    ax.fill_between(x, low, high, color=color, alpha=alpha)
    fewer = (stats["count"] < full).to_numpy() if full is not None else []
    if np.any(fewer):
        ax.plot(x[fewer], stats["mean"].to_numpy()[fewer], "o", color=color, mfc="none",
                ms=4, mew=0.8, label=_FEWER)  # fmt: skip
    return x


def fewer_seeds(axes) -> list[plt.Line2D]:
    """The legend entry :data:`FEWER` if :func:`_band` marked a point on ``axes``, else none."""
    marked = any(line.get_label() == _FEWER for ax in axes for line in ax.lines)
    return [FEWER] if marked else []


def seeds(n: int) -> str:
    """``n`` seeds as a figure says it: ``1 seed``, ``3 seeds``."""
    return f"{n} seed{'s' * (n != 1)}"


def _grace(axes, grace_rounds: int | None, last_round: float) -> list[plt.Line2D]:
    """Mark the end of the grace period on ``axes``: from then on agents may leave.

    Agents present from round 0 may leave at the end of round ``grace_rounds``; the line
    sits between that round and the next.

    Returns:
        The legend entry, or nothing when there is no grace period within the rounds.
    """
    if grace_rounds is None or grace_rounds + 0.5 > last_round:
        return []
    style = {"color": "0.35", "ls": "-.", "lw": 0.8}
    for ax in axes:
        ax.axvline(grace_rounds + 0.5, **style)
    return [plt.Line2D([], [], **style, label="grace period ends (agents may leave)")]


def run_title(config: SimConfig) -> str:
    """A run's figure title: its incentive regime, its mechanism (or open data), size, seed."""
    market = config.market
    return (
        f"{config.incentives.regime}, {market_label(config)}: {market.n_corporations} "
        f"corporations, {market.n_solvers} solvers, seed {config.seed}"
    )


def plot_sweep(
    table: pd.DataFrame, swept: list[str], path: str | Path, grace_rounds: int | None = None
) -> Path:
    """A sweep's per-round metrics, one line per combination of swept values.

    Lines are means over seeds, bands their 95% t interval over seeds, within the range
    each quantity can take; open circles mark rounds whose mean stands on fewer seeds than
    the line's (runs without a value there, e.g. no efficiency once nobody trades).

    Args:
        table: the long ``rounds`` table of :func:`experiments.collect.collect` (columns
            ``seed``, ``round`` and the swept parameters).
        swept: the swept parameters (without the seed).
        path: output file (``.png`` or ``.pdf``).
        grace_rounds: the runs' ``agents.grace_rounds``, marked on every panel; None when
            the runs do not share one.

    Returns:
        The path written.
    """
    path = Path(path)
    groups = list(table.groupby(swept, sort=True, dropna=False)) if swept else [((), table)]
    fig, axes = plt.subplots(3, 3, figsize=(PAGE_WIDTH, 5.8), sharex=True, layout="constrained")
    counts = {group["seed"].nunique() for _, group in groups}
    for k, (key, group) in enumerate(groups):
        values = key if isinstance(key, tuple) else (key,)
        label = ", ".join(f"{p}={v}" for p, v in zip(swept, values, strict=True)) or "all runs"
        n = group["seed"].nunique()
        label += f" ({seeds(n)})" if len(counts) > 1 else ""
        color = PALETTE[k % len(PALETTE)]
        for ax, (column, _, (low, high)) in zip(axes.flat, SWEEP_PANELS, strict=True):
            if column in group:
                _band(ax, group.groupby("round")[column], color, t=True, floor=low,
                      ceiling=high, full=n, lw=1.0, label=label)  # fmt: skip
    for ax, (_, title, _) in zip(axes.flat, SWEEP_PANELS, strict=True):
        ax.set_title(title, fontsize="small")
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("round")
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    lines = {h.get_label(): h for ax in axes.flat for h in ax.get_legend_handles_labels()[0]}
    handles = [*lines.values(), *_grace(axes.flat, grace_rounds, table["round"].max())]
    handles += fewer_seeds(axes.flat)
    (n, *more) = counts
    counted = "the seeds" if more else seeds(n)
    fig.legend(handles=handles, loc="outside lower center", ncols=2, frameon=False,
               title=f"mean and 95% t interval over {counted} per line")  # fmt: skip
    return _save(fig, path)


def _limits(values: pd.Series, pad: float = 0.05) -> tuple[float, float]:
    """Axis limits that show every value, 0 and 1."""
    both = np.append(values.to_numpy(dtype=float), [0.0, 1.0])
    low, high = np.nanmin(both), np.nanmax(both)
    return low - pad * (high - low), high + pad * (high - low)


def plot_rounds(
    rounds: pd.DataFrame,
    path: str | Path,
    title: str | None = None,
    grace_rounds: int | None = None,
) -> Path:
    """Plot welfare, efficiency, price and participation per round into one figure.

    Where the rounds have no market price the price panel says why
    (:func:`sim.results.price_note`).

    Args:
        rounds: a run's ``rounds`` table.
        path: output file; the format follows its suffix (``.png``, ``.pdf``).
        title: figure title (:func:`run_title` gives a run's).
        grace_rounds: the run's ``agents.grace_rounds``, marked on every panel.

    Returns:
        The path written.
    """
    path = Path(path)
    fig, axes = plt.subplots(2, 2, figsize=(PAGE_WIDTH, 4.6), sharex=True, layout="constrained")
    r = rounds["round"]
    ax = axes[0, 0]
    ax.plot(r, rounds["welfare"], color=PALETTE[0], label="realized welfare")
    ax.plot(r, rounds["optimal_welfare"], color=PALETTE[1], ls="--", label="optimum (planner)")
    ax.set(ylabel="money per round", title="Welfare")
    ax = axes[0, 1]
    ax.plot(r, rounds["efficiency"], color=PALETTE[2])
    ax.set(ylabel="realized / optimal", title="Efficiency", ylim=_limits(rounds["efficiency"]))
    ax = axes[1, 0]
    ax.set(xlabel="round", title="Price and volume")
    if rounds["price"].notna().any():
        ax.plot(r, rounds["price"], color=PALETTE[3], label="clearing price")
        ax.set_ylabel("money per data unit")
        ax.set_ylim(bottom=min(0.0, rounds["price"].min()))
    else:
        ax.set_yticks([])
    note = price_note(rounds)
    if note:
        ax.text(0.5, 0.95, note.replace(": ", ":\n", 1), transform=ax.transAxes, ha="center",
                va="top", fontsize="small", color="0.25",
                bbox={"fc": "white", "ec": "none", "alpha": 0.8})  # fmt: skip
    twin = ax.twinx()
    twin.bar(r, rounds["volume"], color=PALETTE[5], alpha=0.35, label="volume (data units)")
    twin.set_ylabel("data units")
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
    for ax in axes.flat:
        ax.grid(alpha=0.3)
    handles = [h for a in (*axes.flat, twin) for h in a.get_legend_handles_labels()[0]]
    handles += _grace(axes.flat, grace_rounds, r.max())
    fig.legend(handles=handles, loc="outside lower center", ncols=3, frameon=False)
    if title:
        fig.suptitle(title)
    return _save(fig, path)
