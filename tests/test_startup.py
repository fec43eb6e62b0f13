"""Start-up: what importing the simulation and starting a run load, and JAX's compilation cache.

Each check runs in a fresh interpreter (a subprocess), so modules other tests imported do not
count. Nothing here is timed: the checks say which libraries are loaded, not how fast.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from crypto import jaxcache

#: Libraries a run must not load before its first round (JAX loads with the first model
#: trained; cvxpy only for a cvxpy welfare solver; TenSEAL and ezkl only in crypto jobs).
HEAVY = ("jax", "jaxlib", "cvxpy", "tenseal", "ezkl", "onnx")


def python(code: str, env: dict[str, str] | None = None) -> str:
    """Run ``code`` in a fresh interpreter; its last line of output."""
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1]


def loaded_after(statement: str) -> list[str]:
    """The :data:`HEAVY` libraries loaded after ``statement`` ran in a fresh interpreter."""
    return json.loads(
        python(f"""
            import json, sys
            {statement}
            print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))
        """)
    )


@pytest.mark.parametrize(
    "statement",
    [
        "import sim",
        "import experiments.cli",
        "import experiments.run",  # the Hydra entry point, with the sweep launcher
        # the crypto modules a run reaches (crypto.fhe imports TenSEAL: only jobs import it)
        "import crypto, crypto.ground_truth, crypto.calibration, crypto.zk, sim.round",
    ],
)
def test_importing_loads_no_heavy_library(statement):
    assert loaded_after(statement) == []


def test_a_run_loads_no_heavy_library_before_its_model(tmp_path):
    # `intentlab run` up to the model's construction: validation, Hydra, the run's checks
    out = python(f"""
        import json, sys
        import sim.model
        class Built(BaseException):
            pass
        def stop(self, *args, **kwargs):
            print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))
            raise Built
        sim.model.MarketModel.__init__ = stop
        from experiments.cli import main
        try:
            main(["run", "market=small", "rounds=1", "hydra.run.dir={tmp_path / "run"}"])
        except Built:
            pass
    """)
    assert json.loads(out) == []


def test_jax_cache_directory_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(jaxcache.ENV, str(tmp_path / "jax"))
    assert jaxcache.cache_dir() == tmp_path / "jax"
    for off in ("off", "", "0", "none"):
        monkeypatch.setenv(jaxcache.ENV, off)
        assert jaxcache.cache_dir() is None
    monkeypatch.delenv(jaxcache.ENV)
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path / "own"))  # JAX's own
    assert jaxcache.cache_dir() == tmp_path / "own"
    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert jaxcache.cache_dir() == tmp_path / "xdg" / "intentlab" / "jax"


def test_importing_crypto_turns_the_jax_cache_on_without_importing_jax(tmp_path):
    out = python(
        """
        import json, os, sys
        import crypto
        before = "jax" in sys.modules
        import jax
        print(json.dumps([before, jax.config.jax_compilation_cache_dir,
                          jax.config.jax_persistent_cache_min_compile_time_secs]))
        """,
        env={jaxcache.ENV: str(tmp_path / "cache")},
    )
    assert json.loads(out) == [False, str(tmp_path / "cache"), 0.0]
    off = python(
        "import crypto, jax; print(repr(jax.config.jax_compilation_cache_dir))",
        env={jaxcache.ENV: "off", "JAX_COMPILATION_CACHE_DIR": ""},
    )
    assert off in ("None", "''")


def test_a_warm_jax_cache_gives_the_results_of_a_cold_one(tmp_path):
    # the second process loads the compiled programs the first one wrote
    run = """
        import hashlib
        import sim
        result = sim.run({"market": {"n_corporations": 8, "n_solvers": 3}, "rounds": 2})
        tables = (result.rounds, result.trades, result.agents)
        print(hashlib.sha256(b"".join(t.to_csv().encode() for t in tables)).hexdigest())
    """
    env = {jaxcache.ENV: str(tmp_path / "cache")}
    cold = python(run, env)
    assert any((tmp_path / "cache").glob("*-cache"))  # programs were written
    assert python(run, env) == cold
