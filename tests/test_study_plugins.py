"""A new study in this one file: it passes the contract and runs through the code paths of
`intentlab run` and `intentlab figures`, without a change anywhere else."""

from __future__ import annotations

import dataclasses
import re
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest
import yaml

import sim
from experiments import studies
from experiments.cli import UsageError, validate_overrides
from experiments.figures import PALETTE, _save
from experiments.redraw import draw
from experiments.run import _run, resolve
from sim.config import between, one_of, param
from sim.results import verify
from tests.study_contract import TINY_MARKET, StudyContract, compose_config


@dataclass(frozen=True)
class SeedSpreadConfig:
    """The ``study`` block of ``seed_spread``.

    Attributes:
        kind: always ``seed_spread``.
        seeds: seeds ``seed, seed + 1, ...`` (from the top-level ``seed``).
    """

    kind: str = param("seed_spread", one_of("seed_spread"))
    seeds: int = param(3, between(1))


@pytest.fixture(autouse=True, scope="module")
def seed_spread():
    """The new study, registered while this module's tests run."""

    class SeedSpread(studies.Study):
        """How much welfare and efficiency vary from seed to seed on the same config."""

        kind = "seed_spread"
        Config = SeedSpreadConfig
        tables = ("spread.parquet",)
        tiny = ("study.seeds=2",)

        def run(self, base, config, progress=False):
            rows = []
            for seed in range(base.seed, base.seed + config.seeds):
                rounds = sim.run(dataclasses.replace(base, seed=seed)).rounds
                rows.append({"seed": seed, "welfare": rounds["welfare"].mean(),
                             "efficiency": rounds["efficiency"].mean()})  # fmt: skip
            return {"spread": pd.DataFrame(rows)}

        def plot(self, tables, path):
            spread = tables["spread"]
            fig, ax = plt.subplots(figsize=(4, 3), layout="constrained")
            ax.bar(spread["seed"].astype(str), spread["welfare"], color=PALETTE[0])
            ax.set(xlabel="seed", ylabel="mean welfare per round (money)")
            return _save(fig, Path(path))

        def summary(self, tables):
            return tables["spread"][["welfare", "efficiency"]].agg(["mean", "std"]).round(3)

    yield SeedSpread
    studies.base._REGISTRY.pop(SeedSpread.kind)


def overrides(*study: str) -> list[str]:
    """Command-line overrides of a seed_spread run: it has no preset, so ``+study.*``."""
    return [*TINY_MARKET, "+study.kind=seed_spread", *(f"+{o}" for o in study)]


class TestSeedSpreadContract(StudyContract):
    kind = "seed_spread"

    @classmethod
    def configs(cls):
        return resolve(compose_config(*overrides(*studies.get(cls.kind).tiny)))


def test_the_new_study_runs_and_redraws_like_a_preset(tmp_path, capsys):
    args = overrides("study.seeds=2")
    validate_overrides(args)  # what `intentlab run` checks before handing over to Hydra
    out = tmp_path / "run"
    _run(compose_config(*args), out, "hydra.run.dir", progress=False)  # Hydra's main calls it
    printed = capsys.readouterr().out
    assert "welfare" in printed and f"results: {out}" in printed
    verify(out, reads=["spread.parquet", "config.yaml"])
    assert yaml.safe_load((out / "config.yaml").read_text())["study"] == {
        "kind": "seed_spread",
        "seeds": 2,
    }
    assert (out / "seed_spread.pdf").is_file() and (out / "seed_spread.png").is_file()
    _run(compose_config(*args), out, "hydra.run.dir", progress=False)
    assert f"complete, skipped: {out}" in capsys.readouterr().out
    draw(out)
    assert (out / "figures" / "seed_spread.pdf").is_file()


def test_a_bad_key_of_the_new_study_is_one_line_on_the_command_line():
    with pytest.raises(UsageError, match=r"^study.seed: unknown key; allowed keys: kind, seeds$"):
        validate_overrides(overrides("study.seed=2"))


def test_an_unknown_study_kind_lists_the_registry():
    with pytest.raises(sim.ConfigError, match=r"^study.kind: allowed: adversaries, .*seed_spread"):
        resolve(compose_config("+study.kind=nope"))


def test_a_study_kind_is_registered_once():
    with pytest.raises(ValueError, match="'intent_vs_yuma' is registered twice"):

        class Again(studies.Study):
            kind = "intent_vs_yuma"


def test_the_worked_example_of_docs_extending_runs(monkeypatch, tmp_path):
    doc = Path(__file__).resolve().parents[1] / "docs" / "extending.md"
    section = doc.read_text().split("## Add a study\n", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    module = types.ModuleType("seed_spread_example")  # importable: dataclasses look it up
    monkeypatch.setitem(sys.modules, module.__name__, module)
    registry = {k: v for k, v in studies.base._REGISTRY.items() if k != "seed_spread"}
    monkeypatch.setattr(studies.base, "_REGISTRY", registry)  # this module's is restored after
    exec(code, vars(module))
    assert type(studies.get("seed_spread")) is module.SeedSpread
    base, config = resolve(compose_config(*overrides("study.seeds=2")))
    summary = studies.execute(base, config, tmp_path / "run")
    assert list(summary.index) == ["mean", "std"]
    draw(tmp_path / "run")
    assert (tmp_path / "run" / "figures" / "seed_spread.png").is_file()
