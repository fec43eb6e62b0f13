"""Cryptographic components and the cost models derived from them.

This package imports nothing else of intentlab, nor Mesa or Hydra.
"""

from crypto.costs import CostModel

__all__ = ["CostModel"]
