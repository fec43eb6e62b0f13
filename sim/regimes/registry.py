"""The registry of incentive regimes, by name.

It fills as :class:`sim.regimes.Regime` subclasses are defined; the configuration checks
regime names against it.
"""

from __future__ import annotations

from typing import Any

_REGISTRY: dict[str, Any] = {}


def register(name: str, cls: Any) -> None:
    """Register ``cls`` under ``name``.

    Raises:
        ValueError: if another class holds the name.
    """
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        raise ValueError(f"regime name {name!r} is registered twice")
    _REGISTRY[name] = cls


def available() -> list[str]:
    """Names of all registered regimes, sorted."""
    return sorted(_REGISTRY)


def lookup(name: str) -> Any:
    """The class registered under ``name``.

    Raises:
        ValueError: for an unknown name; the message lists the allowed names.
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown regime {name!r}; allowed: {', '.join(available())}") from None


def unregister(name: str) -> None:
    """Remove ``name`` (for regimes defined in tests)."""
    _REGISTRY.pop(name, None)
