from __future__ import annotations

import pytest

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


@pytest.fixture
def tiny() -> SimConfig:
    return tiny_config()


def pytest_generate_tests(metafunc):
    """Run a strategy contract's tests once per side its strategy is for (``sides``)."""
    if "strategy_side" in metafunc.fixturenames:
        metafunc.parametrize("strategy_side", metafunc.cls.sides)
