"""A corporation's intent: the contract terms under which it shares data."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Intent:
    """Terms a corporation posts for sharing its data, validated on creation.

    Attributes:
        allowed_kinds: task kinds the data may be used for (non-empty).
        excluded_industries: industries whose tasks may not use the data (competitors).
        min_price: lowest per-unit price the corporation accepts, ``>= 0``.
        require_fhe: the data may only be delivered FHE-encrypted.
        require_proof: the buyer must attest its computation with a ZK proof.
        expiry: last round (inclusive) in which the intent is valid, ``>= 0``.

    Raises:
        ValueError: on an empty or non-string kind set, a negative industry, a negative or
            non-finite minimum price, or a negative expiry.
    """

    allowed_kinds: frozenset[str]
    excluded_industries: frozenset[int] = frozenset()
    min_price: float = 0.0
    require_fhe: bool = True
    require_proof: bool = False
    expiry: int = 0

    def __post_init__(self) -> None:
        kinds = frozenset(self.allowed_kinds)
        if not kinds or not all(isinstance(k, str) and k for k in kinds):
            raise ValueError(f"Intent.allowed_kinds must be non-empty task-kind names, got {kinds}")
        excluded = frozenset(self.excluded_industries)
        if not all(isinstance(x, int | np.integer) and x >= 0 for x in excluded):
            raise ValueError(
                f"Intent.excluded_industries must be industry indices >= 0, got {sorted(excluded)}"
            )
        if not (math.isfinite(self.min_price) and self.min_price >= 0):
            raise ValueError(f"Intent.min_price must be finite and >= 0, got {self.min_price}")
        if not (isinstance(self.expiry, int | np.integer) and self.expiry >= 0):
            raise ValueError(f"Intent.expiry must be a round number >= 0, got {self.expiry!r}")
        object.__setattr__(self, "allowed_kinds", kinds)
        object.__setattr__(self, "excluded_industries", frozenset(int(x) for x in excluded))
        object.__setattr__(self, "min_price", float(self.min_price))

    def violation(
        self,
        *,
        kind: str,
        industry: int,
        round: int,
        price: float,
        fhe: bool,
        proof: bool,
    ) -> str | None:
        """Why a trade breaks this intent, or ``None`` if it is allowed.

        Args:
            kind: the buyer's task kind.
            industry: the industry the buyer's task serves.
            round: the round the trade settles in.
            price: per-unit price the seller receives.
            fhe: whether the data is delivered FHE-encrypted.
            proof: whether the buyer attests its computation with a ZK proof.
        """
        if round > self.expiry:
            return "intent_expired"
        if kind not in self.allowed_kinds:
            return "task_kind_not_allowed"
        if industry in self.excluded_industries:
            return "industry_excluded"
        if price < self.min_price - 1e-9:
            return "below_min_price"
        if self.require_fhe and not fhe:
            return "fhe_required"
        if self.require_proof and not proof:
            return "proof_required"
        return None


def compatibility(
    intents: Sequence[Intent],
    *,
    kinds: Sequence[str],
    task_kind: np.ndarray,
    task_industry: np.ndarray,
    fhe_capable: np.ndarray,
    proof_capable: np.ndarray,
    round: int,
) -> np.ndarray:
    """Which corporation may trade with which solver this round, from the intents.

    Price is not part of compatibility: the minimum price enters the corporation's ask and
    is checked again at settlement.

    Args:
        intents: one intent per corporation (``n``).
        kinds: task-kind names; ``task_kind`` indexes into them.
        task_kind: ``(m,)`` kind index of each solver's task.
        task_industry: ``(m,)`` industry of each solver's task.
        fhe_capable: ``(m,)`` whether each solver computes on FHE-encrypted data.
        proof_capable: ``(m,)`` whether each solver produces ZK proofs.
        round: the current round.

    Returns:
        ``(n, m)`` bool.
    """
    n, m = len(intents), task_kind.size
    kind_index = {k: c for c, k in enumerate(kinds)}
    industries = int(task_industry.max()) + 1 if m else 0
    allowed = np.zeros((n, len(kinds)), dtype=bool)
    excluded = np.zeros((n, industries), dtype=bool)
    live = np.empty(n, dtype=bool)
    need_fhe = np.empty(n, dtype=bool)
    need_proof = np.empty(n, dtype=bool)
    for i, intent in enumerate(intents):
        allowed[i, [kind_index[k] for k in intent.allowed_kinds if k in kind_index]] = True
        excluded[i, [x for x in intent.excluded_industries if x < industries]] = True
        live[i] = round <= intent.expiry
        need_fhe[i], need_proof[i] = intent.require_fhe, intent.require_proof
    out = allowed[:, task_kind] & ~excluded[:, task_industry] & live[:, None]
    out &= ~need_fhe[:, None] | np.asarray(fhe_capable, dtype=bool)[None, :]
    out &= ~need_proof[:, None] | np.asarray(proof_capable, dtype=bool)[None, :]
    return out
