"""The mechanism protocol and the one registry every mechanism lives in."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from mechanisms.market import Market, Outcome

_REGISTRY: dict[str, type[Mechanism]] = {}

#: Keys every mechanism declares in ``properties``, and the values they may take.
PROPERTY_VALUES: dict[str, tuple[Any, ...]] = {
    "truthful_buyers": (True, False, "unit"),
    "truthful_sellers": (True, False, "unit"),
    "budget_balanced": ("strong", "weak", "none"),
    "individually_rational": (True, False),
    "efficient": (True, False),
    "markets": ("any", "homogeneous"),
}


class UnsupportedMarketError(ValueError):
    """The mechanism cannot clear this kind of market; the message says why."""


class Mechanism:
    """A market-clearing rule: one verb, :meth:`clear`.

    Subclasses set ``name`` and ``properties``, implement :meth:`_clear` (and
    :meth:`unsupported` if they cannot clear every market), and are registered by name when
    defined.

    Attributes:
        name: registry name, as used by ``mechanisms.get`` and ``mechanism=<name>`` in configs.
        properties: what the mechanism guarantees, with the keys and values of
            :data:`PROPERTY_VALUES`: ``truthful_buyers`` / ``truthful_sellers`` (truthful
            reporting is a dominant strategy; ``"unit"``: only when every agent has one
            unit), ``budget_balanced`` (``strong``: payments in
            equal payments out; ``weak``: the protocol never pays in; ``none``: it may run a
            deficit), ``individually_rational`` (on reported values), ``efficient`` (the
            allocation maximizes welfare on the reported values) and ``markets``
            (``homogeneous``: one ask per seller, one bid per buyer, no intent restrictions).
    """

    name: ClassVar[str] = ""
    properties: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name:
            missing = set(PROPERTY_VALUES) - set(cls.properties)
            bad = {k: v for k, v in cls.properties.items() if v not in PROPERTY_VALUES.get(k, (v,))}
            if missing or bad:
                raise TypeError(f"mechanism {cls.name!r}: missing properties {missing}, bad {bad}")
            if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
                raise ValueError(f"mechanism name {cls.name!r} is registered twice")
            _REGISTRY[cls.name] = cls

    def clear(self, market: Market, rng: np.random.Generator | None = None) -> Outcome:
        """Map a reported market to an allocation and payments.

        Args:
            market: the reported market.
            rng: randomness for mechanisms that need it; deterministic ones ignore it.

        Returns:
            The outcome.

        Raises:
            UnsupportedMarketError: if the mechanism cannot clear ``market``.
        """
        reason = self.unsupported(market)
        if reason:
            raise UnsupportedMarketError(f"{self.name}: {reason}")
        return self._clear(market, rng)

    def unsupported(self, market: Market) -> str | None:
        """Why this mechanism cannot clear ``market``, or ``None`` if it can."""
        if self.properties.get("markets") == "homogeneous":
            return homogeneity_problem(market)
        return None

    def _clear(self, market: Market, rng: np.random.Generator | None) -> Outcome:
        raise NotImplementedError

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({params})"


def is_number(value: Any) -> bool:
    """Whether ``value`` is a finite ``int`` or ``float`` (``True`` and ``False`` are not)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def homogeneity_problem(market: Market) -> str | None:
    """Why ``market`` is not homogeneous, or ``None`` if it is.

    Homogeneous: one ask per seller, one bid per buyer, no intent restrictions.
    """
    if market.ask.ndim != 1 or market.bid.ndim != 1:
        return (
            "needs homogeneous data units (one ask per seller and one bid per buyer); "
            "this market has per-pair asks or bids"
        )
    if market.compatible is not None and not market.compatible.all():
        blocked = int((~market.compatible).sum())
        return f"does not support intent restrictions ({blocked} pairs are incompatible)"
    return None


def available() -> list[str]:
    """Names of all registered mechanisms, sorted."""
    return sorted(_REGISTRY)


def mechanism_class(name: str) -> type[Mechanism]:
    """The class registered under ``name``.

    Raises:
        ValueError: if no mechanism has that name; the message lists the allowed names.
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown mechanism {name!r}; allowed: {', '.join(available())}") from None


def get(name: str, **params: Any) -> Mechanism:
    """Instantiate the mechanism registered under ``name`` with ``params``.

    Raises:
        ValueError: for an unknown name or a parameter the mechanism does not take.
    """
    cls = mechanism_class(name)
    try:
        return cls(**params)
    except TypeError as exc:
        raise ValueError(f"mechanism {name!r}: {exc}") from None
