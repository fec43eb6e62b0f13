"""Bittensor's Yuma consensus: one epoch as a pure function over numpy arrays.

Follows subtensor's epoch (``pallets/subtensor/src/epoch/run_epoch.rs`` in
``opentensor/subtensor``, ``epoch_dense``, the original Yuma branch taken when ``Yuma3On``
is off, as at commit 03f9277): with validators ``i`` and servers (here: solvers) ``j``,

* ``W`` row-normalized validator weights, ``S`` normalized validator stake;
* prerank ``P_j = Σ_i S_i W_ij``;
* consensus ``C_j = max {w : Σ_i S_i [W_ij ≥ w] ≥ κ}``, the largest weight that at least
  ``κ`` of the stake supports (the stake-weighted median for ``κ = 0.5``);
* clipped weights ``W̄_ij = min(W_ij, C_j)``; rank ``R_j = Σ_i S_i W̄_ij``; incentive
  ``I = R / ΣR``; trust ``T_j = R_j / P_j``; validator trust ``Σ_j W̄_ij``;
* weights for bonds ``W̃ = (1 − β) W + β W̄`` (bond penalty ``β``), instant bonds
  ``ΔB_ij = S_i W̃_ij / Σ_k S_k W̃_kj`` (column-normalized), EMA bonds
  ``B = α ΔB + (1 − α) B_prev`` (``α`` is ``bond_alpha``);
* bond normalization (``bond_normalization``): ``"column"`` (subtensor) normalizes the
  previous bonds and the EMA bonds so that every server's column sums to one,
  ``Σ_i B_ij = 1``; ``"none"`` keeps the raw EMA, the convention of
  ``bactensor/yuma-simulation``'s original Yuma, where a server new to the epoch carries
  bonds summing to ``α`` only and so weighs less in the dividends;
* dividends ``D_i = Σ_j B_ij I_j``, normalized to sum to one.

The emission of an epoch is then split between servers by ``incentive`` and validators by
``dividends`` (see :func:`split`). Yuma 3 (subtensor's ``Yuma3On`` branch: per-bond EMA
with liquid alpha, bonds kept unnormalized and dividends weighted by stake) is not
implemented.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Epoch:
    """What one Yuma epoch computes.

    Arrays over validators have length ``v``, over servers length ``s``; matrices are
    ``(v, s)``.

    Attributes:
        weights: the row-normalized weights the epoch used.
        stake: the normalized stake.
        prerank: ``P``.
        consensus: ``C``, per server.
        clipped: ``W̄``.
        rank: ``R``.
        incentive: ``I`` (sums to 1 unless every rank is 0).
        trust: ``T`` per server (0 where the prerank is 0).
        validator_trust: per validator.
        bonds: the EMA bonds to pass to the next epoch.
        dividends: ``D`` (sums to 1 unless every dividend is 0).
    """

    weights: np.ndarray
    stake: np.ndarray
    prerank: np.ndarray
    consensus: np.ndarray
    clipped: np.ndarray
    rank: np.ndarray
    incentive: np.ndarray
    trust: np.ndarray
    validator_trust: np.ndarray
    bonds: np.ndarray
    dividends: np.ndarray


#: Bond normalization conventions (see the module docstring).
BOND_NORMALIZATION = ("column", "none")


def _normalize(x: np.ndarray, axis: int | None = None) -> np.ndarray:
    total = x.sum(axis=axis, keepdims=axis is not None)
    return np.divide(x, total, out=np.zeros_like(x), where=total > 0)


def consensus(weights: np.ndarray, stake: np.ndarray, kappa: float = 0.5) -> np.ndarray:
    """Per column, the largest weight supported by at least ``kappa`` of the stake.

    Args:
        weights: ``(v, s)``.
        stake: ``(v,)`` normalized stake (sums to 1).
        kappa: the supporting stake share, in ``(0, 1]``.
    """
    order = np.argsort(-weights, axis=0, kind="stable")
    ranked = np.take_along_axis(weights, order, axis=0)  # descending per column
    support = np.cumsum(stake[order], axis=0)  # stake at or above each ranked weight
    reached = support >= kappa - 1e-12
    first = np.where(reached.any(axis=0), reached.argmax(axis=0), weights.shape[0] - 1)
    # ties: the stake behind a weight includes every validator at that weight, so the
    # first ranked position reaching kappa already carries the supported value
    return ranked[first, np.arange(weights.shape[1])] if weights.size else np.zeros(0)


def epoch(
    weights: np.ndarray,
    stake: np.ndarray,
    bonds: np.ndarray | None = None,
    *,
    kappa: float = 0.5,
    bond_penalty: float = 1.0,
    bond_alpha: float = 0.1,
    bond_normalization: str = "column",
) -> Epoch:
    """One Yuma consensus epoch.

    Args:
        weights: ``(v, s)`` non-negative weights validator ``i`` sets on server ``j``; rows
            are normalized here (an all-zero row stays zero).
        stake: ``(v,)`` non-negative validator stake, normalized here.
        bonds: ``(v, s)`` EMA bonds from the previous epoch; ``None`` starts from zero.
        kappa: consensus majority, in ``(0, 1]``.
        bond_penalty: ``β`` in ``[0, 1]``: how far bonds are cut above consensus.
        bond_alpha: ``α`` in ``(0, 1]``: weight of this epoch's bonds in the EMA.
        bond_normalization: ``"column"`` (subtensor: previous and EMA bonds normalized per
            server) or ``"none"`` (the raw EMA).

    Returns:
        The :class:`Epoch`.

    Raises:
        ValueError: on shapes that do not match, negative or non-finite entries, zero total
            stake, or a parameter out of range.
    """
    w = np.asarray(weights, dtype=float)
    s = np.asarray(stake, dtype=float)
    if w.ndim != 2 or s.shape != (w.shape[0],):
        raise ValueError(f"yuma: weights must be (v, s) and stake (v,), got {w.shape}, {s.shape}")
    for name, arr in (("weights", w), ("stake", s)):
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise ValueError(f"yuma: {name} must be finite and >= 0")
    if s.sum() <= 0:
        raise ValueError("yuma: total stake must be > 0")
    if not 0 < kappa <= 1:
        raise ValueError(f"yuma: kappa must be in (0, 1], got {kappa}")
    if not 0 <= bond_penalty <= 1:
        raise ValueError(f"yuma: bond_penalty must be in [0, 1], got {bond_penalty}")
    if not 0 < bond_alpha <= 1:
        raise ValueError(f"yuma: bond_alpha must be in (0, 1], got {bond_alpha}")
    if bond_normalization not in BOND_NORMALIZATION:
        raise ValueError(
            f"yuma: bond_normalization must be one of {', '.join(BOND_NORMALIZATION)}, "
            f"got {bond_normalization!r}"
        )
    prev = np.zeros_like(w) if bonds is None else np.asarray(bonds, dtype=float)
    if prev.shape != w.shape:
        raise ValueError(f"yuma: bonds must have the weights' shape {w.shape}, got {prev.shape}")

    w = _normalize(w, axis=1)
    s = _normalize(s)
    prerank = s @ w
    cons = consensus(w, s, kappa)
    clipped = np.minimum(w, cons[None, :])
    rank = s @ clipped
    incentive = _normalize(rank)
    trust = np.divide(rank, prerank, out=np.zeros_like(rank), where=prerank > 0)
    for_bonds = (1 - bond_penalty) * w + bond_penalty * clipped
    delta = _normalize(s[:, None] * for_bonds, axis=0)
    column = bond_normalization == "column"
    if column:
        prev = _normalize(prev, axis=0)
    ema = bond_alpha * delta + (1 - bond_alpha) * prev
    if column:
        ema = _normalize(ema, axis=0)
    dividends = _normalize(ema @ incentive)
    return Epoch(
        weights=w,
        stake=s,
        prerank=prerank,
        consensus=cons,
        clipped=clipped,
        rank=rank,
        incentive=incentive,
        trust=trust,
        validator_trust=clipped.sum(axis=1),
        bonds=ema,
        dividends=dividends,
    )


def split(result: Epoch, emission: float, validator_share: float) -> tuple[np.ndarray, np.ndarray]:
    """Tokens per server and per validator: ``(1 − ξ) E · I`` and ``ξ E · D``.

    Args:
        result: the epoch.
        emission: tokens to distribute.
        validator_share: ``ξ``, the validators' share.
    """
    return (
        emission * (1 - validator_share) * result.incentive,
        emission * validator_share * result.dividends,
    )
