import pytest
from hydra import compose, initialize_config_dir

from experiments import CONFIG_DIR
from sim import ConfigError, SimConfig
from sim.runner import as_config


def compose_config(*overrides):
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose("config", overrides=list(overrides))


def test_yaml_defaults_equal_dataclass_defaults():
    assert as_config(compose_config()) == SimConfig()


def test_group_options_compose():
    cfg = as_config(compose_config("market=small", "agents=strategic"))
    assert cfg.market.n_corporations == 12
    assert cfg.agents.corporation_strategies["markup"] > 0
    assert as_config(compose_config("market=large")).market.n_corporations == 1000


def test_round_trip_through_dict():
    cfg = SimConfig.from_dict({"seed": 3, "mechanism": {"name": "dutch", "tick": 0.1}})
    assert SimConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.mechanism.params == {"tick": 0.1}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"market": {"n_corporations": -5}}, "market.n_corporations: -5 not allowed, must be >= 1"),
        (
            {"market": {"n_corporation": 5}},
            "market.n_corporation: unknown key; allowed keys: n_corporations",
        ),
        ({"rounds": 2.5}, "rounds: 2.5 not allowed, must be an integer"),
        ({"compute_optimum": "yes"}, "compute_optimum: 'yes' not allowed, must be true or false"),
        (
            {"mechanism": {"name": "nope"}},
            "mechanism: unknown mechanism 'nope'; allowed: dutch, first_price, mcafee, posted_price, vcg",
        ),
        ({"mechanism": {"name": "dutch", "tick": -1}}, "mechanism.tick: dutch: tick must be"),
        ({"mechanism": {"name": "dutch", "tick": True}}, "mechanism.tick: dutch: tick must be"),
        (
            {"mechanism": {"name": "dutch", "max_ticks": True}},
            "mechanism.max_ticks: dutch: max_ticks must be an integer",
        ),
        (
            {"mechanism": {"name": "posted_price", "price": True}},
            "mechanism.price: posted_price: price must be a finite number",
        ),
        (
            {"mechanism": {"name": "first_price", "solver": "NOPE"}},
            "mechanism.solver: first_price: welfare solver 'NOPE' is not installed",
        ),
        (
            {"mechanism": {"name": "vcg", "solver": "NOPE"}},
            "mechanism.solver: vcg: welfare solver 'NOPE' is not installed",
        ),
        (
            {"agents": {"solver_strategies": {"truthful": True}}},
            "agents.solver_strategies: .* weights must be finite numbers >= 0",
        ),
        (
            {"incentives": {"data_value": {"method": "exact_shapley"}}},
            "incentives.data_value.method: exact_shapley values at most max_exact_players",
        ),
        (
            {
                "market": {"n_corporations": 6},
                "agents": {"corporation_arrival_rate": 0.0, "adversaries": {"sybil": 0.5}},
                "incentives": {"data_value": {"method": "exact_shapley", "max_exact_players": 8}},
            },
            "can have 12 corporation identities;",
        ),
        (
            {"incentives": {"emission": {"initial": 1e308}}},
            r"incentives.emission.initial: 1e\+308 not allowed, must lie within \+-1e\+09",
        ),
        (
            {"market": {"money_endowment": 1e17}},
            r"market.money_endowment: 1e\+17 not allowed, must lie within",
        ),
        (
            {"market": {"competitor_premium": 1e9}},
            r"market.sharing_cost_high: asks could reach 1.5e\+09",
        ),
        (
            {"mechanism": {"name": "dutch", "_target_": "x.Y"}},
            "mechanism._target_: must be mechanisms.dutch.DutchAuction",
        ),
        (
            {"agents": {"corporation_strategies": {"shading": 1.0}}},
            "unknown strategy 'shading'; allowed: truthful, markup, fill_rate, exp3",
        ),
        ({"agents": {"solver_strategies": {"truthful": 0.0}}}, "weights must sum to > 0"),
        (
            {"incentives": {"regime": "bitcoin"}},
            "incentives.regime: 'bitcoin' not allowed, allowed: intent_market, open_data_rewards, "
            "priced_yuma, yuma",
        ),
        (
            {"incentives": {"yuma": {"bond_normalization": "row"}}},
            "incentives.yuma.bond_normalization: 'row' not allowed, allowed: column, none",
        ),
        ({"incentives": {"shares": {"validators": 1.5}}}, r"must be in \[0, 1\]"),
        ({"incentives": {"shares": {"validators": 0.5}}}, "incentives.shares: must sum to 1"),
        (
            {"incentives": {"data_value": {"method": "banzhaf"}}},
            "allowed: units, loo, shapley, exact_shapley",
        ),
        (
            {"agents": {"adversaries": {"lazy": 0.7, "colluder": 0.5}}},
            r"agents.adversaries.colluder: lazy \+ colluder must be <= 1",
        ),
        ({"incentives": {"emission": {"schedule": "linear"}}}, "allowed: constant, decay"),
        (
            {
                "incentives": {
                    "staking": {"slashed_to": "redistribute"},
                    "validators": {"stake_low": 0, "stake_high": 0},
                }
            },
            "incentives.staking.slashed_to: redistribute needs validators with stake",
        ),
        ({"market": {"fee_low": 7.0}}, r"market.fee_low: must be <= market.fee_high \(6.0\)"),
        (
            {"market": {"task_kinds": ["a", "a"]}},
            "market.task_kinds: must be a non-empty list of distinct names",
        ),
        (
            {"market": {"intent": {"duration": 0}}},
            "market.intent.duration: 0 not allowed, must be >= 1",
        ),
        ({"welfare_solver": "NOPE"}, "welfare_solver: 'NOPE' not allowed, allowed:"),
        ({"market": 3}, "market: must be a mapping"),
    ],
)
def test_bad_values_are_one_line_errors(data, message):
    with pytest.raises(ConfigError, match=message) as info:
        SimConfig.from_dict(data)
    assert "\n" not in str(info.value)


def test_exact_shapley_is_accepted_where_contributors_stay_within_its_limit():
    config = SimConfig.from_dict(
        {
            "rounds": 3,
            "market": {"n_corporations": 8, "n_solvers": 3},
            "agents": {"corporation_arrival_rate": 0.0},
            "incentives": {"data_value": {"method": "exact_shapley", "max_exact_players": 8}},
        }
    )
    from sim import run

    assert len(run(config).rounds) == 3
