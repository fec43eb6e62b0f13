"""The solver-entry study: free-entry equilibria and optima on hand-built curves, the
congestion models on a tiny market, and the solvers' profit with and without tokens."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from experiments import studies
from experiments.run import resolve
from experiments.studies.solver_entry import counts, free_entry, optimum, profits, rise_over_band
from sim import ConfigError, SimConfig
from sim.model import MarketModel
from sim.runner import run
from tests.conftest import perfect_detection, tiny_config
from tests.study_contract import TINY_MARKET, assert_tables_equal, compose_config

# ---------------------------------------------------------------- free entry, optima


def test_a_non_monotone_curve_has_every_equilibrium():
    # profit covers K = 10 up to 9 solvers, not at 10-12, again at 13, not from 14 on
    profit = [30, 25, 20, 18, 16, 14, 12, 11, 10.5, 9, 9.5, 9.8, 10.2, 8, 7, 6, 5, 4, 3, 2]
    assert free_entry(profit, 10.0) == ([9, 13], False)
    assert free_entry(profit, 9.5) == ([9, 13], False)  # profit(10) = 9 < 9.5 = profit(11)
    assert free_entry(profit, 9.0) == ([13], False)  # 9 to 10.2 all cover 9
    assert free_entry(profit, 8.0) == ([14], False)


def test_no_solver_enters_when_the_first_does_not_cover_its_cost():
    assert free_entry([5.0, 3.0, 1.0], 6.0) == ([0], False)
    # and a later rise above K gives a second equilibrium
    assert free_entry([5.0, 7.0, 1.0], 6.0) == ([0, 2], False)


def test_an_equilibrium_at_the_cap_is_censored():
    assert free_entry([5.0, 3.0, 1.0], 0.5) == ([3], True)
    assert free_entry([5.0, 3.0, 1.0], 0.0) == ([3], True)
    assert free_entry([5.0, 1.0, 3.0], 2.0) == ([1, 3], True)


def test_an_entrant_whose_profit_equals_the_cost_enters():
    assert free_entry([5.0, 3.0, 1.0], 3.0) == ([2], False)  # profit(2) = K > profit(3)
    assert free_entry([5.0, 3.0, 1.0], 1.0) == ([3], True)
    assert free_entry([5.0, 3.0, 1.0], 5.0) == ([1], False)


@pytest.mark.parametrize("curve", [[], [1.0, np.nan], [[1.0, 2.0]]])
def test_a_curve_that_is_not_a_finite_row_is_refused(curve):
    with pytest.raises(ValueError, match="finite"):
        free_entry(curve, 1.0)
    with pytest.raises(ValueError, match="finite"):
        optimum(curve)


def test_optimum_includes_no_solver_and_is_censored_at_the_cap():
    assert optimum([1.0, 4.0, 2.0]) == (2, False)
    assert optimum([1.0, 2.0, 4.0]) == (3, True)
    assert optimum([-1.0, -2.0]) == (0, False)  # no market beats a loss
    assert optimum([1.0, 3.0, 3.0]) == (2, False)  # ties go to fewer solvers


def _table(seeds=(0,), **columns) -> pd.DataFrame:
    base = {"congestion": 0.0, "corporations": 10, "solvers": [1, 2, 3],
            "solver_profit": [5.0, 3.0, 1.0], "solver_profit_money": [4.0, 2.0, 0.5],
            "users_surplus": [1.0, 4.0, 2.0], "welfare": [10.0, 12.0, 12.0], "volume": 1.0}  # fmt: skip
    return pd.concat(
        [pd.DataFrame(base | columns | {"seed": seed}) for seed in seeds], ignore_index=True
    )


def test_counts_worked_case():
    found = counts(_table(), (0.0, 2.0, 3.0, 6.0)).set_index("entry_cost")
    # K = 2: the third entrant's profit (1) does not cover it; welfare - N K = 8, 8, 6
    assert found.loc[2.0, "free_entry"] == "2" and found.loc[2.0, "welfare_optimum"] == 1
    # K = 3: with tokens 5, 3, 1 two solvers cover it; in money alone 4, 2, 0.5 only one
    assert found.loc[3.0, "free_entry"] == "2" and found.loc[3.0, "free_entry_money"] == "1"
    assert found.loc[0.0, "free_entry"] == ">=3" and found.loc[0.0, "free_entry_censored"]
    assert found.loc[0.0, "free_entry_max"] == 3 and found.loc[0.0, "welfare_optimum"] == 2
    assert found.loc[6.0, "free_entry"] == "0" and found.loc[6.0, "free_entry_max"] == 0
    assert (found["users_optimum"] == 2).all() and not found["users_optimum_censored"].any()
    assert not found.loc[2.0, "welfare_optimum_censored"]


def test_counts_list_every_equilibrium_with_smallest_and_largest():
    table = _table(solvers=[1, 2, 3, 4], solver_profit=[5.0, 1.0, 3.0, 0.5],
                   solver_profit_money=[5.0, 1.0, 3.0, 0.5], users_surplus=[1.0, 2.0, 3.0, 4.0],
                   welfare=[1.0, 2.0, 3.0, 4.0])  # fmt: skip
    row = counts(table, (2.0,)).iloc[0]
    assert row["free_entry"] == "1, 3"
    assert (row["free_entry_min"], row["free_entry_max"]) == (1, 3)
    assert not row["free_entry_censored"]
    assert row["users_optimum"] == 4 and row["users_optimum_censored"]


def test_counts_on_the_mean_curve_and_per_seed():
    table = pd.concat(
        [_table(seeds=(0,)), _table(seeds=(1,), solver_profit=[5.0, 1.0, 1.0])],
        ignore_index=True,
    )
    mean = counts(table, (2.0,)).iloc[0]  # mean profit 5, 2, 1
    assert mean["free_entry"] == "2" and "seed" not in mean
    per_seed = counts(table, (2.0,), by_seed=True).set_index("seed")
    assert per_seed.loc[0, "free_entry"] == "2" and per_seed.loc[1, "free_entry"] == "1"


def test_counts_refuse_a_curve_with_a_missing_count():
    with pytest.raises(ValueError, match="every solver count"):
        counts(_table().drop(index=1), (1.0,))


def test_rise_over_band():
    flat = pd.DataFrame({"solvers": [1, 1, 2, 2], "seed": [0, 1, 0, 1], "p": [3.0, 1.0, 2.0, 0.0]})
    assert rise_over_band(flat, "p") == 0.0  # never rises
    # means 2 then 2.5, each with half-width t(0.975, 1) * 1 = 12.7: within the bands
    rising = flat.assign(p=[3.0, 1.0, 3.5, 1.5])
    assert rise_over_band(rising, "p") == pytest.approx(0.5 / (2 * 12.706), rel=1e-3)
    single = pd.DataFrame({"solvers": [1, 2], "seed": 0, "p": [1.0, 2.0]})
    assert rise_over_band(single, "p") == np.inf  # a rise with no spread to hide in


# ---------------------------------------------------------------- congestion models


def _first_market(congestion: float, model: str, **market):
    config = tiny_config(
        market={"congestion": congestion, "congestion_model": model, **market},
        agents={"corporation_arrival_rate": 0.0, "solver_arrival_rate": 0.0},
    )
    return MarketModel(config).draw_market()


@pytest.mark.parametrize("homogeneous", [False, True])
def test_effort_congestion_scales_processing_costs_and_keeps_fees(homogeneous):
    plain = _first_market(0.0, "effort", homogeneous=homogeneous)
    crowded = _first_market(0.5, "effort", homogeneous=homogeneous)
    m = len(crowded.solvers)
    np.testing.assert_allclose(crowded.processing_cost, plain.processing_cost * m**0.5)
    np.testing.assert_array_equal(crowded.tasks.fee, plain.tasks.fee)
    extra = (m**0.5 - 1) * plain.processing_cost  # what each unit costs a solver more
    np.testing.assert_allclose(crowded.true.bid, plain.true.bid - extra)  # the planner's values
    if homogeneous:  # truthful bids: one per solver, net of the same cost
        np.testing.assert_allclose(crowded.reported.bid, plain.reported.bid - extra)
    else:
        np.testing.assert_allclose(crowded.value, plain.value - extra[None, :])
        np.testing.assert_array_equal(crowded.true.bid, crowded.value)


def test_fee_dilution_scales_fees_and_keeps_processing_costs():
    plain = _first_market(0.0, "fee_dilution")
    crowded = _first_market(0.5, "fee_dilution")
    m = len(crowded.solvers)
    np.testing.assert_allclose(crowded.tasks.fee, plain.tasks.fee * m**-0.5)
    np.testing.assert_array_equal(crowded.processing_cost, plain.processing_cost)
    np.testing.assert_allclose(
        crowded.value, crowded.true_quality[:, None] * crowded.tasks.fee - plain.processing_cost
    )


def test_without_congestion_both_models_give_the_same_market():
    effort, dilution = _first_market(0.0, "effort"), _first_market(0.0, "fee_dilution")
    np.testing.assert_array_equal(effort.value, dilution.value)
    np.testing.assert_array_equal(effort.tasks.fee, dilution.tasks.fee)


def test_a_bad_congestion_model_is_a_one_line_config_error():
    message = "market.congestion_model: 'crowd' not allowed, allowed: effort, fee_dilution"
    with pytest.raises(ConfigError, match=message) as info:
        SimConfig.from_dict({"market": {"congestion_model": "crowd"}})
    assert info.value.key == "market.congestion_model" and "\n" not in str(info.value)
    with pytest.raises(ConfigError, match=message):
        resolve(compose_config("market.congestion_model=crowd"))


# ---------------------------------------------------------------- profit with and without tokens


@pytest.mark.parametrize("price", [0.05, 0.0])
def test_profit_with_tokens_adds_their_value(price):
    # sound proofs: nobody is slashed, so tokens are only what was minted
    config = tiny_config(
        incentives={"token_price": price, "verification": {"detection": perfect_detection()}}
    )
    result = run(config)
    measured = profits(result)
    solvers = result.agents[result.agents["kind"] == "solver"]
    assert solvers["tokens"].sum() > 0  # solvers earned tokens, so the two can differ
    if price > 0:
        gap = price * solvers["tokens"].mean() / config.rounds  # no slashing in this market
        assert measured["solver_profit"] > measured["solver_profit_money"]
        assert measured["solver_profit"] - measured["solver_profit_money"] == pytest.approx(gap)
    else:
        assert measured["solver_profit"] == pytest.approx(measured["solver_profit_money"])
    corps = result.agents[result.agents["kind"] == "corporation"]
    assert measured["users_surplus"] == pytest.approx(
        (corps["utility_total"] - price * corps["tokens"]).sum() / config.rounds
    )
    assert measured["welfare"] == pytest.approx(result.rounds["welfare"].mean())


# ---------------------------------------------------------------- the study


def test_study_tables_do_not_depend_on_its_workers():
    study = studies.get("solver_entry")
    base, config = resolve(compose_config("experiment=solver_entry", *TINY_MARKET, *study.tiny))
    # the parallel run first: a serial run starts JAX here, after which nothing forks
    parallel = study.run(base, dataclasses.replace(config, workers=2))
    serial = study.run(base, dataclasses.replace(config, workers=1))
    assert_tables_equal(serial, parallel)
    entry = serial["entry"]
    assert set(entry["solvers"]) == {1, 2, 3} and (entry["congestion_model"] == "effort").all()
    assert (entry["solver_profit"] >= entry["solver_profit_money"]).all()
    assert len(serial["seed_counts"]) == len(serial["counts"])  # one seed


def test_bid_screen_estimates_costs_as_congested_so_honest_bids_pass():
    config = SimConfig.from_dict(
        {
            "seed": 2,
            "rounds": 3,
            "market": {"n_corporations": 20, "n_solvers": 8, "congestion": 0.4},
            "incentives": {"verification": {"bid_screen": True}},
        }
    )
    rounds = run(config).rounds
    assert rounds["volume"].sum() > 0
    assert rounds["false_positives"].sum() == 0  # truthful solvers are never flagged


def test_verdict_is_the_mean_overshoot_of_free_entry_per_seed_and_congestion():
    seed_counts = pd.DataFrame(
        {
            "congestion": [0.0, 0.0, 0.0, 0.4, 0.4],
            "corporations": [10, 10, 20, 10, 10],
            "seed": [0, 0, 0, 0, 1],
            "entry_cost": [1.0, 2.0, 1.0, 1.0, 1.0],
            "free_entry_max": [5, 3, 6, 9, 2],
            "users_optimum": [4, 4, 4, 3, 2],
        }
    )
    verdict = studies.get("solver_entry").verdict({"seed_counts": seed_counts})
    got = verdict.set_index(["quantity", "seed"])["value"]
    # congestion 0, seed 0: gaps 1, -1, 2 -> mean 2/3; congestion 0.4: 6 and 0
    assert got[("overshoot at congestion 0: free entry - users' optimum", 0)] == pytest.approx(
        2 / 3
    )
    assert got[("overshoot at congestion 0.4: free entry - users' optimum", 0)] == 6
    assert got[("overshoot at congestion 0.4: free entry - users' optimum", 1)] == 0
