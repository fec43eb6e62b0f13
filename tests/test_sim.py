from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

import mechanisms
import sim
from agents import Corporation, Solver
from sim import MarketModel, SimConfig
from sim.ledger import STAKE, TREASURY
from tests.conftest import money_created, tiny_config

ROUND_COLUMNS = (
    "round mechanism incentives welfare optimal_welfare efficiency price volume "
    "corporations_active corporations_trading solvers_active solver_hhi reward_gini "
    "mean_reputation emission gt_jobs"
).split()
TRADE_COLUMNS = (
    "round seller buyer units price task_kind task_industry seller_industry fhe proof_verified"
).split()


def test_run_produces_documented_tables(tiny):
    result = sim.run(tiny)
    assert set(ROUND_COLUMNS) <= set(result.rounds.columns)
    assert set(TRADE_COLUMNS) <= set(result.trades.columns)
    assert len(result.rounds) == tiny.rounds
    assert result.rounds["round"].tolist() == list(range(tiny.rounds))
    assert len(result.trades) > 0
    assert (result.rounds["efficiency"].dropna() <= 1 + 1e-6).all()
    assert (result.rounds["welfare"] <= result.rounds["optimal_welfare"] + 1e-6).all()
    reputation = result.rounds["mean_reputation"]
    assert ((reputation > 0) & (reputation < 1)).all()
    assert reputation.iloc[-1] > reputation.iloc[0]  # verified trades build reputation
    assert (result.rounds["gt_jobs"] == 0).all()  # no ground-truth jobs yet
    # nobody cheats: a delivery fails verification only as a measured false positive
    unverified = int((~result.trades["proof_verified"]).sum())
    assert unverified <= result.rounds["false_positives"].sum()
    assert (result.adversaries["detected"] == 0).all()
    assert {"corporation", "solver", "validator"} == set(result.agents["kind"])
    accuracy = result.rounds["model_accuracy"]
    assert ((accuracy > 0.3) & (accuracy < 1)).all()
    volume = result.trades.groupby("round")["units"].sum()
    np.testing.assert_allclose(result.rounds.set_index("round")["volume"].loc[volume.index], volume)


def test_efficiency_can_be_switched_off(tiny):
    result = sim.run(tiny_config(compute_optimum=False, rounds=3))
    assert result.rounds["optimal_welfare"].isna().all()
    assert result.rounds["efficiency"].isna().all()


def test_same_seed_same_files_other_seed_other_results(tmp_path):
    a = sim.run(tiny_config()).save(tmp_path / "a")
    b = sim.run(tiny_config()).save(tmp_path / "b")
    for name in ("rounds.parquet", "trades.parquet", "agents.parquet", "config.yaml", "DONE"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    c = sim.run(tiny_config(seed=2)).save(tmp_path / "c")
    assert (a / "trades.parquet").read_bytes() != (c / "trades.parquet").read_bytes()


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"incentives": {"regime": "yuma", "yuma": {"open_data_prob": 0.6}}},
        {"agents": {"adversaries": {"poisoner": 0.3, "sybil": 0.3, "lazy": 0.3, "colluder": 0.3}}},
    ],
    ids=["intent_market", "yuma", "adversaries"],
)
def test_no_executed_trade_violates_an_intent(overrides):
    model = MarketModel(
        tiny_config(rounds=20, market={"intent": {"require_proof_prob": 0.6}}, **overrides)
    )
    kinds = model.config.market.task_kinds
    checked = 0
    for _ in range(model.config.rounds):
        model.step()
        trades = model.trades_frame()
        trades = trades[trades["round"] == model.round - 1]
        by_id = {a.unique_id: a for a in model.agents}
        for t in trades.itertuples():
            intent = by_id[t.seller].intent
            assert t.task_kind in kinds
            why = intent.violation(
                kind=t.task_kind,
                industry=t.task_industry,
                round=t.round,
                price=t.price,
                fhe=t.fhe,
                proof=t.proof,
            )
            assert why is None, why
            checked += 1
    assert checked > 15


class Rogue(mechanisms.Mechanism):
    """Ignores intents: every pair trades one unit at price 0 (unregistered, tests only)."""

    properties: ClassVar[dict] = {}

    def clear(self, market, rng=None):
        x = np.zeros(market.shape)
        x[:, :] = np.minimum(1.0, market.supply[:, None] / max(market.n_buyers, 1))
        return mechanisms.Outcome.uniform_price(x, 0.0)


def test_settlement_rejects_and_counts_violating_trades():
    model = MarketModel(
        tiny_config(
            rounds=1, market={"intent": {"min_price_high": 0.5, "exclude_own_industry_prob": 1.0}}
        )
    )
    model.mechanism = Rogue()
    model.step()
    rejected = model.rejected_frame()
    rounds = model.rounds_frame()
    assert rounds.loc[0, "rejected_trades"] == len(rejected) > 0
    assert {"below_min_price", "industry_excluded"} & set(rejected["reason"])
    # every corporation here has a positive minimum price, so nothing at price 0 may execute
    assert all(c.intent.min_price > 0 for c in model.active(Corporation))
    assert model.trades_frame().empty
    assert rounds.loc[0, "volume"] == 0


def test_ledger_conserves_money_and_tokens_over_a_run():
    cfg = tiny_config(
        rounds=15,
        agents={"corporation_strategies": {"truthful": 1, "markup": 1, "fill_rate": 1, "exp3": 1}},
    )
    model = MarketModel(cfg)
    for _ in range(cfg.rounds):
        model.step()  # the model checks its ledger after every round
    trades, rounds, agents = model.trades_frame(), model.rounds_frame(), model.agents_frame()
    ledger = model.ledger
    # Independent accounting: agents entered with their endowment; money only came in as
    # task fees and left as compute costs, i.e. the trades' true values; prices and
    # revenue shares cancel. A model a proof rejected (a false positive here) earns no fee
    # but still paid its compute.
    market_agents = agents[agents["kind"] != "validator"]  # validators hold no money
    expected_money = cfg.market.money_endowment * len(market_agents) + money_created(trades)
    agent_money = agents["money"].sum() + ledger.balance("money", TREASURY)
    assert agent_money == pytest.approx(expected_money, rel=1e-9)
    # Tokens exist only as emissions and stakes.
    stakes = agents["stake"].sum()
    assert agents["tokens"].sum() == pytest.approx(rounds["emission"].sum(), rel=1e-9)
    assert ledger.balance("tokens", STAKE) == pytest.approx(stakes, rel=1e-9)
    assert rounds["emission"].max() <= cfg.incentives.emission.initial + 1e-9


def test_utilities_match_trades():
    model = MarketModel(tiny_config(rounds=1, incentives={"token_price": 0.0, "revenue_share": 0}))
    model.step()
    trades = model.trades_frame()
    for agent in model.active(Corporation):
        mine = trades[trades["seller"] == agent.unique_id]
        assert agent.utility_total == pytest.approx(
            ((mine["price"] - mine["true_cost"]) * mine["units"]).sum()
        )
        assert agent.utility_total >= -1e-9  # truthful sellers are never paid below cost
    for agent in model.active(Solver):
        mine = trades[trades["buyer"] == agent.unique_id]
        assert agent.utility_total == pytest.approx(
            ((mine["true_value"] - mine["buyer_price"]) * mine["units"]).sum()
        )


def test_agents_exit_below_outside_option_and_new_ones_arrive():
    cfg = tiny_config(
        rounds=10,
        agents={
            "corporation_outside_option": 1e6,
            "grace_rounds": 2,
            "corporation_arrival_rate": 0.5,
            "solver_arrival_rate": 0.5,
        },
    )
    result = sim.run(cfg)
    r = result.rounds
    assert r["corporations_exited"].sum() > 0
    assert r["corporations_entered"].sum() > 0 and r["solvers_entered"].sum() > 0
    exited = result.agents[result.agents["exited"] >= 0]
    assert (exited["exited"] - exited["entered"] >= 2).all()
    assert not exited["active"].any()
    # With everyone leaving after the grace period, the first rounds keep the initial population.
    assert r.loc[0, "corporations_active"] == cfg.market.n_corporations


@pytest.mark.parametrize("learner", ["fill_rate", "exp3"])
def test_strategic_population_learns(learner):
    cfg = tiny_config(
        rounds=10,
        agents={
            "corporation_strategies": {"truthful": 0, "markup": 0, learner: 1},
            "solver_strategies": {"truthful": 0, "shading": 0, learner: 1},
        },
    )
    agents = sim.run(cfg).agents
    assert set(agents.loc[agents["kind"] != "validator", "strategy"]) == {learner}
    assert agents["report_factor"].max() > 0
    assert sim.run(cfg).digest() == sim.run(cfg).digest()  # learners draw from the seed


def test_run_accepts_mappings_and_rejects_other_types():
    result = sim.run(
        {"rounds": 2, "market": {"n_corporations": 5, "n_solvers": 2}, "compute_optimum": False}
    )
    assert len(result.rounds) == 2
    with pytest.raises(TypeError, match="SimConfig or a mapping"):
        sim.run(42)


def test_default_run_is_valid():
    """The default config (100 corporations, 30 solvers) runs a few rounds cleanly."""
    cfg = sim.SimConfig.from_dict({"rounds": 3})
    result = sim.run(cfg)
    assert result.rounds["corporations_active"].iloc[0] == 100
    assert result.rounds["efficiency"].between(0, 1 + 1e-6).all()
    assert isinstance(result.trades, pd.DataFrame)


def test_encryption_switch_and_cost_scale():
    encrypted = MarketModel(tiny_config(rounds=1))
    doubled = MarketModel(tiny_config(rounds=1, crypto={"cost_scale": 2.0}))
    plain = MarketModel(tiny_config(rounds=1, crypto={"encryption": False, "leakage_cost": 0.7}))
    assert doubled.seconds_per_unit == pytest.approx(2 * encrypted.seconds_per_unit)
    assert plain.seconds_per_unit < 1e-3 * encrypted.seconds_per_unit  # training in the clear
    corps = plain.active(Corporation)
    assert not any(c.intent.require_fhe or c.intent.require_proof for c in corps)
    # the same draws otherwise: only the crypto terms of the intents differ
    for a, b in zip(encrypted.active(Corporation), corps, strict=True):
        assert a.intent.min_price == b.intent.min_price and a.sharing_cost == b.sharing_cost
    rm = plain.draw_market()
    np.testing.assert_allclose(
        rm.cost, np.array([c.costs(rm.tasks.industry) for c in rm.corporations]) + 0.7
    )


def _small(seed: int, rounds: int, mechanism: str = "dutch") -> SimConfig:
    homogeneous = mechanisms.mechanism_class(mechanism).properties["markets"] == "homogeneous"
    return SimConfig.from_dict(
        {
            "seed": seed,
            "rounds": rounds,
            "mechanism": {"name": mechanism},
            "market": {
                "n_corporations": 12,
                "n_solvers": 4,
                "n_industries": 3,
                "homogeneous": homogeneous,
            },
        }
    )


def test_a_market_emptied_by_exits_still_clears():
    """``market=small seed=0``: exits empty a side of the market by round 17."""
    rounds = sim.run(_small(0, 20)).rounds
    assert len(rounds) == 20
    emptied = (rounds["corporations_active"] == 0) | (rounds["solvers_active"] == 0)
    assert emptied.any()
    assert (rounds.loc[emptied, "volume"] == 0).all()


@pytest.mark.slow
@pytest.mark.parametrize("mechanism", mechanisms.available())
def test_small_markets_finish_under_every_mechanism(mechanism):
    for seed in range(12):
        assert len(sim.run(_small(seed, 50, mechanism)).rounds) == 50


def test_competitor_and_initial_population_columns_match_the_trades():
    config = SimConfig.from_dict(
        {
            "seed": 4,
            "rounds": 8,
            "market": {"n_corporations": 30, "n_solvers": 8, "n_industries": 2,
                       "competitor_premium": 0.0},
            "agents": {"corporation_arrival_rate": 0.3},
        }
    )  # fmt: skip
    result = sim.run(config)
    rounds, trades, agents = result.rounds, result.trades, result.agents
    rival = trades[trades["seller_industry"] == trades["task_industry"]]
    assert len(rival) > 0 and len(rival) < len(trades)  # both kinds of trade happen
    expected = rival.groupby("round")["units"].sum().reindex(rounds["round"], fill_value=0)
    np.testing.assert_allclose(rounds["competitor_volume"], expected.to_numpy())
    sellers = rival.groupby("round")["seller"].nunique().reindex(rounds["round"], fill_value=0)
    assert (rounds["competitor_sellers"].to_numpy() == sellers.to_numpy()).all()
    initial = agents[(agents["kind"] == "corporation") & (agents["entered"] == 0)]["agent"]
    assert len(initial) == 30 and agents["entered"].max() > 0  # newcomers do not count
    shared = trades[trades["seller"].isin(initial)].groupby("round")["seller"].nunique()
    expected = shared.reindex(rounds["round"], fill_value=0).to_numpy() / 30
    np.testing.assert_allclose(rounds["initial_sharing"], expected)
    assert rounds["initial_active"].iloc[0] == 1.0
    assert (rounds["initial_sharing"] <= rounds["initial_active"]).all()
