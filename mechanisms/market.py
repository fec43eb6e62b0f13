"""The reported market a mechanism clears, and the outcome it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


def _array(name: str, value: Any, *, ndim: tuple[int, ...]) -> np.ndarray:
    arr = np.array(value, dtype=float)
    if arr.ndim not in ndim:
        allowed = " or ".join(f"{d}-D" for d in ndim)
        raise ValueError(f"Market.{name} must be {allowed}, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"Market.{name} contains NaN or inf")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class Market:
    """A reported two-sided market for data units, validated on creation.

    Sellers are indexed by ``i`` (corporations), buyers by ``j`` (solvers).

    Attributes:
        supply: ``(n,)`` data units seller ``i`` offers, ``>= 0``.
        demand: ``(m,)`` data units buyer ``j`` can process, ``>= 0``.
        ask: ``(n,)`` or ``(n, m)`` per-unit reserve price of seller ``i`` (towards ``j``).
        bid: ``(m,)`` or ``(n, m)`` per-unit value of buyer ``j`` (for ``i``'s data),
            net of the buyer's processing cost.
        compatible: ``(n, m)`` bool; ``None`` means every pair may trade.

    Raises:
        ValueError: on wrong shapes, NaN/inf entries or negative quantities.
    """

    supply: np.ndarray
    demand: np.ndarray
    ask: np.ndarray
    bid: np.ndarray
    compatible: np.ndarray | None = None

    def __post_init__(self) -> None:
        supply = _array("supply", self.supply, ndim=(1,))
        demand = _array("demand", self.demand, ndim=(1,))
        n, m = supply.size, demand.size
        if np.any(supply < 0):
            raise ValueError("Market.supply must be >= 0")
        if np.any(demand < 0):
            raise ValueError("Market.demand must be >= 0")
        ask = _array("ask", self.ask, ndim=(1, 2))
        bid = _array("bid", self.bid, ndim=(1, 2))
        if ask.shape not in ((n,), (n, m)):
            raise ValueError(f"Market.ask must have shape ({n},) or ({n}, {m}), got {ask.shape}")
        if bid.shape not in ((m,), (n, m)):
            raise ValueError(f"Market.bid must have shape ({m},) or ({n}, {m}), got {bid.shape}")
        compatible = self.compatible
        if compatible is not None:
            compatible = np.array(compatible)
            if compatible.shape != (n, m):
                raise ValueError(
                    f"Market.compatible must have shape ({n}, {m}), got {compatible.shape}"
                )
            if compatible.dtype != bool:
                raise ValueError(f"Market.compatible must be bool, got dtype {compatible.dtype}")
            compatible.setflags(write=False)
        object.__setattr__(self, "supply", supply)
        object.__setattr__(self, "demand", demand)
        object.__setattr__(self, "ask", ask)
        object.__setattr__(self, "bid", bid)
        object.__setattr__(self, "compatible", compatible)
        object.__setattr__(self, "_all_positive", bool(supply.all() and demand.all()))

    @property
    def all_positive(self) -> bool:
        """Whether every seller offers and every buyer demands a positive quantity."""
        return self._all_positive

    @property
    def n_sellers(self) -> int:
        """Number of sellers ``n``."""
        return self.supply.size

    @property
    def n_buyers(self) -> int:
        """Number of buyers ``m``."""
        return self.demand.size

    @property
    def shape(self) -> tuple[int, int]:
        """``(n, m)``."""
        return self.n_sellers, self.n_buyers

    def ask_matrix(self) -> np.ndarray:
        """Asks broadcast to ``(n, m)``."""
        return np.broadcast_to(
            self.ask.reshape(-1, 1) if self.ask.ndim == 1 else self.ask, self.shape
        )

    def bid_matrix(self) -> np.ndarray:
        """Bids broadcast to ``(n, m)``."""
        return np.broadcast_to(
            self.bid.reshape(1, -1) if self.bid.ndim == 1 else self.bid, self.shape
        )

    def compatible_matrix(self) -> np.ndarray:
        """Compatibility as a ``(n, m)`` bool array (all ``True`` when unrestricted)."""
        if self.compatible is None:
            return np.ones(self.shape, dtype=bool)
        return self.compatible


@dataclass(frozen=True, eq=False)
class Outcome:
    """What a mechanism decided.

    Attributes:
        allocation: ``(n, m)`` data units traded from seller ``i`` to buyer ``j``.
        seller_revenue: ``(n,)`` money paid to each seller.
        buyer_payment: ``(m,)`` money charged to each buyer.
        price: the uniform per-unit price, or ``None`` for discriminatory mechanisms.
        info: mechanism-specific diagnostics (ticks, solver status, ...).
    """

    allocation: np.ndarray
    seller_revenue: np.ndarray
    buyer_payment: np.ndarray
    price: float | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def volume(self) -> float:
        """Total data units traded."""
        return float(self.allocation.sum())

    @property
    def protocol_surplus(self) -> float:
        """Buyer payments minus seller revenue (negative: the mechanism runs a deficit)."""
        return float(self.buyer_payment.sum() - self.seller_revenue.sum())

    @classmethod
    def empty(cls, market: Market, **info: Any) -> Outcome:
        """An outcome with no trade."""
        n, m = market.shape
        return cls(np.zeros((n, m)), np.zeros(n), np.zeros(m), None, dict(info))

    @classmethod
    def uniform_price(cls, allocation: np.ndarray, price: float, **info: Any) -> Outcome:
        """An outcome where every traded unit changes hands at ``price``."""
        allocation = np.asarray(allocation, dtype=float)
        return cls(
            allocation,
            price * allocation.sum(axis=1),
            price * allocation.sum(axis=0),
            float(price),
            dict(info),
        )
