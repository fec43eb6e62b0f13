"""Typed, validated simulation configuration.

Everything below ``experiments/`` takes a :class:`SimConfig` (frozen dataclasses), never a
Hydra object. :meth:`SimConfig.from_dict` turns a plain mapping (for example a resolved
Hydra config) into one, rejecting unknown keys and out-of-range values with a
:class:`ConfigError` whose message is one line naming the key and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mechanisms
from agents.strategies import STRATEGIES, strategy_names
from crypto.costs import CalibratedCostModel, CostModel
from crypto.detection import DetectionTable
from mechanisms.base import is_number
from mechanisms.market import MAX_MAGNITUDE
from mechanisms.yuma import BOND_NORMALIZATION
from sim.regimes import registry as regimes

PROJECT_DIR = Path(__file__).resolve().parents[1]

#: The built-in incentive regimes (:mod:`sim.regimes` holds every registered one).
INCENTIVE_REGIMES = tuple(regimes.available())
ADVERSARIES = ("poisoner", "sybil", "lazy", "colluder")


class ConfigError(ValueError):
    """A bad configuration key or value. ``str(error)`` is one readable line.

    Attributes:
        key: the dotted key at fault.
        reason: what is wrong with it (the line without the key).
    """

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.reason = message


Check = Callable[[Any], str | None]


def between(lo: float | None = None, hi: float | None = None, *, open_lo: bool = False) -> Check:
    """A check that a number lies in ``[lo, hi]`` (``(lo, hi]`` with ``open_lo``)."""

    def check(value: Any) -> str | None:
        bad = (lo is not None and (value <= lo if open_lo else value < lo)) or (
            hi is not None and value > hi
        )
        if not bad:
            return None
        if lo is not None and hi is not None:
            return f"must be in {'(' if open_lo else '['}{lo}, {hi}]"
        return f"must be {'>' if open_lo else '>='} {lo}" if lo is not None else f"must be <= {hi}"

    return check


def one_of(*allowed: str) -> Check:
    """A check that a string is one of ``allowed``."""
    return lambda value: None if value in allowed else f"allowed: {', '.join(allowed)}"


def welfare_solvers() -> list[str]:
    """The planner's solvers (imports cvxpy)."""
    return mechanisms.welfare.installed_solvers()


def param(default: Any, check: Check | None = None) -> Any:
    """A config field with a default and a value check."""
    kwargs: dict[str, Any] = {"metadata": {"check": check}}
    if isinstance(default, dict | list | tuple):
        kwargs["default_factory"] = lambda: type(default)(default)
    else:
        kwargs["default"] = default
    return field(**kwargs)


#: The feedback the simulation gives strategies: fills and realized utility.
SIMULATION_FEEDBACK = ("none", "bandit")


def _strategy_mix(side: str) -> Check:
    def check(mix: Mapping[str, float]) -> str | None:
        names = strategy_names(side, feedback=SIMULATION_FEEDBACK)  # type: ignore[arg-type]
        unknown = sorted(set(mix) - set(names))
        if unknown:
            cls = STRATEGIES.get(unknown[0])
            if cls is not None and side in cls.sides:
                return (
                    f"strategy {unknown[0]!r} learns from {cls.feedback} feedback (what other "
                    f"reports would have earned), which the simulation does not compute (it "
                    f"is for experiment=learning); allowed: {', '.join(names)}"
                )
            return f"unknown strategy {unknown[0]!r}; allowed: {', '.join(names)}"
        if any(not (is_number(w) and w >= 0) for w in mix.values()):
            return "weights must be finite numbers >= 0"
        if sum(mix.values()) <= 0:
            return "weights must sum to > 0"
        return None

    return check


@dataclass(frozen=True)
class IntentPolicyConfig:
    """How corporations draw the intents they post."""

    allow_kind_prob: float = param(0.8, between(0, 1, open_lo=True))
    exclude_own_industry_prob: float = param(0.5, between(0, 1))
    min_price_high: float = param(0.5, between(0))
    require_fhe_prob: float = param(1.0, between(0, 1))
    require_proof_prob: float = param(0.3, between(0, 1))
    duration: int = param(10, between(1))


#: How ``market.congestion`` crowds solvers with ``m`` active: ``effort`` scales each
#: solver's processing cost per unit by ``m^congestion``, ``fee_dilution`` scales task fees
#: by ``m^-congestion``.
CONGESTION_MODELS = ("effort", "fee_dilution")


@dataclass(frozen=True)
class MarketConfig:
    """Population and the distributions agents and tasks are drawn from."""

    n_corporations: int = param(100, between(1))
    n_solvers: int = param(30, between(1))
    n_industries: int = param(5, between(1))
    homogeneous: bool = param(False)
    task_kinds: tuple[str, ...] = param(("train_classifier", "analytics"))
    fee_low: float = param(2.0, between(0))
    fee_high: float = param(6.0, between(0))
    congestion: float = param(0.0, between(0))
    congestion_model: str = param("effort", one_of(*CONGESTION_MODELS))
    supply_low: float = param(5.0, between(0))
    supply_high: float = param(20.0, between(0))
    quality_alpha: float = param(4.0, between(0, open_lo=True))
    quality_beta: float = param(2.0, between(0, open_lo=True))
    sharing_cost_low: float = param(0.2, between(0))
    sharing_cost_high: float = param(1.5, between(0))
    competitor_premium: float = param(2.0, between(0))
    capacity_low: float = param(20.0, between(0))
    capacity_high: float = param(60.0, between(0))
    speed_sigma: float = param(0.3, between(0))
    compute_price_low: float = param(0.01, between(0))
    compute_price_high: float = param(0.03, between(0))
    proof_capable_prob: float = param(0.8, between(0, 1))
    fhe_capable_prob: float = param(1.0, between(0, 1))
    stake_low: float = param(10.0, between(0))
    stake_high: float = param(100.0, between(0))
    money_endowment: float = param(1000.0, between(0))
    intent: IntentPolicyConfig = field(default_factory=IntentPolicyConfig)

    def __post_init__(self) -> None:
        if not self.task_kinds or len(set(self.task_kinds)) != len(self.task_kinds):
            raise ConfigError("market.task_kinds", "must be a non-empty list of distinct names")
        for name in ("fee", "supply", "sharing_cost", "capacity", "compute_price", "stake"):
            lo, hi = getattr(self, f"{name}_low"), getattr(self, f"{name}_high")
            if lo > hi:
                raise ConfigError(f"market.{name}_low", f"must be <= market.{name}_high ({hi})")

    def congested(self, solvers: int) -> tuple[float, float]:
        """Multipliers of each solver's processing cost and of task fees with ``solvers`` active.

        ``effort``: cost ``x solvers^congestion``, fees unchanged; ``fee_dilution``: cost
        unchanged, fees ``x solvers^-congestion``; ``(1, 1)`` without congestion or solvers.
        """
        if self.congestion <= 0 or solvers <= 0:
            return 1.0, 1.0
        if self.congestion_model == "effort":
            return solvers**self.congestion, 1.0
        return 1.0, solvers**-self.congestion


@dataclass(frozen=True)
class MechanismConfig:
    """Which registered mechanism clears the market, and its parameters."""

    name: str = param("dutch")
    params: dict[str, Any] = param({"tick": 0.01, "clock": "exact", "max_ticks": 1_000_000})

    def __post_init__(self) -> None:
        try:
            mechanisms.get(self.name, **self.params)
        except ValueError as exc:
            named = [k for k in self.params if f" {k} " in f" {exc} "]
            raise ConfigError(f"mechanism.{named[0]}" if named else "mechanism", str(exc)) from None

    def build(self) -> mechanisms.Mechanism:
        """Instantiate the mechanism."""
        return mechanisms.get(self.name, **self.params)


@dataclass(frozen=True)
class AdversariesConfig:
    """Cheating agents, each kind a share of the population drawn on entry.

    Attributes:
        poisoner: share of corporations whose rows are label noise of quality
            ``poison_quality`` while they claim their drawn quality.
        poison_quality: true label quality of a poisoner's data.
        sybil: share of corporations that enter as ``sybil_identities`` identities, each
            holding an equal part of one dataset and supply.
        sybil_identities: identities per Sybil corporation.
        lazy: share of solvers that skip training and return random weights.
        colluder: share of solvers that shade their bids together by ``collusion_shading``.
        collusion_shading: the colluders' common bid reduction, in ``[0, 1)``.
    """

    poisoner: float = param(0.0, between(0, 1))
    poison_quality: float = param(0.0, between(0, 1))
    sybil: float = param(0.0, between(0, 1))
    sybil_identities: int = param(2, between(2))
    lazy: float = param(0.0, between(0, 1))
    colluder: float = param(0.0, between(0, 1))
    collusion_shading: float = param(0.3, between(0, 0.99))

    def __post_init__(self) -> None:
        if self.poisoner + self.sybil > 1:
            raise ConfigError("agents.adversaries.sybil", "poisoner + sybil must be <= 1")
        if self.lazy + self.colluder > 1:
            raise ConfigError("agents.adversaries.colluder", "lazy + colluder must be <= 1")


@dataclass(frozen=True)
class LearnerConfig:
    """The payoff learners' parameters (``exp3`` in the simulation; see agents/strategies.py).

    Attributes:
        factors: points of the grid of factors, from 0 to the side's largest factor.
        max_markup: a seller's largest markup on the grid.
        max_shading: a buyer's largest shading on the grid (``<= 1``).
        eta: learning rate.
        exploration: share of uniform exploration (``exp3``).
    """

    factors: int = param(21, between(2))
    max_markup: float = param(1.0, between(0, open_lo=True))
    max_shading: float = param(0.95, between(0, 1, open_lo=True))
    eta: float = param(0.005, between(0, open_lo=True))
    exploration: float = param(0.1, between(0, 1, open_lo=True))


@dataclass(frozen=True)
class AgentsConfig:
    """Strategies, entry and exit, adversaries."""

    corporation_strategies: dict[str, float] = param(
        {"truthful": 1.0, "markup": 0.0, "fill_rate": 0.0, "exp3": 0.0}, _strategy_mix("sell")
    )
    solver_strategies: dict[str, float] = param(
        {"truthful": 1.0, "shading": 0.0, "fill_rate": 0.0, "exp3": 0.0}, _strategy_mix("buy")
    )
    markup: float = param(0.2, between(0))
    shading: float = param(0.2, between(0, 1))
    fill_rate_step: float = param(0.05, between(0, open_lo=True))
    fill_rate_max: float = param(0.5, between(0))
    learner: LearnerConfig = field(default_factory=LearnerConfig)
    utility_memory: float = param(0.2, between(0, 1, open_lo=True))
    grace_rounds: int = param(5, between(0))
    corporation_outside_option: float = param(1.0)
    solver_outside_option: float = param(2.0)
    corporation_arrival_rate: float = param(0.01, between(0))
    solver_arrival_rate: float = param(0.01, between(0))
    network_elasticity: float = param(1.0, between(0))
    adversaries: AdversariesConfig = field(default_factory=AdversariesConfig)


@dataclass(frozen=True)
class EmissionConfig:
    """Tokens minted per round: ``initial``, then decaying or halving by ``schedule``.

    Attributes:
        schedule: ``constant``; ``decay`` (``initial * exp(-rate * round)``); ``halving``
            (halves every ``halving_rounds``).
        initial: tokens in round 0.
        rate: decay rate per round.
        halving_rounds: rounds between halvings.
    """

    schedule: str = param("constant", one_of("constant", "decay", "halving"))
    initial: float = param(100.0, between(0))
    rate: float = param(0.02, between(0))
    halving_rounds: int = param(25, between(1))

    def amount(self, round: int) -> float:
        """Tokens to mint in ``round``."""
        if self.schedule == "decay":
            return self.initial * math.exp(-self.rate * round)
        if self.schedule == "halving":
            return self.initial * 0.5 ** (round // self.halving_rounds)
        return self.initial


@dataclass(frozen=True)
class SharesConfig:
    """How the intent market splits each round's emission (must sum to 1)."""

    data_providers: float = param(0.4, between(0, 1))
    solvers: float = param(0.4, between(0, 1))
    validators: float = param(0.2, between(0, 1))

    def __post_init__(self) -> None:
        total = self.data_providers + self.solvers + self.validators
        if abs(total - 1) > 1e-9:
            raise ConfigError("incentives.shares", f"must sum to 1, got {total:g}")


@dataclass(frozen=True)
class DataValueConfig:
    """How corporations' data is valued (see :mod:`crypto.valuation`, docs/incentives.md).

    Attributes:
        method: ``units`` (quality-weighted units sold, no models), ``loo``
            (leave-one-out), ``shapley`` (exact for small games, else ``estimator``),
            ``exact_shapley`` (every game exact).
        scope: the cooperative games: ``solver`` (each buying solver's model is a game among
            its sellers; a corporation's value is the sum over the solvers it sold to) or
            ``pool`` (one game among all of a round's sellers, every industry's test rows).
        exact_players: ``shapley`` values a game of at most this many players exactly
            (``2^n`` models).
        estimator: ``shapley``'s estimator for larger games: ``kernel`` (paired, stratified
            KernelSHAP, ``samples`` coalitions per player) or ``permutation`` (truncated
            Monte Carlo, ``permutations`` orders).
        samples: the kernel estimator's coalitions per player.
        permutations: the permutation estimator's random orders per game.
        truncation: the permutation estimator stops an order at its first prefix within this
            accuracy of the whole coalition (0: never).
        max_exact_players: ``exact_shapley`` values games of at most this many players.
        rows_per_corporation: rows of synthetic industry data per corporation.
        test_rows: held-out rows per industry the models are scored on.
        epochs: gradient steps per model.
        public_rows: rows of public data (all industries) every solver's model starts with.
        industry_shift: how far industries' data differ (standard deviation of each
            industry's feature-mean offset and labelling bias; 0: one shared distribution).
    """

    method: str = param("shapley", one_of("units", "loo", "shapley", "exact_shapley"))
    scope: str = param("solver", one_of("solver", "pool"))
    exact_players: int = param(6, between(0, 16))
    estimator: str = param("kernel", one_of("kernel", "permutation"))
    samples: int = param(12, between(1))
    permutations: int = param(4, between(1))
    truncation: float = param(0.005, between(0))
    max_exact_players: int = param(12, between(1))
    rows_per_corporation: int = param(16, between(2))
    test_rows: int = param(100, between(1))
    epochs: int = param(60, between(1))
    public_rows: int = param(10, between(0))
    industry_shift: float = param(1.0, between(0))


@dataclass(frozen=True)
class ReputationConfig:
    """Beta reputation from verification outcomes, with decay.

    Attributes:
        decay: weight kept by past outcomes each round, in ``(0, 1]``.
        min_to_bid: solvers below this reputation may not bid (0: no threshold).
    """

    decay: float = param(0.95, between(0, 1, open_lo=True))
    min_to_bid: float = param(0.0, between(0, 1))


@dataclass(frozen=True)
class StakingConfig:
    """Stakes and slashing.

    Attributes:
        solver_min_stake: solvers with less stake may not bid.
        corporation_stake: tokens each corporation stakes on entry (0: none).
        slash_fraction: share of its stake an agent loses per failed verification round.
        slashed_to: ``burn`` (back to the mint) or ``redistribute`` (to validators by stake).
    """

    solver_min_stake: float = param(0.0, between(0))
    corporation_stake: float = param(0.0, between(0))
    slash_fraction: float = param(0.5, between(0, 1))
    slashed_to: str = param("burn", one_of("burn", "redistribute"))


@dataclass(frozen=True)
class VerificationConfig:
    """The verification design: which checks run on each trade.

    Whether a proof rejects is drawn from the measured ``detection`` table
    (:class:`crypto.detection.DetectionTable`, written by ``intentlab calibrate
    --detection``): a poisoner's rejection rate at its share of flipped labels, a lazy
    solver's at random weights, and an honest agent's false-positive rate.

    Attributes:
        quality_proof: sellers prove in ZK the agreement of their committed labels with a
            public reference model (catches poisoners at the measured rate).
        evaluation_proof: solvers prove in ZK their delivered model's accuracy on the buyer's
            committed held-out rows (catches lazy solvers at the measured rate).
        detection: the detection table (a relative path is taken from the project directory).
        audit_rate: probability that a trade is audited (re-executed); an audit catches a
            poisoner or a lazy solver (modelled: re-execution is assumed exact).
        identity_check: corporations attest a unique legal identity (catches Sybils).
        bid_screen: bids are screened against the public fee and cost model (catches
            colluders; may flag honest low bidders).
        screen_margin: a bid is flagged below ``(1 - margin)`` times the value the public
            model predicts for the median solver.
    """

    quality_proof: bool = param(True)
    evaluation_proof: bool = param(True)
    detection: str = param("configs/calibration/detection.json")
    audit_rate: float = param(0.0, between(0, 1))
    identity_check: bool = param(False)
    bid_screen: bool = param(False)
    screen_margin: float = param(0.2, between(0, 1))

    def __post_init__(self) -> None:
        if self.quality_proof or self.evaluation_proof:
            try:
                self.detection_table()
            except (OSError, ValueError) as exc:
                raise ConfigError("incentives.verification.detection", f"{exc}") from None

    def detection_table(self) -> DetectionTable:
        """The measured detection table (read once per file version).

        Raises:
            OSError: if the file cannot be read.
            ValueError: if it is damaged or lacks a measurement the enabled proofs need.
        """
        path = Path(self.detection)
        table = DetectionTable.load(path if path.is_absolute() else PROJECT_DIR / path)
        needed = [("quality_proof", "label_flip")] if self.quality_proof else []
        if self.evaluation_proof:
            needed += [("evaluation_proof", "honest"), ("evaluation_proof", "random")]
        have = {(p.design, p.attack) for p in table.points}
        missing = [f"{d}/{a}" for d, a in needed if (d, a) not in have]
        if missing:
            raise ValueError(f"{self.detection}: no measurement of {', '.join(missing)}")
        return table


@dataclass(frozen=True)
class ValidatorsConfig:
    """Validators: verify deliveries (intent market) or weight solvers (Yuma).

    Attributes:
        count: validators, fixed over the run.
        stake_low: lowest stake drawn.
        stake_high: highest stake drawn.
        noise: standard deviation of an honest validator's error in observing a solver's
            model accuracy.
        dishonest_share: share of validators (by count) that put all their weight on one
            favoured solver.
    """

    count: int = param(8, between(1))
    stake_low: float = param(50.0, between(0))
    stake_high: float = param(500.0, between(0))
    noise: float = param(0.02, between(0))
    dishonest_share: float = param(0.0, between(0, 1))


@dataclass(frozen=True)
class YumaConfig:
    """Bittensor's Yuma consensus (see :func:`mechanisms.yuma.epoch`).

    Attributes:
        kappa: consensus majority.
        bond_penalty: ``β``.
        bond_alpha: EMA weight of the epoch's bonds.
        bond_normalization: ``column`` (subtensor: bonds normalized per solver) or ``none``
            (the raw EMA, as ``bactensor/yuma-simulation``).
        validator_share: ``ξ``: validators' share of the emission; solvers get the rest.
        open_data_prob: share of corporations that publish their data for free (nobody is
            paid for data under Yuma).
    """

    kappa: float = param(0.5, between(0, 1, open_lo=True))
    bond_penalty: float = param(1.0, between(0, 1))
    bond_alpha: float = param(0.1, between(0, 1, open_lo=True))
    bond_normalization: str = param("column", one_of(*BOND_NORMALIZATION))
    validator_share: float = param(0.5, between(0, 1))
    open_data_prob: float = param(0.1, between(0, 1))


@dataclass(frozen=True)
class IncentivesConfig:
    """The incentive regime: emission, rewards, reputation, staking, verification."""

    regime: str = param("intent_market", lambda v: one_of(*regimes.available())(v))
    token_price: float = param(0.05, between(0))
    revenue_share: float = param(0.1, between(0, 1))
    emission: EmissionConfig = field(default_factory=EmissionConfig)
    shares: SharesConfig = field(default_factory=SharesConfig)
    data_value: DataValueConfig = field(default_factory=DataValueConfig)
    reputation: ReputationConfig = field(default_factory=ReputationConfig)
    staking: StakingConfig = field(default_factory=StakingConfig)
    verification: VerificationConfig = field(default_factory=VerificationConfig)
    validators: ValidatorsConfig = field(default_factory=ValidatorsConfig)
    yuma: YumaConfig = field(default_factory=YumaConfig)

    def __post_init__(self) -> None:
        if self.staking.slashed_to == "redistribute" and self.validators.stake_high <= 0:
            raise ConfigError(
                "incentives.staking.slashed_to",
                "redistribute needs validators with stake (validators.stake_high > 0)",
            )
        if self.validators.stake_low > self.validators.stake_high:
            raise ConfigError(
                "incentives.validators.stake_low",
                f"must be <= incentives.validators.stake_high ({self.validators.stake_high})",
            )


def _job_kinds(kinds: tuple[str, ...]) -> str | None:
    from crypto.ground_truth import JOBS  # imports no crypto library

    if kinds and set(kinds) <= set(JOBS):
        return None
    return f"must be a non-empty list of job kinds; allowed: {', '.join(sorted(JOBS))}"


@dataclass(frozen=True)
class GroundTruthConfig:
    """Which executed trades are also run as real jobs (see :mod:`crypto.ground_truth`).

    Attributes:
        rate: probability that an executed trade is run for real, in ``[0, 1]``.
        scale: the real job's rows are ``units * rows_per_unit * scale`` (at least 1).
        kinds: job kinds, drawn uniformly per sampled trade.
        features: features of the job's synthetic data.
        max_jobs_per_round: at most this many real jobs per round.
        time_limit: wall seconds per job before it is killed and recorded as failed.
        memory_limit_mb: address-space limit per job.
        workers: jobs running at once in the background while the rounds go on (each in its
            own worker process); the ground-truth table waits for them.
    """

    rate: float = param(0.0, between(0, 1))
    scale: float = param(0.01, between(0, open_lo=True))
    kinds: tuple[str, ...] = param(("pipeline",), _job_kinds)
    features: int = param(8, between(1))
    max_jobs_per_round: int = param(2, between(1))
    time_limit: float = param(120.0, between(0, open_lo=True))
    memory_limit_mb: int = param(4096, between(64))
    workers: int = param(1, between(1))


@dataclass(frozen=True)
class CryptoConfig:
    """The processing-cost model (see :class:`crypto.CostModel`) and ground-truth sampling.

    Attributes:
        cost_scale: multiplies the encrypted processing cost (FHE training + proof).
        encryption: ``false`` runs a market without FHE or ZK: solvers train in the clear
            (the ``train_plain`` cost), intents require neither, and corporations bear
            ``leakage_cost`` per unit shared on top of their sharing cost.
        leakage_cost: per-unit cost of sharing data unencrypted.
    """

    cost_source: str = param("calibration", one_of("calibration", "reference"))
    calibration: str = param("configs/calibration/default.json")
    features: int = param(9, between(1))
    fhe_seconds_per_row_epoch: float = param(0.18, between(0))
    rows_per_unit: int = param(100, between(1))
    epochs: int = param(5, between(1))
    proof_seconds_per_unit: float = param(5.2, between(0))
    plain_seconds_per_row_epoch: float = param(4e-7, between(0))
    cost_scale: float = param(1.0, between(0, open_lo=True))
    encryption: bool = param(True)
    leakage_cost: float = param(1.0, between(0))
    ground_truth: GroundTruthConfig = field(default_factory=GroundTruthConfig)

    def __post_init__(self) -> None:
        if self.cost_source == "calibration":
            try:
                self.cost_model()
            except (OSError, ValueError, KeyError) as exc:
                raise ConfigError("crypto.calibration", f"{self.calibration}: {exc}") from None

    def calibration_path(self) -> Path:
        """The calibration file (a relative path is taken from the project directory)."""
        path = Path(self.calibration)
        return path if path.is_absolute() else PROJECT_DIR / path

    def seconds_per_unit(self) -> float:
        """Reference compute-seconds to process one data unit under these settings."""
        model = self.cost_model()
        if self.encryption:
            return self.cost_scale * model.seconds_per_unit()
        return model.plain_seconds_per_unit()

    def cost_model(self) -> CostModel | CalibratedCostModel:
        """The cost model these parameters define."""
        if self.cost_source == "calibration":
            from crypto.calibration import Calibration

            return CalibratedCostModel(
                Calibration.load(self.calibration_path()),
                self.rows_per_unit,
                self.features,
                self.epochs,
            )
        names = [f.name for f in dataclasses.fields(CostModel)]
        return CostModel(**{name: getattr(self, name) for name in names})


@dataclass(frozen=True)
class SimConfig:
    """One simulation run.

    Attributes:
        seed: seeds the model's random generator; same config and seed give identical results.
        rounds: number of rounds (Mesa steps).
        compute_optimum: solve the welfare planner every round (for efficiency); off for speed.
        welfare_solver: the planner's solver: ``FLOW`` (network simplex, POT) or a cvxpy
            solver (an LP; ``HIGHS`` through scipy).
    """

    seed: int = param(0, between(0))
    rounds: int = param(50, between(1))
    compute_optimum: bool = param(True)
    welfare_solver: str = param(
        "FLOW", lambda v: None if v == "FLOW" else one_of(*welfare_solvers())(v)
    )
    market: MarketConfig = field(default_factory=MarketConfig)
    mechanism: MechanismConfig = field(default_factory=MechanismConfig)
    agents: AgentsConfig = field(default_factory=AgentsConfig)
    incentives: IncentivesConfig = field(default_factory=IncentivesConfig)
    crypto: CryptoConfig = field(default_factory=CryptoConfig)

    def __post_init__(self) -> None:
        cls = mechanisms.mechanism_class(self.mechanism.name)
        if cls.properties["markets"] == "homogeneous" and not self.market.homogeneous:
            raise ConfigError(
                "mechanism",
                f"{self.mechanism.name} clears only homogeneous markets: set "
                "market.homogeneous=true (one ask per seller, one bid per buyer, no intents)",
            )
        market, agents = self.market, self.agents
        leak = 0.0 if self.crypto.encryption else self.crypto.leakage_cost
        largest = {"markup": agents.markup, "fill_rate": agents.fill_rate_max,
                   "exp3": agents.learner.max_markup}  # fmt: skip
        markup = max(
            [f for name, f in largest.items() if agents.corporation_strategies.get(name, 0) > 0],
            default=0.0,
        )
        highest_ask = (market.sharing_cost_high * (1 + market.competitor_premium) + leak) * (
            1 + markup
        )
        if highest_ask > MAX_MAGNITUDE:
            raise ConfigError(
                "market.sharing_cost_high",
                f"asks could reach {highest_ask:g} (sharing cost x (1 + competitor_premium), "
                f"plus leakage, x (1 + the largest markup)); a market's values must lie within "
                f"+-{MAX_MAGNITUDE:g}",
            )
        value = self.incentives.data_value
        if value.method == "exact_shapley":
            identities = market.n_corporations * (
                agents.adversaries.sybil_identities if agents.adversaries.sybil > 0 else 1
            )
            if identities > value.max_exact_players or agents.corporation_arrival_rate > 0:
                raise ConfigError(
                    "incentives.data_value.method",
                    f"exact_shapley values at most max_exact_players "
                    f"({value.max_exact_players}) contributors a round, and this market can "
                    f"have {identities} corporation identities"
                    + (" plus arrivals" if agents.corporation_arrival_rate > 0 else "")
                    + "; use shapley or loo, or at most that many corporations "
                    "with agents.corporation_arrival_rate=0",
                )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SimConfig:
        """Build and validate a config from a nested mapping.

        Keys starting with ``_`` (Hydra's ``_target_``) are ignored except under
        ``mechanism``, where ``_target_`` must name the registered class. Under ``mechanism``,
        every key other than ``name`` is a parameter of the mechanism.

        Raises:
            ConfigError: naming the first unknown key or bad value.
        """
        return build_config(cls, data, "")

    def to_dict(self) -> dict[str, Any]:
        """The config as plain nested dicts and lists (mechanism params flattened)."""
        out = plain(dataclasses.asdict(self))
        mech = out.pop("mechanism")
        out["mechanism"] = {"name": mech["name"], **mech["params"]}
        return out


def with_values(config: SimConfig, values: Mapping[str, Any]) -> SimConfig:
    """``config`` with dotted keys set to new values, validated.

    Args:
        config: the config to start from.
        values: e.g. ``{"market.n_solvers": 5, "incentives.token_price": 0.1}``.

    Raises:
        ConfigError: naming an unknown key or a bad value.
    """
    data = config.to_dict()
    for key, value in values.items():
        node, (*path, last) = data, key.split(".")
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict) or last not in node:
            raise ConfigError(key, "unknown key")
        node[last] = value
    return SimConfig.from_dict(data)


def plain(value: Any) -> Any:
    """Nested dicts, lists and tuples as plain dicts and lists (for YAML)."""
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _mechanism_dict(data: Mapping[str, Any]) -> dict[str, Any]:
    data = dict(data)
    name = data.pop("name", MechanismConfig().name)
    target = data.pop("_target_", None)
    if not isinstance(name, str):
        raise ConfigError("mechanism.name", f"allowed: {', '.join(mechanisms.available())}")
    if target is not None:
        try:
            cls = mechanisms.mechanism_class(name)
        except ValueError as exc:
            raise ConfigError("mechanism.name", str(exc)) from None
        expected = f"{cls.__module__}.{cls.__qualname__}"
        if target != expected:
            raise ConfigError("mechanism._target_", f"must be {expected} for mechanism {name!r}")
    params = data.pop("params", None)
    if params is not None:
        data.update(params)
    return {"name": name, "params": data}


def build_config(cls: type, data: Mapping[str, Any], prefix: str = "") -> Any:
    """Build the config dataclass ``cls`` from ``data``, validating every key and value.

    Args:
        cls: a frozen dataclass whose fields use :func:`param` (nested dataclasses allowed).
        data: the nested mapping.
        prefix: dotted prefix of the keys in error messages (e.g. ``"study."``).

    Raises:
        ConfigError: naming the first unknown key or bad value.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(prefix.rstrip(".") or "config", "must be a mapping of keys to values")
    if cls is MechanismConfig:
        data = _mechanism_dict(data)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in data:
        if key not in fields and not key.startswith("_"):
            raise ConfigError(f"{prefix}{key}", f"unknown key; allowed keys: {', '.join(fields)}")
    kwargs = {}
    for name, f in fields.items():
        if name not in data:
            continue
        key, hint, value = f"{prefix}{name}", hints[name], data[name]
        if dataclasses.is_dataclass(hint):
            kwargs[name] = build_config(hint, value, f"{key}.")
            continue
        value = _coerce(key, hint, value)
        check = f.metadata.get("check")
        problem = check(value) if check else None
        if problem:
            raise ConfigError(key, f"{value!r} not allowed, {problem}")
        kwargs[name] = value
    try:
        return cls(**kwargs)
    except ConfigError:
        raise
    except ValueError as exc:
        raise ConfigError(prefix.rstrip(".") or "config", str(exc)) from None


def _coerce(key: str, hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(key, f"{value!r} not allowed, must be true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(key, f"{value!r} not allowed, must be an integer")
        return value
    if hint is float:
        if not is_number(value):
            raise ConfigError(key, f"{value!r} not allowed, must be a finite number")
        if abs(value) > MAX_MAGNITUDE:
            raise ConfigError(key, f"{value!r} not allowed, must lie within +-{MAX_MAGNITUDE:g}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(key, f"{value!r} not allowed, must be a string")
        return value
    if origin is tuple:
        item = typing.get_args(hint)[0]
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise ConfigError(key, f"{value!r} not allowed, must be a list")
        if item is int and not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise ConfigError(key, f"{value!r} not allowed, must be a list of integers")
        if item is str and not all(isinstance(v, str) for v in value):
            raise ConfigError(key, f"{value!r} not allowed, must be a list of names")
        return tuple(value)
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(key, f"{value!r} not allowed, must be a mapping")
        return dict(value)
    raise TypeError(f"config field {key} has unsupported type {hint}")
