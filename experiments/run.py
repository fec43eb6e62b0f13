"""Hydra entry point (``intentlab run``): one simulation, or the study a preset selects."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

import sim
from experiments import CONFIG_DIR
from experiments import mechanism_comparison as comparison
from experiments.figures import plot_rounds

STUDIES = {"mechanism_comparison": comparison.load_study}


def resolve(cfg: DictConfig | Mapping[str, Any]) -> tuple[sim.SimConfig, Any]:
    """Split a composed config into the simulation config and the study, if any.

    Raises:
        ConfigError: for an unknown key or a bad value in either.
    """
    data = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
    study = data.pop("study", None)
    config = sim.SimConfig.from_dict(data)
    if study is None:
        return config, None
    kind = study.get("kind") if isinstance(study, Mapping) else None
    if kind not in STUDIES:
        raise sim.ConfigError("study.kind", f"allowed: {', '.join(STUDIES)}")
    return config, STUDIES[kind](study)


@hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    """Run what the config describes, save it in Hydra's output directory, plot it."""
    logging.getLogger("MESA").setLevel(logging.WARNING)
    try:
        config, study = resolve(cfg)
    except sim.ConfigError as exc:
        print(f"intentlab run: error: {exc}", file=sys.stderr)
        sys.exit(2)
    out = Path(HydraConfig.get().runtime.output_dir)
    if study is not None:
        table = comparison.run(config, study, progress=True)
        comparison.save(table, config, study, out)
        print(comparison.summary(table).to_string())
        print(f"results: {out}")
        return
    result = sim.run(config, progress=True)
    plot_rounds(
        result.rounds, out / "rounds.png", title=f"{config.mechanism.name}, seed {config.seed}"
    )
    result.save(out)
    print(result.summary().to_string(header=False))
    print(f"results: {out}")
