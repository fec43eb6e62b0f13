"""Mechanisms inside the simulation, the studies (the contract for each, worked cases) and the
benchmark."""

import json

import numpy as np
import pandas as pd
import pytest

import mechanisms
from experiments import studies
from experiments.run import resolve
from experiments.studies.solver_entry import counts
from sim import ConfigError, MarketModel
from sim.ledger import TREASURY
from tests.conftest import tiny_config
from tests.study_contract import StudyContract, compose_config, shipped


class TestMechanismComparisonContract(StudyContract):
    kind = "mechanism_comparison"


class TestIntentVsYumaContract(StudyContract):
    kind = "intent_vs_yuma"


class TestAdversariesContract(StudyContract):
    kind = "adversaries"


class TestFheOverheadContract(StudyContract):
    kind = "fhe_overhead"


class TestLearningContract(StudyContract):
    kind = "learning"


class TestCalibrationContract(StudyContract):
    kind = "calibration"


class TestSolverEntryContract(StudyContract):
    kind = "solver_entry"


def test_every_study_of_the_package_has_a_contract_test():
    assert shipped() <= {cls.kind for cls in StudyContract.__subclasses__()}


@pytest.mark.parametrize("name", mechanisms.available())
def test_every_mechanism_config_composes_and_names_its_class(name):
    overrides = [f"mechanism={name}"]
    if mechanisms.mechanism_class(name).properties["markets"] == "homogeneous":
        overrides.append("market.homogeneous=true")
    config, study = resolve(compose_config(*overrides))
    assert study is None
    assert type(config.mechanism.build()) is mechanisms.mechanism_class(name)


@pytest.mark.parametrize(
    ("name", "homogeneous"),
    [("dutch", False), ("first_price", False), ("vcg", False), ("posted_price", False),
     ("mcafee", True), ("dutch", True)],
)  # fmt: skip
def test_mechanism_runs_in_the_simulation_and_the_books_balance(name, homogeneous):
    cfg = tiny_config(
        rounds=5,
        mechanism={"name": name},
        # no minimum prices and no fee shared back: reports are the true values, so VCG's
        # allocation is the planner's
        market={"homogeneous": homogeneous, "intent": {"min_price_high": 0.0}},
        incentives={"revenue_share": 0.0},
    )
    model = MarketModel(cfg)
    for _ in range(cfg.rounds):
        model.step()  # checks the ledger every round
    rounds, trades, agents = model.rounds_frame(), model.trades_frame(), model.agents_frame()
    assert rounds["volume"].sum() > 0
    assert (rounds["welfare"] <= rounds["optimal_welfare"] + 1e-6).all()
    # money in the market = endowments + realized value; the treasury holds the protocol's share
    market_agents = (agents["kind"] != "validator").sum()  # validators hold no money
    expected = (
        cfg.market.money_endowment * market_agents + (trades["true_value"] * trades["units"]).sum()
    )
    held = agents["money"].sum() + model.ledger.balance("money", TREASURY)
    assert held == pytest.approx(expected, rel=1e-9)
    assert model.ledger.balance("money", TREASURY) == pytest.approx(
        rounds["protocol_surplus"].sum(), abs=1e-6
    )
    if name == "vcg":
        assert rounds["protocol_surplus"].sum() < 0  # the deficit the treasury covers
        assert rounds["efficiency"].dropna().min() == pytest.approx(1.0, abs=1e-6)
    if homogeneous:
        assert (trades["seller_quality"] == 1.0).all()


def test_homogeneous_only_mechanism_needs_a_homogeneous_market():
    with pytest.raises(ConfigError, match=r"set market\.homogeneous=true"):
        tiny_config(mechanism={"name": "mcafee"})


@pytest.fixture(scope="module")
def small_study():
    config, study = resolve(
        compose_config(
            "experiment=mechanism_comparison",
            "study.corporations=[8,16]",
            "study.solvers=[3,5]",
            "study.seeds=1",
            "study.markets=2",
        )
    )
    return config, study, studies.get("mechanism_comparison").run(config, study)["comparison"]


def test_comparison_covers_every_mechanism_family_and_size(small_study):
    _, study, table = small_study
    assert set(table["mechanism"]) == set(study.mechanisms)
    assert set(table["family"]) == {"intent", "homogeneous"}
    assert len(table) == len(study.mechanisms) * 2 * 2 * study.markets
    unsupported = table[~table["supported"]]
    assert set(unsupported["mechanism"]) == {"mcafee"}
    assert set(unsupported["family"]) == {"intent"}
    assert unsupported["reason"].str.contains("per-pair").all()
    ok = table[table["supported"]]
    assert (ok["efficiency"].dropna() <= 1 + 1e-6).all()  # NaN: nothing worth trading
    vcg = ok[ok["mechanism"] == "vcg"].dropna(subset=["efficiency"])
    assert len(vcg) > 0
    np.testing.assert_allclose(vcg["efficiency"], 1.0, atol=1e-6)
    assert (ok.loc[ok["mechanism"] == "first_price", "protocol_surplus"] >= -1e-6).all()


def test_comparison_is_reproducible_and_saves_complete(small_study, tmp_path):
    config, study, table = small_study
    again = studies.get("mechanism_comparison").run(config, study)["comparison"]
    assert table.drop(columns="clear_seconds").equals(again.drop(columns="clear_seconds"))
    out = studies.save(tmp_path / "cmp", {"comparison": table}, study, config)
    for name in ("comparison.parquet", "comparison.png", "comparison.pdf", "config.yaml", "DONE"):
        assert (out / name).is_file()
    assert set(json.loads((out / "DONE").read_text())["files"]) == {
        "comparison.parquet",
        "config.yaml",
    }


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("study.mechanisms=[dutch,nope]", "study.mechanisms"),
        ("study.solvers=[3]", "study.solvers: needs one entry per entry of study.corporations"),
        ("study.families=[intent,other]", "allowed: intent, homogeneous"),
        ("study.markets=0", "study.markets: 0 not allowed, must be >= 1"),
    ],
)
def test_bad_study_values_are_one_line_errors(override, message):
    with pytest.raises(ConfigError, match=message) as info:
        resolve(compose_config("experiment=mechanism_comparison", override))
    assert "\n" not in str(info.value)


def test_bench_quick_writes_a_report(tmp_path):
    from experiments.benchmarks import bench

    report = bench.run(tmp_path / "bench.json", quick=True)
    saved = json.loads((tmp_path / "bench.json").read_text())
    assert saved["quick"] is True
    assert saved["planner"]["max_relative_gap"] <= 1e-6
    assert saved["dutch"]["by_tick"][0]["same_price_within_one_tick"]
    assert saved["dutch"]["by_tick"][0]["same_allocation"]
    assert report["environment"]["versions"]["cvxpy"]
    valuation = saved["valuation"]["by_market"][0]
    assert valuation["models_trained"] <= valuation["exact_models"]  # cached coalitions
    memory = saved["memory"]
    assert len(memory["peak_rss_mib_by_round"]) == memory["rounds"] == 8
    assert memory["peak_rss_mib_by_round"] == sorted(memory["peak_rss_mib_by_round"])


def test_incentives_yuma_option_composes():
    config, _ = resolve(compose_config("incentives=yuma"))
    assert config.incentives.regime == "yuma"
    assert config.incentives.revenue_share == 0.0
    assert config.incentives.yuma.kappa == 0.5


def test_intent_vs_yuma_runs_both_regimes_on_the_same_population(tmp_path):
    config, study = resolve(
        compose_config(
            "experiment=intent_vs_yuma",
            "study.seeds=1",
            "rounds=3",
            "market.n_corporations=12",
            "market.n_solvers=4",
            "incentives.yuma.open_data_prob=0.5",
        )
    )
    tables = studies.get("intent_vs_yuma").run(config, study)
    rounds, adversaries = tables["rounds"], tables["adversaries"]
    assert set(rounds["regime"]) == {"intent_market", "yuma"}
    assert len(rounds) == 2 * 3 and set(adversaries["regime"]) == {"intent_market", "yuma"}
    first = rounds[rounds["round"] == 0].set_index("regime")
    # same population and tasks in round 0; only the incentive regime differs
    assert (
        first.loc["intent_market", "corporations_active"]
        == first.loc["yuma", "corporations_active"]
    )
    assert first.loc["intent_market", "compatible_share"] == first.loc["yuma", "compatible_share"]
    assert first.loc["yuma", "tokens_corporations"] == 0
    assert first.loc["yuma", "data_share"] > 0  # open data, given away
    assert first.loc["yuma", "seller_revenue"] == 0 < first.loc["intent_market", "seller_revenue"]
    summary = studies.get("intent_vs_yuma").summary(tables)
    assert list(summary.index) == ["intent_market", "yuma"]
    out = studies.save(tmp_path / "ivy", tables, study, config)
    for name in ("rounds.parquet", "adversaries.parquet", "intent_vs_yuma.png", "DONE"):
        assert (out / name).is_file()


def test_bad_regime_study_is_a_one_line_error():
    with pytest.raises(ConfigError, match=r"study.regimes: .*allowed: intent_market, yuma"):
        resolve(compose_config("experiment=intent_vs_yuma", "study.regimes=[yuma,bittensor]"))


def test_solver_entry_counts_worked_case():
    table = pd.DataFrame(
        {
            "congestion": 0.0, "corporations": 10, "seed": 0, "solvers": [1, 2, 3],
            "solver_profit": [5.0, 3.0, 1.0], "users_surplus": [1.0, 4.0, 2.0],
            "welfare": [10.0, 12.0, 12.0], "volume": 1.0,
        }
    )  # fmt: skip
    found = counts(table, (0.0, 2.0, 6.0)).set_index("entry_cost")
    # K = 2: the third entrant's profit (1) does not cover it; welfare - mK = 8, 8, 6
    assert found.loc[2.0, "free_entry"] == 2 and found.loc[2.0, "welfare_planner"] == 1
    assert found.loc[0.0, "free_entry"] == 3 and found.loc[0.0, "welfare_planner"] == 2
    assert found.loc[6.0, "free_entry"] == 0
    assert (found["users_planner"] == 2).all()
