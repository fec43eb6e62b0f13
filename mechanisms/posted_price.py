"""A protocol-set posted price."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from mechanisms.allocation import at_price
from mechanisms.base import Mechanism, is_number
from mechanisms.market import Market, Outcome


class PostedPrice(Mechanism):
    """The protocol posts a per-unit price; trade wherever both sides accept it.

    A pair may trade if it is compatible and ``ask_ij <= price <= bid_ij``. Trades are
    rationed by :func:`mechanisms.allocation.at_price` (maximum volume, then maximum
    reported surplus), and every unit pays ``price``. Because the rationing looks at
    reported surplus, an agent on the long side can gain priority by exaggerating, so the
    mechanism is not truthful.

    Args:
        price: the posted per-unit price, finite and ``>= 0``.
    """

    name = "posted_price"
    properties: ClassVar[dict[str, Any]] = {
        "truthful_buyers": False,
        "truthful_sellers": False,
        "budget_balanced": "strong",
        "individually_rational": True,
        "efficient": False,
        "markets": "any",
    }

    def __init__(self, price: float = 1.5) -> None:
        if not (is_number(price) and price >= 0):
            raise ValueError(f"posted_price: price must be a finite number >= 0, got {price!r}")
        self.price = float(price)

    def _clear(self, market: Market, rng: np.random.Generator | None) -> Outcome:
        return Outcome.uniform_price(at_price(market, self.price), self.price)
