"""Market-clearing mechanisms and the welfare benchmark.

Public surface::

    mechanisms.available()                  # registered names
    mech = mechanisms.get("dutch", tick=0.01)
    out = mech.clear(market, rng=None)      # -> Outcome
    mechanisms.welfare.optimum(market)      # planner on true values
    mechanisms.welfare.value(market, x)
    mechanisms.yuma.epoch(weights, stake)   # Bittensor's Yuma consensus, one epoch

This package imports nothing else of intentlab, nor Mesa or Hydra.
"""

from mechanisms import welfare, yuma
from mechanisms.base import (
    PROPERTY_VALUES,
    Mechanism,
    UnsupportedMarketError,
    available,
    get,
    mechanism_class,
)
from mechanisms.dutch import DutchAuction
from mechanisms.first_price import FirstPrice
from mechanisms.market import Market, Outcome
from mechanisms.mcafee import McAfee
from mechanisms.posted_price import PostedPrice
from mechanisms.vcg import VCG

__all__ = [
    "PROPERTY_VALUES",
    "VCG",
    "DutchAuction",
    "FirstPrice",
    "Market",
    "McAfee",
    "Mechanism",
    "Outcome",
    "PostedPrice",
    "UnsupportedMarketError",
    "available",
    "get",
    "mechanism_class",
    "welfare",
    "yuma",
]
