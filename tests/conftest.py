from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import pytest

from crypto.detection import DetectionTable, Point
from sim import SimConfig


def tiny_config(**overrides) -> SimConfig:
    """A small, fast market; ``overrides`` are nested dicts merged into the defaults."""
    data = {
        "seed": 1,
        "rounds": 8,
        "market": {"n_corporations": 14, "n_solvers": 5, "n_industries": 3},
    }
    for key, value in overrides.items():
        if isinstance(value, dict):
            data[key] = {**data.get(key, {}), **value}
        else:
            data[key] = value
    return SimConfig.from_dict(data)


def detection_file(rates: dict[tuple[str, str, float], float], directory: Path) -> str:
    """A detection table file with these rates (``(design, attack, strength) -> rate``)."""
    trials = 1000
    points = tuple(
        Point(design, attack, strength, trials, round(rate * trials), 0.0, 1.0)
        for (design, attack, strength), rate in rates.items()
    )
    path = Path(directory) / "detection.json"
    path.write_text(DetectionTable(points, 32, 2.33, {}, "test").to_json())
    return str(path)


def money_created(trades) -> float:
    """Money the trades brought into the market: their realized values, less the fees of
    models a proof rejected (their solvers paid the compute but earned no fee)."""
    unpaid = ~trades["proof_verified"].fillna(True).astype(bool)
    fees = trades["fee"] * trades["seller_quality"] * trades["units"]
    return float((trades["true_value"] * trades["units"]).sum() - fees[unpaid].sum())


@functools.cache
def perfect_detection() -> str:
    """A detection table in which every proof rejects every cheater and no honest agent."""
    rates = {
        ("quality_proof", "label_flip", 0.0): 0.0,
        ("quality_proof", "label_flip", 1e-9): 1.0,
        ("evaluation_proof", "honest", 0.0): 0.0,
        ("evaluation_proof", "random", 0.0): 1.0,
    }
    return detection_file(rates, Path(tempfile.mkdtemp(prefix="intentlab-test-")))


@pytest.fixture
def tiny() -> SimConfig:
    return tiny_config()


def pytest_generate_tests(metafunc):
    """Run a strategy contract's tests once per side its strategy is for (``sides``)."""
    if "strategy_side" in metafunc.fixturenames:
        metafunc.parametrize("strategy_side", metafunc.cls.sides)
