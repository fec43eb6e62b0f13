"""Run results: the tables a run produces, written atomically with a ``DONE`` marker."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import textwrap
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from filelock import FileLock, Timeout

from sim import regimes
from sim.config import SimConfig

TABLES = ("rounds", "trades", "agents", "rejected", "adversaries", "ground_truth")
DONE = "DONE"
#: The files :meth:`RunResult.save` writes and ``DONE`` lists.
RUN_FILES = (*(f"{name}.parquet" for name in TABLES), "config.yaml")
#: The lock file a process holds in a run directory while it writes it (see :func:`locked`).
LOCK = ".lock"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_UMASK = os.umask(0)
os.umask(_UMASK)


class IncompleteRunError(RuntimeError):
    """A run directory has no ``DONE`` marker: it was interrupted or is still being written."""


class DamagedRunError(RuntimeError):
    """A run directory has ``DONE`` but its files do not match it.

    ``str()`` is one line naming the directory, the file and what is wrong.
    """


class DirectoryInUseError(RuntimeError):
    """Another process holds the lock of a directory (see :func:`locked`)."""


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
        ground_truth: one row per trade also run as a real job, with its measurement, in
            the order the jobs were started: for a ``pipeline`` job also the seconds of each
            stage (``seconds_<stage>``), ``proof_verified`` and ``heldout_accuracy`` (wall
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
        """Read a complete run directory written by :meth:`save`, verified against ``DONE``.

        Raises:
            IncompleteRunError: if ``DONE`` is missing.
            DamagedRunError: if a file does not match ``DONE`` (see :func:`verify`).
        """
        directory = Path(directory)
        verify(directory, reads=RUN_FILES)
        tables = {name: pd.read_parquet(directory / f"{name}.parquet") for name in TABLES}
        config = SimConfig.from_dict(yaml.safe_load((directory / "config.yaml").read_text()))
        return cls(config=config, **tables)

    def digest(self) -> str:
        """SHA-256 over the result tables' column names and values (not their file bytes).

        Ground truth is left out (its wall times differ between runs). The same config and
        seed give the same digest whatever the Parquet writer; ``tests/golden.json`` holds
        the digests of the golden runs (``make golden`` rewrites them).
        """
        sha = hashlib.sha256()
        for name in TABLES:
            if name == "ground_truth":
                continue
            frame = getattr(self, name)
            sha.update(json.dumps([name, [str(c) for c in frame.columns]]).encode())
            rows = pd.util.hash_pandas_object(frame, index=False, categorize=False)
            sha.update(rows.to_numpy().tobytes())
        return sha.hexdigest()

    def summary(self) -> pd.DataFrame:
        """A short table of headline figures for the run, numbers rounded by :func:`rounded`.

        ``mean price`` is NaN where no round has a uniform clearing price
        (:func:`price_note` says why; :meth:`report` prints it).
        """
        r = self.rounds
        items = {
            "rounds": len(r),
            "incentives": self.config.incentives.regime,
            "mechanism": market_label(self.config),
            "mean efficiency": r["efficiency"].mean(),
            "total welfare": r["welfare"].sum(),
            "total optimal welfare": r["optimal_welfare"].sum(),
            "mean price": r["price"].mean(),
            "total volume": r["volume"].sum(),
            "trades": len(self.trades),
            "rejected trades": int(r["rejected_trades"].sum()),
            "corporations active (last round)": int(r["corporations_active"].iloc[-1]),
            "solvers active (last round)": int(r["solvers_active"].iloc[-1]),
            "corporations left (entered)": f"{int(r['corporations_exited'].sum())} "
            f"({int(r['corporations_entered'].sum())})",
            "solvers left (entered)": f"{int(r['solvers_exited'].sum())} "
            f"({int(r['solvers_entered'].sum())})",
            "mean share of corporations supplying": r["data_share"].mean(),
            "mean model accuracy": r["model_accuracy"].mean(),
            "tokens emitted": r["emission"].sum(),
            "cheating trades (detected)": f"{int(r['cheat_attempts'].sum())} "
            f"({int(r['detections'].sum())})",
            "tokens slashed": r["slashed"].sum(),
            "ground-truth jobs": len(self.ground_truth),
            "ground-truth jobs failed": int((~self.ground_truth["ok"].astype(bool)).sum()),
        }
        return rounded(pd.DataFrame({"value": pd.Series(items, dtype=object)}))

    def report(self) -> str:
        """The summary as ``intentlab run`` prints it: a price that is missing says why.

        ``mean price`` reads e.g. ``n/a (no uniform price: vcg sets prices per trade)`` where
        :func:`price_note` has a reason.
        """
        table = self.summary()
        note = price_note(self.rounds)
        if note:
            price = table.at["mean price", "value"]
            shown = "n/a" if pd.isna(price) else f"{price:g}"
            table.at["mean price", "value"] = f"{shown} ({note})"
        text = table.to_string(header=False)
        emptied = emptied_note(self.rounds, self.config)
        return f"{text}\n{textwrap.fill(emptied, 100)}" if emptied else text


def emptied_note(rounds: pd.DataFrame, config: SimConfig) -> str | None:
    """Why a run's market ran empty (a side with no active agent), or None if it did not.

    Agents leave once their running utility falls below their outside option, from the end
    of their grace period on; where few pairs gain from trade, most agents earn nothing and
    leave then, and a small market can lose a whole side.
    """
    empty = rounds.index[(rounds["corporations_active"] == 0) | (rounds["solvers_active"] == 0)]
    if not len(empty):
        return None
    agents = config.agents
    return (
        f"note: the market ran empty in round {int(rounds.at[empty[0], 'round'])}: agents "
        "leave once their running utility falls below their outside option "
        f"(agents.corporation_outside_option={agents.corporation_outside_option:g}, "
        f"agents.solver_outside_option={agents.solver_outside_option:g}) after "
        f"agents.grace_rounds={agents.grace_rounds} rounds"
    )


def market_label(config: SimConfig) -> str:
    """How the run's data changes hands: its mechanism, or ``open data at price 0``."""
    if regimes.registry.lookup(config.incentives.regime).market_rule.priced:
        return config.mechanism.name
    return "open data at price 0"


def price_note(rounds: pd.DataFrame) -> str | None:
    """Why a run's ``rounds`` have no market price (``price`` NaN or 0), or None.

    Rounds without trade have no price. A mechanism that sets prices per trade (VCG, first
    price, McAfee's trade reduction) has no uniform price in the rounds it does so, and open
    data (a regime whose market rule is not priced) is given away at price 0.
    """
    traded = rounds["volume"] > 0
    if not traded.any():
        return "no data changed hands: no price"
    priced = {regimes.registry.lookup(name).market_rule.priced for name in rounds["incentives"]}
    if priced == {False}:
        return "open data is given away: price 0"
    missing = rounds.loc[traded, "price"].isna()
    if not missing.any():
        return None
    mechanism = ", ".join(dict.fromkeys(rounds.loc[traded & rounds["price"].isna(), "mechanism"]))
    some = "" if missing.all() else f" in {int(missing.sum())} of {missing.size} rounds with trade"
    return f"no uniform price{some}: {mechanism} sets prices per trade"


def rounded(values, digits: int = 3):
    """``values`` rounded to ``digits`` decimals, with zero as ``0``, never ``-0``.

    Rounding a small negative number gives ``-0.0`` (printed ``-0.000``); adding ``0.0``
    turns it into ``0.0``. Every summary table goes through it.

    Args:
        values: a number, a Series or a DataFrame; what is not a float (text, integers,
            booleans) passes through unchanged.
        digits: decimals to keep.
    """
    if isinstance(values, pd.DataFrame):
        return values.apply(rounded, digits=digits)
    if isinstance(values, pd.Series):
        if pd.api.types.is_float_dtype(values):
            return values.round(digits) + 0.0
        if values.dtype == object:
            return values.map(lambda value: rounded(value, digits))
        return values
    if isinstance(values, float | np.floating):
        return round(float(values), digits) + 0.0
    return values


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


def verify(directory: str | os.PathLike, reads: Iterable[str] = ()) -> dict[str, str]:
    """Check a complete directory's files against the SHA-256 sums in its ``DONE``.

    Every file ``DONE`` lists must exist and have its listed digest, and every file the
    caller will read (``reads``) must be listed: a file placed in the directory after it was
    written is not vouched for.

    Args:
        directory: a directory written by :func:`write_complete`.
        reads: names of the files the caller will read.

    Returns:
        ``{file name: SHA-256}`` as ``DONE`` lists them.

    Raises:
        IncompleteRunError: if ``DONE`` is missing.
        DamagedRunError: if ``DONE`` is unreadable, or a file is missing, differs from its
            digest, or is read but not listed.
    """
    directory = Path(directory)
    if not (directory / DONE).exists():
        raise IncompleteRunError(f"{directory} has no {DONE} marker: the run is incomplete")
    listed = _listing(directory)
    check_listed(directory, listed, reads)
    for name, digest in listed.items():
        try:
            with open(directory / name, "rb") as fh:
                actual = hashlib.file_digest(fh, "sha256").hexdigest()
        except FileNotFoundError:
            raise DamagedRunError(f"{directory}: {name} is missing (listed in {DONE})") from None
        except OSError as exc:
            raise DamagedRunError(f"{directory}: {name} is unreadable: {exc}") from None
        if actual != digest:
            raise DamagedRunError(
                f"{directory}: {name} is damaged: its SHA-256 differs from the one in {DONE}"
            )
    return listed


def check_listed(
    directory: str | os.PathLike, listed: dict[str, str], reads: Iterable[str]
) -> None:
    """Check that every file in ``reads`` is among ``listed`` (what :func:`verify` returned).

    Raises:
        DamagedRunError: naming the first file that is not listed.
    """
    for name in reads:
        if name not in listed:
            raise DamagedRunError(f"{directory}: {name} is not listed in {DONE}")


def _listing(directory: Path) -> dict[str, str]:
    """``DONE``'s ``{file name: SHA-256}``, checked for form."""
    try:
        done = json.loads((directory / DONE).read_text())
    except (OSError, ValueError) as exc:  # ValueError: not UTF-8 or not JSON
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DamagedRunError(f"{directory}: {DONE} is unreadable: {reason}") from None
    listed = done.get("files") if isinstance(done, dict) else None
    if not isinstance(listed, dict):
        raise DamagedRunError(f'{directory}: {DONE} is damaged: it has no "files" mapping')
    for name, digest in listed.items():
        if Path(name).name != name or name in ("", ".", ".."):
            raise DamagedRunError(f"{directory}: {DONE} lists {name!r}, not a file name")
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise DamagedRunError(f"{directory}: {DONE} lists {name} without a SHA-256 digest")
    return listed


@contextmanager
def locked(directory: str | os.PathLike, name: str = LOCK) -> Iterator[Path]:
    """Hold an OS file lock on ``directory/name`` (created with the directory if absent).

    The lock is the operating system's (``flock``), so it is released when the process
    ends, killed or not; the lock file stays behind, harmless.

    Yields:
        The directory.

    Raises:
        DirectoryInUseError: at once, if another process holds the lock.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    lock = FileLock(directory / name)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise DirectoryInUseError(
            f"{directory} is in use by another process (it holds {directory / name})"
        ) from None
    try:
        yield directory
    finally:
        lock.release()


def write_atomic(path: Path, write: Callable[[str], object]) -> str:
    """Write via ``write(tmp_path)`` then rename onto ``path``; return the file's SHA-256."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest
