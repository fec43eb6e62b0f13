"""The local launcher (``hydra/launcher=local``, the default): a sweep's jobs on local cores.

Hydra's joblib launcher starts fresh worker processes that import everything again and
compile JAX's programs again, so a sweep of short runs there was slower than a serial one.
This launcher forks its workers instead, so that what a job needs is imported once per
sweep and compiled once per worker:

* The sweep's process, once it has imported the simulation (but no JAX:
  ``tests/test_startup.py``), forks one *zygote*: ``intentlab run -m`` does so
  (:func:`prefork`) before Hydra starts, otherwise the launcher does when Hydra sets it up.
  The zygote imports the ``preload`` modules (JAX, matplotlib, ...), with the garbage
  collector off, while Hydra composes the jobs' configs; then it freezes what it holds out
  of the collector's reach (``gc.freeze``: the workers' collections no longer walk the
  imported modules' objects, and the pages that hold them stay shared) and forks the
  workers, which start with everything imported.
* Hydra's sweeper composes every job's config to validate it before the launch; the
  launcher keeps those (:class:`_KeptConfigs`) and sends them to the workers with their
  jobs, so no job composes its config again.
* Each worker runs job after job (the next job goes to the first worker free), so JAX's
  programs are compiled once per worker, or loaded from JAX's persistent cache
  (:mod:`crypto.jaxcache`) where another process compiled them before.
* Each worker computes on ``threads`` threads (``XLA_FLAGS``, ``OMP_NUM_THREADS``, ...), so
  the workers do not fight over the cores.

A job runs exactly as on Hydra's basic (serial) launcher: same composed config, same output
directory, same results. With one worker (``n_jobs: 1``, one core, a sweep of one job),
where ``fork`` is not the safe choice (not Linux) or once JAX has started computing in the
sweep's process, the jobs run one after the other in the sweep's process, like ``basic``.

What a job prints is kept off the console, where the jobs' summaries would interleave: the
lines that name its output directory (``results: DIR``) go to stdout, all of it (its
summary) to :data:`JOB_OUTPUT` in that directory (:func:`job_output`). The sweep's progress
(jobs done, running, elapsed and estimated time left) goes to stderr
(:class:`SweepProgress`).

A job that exits (``sys.exit``, as ``intentlab run`` does on a bad config or a directory in
use) stops the sweep as on the basic launcher: no further job starts, the running ones
finish, and the sweep exits with the job's status. A worker that dies fails the sweep;
finished jobs are kept.

Hydra loads launchers only from its ``hydra_plugins`` package: :func:`register` puts
``experiments/plugins`` (``hydra_plugins.intentlab_launcher``) on the module path.
"""

from __future__ import annotations

import atexit
import concurrent.futures as cf
import contextlib
import gc
import importlib
import io
import logging
import multiprocessing as mp
import os
import pickle
import sys
import time
import traceback
from collections import deque
from collections.abc import Iterator, Sequence
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, TextIO

from hydra.core.utils import (
    JobReturn,
    JobStatus,
    configure_log,
    filter_overrides,
    run_job,
    setup_globals,
)
from hydra.plugins.launcher import Launcher
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, open_dict

log = logging.getLogger(__name__)

#: The directory holding the ``hydra_plugins`` namespace package of this launcher.
PLUGIN_DIR = Path(__file__).resolve().parent / "plugins"
#: Thread-count variables set for the workers (read by the libraries a worker starts, and
#: by the processes it starts).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
#: The XLA flag that makes single-threaded workers' JAX programs single-threaded.
SINGLE_THREADED_XLA = "--xla_cpu_multi_thread_eigen=false"
#: The file in a job's output directory that holds what the job printed (its summary).
JOB_OUTPUT = "summary.txt"

_launcher: LocalLauncher | None = None  # the launcher whose jobs a zygote's workers run
_early: _Zygote | None = None  # forked by prefork(), taken by the next setup()


def register() -> None:
    """Make the local launcher loadable by Hydra (``hydra/launcher=local``).

    Puts :data:`PLUGIN_DIR` on ``sys.path``, where Hydra's plugin scan finds
    ``hydra_plugins.intentlab_launcher``; if Hydra has scanned its plugins already, registers
    the launcher with it directly.
    """
    path = str(PLUGIN_DIR)
    if path not in sys.path:
        sys.path.append(path)
    from hydra.core.plugins import Plugins
    from hydra.core.singleton import Singleton

    if Plugins in Singleton._instances:
        from hydra_plugins.intentlab_launcher import LocalLauncher as Plugin

        Plugins.instance().register(Plugin)


def prefork() -> None:
    """Fork the zygote now, before Hydra starts, so that it preloads while Hydra composes.

    For ``intentlab run -m`` on the local launcher, once the simulation is imported. The
    zygote preloads the modules of ``configs/hydra/launcher/local.yaml``; the next
    :meth:`LocalLauncher.setup` takes it (its own ``preload`` and ``threads`` apply at
    launch) and sends it Hydra's state then. A zygote no launcher takes ends with the
    process. Does nothing where workers would not be forked (:func:`can_fork`, one core).
    """
    global _early
    if _early is not None or cores() < 2 or not can_fork()[0]:
        return
    import yaml

    from experiments import CONFIG_DIR

    settings = yaml.safe_load((CONFIG_DIR / "hydra" / "launcher" / "local.yaml").read_text())
    _early = _Zygote(settings.get("preload") or [])


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def can_fork() -> tuple[bool, str]:
    """Whether workers may be forked from this process, and why not if they may not."""
    if not sys.platform.startswith("linux"):
        return False, f"fork is not the safe choice on {sys.platform}"
    if "jax" in sys.modules:
        from jax._src.xla_bridge import backends_are_initialized

        if backends_are_initialized():  # JAX's threads do not survive a fork
            return False, "JAX has started computing in this process"
    return True, ""


def expected_jobs(config: DictConfig, hydra_context: HydraContext) -> int | None:
    """How many jobs Hydra's basic sweeper will launch for ``config``; None if not known."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    sweeper = config.hydra.sweeper
    if not str(sweeper.get("_target_", "")).endswith(".BasicSweeper"):
        return None
    try:
        params = [f"{k}={v}" for k, v in (sweeper.get("params") or {}).items()]
        arguments = [*params, *config.hydra.overrides.task]
        parser = OverridesParser.create(config_loader=hydra_context.config_loader)
        batches = BasicSweeper.split_arguments(parser.parse_overrides(arguments), None)
        return sum(len(batch) for batch in batches)
    except Exception:  # Hydra reports bad overrides itself, later
        return None


class LocalLauncher(Launcher):
    """Run a sweep's jobs in forked workers, job after job; see the module docstring.

    Args:
        n_jobs: workers; -1 (or None): one per core (:func:`cores`); never more than jobs.
        threads: threads per worker (None: the libraries' defaults).
        preload: modules imported once, before the workers are forked.
    """

    def __init__(
        self, n_jobs: int | None = -1, threads: int | None = 1, preload: Sequence[str] = ()
    ) -> None:
        if n_jobs is not None and (n_jobs == 0 or n_jobs < -1):
            raise ValueError(f"hydra.launcher.n_jobs: {n_jobs} not allowed, must be -1 or >= 1")
        if threads is not None and threads < 1:
            raise ValueError(f"hydra.launcher.threads: {threads} not allowed, must be >= 1")
        self.n_jobs = n_jobs
        self.threads = threads
        self.preload = list(preload)
        self.config: DictConfig | None = None
        self.hydra_context: HydraContext | None = None
        self.task_function: TaskFunction | None = None
        self.workers = 1
        self._zygote: _Zygote | None = None
        self._kept: _KeptConfigs | None = None

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        """Keep what the jobs need; fork the zygote, which preloads while Hydra composes."""
        self.config = config
        self.hydra_context = hydra_context
        self.task_function = task_function
        workers = cores() if self.n_jobs in (None, -1) else self.n_jobs
        jobs = expected_jobs(config, hydra_context)
        self.workers = max(1, min(workers, jobs or workers))
        loader = hydra_context.config_loader
        self._kept = _KeptConfigs(getattr(loader, "loader", loader), config)
        hydra_context.config_loader = self._kept  # shared with the sweeper, which validates
        global _early
        early, _early = _early, None
        if self.workers > 1 and can_fork()[0]:
            self._zygote = early or _Zygote(self.preload, self)
        elif early is not None:
            early.close()

    def launch(
        self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int
    ) -> Sequence[JobReturn]:
        """Run the jobs and return their results in job order.

        Raises:
            SystemExit: with a job's status, if a job exited.
            RuntimeError: if a worker died.
        """
        setup_globals()
        assert self.config is not None
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        Path(str(self.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        zygote, self._zygote = self._zygote, None  # one launch per zygote
        workers = min(self.workers, len(job_overrides))
        if zygote is None and workers > 1:
            ok, why = can_fork()
            if ok:
                zygote = _Zygote(self.preload, self)
            else:
                log.warning(f"LocalLauncher: running the jobs one after the other: {why}")
        where = f"on {workers} worker processes" if zygote else "one after the other"
        log.info(f"LocalLauncher: launching {len(job_overrides)} jobs {where}")
        for idx, overrides in enumerate(job_overrides):
            log.info(f"\t#{initial_job_idx + idx} : {' '.join(filter_overrides(overrides))}")
        progress = SweepProgress(len(job_overrides), initial_job_idx)
        configs = self._kept.take(job_overrides) if self._kept is not None else {}
        try:
            if zygote is None:
                return [self._serial(k, o, configs, progress) for k, o in enumerate(job_overrides)]
            for k, overrides in enumerate(job_overrides):  # while the zygote preloads
                if zygote.ready():
                    break
                if k not in configs:
                    configs[k] = pickle.dumps(self.compose(overrides))
            return zygote.run(self, job_overrides, initial_job_idx, workers, configs, progress)
        finally:
            progress.close()
            if zygote is not None:
                zygote.close()

    def _serial(
        self,
        k: int,
        overrides: Sequence[str],
        configs: dict[int, bytes],
        progress: SweepProgress,
    ) -> JobReturn:
        """Run the sweep's job ``k`` in this process, its progress shown."""
        progress.start()
        result, console = self.execute(progress.initial_job_idx + k, overrides, configs.get(k))
        progress.print(console)
        progress.finish(k)
        return result

    def compose(self, overrides: Sequence[str]) -> DictConfig:
        """A job's config, composed as Hydra's basic launcher composes it (without its number)."""
        assert self.config is not None and self._kept is not None
        setup_globals()
        return self._kept.loader.load_sweep_config(self.config, list(overrides))

    def job_config(
        self, idx: int, overrides: Sequence[str], composed: bytes | None = None
    ) -> DictConfig:
        """Job ``idx``'s config: ``composed`` (pickled :meth:`compose`) if given, numbered."""
        config = self.compose(overrides) if composed is None else pickle.loads(composed)
        with open_dict(config):
            config.hydra.job.id = idx
            config.hydra.job.num = idx
        return config

    def execute(
        self, idx: int, overrides: Sequence[str], composed: bytes | None = None
    ) -> tuple[JobReturn, str]:
        """Run job ``idx`` in this process, as Hydra's basic launcher does, its output kept.

        What the job prints on stdout is captured (:func:`job_output`); if the job exits or
        raises, what it printed goes to stdout as it is.

        Args:
            idx: the job's number.
            overrides: the job's overrides.
            composed: its config if composed already (pickled :meth:`compose`).

        Returns:
            The job's result and the lines of its output for the console.
        """
        assert self.config is not None and self.hydra_context is not None
        assert self.task_function is not None
        config = self.job_config(idx, overrides, composed)
        setup_globals()
        printed = io.StringIO()
        result = None
        try:
            with contextlib.redirect_stdout(printed):
                result = run_job(
                    hydra_context=self.hydra_context,
                    task_function=self.task_function,
                    config=config,
                    job_dir_key="hydra.sweep.dir",
                    job_subdir_key="hydra.sweep.subdir",
                )
        finally:
            configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
            if result is None:  # it exited or raised: what it printed goes out as it is
                sys.stdout.write(printed.getvalue())
        return result, job_output(result, printed.getvalue())


class _KeptConfigs:
    """Hydra's config loader, keeping the job configs the sweeper composes to validate them.

    Hydra's basic sweeper composes every job's config before it launches a batch (to report
    a bad override early) and throws it away; composing it again for the job costs about
    0.1 s, on the path of every job. The launcher sets this wrapper on the context it
    shares with the sweeper (:meth:`LocalLauncher.setup`) and its jobs start from the kept
    configs, pickled (about 26 kB each). Only configs composed from the launcher's own
    ``master`` config are kept; everything else goes to the wrapped loader as it is.

    Args:
        loader: Hydra's config loader.
        master: the sweep's config, as the launcher got it.
    """

    def __init__(self, loader: Any, master: DictConfig) -> None:
        self.loader = loader
        self.master = master
        self.configs: dict[tuple[str, ...], bytes] = {}

    def load_sweep_config(self, master_config: DictConfig, sweep_overrides: list[str]) -> Any:
        """Compose a job's config, as the wrapped loader does, and keep it."""
        config = self.loader.load_sweep_config(master_config, sweep_overrides)
        if master_config is self.master:
            self.configs[tuple(sweep_overrides)] = pickle.dumps(config)
        return config

    def take(self, job_overrides: Sequence[Sequence[str]]) -> dict[int, bytes]:
        """The kept configs of these jobs, by job (0 for the first); forget all kept."""
        kept, self.configs = self.configs, {}
        return {k: kept[key] for k, o in enumerate(job_overrides) if (key := tuple(o)) in kept}

    def __getattr__(self, name: str) -> Any:
        if name == "loader":  # not set yet (while unpickling)
            raise AttributeError(name)
        return getattr(self.loader, name)


def job_output(result: JobReturn, printed: str) -> str:
    """Keep what a finished job printed in its directory; the lines for the console.

    The console gets the lines that name the job's output directory (``results: DIR``,
    ``complete, skipped: DIR``). If the job printed more (its summary), all of it goes to
    :data:`JOB_OUTPUT` in that directory. A failed job's output all goes to the console.

    Args:
        result: the job's result.
        printed: what it printed on stdout.

    Returns:
        What the console gets of it.
    """
    if result.status != JobStatus.COMPLETED or not printed:
        return printed
    directory = str(result.hydra_cfg.hydra.runtime.output_dir)
    console = "".join(x for x in printed.splitlines(keepends=True) if directory in x)
    if console != printed:  # atomic: a summary file is whole or absent
        from sim.results import write_atomic

        write_atomic(Path(directory) / JOB_OUTPUT, lambda tmp: Path(tmp).write_text(printed))
    return console


class SweepProgress:
    """A sweep's progress on stderr: jobs done of all, running, elapsed and estimated time left.

    On a terminal, one tqdm bar, with the jobs' console lines (:meth:`print`, on stdout)
    written above it; elsewhere (a file, a pipe, CI) one line per finished job, e.g.
    ``sweep: #7 done, 8/9 jobs, 1 running, 8.8 s elapsed, about 1 s left``.

    Args:
        total: the sweep's jobs.
        initial_job_idx: the first job's number.
        stream: where it goes (default ``sys.stderr``).
    """

    def __init__(self, total: int, initial_job_idx: int = 0, stream: TextIO | None = None) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.total = total
        self.initial_job_idx = initial_job_idx
        self.done = 0
        self.running = 0
        self.started = time.monotonic()
        self.bar = None
        if _isatty(self.stream):
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc="sweep", unit="job", file=self.stream,
                            dynamic_ncols=True, postfix="0 running")  # fmt: skip

    def start(self) -> None:
        """A job started."""
        self.running += 1
        if self.bar is not None:
            self.bar.set_postfix_str(f"{self.running} running")

    def finish(self, k: int) -> None:
        """The sweep's job ``k`` (0 for the first) finished."""
        self.running = max(0, self.running - 1)
        self.done += 1
        if self.bar is not None:
            self.bar.set_postfix_str(f"{self.running} running", refresh=False)
            self.bar.update()
            return
        elapsed = time.monotonic() - self.started
        line = (
            f"sweep: #{self.initial_job_idx + k} done, {self.done}/{self.total} jobs, "
            f"{self.running} running, {elapsed:.1f} s elapsed"
        )
        if self.done < self.total:
            line += f", about {elapsed / self.done * (self.total - self.done):.0f} s left"
        print(line, file=self.stream, flush=True)

    def print(self, text: str) -> None:
        """Write a job's console lines on stdout (above the bar, on a terminal)."""
        if not text:
            return
        with contextlib.ExitStack() as stack:
            if self.bar is not None:
                stack.enter_context(self.bar.external_write_mode(file=sys.stdout))
            sys.stdout.write(text)
            sys.stdout.flush()

    def close(self) -> None:
        """End the bar, if any."""
        if self.bar is not None:
            self.bar.close()


def _isatty(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no such method, or closed
        return False


class _Zygote:
    """The process the workers are forked from, and the sweep's end of its pipe.

    Forked from the sweep's process, it imports ``preload`` and says ``("ready",)``, waits
    for the jobs (with the configs the sweep's process composed meanwhile, the launcher's
    threads and preload, and Hydra's state if it was forked before the launcher was set
    up), forks the workers, hands them the jobs and sends back each start and each result as
    it comes: ``("started", k, None)``, ``("done", k, (JobReturn, console lines))``,
    ``("exit", k, status)``, ``("died", k, why)``, then ``("end",)``.

    Args:
        preload: modules to import before the jobs come.
        launcher: the launcher, if it is set up already (the zygote inherits it).
    """

    def __init__(self, preload: Sequence[str], launcher: LocalLauncher | None = None) -> None:
        global _launcher
        _launcher = launcher  # the zygote and its workers inherit it
        self.inherits = launcher is not None  # else Hydra's state goes with the jobs
        self.launched = False
        context = mp.get_context("fork")
        self.conn, child = context.Pipe()
        for stream in (sys.stdout, sys.stderr):  # or the zygote would print it again
            stream.flush()
        self.process = context.Process(
            target=_zygote,
            args=(child, self.conn, list(preload)),
            name="intentlab-zygote",
        )
        self.process.start()
        child.close()
        self._ready = False
        atexit.register(self.close)  # the sweep may end before it launches (a bad override)

    def ready(self) -> bool:
        """Whether the zygote has preloaded (or ended): a look, it does not wait."""
        if not self._ready and self.conn.poll():
            self._ready = True
            try:
                self.conn.recv()  # ("ready",)
            except EOFError:  # it ended: run() says so
                pass
        return self._ready

    def run(
        self,
        launcher: LocalLauncher,
        job_overrides: Sequence[Sequence[str]],
        initial_job_idx: int,
        workers: int,
        configs: dict[int, bytes],
        progress: SweepProgress,
    ) -> list[JobReturn]:
        """Have the zygote's workers run the jobs; their results in job order.

        Args:
            launcher: the launcher, set up.
            job_overrides: every job's overrides.
            initial_job_idx: the first job's number.
            workers: workers to fork.
            configs: by job (0 for the first), the configs composed already (pickled).
            progress: shows the jobs' progress and their console lines.
        """
        state = None
        if not self.inherits:  # forked before Hydra started: send it what Hydra set up
            from hydra.core.singleton import Singleton
            from joblib.externals import cloudpickle  # pickles the task function by value

            state = cloudpickle.dumps((launcher, Singleton.get_state()))
        if not self.ready():
            wait([self.conn, self.process.sentinel])
            self.ready()
        jobs = [list(o) for o in job_overrides]
        settings = (launcher.threads, launcher.preload, state)
        self.launched = True
        try:
            self.conn.send(("launch", jobs, initial_job_idx, workers, configs, settings))
        except OSError:  # it ended: _receive says how
            pass
        results: list[Any] = [None] * len(job_overrides)
        exit_status: list[Any] = []
        while True:
            message = self._receive()
            kind = message[0]
            if kind == "end":
                break
            k = message[1]
            if kind == "started":
                progress.start()
            elif kind == "done":
                results[k], console = message[2]
                progress.print(console)
                progress.finish(k)
            elif kind == "exit":
                exit_status.append(message[2])
            else:
                raise RuntimeError(
                    f"{message[2]}; finished jobs are kept, rerun the sweep to run the others"
                )
        if exit_status:
            raise SystemExit(exit_status[0])
        return results

    def _receive(self) -> tuple:
        """The zygote's next message; ``("died", ...)`` if it ended without one."""
        ready = wait([self.conn, self.process.sentinel])
        if self.conn in ready or self.conn.poll():
            try:
                return self.conn.recv()
            except EOFError:
                pass
        self.process.join()
        return "died", None, f"the workers' process ended (exit code {self.process.exitcode})"

    def close(self) -> None:
        """Let the zygote go and wait for it.

        It ends once its pipe closes; one that has no jobs yet (only importing) at once.
        """
        atexit.unregister(self.close)
        self.conn.close()
        if not self.launched:  # only importing: no reason to wait
            self.process.terminate()
        self.process.join(timeout=30)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join()


def _zygote(conn: Connection, sweep_end: Connection, preload: list[str]) -> None:
    """The zygote's life: preload, wait for the jobs, run them on forked workers."""
    global _launcher
    sweep_end.close()  # so that the pipe ends when the sweep's process closes it
    gc.disable()  # no collections while importing: a sixth less CPU (docs/workflow.md)
    _preload(preload)
    from hydra.core.plugins import Plugins
    from hydra.core.singleton import Singleton

    register()  # the launcher's class is hydra_plugins.intentlab_launcher's
    plugins = Plugins.instance()  # scanned (if it was not) before Hydra's objects come:
    # a scan executes the plugin modules again, and their classes would no longer be the
    # ones those objects refer to
    try:
        conn.send(("ready",))
        _, job_overrides, initial_job_idx, workers, configs, settings = conn.recv()
    except (EOFError, OSError):  # the sweep ended before it launched
        return
    threads, preload, state = settings
    if state is not None:  # Hydra's state, as its joblib launcher passes it to a job
        from joblib.externals import cloudpickle

        _launcher, singletons = cloudpickle.loads(state)
        singletons["instances"][Plugins] = plugins  # or set_state would scan again
        Singleton.set_state(singletons)
    _preload(preload)  # the launcher's, if they differ from the defaults
    if threads is not None:  # read by the workers' libraries as they start
        for name in THREAD_VARIABLES:
            os.environ[name] = str(threads)
        flags = os.environ.get("XLA_FLAGS", "")
        if threads == 1 and "xla_cpu_multi_thread_eigen" not in flags:
            os.environ["XLA_FLAGS"] = f"{flags} {SINGLE_THREADED_XLA}".strip()
    gc.freeze()  # what the zygote holds stays out of the workers' collections, its pages shared
    gc.enable()
    try:
        for k, kind, value in _dispatch(job_overrides, initial_job_idx, workers, configs):
            conn.send((kind, k, value))
    except Exception:
        conn.send(("died", None, "".join(traceback.format_exc()).rstrip()))
    conn.send(("end",))
    conn.close()


def _preload(modules: Sequence[str]) -> None:
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception as exc:  # a job that needs it reports the error itself
            log.warning(f"LocalLauncher: could not preload {module}: {exc}")


def _dispatch(
    job_overrides: list[list[str]],
    initial_job_idx: int,
    workers: int,
    configs: dict[int, bytes],
) -> Iterator[tuple[int, str, Any]]:
    """Run the jobs on ``workers`` forked workers: ``(k, kind, value)`` as each starts and ends.

    ``kind`` is ``"started"`` as a job goes to a worker, then ``"done"``, ``"exit"`` or
    ``"died"`` (:func:`_job`).

    A job goes to a worker only when one is free, so that none starts after a job exited;
    it comes with its config where ``configs`` has it.
    """
    ok, why = can_fork()
    if not ok:  # a preloaded module started JAX: no fork from here
        log.warning(f"LocalLauncher: running the jobs one after the other: {why}")
        for k, overrides in enumerate(job_overrides):
            yield k, "started", None
            kind, value = _job(initial_job_idx + k, overrides, configs.get(k))
            yield k, kind, value
            if kind == "exit":
                return
        return
    context = mp.get_context("fork")
    with cf.ProcessPoolExecutor(workers, mp_context=context) as executor:
        waiting = deque(range(len(job_overrides)))
        running: dict[cf.Future, int] = {}
        stopped = False
        while waiting or running:
            while waiting and not stopped and len(running) < workers:
                k = waiting.popleft()
                job = (initial_job_idx + k, job_overrides[k], configs.get(k))
                running[executor.submit(_job, *job)] = k
                yield k, "started", None
            if not running:
                break
            done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            for future in done:
                k = running.pop(future)
                try:
                    kind, value = future.result()
                except cf.process.BrokenProcessPool as exc:
                    yield k, "died", f"job #{initial_job_idx + k}: its worker died ({exc})"
                    return
                stopped = stopped or kind == "exit"
                yield k, kind, value


def _job(idx: int, overrides: list[str], composed: bytes | None) -> tuple[str, Any]:
    """Run one job: ``("done", (JobReturn, console lines))`` or ``("exit", status)``."""
    assert _launcher is not None
    try:
        result, console = _launcher.execute(idx, overrides, composed)
    except SystemExit as exc:
        return "exit", exc.code
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
    return "done", (_portable(result, idx), console)


def _portable(result: JobReturn, idx: int) -> JobReturn:
    """``result`` as it can travel back to the sweep's process.

    A failed job's exception carries the worker's traceback as a note (the traceback itself
    does not travel); an exception or return value that cannot be pickled is replaced by a
    ``RuntimeError`` that describes it.
    """
    value = result._return_value
    if result.status == JobStatus.FAILED and isinstance(value, BaseException):
        value.add_note("".join(traceback.format_exception(value)).rstrip())
    try:
        pickle.loads(pickle.dumps(result))
    except Exception as exc:
        text = (
            "".join(traceback.format_exception(value))
            if isinstance(value, BaseException)
            else repr(value)
        )
        result.status = JobStatus.FAILED
        result._return_value = RuntimeError(
            f"job #{idx}: its result could not be sent back from its worker ({exc}):\n{text}"
        )
    return result
