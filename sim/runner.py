"""Run a simulation from a config to a :class:`~sim.results.RunResult`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tqdm.auto import tqdm

from sim.config import SimConfig
from sim.model import MarketModel
from sim.results import RunResult


def as_config(config: SimConfig | Mapping[str, Any] | Any) -> SimConfig:
    """Accept a :class:`SimConfig`, a nested mapping, or an OmegaConf/Hydra config.

    Raises:
        ConfigError: for an unknown key or a bad value.
    """
    if isinstance(config, SimConfig):
        return config
    if type(config).__module__.startswith("omegaconf"):
        from omegaconf import OmegaConf

        config = OmegaConf.to_container(config, resolve=True)
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a SimConfig or a mapping, got {type(config).__name__}")
    return SimConfig.from_dict(config)


def run(config: SimConfig | Mapping[str, Any] | Any, *, progress: bool = False) -> RunResult:
    """Simulate ``config.rounds`` rounds of the market.

    Args:
        config: a :class:`SimConfig`, a nested mapping, or a Hydra config.
        progress: show a progress bar over rounds, then over the ground-truth jobs the run
            still waits for.

    Returns:
        The run's tables and config.
    """
    config = as_config(config)
    model = MarketModel(config)
    for _ in tqdm(range(config.rounds), desc="rounds", unit="round", disable=not progress):
        model.step()
    return RunResult(
        rounds=model.rounds_frame(),
        trades=model.trades_frame(),
        agents=model.agents_frame(),
        rejected=model.rejected_frame(),
        adversaries=model.adversaries_frame(),
        ground_truth=model.ground_truth_frame(progress=progress),
        config=config,
    )
