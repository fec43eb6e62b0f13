"""The market simulation: Mesa model, round pipeline, ledger, metrics, runner, results.

Public surface::

    result = sim.run(config)   # SimConfig, a mapping, or a Hydra config
    result.rounds, result.trades, result.agents, result.rejected   # DataFrames
    result.save(directory)     # Parquet tables, config.yaml, DONE last
"""

from sim.config import ConfigError, SimConfig
from sim.ledger import Ledger, LedgerError
from sim.model import MarketModel
from sim.results import DamagedRunError, DirectoryInUseError, IncompleteRunError, RunResult
from sim.runner import run

__all__ = [
    "ConfigError",
    "DamagedRunError",
    "DirectoryInUseError",
    "IncompleteRunError",
    "Ledger",
    "LedgerError",
    "MarketModel",
    "RunResult",
    "SimConfig",
    "run",
]
