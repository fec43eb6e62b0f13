"""Golden results: digests of the result tables of a few tiny runs.

Together the runs touch every mechanism, both incentive regimes and every adversary kind,
with ground truth off (its wall times differ between runs). ``tests/test_golden.py``
compares each run's :meth:`sim.RunResult.digest` with ``tests/golden.json``.

A change that alters results on purpose updates the digests with::

    make golden        # .venv/bin/python -m tests.golden --update

and says so, and why, in its commit message.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sim import SimConfig

GOLDEN = Path(__file__).with_name("golden.json")
_MARKET = {"n_corporations": 10, "n_solvers": 4, "n_industries": 3}


def _config(seed: int, mechanism: dict, **sections) -> SimConfig:
    data = {"seed": seed, "rounds": 6, "mechanism": mechanism, "market": dict(_MARKET)}
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value}
    return SimConfig.from_dict(data)


#: name -> the tiny config of a golden run.
CONFIGS = {
    "dutch_poisoner_sybil": _config(
        1,
        {"name": "dutch"},
        agents={"adversaries": {"poisoner": 0.3, "sybil": 0.3}},
        incentives={"verification": {"identity_check": True}},
    ),
    "first_price_lazy_colluder": _config(
        2,
        {"name": "first_price"},
        agents={"adversaries": {"lazy": 0.3, "colluder": 0.3}},
        incentives={"verification": {"evaluation_proof": False, "audit_rate": 0.5}},
    ),
    "vcg_strategic": _config(
        3,
        {"name": "vcg"},
        agents={
            "corporation_strategies": {"truthful": 1.0, "markup": 1.0, "fill_rate": 1.0},
            "solver_strategies": {"truthful": 1.0, "shading": 1.0, "fill_rate": 1.0},
            "adversaries": {"colluder": 0.3},
        },
        incentives={"verification": {"bid_screen": True}},
    ),
    "dutch_exp3_learners": _config(
        7,
        {"name": "dutch"},
        agents={
            "corporation_strategies": {"truthful": 1.0, "exp3": 1.0},
            "solver_strategies": {"exp3": 1.0},
        },
    ),
    "mcafee_homogeneous": _config(
        4, {"name": "mcafee"}, market={"homogeneous": True, "n_corporations": 12}
    ),
    "posted_price_staking": _config(
        5,
        {"name": "posted_price", "price": 1.5},
        incentives={"staking": {"solver_min_stake": 20.0, "slashed_to": "redistribute"}},
        agents={"adversaries": {"poisoner": 0.3}},
    ),
    "yuma_dishonest_validators": _config(
        6,
        {"name": "dutch"},
        incentives={
            "regime": "yuma",
            "revenue_share": 0.0,
            "validators": {"dishonest_share": 0.25},
        },
        agents={"adversaries": {"lazy": 0.3}},
    ),
}


def digests() -> dict[str, str]:
    """Run every golden config and digest its results."""
    import sim

    return {name: sim.run(config).digest() for name, config in CONFIGS.items()}


def main(argv: list[str]) -> int:
    """``python -m tests.golden [--update]``: print the digests, or rewrite golden.json."""
    found = digests()
    if "--update" in argv:
        GOLDEN.write_text(json.dumps(found, indent=2, sort_keys=True) + "\n")
        print(f"wrote {GOLDEN}")
    stored = json.loads(GOLDEN.read_text()) if GOLDEN.is_file() else {}
    for name, digest in found.items():
        print(f"{name:28s} {digest[:16]}  {'same' if stored.get(name) == digest else 'CHANGED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
