"""Incentive regimes: the contract for each, and the crossed regimes at work."""

from __future__ import annotations

import pytest

import sim
from sim import ConfigError, SimConfig, regimes
from tests.regime_contract import RegimeContract


class TestIntentMarket(RegimeContract):
    name = "intent_market"


class TestYuma(RegimeContract):
    name = "yuma"


class TestPricedYuma(RegimeContract):
    name = "priced_yuma"


class TestOpenDataRewards(RegimeContract):
    name = "open_data_rewards"


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


def test_open_data_with_data_value_rewards_pays_tokens_but_no_money_for_data():
    config = SimConfig.from_dict(
        {
            "seed": 3,
            "rounds": 6,
            "market": {"n_corporations": 14, "n_solvers": 5, "n_industries": 3},
            "incentives": {"regime": "open_data_rewards", "yuma": {"open_data_prob": 0.6}},
        }
    )
    result = sim.run(config)
    rounds = result.rounds
    assert (rounds["mechanism"] == "open_data").all()
    assert rounds["volume"].sum() > 0 and rounds["seller_revenue"].sum() == 0
    assert rounds["tokens_corporations"].sum() > 0  # data value earns tokens
    assert result.trades["proof_verified"].isna().all()  # open data is not verified


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
