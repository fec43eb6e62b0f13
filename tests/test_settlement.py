"""Settlement keeps every mechanism's individual rationality, rejected trades included."""

from __future__ import annotations

import numpy as np
import pytest

import mechanisms
from sim.model import MarketModel
from sim.round import settlement
from tests.conftest import detection_file, tiny_config

IR_MECHANISMS = [
    name
    for name in mechanisms.available()
    if mechanisms.mechanism_class(name).properties["individually_rational"]
]


def _settlements(monkeypatch, mechanism: str, rounds: int = 12):
    """Run a market with poisoners caught by quality proofs (so trades are rejected) and
    record each round's reported market, settlement and money moved per agent."""
    homogeneous = mechanisms.mechanism_class(mechanism).properties["markets"] == "homogeneous"
    config = tiny_config(
        seed=4,
        rounds=rounds,
        mechanism={"name": mechanism},
        market={"n_corporations": 20, "n_solvers": 6, "homogeneous": homogeneous},
        agents={"adversaries": {"poisoner": 0.4}},
        incentives={"data_value": {"method": "units"}},
    )
    model = MarketModel(config)
    settle, seen = settlement.settle, []

    def recorded(model, rm, outcome):
        ids_c = [c.unique_id for c in rm.corporations]
        ids_s = [s.unique_id for s in rm.solvers]
        before_c = model.ledger.balances("money", ids_c)
        before_s = model.ledger.balances("money", ids_s)
        settled = settle(model, rm, outcome)
        received = model.ledger.balances("money", ids_c) - before_c
        paid = before_s - model.ledger.balances("money", ids_s)
        seen.append((rm.reported, settled, received, paid))
        return settled

    monkeypatch.setattr(settlement, "settle", recorded)
    for _ in range(rounds):
        model.step()
    return seen


@pytest.mark.parametrize("mechanism", IR_MECHANISMS)
def test_no_buyer_pays_above_its_bids_nor_seller_gets_below_its_asks(monkeypatch, mechanism):
    seen = _settlements(monkeypatch, mechanism)
    rejected = sum(settled.rejected for _, settled, _, _ in seen)
    assert rejected > 0  # the property is tested where refunds happen
    for reported, settled, received, paid in seen:
        x = settled.accepted
        worth = (reported.bid_matrix() * x).sum(axis=0)
        cost = (reported.ask_matrix() * x).sum(axis=1)
        np.testing.assert_array_less(paid, worth + 1e-9 * (1 + worth))
        np.testing.assert_array_less(cost, received + 1e-9 * (1 + cost))


def _rates_model(tmp_path, **crypto):
    rates = {
        ("quality_proof", "label_flip", 0.0): 0.1,
        ("quality_proof", "label_flip", 0.25): 0.3,
        ("quality_proof", "label_flip", 0.5): 0.7,
        ("evaluation_proof", "honest", 0.0): 0.2,
        ("evaluation_proof", "random", 0.0): 0.6,
    }
    config = tiny_config(
        seed=9,
        market={"n_corporations": 40, "n_solvers": 12, "n_industries": 3,
                "proof_capable_prob": 0.5},
        agents={"adversaries": {"poisoner": 0.4, "poison_quality": 0.3, "lazy": 0.5}},
        incentives={"verification": {"detection": detection_file(rates, tmp_path)}},
        crypto=crypto,
    )  # fmt: skip
    return MarketModel(config)


def test_proof_outcomes_are_drawn_at_the_measured_rates(tmp_path):
    """Each seller's and solver's rejection frequency over many draws is within four
    standard errors of the table's rate at its attack strength; a solver that cannot prove
    is never rejected by a proof."""
    model = _rates_model(tmp_path)
    rm = model.draw_market()
    draws = 2000
    outcomes = [settlement.proof_outcomes(model, rm) for _ in range(draws)]
    data = np.mean([o.data_rejected for o in outcomes], axis=0)
    solver = np.mean([o.model_rejected for o in outcomes], axis=0)
    flipped = np.array([
        (1 - c.true_quality / c.quality) / 2 if c.adversary == "poisoner" else 0.0
        for c in rm.corporations
    ])  # fmt: skip
    expected_data = np.interp(flipped, [0, 0.25, 0.5], [0.1, 0.3, 0.7])
    capable = np.array([s.proof_capable for s in rm.solvers])
    lazy = np.array([s.adversary == "lazy" for s in rm.solvers])
    expected_solver = np.where(capable, np.where(lazy, 0.6, 0.2), 0.0)
    assert (flipped > 0).sum() >= 5 and (capable & lazy).any() and (capable & ~lazy).any()
    for seen, rate in ((data, expected_data), (solver, expected_solver)):
        tolerance = 4 * np.sqrt(rate * (1 - rate) / draws)
        assert np.all(np.abs(seen - rate) <= tolerance), (seen, rate)
    assert not solver[~capable].any()


def test_without_encryption_no_proof_outcome_rejects(tmp_path):
    model = _rates_model(tmp_path, encryption=False)
    rm = model.draw_market()
    for _ in range(200):
        outcome = settlement.proof_outcomes(model, rm)
        assert not outcome.data_rejected.any() and not outcome.model_rejected.any()
