"""The contract every study passes.

A study's test class inherits :class:`StudyContract` and sets ``kind`` to the registered
kind of the study under test. The study runs once per test class, on its preset with its
``tiny`` sizes on :data:`TINY_MARKET` (a study without a preset overrides :meth:`configs`).
Its figure must fit a paper page (:data:`experiments.figures.PAGE_WIDTH`).
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir

from experiments import CONFIG_DIR, studies
from experiments.figures import FORMATS, PAGE_WIDTH
from experiments.redraw import draw
from experiments.run import resolve
from sim import ConfigError, SimConfig
from sim.results import verify

#: The market every study's tiny run uses.
TINY_MARKET = ("rounds=2", "market.n_corporations=10", "market.n_solvers=3")

#: Inches a PDF may exceed the width it was drawn at (tight bounding boxes move its edges).
WIDTH_TOLERANCE = 0.05


def pdf_width(path: Path) -> float:
    """The width in inches of a PDF's first page (its ``MediaBox``, in points)."""
    box = re.search(rb"/MediaBox\s*\[\s*([-\d.]+)\s+[-\d.]+\s+([-\d.]+)", path.read_bytes())
    return (float(box[2]) - float(box[1])) / 72


def compose_config(*overrides):
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose("config", overrides=list(overrides))


def shipped() -> set[str]:
    """Kinds of the studies :mod:`experiments.studies` ships (not those a test registers)."""
    return {k for k in studies.available() if studies.get(k).__module__.startswith("experiments")}


def assert_tables_equal(a: studies.Tables, b: studies.Tables) -> None:
    assert set(a) == set(b)
    for name, table in a.items():
        if isinstance(table, pd.DataFrame):
            pd.testing.assert_frame_equal(table, b[name])
        else:
            assert table == b[name]


class StudyContract:
    kind: str

    @classmethod
    def configs(cls) -> tuple[SimConfig, Any]:
        """The tiny run's simulation and study configs: the preset at the tiny sizes."""
        tiny = studies.get(cls.kind).tiny
        return resolve(compose_config(f"experiment={cls.kind}", *TINY_MARKET, *tiny))

    @pytest.fixture(scope="class")
    @classmethod
    def saved(cls, tmp_path_factory):
        """The tiny run: its configs, its tables and the directory they were saved to."""
        base, config = cls.configs()
        tables = studies.get(cls.kind).run(base, config)
        directory = tmp_path_factory.mktemp(cls.kind) / "study"
        return base, config, tables, studies.save(directory, tables, config, base)

    def test_registered_with_its_kind_and_declarations(self):
        study = studies.get(self.kind)
        assert self.kind in studies.available() and study.kind == self.kind
        assert dataclasses.is_dataclass(study.Config) and study.Config.__dataclass_params__.frozen
        assert study.Config().kind == self.kind
        assert studies.load({"kind": self.kind}) == study.Config()
        assert study.figure and study.tables
        assert all(name.endswith((".parquet", ".json")) for name in study.tables)
        assert all(override.startswith("study.") for override in study.tiny)

    def test_unknown_study_key_is_a_one_line_config_error(self):
        with pytest.raises(ConfigError) as info:
            studies.load({"kind": self.kind, "no_such_key": 1})
        assert info.value.key == "study.no_such_key"
        assert str(info.value).startswith("study.no_such_key: unknown key; allowed keys: kind")
        assert "\n" not in str(info.value)

    def test_run_returns_the_declared_tables(self, saved):
        _, config, tables, _ = saved
        assert isinstance(config, studies.get(self.kind).Config)
        stems = [name.rpartition(".")[0] for name in studies.get(self.kind).tables]
        assert list(tables) == stems
        for name, table in zip(studies.get(self.kind).tables, tables.values(), strict=True):
            assert isinstance(table, pd.DataFrame if name.endswith(".parquet") else str)
            assert len(table) > 0

    def test_plot_writes_a_file(self, saved, tmp_path):
        _, _, tables, _ = saved
        path = studies.get(self.kind).plot(tables, tmp_path / "figure.png")
        assert path == tmp_path / "figure.png" and path.stat().st_size > 0

    def test_figure_fits_a_paper_page(self, saved):
        *_, directory = saved
        width = pdf_width(directory / f"{studies.get(self.kind).figure}.pdf")
        assert width <= PAGE_WIDTH + WIDTH_TOLERANCE, f"{width:.2f} in wide"

    def test_summary_is_a_dataframe(self, saved):
        _, _, tables, _ = saved
        summary = studies.get(self.kind).summary(tables)
        assert isinstance(summary, pd.DataFrame) and not summary.empty

    def test_save_verify_redraw_round_trip(self, saved):
        base, config, tables, directory = saved
        study = studies.get(self.kind)
        listed = verify(directory, reads=[*study.tables, "config.yaml"])
        assert set(listed) == {*study.tables, "config.yaml"}
        assert all((directory / f"{study.figure}.{suffix}").is_file() for suffix in FORMATS)
        assert resolve(studies.config_record(base, config)) == (base, config)
        assert_tables_equal(studies.read(directory, self.kind), tables)
        manifest = json.loads(draw(directory).read_text())
        (entry,) = manifest["figures"]
        assert entry["experiment"] == self.kind and entry["tables"] == list(study.tables)
        assert entry["files"] == [f"{study.figure}.{suffix}" for suffix in FORMATS]
        assert all((directory / "figures" / name).is_file() for name in entry["files"])
