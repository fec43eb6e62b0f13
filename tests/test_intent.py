import numpy as np
import pytest

from agents import Intent, compatibility


def test_intent_normalizes_and_validates():
    intent = Intent(allowed_kinds={"analytics"}, excluded_industries=[2], min_price=1, expiry=3)
    assert intent.allowed_kinds == frozenset({"analytics"})
    assert intent.excluded_industries == frozenset({2})
    assert isinstance(intent.min_price, float)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"allowed_kinds": set()}, "allowed_kinds"),
        ({"allowed_kinds": {""}}, "allowed_kinds"),
        ({"excluded_industries": {-1}}, "excluded_industries"),
        ({"min_price": -0.1}, "min_price"),
        ({"min_price": float("nan")}, "min_price"),
        ({"expiry": -1}, "expiry"),
    ],
)
def test_invalid_intent_raises(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Intent(**{"allowed_kinds": {"analytics"}, **kwargs})


def test_violation_reasons():
    intent = Intent(
        allowed_kinds={"analytics"},
        excluded_industries={1},
        min_price=2.0,
        require_fhe=True,
        require_proof=True,
        expiry=5,
    )
    ok = {"kind": "analytics", "industry": 0, "round": 5, "price": 2.0, "fhe": True, "proof": True}
    assert intent.violation(**ok) is None
    assert intent.violation(**{**ok, "round": 6}) == "intent_expired"
    assert intent.violation(**{**ok, "kind": "train_classifier"}) == "task_kind_not_allowed"
    assert intent.violation(**{**ok, "industry": 1}) == "industry_excluded"
    assert intent.violation(**{**ok, "price": 1.99}) == "below_min_price"
    assert intent.violation(**{**ok, "fhe": False}) == "fhe_required"
    assert intent.violation(**{**ok, "proof": False}) == "proof_required"


def test_compatibility_matches_violation_for_every_pair():
    rng = np.random.default_rng(3)
    kinds = ("a", "b", "c")
    intents = [
        Intent(
            allowed_kinds=frozenset(k for k in kinds if rng.random() < 0.6) or {"a"},
            excluded_industries=frozenset(np.flatnonzero(rng.random(4) < 0.3).tolist()),
            require_fhe=bool(rng.random() < 0.5),
            require_proof=bool(rng.random() < 0.5),
            expiry=int(rng.integers(0, 3)),
        )
        for _ in range(20)
    ]
    task_kind, task_industry = rng.integers(3, size=9), rng.integers(4, size=9)
    fhe, proof = rng.random(9) < 0.7, rng.random(9) < 0.7
    got = compatibility(
        intents,
        kinds=kinds,
        task_kind=task_kind,
        task_industry=task_industry,
        fhe_capable=fhe,
        proof_capable=proof,
        round=1,
    )
    for i, intent in enumerate(intents):
        for j in range(9):
            why = intent.violation(
                kind=kinds[task_kind[j]],
                industry=int(task_industry[j]),
                round=1,
                price=intent.min_price,
                fhe=bool(fhe[j]),
                proof=bool(proof[j]),
            )
            assert got[i, j] == (why is None), (i, j, why)
