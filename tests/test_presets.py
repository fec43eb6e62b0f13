"""Every experiment preset documents its question, composes, and runs on a tiny market."""

import dataclasses

import pytest

import sim
from experiments import CONFIG_DIR
from experiments.run import STUDIES, resolve
from tests.test_studies import compose_config

PRESETS = sorted(p.stem for p in (CONFIG_DIR / "experiment").glob("*.yaml"))
TINY_STUDY = {
    "mechanism_comparison": ["study.corporations=[8]", "study.solvers=[3]", "study.markets=1"],
    "intent_vs_yuma": [],
    "adversaries": ["study.designs=[none,all]"],
    "fhe_overhead": ["study.cost_scales=[1.0]"],
}


def test_the_presets_exist():
    expected = {"mechanism_comparison", "intent_vs_yuma", "adversaries", "network_effects",
                "fhe_overhead"}  # fmt: skip
    assert expected <= set(PRESETS)


@pytest.mark.parametrize("name", PRESETS)
def test_preset_documents_its_question(name):
    text = (CONFIG_DIR / "experiment" / f"{name}.yaml").read_text()
    assert text.startswith("# @package _global_")
    assert "# Question:" in text and "# Run:" in text


@pytest.mark.parametrize("name", PRESETS)
def test_preset_runs_two_rounds_on_a_tiny_market(name):
    overrides = [f"experiment={name}", "rounds=2", "market.n_corporations=10",
                 "market.n_solvers=3"]  # fmt: skip
    config, study = resolve(compose_config(*overrides))
    if study is None:
        result = sim.run(config)
        assert len(result.rounds) == 2
        return
    study = resolve(compose_config(*overrides, "study.seeds=1", *TINY_STUDY.get(name, [])))[1]
    module = STUDIES[study.kind]
    tables = module.run(config, study)
    first = tables[0] if isinstance(tables, tuple) else tables
    assert len(first) > 0
    assert not module.summary(first).empty
    assert dataclasses.is_dataclass(study)
