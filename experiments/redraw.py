"""``intentlab figures DIR``: the figures of a run, a sweep or a study, with a manifest.

The directory's kind is read from what it holds:

* a run (``DONE``, ``rounds.parquet``): ``rounds.pdf``/``.png``;
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
from sim.results import DONE, IncompleteRunError, write_atomic


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
        FileNotFoundError: if it holds no run at all.
    """
    directory = Path(directory)
    entries = []
    if (directory / "config.yaml").is_file():  # a run or a study
        if not (directory / DONE).is_file():
            raise IncompleteRunError(f"{directory} has no {DONE} marker: the run is incomplete")
        config = yaml.safe_load((directory / "config.yaml").read_text())
        kind = (config.get("study") or {}).get("kind", "run")
        if kind == "calibration":
            from crypto.calibration import Calibration

            table = pd.read_parquet(directory / "measurements.parquet")
            fitted = Calibration.load(directory / "calibration.json")
            files = _draw(
                "calibration", lambda p: figures.plot_calibration(table, fitted, p), directory
            )
            source = "measurements.parquet"
        elif kind == "solver_entry":
            from experiments.solver_entry import counts

            table = pd.read_parquet(directory / "entry.parquet")
            found = counts(table, tuple(config["study"]["entry_costs"]))
            files = _draw("solver_entry", lambda p: figures.plot_entry(table, found, p), directory)
            source = "entry.parquet"
        elif kind == "adversaries":
            table = pd.read_parquet(directory / "adversaries.parquet")
            files = _draw("adversaries", lambda p: figures.plot_adversaries(table, p), directory)
            source = "adversaries.parquet"
        elif kind == "fhe_overhead":
            table = pd.read_parquet(directory / "rounds.parquet")
            files = _draw("fhe_overhead", lambda p: figures.plot_overhead(table, p), directory)
            source = "rounds.parquet"
        elif (directory / "comparison.parquet").is_file():
            table = pd.read_parquet(directory / "comparison.parquet")
            files = _draw("comparison", lambda p: figures.plot_comparison(table, p), directory)
            source = "comparison.parquet"
        else:
            table = pd.read_parquet(directory / "rounds.parquet")
            if "regime" in table:
                files = _draw("intent_vs_yuma", lambda p: figures.plot_regimes(table, p), directory)
            else:
                title = f"{config['mechanism']['name']}, seed {config['seed']}"
                files = _draw(
                    "rounds", lambda p: figures.plot_rounds(table, p, title=title), directory
                )
            source = "rounds.parquet"
        seeds = sorted(set(table["seed"])) if "seed" in table else [config.get("seed")]
        entries.append({"files": files, "experiment": kind, "runs": ["."],
                        "tables": [source], "swept": [], "seeds": seeds})  # fmt: skip
    else:
        found = collect(directory, "rounds")
        table = found.table
        files = _draw("sweep", lambda p: figures.plot_sweep(table, found.swept, p), directory)
        entries.append(
            {
                "files": files,
                "experiment": "sweep",
                "runs": sorted(set(table["run"])),
                "tables": ["rounds.parquet"],
                "swept": found.swept,
                "seeds": sorted(int(s) for s in set(table["seed"])),
                "incomplete_runs_left_out": [
                    str(p.relative_to(directory)) for p in found.incomplete
                ],
            }
        )
    manifest = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **_provenance(),
        "style": "experiments.figures.PAPER_STYLE",
        "figures": entries,
    }
    path = directory / "figures" / "manifest.json"
    write_atomic(path, lambda p: Path(p).write_text(json.dumps(manifest, indent=2) + "\n"))
    return path
