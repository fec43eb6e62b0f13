"""Hydra entry point for one simulation run (``intentlab run``)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

import sim
from experiments import CONFIG_DIR
from experiments.figures import plot_rounds


@hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    """Run the configured simulation, save it in Hydra's output directory, plot it."""
    logging.getLogger("MESA").setLevel(logging.WARNING)
    try:
        config = sim.runner.as_config(cfg)
    except sim.ConfigError as exc:
        print(f"intentlab run: error: {exc}", file=sys.stderr)
        sys.exit(2)
    out = Path(HydraConfig.get().runtime.output_dir)
    result = sim.run(config, progress=True)
    plot_rounds(
        result.rounds, out / "rounds.png", title=f"{config.mechanism.name}, seed {config.seed}"
    )
    result.save(out)
    print(result.summary().to_string(header=False))
    print(f"results: {out}")
