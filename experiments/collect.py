"""``intentlab collect``: every complete run of a sweep in one long-format table.

A run is a directory holding ``config.yaml`` (or Hydra's ``.hydra/``); it is complete once
it holds ``DONE``. The collected table stacks one result table (``rounds`` by default) of
every complete run, with a ``run`` column (the run's directory relative to the sweep), a
``seed`` column, and one column per swept parameter: every config key, in dotted form,
whose value differs between the runs. Keys set in only some runs (a mechanism's own
parameters, when the sweep varies the mechanism) are columns too, but not counted as swept.
Incomplete runs are listed, never dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from sim.results import DONE


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
    """

    table: pd.DataFrame
    swept: list[str]
    varying: list[str]
    runs: list[Path]
    incomplete: list[Path]


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
    """Directories under ``sweep`` (itself included) that hold a run."""
    found = {p.parent for p in sweep.rglob("config.yaml") if p.parent.name != ".hydra"}
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
    complete, incomplete = [], []
    for directory in run_directories(sweep):
        (complete if (directory / DONE).is_file() else incomplete).append(directory)
    runs = [d for d in complete if (d / f"{table}.parquet").is_file()]
    if not runs:
        raise FileNotFoundError(f"{sweep}: no complete run with {table}.parquet")
    configs = {d: flatten(yaml.safe_load((d / "config.yaml").read_text())) for d in runs}
    keys = sorted(set().union(*configs.values()))
    differ = [
        k for k in keys if k != "seed" and len({repr(c.get(k)) for c in configs.values()}) > 1
    ]
    swept = [k for k in differ if all(k in c for c in configs.values())]
    varying = [k for k in differ if k not in swept]
    frames = []
    for directory in runs:
        frame = pd.read_parquet(directory / f"{table}.parquet")
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
    return Collected(data, swept, varying, runs, incomplete)
