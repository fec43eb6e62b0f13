"""The mechanism protocol and the one registry every mechanism lives in."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from mechanisms.market import Market, Outcome

_REGISTRY: dict[str, type[Mechanism]] = {}


class Mechanism:
    """A market-clearing rule: one verb, :meth:`clear`.

    Subclasses set ``name`` and ``properties`` and are registered by name when defined.

    Attributes:
        name: registry name, as used by ``mechanisms.get`` and ``mechanism=<name>`` in configs.
        properties: what the mechanism guarantees on *reported* values, e.g.
            ``individually_rational``, ``budget_balanced``, ``truthful_buyers``.
    """

    name: ClassVar[str] = ""
    properties: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name:
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
        """
        raise NotImplementedError

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({params})"


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
