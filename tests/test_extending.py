"""The worked examples of docs/extending.md run, and pass their contract suites."""

from __future__ import annotations

import inspect
import re
import sys
import types
from pathlib import Path

import pytest

import mechanisms
from agents import STRATEGIES
from sim import SimConfig, regimes

DOC = Path(__file__).resolve().parents[1] / "docs" / "extending.md"


def _blocks(section: str) -> str:
    """The Python code blocks of one ``## section`` of the doc, joined."""
    text = DOC.read_text()
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return "\n".join(re.findall(r"```python\n(.*?)```", body, flags=re.S))


def _run_contract(cls) -> int:
    """Call every test of a contract class (hypothesis tests run their examples)."""
    instance, ran = cls(), 0
    for name in sorted(dir(cls)):
        if not name.startswith("test_"):
            continue
        test = getattr(instance, name)
        params = list(inspect.signature(test).parameters)
        if params == ["n", "m"]:  # the empty-market cases
            for n, m in ((0, 3), (3, 0), (0, 0)):
                test(n, m)
        elif params == ["side"]:  # a strategy's, once per side
            for side in cls.sides:
                test(side)
        else:
            test()
        ran += 1
    return ran


@pytest.fixture
def namespace(monkeypatch):
    """A module the examples run in (importable, so its classes pickle); what they
    register is removed afterwards."""
    module = types.ModuleType("extending_example")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    yield vars(module)
    mechanisms.base._REGISTRY.pop("midpoint", None)
    regimes.registry.unregister("priced_only")
    STRATEGIES.pop("epsilon_greedy", None)


def test_the_mechanism_example_passes_the_mechanism_contract(namespace):
    exec(_blocks("Add a mechanism"), namespace)
    assert "midpoint" in mechanisms.available()
    assert _run_contract(namespace["TestMidpointContract"]) >= 10


def test_the_strategy_example_passes_the_strategy_contract_and_runs(namespace):
    import sim

    exec(_blocks("Add a strategy"), namespace)
    assert "epsilon_greedy" in STRATEGIES
    assert _run_contract(namespace["TestEpsilonGreedyContract"]) >= 6
    mix = {"truthful": 1, "epsilon_greedy": 1}
    config = SimConfig.from_dict(
        {"rounds": 3, "market": {"n_corporations": 8, "n_solvers": 3},
         "agents": {"solver_strategies": mix}}
    )  # fmt: skip
    agents = sim.run(config).agents
    assert "epsilon_greedy" in set(agents["strategy"])


def test_the_regime_example_passes_the_regime_contract(namespace):
    exec(_blocks("Add a regime"), namespace)
    assert "priced_only" in regimes.available()
    assert _run_contract(namespace["TestPricedOnly"]) >= 4
