"""Cryptographic components and the cost models derived from them.

This package imports nothing else of intentlab, nor Mesa or Hydra. Importing it turns on
JAX's persistent compilation cache (:mod:`crypto.jaxcache`) before any of its modules imports
JAX; it imports no JAX, TenSEAL or ezkl itself.
"""

from crypto import jaxcache
from crypto.costs import CostModel

jaxcache.configure()

__all__ = ["CostModel"]
