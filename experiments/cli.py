"""The ``intentlab`` command line.

``intentlab run [hydra overrides]`` validates the overrides first, so a misspelled key, an
unknown option or a bad value is reported as one line naming the key and what is allowed,
with exit status 2 and no traceback. Valid overrides are handed to Hydra unchanged; a sweep
(``-m``) also gets its ``hydra.sweep.dir`` resolved once (``${now:...}`` included) and is
run holding an OS file lock on ``<sweep dir>/.sweep.lock``, so a second sweep into the same
directory is refused with one line and exit status 1. An output directory that cannot be one
(``hydra.run.dir``, ``hydra.sweep.dir`` or ``calibrate --out`` naming a file, or a path
under a file) is refused the same way as a bad override, before any job starts.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from experiments import CONFIG_DIR

if TYPE_CHECKING:
    from hydra.core.override_parser.types import Override

USAGE = """usage: intentlab COMMAND [ARGS]

commands:
  run [OVERRIDES] [-m]   run a simulation (Hydra overrides; -m for a multirun sweep)
  figures DIR|PRESET|--all
                         figures (PDF, PNG) and a manifest of a run, sweep or study
                         directory; a preset name runs it small first; --all: every preset
  collect SWEEP_DIR [--table NAME] [--out FILE] [--skip-damaged]
                         every complete run's table in one long Parquet table
  bench [--out FILE] [--quick] [--scale] [--sizes NxM,...] [--rounds R] [--time-limit S]
                         speed benchmarks, written as a JSON report; --scale: only whole
                         rounds by market size (and sweep throughput); `bench -h`: options
  calibrate [--out DIR] [--quick] [--repeats N] [--detection [--rows N] [--trials N]]
                         run real jobs, fit cost models, write calibration.json and plots;
                         --detection: run attacks against the real proofs, write detection.json;
                         the libraries' log (ezkl's reports) goes to DIR/calibrate.log

examples:
  intentlab run
  intentlab run market=small rounds=20 mechanism.tick=0.05
  intentlab run -m seed=0,1,2 hydra.sweep.dir=results/seeds
  intentlab collect results/seeds
"""

# Hydra flags that take a value (the value is not an override).
_VALUE_FLAGS = {
    "-c", "--cfg", "-p", "--package", "-cp", "--config-path", "-cn", "--config-name",
    "-cd", "--config-dir", "--experimental-rerun", "-sc", "--shell-completion", "--info",
}  # fmt: skip
_HELP_FLAGS = {"-h", "--help", "--hydra-help"}
# Hydra flags that print something instead of running the app.
_PRINT_FLAGS = {*_HELP_FLAGS, "-c", "--cfg", "--info", "-sc", "--shell-completion"}
#: The lock file a sweep holds in its sweep directory while it runs.
SWEEP_LOCK = ".sweep.lock"


class UsageError(Exception):
    """A bad command line; ``str()`` is one readable line."""


def config_groups() -> dict[str, list[str]]:
    """Config groups under ``configs/`` and their options."""
    return {
        d.name: sorted(p.stem for p in d.glob("*.yaml"))
        for d in sorted(CONFIG_DIR.iterdir())
        if d.is_dir()
    }


def split_overrides(args: Sequence[str]) -> list[str]:
    """The override arguments among Hydra's command-line arguments."""
    overrides, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg.startswith("-"):
            skip = arg in _VALUE_FLAGS
        else:
            overrides.append(arg)
    return overrides


def validate_overrides(overrides: Sequence[str]) -> None:
    """Compose the config for every value of every override and validate it.

    A sweep (``seed=0,1,2``) is checked one value at a time against the first values of
    the others. ``hydra.*`` overrides are left to Hydra. Configs are composed once per
    choice of config groups; the other overrides are applied to a copy of that config by
    Hydra's own rules (composing takes a tenth of a second, applying an override next to
    nothing).

    Raises:
        UsageError: naming the first bad key or value and what is allowed.
    """
    import copy

    from hydra import compose, initialize_config_dir
    from hydra._internal.config_loader_impl import ConfigLoaderImpl
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    from experiments.run import resolve
    from sim.config import ConfigError

    parser = OverridesParser.create()
    try:
        parsed = parser.parse_overrides(list(overrides))
    except Exception as exc:  # Hydra's parse errors: report the first line only
        raise UsageError(_first_line(exc)) from None
    parsed = [o for o in parsed if not o.key_or_group.startswith("hydra")]
    groups = config_groups()
    choices: list[list[str]] = []
    for o in parsed:
        key = o.key_or_group
        if key in groups:
            values = o.sweep_string_iterator() if o.is_sweep_override() else None
            for value in values or [o.get_value_element_as_str()]:
                if value not in groups[key]:
                    raise UsageError(
                        f"{key}={value}: unknown option; allowed: {', '.join(groups[key])}"
                    )
        choices.append(_choices(o))

    base = [c[0] for c in choices]
    variants = [base] + [
        [*base[:k], alt, *base[k + 1 :]] for k, c in enumerate(choices) for alt in c[1:]
    ]
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        group_only = [b for b, o in zip(base, parsed, strict=True) if o.key_or_group in groups]
        reference = compose("config", overrides=group_only)
        for o in parsed:
            key = o.key_or_group
            if key in groups or o.input_line.startswith(("+", "~")):
                continue
            if OmegaConf.select(reference, key, default=_Missing) is _Missing:
                raise UsageError(f"{key}: unknown key; {_allowed_keys(reference, key)}")
        composed = {tuple(group_only): reference}
        for overrides_ in variants:
            in_group = [o.key_or_group in groups for o in parsed]
            chosen = tuple(v for v, g in zip(overrides_, in_group, strict=True) if g)
            rest = [v for v, g in zip(overrides_, in_group, strict=True) if not g]
            try:
                if chosen not in composed:
                    composed[chosen] = compose("config", overrides=list(chosen))
                cfg = copy.deepcopy(composed[chosen])
                ConfigLoaderImpl._apply_overrides_to_config(parser.parse_overrides(rest), cfg)
                resolve(cfg)
            except ConfigError as exc:
                raise UsageError(str(exc)) from None
            except Exception as exc:  # composition errors from Hydra/OmegaConf
                key = _unknown_key(exc)
                if key:
                    raise UsageError(
                        f"{key}: unknown key; {_allowed_keys(reference, key)}"
                    ) from None
                raise UsageError(_first_line(exc)) from None


def _choices(override: Override) -> list[str]:
    """An override as one override per value: ``seed=0,1`` -> ``["seed=0", "seed=1"]``."""
    if not override.is_sweep_override():
        return [override.input_line]
    lhs = override.input_line.split("=", 1)[0]
    return [f"{lhs}={value}" for value in override.sweep_string_iterator()]


def output_directory(args: Sequence[str]) -> tuple[str, str]:
    """The output directory Hydra would use for ``args`` and the key that sets it.

    ``("hydra.sweep.dir", DIR)`` for a sweep (``args`` holds ``-m``/``--multirun`` or sets
    ``hydra.mode=MULTIRUN``), else ``("hydra.run.dir", DIR)``. Interpolations
    (``${now:...}``) are resolved here, once: pass a sweep's directory back to Hydra as
    ``hydra.sweep.dir`` so that both use the same directory.

    Raises:
        UsageError: if the overrides do not compose.
    """
    from hydra import compose, initialize_config_dir
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.types import RunMode

    try:
        parsed = OverridesParser.create().parse_overrides(split_overrides(args))
        first = [_choices(o)[0] for o in parsed]
        with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
            # hydra.job.name is the entry point's module name in a real run, "app" here
            cfg = compose(
                "config", overrides=["hydra.job.name=run", *first], return_hydra_config=True
            )
            multirun = {"-m", "--multirun"} & set(args) or cfg.hydra.mode == RunMode.MULTIRUN
            if multirun:
                return "hydra.sweep.dir", str(cfg.hydra.sweep.dir)
            return "hydra.run.dir", str(cfg.hydra.run.dir)
    except Exception as exc:  # Hydra's parse and composition errors: the first line only
        raise UsageError(_first_line(exc)) from None


def check_output_directory(key: str, path: str | os.PathLike) -> None:
    """Refuse an output directory that cannot be created: a file, or a path under a file.

    Args:
        key: the setting or flag that names the directory, for the message.
        path: the directory; it need not exist.

    Raises:
        UsageError: naming ``key``, the path and the file in the way.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UsageError(f"{key}: {path} is a file, not a directory")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(f"{key}: {path} is under {parent}, which is a file")
            return


class _Missing:
    pass


def _allowed_keys(cfg, key: str) -> str:
    from omegaconf import DictConfig, OmegaConf

    parts = key.split(".")
    for depth in range(len(parts) - 1, -1, -1):
        parent = OmegaConf.select(cfg, ".".join(parts[:depth])) if depth else cfg
        if isinstance(parent, DictConfig):
            where = ".".join(parts[:depth]) or "the top level"
            keys = [k for k in parent if not str(k).startswith("_")]
            return f"allowed keys in {where}: {', '.join(map(str, keys))}"
    return ""


def _unknown_key(exc: BaseException) -> str | None:
    """The full key of an OmegaConf "not in struct" error in ``exc``'s causes, if any."""
    from omegaconf.errors import ConfigKeyError

    while exc is not None:
        if isinstance(exc, ConfigKeyError) and getattr(exc, "full_key", None):
            return str(exc.full_key)
        exc = exc.__cause__ or exc.__context__
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def run_command(args: Sequence[str]) -> int:
    """``intentlab run``: validate, then hand the arguments to Hydra.

    A sweep runs holding the lock of its sweep directory (:data:`SWEEP_LOCK`); a second
    sweep into the same directory is refused with exit status 1.
    """
    from hydra._internal.grammar.utils import escape_special_characters

    from sim.results import DirectoryInUseError, locked

    # Ray's driver merges lines that look alike, numbers aside, from different jobs into one
    # ("[repeated 2x across cluster]"): on hydra/launcher=ray each job's lines must stay its own
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    flags = {a.split("=", 1)[0] for a in args}
    if {"-m", "--multirun"} & flags and not flags & _PRINT_FLAGS and _local_launcher(args):
        from experiments import launcher

        launcher.prefork()  # its workers' imports, while the overrides are checked and composed
    try:
        if not flags & _HELP_FLAGS:
            validate_overrides(split_overrides(args))
        key, directory = ("", "") if flags & _PRINT_FLAGS else output_directory(args)
        if directory:
            check_output_directory(key, directory)
    except UsageError as exc:
        print(f"intentlab run: error: {exc}", file=sys.stderr)
        return 2
    sweep = directory if key == "hydra.sweep.dir" else None
    if sweep is None:
        return _hydra(args)
    try:
        with locked(sweep, SWEEP_LOCK):
            given = [a for a in args if a.split("=", 1)[0].lstrip("+") != "hydra.sweep.dir"]
            return _hydra([*given, f"hydra.sweep.dir={escape_special_characters(sweep)}"])
    except DirectoryInUseError as exc:
        print(f"intentlab run: error: hydra.sweep.dir: {exc}", file=sys.stderr)
        return 1


def _local_launcher(args: Sequence[str]) -> bool:
    """Whether ``args`` leave the launcher the default local one (``hydra/launcher=local``)."""
    pairs = [a.split("=", 1) for a in args if "=" in a]
    return all(value == "local" for key, value in pairs if key.lstrip("+~") == "hydra/launcher")


def _hydra(args: Sequence[str]) -> int:
    from experiments import run

    sys.argv = ["intentlab run", *args]
    run.main()
    return 0


#: Sweep presets without a study (``hydra.sweeper.params``, run with ``-m``) and the
#: overrides ``intentlab figures NAME`` runs them with; a study's are its ``small``.
SWEEP_PRESETS = {"network_effects": ("rounds=15", "market.n_corporations=30", "market.n_solvers=8")}


def small_presets() -> dict[str, tuple[tuple[str, ...], bool]]:
    """Presets ``intentlab figures NAME`` (and ``--all``) runs: ``{name: (overrides, sweep)}``.

    Every registered study (its ``small`` overrides), then :data:`SWEEP_PRESETS`.
    """
    from experiments import studies  # imports the simulation: not needed for --help

    found = [studies.get(kind) for kind in studies.available()]
    presets = {study.kind: (study.small, study.sweep) for study in found}
    return presets | {name: (overrides, True) for name, overrides in SWEEP_PRESETS.items()}


def figures_command(args: Sequence[str]) -> int:
    """``intentlab figures DIR|PRESET|--all``: a directory's figures and manifest, or a preset's.

    A preset name runs the preset on a small config into ``results/figures/<preset>`` first
    (a complete one is not run again); ``--all`` does that for every preset in
    :func:`small_presets`, stopping at the first that fails.
    """
    if len(args) != 1:
        print(
            "intentlab figures: error: expected one RUN_DIR, SWEEP_DIR, preset or --all",
            file=sys.stderr,
        )
        return 2
    if args[0] in ("-h", "--help"):
        print("usage: intentlab figures RUN_DIR|SWEEP_DIR|STUDY_DIR|PRESET|--all\n"
              f"presets (run small first): {', '.join(small_presets())}")  # fmt: skip
        return 0
    if args[0] == "--all":
        for name in small_presets():
            code = figures_command([name])
            if code:
                return code
        return 0
    from experiments.redraw import draw
    from sim.results import DamagedRunError, IncompleteRunError

    directory = Path(args[0])
    presets = {} if directory.exists() else small_presets()
    if presets and args[0] not in presets:
        print(f"intentlab figures: error: no directory or preset {args[0]!r}; presets: "
              f"{', '.join(presets)}", file=sys.stderr)  # fmt: skip
        return 2
    if args[0] in presets:
        directory = Path("results/figures") / args[0]
        overrides, sweep = presets[args[0]]
        where = "hydra.sweep.dir" if sweep else "hydra.run.dir"
        preset = [f"experiment={args[0]}", *overrides, f"{where}={directory}"]
        code = run_command(["-m", *preset] if sweep else preset)
        if code:
            return code
    try:
        manifest = draw(directory)
    except (IncompleteRunError, FileNotFoundError) as exc:
        print(f"intentlab figures: error: {exc}", file=sys.stderr)
        return 2
    except DamagedRunError as exc:
        print(f"intentlab figures: error: damaged run: {exc}", file=sys.stderr)
        return 1
    for entry in json.loads(manifest.read_text())["figures"]:
        for name in entry["files"]:
            print(manifest.parent / name)
    print(manifest)
    return 0


def collect_command(args: Sequence[str]) -> int:
    """``intentlab collect SWEEP_DIR``: stack the complete runs' tables, warn about the rest.

    Exits with status 1, writing nothing, if a run is damaged (its files do not match its
    ``DONE``), unless ``--skip-damaged`` is given.
    """
    import argparse
    import itertools

    parser = argparse.ArgumentParser(prog="intentlab collect")
    parser.add_argument("sweep", type=Path, help="a sweep directory (hydra.sweep.dir)")
    parser.add_argument("--table", default="rounds", help="table to collect (default rounds)")
    parser.add_argument("--out", type=Path, help="default: SWEEP_DIR/<table>_collected.parquet")
    parser.add_argument(
        "--skip-damaged", action="store_true", help="collect the other runs if some are damaged"
    )
    options = parser.parse_args(list(args))
    from experiments.collect import collect
    from sim.results import write_atomic

    try:
        found = collect(options.sweep, options.table)
    except FileNotFoundError as exc:
        print(f"intentlab collect: error: {exc}", file=sys.stderr)
        return 2
    if found.damaged and not options.skip_damaged:
        for reason in found.damaged.values():
            print(
                "intentlab collect: error: damaged run (rerun the sweep to redo it, or pass "
                f"--skip-damaged): {reason}",
                file=sys.stderr,
            )
        return 1
    for reason in found.damaged.values():
        print(f"warning: damaged run, not collected: {reason}", file=sys.stderr)
    for directory in found.incomplete:
        print(f"warning: incomplete run (no DONE), not collected: {directory}", file=sys.stderr)
    for sweep, jobs in itertools.groupby(found.never_started, key=lambda p: p.parent):
        numbers = ", ".join(p.name for p in jobs)
        print(f"warning: never started: jobs {numbers} of {sweep} (no run there)", file=sys.stderr)
    out = options.out or options.sweep / f"{options.table}_collected.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(out, lambda p: found.table.to_parquet(p, index=False))
    print(
        f"{len(found.runs)} complete runs, {len(found.incomplete)} incomplete, "
        f"{len(found.damaged)} damaged, {len(found.never_started)} never started; "
        f"swept: {', '.join(found.swept) or 'nothing but the seed'}; "
        f"{len(found.table)} rows: {out}"
    )
    return 0


def bench_command(args: Sequence[str]) -> int:
    """``intentlab bench``: run the benchmarks and write a JSON report."""
    import argparse
    import datetime as dt

    parser = argparse.ArgumentParser(prog="intentlab bench")
    stamp = dt.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    parser.add_argument("--out", type=Path, default=Path("results/bench") / f"{stamp}.json")
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    parser.add_argument(
        "--scale",
        action="store_true",
        help="only the scale benchmark (whole rounds by market size) and sweep throughput",
    )
    parser.add_argument(
        "--sizes",
        help="scale sizes NxM[:ROUNDS], comma-separated "
        "(default 100x30,1000x300,3000x1000,10000x1000)",
    )
    parser.add_argument("--rounds", type=int, help="rounds per size (default 20; quick: 3)")
    parser.add_argument(
        "--time-limit", type=float, default=600.0, help="wall seconds per size (default 600)"
    )
    parser.add_argument(
        "--memory-limit",
        type=float,
        default=16.0,
        help="GiB resident at which a size's run is stopped (default 16; 0: no limit)",
    )
    parser.add_argument(
        "--floor-repeats", type=int, help="repeats of the numpy floor round (default 5)"
    )
    parser.add_argument("--no-sweep", action="store_true", help="skip the sweep throughput")
    parser.add_argument("--sweep-runs", type=int, help="runs per sweep (default 8; quick: 2)")
    options = parser.parse_args(list(args))
    from experiments.benchmarks import bench

    try:
        sizes = bench.parse_sizes(options.sizes) if options.sizes else None
        for name in ("rounds", "floor_repeats", "sweep_runs"):
            value = getattr(options, name)
            if value is not None and value < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
        if not options.time_limit > 0:
            raise ValueError(f"--time-limit must be > 0, got {options.time_limit}")
        if options.memory_limit < 0:
            raise ValueError(f"--memory-limit must be >= 0, got {options.memory_limit}")
    except ValueError as exc:
        print(f"intentlab bench: error: {exc}", file=sys.stderr)
        return 2

    report = bench.run(
        options.out,
        quick=options.quick,
        scale_only=options.scale,
        sizes=sizes,
        rounds=options.rounds,
        time_limit=options.time_limit,
        memory_limit_gib=options.memory_limit or None,
        floor_repeats=options.floor_repeats,
        sweep=not options.no_sweep,
        sweep_runs=options.sweep_runs,
    )
    for line in bench.summary_lines(report):
        print(line)
    print(f"report: {options.out}")
    return 0


def calibrate_command(args: Sequence[str]) -> int:
    """``intentlab calibrate``: measure a grid of real jobs and fit cost models."""
    import argparse
    import datetime as dt

    parser = argparse.ArgumentParser(prog="intentlab calibrate")
    stamp = dt.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    parser.add_argument("--out", type=Path, default=Path("results/calibration") / stamp)
    parser.add_argument("--quick", action="store_true", help="a small grid, a smoke run")
    parser.add_argument("--repeats", type=int, default=1, help="measurements per grid point")
    parser.add_argument(
        "--detection",
        action="store_true",
        help="measure the verification designs' detection instead of costs",
    )
    parser.add_argument("--rows", type=int, default=32, help="--detection: rows per proof")
    parser.add_argument("--trials", type=int, default=30, help="--detection: proofs per point")
    options = parser.parse_args(list(args))
    if options.repeats < 1:
        print("intentlab calibrate: error: --repeats must be >= 1", file=sys.stderr)
        return 2
    try:
        check_output_directory("--out", options.out)
    except UsageError as exc:
        print(f"intentlab calibrate: error: {exc}", file=sys.stderr)
        return 2
    if options.detection:
        return _calibrate_detection(options)
    from crypto.calibration import Calibration
    from experiments import studies
    from experiments.studies.calibration import CalibrationStudyConfig, fitted, measure

    config = CalibrationStudyConfig(
        grid="quick" if options.quick else "default", repeats=options.repeats
    )
    with command_log(options.out / CALIBRATE_LOG):
        table = measure(config, progress=True)
    failed = table[~table["ok"].astype(bool)]
    for row in failed.itertuples():
        print(f"failed: {row.kind} rows={row.rows} features={row.features}: {row.error}")
    try:
        tables = fitted(table)
    except ValueError as exc:
        print(f"intentlab calibrate: error: {exc}", file=sys.stderr)
        return 1
    studies.save(options.out, tables, config)
    for kind, targets in Calibration.from_json(tables["calibration"]).fits.items():
        for target, f in targets.items():
            print(
                f"{kind:12s} {target:12s} R² {f.r2:.3f}  leave-one-out RMSE (log) "
                f"{f.loo_rmse:.2f}  n={f.n}  terms: {', '.join(f.terms)}"
            )
    print(f"log: {options.out / CALIBRATE_LOG}")
    print(f"calibration: {options.out}")
    return 0


def _calibrate_detection(options) -> int:
    """``intentlab calibrate --detection``: the detection study with the default data."""
    from experiments import studies
    from sim import ConfigError, SimConfig

    try:
        config = studies.load({"kind": "detection", "rows": options.rows,
                               "trials": 3 if options.quick else options.trials})  # fmt: skip
    except ConfigError as exc:
        print(f"intentlab calibrate: error: {exc}", file=sys.stderr)
        return 2
    study = studies.get("detection")
    with command_log(options.out / CALIBRATE_LOG):
        tables = study.run(SimConfig(), config, progress=True)
    studies.save(options.out, tables, config)
    print(study.summary(tables).to_string())
    print(f"log: {options.out / CALIBRATE_LOG}")
    print(f"detection: {options.out / 'detection.json'}")
    return 0


#: ``intentlab calibrate``'s log file, in its output directory.
CALIBRATE_LOG = "calibrate.log"


@contextmanager
def command_log(path: Path) -> Iterator[Path]:
    """While open, the process logs to ``path``; the console gets intentlab's warnings only.

    Every record at INFO and above goes to ``path`` (appended), and so does the log of the
    real jobs' worker processes (:func:`crypto.ground_truth.log_file`). ezkl's records
    (:data:`crypto.zk.EZKL_LOGGERS`: fidelity report tables, timings, its warnings) go there
    only; other warnings and errors also go to stderr, one line each.

    Args:
        path: the log file; its directory is created.

    Yields:
        ``path``.
    """
    from crypto.ground_truth import LOG_FORMAT
    from crypto.zk import not_ezkl

    path.parent.mkdir(parents=True, exist_ok=True)
    file = logging.FileHandler(path, encoding="utf-8")
    file.setFormatter(logging.Formatter(LOG_FORMAT))
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.WARNING)
    console.addFilter(not_ezkl)
    root = logging.getLogger()
    level = root.level
    root.addHandler(file)
    root.addHandler(console)
    root.setLevel(logging.INFO)
    try:
        yield path
    finally:
        root.removeHandler(console)
        root.removeHandler(file)
        root.setLevel(level)
        file.close()


COMMANDS = {
    "run": run_command,
    "figures": figures_command,
    "collect": collect_command,
    "bench": bench_command,
    "calibrate": calibrate_command,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``intentlab`` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("MPLBACKEND", "Agg")  # figures are files: draw off screen
    if not args or args[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0 if args else 2
    command = COMMANDS.get(args[0])
    if command is None:
        print(
            f"intentlab: error: unknown command {args[0]!r}; allowed: {', '.join(COMMANDS)}",
            file=sys.stderr,
        )
        return 2
    return command(args[1:])


if __name__ == "__main__":
    sys.exit(main())
