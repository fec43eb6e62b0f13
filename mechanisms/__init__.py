"""Market-clearing mechanisms and the welfare benchmark.

Public surface::

    mechanisms.available()                  # registered names
    mech = mechanisms.get("dutch", tick=0.01)
    out = mech.clear(market, rng=None)      # -> Outcome
    mechanisms.welfare.optimum(market)      # planner on true values
    mechanisms.welfare.value(market, x)

This package imports nothing else of intentlab, nor Mesa or Hydra.
"""

from mechanisms import welfare
from mechanisms.base import Mechanism, available, get, mechanism_class
from mechanisms.dutch import DutchAuction
from mechanisms.market import Market, Outcome

__all__ = [
    "DutchAuction",
    "Market",
    "Mechanism",
    "Outcome",
    "available",
    "get",
    "mechanism_class",
    "welfare",
]
