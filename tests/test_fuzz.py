"""Fuzzing: random edge markets for every mechanism and the planner, random bad input for
``Market`` and the config loader."""

from __future__ import annotations

import dataclasses
import math
import os
import typing

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mechanisms
from mechanisms.market import MAX_MAGNITUDE
from sim import ConfigError, SimConfig
from tests.strategies import wild_markets

EXAMPLES = int(os.environ.get("INTENTLAB_FUZZ_EXAMPLES", "150"))
fuzz = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))


def _feasible(market: mechanisms.Market, out: mechanisms.Outcome) -> None:
    n, m = market.shape
    x = out.allocation
    assert x.shape == (n, m) and out.seller_revenue.shape == (n,)
    assert out.buyer_payment.shape == (m,)
    for arr in (x, out.seller_revenue, out.buyer_payment):
        assert np.all(np.isfinite(arr))
    tol = 1e-6 * (1 + max(market.supply.max(initial=0), market.demand.max(initial=0)))
    assert np.all(x >= -tol)
    assert np.all(x.sum(axis=1) <= market.supply + tol)
    assert np.all(x.sum(axis=0) <= market.demand + tol)
    assert np.all(x[~market.compatible_matrix()] == 0)


@fuzz
@given(market=wild_markets())
@pytest.mark.parametrize("name", mechanisms.available())
def test_every_mechanism_clears_edge_markets_or_says_it_cannot(name, market):
    try:
        out = mechanisms.get(name).clear(market, rng=np.random.default_rng(0))
    except mechanisms.UnsupportedMarketError as exc:
        assert str(exc).startswith(f"{name}: ") and "\n" not in str(exc)
        return
    _feasible(market, out)


@fuzz
@given(market=wild_markets())
def test_planner_solves_edge_markets(market):
    out = mechanisms.welfare.optimum(market)
    _feasible(market, out)
    realized = mechanisms.welfare.value(market, out.allocation)
    assert out.info["welfare"] == pytest.approx(realized, rel=1e-6, abs=1e-6 * MAX_MAGNITUDE)


# ------------------------------------------------------------------ bad Market input

_GOOD = {"supply": [1.0, 2.0], "demand": [3.0], "ask": [0.5, 1.0], "bid": [2.0]}
_bad_number = st.sampled_from(
    [math.nan, math.inf, -math.inf, 2 * MAX_MAGNITUDE, -2 * MAX_MAGNITUDE, "x", None, {}]
)


@st.composite
def bad_markets(draw) -> tuple[str, dict]:
    """A valid market's arguments with one field broken."""
    field = draw(st.sampled_from(["supply", "demand", "ask", "bid", "compatible"]))
    kwargs = {k: list(v) for k, v in _GOOD.items()}
    size = len(kwargs.get(field, [])) or 1
    how = draw(st.sampled_from(["entry", "shape", "negative"]))
    if field == "compatible":
        kwargs[field] = draw(
            st.sampled_from([np.ones((2, 1)), np.ones((1, 2), bool), [["a"], ["b"]], "yes"])
        )
    elif how == "shape":  # a wrong length of supply or demand is the prices' mismatch
        shapes = [[[1.0] * size], 5.0] + ([[1.0] * (size + 2)] if field in ("ask", "bid") else [])
        kwargs[field] = draw(st.sampled_from(shapes))
    elif how == "negative" and field in ("supply", "demand"):
        kwargs[field][draw(st.integers(0, size - 1))] = -draw(st.floats(1e-9, 1e6))
    else:
        kwargs[field][draw(st.integers(0, size - 1))] = draw(_bad_number)
    return field, kwargs


@fuzz
@given(case=bad_markets())
def test_bad_market_input_is_a_value_error_naming_the_field(case):
    field, kwargs = case
    with pytest.raises(ValueError, match=f"Market.{field}") as info:
        mechanisms.Market(**kwargs)
    assert "\n" not in str(info.value)


# ------------------------------------------------------------------ bad config input


def _leaves(cls: type, prefix: str = "") -> list[tuple[str, typing.Any]]:
    """Every leaf key of a config dataclass with its type."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint) and f.name != "mechanism":
            out += _leaves(hint, f"{prefix}{f.name}.")
        elif f.name != "mechanism":
            out.append((f"{prefix}{f.name}", hint))
    return out


LEAVES = _leaves(SimConfig)
MECHANISM_PARAMS = {
    "dutch": ("tick", "max_ticks", "clock"),
    "posted_price": ("price",),
    "first_price": ("solver",),
    "vcg": ("solver",),
}


def _bad_value(hint: typing.Any) -> st.SearchStrategy:
    """Values of the wrong type (or out of range) for a field of type ``hint``."""
    common = [None, [1, 2], {"a": 1}]
    if hint is bool:
        return st.sampled_from([*common, "yes", 1, 0.0])
    if hint is int:
        return st.sampled_from([*common, "3", True, 1.5, math.nan])
    if hint is float:
        return st.sampled_from([*common, "3", True, math.nan, math.inf, 2 * MAX_MAGNITUDE, -1e300])
    if hint is str:
        return st.sampled_from([*common, 5, True, "no_such_option"])
    if typing.get_origin(hint) is dict:
        return st.sampled_from([*common[:2], "x", {"nope": 1.0}, {"truthful": True}])
    return st.sampled_from([None, "x", 5, [1, 2], []])  # tuples of names


def _nested(key: str, value: typing.Any) -> dict:
    data: typing.Any = value
    for part in reversed(key.split(".")):
        data = {part: data}
    return data


@st.composite
def bad_configs(draw) -> tuple[str, dict]:
    """A config with one key given a bad value (or one unknown key)."""
    kind = draw(st.sampled_from(["leaf", "mechanism", "unknown"]))
    if kind == "mechanism":
        name = draw(st.sampled_from(sorted(MECHANISM_PARAMS)))
        param = draw(st.sampled_from(MECHANISM_PARAMS[name]))
        value = draw(st.sampled_from([None, True, "x", -1, math.nan, [1]]))
        return param, {"mechanism": {"name": name, param: value}}
    if kind == "unknown":
        key, _ = draw(st.sampled_from(LEAVES))
        key = key.rsplit(".", 1)[0] + ".no_such_key" if "." in key else "no_such_key"
        return key, _nested(key, 1)
    key, hint = draw(st.sampled_from(LEAVES))
    value = draw(_bad_value(hint))
    return key, _nested(key, value)


@fuzz
@given(case=bad_configs())
def test_bad_config_is_one_line_naming_the_key(case):
    key, data = case
    try:
        config = SimConfig.from_dict(data)
    except ConfigError as exc:
        message = str(exc)
        assert "\n" not in message
        assert key in message, message
        return
    pytest.fail(f"accepted a bad value: {data}: {config}")
