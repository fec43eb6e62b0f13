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

import cvxpy as cp

import mechanisms
from agents.strategies import strategy_names
from crypto.costs import CalibratedCostModel, CostModel

PROJECT_DIR = Path(__file__).resolve().parents[1]

INCENTIVE_REGIMES = ("intent_market",)


class ConfigError(ValueError):
    """A bad configuration key or value. ``str(error)`` is one readable line.

    Attributes:
        key: the dotted key at fault.
    """

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


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


def param(default: Any, check: Check | None = None) -> Any:
    """A config field with a default and a value check."""
    kwargs: dict[str, Any] = {"metadata": {"check": check}}
    if isinstance(default, dict | list | tuple):
        kwargs["default_factory"] = lambda: type(default)(default)
    else:
        kwargs["default"] = default
    return field(**kwargs)


def _strategy_mix(side: str) -> Check:
    names = strategy_names(side)  # type: ignore[arg-type]

    def check(mix: Mapping[str, float]) -> str | None:
        unknown = sorted(set(mix) - set(names))
        if unknown:
            return f"unknown strategy {unknown[0]!r}; allowed: {', '.join(names)}"
        if any(not (isinstance(w, int | float) and w >= 0) for w in mix.values()):
            return "weights must be numbers >= 0"
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


@dataclass(frozen=True)
class MechanismConfig:
    """Which registered mechanism clears the market, and its parameters."""

    name: str = param("dutch")
    params: dict[str, Any] = param({"tick": 0.01, "clock": "exact", "max_ticks": 1_000_000})

    def __post_init__(self) -> None:
        try:
            mechanisms.get(self.name, **self.params)
        except ValueError as exc:
            raise ConfigError("mechanism", str(exc)) from None

    def build(self) -> mechanisms.Mechanism:
        """Instantiate the mechanism."""
        return mechanisms.get(self.name, **self.params)


@dataclass(frozen=True)
class AgentsConfig:
    """Strategies, entry and exit."""

    corporation_strategies: dict[str, float] = param(
        {"truthful": 1.0, "markup": 0.0, "adaptive": 0.0}, _strategy_mix("sell")
    )
    solver_strategies: dict[str, float] = param(
        {"truthful": 1.0, "shading": 0.0, "adaptive": 0.0}, _strategy_mix("buy")
    )
    markup: float = param(0.2, between(0))
    shading: float = param(0.2, between(0, 1))
    adaptive_step: float = param(0.05, between(0, open_lo=True))
    adaptive_max: float = param(0.5, between(0))
    utility_memory: float = param(0.2, between(0, 1, open_lo=True))
    grace_rounds: int = param(5, between(0))
    corporation_outside_option: float = param(1.0)
    solver_outside_option: float = param(2.0)
    corporation_arrival_rate: float = param(0.01, between(0))
    solver_arrival_rate: float = param(0.01, between(0))
    network_elasticity: float = param(1.0, between(0))


@dataclass(frozen=True)
class IncentivesConfig:
    """Token emission and how it is split."""

    regime: str = param("intent_market", one_of(*INCENTIVE_REGIMES))
    emission_per_round: float = param(100.0, between(0))
    corporation_share: float = param(0.5, between(0, 1))
    token_price: float = param(0.05, between(0))


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
    """

    rate: float = param(0.0, between(0, 1))
    scale: float = param(0.01, between(0, open_lo=True))
    kinds: tuple[str, ...] = param(("commit", "train_plain"), _job_kinds)
    features: int = param(8, between(1))
    max_jobs_per_round: int = param(2, between(1))
    time_limit: float = param(120.0, between(0, open_lo=True))
    memory_limit_mb: int = param(4096, between(64))


@dataclass(frozen=True)
class CryptoConfig:
    """The processing-cost model (see :class:`crypto.CostModel`) and ground-truth sampling."""

    cost_source: str = param("calibration", one_of("calibration", "reference"))
    calibration: str = param("configs/calibration/default.json")
    features: int = param(9, between(1))
    fhe_seconds_per_row_epoch: float = param(0.074, between(0))
    rows_per_unit: int = param(100, between(1))
    epochs: int = param(5, between(1))
    proof_seconds_per_unit: float = param(5.2, between(0))
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
        welfare_solver: cvxpy solver for the planner.
    """

    seed: int = param(0, between(0))
    rounds: int = param(50, between(1))
    compute_optimum: bool = param(True)
    welfare_solver: str = param("HIGHS", lambda v: one_of(*cp.installed_solvers())(v))
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
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ConfigError(key, f"{value!r} not allowed, must be a finite number")
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
