"""Every experiment preset documents its question, composes, and runs on a tiny market."""

import pytest

import sim
from experiments import CONFIG_DIR
from experiments.run import STUDIES, resolve
from tests.test_studies import compose_config

PRESETS = sorted(p.stem for p in (CONFIG_DIR / "experiment").glob("*.yaml"))
TINY_STUDY = {
    "mechanism_comparison": [
        "study.seeds=1", "study.corporations=[8]", "study.solvers=[3]", "study.markets=1",
    ],
    "intent_vs_yuma": ["study.seeds=1"],
    "adversaries": ["study.seeds=1", "study.designs=[none,all]"],
    "fhe_overhead": ["study.seeds=1", "study.cost_scales=[1.0]"],
    "calibration": ["study.grid=quick"],
    "solver_entry": ["study.seeds=1", "study.max_solvers=3", "study.corporations=[10]",
                     "study.congestion=[0.0]"],
}  # fmt: skip


def test_the_presets_exist():
    expected = {"mechanism_comparison", "intent_vs_yuma", "adversaries", "network_effects",
                "fhe_overhead", "calibration", "solver_entry"}  # fmt: skip
    assert expected <= set(PRESETS)


@pytest.mark.parametrize("name", PRESETS)
def test_preset_documents_its_question(name):
    text = (CONFIG_DIR / "experiment" / f"{name}.yaml").read_text()
    assert text.startswith("# @package _global_")
    assert "# Question:" in text and "# Run:" in text


@pytest.mark.parametrize("name", PRESETS)
def test_preset_runs_two_rounds_on_a_tiny_market(name, tmp_path):
    overrides = [f"experiment={name}", "rounds=2", "market.n_corporations=10",
                 "market.n_solvers=3", *TINY_STUDY.get(name, [])]  # fmt: skip
    config, study = resolve(compose_config(*overrides))
    if study is None:  # a sweep preset: one of its runs
        assert len(sim.run(config).rounds) == 2
        return
    summary = STUDIES[study.kind].execute(config, study, tmp_path / name)
    assert not summary.empty
    assert (tmp_path / name / "DONE").is_file()
    assert list((tmp_path / name).glob("*.pdf"))
