"""The study protocol, the one registry every study lives in, and the verbs all studies share.

A study is a small class (:class:`Study`): its kind, its config, the tables it writes, its
sizes, and three verbs of its own (``run``, ``plot``, ``summary``). What every study does
alike is here, once: validating a ``study`` block (:func:`load`), running, saving and
summarizing it (:func:`execute`, :func:`save`) and reading its tables back (:func:`read`).
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import multiprocessing as mp
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import yaml
from tqdm.auto import tqdm

from experiments.figures import FORMATS
from sim.config import ConfigError, SimConfig, build_config, plain
from sim.results import write_complete

#: A study's tables by name: a DataFrame (written as ``<name>.parquet``) or the text of a
#: ``<name>.json`` file.
Tables = dict[str, Any]

_REGISTRY: dict[str, type[Study]] = {}


class Study:
    """A question answered by runs, with its tables, its figure and its summary.

    Subclasses set the class attributes and implement :meth:`run`, :meth:`plot` and
    :meth:`summary`; a subclass with a ``kind`` is registered under it when defined.

    Attributes:
        kind: registry name: the value of ``study.kind``, and the name of its preset
            (``configs/experiment/<kind>.yaml``).
        Config: the frozen dataclass of the ``study`` block: fields made with
            :func:`sim.config.param` (checked by :func:`sim.config.build_config`), the
            first of them ``kind``; a ``__post_init__`` may raise
            :class:`sim.ConfigError` for checks across fields.
        tables: the files :meth:`run`'s tables are saved as and read back from, e.g.
            ``("comparison.parquet",)``: ``.parquet`` for a DataFrame, ``.json`` for text.
        figure: the figure's file stem (default: ``kind``), written as PDF and PNG.
        small: overrides of the small run ``intentlab figures <kind>`` and ``make figures``
            draw.
        tiny: ``study.*`` overrides of the tiny run the tests make (on a two-round market of
            10 corporations and 3 solvers).
        sweep: whether the preset is a sweep (run with ``-m``).
        assumptions: the config keys the study's conclusion rests on, each with the values
            a sensitivity sweep (``experiment=sensitivity``) tries; a key may join several
            keys with ``+`` to set them together. Empty: the study states no verdict.
        verdict_runs: keys of the study's block the sensitivity study sets by default (the
            runs the verdict needs, e.g. only the two regimes it compares).
    """

    kind: ClassVar[str] = ""
    Config: ClassVar[type]
    tables: ClassVar[tuple[str, ...]] = ()
    figure: ClassVar[str] = ""
    small: ClassVar[tuple[str, ...]] = ()
    tiny: ClassVar[tuple[str, ...]] = ()
    sweep: ClassVar[bool] = False
    assumptions: ClassVar[dict[str, tuple[float, ...]]] = {}
    verdict_runs: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            if "figure" not in vars(cls):
                cls.figure = cls.kind
            if cls.kind in _REGISTRY and _REGISTRY[cls.kind] is not cls:
                raise ValueError(f"study kind {cls.kind!r} is registered twice")
            _REGISTRY[cls.kind] = cls

    def run(self, base: SimConfig, config: Any, progress: bool = False) -> Tables:
        """Run the study.

        Args:
            base: the simulation config the study varies.
            config: the study's :attr:`Config`.
            progress: show a progress bar.

        Returns:
            One entry per file in :attr:`tables`, keyed by its stem.
        """
        raise NotImplementedError

    def check(self, base: SimConfig, config: Any) -> None:
        """Refuse a study config that does not fit the run's config, before any work.

        Raises:
            ConfigError: naming the key at fault.
        """

    def plot(self, tables: Tables, path: Path) -> Path:
        """Draw the study's figure from its tables to ``path`` (format from the suffix).

        Returns:
            The path written.
        """
        raise NotImplementedError

    def summary(self, tables: Tables) -> pd.DataFrame:
        """The table ``intentlab run`` prints; an ``answer`` column is printed as lines."""
        raise NotImplementedError

    def verdict(self, tables: Tables) -> pd.DataFrame:
        """The signed quantities whose signs are the study's conclusion, per seed.

        Returns:
            Columns ``quantity`` (a name), ``seed`` and ``value``; a study with
            :attr:`assumptions` implements it.
        """
        raise NotImplementedError

    def check_verdict(self, config: Any) -> None:
        """Refuse a study config whose runs could not give the verdict (before any run).

        Raises:
            ConfigError: naming the key at fault.
        """


def run_jobs(
    fn: Callable[[Any], Any],
    jobs: Sequence[Any],
    workers: int = 0,
    progress: bool = False,
    desc: str = "runs",
) -> list[Any]:
    """``[fn(job) for job in jobs]``, on forked processes where forking is safe.

    Results come back in the order of ``jobs`` and do not depend on ``workers`` as long as
    each job draws only from its own seeds.

    Args:
        fn: a module-level function (it runs in a worker process).
        jobs: its arguments.
        workers: processes; 0: one per core; 1: in this process.
        progress: show a progress bar.
        desc: the progress bar's label.
    """
    from experiments.launcher import can_fork, cores

    workers = min(len(jobs), cores() if workers == 0 else workers)
    bar = {"desc": desc, "unit": "job", "total": len(jobs), "disable": not progress}
    if workers > 1 and can_fork()[0]:
        context = mp.get_context("fork")
        with cf.ProcessPoolExecutor(workers, mp_context=context) as pool:
            return list(tqdm(pool.map(fn, jobs), **bar))
    return [fn(job) for job in tqdm(jobs, **bar)]


def check_mechanism_params(params: Mapping[str, Any]) -> None:
    """Refuse ``study.mechanism_params`` a mechanism would not take.

    Raises:
        ConfigError: naming ``study.mechanism_params.<mechanism>`` and the mechanism's reason.
    """
    import mechanisms

    for name, given in params.items():
        try:
            mechanisms.get(name, **given)
        except ValueError as exc:
            raise ConfigError(f"study.mechanism_params.{name}", str(exc)) from None


def available() -> list[str]:
    """Kinds of all registered studies, sorted."""
    return sorted(_REGISTRY)


def get(kind: str) -> Study:
    """The study registered under ``kind``.

    Raises:
        ValueError: if no study has that kind; the message lists the allowed kinds.
    """
    try:
        return _REGISTRY[kind]()
    except KeyError:
        raise ValueError(f"unknown study {kind!r}; allowed: {', '.join(available())}") from None


def load(data: Any) -> Any:
    """Validate a ``study`` block into the config of the study its ``kind`` names.

    Raises:
        ConfigError: naming the first unknown key or bad value (``study.<key>``).
    """
    kind = data.get("kind") if isinstance(data, Mapping) else None
    if kind not in _REGISTRY:
        raise ConfigError("study.kind", f"allowed: {', '.join(available())}")
    return build_config(_REGISTRY[kind].Config, data, "study.")


def config_record(base: SimConfig, config: Any = None) -> dict:
    """What a result directory's ``config.yaml`` holds: the run's config and its study.

    Args:
        base: the :class:`sim.SimConfig`.
        config: the study config, if the run is a study.
    """
    record = base.to_dict()
    if config is not None:
        record["study"] = plain(dataclasses.asdict(config))
    return record


def execute(base: SimConfig, config: Any, directory: Path, progress: bool = False) -> pd.DataFrame:
    """Run the study ``config`` selects, save it to ``directory`` and return its summary."""
    study = get(config.kind)
    tables = study.run(base, config, progress=progress)
    save(directory, tables, config, base)
    return study.summary(tables)


def save(directory: Path, tables: Tables, config: Any, base: SimConfig | None = None) -> Path:
    """Write a study's result directory: complete only once ``DONE`` exists.

    Args:
        directory: the output directory.
        tables: what the study's ``run`` returned.
        config: the study config.
        base: the run's config; with ``config`` it is saved as ``config.yaml`` (without it
            there is none, as ``intentlab calibrate`` writes).

    Returns:
        The directory.
    """
    study = get(config.kind)
    files = {name: _writer(tables[Path(name).stem]) for name in study.tables}
    if base is not None:
        text = yaml.safe_dump(config_record(base, config), sort_keys=False)
        files["config.yaml"] = lambda path: Path(path).write_text(text)
    figures = [f"{study.figure}.{suffix}" for suffix in FORMATS]
    return write_complete(
        directory, files, figures=lambda d: [study.plot(tables, d / name) for name in figures]
    )


def read(directory: Path, kind: str) -> Tables:
    """The tables of a saved study of ``kind`` (verify the directory first)."""
    return {
        Path(name).stem: pd.read_parquet(directory / name)
        if name.endswith(".parquet")
        else (directory / name).read_text()
        for name in get(kind).tables
    }


def _writer(table: Any) -> Callable[[str], object]:
    if isinstance(table, pd.DataFrame):
        return lambda path: table.to_parquet(path, index=False)
    return lambda path: Path(path).write_text(table)
