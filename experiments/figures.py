"""Figures of a run: welfare, efficiency, price and participation over rounds."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

# Okabe-Ito, colour-blind safe.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442"]


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
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return path
