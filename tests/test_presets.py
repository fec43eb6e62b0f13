"""Every experiment preset documents its question and composes on a tiny market; a study
preset selects its registered study (whose contract runs it, in test_studies.py), a sweep
preset runs; `intentlab figures` knows every preset."""

import re

import pytest

import sim
from experiments import CONFIG_DIR, studies
from experiments.cli import SWEEP_PRESETS, small_presets
from experiments.run import resolve
from tests.study_contract import TINY_MARKET, compose_config, shipped

PRESETS = sorted(p.stem for p in (CONFIG_DIR / "experiment").glob("*.yaml"))


def test_the_presets_exist():
    expected = {"mechanism_comparison", "intent_vs_yuma", "adversaries", "network_effects",
                "fhe_overhead", "calibration", "solver_entry", "learning"}  # fmt: skip
    assert expected <= set(PRESETS)


def test_every_shipped_study_has_a_preset_and_figures_knows_every_preset():
    assert shipped() | set(SWEEP_PRESETS) == set(PRESETS)
    assert set(PRESETS) <= set(small_presets())


@pytest.mark.parametrize("name", PRESETS)
def test_preset_documents_its_question(name):
    text = (CONFIG_DIR / "experiment" / f"{name}.yaml").read_text()
    assert text.startswith("# @package _global_")
    assert "# Question:" in text and "# Run:" in text


@pytest.mark.parametrize("name", PRESETS)
def test_preset_states_its_measured_cost_here_and_in_the_workflow_docs(name):
    text = (CONFIG_DIR / "experiment" / f"{name}.yaml").read_text()
    cost = re.search(r"#   small \(`intentlab figures (\w+)`\): ([\d.,]+) CPU-s", text)
    assert "# Cost (measured" in text and "#   full preset: " in text
    assert cost and cost.group(1) == name
    docs = (CONFIG_DIR.parent / "docs" / "workflow.md").read_text()
    row = re.search(rf"^\| `{name}` \| ([^|]+) \|.*\| ([\d.,]+) \| [^|]+ \| [\d,]+ \|$", docs, re.M)
    assert row, f"docs/workflow.md has no cost row for {name}"
    assert row.group(2) == cost.group(2)  # the YAML repeats the table's small CPU-s


@pytest.mark.parametrize("name", PRESETS)
def test_preset_composes_on_a_tiny_market(name):
    tiny = studies.get(name).tiny if name in studies.available() else ()
    config, study = resolve(compose_config(f"experiment={name}", *TINY_MARKET, *tiny))
    if study is None:  # a sweep preset: one of its runs
        assert name in SWEEP_PRESETS
        assert len(sim.run(config).rounds) == 2
        return
    assert study.kind == name and isinstance(study, studies.get(name).Config)
