"""The reported market a mechanism clears, and the outcome it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAX_MAGNITUDE = 1e9
"""Largest magnitude of a quantity, ask or bid a market accepts. The LP solvers behind the
mechanisms and the planner work to relative tolerances near 1e-9; beyond this bound they
can fail to separate a market's values (measured by ``tests/test_fuzz.py``)."""


def _array(name: str, value: Any, *, ndim: tuple[int, ...]) -> np.ndarray:
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"Market.{name} must be an array of numbers, got {value!r}") from None
    if arr.ndim not in ndim:
        allowed = " or ".join(f"{d}-D" for d in ndim)
        raise ValueError(f"Market.{name} must be {allowed}, got shape {arr.shape}")
    if arr.size:  # two reductions, no temporaries: NaN propagates through min and max
        lo, hi = arr.min(), arr.max()
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise ValueError(f"Market.{name} contains NaN or inf")
        if max(-lo, hi) > MAX_MAGNITUDE:
            raise ValueError(
                f"Market.{name} entries must lie within +-{MAX_MAGNITUDE:g}, got {max(-lo, hi):g}"
            )
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
        ValueError: on wrong shapes, NaN/inf entries, entries beyond :data:`MAX_MAGNITUDE`
            or negative quantities; the message names the field.
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
        seller_prices: ``(n, m)`` per-unit price seller ``i`` receives on its trade with
            ``j``, for mechanisms that price trades of one agent differently; ``None``:
            every seller receives one price per unit on all its trades.
        buyer_prices: ``(n, m)`` per-unit price buyer ``j`` pays on its trade with ``i``;
            ``None``: one price per unit on all of a buyer's trades.
    """

    allocation: np.ndarray
    seller_revenue: np.ndarray
    buyer_payment: np.ndarray
    price: float | None = None
    info: dict[str, Any] = field(default_factory=dict)
    seller_prices: np.ndarray | None = None
    buyer_prices: np.ndarray | None = None

    @property
    def volume(self) -> float:
        """Total data units traded."""
        return float(self.allocation.sum())

    @property
    def protocol_surplus(self) -> float:
        """Buyer payments minus seller revenue (negative: the mechanism runs a deficit)."""
        return float(self.buyer_payment.sum() - self.seller_revenue.sum())

    def pair_prices(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-unit prices of every trade: ``(seller_prices, buyer_prices)``, each ``(n, m)``.

        Where the mechanism gave none, each agent's revenue or payment per unit it traded
        (``0`` for an agent without trade): exact for every mechanism that charges an agent
        one price per unit.
        """
        x = self.allocation
        sold, bought = x.sum(axis=1), x.sum(axis=0)
        seller, buyer = self.seller_prices, self.buyer_prices
        if seller is None:
            per_unit = np.divide(self.seller_revenue, sold, out=np.zeros_like(sold), where=sold > 0)
            seller = np.broadcast_to(per_unit[:, None], x.shape)
        if buyer is None:
            per_unit = np.divide(
                self.buyer_payment, bought, out=np.zeros_like(bought), where=bought > 0
            )
            buyer = np.broadcast_to(per_unit[None, :], x.shape)
        return seller, buyer

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

    @classmethod
    def priced(
        cls,
        allocation: np.ndarray,
        seller_prices: np.ndarray,
        buyer_prices: np.ndarray,
        **info: Any,
    ) -> Outcome:
        """An outcome with a per-unit price for each side of each trade.

        Revenues and payments are the prices times the units traded, summed per agent.
        """
        allocation = np.asarray(allocation, dtype=float)
        shape = allocation.shape
        seller = np.where(allocation > 0, np.broadcast_to(seller_prices, shape), 0.0)
        buyer = np.where(allocation > 0, np.broadcast_to(buyer_prices, shape), 0.0)
        return cls(
            allocation,
            (seller * allocation).sum(axis=1),
            (buyer * allocation).sum(axis=0),
            None,
            dict(info),
            seller,
            buyer,
        )
