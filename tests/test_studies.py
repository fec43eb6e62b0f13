"""Mechanisms inside the simulation, the studies (the contract for each, worked cases) and the
benchmark."""

import json

import numpy as np
import pandas as pd
import pytest

import mechanisms
from experiments import studies
from experiments.run import resolve
from sim import ConfigError, MarketModel
from sim.ledger import TREASURY
from tests.conftest import money_created, perfect_detection, tiny_config
from tests.study_contract import TINY_MARKET, StudyContract, compose_config, shipped


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


class TestDetectionContract(StudyContract):
    kind = "detection"


class TestSolverEntryContract(StudyContract):
    kind = "solver_entry"


class TestSensitivityContract(StudyContract):
    kind = "sensitivity"


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
        # sound proofs: no false positive takes a trade of the planner's allocation away
        incentives={"revenue_share": 0.0, "verification": {"detection": perfect_detection()}},
    )
    model = MarketModel(cfg)
    for _ in range(cfg.rounds):
        model.step()  # checks the ledger every round
    rounds, trades, agents = model.rounds_frame(), model.trades_frame(), model.agents_frame()
    assert rounds["volume"].sum() > 0
    assert (rounds["welfare"] <= rounds["optimal_welfare"] + 1e-6).all()
    # money in the market = endowments + realized value; the treasury holds the protocol's share
    market_agents = (agents["kind"] != "validator").sum()  # validators hold no money
    expected = cfg.market.money_endowment * market_agents + money_created(trades)
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


def test_intent_vs_yuma_crosses_market_and_reward_rules_on_the_same_population(tmp_path):
    config, study = resolve(
        compose_config(
            "experiment=intent_vs_yuma",
            "study.seeds=2",
            "study.workers=1",
            "rounds=3",
            "market.n_corporations=12",
            "market.n_solvers=4",
            "incentives.yuma.open_data_prob=0.5",
        )
    )
    tables = studies.get("intent_vs_yuma").run(config, study)
    rounds, adversaries = tables["rounds"], tables["adversaries"]
    regimes = ["intent_market", "priced_yuma", "open_data_rewards", "yuma"]
    assert list(dict.fromkeys(rounds["regime"])) == regimes
    assert len(rounds) == 4 * 2 * 3 and set(adversaries["regime"]) == set(regimes)
    first = rounds[(rounds["round"] == 0) & (rounds["seed"] == 0)].set_index("regime")
    # same population and tasks in round 0; only the rules differ
    assert first["corporations_active"].nunique() == 1
    assert first["compatible_share"].nunique() == 1
    assert first.loc["yuma", "tokens_corporations"] == 0
    assert first.loc["open_data_rewards", "tokens_corporations"] > 0  # paid in tokens only
    assert first.loc["yuma", "data_share"] > 0  # open data, given away
    assert first.loc["yuma", "seller_revenue"] == 0 < first.loc["priced_yuma", "seller_revenue"]
    summary = studies.get("intent_vs_yuma").summary(tables)
    assert list(summary.index) == regimes
    assert (summary["seeds"] == 2).all() and summary["answer"].str.contains("± ").all()
    # paired differences: the reference against itself is exactly 0
    assert summary.loc["yuma", "welfare_vs_ref"] == 0
    late = rounds[(rounds["round"] >= 1) & (rounds["regime"] == "intent_market")]  # max 2 / 2
    assert summary.loc["intent_market", "welfare"] == pytest.approx(
        late.groupby("seed")["welfare"].mean().mean(), abs=1e-3
    )
    verdict = studies.get("intent_vs_yuma").verdict(tables)
    assert set(verdict["quantity"]) == {
        "sharing: intent_market - yuma", "competitors: intent_market - yuma",
        "welfare: intent_market - yuma",
    }  # fmt: skip
    out = studies.save(tmp_path / "ivy", tables, study, config)
    for name in ("rounds.parquet", "adversaries.parquet", "intent_vs_yuma.png", "DONE"):
        assert (out / name).is_file()


@pytest.mark.parametrize(
    ("overrides", "intent_wins"),
    [
        ((), True),  # the defaults: unpaid corporations leave Yuma
        # free sharing, no outside options, every corporation's data open: Yuma wins
        (("market.sharing_cost_low=0", "market.sharing_cost_high=0",
          "agents.corporation_outside_option=0", "agents.solver_outside_option=0",
          "incentives.yuma.open_data_prob=1.0"), False),
    ],
    ids=["defaults", "free_open_data"],
)  # fmt: skip
def test_the_headline_conclusion_holds_at_the_defaults_and_reverses_with_free_open_data(
    overrides, intent_wins
):
    config, study = resolve(
        compose_config(
            "experiment=intent_vs_yuma", "study.seeds=3", "study.regimes=[intent_market,yuma]",
            "study.workers=1", *overrides,
        )
    )  # fmt: skip
    study_ = studies.get("intent_vs_yuma")
    verdict = study_.verdict(study_.run(config, study))
    means = verdict.groupby("quantity")["value"].agg(["mean", "min", "max"])
    for quantity in ("sharing: intent_market - yuma", "welfare: intent_market - yuma"):
        row = means.loc[quantity]  # every seed agrees on the sign
        assert (row["min"] > 0) if intent_wins else (row["max"] < 0), quantity


def test_bad_regime_study_is_a_one_line_error():
    with pytest.raises(ConfigError, match=r"study.regimes: .*allowed: intent_market, open_data"):
        resolve(compose_config("experiment=intent_vs_yuma", "study.regimes=[yuma,bittensor]"))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (("study.of=calibration",), "study.of: 'calibration' not allowed, allowed: fhe_overhead"),
        (("study.of=mechanism_comparison", "study.study=[[families,[homogeneous]]]"),
         "study.study: mechanism_comparison's verdict needs mechanisms dutch and vcg"),
        (("study.of=learning", "study.one_at_a_time=[[study.eta,[0.0]]]"),
         r"study.one_at_a_time: study.eta: 0.0 not allowed"),
        (("study.of=fhe_overhead", "study.study=[[cost_scales,[2.0]]]"),
         "study.study: fhe_overhead's verdict needs cost_scales with 1"),
        (("study.study=[[seeds,0]]",), "study.study.seeds: 0 not allowed, must be >= 1"),
        (("study.study=[seeds]",), r"study.study: .*must be a list of \[key, value\] pairs"),
        (("study.crossed=[[agents.grace_rounds,[1]]]",), "study.crossed: .*exactly two keys"),
        (("study.one_at_a_time=[[market.n_solvers,[a]]]",), "values must be numbers"),
        (("study.crossed_at=[market.n_solvers]",), r"must be a list of \[key, value\] pairs"),
    ],
)  # fmt: skip
def test_bad_sensitivity_study_is_a_one_line_error(overrides, message):
    with pytest.raises(ConfigError, match=message):
        resolve(compose_config("experiment=sensitivity", *overrides))


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("study.one_at_a_time=[[market.no_such_key,[1]]]",
         "study.one_at_a_time: market.no_such_key: unknown key"),
        ("study.one_at_a_time=[[market.n_solvers,[0]]]",
         "study.one_at_a_time: market.n_solvers: 0 not allowed"),
    ],
)  # fmt: skip
def test_a_bad_sensitivity_point_is_refused_before_any_run(override, message, monkeypatch):
    import experiments.studies.sensitivity as sensitivity

    monkeypatch.setattr(sensitivity, "run_jobs", lambda *a, **k: pytest.fail("ran"))
    with pytest.raises(ConfigError, match=message):  # resolve checks every point
        resolve(compose_config("experiment=sensitivity", override))
    config, study = resolve(compose_config("experiment=sensitivity"))
    points = studies.get("sensitivity").points(config, study)
    assert len(points) == 1 + 9 * 4 + 4 * 4  # base, one at a time, crossed


def test_sensitivity_signs_and_reversals_on_a_hand_built_table():
    from experiments.studies.sensitivity import summarize

    rows = []
    for design, x, values in [
        ("base", np.nan, [1.0, 1.2, 0.8]),  # mean 1, clearly positive
        ("one_at_a_time", 0.0, [-1.0, -1.1, -0.9]),  # clearly negative: reverses
        ("one_at_a_time", 1.0, [-1.0, 1.0, 0.1]),  # the interval covers 0
    ]:
        for seed, value in enumerate(values):
            rows.append({"design": design, "x_key": "" if design == "base" else "k", "x": x,
                         "y_key": "", "y": np.nan, "quantity": "q", "seed": seed,
                         "value": value})  # fmt: skip
    out = summarize(pd.DataFrame(rows)).set_index("design", append=True)
    assert out["sign"].tolist() == [1, -1, 0]
    assert out["reverses"].tolist() == [False, True, False]
    # t interval with 2 degrees of freedom: 4.303 * sd / sqrt(3)
    assert out["ci"].iloc[0] == pytest.approx(4.302653 * 0.2 / np.sqrt(3), rel=1e-5)


@pytest.mark.parametrize(
    ("kind", "inner", "quantities"),
    [
        ("solver_entry", "[[seeds,2],[max_solvers,3],[corporations,[10]],[congestion,[0.0,0.4]],"
         "[entry_costs,[0.5,2.0]]]",
         {"overshoot at congestion 0: free entry - users' optimum",
          "overshoot at congestion 0.4: free entry - users' optimum"}),
        ("fhe_overhead", "[[seeds,2],[cost_scales,[1.0]]]", {"welfare: encrypted x1 - plain"}),
        ("mechanism_comparison", "[[seeds,2],[corporations,[8]],[solvers,[3]],[markets,2]]",
         {"dutch loss: vcg - dutch efficiency"}),
        ("learning", "[[seeds,2],[buyers,[2]],[rounds,60],[factors,5],[deviation_rounds,20],"
         "[block,10]]", {"hedge first_price n=2 buy: 0.05 - |learned - theory|"}),
    ],
)  # fmt: skip
def test_every_study_with_a_verdict_runs_under_sensitivity(kind, inner, quantities):
    config, study = resolve(
        compose_config(
            "experiment=sensitivity", *TINY_MARKET, f"study.of={kind}", f"study.study={inner}",
            "study.one_at_a_time=[[incentives.token_price,[0.0]]]", "study.crossed=[]",
            "study.crossed_at=[]", "study.workers=1",
        )
    )  # fmt: skip
    tables = studies.get("sensitivity").run(config, study)
    table = tables["sensitivity"]
    assert set(table["quantity"]) == quantities
    assert set(table["design"]) == {"base", "one_at_a_time"}
    assert (table.groupby(["design", "quantity"])["seed"].nunique() == 2).all()
    summary = studies.get("sensitivity").summary(tables)
    assert list(summary.index) == ["base", "token_price=0"]


def test_fhe_overhead_verdict_is_encrypted_minus_plain_welfare_per_seed():
    rounds = pd.DataFrame(
        {
            "arm": ["encrypted x1"] * 4 + ["plain"] * 4 + ["encrypted x2"] * 2,
            "seed": [0, 0, 1, 1, 0, 0, 1, 1, 0, 1],
            "welfare": [10.0, 20.0, 5.0, 5.0, 12.0, 12.0, 1.0, 3.0, 0.0, 0.0],
        }
    )
    verdict = studies.get("fhe_overhead").verdict({"rounds": rounds}).set_index("seed")
    assert verdict["value"].tolist() == [3.0, 3.0]  # 15 - 12 and 5 - 2
    assert (verdict["quantity"] == "welfare: encrypted x1 - plain").all()


def test_mechanism_comparison_verdict_is_vcg_minus_dutch_on_intent_markets():
    rows = []
    for seed, market, dutch, vcg in [(0, 0, 0.8, 1.0), (0, 1, 0.6, 1.0), (1, 0, 0.9, 0.95)]:
        for name, efficiency in (("dutch", dutch), ("vcg", vcg)):
            rows.append({"family": "intent", "corporations": 8, "seed": seed, "market": market,
                         "mechanism": name, "efficiency": efficiency, "supported": True})  # fmt: skip
    rows.append({"family": "homogeneous", "corporations": 8, "seed": 0, "market": 0,
                 "mechanism": "dutch", "efficiency": 0.0, "supported": True})  # fmt: skip
    verdict = studies.get("mechanism_comparison").verdict({"comparison": pd.DataFrame(rows)})
    assert verdict.set_index("seed")["value"].round(9).tolist() == [0.3, 0.05]


def test_learning_verdict_is_the_tolerance_less_the_distance_to_theory():
    table = pd.DataFrame(
        {
            "learner": "hedge", "mechanism": "first_price", "agents": 2, "side": "buy",
            "seed": [0, 0, 0, 1], "last_half": [False, True, True, True],
            "factor": [0.9, 0.52, 0.54, 0.40], "theory": 0.5,
        }
    )  # fmt: skip
    verdict = studies.get("learning").verdict({"learning": table}).set_index("seed")["value"]
    assert verdict.round(9).tolist() == [0.02, -0.05]  # 0.05 - 0.03 and 0.05 - 0.10
