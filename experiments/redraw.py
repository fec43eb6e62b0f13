"""``intentlab figures DIR``: the figures of a run, a sweep or a study, with a manifest.

A directory with ``config.yaml`` or ``DONE`` is a run or a study, of the kind its
``config.yaml`` names (``study.kind``; a run has none); any other directory is a sweep:

* a run (``rounds.parquet``): ``rounds.pdf``/``.png``;
* a study: its figure (``<figure>.pdf``/``.png``, see :class:`experiments.studies.Study`),
  drawn by the study's ``plot`` from the tables it declares;
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

from experiments import figures, studies
from experiments.collect import collect
from experiments.figures import FORMATS
from sim.config import SimConfig
from sim.results import DONE, DamagedRunError, check_listed, verify, write_atomic


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
    kind = (config.get("study") or {}).get("kind")
    if kind is None:
        check_listed(directory, listed, ["rounds.parquet"])
        table = pd.read_parquet(directory / "rounds.parquet")
        run = SimConfig.from_dict(config)
        title, grace = figures.run_title(run), run.agents.grace_rounds
        files = _draw("rounds", lambda p: figures.plot_rounds(table, p, title, grace), directory)
        sources = ["rounds.parquet"]
    else:
        study = studies.get(kind)
        check_listed(directory, listed, study.tables)
        tables = studies.read(directory, kind)
        files = _draw(study.figure, lambda p: study.plot(tables, p), directory)
        table, sources = next(iter(tables.values())), list(study.tables)
    by_seed = isinstance(table, pd.DataFrame) and "seed" in table
    seeds = sorted(set(table["seed"])) if by_seed else [config.get("seed")]
    return {"files": files, "experiment": kind or "run", "runs": ["."], "tables": sources,
            "swept": [], "seeds": seeds}  # fmt: skip


def _draw_sweep(directory: Path) -> dict:
    """Draw a sweep's figure from its complete runs; refuse it if a run is damaged."""
    found = collect(directory, "rounds")
    if found.damaged:
        first, *more = found.damaged.values()
        raise DamagedRunError(first + (f" (and {len(more)} more damaged runs)" if more else ""))
    table = found.table
    grace = None  # marked only where every run has the same grace period
    if "agents.grace_rounds" not in table:
        config = yaml.safe_load((found.runs[0] / "config.yaml").read_text())  # verified
        grace = config.get("agents", {}).get("grace_rounds")
    files = _draw("sweep", lambda p: figures.plot_sweep(table, found.swept, p, grace), directory)
    return {
        "files": files,
        "experiment": "sweep",
        "runs": sorted(set(table["run"])),
        "tables": ["rounds.parquet"],
        "swept": found.swept,
        "seeds": sorted(int(s) for s in set(table["seed"])),
        "incomplete_runs_left_out": [str(p.relative_to(directory)) for p in found.incomplete],
    }
