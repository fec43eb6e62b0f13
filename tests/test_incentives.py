import math

import numpy as np
import pytest

import sim
from agents import Corporation, Solver, Validator
from sim import MarketModel, SimConfig
from sim.config import EmissionConfig
from sim.incentives import BetaReputation
from sim.ledger import MINT, STAKE
from sim.regimes import YumaBonds
from sim.round.records import Trades
from tests.conftest import perfect_detection, tiny_config

NO_CHECKS = {
    "quality_proof": False,
    "evaluation_proof": False,
    "audit_rate": 0.0,
    "identity_check": False,
    "bid_screen": False,
}


def test_emission_schedules():
    assert EmissionConfig(initial=80).amount(40) == 80
    assert EmissionConfig(schedule="decay", initial=100, rate=0.1).amount(10) == pytest.approx(
        100 * math.exp(-1)
    )
    halving = EmissionConfig(schedule="halving", initial=64, halving_rounds=5)
    assert [halving.amount(r) for r in (0, 4, 5, 10, 14)] == [64, 64, 32, 16, 16]


def test_simulation_mints_by_the_schedule():
    cfg = tiny_config(
        rounds=8,
        incentives={
            "emission": {"schedule": "halving", "initial": 40, "halving_rounds": 3},
            # units: every seller's value is positive, so the data providers' part is minted
            # in every round with trade (a round in which no seller's data raised any solver's
            # model mints no data providers' part)
            "data_value": {"method": "units"},
        },
    )
    rounds = sim.run(cfg).rounds
    traded = rounds["volume"] > 0
    expected = 40 * 0.5 ** (rounds["round"] // 3)
    np.testing.assert_allclose(rounds.loc[traded, "emission"], expected[traded])
    assert (rounds.loc[~traded, "emission"] == 0).all()


def test_beta_reputation_counts_decay():
    rep = BetaReputation(decay=0.5)
    assert rep.value([1]) == pytest.approx(0.5)  # never verified
    rep.update([1, 2], np.array([3, 0]), np.array([0, 2]))
    np.testing.assert_allclose(rep.value([1, 2]), [4 / 5, 1 / 4])
    rep.update([1, 2], np.array([0, 0]), np.array([1, 0]))  # counts halve, then add
    np.testing.assert_allclose(rep.value([1, 2]), [2.5 / 4.5, 1 / 3])


def test_yuma_bonds_follow_solvers_by_id():
    bonds = YumaBonds()
    bonds.store([10, 11], np.array([[0.1, 0.2], [0.3, 0.4]]))
    np.testing.assert_allclose(bonds.aligned(2, [11, 12]), [[0.2, 0.0], [0.4, 0.0]])


def _adversary_totals(kind, design, rounds=10, seed=1):
    share = {"poisoner": 0.4, "sybil": 0.4, "lazy": 0.4, "colluder": 0.5}[kind]
    cfg = tiny_config(
        seed=seed,
        rounds=rounds,
        market={"proof_capable_prob": 1.0},  # every solver can prove (else proofs miss some)
        agents={"adversaries": {kind: share}},
        incentives={
            "verification": {**NO_CHECKS, **design, "detection": perfect_detection()},
            "staking": {"corporation_stake": 20},
        },
    )
    result = sim.run(cfg)
    table = result.adversaries.groupby("adversary")[["attempts", "detected", "extracted"]].sum()
    return table.loc[kind], result


@pytest.mark.parametrize(
    ("kind", "catches"),
    [
        ("poisoner", {"quality_proof": True}),
        ("poisoner", {"audit_rate": 1.0}),
        ("lazy", {"evaluation_proof": True}),
        ("lazy", {"audit_rate": 1.0}),
        ("sybil", {"identity_check": True}),
        ("colluder", {"bid_screen": True, "screen_margin": 0.1}),
    ],
)
def test_each_adversary_is_caught_only_by_a_design_that_should_catch_it(kind, catches):
    caught, result = _adversary_totals(kind, catches)
    assert caught["attempts"] > 0
    assert caught["detected"] > 0
    if kind != "colluder":  # proofs, audits of every trade and identity checks are sound
        assert caught["detected"] == caught["attempts"]
    assert result.rounds["slashed"].sum() > 0
    missed, _ = _adversary_totals(kind, {})
    assert missed["attempts"] > 0
    assert missed["detected"] == 0
    assert missed["extracted"] > 0


def test_every_slashing_is_a_detection_or_a_misflag_of_the_kind_slashed():
    """A lazy solver the bid screen flags is slashed for a low bid, not for laziness: the
    adversaries table counts that trade as misflagged, and honest agents have their row."""
    result = sim.run(
        SimConfig.from_dict(
            {
                "seed": 1,
                "rounds": 12,
                "market": {"n_corporations": 60, "n_solvers": 15},
                "agents": {"adversaries": {"lazy": 0.3, "colluder": 0.2}},
                "incentives": {"verification": {**NO_CHECKS, "bid_screen": True}},
            }
        )
    )
    table = result.adversaries
    assert set(table["adversary"]) == {"honest", *sim.config.ADVERSARIES}
    slashed = table[table["slashed"] > 0]
    assert (slashed["detected"] + slashed["misflagged"] > 0).all()
    per_round = table.groupby("round")["misflagged"].sum()
    assert per_round.tolist() == result.rounds["false_positives"].tolist()
    lazy = table[table["adversary"] == "lazy"].sum(numeric_only=True)
    assert lazy["detected"] == 0 < lazy["misflagged"] and lazy["slashed"] > 0
    honest = table[table["adversary"] == "honest"].sum(numeric_only=True)
    assert honest["attempts"] == honest["extracted"] == 0


def test_caught_cheaters_lose_stake_reputation_and_trades():
    model = MarketModel(
        tiny_config(
            rounds=8,
            market={"proof_capable_prob": 1.0},
            agents={"adversaries": {"poisoner": 0.4, "lazy": 0.4}},
            incentives={
                "staking": {"corporation_stake": 20},
                "verification": {"detection": perfect_detection()},  # sound proofs
            },
        )
    )
    for _ in range(model.config.rounds):
        model.step()
    agents = model.agents_frame()
    rejected = model.rejected_frame()
    assert "failed_quality_proof" in set(rejected["reason"])
    poisoners = agents[agents["adversary"] == "poisoner"]
    honest = agents[(agents["kind"] == "corporation") & (agents["adversary"] == "")]
    assert poisoners["stake"].min() < 20 and honest["stake"].eq(20).all()
    assert poisoners["reputation"].mean() < honest["reputation"].mean()
    trades = model.trades_frame()
    assert not trades["seller"].isin(poisoners["agent"]).any()  # every delivery refunded
    lazy = agents[agents["adversary"] == "lazy"]
    assert lazy["reputation"].max() < agents.loc[agents["kind"] == "solver", "reputation"].max()
    assert not trades.loc[trades["buyer"].isin(lazy["agent"]), "proof_verified"].any()


def test_reputation_threshold_keeps_caught_solvers_out():
    cfg = tiny_config(
        rounds=10,
        market={"proof_capable_prob": 1.0},
        agents={"adversaries": {"lazy": 0.4}},
        incentives={
            "reputation": {"min_to_bid": 0.45},
            "verification": {"detection": perfect_detection()},
        },
    )
    model = MarketModel(cfg)
    for _ in range(cfg.rounds):
        model.step()
    lazy_ids = {s.unique_id for s in model.agents_by_type[Solver] if s.adversary == "lazy"}
    trades = model.trades_frame()
    late = trades[trades["round"] >= 5]
    assert trades["buyer"].isin(lazy_ids).any()  # they traded before they were caught
    assert not late["buyer"].isin(lazy_ids).any()


@pytest.mark.parametrize("slashed_to", ["burn", "redistribute"])
def test_ledger_balances_with_slashing(slashed_to):
    cfg = tiny_config(
        rounds=8,
        agents={"adversaries": {"poisoner": 0.3, "sybil": 0.2, "lazy": 0.3, "colluder": 0.3}},
        incentives={
            "verification": {"identity_check": True, "bid_screen": True},
            "staking": {"corporation_stake": 15, "slashed_to": slashed_to},
        },
    )
    model = MarketModel(cfg)
    for _ in range(cfg.rounds):
        model.step()  # the ledger is checked every round
    rounds, agents = model.rounds_frame(), model.agents_frame()
    slashed = rounds["slashed"].sum()
    assert slashed > 0
    ledger = model.ledger
    assert ledger.balance("tokens", STAKE) == pytest.approx(agents["stake"].sum())
    assert agents["tokens"].sum() == pytest.approx(
        rounds["emission"].sum() + (slashed if slashed_to == "redistribute" else 0.0)
    )
    burned = rounds["burned"].sum()
    assert burned == pytest.approx(slashed if slashed_to == "burn" else 0.0)
    issued = agents["stake"].sum() + agents["tokens"].sum()
    assert -ledger.balance("tokens", MINT) == pytest.approx(issued)


def test_shapley_rewards_pay_poisoned_data_less_than_claimed_units_do():
    def poisoner_tokens(method):
        model = MarketModel(
            tiny_config(
                rounds=4,
                agents={"adversaries": {"poisoner": 0.4}},
                incentives={"verification": NO_CHECKS, "data_value": {"method": method}},
            )
        )
        for _ in range(model.config.rounds):
            model.step()
        agents = model.agents_frame()
        corps = agents[agents["kind"] == "corporation"]
        bad = corps["adversary"] == "poisoner"
        per_unit = corps["tokens"] / corps["units_traded"].where(corps["units_traded"] > 0)
        return per_unit[bad].mean(), per_unit[~bad].mean()

    bad_units, good_units = poisoner_tokens("units")
    bad_shapley, good_shapley = poisoner_tokens("shapley")
    assert bad_units / good_units > bad_shapley / good_shapley


def test_revenue_share_moves_fees_to_sellers():
    model = MarketModel(
        tiny_config(rounds=1, incentives={"token_price": 0.0, "revenue_share": 0.2})
    )
    model.step()
    rounds, trades = model.rounds_frame(), model.trades_frame()
    fees = (trades["fee"] * trades["seller_quality"] * trades["units"]).sum()
    assert rounds.loc[0, "revenue_shared"] == pytest.approx(0.2 * fees)
    sellers = {c.unique_id: c for c in model.agents_by_type[Corporation]}
    earned = sum(c.utility_total for c in sellers.values())
    from_prices = ((trades["price"] - trades["true_cost"]) * trades["units"]).sum()
    assert earned == pytest.approx(from_prices + 0.2 * fees)


def test_yuma_pays_no_data_and_splits_between_solvers_and_validators():
    cfg = tiny_config(
        rounds=6,
        incentives={"regime": "yuma", "yuma": {"validator_share": 0.3, "open_data_prob": 0.5}},
    )
    result = sim.run(cfg)
    rounds = result.rounds
    assert (rounds["tokens_corporations"] == 0).all()
    np.testing.assert_allclose(rounds["tokens_validators"], 0.3 * 100)
    np.testing.assert_allclose(rounds["tokens_solvers"], 0.7 * 100)
    assert (rounds["seller_revenue"] == 0).all() and (rounds["volume"] > 0).any()
    assert (rounds["detections"] == 0).all()  # no verification under Yuma


def test_yuma_clips_a_minority_cabal_backing_a_lazy_solver():
    def favourite_share(dishonest):
        model = MarketModel(
            tiny_config(
                rounds=6,
                agents={"adversaries": {"lazy": 0.2}},
                incentives={
                    "regime": "yuma",
                    "validators": {
                        "stake_low": 100,
                        "stake_high": 100,
                        "dishonest_share": dishonest,
                    },
                },
            )
        )
        for _ in range(model.config.rounds):
            model.step()
        cabal = [v for v in model.agents_by_type[Validator] if not v.honest]
        favourite = cabal[0].favourite if cabal else None
        solvers = model.agents_by_type[Solver]
        lazy = [s.unique_id for s in solvers if s.adversary == "lazy"]
        target = favourite if favourite is not None else lazy[0]
        tokens = {s.unique_id: model.ledger.balance("tokens", s.unique_id) for s in solvers}
        return tokens[target] / sum(tokens.values()), target

    share_minority, target = favourite_share(3 / 8)
    share_majority, _ = favourite_share(5 / 8)
    share_honest, honest_target = favourite_share(0.0)
    assert target == honest_target  # the cabal backs the first lazy solver
    # a minority cabal's full weight is clipped to the honest consensus: the favourite gains
    # only because the cabal's stake backs nobody else (0.18 -> 0.26 of solver tokens here);
    # a majority cabal sets the consensus and takes everything
    assert share_honest <= share_minority < 0.35
    assert share_majority > 0.9


def test_pool_values_are_cached_across_rounds_when_the_data_did_not_change():
    from sim.config import DataValueConfig
    from sim.incentives import DataPool

    pool = DataPool(DataValueConfig(method="exact_shapley", scope="pool"), 6, 3, seed=0)
    for corp in range(4):
        pool.add(corp, corp % 3, 0.9, 8)
    sold = np.ones((4, 1))
    industries = np.zeros(1, int)
    first = pool.values([0, 1, 2, 3], sold, industries, np.random.default_rng(0))
    trained = pool.trained
    assert trained == 16
    again = pool.values([0, 1, 2, 3], sold, industries, np.random.default_rng(1))
    np.testing.assert_allclose(again, first)
    assert pool.trained == trained  # same sellers, same shares: nothing retrained
    changed = np.array([[1], [1], [1], [0.5]])
    pool.values([0, 1, 2, 3], changed, industries, np.random.default_rng(2))
    assert pool.trained == trained + 8  # only coalitions holding the changed seller


def _full_mask_accuracy(pool, owners, shares, industries):
    """Each solver's model the way it was trained before: one mask over every owner's rows."""
    value = pool._value(owners)
    weights = np.vstack([shares, np.ones((1, shares.shape[1]))])  # public rows: all
    k, rows, _ = pool.x_test.shape
    correct = value.correct(value.masks(weights.T)).reshape(-1, k, rows)
    return correct[np.arange(len(industries)), industries].mean(axis=1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_models_on_bought_rows_only_match_the_whole_pool_mask(seed):
    from sim.config import DataValueConfig
    from sim.incentives import DataPool

    rng = np.random.default_rng(seed)
    pool = DataPool(DataValueConfig(), 9, 5, seed=seed)
    n, m = 20, 8
    for corp in range(n):
        pool.add(corp, int(rng.integers(5)), float(rng.uniform(0.3, 1)), 16)
    owners = list(range(n))
    bought = rng.random((n, m)) < 0.2
    shares = np.where(bought, np.where(rng.random((n, m)) < 0.5, 1.0, rng.random((n, m))), 0.0)
    industries = rng.integers(5, size=m)
    compact = pool.model_accuracy(owners, shares, industries)
    full = _full_mask_accuracy(pool, owners, shares, industries)
    # the same models; only float32 summation order differs: at most one test row flips
    assert np.abs(compact - full).max() <= 1 / pool.x_test.shape[1] + 1e-12
    nothing = np.zeros((n, m))  # public rows only: identical
    np.testing.assert_array_equal(
        pool.model_accuracy(owners, nothing, industries),
        _full_mask_accuracy(pool, owners, nothing, industries),
    )


def test_solver_scope_sums_each_sellers_value_over_the_solvers_it_sold_to():
    from crypto.valuation import exact_shapley
    from sim.config import DataValueConfig
    from sim.incentives import DataPool

    pool = DataPool(DataValueConfig(method="exact_shapley"), 9, 3, seed=5)
    for corp in range(5):
        pool.add(10 + corp, corp % 3, 0.5 + 0.1 * corp, 16)
    owners = [10, 11, 12, 13, 14]
    shares = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.0, 1.0, 0.0], [0.3, 0.2, 0.0],
                       [0.0, 0.0, 0.0]])  # fmt: skip
    industries = np.array([0, 2, 1])
    values = pool.values(owners, shares, industries, np.random.default_rng(0))
    expected = np.zeros(5)
    for j in range(2):  # solver 2 bought nothing: no game
        players = np.flatnonzero(shares[:, j] > 0)

        def value(coalitions, players=players, j=j):
            row, column = np.nonzero(np.asarray(coalitions, bool))
            return pool._accuracy(
                row,
                np.asarray(owners)[players[column]],
                shares[players[column], j],
                np.full(len(coalitions), industries[j]),
            )

        expected[players] += exact_shapley(value, len(players))
    np.testing.assert_allclose(values, expected, atol=1e-12)
    assert values[4] == 0.0
    accepted = shares * 10.0  # what the simulation passes: the trades only, sparse
    sparse_shares = DataPool.shares_bought(Trades.of(accepted), np.full(5, 10.0), 3)
    assert sparse_shares.nnz == 6
    again = pool.values(owners, sparse_shares, industries, np.random.default_rng(0))
    np.testing.assert_allclose(again, values, atol=1e-12)
    np.testing.assert_array_equal(
        pool.model_accuracy(owners, sparse_shares, industries),
        pool.model_accuracy(owners, shares, industries),
    )
    some = DataPool.shares_bought(Trades.of(accepted), np.full(5, 10.0), 3, np.array([3, 0]))
    np.testing.assert_allclose(some.toarray(), shares[[3, 0]])


@pytest.mark.parametrize(
    ("data_value", "message"),
    [
        ({"scope": "market"}, "incentives.data_value.scope: 'market' not allowed, allowed: solver"),
        (
            {"estimator": "tmc"},
            "incentives.data_value.estimator: 'tmc' not allowed, allowed: kernel",
        ),
        ({"samples": 0}, "incentives.data_value.samples: 0 not allowed, must be >= 1"),
        ({"exact_players": 17}, r"incentives.data_value.exact_players: 17 not allowed, must be in"),
    ],
)
def test_bad_data_value_settings_are_one_line_errors(data_value, message):
    from sim.config import ConfigError

    with pytest.raises(ConfigError, match=message) as info:
        sim.SimConfig.from_dict({"incentives": {"data_value": data_value}})
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("scope", ["solver", "pool"])
def test_simulation_values_data_under_either_scope(scope):
    model = MarketModel(
        tiny_config(rounds=3, incentives={"data_value": {"scope": scope, "exact_players": 3}})
    )
    for _ in range(model.config.rounds):
        model.step()
    rounds = model.rounds_frame()
    assert (rounds["volume"] > 0).any()
    assert model.pool.trained > 0
    assert np.isfinite(rounds["tokens_corporations"]).all()


@pytest.mark.parametrize("shift", [0.0, 3.0])
def test_industry_shift_sets_how_much_competitors_data_helps(shift):
    from sim.config import DataValueConfig
    from sim.incentives import DataPool

    config = DataValueConfig(public_rows=0, test_rows=400, industry_shift=shift)
    pool = DataPool(config, 6, 2, seed=3)
    pool.add(0, 0, 1.0, 80)  # own industry
    pool.add(1, 1, 1.0, 80)  # the competitor's
    own, other = pool.model_accuracy([0, 1], np.eye(2), np.array([0, 0]))
    if shift == 0:  # one shared distribution: the competitor's rows serve as well
        assert abs(own - other) < 0.05
    else:
        assert own - other > 0.1


def test_simulation_draws_data_with_the_configured_industry_shift():
    model = MarketModel(tiny_config(incentives={"data_value": {"industry_shift": 0.0}}))
    assert not model.pool.data.offsets.any() and not model.pool.data.biases.any()


def _cheaters_run(**sections):
    data = {
        "seed": 5,
        "rounds": 8,
        "market": {"n_corporations": 30, "n_solvers": 10, "proof_capable_prob": 0.5},
        "agents": {"adversaries": {"poisoner": 0.3, "lazy": 0.5}},
        "incentives": {"verification": {"detection": perfect_detection()}},
    }
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value}
    return sim.run(SimConfig.from_dict(data))


def test_a_solver_that_cannot_prove_is_never_caught_by_a_proof():
    result = _cheaters_run()
    trades, agents = result.trades, result.agents
    lazy = trades[trades["buyer"].isin(agents.loc[agents["adversary"] == "lazy", "agent"])]
    assert lazy["proof"].any() and not lazy["proof"].all()  # both kinds of lazy solver trade
    assert (lazy.loc[lazy["proof"], "proof_verified"] == False).all()  # noqa: E712
    assert lazy.loc[~lazy["proof"], "proof_verified"].all()  # no proof, not caught by one
    assert (
        trades["proof_kind"] == np.where(trades["proof"], "quality+evaluation", "quality")
    ).all()
    assert result.rejected["reason"].eq("failed_quality_proof").any()


def test_without_encryption_no_proof_runs_and_none_rejects():
    result = _cheaters_run(crypto={"encryption": False})
    trades = result.trades
    assert len(trades) > 0 and not trades["fhe"].any()
    assert (trades["proof_kind"] == "none").all() and trades["proof_verified"].all()
    assert "failed_quality_proof" not in set(result.rejected["reason"])
    detected = result.adversaries.groupby("adversary")["detected"].sum()
    assert detected["lazy"] == 0 and detected["poisoner"] == 0
    assert result.adversaries.groupby("adversary")["attempts"].sum()["poisoner"] > 0
