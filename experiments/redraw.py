"""``intentlab figures DIR``: the figures of a run, a sweep or a study, with a manifest.

A directory with ``config.yaml`` or ``DONE`` is a run or a study, of the kind its
``config.yaml`` names (``study.kind``; a run has none); any other directory is a sweep:

* a run (``rounds.parquet``): ``rounds.pdf``/``.png``;
* a ``mechanism_comparison`` study (``comparison.parquet``): ``comparison.pdf``/``.png``;
* an ``intent_vs_yuma`` study (``rounds.parquet`` with a ``regime`` column):
  ``intent_vs_yuma.pdf``/``.png``;
* an ``adversaries`` study: ``adversaries.pdf``/``.png``;
* an ``fhe_overhead`` study: ``fhe_overhead.pdf``/``.png``;
* a ``calibration`` study: ``calibration.pdf``/``.png``;
* a ``solver_entry`` study: ``solver_entry.pdf``/``.png``;
* a sweep (runs in subdirectories): the complete runs' rounds gathered by
  :func:`experiments.collect.collect`, ``sweep.pdf``/``.png``, one line per combination of
  swept values.

A run or study is verified against the SHA-256 sums in its ``DONE`` first
(:func:`sim.results.verify`; the files drawn from must be listed there), and a sweep's runs
by :func:`experiments.collect.collect`; a damaged one is refused.

Figures go to ``DIR/figures/`` with ``manifest.json``: for each figure, its files, the
experiment, the runs and tables it was drawn from, the swept parameters and seeds, and the
intentlab version and git commit that drew it.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from importlib import metadata
from pathlib import Path

import pandas as pd
import yaml

from experiments import figures
from experiments.collect import collect
from experiments.figures import FORMATS
from sim.results import DONE, DamagedRunError, check_listed, verify, write_atomic

#: The files each kind of study directory is drawn from (besides ``config.yaml``), its table
#: first; a run and an ``intent_vs_yuma`` study are drawn from ``rounds.parquet``.
SOURCES = {
    "calibration": ("measurements.parquet", "calibration.json"),
    "solver_entry": ("entry.parquet",),
    "adversaries": ("adversaries.parquet",),
    "fhe_overhead": ("rounds.parquet",),
    "mechanism_comparison": ("comparison.parquet",),
}


def _provenance() -> dict[str, str | None]:
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return {"intentlab": metadata.version("intentlab"), "git_commit": commit or None}


def _draw(name: str, plot, directory: Path) -> list[str]:
    out = directory / "figures"
    out.mkdir(exist_ok=True)
    return [plot(out / f"{name}.{suffix}").name for suffix in FORMATS]


def draw(directory: str | Path) -> Path:
    """Draw the figures of ``directory`` and write their manifest.

    Returns:
        The manifest's path.

    Raises:
        IncompleteRunError: if ``directory`` is a run or study without ``DONE``.
        DamagedRunError: if it, or a run of the sweep, does not match its ``DONE``.
        FileNotFoundError: if it holds no run at all.
    """
    directory = Path(directory)
    if (directory / "config.yaml").is_file() or (directory / DONE).exists():  # a run or a study
        entry = _draw_run(directory)
    else:
        entry = _draw_sweep(directory)
    manifest = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **_provenance(),
        "style": "experiments.figures.PAPER_STYLE",
        "figures": [entry],
    }
    path = directory / "figures" / "manifest.json"
    write_atomic(path, lambda p: Path(p).write_text(json.dumps(manifest, indent=2) + "\n"))
    return path


def _draw_run(directory: Path) -> dict:
    """Draw a run's or a study's figure, from files verified against its ``DONE``."""
    listed = verify(directory, reads=["config.yaml"])
    config = yaml.safe_load((directory / "config.yaml").read_text())
    kind = (config.get("study") or {}).get("kind", "run")
    sources = SOURCES.get(kind, ("rounds.parquet",))
    check_listed(directory, listed, sources)
    table = pd.read_parquet(directory / sources[0])
    if kind == "calibration":
        from crypto.calibration import Calibration

        fitted = Calibration.load(directory / "calibration.json")
        files = _draw(
            "calibration", lambda p: figures.plot_calibration(table, fitted, p), directory
        )
    elif kind == "solver_entry":
        from experiments.solver_entry import counts

        found = counts(table, tuple(config["study"]["entry_costs"]))
        files = _draw("solver_entry", lambda p: figures.plot_entry(table, found, p), directory)
    elif kind == "adversaries":
        files = _draw("adversaries", lambda p: figures.plot_adversaries(table, p), directory)
    elif kind == "fhe_overhead":
        files = _draw("fhe_overhead", lambda p: figures.plot_overhead(table, p), directory)
    elif kind == "mechanism_comparison":
        files = _draw("comparison", lambda p: figures.plot_comparison(table, p), directory)
    elif "regime" in table:
        files = _draw("intent_vs_yuma", lambda p: figures.plot_regimes(table, p), directory)
    else:
        title = f"{config['mechanism']['name']}, seed {config['seed']}"
        files = _draw("rounds", lambda p: figures.plot_rounds(table, p, title=title), directory)
    seeds = sorted(set(table["seed"])) if "seed" in table else [config.get("seed")]
    return {"files": files, "experiment": kind, "runs": ["."], "tables": [sources[0]],
            "swept": [], "seeds": seeds}  # fmt: skip


def _draw_sweep(directory: Path) -> dict:
    """Draw a sweep's figure from its complete runs; refuse it if a run is damaged."""
    found = collect(directory, "rounds")
    if found.damaged:
        first, *more = found.damaged.values()
        raise DamagedRunError(first + (f" (and {len(more)} more damaged runs)" if more else ""))
    table = found.table
    files = _draw("sweep", lambda p: figures.plot_sweep(table, found.swept, p), directory)
    return {
        "files": files,
        "experiment": "sweep",
        "runs": sorted(set(table["run"])),
        "tables": ["rounds.parquet"],
        "swept": found.swept,
        "seeds": sorted(int(s) for s in set(table["seed"])),
        "incomplete_runs_left_out": [str(p.relative_to(directory)) for p in found.incomplete],
    }
