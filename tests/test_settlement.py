"""Settlement keeps every mechanism's individual rationality, rejected trades included."""

from __future__ import annotations

import numpy as np
import pytest

import mechanisms
from sim.model import MarketModel
from sim.round import settlement
from tests.conftest import tiny_config

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
