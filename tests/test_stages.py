"""Each stage of a round, called alone on a hand-built 2 x 2 round (sim/round/)."""

from __future__ import annotations

import numpy as np
import pytest

import mechanisms
from agents import Corporation, Intent, Solver
from sim.model import MarketModel
from sim.round import adaptation, enforcement, market, recording, settlement, work
from sim.round.records import Observations, RoundMarket, Trades
from sim.tasks import Tasks
from tests.conftest import perfect_detection, tiny_config

COST = np.array([[1.0, 2.0], [1.5, 1.0]])
VALUE = np.array([[3.0, 3.5], [2.5, 3.0]])


def two_by_two(**overrides) -> tuple[MarketModel, RoundMarket]:
    """Two corporations (industries 0 and 1) and two solvers whose tasks serve industries 0
    and 1, truthful reports equal to the true costs and values, every pair allowed."""
    agents = {"corporation_arrival_rate": 0.0, "solver_arrival_rate": 0.0}
    population = {"n_corporations": 2, "n_solvers": 2, "n_industries": 2}
    incentives = overrides.pop("incentives", {})
    verification = {"detection": perfect_detection(), **incentives.pop("verification", {})}
    config = tiny_config(
        market={**population, **overrides.pop("market", {})},
        agents={**agents, **overrides.pop("agents", {})},
        incentives={**incentives, "verification": verification},  # sound proofs
        **overrides,
    )
    model = MarketModel(config)
    corps, solvers = model.active(Corporation), model.active(Solver)
    kinds = frozenset(config.market.task_kinds)
    for k, corp in enumerate(corps):
        corp.industry, corp.adversary = k, None
        corp.intent = Intent(allowed_kinds=kinds, require_fhe=False, expiry=100)
    for solver in solvers:
        solver.adversary = None
    supply, capacity = np.array([10.0, 10.0]), np.array([8.0, 8.0])
    true = mechanisms.Market(supply, capacity, COST, VALUE, np.ones((2, 2), bool))
    rm = RoundMarket(
        corporations=corps,
        solvers=solvers,
        tasks=Tasks(kind=np.array([0, 0]), industry=np.array([0, 1]), fee=np.array([4.0, 4.0])),
        cost=COST,
        value=VALUE,
        quality=np.array([0.8, 0.9]),
        true_quality=np.array([0.8, 0.9]),
        eligible=np.ones(2, bool),
        processing_cost=np.array([0.1, 0.2]),
        fhe=np.ones(2, bool),
        proof=np.ones(2, bool),
        compatible=np.ones((2, 2), bool),
        supply=supply,
        capacity=capacity,
        reported=true,
        true=true,
    )
    return model, rm


DIAGONAL = np.array([[5.0, 0.0], [0.0, 5.0]])


def money(model, agents):
    return model.ledger.balances("money", [a.unique_id for a in agents])


def test_market_stage_draws_truthful_reports_and_drops_ineligible_solvers():
    model, _ = two_by_two(incentives={"staking": {"solver_min_stake": 1e6}})
    rm = market.draw_market(model)
    assert rm.reported.shape == rm.true.shape == (2, 2)
    assert not rm.eligible.any() and not rm.capacity.any()  # nobody stakes a million
    model, _ = two_by_two()
    rm = market.draw_market(model)
    np.testing.assert_allclose(rm.reported.ask_matrix(), rm.true.ask_matrix())  # truthful
    assert rm.capacity.all()


def test_settlement_pays_accepted_trades_and_refunds_a_rejected_one_at_its_own_price():
    model, rm = two_by_two()
    rm.corporations[1].intent = Intent(
        allowed_kinds=frozenset(model.config.market.task_kinds),
        excluded_industries=frozenset({1}),  # solver 1's task serves its industry
        require_fhe=False,
        expiry=100,
    )
    # first-price style: each trade its own prices
    outcome = mechanisms.Outcome.priced(DIAGONAL, np.array([[1.0, 0], [0, 1.2]]), VALUE)
    before_c, before_s = money(model, rm.corporations), money(model, rm.solvers)
    settled = settlement.settle(model, rm, outcome)
    np.testing.assert_array_equal(settled.accepted, [[5.0, 0.0], [0.0, 0.0]])
    assert settled.rejected == 1
    np.testing.assert_allclose(money(model, rm.corporations) - before_c, [5.0, 0.0])
    np.testing.assert_allclose(before_s - money(model, rm.solvers), [15.0, 0.0])  # refunded
    rejected = model.rejected_frame()
    assert list(rejected["reason"]) == ["industry_excluded"]
    assert rejected["buyer_price"].iloc[0] == pytest.approx(3.0)
    assert model.ledger.balance("money", "escrow") == pytest.approx(0.0)


def test_settlement_rejects_a_buyer_that_cannot_pay():
    model, rm = two_by_two(market={"money_endowment": 1.0})
    outcome = mechanisms.Outcome.uniform_price(DIAGONAL, 2.0)
    settled = settlement.settle(model, rm, outcome)
    assert not settled.accepted.any()
    assert list(model.rejected_frame()["reason"]) == ["insufficient_funds"] * 2


def test_verification_catches_a_poisoner_by_its_quality_proof():
    model, rm = two_by_two()
    rm = rm._replace(true_quality=np.array([0.3, 0.9]))  # corporation 0 claims 0.8
    rm.corporations[0].adversary = "poisoner"
    alloc = DIAGONAL.copy()
    reasons: dict = {}
    found = settlement.verify(model, rm, Trades.of(alloc), reasons)
    assert reasons == {(0, 0): "failed_quality_proof"}
    assert found.detected["poisoner"] == 1 and found.caught_corporations[0] == 1


def test_work_stage_trains_models_and_moves_fees_and_compute_costs():
    model, rm = two_by_two()
    settled = settlement.settle(model, rm, mechanisms.Outcome.uniform_price(DIAGONAL, 2.0))
    accuracy = work.train_models(model, rm, settled)
    assert accuracy.shape == (2,) and np.all((accuracy >= 0) & (accuracy <= 1))
    before = money(model, rm.solvers)
    work.execute(model, rm, settled)
    fees = rm.tasks.fee * (rm.quality @ settled.accepted)
    np.testing.assert_allclose(money(model, rm.solvers) - before, fees - 5 * rm.processing_cost)
    assert work.run_ground_truth(model, rm, settled).size == 0  # rate 0: no real job


def test_enforcement_mints_the_emission_slashes_and_updates_reputation():
    model, rm = two_by_two(
        incentives={"data_value": {"method": "units"}, "staking": {"corporation_stake": 10.0}}
    )
    settled = settlement.settle(model, rm, mechanisms.Outcome.uniform_price(DIAGONAL, 2.0))
    issued = model.issued
    rewards = enforcement.mint_rewards(model, rm, settled, np.array([0.7, 0.7]))
    emission = model.config.incentives.emission.amount(model.round)
    minted = rewards.corporations.sum() + rewards.solvers.sum() + rewards.validators.sum()
    assert minted == pytest.approx(emission) and model.issued == pytest.approx(issued + emission)
    shares = rm.quality * settled.accepted.sum(axis=1)  # data value by units
    np.testing.assert_allclose(rewards.corporations, 0.4 * emission * shares / shares.sum())
    caught = settled._replace(caught_corporations=np.array([1.0, 0.0]))
    stake = rm.corporations[0].stake
    assert stake == 10.0
    slashing = enforcement.slash(model, rm, caught)
    assert slashing.corporations[0] == pytest.approx(0.5 * stake)
    assert slashing.burned == pytest.approx(0.5 * stake)
    enforcement.update_reputation(model, rm, caught)
    reputation = model.reputation.value([c.unique_id for c in rm.corporations])
    # one trade each; corporation 0's also failed: (1 + 1) / (2 + 2) vs (1 + 1) / (1 + 2)
    np.testing.assert_allclose(reputation, [0.5, 2 / 3])


def test_enforcement_measures_what_a_poisoner_took():
    model, rm = two_by_two()
    rm = rm._replace(true_quality=np.array([0.3, 0.9]))  # corporation 0 claims 0.8
    rm.corporations[0].adversary = "poisoner"
    settled = settlement.settle(model, rm, mechanisms.Outcome.uniform_price(DIAGONAL, 2.0))
    rewards = enforcement.mint_rewards(model, rm, settled, np.array([0.7, 0.7]))
    taken = enforcement.extracted(model, rm, settled, rewards)
    assert settled.accepted[0, 0] == 0  # caught by its quality proof: nothing taken
    assert taken["poisoner"] == 0.0
    unverified = settled.with_accepted(DIAGONAL)
    taken = enforcement.extracted(model, rm, unverified, rewards)
    assert taken["poisoner"] == pytest.approx((0.8 - 0.3) * 4.0 * 5.0)


def test_adaptation_updates_utilities_and_lets_agents_below_their_outside_option_exit():
    model, rm = two_by_two(agents={"grace_rounds": 0})
    settled = settlement.settle(model, rm, mechanisms.Outcome.uniform_price(DIAGONAL, 2.0))
    rewards = enforcement.mint_rewards(model, rm, settled, np.array([0.7, 0.7]))
    slashing = enforcement.slash(model, rm, settled)
    gains = np.array([10.0, -10.0, 10.0, -10.0])  # money made, corporations then solvers
    exited = adaptation.adapt(model, rm, settled, rewards, slashing, gains)
    assert exited == (1, 1)
    assert rm.corporations[1].exited == model.round and rm.solvers[1].exited == model.round
    assert rm.corporations[0].exited is None
    assert all(a.units_traded == 5.0 for a in rm.corporations + rm.solvers)


def test_records_stage_writes_the_round_row_from_the_stages_results():
    model, rm = two_by_two()
    outcome = mechanisms.Outcome.uniform_price(DIAGONAL, 2.0)
    settled = settlement.settle(model, rm, outcome)
    rewards = enforcement.mint_rewards(model, rm, settled, np.array([0.7, 0.7]))
    slashing = enforcement.slash(model, rm, settled)
    nothing = dict.fromkeys(("poisoner", "sybil", "lazy", "colluder"), 0.0)
    welfare = recording.realized_welfare(rm, settled)
    optimal = recording.optimal_welfare(model, rm, welfare)
    observed = Observations((0, 0), (0, 0), np.array([0.6, 0.8]), 0, nothing, welfare, optimal)
    row = recording.round_row(model, rm, outcome, settled, rewards, slashing, observed)
    assert row.welfare == pytest.approx(5 * (3.0 - 1.0) + 5 * (3.0 - 1.0))
    best = mechanisms.welfare.optimum(rm.true, solver="HIGHS").info["welfare"]
    assert row.optimal_welfare == pytest.approx(best)
    assert row.efficiency <= 1.0
    assert row.price == 2.0 and row.volume == 10.0 and row.trades == 2
    assert row.model_accuracy == pytest.approx(0.7)
    recording.record_trades(model, rm, settled, np.zeros(0, int))
    trades = model.trades_frame()
    assert list(trades["units"]) == [5.0, 5.0] and set(trades["price"]) == {2.0}


def test_arrivals_grow_with_the_other_side_of_the_market():
    from sim import population

    model, _ = two_by_two(agents={"corporation_arrival_rate": 3.0, "solver_arrival_rate": 3.0})
    before = len(model.active(Corporation)), len(model.active(Solver))
    arrived = population.arrivals(model)
    assert arrived[0] > 0 and arrived[1] > 0
    after = len(model.active(Corporation)), len(model.active(Solver))
    assert after == (before[0] + arrived[0], before[1] + arrived[1])
    empty, _ = two_by_two(agents={"corporation_arrival_rate": 3.0})
    for solver in empty.active(Solver):
        solver.exited = 0  # with no solvers, no corporation is pulled in
    assert population.arrivals(empty)[0] == 0


@pytest.mark.parametrize("regime", ["intent_market", "yuma"])
def test_clearing_stage_is_the_regime_market_rule(regime):
    model, rm = two_by_two(incentives={"regime": regime})
    for corp in rm.corporations:
        corp.open_data = True
    outcome = model.regime.market.clear(model, rm)
    if regime == "yuma":  # open data at price 0 to the solvers that value it
        assert outcome.price == 0.0 and outcome.volume == pytest.approx(16.0)
    else:  # the Dutch clock on truthful reports: every pair can gain
        assert outcome.price is not None and outcome.volume == pytest.approx(16.0)
        assert (outcome.seller_revenue >= (COST * outcome.allocation).sum(axis=1) - 1e-9).all()
