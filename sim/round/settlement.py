"""The settlement stage: every trade checked, then paid or refunded through escrow.

Each trade is checked against its contract and the verification design, paid through
escrow if it passes, and refunded at its own price if not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

import mechanisms
from sim.config import ADVERSARIES
from sim.ledger import ESCROW, TREASURY
from sim.round.market import plays, staked
from sim.round.records import RoundMarket, Settlement, Trades

if TYPE_CHECKING:
    from sim.round.state import ModelState


class Verification(NamedTuple):
    """What the verification design found among the trades that passed the contract."""

    attempts: dict[str, int]
    detected: dict[str, int]
    caught_corporations: np.ndarray
    caught_solvers: np.ndarray
    model_rejected: np.ndarray
    misflagged: dict[str, int]


class ProofOutcomes(NamedTuple):
    """Which proofs reject this round, drawn from the measured detection table.

    ``data_rejected[i]``: seller ``i``'s quality proof rejects its data (all its trades);
    ``model_rejected[j]``: solver ``j``'s evaluation proof rejects its delivered model.
    """

    data_rejected: np.ndarray
    model_rejected: np.ndarray


def proof_outcomes(model: ModelState, rm: RoundMarket) -> ProofOutcomes:
    """Draw each seller's quality-proof and each solver's evaluation-proof outcome.

    One proof per seller (over its committed rows) and one per solver (its delivered model)
    per round, rejected with the rate the detection table measured
    (:meth:`crypto.detection.DetectionTable.rate`): a poisoner at its share of flipped labels
    ``(1 - true / claimed quality) / 2``, a lazy solver at random weights, an honest agent at
    the false-positive rate. Only proofs that run (:func:`proofs`) can reject. The draws
    come from the model's own ``detection_rng``, one per agent of the round, whether or not a
    proof runs, so that they do not depend on the verification design.
    """
    corps, solvers = rm.corporations, rm.solvers
    u_data = model.detection_rng.random(len(corps))
    u_model = model.detection_rng.random(len(solvers))
    quality, evaluation = proofs(model, rm)
    data_rejected = np.zeros(len(corps), dtype=bool)
    model_rejected = np.zeros(len(solvers), dtype=bool)
    if not (quality or evaluation.any()):
        return ProofOutcomes(data_rejected, model_rejected)
    table = model.detection  # read once per model; set whenever a proof is enabled
    if quality:
        poisoner = plays(corps, "poisoner")
        claimed = np.maximum(rm.quality, 1e-9)
        flipped = np.where(poisoner, np.clip((1 - rm.true_quality / claimed) / 2, 0, 0.5), 0.0)
        data_rejected = u_data < table.rate("quality_proof", "label_flip", flipped)
    if evaluation.any():
        lazy = plays(solvers, "lazy")
        rate = np.where(lazy, table.rate("evaluation_proof", "random"),
                        table.rate("evaluation_proof", "honest"))  # fmt: skip
        model_rejected = evaluation & (u_model < rate)
    return ProofOutcomes(data_rejected, model_rejected)


def settle(model: ModelState, rm: RoundMarket, outcome: mechanisms.Outcome) -> Settlement:
    """Escrow payments, check every trade, pay verified deliveries and refund the rest.

    Each trade is checked against its seller's intent and its buyer's funds and stake
    (:func:`contract_violations`), then against the verification design (:func:`verify`);
    where the regime's market rule does not verify (Yuma's open data), no verification runs
    and validators' weights are the only check on solvers. Money moves by :func:`escrow`;
    rejected trades are recorded with their reason and prices.
    """
    alloc = np.where(outcome.allocation > 1e-9, outcome.allocation, 0.0)
    seller_price, buyer_price = outcome.pair_prices()  # per unit, trade by trade
    n, m = alloc.shape
    allocated = Trades.of(alloc)
    at = (allocated.sellers, allocated.buyers)
    due = allocated.per_buyer(buyer_price[at] * allocated.units, m)
    can_pay = due <= model.ledger.balances("money", [s.unique_id for s in rm.solvers]) + 1e-9
    reasons = contract_violations(model, rm, allocated, seller_price, can_pay)
    found = verify(model, rm, allocated, reasons)
    accepted = alloc.copy()
    for i, j in reasons:
        accepted[i, j] = 0.0
    trades = allocated.where(accepted[at] > 0)  # Trades.of(accepted), without its pass
    refund = allocated.per_buyer(buyer_price[at] * (allocated.units - accepted[at]), m)
    payout = trades.per_seller(seller_price[trades.sellers, trades.buyers] * trades.units, n)
    escrow(model, rm, due, can_pay, refund, payout)
    if reasons:
        model.rejected.append(_rejected(model, rm, alloc, seller_price, buyer_price, reasons))
    return Settlement(
        accepted=accepted,
        seller_price=seller_price,
        buyer_price=buyer_price,
        rejected=len(reasons),
        verified=model.regime.market.verifies,
        lazy=plays(rm.solvers, "lazy"),
        model_rejected=found.model_rejected,
        caught_corporations=found.caught_corporations,
        caught_solvers=found.caught_solvers,
        attempts=found.attempts,
        detected=found.detected,
        misflagged=found.misflagged,
        # by claimed quality; nothing for a rejected model
        fees=np.where(
            found.model_rejected,
            0.0,
            rm.tasks.fee * trades.per_buyer(rm.quality[trades.sellers] * trades.units, m),
        ),
        trades=trades,
    )


def contract_violations(
    model: ModelState,
    rm: RoundMarket,
    allocated: Trades,
    seller_price: np.ndarray,
    can_pay: np.ndarray,
) -> dict[tuple[int, int], str]:
    """Why each allocated trade breaks its contract: the buyer's funds or stake, its intent."""
    corps, tasks = rm.corporations, rm.tasks
    sellers, buyers = allocated.sellers, allocated.buyers
    reasons: dict[tuple[int, int], str] = {}
    enough_stake = staked(model, rm.solvers)
    for j in np.flatnonzero(~can_pay | ~enough_stake):
        for i in sellers[buyers == j]:  # in seller order: the trades are row-major
            reasons[(i, j)] = "insufficient_funds" if not can_pay[j] else "insufficient_stake"
    for i, j in zip(sellers, buyers, strict=True):
        if (i, j) in reasons:
            continue
        why = corps[i].intent.violation(
            kind=model.config.market.task_kinds[tasks.kind[j]],
            industry=int(tasks.industry[j]),
            round=model.round,
            price=float(seller_price[i, j]),
            fhe=bool(rm.fhe[j]),
            proof=bool(rm.proof[j]),
        )
        if why:
            reasons[(i, j)] = why
    return reasons


def proofs(model: ModelState, rm: RoundMarket) -> tuple[bool, np.ndarray]:
    """Which ZK proofs the round's trades carry: quality (all or none), evaluation (by solver).

    A proof needs the encrypted pipeline (``crypto.encryption``: without it there is no
    FHE and no ZK) and a market rule that verifies; the evaluation proof also needs a solver
    that can prove (``proof_capable``): a solver that cannot prove is never caught by one.
    """
    ver = model.config.incentives.verification
    zk = model.config.crypto.encryption and model.regime.market.verifies
    return zk and ver.quality_proof, zk & ver.evaluation_proof & rm.proof


def verify(
    model: ModelState, rm: RoundMarket, allocated: Trades, reasons: dict[tuple[int, int], str]
) -> Verification:
    """Run the verification design on the allocated trades that passed the contract.

    Adds the reason of each trade it rejects to ``reasons``. A rejected model's delivery
    stands (its task client pays nothing for the model). Proofs reject only where
    :func:`proofs` says they run, as often as :func:`proof_outcomes` draws; an honest agent a
    proof rejects is a false positive.

    ``misflagged`` counts, by the kind of the agent a check rejected (``honest`` or an
    adversary kind), the trades rejected for something that agent did not do: an honest
    agent's, a Sybil's data a quality proof rejects, a lazy solver's bid the bid screen
    flags (the screen looks for collusion, not laziness).
    """
    corps, solvers = rm.corporations, rm.solvers
    ver = model.config.incentives.verification
    enabled = model.regime.market.verifies
    n, m = len(corps), len(solvers)
    pairs = [
        (i, j)
        for i, j in zip(allocated.sellers, allocated.buyers, strict=True)
        if (i, j) not in reasons
    ]
    audited = model.verification_rng.random(len(pairs)) < (ver.audit_rate if enabled else 0)
    outcomes = proof_outcomes(model, rm)
    flagged = _screened(model, rm) if enabled and ver.bid_screen else np.zeros((n, m), bool)
    attempts = dict.fromkeys(ADVERSARIES, 0)
    detected = dict.fromkeys(ADVERSARIES, 0)
    caught_c, caught_s = np.zeros(n), np.zeros(m)
    model_rejected = np.zeros(m, dtype=bool)
    misflagged = dict.fromkeys(("honest", *ADVERSARIES), 0)
    for (i, j), audit in zip(pairs, audited, strict=True):
        seller, buyer = corps[i].adversary, solvers[j].adversary
        for role in (seller, buyer):
            if role and role != "lazy":  # a lazy solver cheats once it has the data
                attempts[role] += 1
        if not enabled:
            attempts["lazy"] += buyer == "lazy"
            continue
        why = None
        if seller == "sybil" and ver.identity_check:
            why = "failed_identity_check"
        elif outcomes.data_rejected[i]:
            why = "failed_quality_proof"
        elif seller == "poisoner" and audit:
            why = "failed_audit"
        elif flagged[i, j]:
            why = "failed_bid_screen"
        if why == "failed_bid_screen":
            caught_s[j] += 1
            if buyer == "colluder":
                detected["colluder"] += 1
            else:
                misflagged[buyer or "honest"] += 1
        elif why:
            caught_c[i] += 1
            if why == "failed_identity_check" or seller == "poisoner":
                detected[seller] += 1
            else:
                misflagged[seller or "honest"] += 1  # an honest seller's or a Sybil's data
        if why:
            reasons[(i, j)] = why
            continue
        attempts["lazy"] += buyer == "lazy"
        if outcomes.model_rejected[j] or (buyer == "lazy" and audit):
            model_rejected[j] = True  # the delivery stands; the task client pays nothing
            caught_s[j] += 1
            if buyer == "lazy":
                detected["lazy"] += 1
            else:
                misflagged[buyer or "honest"] += 1
    return Verification(attempts, detected, caught_c, caught_s, model_rejected, misflagged)


def _screened(model: ModelState, rm: RoundMarket) -> np.ndarray:
    """Bids the bid screen flags.

    A bid is flagged below ``1 - screen_margin`` of the public estimate of the value:
    claimed quality times the fee, less the median solver's processing cost (scaled by
    congestion under the ``effort`` model, as every solver's cost is).
    """
    market, ver = model.config.market, model.config.incentives.verification
    typical = model.seconds_per_unit * (market.compute_price_low + market.compute_price_high) / 2
    typical *= market.congested(len(rm.solvers))[0]
    estimate = rm.quality[:, None] * rm.tasks.fee[None, :] - typical
    return (rm.reported.bid_matrix() < (1 - ver.screen_margin) * estimate) & (estimate > 0)


def escrow(
    model: ModelState,
    rm: RoundMarket,
    due: np.ndarray,
    can_pay: np.ndarray,
    refund: np.ndarray,
    payout: np.ndarray,
) -> None:
    """Move the money through escrow.

    Buyers who can pay fund what they owe (``due``); each rejected trade is refunded at its
    own price (``refund``, by buyer); sellers are paid for accepted trades (``payout``, by
    seller); the treasury covers a deficit (VCG) and keeps a surplus (first price).
    """
    ledger = model.ledger
    ids_s = [s.unique_id for s in rm.solvers]
    ledger.transfer("money", ids_s, ESCROW, np.where(can_pay, due, 0.0))
    ledger.transfer("money", ESCROW, ids_s, np.where(can_pay, refund, 0.0))
    shortfall = payout.sum() - ledger.balance("money", ESCROW)
    if shortfall > 0:
        ledger.transfer("money", TREASURY, ESCROW, shortfall)
    ledger.transfer("money", ESCROW, [c.unique_id for c in rm.corporations], payout)
    residual = ledger.balance("money", ESCROW)
    if residual > 0:
        ledger.transfer("money", ESCROW, TREASURY, residual)


def _rejected(
    model: ModelState,
    rm: RoundMarket,
    alloc: np.ndarray,
    seller_price: np.ndarray,
    buyer_price: np.ndarray,
    reasons: dict[tuple[int, int], str],
) -> pd.DataFrame:
    keys = list(reasons)
    return pd.DataFrame(
        {
            "round": model.round,
            "seller": [rm.corporations[i].unique_id for i, _ in keys],
            "buyer": [rm.solvers[j].unique_id for _, j in keys],
            "units": [alloc[i, j] for i, j in keys],
            "price": [seller_price[i, j] for i, j in keys],
            "buyer_price": [buyer_price[i, j] for i, j in keys],
            "reason": list(reasons.values()),
        }
    )
