"""The run and sweep figures: paper size, what they mark and say, and quiet writing."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import sim
from experiments import figures
from experiments.figures import PAGE_WIDTH, plot_rounds, plot_sweep, run_title
from experiments.redraw import draw
from experiments.run import _run
from sim.results import price_note
from tests.conftest import tiny_config
from tests.study_contract import WIDTH_TOLERANCE, compose_config, pdf_width


@pytest.fixture(scope="module")
def runs():
    """Tiny runs by name: the Dutch auction and VCG in the intent market, and Yuma."""
    configs = {
        "dutch": tiny_config(rounds=10),
        "vcg": tiny_config(rounds=10, mechanism={"name": "vcg"}),
        "yuma": tiny_config(rounds=10, incentives={"regime": "yuma"}),
    }
    return {name: sim.run(config) for name, config in configs.items()}


@pytest.fixture
def drawn(monkeypatch):
    """The figures the plot functions draw, kept open instead of written."""
    kept = []

    def keep(fig, path):
        kept.append(fig)
        return Path(path)

    monkeypatch.setattr(figures, "_save", keep)
    yield kept
    for fig in kept:
        plt.close(fig)


def sweep_table(runs) -> pd.DataFrame:
    """A collected sweep: two seeds per mechanism, as :func:`experiments.collect.collect`."""
    frames = []
    for name in ("dutch", "vcg"):
        for seed in (1, 2):
            config = dataclasses.replace(runs[name].config, seed=seed)
            rounds = sim.run(config).rounds
            frames.append(rounds.assign(run=f"{name}{seed}", seed=seed, **{"mechanism.name": name}))
    return pd.concat(frames, ignore_index=True)


def test_run_and_sweep_figures_fit_a_paper_page(runs, tmp_path):
    plot_rounds(runs["dutch"].rounds, tmp_path / "rounds.pdf", title="a title")
    plot_sweep(sweep_table(runs), ["mechanism.name"], tmp_path / "sweep.pdf")
    for name in ("rounds.pdf", "sweep.pdf"):
        assert pdf_width(tmp_path / name) <= PAGE_WIDTH + WIDTH_TOLERANCE, name


def test_run_title_names_the_regime_the_mechanism_where_it_applies_size_and_seed(runs):
    dutch, yuma = runs["dutch"].config, runs["yuma"].config
    assert run_title(dutch) == "intent_market, dutch: 14 corporations, 5 solvers, seed 1"
    assert run_title(yuma) == "yuma, open data at price 0: 14 corporations, 5 solvers, seed 1"


def test_run_and_redraw_title_the_figure_by_the_run_and_mark_its_grace_period(
    runs, tmp_path, monkeypatch, capsys
):
    calls = []

    def record(rounds, path, title=None, grace_rounds=None):
        calls.append((title, grace_rounds))
        return Path(path)

    monkeypatch.setattr(figures, "plot_rounds", record)
    overrides = ["incentives=yuma", "rounds=3", "market.n_corporations=10", "market.n_solvers=3"]
    _run(compose_config(*overrides), tmp_path / "run", "hydra.run.dir", progress=False)
    capsys.readouterr()
    draw(tmp_path / "run")
    config = sim.RunResult.load(tmp_path / "run").config
    assert calls == [(run_title(config), config.agents.grace_rounds)] * 3  # run, PDF, PNG
    assert calls[0][0].startswith("yuma, open data at price 0:")


@pytest.mark.parametrize(
    ("name", "note"),
    [
        ("vcg", "no uniform price: vcg sets prices per trade"),
        ("yuma", "open data is given away: price 0"),
        ("dutch", None),
    ],
)
def test_a_run_without_a_market_price_says_why(runs, name, note):
    assert price_note(runs[name].rounds) == note


def test_a_run_with_some_rounds_without_a_uniform_price_says_how_many():
    rounds = pd.DataFrame({"incentives": "intent_market", "mechanism": "mcafee",
                           "volume": [0.0, 5.0, 4.0], "price": [np.nan, np.nan, 1.2]})  # fmt: skip
    note = "no uniform price in 1 of 2 rounds with trade: mcafee sets prices per trade"
    assert price_note(rounds) == note


def test_the_price_panel_and_the_printed_summary_say_why_there_is_no_price(
    runs, drawn, tmp_path, monkeypatch, capsys
):
    plot_rounds(runs["vcg"].rounds, tmp_path / "rounds.png")
    texts = [t.get_text() for t in drawn[0].axes[2].texts]
    assert texts == ["no uniform price:\nvcg sets prices per trade"]
    assert np.isnan(runs["vcg"].summary().at["mean price", "value"])  # machine-readable
    printed = runs["vcg"].report()
    assert "n/a (no uniform price: vcg sets prices per trade)" in printed
    monkeypatch.setattr(figures, "plot_rounds", lambda rounds, path, *a, **k: Path(path))
    overrides = ["mechanism=vcg", "rounds=3", "market.n_corporations=10", "market.n_solvers=3"]
    _run(compose_config(*overrides), tmp_path / "run", "hydra.run.dir", progress=False)
    assert "mean price" in (out := capsys.readouterr().out) and "n/a (no uniform price" in out


def test_the_efficiency_axis_shows_negative_efficiency(runs, drawn, tmp_path):
    rounds = runs["dutch"].rounds.copy()
    rounds.loc[3, "efficiency"] = -0.33
    plot_rounds(rounds, tmp_path / "rounds.png")
    low, high = drawn[0].axes[1].get_ylim()
    assert low < -0.33 and high >= 1.0


def test_the_grace_period_is_marked_on_the_run_and_sweep_figures(runs, drawn, tmp_path):
    plot_rounds(runs["dutch"].rounds, tmp_path / "rounds.png", title="t", grace_rounds=5)
    plot_sweep(sweep_table(runs), ["mechanism.name"], tmp_path / "sweep.png", grace_rounds=5)
    for fig in drawn:
        for ax in fig.axes[:4]:
            assert [5.5, 5.5] in [list(line.get_xdata()) for line in ax.lines], fig
        labels = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
        assert "grace period ends (agents may leave)" in labels


def test_the_headline_study_marks_the_grace_period_its_runs_share(drawn, monkeypatch, tmp_path):
    from experiments import studies
    from experiments.run import resolve
    from experiments.studies import intent_vs_yuma

    monkeypatch.setattr(intent_vs_yuma, "_save", figures._save)  # kept open (drawn)
    config, study = resolve(
        compose_config(
            "experiment=intent_vs_yuma",
            "study.seeds=2",
            "study.workers=1",
            "study.regimes=[intent_market,yuma]",
            "rounds=4",
            "agents.grace_rounds=1",
            "market.n_corporations=12",
            "market.n_solvers=4",
        )
    )
    ivy = studies.get("intent_vs_yuma")
    tables = ivy.run(config, study)
    assert set(tables["rounds"]["grace_rounds"]) == {1}
    ivy.plot(tables, tmp_path / "marked.png")
    older = {**tables, "rounds": tables["rounds"].drop(columns="grace_rounds")}
    ivy.plot(older, tmp_path / "unmarked.png")  # a table written before the column
    label = "grace period ends (agents may leave)"
    marked, unmarked = drawn
    for fig, mark in ((marked, True), (unmarked, False)):
        for ax in fig.axes:
            assert ([1.5, 1.5] in [list(line.get_xdata()) for line in ax.lines]) is mark
        labels = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
        assert (label in labels) is mark


def test_sweep_bands_stay_in_range_and_say_how_many_seeds_stand_behind_them(drawn, tmp_path):
    rounds = pd.DataFrame(
        {
            "seed": [0, 0, 1, 1],
            "round": [0, 1, 0, 1],
            "volume": [0.0, 0.0, 10.0, 12.0],  # 2 seeds: the t band would reach below 0
            "data_share": [0.9, 1.0, 1.0, 0.7],  # a share: at most 1
            "efficiency": [0.5, np.nan, 0.7, 0.8],  # round 1: one seed has no efficiency
        }
    )
    plot_sweep(rounds, [], tmp_path / "sweep.png")
    (fig,) = drawn
    panels = dict(zip([column for column, *_ in figures.SWEEP_PANELS], fig.axes, strict=False))
    volume = panels["volume"].collections[0].get_paths()[0].vertices[:, 1]
    share = panels["data_share"].collections[0].get_paths()[0].vertices
    assert volume.min() >= 0 and share[:, 1].max() <= 1
    efficiency = panels["efficiency"]
    marked = [line for line in efficiency.lines if line.get_marker() == "o"]
    assert [list(line.get_xdata()) for line in marked] == [[1]]  # one seed in round 1
    labels = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert figures.FEWER.get_label() in labels
    assert "t interval over 2 seeds per line" in fig.legends[0].get_title().get_text()
    plot_sweep(
        pd.concat([rounds, rounds.assign(seed=2, x=1)]).fillna({"x": 0}), ["x"], tmp_path / "s.png"
    )
    labels = [t.get_text() for t in drawn[1].legends[0].get_texts()]
    assert labels[:2] == ["x=0.0 (2 seeds)", "x=1.0 (1 seed)"]  # seeds differ between lines


def test_writing_a_pdf_figure_logs_no_font_subsetting_at_info(runs, tmp_path):
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    try:
        plot_rounds(runs["dutch"].rounds, tmp_path / "rounds.pdf")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    assert not [r for r in records if r.name.startswith("fontTools")]
