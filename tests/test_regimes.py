"""Incentive regimes: the contract for each, and a new regime composed in this one file."""

from __future__ import annotations

import pytest

import sim
from sim import ConfigError, SimConfig, regimes
from tests.regime_contract import RegimeContract


class TestIntentMarket(RegimeContract):
    name = "intent_market"


class TestYuma(RegimeContract):
    name = "yuma"


@pytest.fixture(autouse=True, scope="module")
def priced_yuma():
    """A new regime, registered while this module's tests run: Yuma's reward rule on top of
    the priced data market."""

    class PricedYuma(regimes.Regime):
        name = "priced_yuma"
        market_rule = regimes.PricedMarket
        reward_rule = regimes.YumaRewards

    yield PricedYuma
    regimes.registry.unregister(PricedYuma.name)


class TestPricedYuma(RegimeContract):
    name = "priced_yuma"


def test_a_composed_regime_runs_from_a_config():
    config = SimConfig.from_dict(
        {
            "seed": 3,
            "rounds": 6,
            "market": {"n_corporations": 14, "n_solvers": 5, "n_industries": 3},
            "incentives": {"regime": "priced_yuma"},
        }
    )
    result = sim.run(config)
    rounds = result.rounds
    assert (rounds["incentives"] == "priced_yuma").all()
    assert (rounds["mechanism"] == "dutch").all()
    assert rounds["seller_revenue"].sum() > 0  # corporations are paid for data
    assert rounds["tokens_corporations"].sum() == 0  # but earn no tokens under Yuma's rule
    assert rounds["tokens_solvers"].sum() > 0
    assert result.trades["proof_verified"].notna().all()  # the priced market verifies


def test_unknown_regime_is_a_config_error_listing_the_registry():
    with pytest.raises(ConfigError, match=r"incentives.regime: 'bitcoin' not allowed, allowed: "):
        SimConfig.from_dict({"incentives": {"regime": "bitcoin"}})
    with pytest.raises(ValueError, match="unknown regime 'bitcoin'; allowed: intent_market"):
        regimes.get("bitcoin")


def test_a_regime_name_is_registered_once():
    with pytest.raises(ValueError, match="registered twice"):

        class Again(regimes.Regime):
            name = "yuma"
            market_rule = regimes.OpenData
            reward_rule = regimes.YumaRewards
