"""Run results: the tables a run produces, written atomically with a ``DONE`` marker."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from sim.config import SimConfig

TABLES = ("rounds", "trades", "agents", "rejected", "adversaries", "ground_truth")
DONE = "DONE"
_UMASK = os.umask(0)
os.umask(_UMASK)


class IncompleteRunError(RuntimeError):
    """A run directory has no ``DONE`` marker: it was interrupted or is still being written."""


@dataclass(frozen=True)
class RunResult:
    """What one simulation run produced.

    Attributes:
        rounds: one row per round (see ``docs/results.md`` for the columns).
        trades: one row per executed trade.
        agents: one row per agent that ever joined, with its final state.
        rejected: one row per trade the settlement step rejected, with the reason.
        adversaries: per round and adversary kind: cheating trades, detections, slashed
            tokens and value extracted.
        ground_truth: one row per trade also run as a real job, with its measurement (wall
            times differ between runs; every other table is reproducible).
        config: the configuration that produced it.
    """

    rounds: pd.DataFrame
    trades: pd.DataFrame
    agents: pd.DataFrame
    rejected: pd.DataFrame
    adversaries: pd.DataFrame
    ground_truth: pd.DataFrame
    config: SimConfig

    def save(self, directory: str | os.PathLike) -> Path:
        """Write ``<table>.parquet`` for each table, ``config.yaml``, and ``DONE`` last.

        Each file is written to a temporary name and renamed into place. An existing
        ``DONE`` is removed first, so a directory never looks complete while it is being
        rewritten. ``DONE`` lists the SHA-256 of every file it vouches for.

        Returns:
            The directory.
        """
        tables = {name: getattr(self, name) for name in TABLES}
        files: dict[str, Callable[[str], object]] = {
            f"{name}.parquet": lambda path, f=frame: f.to_parquet(path, index=False)
            for name, frame in tables.items()
        }
        text = yaml.safe_dump(self.config.to_dict(), sort_keys=False)
        files["config.yaml"] = lambda path: Path(path).write_text(text)
        return write_complete(directory, files)

    @classmethod
    def load(cls, directory: str | os.PathLike) -> RunResult:
        """Read a complete run directory written by :meth:`save`.

        Raises:
            IncompleteRunError: if ``DONE`` is missing.
        """
        directory = Path(directory)
        if not (directory / DONE).exists():
            raise IncompleteRunError(f"{directory} has no {DONE} marker: the run is incomplete")
        tables = {name: pd.read_parquet(directory / f"{name}.parquet") for name in TABLES}
        config = SimConfig.from_dict(yaml.safe_load((directory / "config.yaml").read_text()))
        return cls(config=config, **tables)

    def summary(self) -> pd.DataFrame:
        """A short table of headline figures for the run."""
        r = self.rounds
        items = {
            "rounds": len(r),
            "incentives": self.config.incentives.regime,
            "mechanism": self.config.mechanism.name
            if self.config.incentives.regime == "intent_market"
            else "open data at price 0",
            "mean efficiency": r["efficiency"].mean(),
            "total welfare": r["welfare"].sum(),
            "total optimal welfare": r["optimal_welfare"].sum(),
            "mean price": r["price"].mean(),
            "total volume": r["volume"].sum(),
            "trades": len(self.trades),
            "rejected trades": int(r["rejected_trades"].sum()),
            "corporations active (last round)": int(r["corporations_active"].iloc[-1]),
            "solvers active (last round)": int(r["solvers_active"].iloc[-1]),
            "mean share of corporations supplying": r["data_share"].mean(),
            "mean model accuracy": r["model_accuracy"].mean(),
            "tokens emitted": r["emission"].sum(),
            "cheating trades (detected)": f"{int(r['cheat_attempts'].sum())} "
            f"({int(r['detections'].sum())})",
            "tokens slashed": r["slashed"].sum(),
            "ground-truth jobs": len(self.ground_truth),
            "ground-truth jobs failed": int((~self.ground_truth["ok"].astype(bool)).sum()),
        }
        return pd.DataFrame({"value": pd.Series(items, dtype=object)})


def write_complete(
    directory: str | os.PathLike,
    files: dict[str, Callable[[str], object]],
    figures: Callable[[Path], object] | None = None,
) -> Path:
    """Write a result directory that is complete only once ``DONE`` exists.

    Removes an existing ``DONE`` first, draws ``figures(directory)`` if given, writes each
    ``files[name](tmp_path)`` atomically, then writes ``DONE`` (JSON with the SHA-256 of
    every file in ``files``) atomically, last.

    Returns:
        The directory.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / DONE).unlink(missing_ok=True)
    if figures is not None:
        figures(directory)
    digests = {name: write_atomic(directory / name, write) for name, write in files.items()}
    done = json.dumps({"files": digests}, indent=2, sort_keys=True) + "\n"
    write_atomic(directory / DONE, lambda path: Path(path).write_text(done))
    return directory


def write_atomic(path: Path, write: Callable[[str], object]) -> str:
    """Write via ``write(tmp_path)`` then rename onto ``path``; return the file's SHA-256."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
            digest = hashlib.sha256(fh.read()).hexdigest()
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest
