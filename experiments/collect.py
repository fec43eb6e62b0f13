"""``intentlab collect``: every complete run of a sweep in one long-format table.

A run is a directory holding ``config.yaml``, ``DONE`` or Hydra's ``.hydra/``; it is
complete once it holds ``DONE``. The collected table stacks one result table (``rounds`` by
default) of every complete run, with a ``run`` column (the run's directory relative to the
sweep), a ``seed`` column, and one column per swept parameter: every config key, in dotted
form, whose value differs between the runs. Keys set in only some runs (a mechanism's own
parameters, when the sweep varies the mechanism) are columns too, but not counted as swept.

Every run is verified against the SHA-256 sums in its ``DONE`` (:func:`sim.results.verify`)
before it is read. Incomplete runs, damaged runs and jobs of a Hydra sweep that never
started (numbers ``0..N-1`` expected from its ``multirun.yaml`` with no run directory) are
listed, never dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from experiments import CONFIG_DIR
from sim.results import DONE, DamagedRunError, IncompleteRunError, verify

#: What Hydra's basic sweeper names each job's directory: its number.
JOB_SUBDIR = "${hydra.job.num}"


@dataclass(frozen=True)
class Collected:
    """What :func:`collect` found.

    Attributes:
        table: the long-format table.
        swept: the swept parameters (dotted config keys set in every run, with values that
            differ), in the table as columns.
        varying: the other keys whose values differ (set in only some runs), also columns.
        runs: complete runs collected.
        incomplete: run directories without ``DONE``.
        damaged: run directories whose files do not match their ``DONE``, each with the
            one-line reason (:class:`sim.results.DamagedRunError`); not collected.
        never_started: directories of sweep jobs that never started (a sweep's
            ``multirun.yaml`` expects them; no run is there).
    """

    table: pd.DataFrame
    swept: list[str]
    varying: list[str]
    runs: list[Path]
    incomplete: list[Path]
    damaged: dict[Path, str]
    never_started: list[Path]


def flatten(config: dict, prefix: str = "") -> dict[str, object]:
    """Nested dicts as one dict of dotted keys; lists become tuples (hashable)."""
    out: dict[str, object] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = tuple(value) if isinstance(value, list) else value
    return out


def run_directories(sweep: Path) -> list[Path]:
    """Directories under ``sweep`` (itself included) that hold a run.

    A run directory holds ``config.yaml``, ``DONE`` or Hydra's ``.hydra/``.
    """
    found = {p.parent for p in sweep.rglob("config.yaml") if p.parent.name != ".hydra"}
    found |= {p.parent for p in sweep.rglob(DONE)}
    found |= {p.parent for p in sweep.rglob(".hydra") if p.is_dir()}
    return sorted(found, key=lambda p: [int(s) if s.isdigit() else s for s in p.parts])


def collect(sweep: str | Path, table: str = "rounds") -> Collected:
    """Gather ``table`` from every complete run under ``sweep``.

    Args:
        sweep: a sweep (or run) directory.
        table: the Parquet table to stack (``rounds``, ``trades``, ``agents``,
            ``adversaries``, ... or a study's table such as ``comparison``).

    Raises:
        FileNotFoundError: if ``sweep`` does not exist or holds no complete run with
            ``table``.
    """
    sweep = Path(sweep)
    if not sweep.is_dir():
        raise FileNotFoundError(f"{sweep}: no such directory")
    name = f"{table}.parquet"
    directories = run_directories(sweep)
    runs, incomplete, damaged = [], [], {}
    for directory in directories:
        reads = ["config.yaml", *([name] if (directory / name).exists() else [])]
        try:
            listed = verify(directory, reads)
        except IncompleteRunError:
            incomplete.append(directory)
        except DamagedRunError as exc:
            damaged[directory] = str(exc)
        else:
            if name in listed:
                runs.append(directory)
    if not runs:
        first = f" ({len(damaged)} damaged: {next(iter(damaged.values()))})" if damaged else ""
        raise FileNotFoundError(f"{sweep}: no complete run with {name}{first}")
    configs = {d: flatten(yaml.safe_load((d / "config.yaml").read_text())) for d in runs}
    keys = sorted(set().union(*configs.values()))
    differ = [
        k for k in keys if k != "seed" and len({repr(c.get(k)) for c in configs.values()}) > 1
    ]
    swept = [k for k in differ if all(k in c for c in configs.values())]
    varying = [k for k in differ if k not in swept]
    frames = []
    for directory in runs:
        frame = pd.read_parquet(directory / name)
        config = configs[directory]
        columns = {"run": str(directory.relative_to(sweep)) or "."}
        if "seed" not in frame.columns:
            columns["seed"] = config.get("seed")
        for key in differ:
            value = config.get(key)
            columns[key] = repr(value) if isinstance(value, tuple) else value
        frames.append(frame.assign(**columns))
    data = pd.concat(frames, ignore_index=True)
    front = ["run", "seed", *swept, *varying]
    data = data[front + [c for c in data.columns if c not in front]]
    started = set(directories)
    never_started = [job for job in expected_jobs(sweep) if job not in started]
    return Collected(data, swept, varying, runs, incomplete, damaged, never_started)


def expected_jobs(sweep: Path) -> list[Path]:
    """The job directories the Hydra sweeps under ``sweep`` were to write.

    A sweep's ``multirun.yaml`` holds its sweeper parameters and command-line overrides;
    Hydra's basic sweeper runs their Cartesian product as jobs ``0..N-1``, each in the
    subdirectory named by its number. Sweeps with another ``hydra.sweep.subdir``, or whose
    ``multirun.yaml`` cannot be read, are left out.
    """
    return [job for path in sorted(sweep.rglob("multirun.yaml")) for job in _jobs(path)]


def _jobs(multirun: Path) -> list[Path]:
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra._internal.utils import create_config_search_path
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    try:
        hydra = yaml.safe_load(multirun.read_text())["hydra"]
        if hydra["sweep"]["subdir"] != JOB_SUBDIR:
            return []
        params = hydra["sweeper"].get("params") or {}
        arguments = [f"{k}={v}" for k, v in params.items()] + list(hydra["overrides"]["task"])
        loader = ConfigLoaderImpl(config_search_path=create_config_search_path(str(CONFIG_DIR)))
        overrides = OverridesParser.create(config_loader=loader).parse_overrides(arguments)
        (jobs,) = BasicSweeper.split_arguments(overrides, None)
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError, HydraException):
        return []
    return [multirun.parent / str(number) for number in range(len(jobs))]
