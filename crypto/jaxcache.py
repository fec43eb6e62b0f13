"""JAX's persistent compilation cache, configured once for every process that uses JAX.

Every process of a run or sweep compiles the same few JAX programs (:mod:`crypto.train`,
:mod:`crypto.valuation`); with the cache, a process after the first loads them from disk
instead of compiling them again. The cache directory is ``$INTENTLAB_JAX_CACHE``; unset, it
is JAX's own ``$JAX_COMPILATION_CACHE_DIR`` if that is set, otherwise
``$XDG_CACHE_HOME/intentlab/jax`` (``~/.cache/intentlab/jax``). ``INTENTLAB_JAX_CACHE=off``
(or empty) leaves the cache off (unless ``JAX_COMPILATION_CACHE_DIR`` turns it on).

A loaded program is the one a compilation would have produced (the key covers the program,
the compiler options, ``XLA_FLAGS``, the JAX version and the device), so results do not
change. The cache holds at most :data:`MAX_BYTES`, least recently used entries evicted
first, under a file lock, so concurrent processes (a parallel sweep's workers) share it
safely.

:func:`configure` runs when :mod:`crypto` is imported, before :mod:`crypto.train` imports
JAX, and imports no JAX itself: it sets JAX's ``JAX_*`` environment variables, which JAX
reads when it is imported (if JAX is imported already, it updates ``jax.config``), so the
processes it starts (a sweep's workers, ground-truth jobs) use the same cache. The other
``JAX_*`` settings it makes yield to ones already in the environment.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: The environment variable naming the cache directory (``off`` or empty: no cache).
ENV = "INTENTLAB_JAX_CACHE"
#: Most bytes the cache holds before it evicts its least recently used programs.
MAX_BYTES = 1 << 30
_OFF = {"", "0", "off", "false", "no", "none"}


def cache_dir() -> Path | None:
    """The cache directory the environment selects, or ``None`` if the cache is off."""
    value = os.environ.get(ENV)
    if value is not None:
        return None if value.strip().lower() in _OFF else Path(value).expanduser()
    if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return Path(os.environ["JAX_COMPILATION_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "intentlab" / "jax"


def settings(directory: Path) -> dict[str, str | float | int]:
    """JAX's config options that cache every compiled program in ``directory``.

    Every program is cached however fast it compiled (JAX's default keeps only those that
    took a second or more, none of the simulation's).
    """
    return {
        "jax_compilation_cache_dir": str(directory),
        "jax_persistent_cache_min_compile_time_secs": 0.0,
        "jax_compilation_cache_max_size": MAX_BYTES,  # a size limit also turns on its lock
    }


def configure() -> Path | None:
    """Turn on JAX's persistent compilation cache in :func:`cache_dir` for this process.

    Call it before the process's first JAX compilation. Does nothing if the cache is off
    (:data:`ENV`), if the directory cannot be created (a read-only home: JAX would warn at
    every compilation) or, when JAX is imported already, if JAX has another cache directory
    and :data:`ENV` does not ask for this one. Processes this one starts inherit the
    environment variables it sets.

    Returns:
        The cache directory, or ``None`` if this call turned nothing on.
    """
    directory = cache_dir()
    if directory is None:
        return None
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    jax = sys.modules.get("jax")
    if jax is not None:
        current = jax.config.jax_compilation_cache_dir
        if current not in (None, str(directory)) and os.environ.get(ENV) is None:
            return None
    for name, value in settings(directory).items():
        variable = name.upper()
        if variable in os.environ and variable != "JAX_COMPILATION_CACHE_DIR":
            continue  # set by the user: JAX reads it
        os.environ[variable] = str(value)
        if jax is not None:
            jax.config.update(name, value)
    return directory
