"""Results never change by accident: tiny runs against stored digests (tests/golden.py)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import sim
from tests.golden import CONFIGS, GOLDEN

STORED = json.loads(GOLDEN.read_text())


def test_every_golden_config_has_a_digest_and_covers_what_it_should():
    assert set(STORED) == set(CONFIGS)
    import mechanisms

    configs = CONFIGS.values()
    assert {c.mechanism.name for c in configs if c.incentives.regime == "intent_market"} == set(
        mechanisms.available()
    )
    assert {c.incentives.regime for c in configs} == {"intent_market", "yuma"}
    adversaries = {
        kind
        for c in configs
        for kind in ("poisoner", "sybil", "lazy", "colluder")
        if getattr(c.agents.adversaries, kind) > 0
    }
    assert adversaries == {"poisoner", "sybil", "lazy", "colluder"}
    assert all(c.crypto.ground_truth.rate == 0 for c in configs)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_results_match_their_golden_digest(name):
    digest = sim.run(CONFIGS[name]).digest()
    assert digest == STORED[name], (
        f"results of golden run {name!r} changed; if on purpose, run `make golden` and say "
        "why in the commit message"
    )


def test_digest_sees_values_and_columns_not_file_bytes(tiny):
    result = sim.run(tiny)
    digest = result.digest()
    assert sim.run(tiny).digest() == digest
    rounds = result.rounds.copy()
    rounds.loc[3, "welfare"] = rounds.loc[3, "welfare"] + 1e-12
    assert sim.RunResult(**{**vars(result), "rounds": rounds}).digest() != digest
    renamed = result.rounds.rename(columns={"welfare": "welfare_"})
    assert sim.RunResult(**{**vars(result), "rounds": renamed}).digest() != digest
    same = result.rounds.astype({"round": "int32"})  # the values are what count
    assert sim.RunResult(**{**vars(result), "rounds": same}).digest() == digest
    assert isinstance(result.rounds, pd.DataFrame)
