"""Concentration and inequality measures reported per round."""

from __future__ import annotations

import numpy as np


def hhi(amounts: np.ndarray) -> float:
    """Herfindahl-Hirschman index of market shares in ``[1/k, 1]``; NaN if nothing is shared.

    Args:
        amounts: non-negative quantities, one per participant.
    """
    amounts = np.asarray(amounts, dtype=float)
    total = amounts.sum()
    if total <= 0:
        return float("nan")
    shares = amounts / total
    return float(np.sum(shares**2))


def gini(amounts: np.ndarray) -> float:
    """Gini coefficient of non-negative amounts in ``[0, 1 - 1/k]``; NaN if all are zero.

    Args:
        amounts: non-negative quantities, one per participant (zeros included).
    """
    x = np.sort(np.asarray(amounts, dtype=float))
    k, total = x.size, x.sum()
    if k == 0 or total <= 0:
        return float("nan")
    ranks = np.arange(1, k + 1)
    return float(2 * np.sum(ranks * x) / (k * total) - (k + 1) / k)
