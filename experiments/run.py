"""Hydra entry point (``intentlab run``): one simulation, or the study a preset selects.

Each run holds an OS file lock on ``<run dir>/.lock`` while it checks, computes and writes
its directory (:func:`sim.results.locked`), so a second run into the same directory is
refused; the operating system releases the lock when the process ends, killed or not.

Importing this module imports the simulation but no study, no plotting library and no JAX
(a plain run imports matplotlib once its rounds are done, JAX when its first round trains a
model), and makes the local sweep launcher (:mod:`experiments.launcher`) known to Hydra.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import hydra
import yaml
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

import sim
from experiments import CONFIG_DIR, launcher
from sim.results import (
    DONE,
    RUN_FILES,
    DamagedRunError,
    DirectoryInUseError,
    IncompleteRunError,
    locked,
    verify,
)

launcher.register()  # before Hydra scans its plugins: `hydra/launcher=local`


def resolve(cfg: DictConfig | Mapping[str, Any]) -> tuple[sim.SimConfig, Any]:
    """Split a composed config into the simulation config and the study config, if any.

    The study config is that of the registered study its ``study.kind`` names
    (:func:`experiments.studies.load`), checked against the simulation config
    (:meth:`experiments.studies.Study.check`).

    Raises:
        ConfigError: for an unknown key or a bad value in either.
    """
    data = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
    study = data.pop("study", None)
    config = sim.SimConfig.from_dict(data)
    if study is None:
        return config, None
    from experiments import studies  # imports every study and matplotlib

    study = studies.load(study)
    studies.get(study.kind).check(config, study)
    return config, study


def config_record(config: sim.SimConfig, study: Any = None) -> dict:
    """What the run's ``config.yaml`` holds (:func:`experiments.studies.config_record`).

    A plain run's record is its config's; only a study imports the studies.
    """
    if study is None:
        return config.to_dict()
    from experiments.studies import config_record as study_record

    return study_record(config, study)


def is_complete(directory: Path, record: dict, key: str = "hydra.run.dir") -> bool:
    """Whether ``directory`` already holds the complete result of this configuration.

    A damaged run (files that do not match the SHA-256 sums in its ``DONE``, or a file it
    writes that ``DONE`` does not list; see :func:`sim.results.verify`) is reported on stderr
    and counts as incomplete: its ``DONE`` is removed, so it is redone.

    Args:
        directory: a run's output directory.
        record: the config the run would save (:func:`experiments.studies.config_record`).
        key: the setting that chose the directory, for the error message.

    Raises:
        ConfigError: if the directory is complete but holds a different configuration.
    """
    try:
        verify(directory, reads=["config.yaml"] if "study" in record else RUN_FILES)
    except IncompleteRunError:
        return False  # absent or incomplete: (re)run it
    except DamagedRunError as exc:
        print(f"warning: damaged run, redoing it: {exc}", file=sys.stderr)
        (directory / DONE).unlink(missing_ok=True)
        return False
    saved = yaml.safe_load((directory / "config.yaml").read_text())
    if saved != yaml.safe_load(yaml.safe_dump(record, sort_keys=False)):
        raise sim.ConfigError(
            key,
            f"{directory} holds a complete run of another configuration; "
            "choose another output directory",
        )
    return True


@hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    """Run what the config describes, save it in Hydra's output directory, plot it."""
    os.environ.setdefault("MPLBACKEND", "Agg")  # figures are files (any launcher's worker)
    for name in ("MESA", "jax"):  # their INFO lines are noise in a run log
        logging.getLogger(name).setLevel(logging.WARNING)
    from crypto.zk import not_ezkl  # ezkl's reports: in the run's log file, not the console

    for handler in logging.getLogger().handlers:
        if type(handler) is logging.StreamHandler:
            handler.addFilter(not_ezkl)
    hydra_cfg = HydraConfig.get()
    out = Path(hydra_cfg.runtime.output_dir)
    multirun = hydra_cfg.mode == RunMode.MULTIRUN
    key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    try:
        with locked(out):
            _run(cfg, out, key, progress=not multirun)  # parallel jobs: the launcher reports
    except DirectoryInUseError as exc:
        print(f"intentlab run: error: {key}: {exc}", file=sys.stderr)
        sys.exit(1)


def _run(cfg: DictConfig, out: Path, key: str, progress: bool) -> None:
    """Run what ``cfg`` describes into ``out`` unless it is complete there already."""
    try:
        config, study = resolve(cfg)
        done = is_complete(out, config_record(config, study), key)
    except sim.ConfigError as exc:
        print(f"intentlab run: error: {exc}", file=sys.stderr)
        sys.exit(2)
    if done:
        print(f"complete, skipped: {out}")  # a re-run sweep keeps finished runs
        return
    if study is not None:
        from experiments import studies

        summary = studies.execute(config, study, out, progress=progress)
        answers = summary.pop("answer") if "answer" in summary else ()
        print(summary.to_string(line_width=100))
        for answer in answers:
            print(f"- {answer}")
        print(f"results: {out}")
        return
    result = sim.run(config, progress=progress)
    from experiments.figures import plot_rounds, run_title  # matplotlib: not before the rounds

    plot_rounds(result.rounds, out / "rounds.png", title=run_title(config),
                grace_rounds=config.agents.grace_rounds)  # fmt: skip
    result.save(out)
    print(result.report())
    print(f"results: {out}")
