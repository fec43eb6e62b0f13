"""Strategic learners against auction theory: what payoff-driven learners converge to.

Learners (registered strategies that learn from payoffs, :mod:`agents.strategies`) play
repeated auctions (:mod:`sim.learning`) in three market families, each mechanism where
theory gives an answer or where the simulation needs one:

* single-item auctions, ``n`` learning buyers with values iid U[0, 1]: first price and
  Dutch (Bayes-Nash shading ``1 / n``; the Dutch clock is strategically the first-price
  auction for one unit), VCG (truthful is dominant: shading 0);
* unit double auctions, ``n`` learning sellers and buyers with one unit each: McAfee
  (truthful dominant on both sides);
* the simulation's per-pair markets: Dutch and posted price, where theory gives no closed
  form: what learners converge to, and the welfare it costs against truthful reports on the
  same markets.

For every game the study also checks the learned profile: how much a learner could gain by
switching alone to any fixed factor on the grid (:func:`sim.learning.deviations`).

Assumptions the figures rest on: values are private and iid each round (no learning across
rounds about a fixed value); learners bid by a factor of their value (linear bidding
functions, which contain the single-item equilibria); full-information learners see what
any factor would have earned against the round's other reports.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import mechanisms
from agents.strategies import STRATEGIES
from experiments.figures import PAGE_WIDTH, PALETTE, _band, _save, seeds, t_scale
from experiments.studies.base import Study, Tables, check_mechanism_params, run_jobs
from sim.config import ConfigError, SimConfig, between, one_of, param
from sim.learning import SINGLE_ITEM_PAYMENT, Game, deviations, play
from sim.results import rounded

#: How close to theory's equilibrium factor a learner must end for the study's verdict.
TOLERANCE = 0.05


def theory(mechanism: str, market: str, agents: int, side: str) -> float:
    """The equilibrium factor theory predicts, NaN where it gives none.

    First price and Dutch, single item, ``n`` buyers with iid U[0, 1] values: ``1 / n``
    (symmetric Bayes-Nash equilibrium); VCG single item and McAfee on unit markets: 0
    (truthful reporting is dominant).
    """
    if market == "single_item" and side == "buy":
        if mechanism in ("first_price", "dutch"):
            return 1.0 / agents
        if mechanism == "vcg":
            return 0.0
    if market == "unit_double" and mechanism == "mcafee":
        return 0.0
    return float("nan")


def _learners(value: tuple[str, ...]) -> str | None:
    allowed = [n for n, cls in STRATEGIES.items() if cls.feedback != "none" or n == "fill_rate"]
    if not value or not set(value) <= set(allowed):
        return f"allowed: {', '.join(allowed)}"
    return None


def _single_item(value: tuple[str, ...]) -> str | None:
    allowed = tuple(SINGLE_ITEM_PAYMENT)
    return None if set(value) <= set(allowed) else f"allowed: {', '.join(allowed)}"


def _registered(value: tuple[str, ...]) -> str | None:
    allowed = mechanisms.available()
    return None if set(value) <= set(allowed) else f"allowed: {', '.join(allowed)}"


def _sizes(value: tuple[int, ...]) -> str | None:
    return None if value and min(value) >= 1 else "must be a non-empty list of integers >= 1"


def _pair(value: tuple[int, ...]) -> str | None:
    return None if len(value) == 2 and min(value) >= 1 else "must be [corporations, solvers] >= 1"


@dataclass(frozen=True)
class LearningConfig:
    """The ``study`` block of ``experiment=learning``.

    Attributes:
        kind: always ``learning``.
        learners: strategies that learn (``hedge``, ``gradient``: full information;
            ``exp3``: bandit; ``fill_rate``: the fill-rate heuristic, for contrast).
        single_item: mechanisms of single-item auctions.
        buyers: numbers of learning buyers in single-item auctions.
        unit_double: mechanisms of unit double auctions.
        unit_agents: sellers (and buyers) of a unit double auction.
        per_pair: mechanisms on the simulation's per-pair markets.
        per_pair_agents: ``[corporations, solvers]`` of a per-pair market.
        mechanism_params: per-mechanism parameters.
        rounds: rounds per single-item game.
        market_rounds: rounds per unit double and per-pair game (each costs a re-clear per
            learner and probe).
        seeds: seeds ``seed, seed + 1, ...`` per game.
        factors: grid points of the grid learners and of the deviation check (single item).
        market_factors: the same on unit double and per-pair markets.
        max_markup: sellers' largest factor.
        max_shading: buyers' largest factor.
        eta: ``hedge``'s learning rate.
        bandit_factors: ``exp3``'s grid points (in every market: a bandit learner needs
            rounds in proportion to its grid).
        bandit_eta: ``exp3``'s learning rate.
        exploration: ``exp3``'s uniform exploration.
        step: ``gradient``'s learning rate (``fill_rate``'s step is ``step / 10``).
        delta: ``gradient``'s probe half-width (and its largest move per round).
        initial: the factor ``gradient`` and ``fill_rate`` start from (at most the
            smaller largest factor); grid learners start uniform.
        deviation_rounds: rounds the deviation check averages over (single item; a tenth
            of them, at least 20, on the other markets).
        block: rounds averaged into one point of the learning curves of single-item games
            (the other games' curves have as many points).
        efficiency_every: single-item games measure efficiency every this many rounds
            (every round on the other markets).
        workers: processes the games run on; 0: one per core (use 1 inside a sweep).
    """

    kind: str = param("learning", one_of("learning"))
    learners: tuple[str, ...] = param(("hedge", "gradient", "exp3", "fill_rate"), _learners)
    single_item: tuple[str, ...] = param(("first_price", "dutch", "vcg"), _single_item)
    buyers: tuple[int, ...] = param((2, 3, 5), _sizes)
    unit_double: tuple[str, ...] = param(("mcafee",), _registered)
    unit_agents: int = param(4, between(1))
    per_pair: tuple[str, ...] = param(("dutch", "posted_price"), _registered)
    per_pair_agents: tuple[int, ...] = param((8, 3), _pair)
    mechanism_params: dict[str, Any] = param(  # noqa: RUF009 (param copies it per instance)
        {
            "first_price": {"solver": "FLOW"},
            "vcg": {"solver": "FLOW"},
            "posted_price": {"price": 1.5},
        }
    )
    rounds: int = param(10000, between(2))
    market_rounds: int = param(400, between(2))
    seeds: int = param(3, between(1))
    factors: int = param(96, between(2))
    market_factors: int = param(11, between(2))
    max_markup: float = param(0.95, between(0, open_lo=True))
    max_shading: float = param(0.95, between(0, 1, open_lo=True))
    eta: float = param(1.0, between(0, open_lo=True))
    bandit_factors: int = param(21, between(2))
    bandit_eta: float = param(0.05, between(0, open_lo=True))
    exploration: float = param(0.1, between(0, 1, open_lo=True))
    step: float = param(0.5, between(0, open_lo=True))
    delta: float = param(0.05, between(0, open_lo=True))
    initial: float = param(0.45, between(0))
    deviation_rounds: int = param(4000, between(2))
    block: int = param(100, between(1))
    efficiency_every: int = param(10, between(1))
    workers: int = param(0, between(0))

    def __post_init__(self) -> None:
        if self.initial > min(self.max_markup, self.max_shading):
            raise ConfigError("study.initial", "must be <= study.max_markup and study.max_shading")
        if not (self.single_item or self.unit_double or self.per_pair):
            raise ConfigError("study.single_item", "no mechanism in any market family")
        check_mechanism_params(self.mechanism_params)

    def games(self, base: SimConfig) -> list[Game]:
        """Every game the study plays: family, mechanism, size, learner, seed."""
        cases = [("single_item", m, n) for m in self.single_item for n in self.buyers]
        cases += [("unit_double", m, self.unit_agents) for m in self.unit_double]
        cases += [("per_pair", m, tuple(self.per_pair_agents)) for m in self.per_pair]
        return [
            Game(
                mechanism=mechanism,
                market=market,
                agents=agents,
                learner=learner,
                rounds=self.rounds if market == "single_item" else self.market_rounds,
                seed=base.seed + s,
                mechanism_params=dict(self.mechanism_params.get(mechanism, {})),
                learner_params=self.learner_params(learner, market),
                max_markup=self.max_markup,
                max_shading=self.max_shading,
                base=base,
            )
            for market, mechanism, agents in cases
            for learner in self.learners
            for s in range(self.seeds)
        ]

    def grid(self, market: str) -> int:
        """Grid points of learners and deviation checks in ``market``."""
        return self.factors if market == "single_item" else self.market_factors

    def learner_params(self, learner: str, market: str) -> dict[str, Any]:
        """The parameters ``learner`` is built with, besides side, range and generator."""
        factors = self.grid(market)
        return {
            "hedge": {"factors": factors, "eta": self.eta},
            "exp3": {
                "factors": self.bandit_factors,
                "eta": self.bandit_eta,
                "exploration": self.exploration,
            },
            "gradient": {"step": self.step, "delta": self.delta, "initial": self.initial},
            "fill_rate": {"step": self.step / 10, "initial": self.initial},
        }.get(learner, {})


def _size(game: Game) -> str:
    agents = np.atleast_1d(game.agents)
    return "x".join(str(int(a)) for a in agents)


def _case(game: Game) -> dict[str, Any]:
    return {
        "learner": game.learner,
        "mechanism": game.mechanism,
        "market": game.market,
        "agents": _size(game),
        "seed": game.seed,
    }


def _curves(game: Game, history, block: int) -> list[dict]:
    """The game's learning curves: block means per side."""
    rows = []
    rounds = history.factor.shape[0]
    n = int(np.atleast_1d(game.agents)[-1]) if game.market == "single_item" else 0
    for side in ("sell", "buy"):
        cols = history.sides == side
        if not cols.any():
            continue
        for start in range(0, rounds, block):
            stop = min(rounds, start + block)
            window = slice(start, stop)
            rows.append(
                {
                    **_case(game),
                    "side": side,
                    "round": (start + stop - 1) / 2,
                    "last_half": start >= rounds // 2,
                    "factor": float(history.factor[window, cols].mean()),
                    "expected_factor": float(history.expected_factor[window, cols].mean()),
                    "utility": float(history.utility[window, cols].mean()),
                    "efficiency": _measured_mean(history.efficiency[window]),
                    "truthful_efficiency": _measured_mean(history.truthful_efficiency[window]),
                    "theory": theory(game.mechanism, game.market, n, side),
                }
            )
    return rows


def _measured_mean(values: np.ndarray) -> float:
    """The mean of the rounds that measured it (NaN where none did)."""
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else np.nan


class Learning(Study):
    """Learned factors against theory, per mechanism, market and learner.

    Tables: ``learning`` (learning curves: block means per game and side) and
    ``deviations`` (per learner at the end of each game: its expected utility, its best
    fixed deviation on the grid and what it gains).
    """

    kind = "learning"
    Config = LearningConfig
    tables = ("learning.parquet", "deviations.parquet")
    small = ("study.rounds=3000", "study.market_rounds=200", "study.seeds=2",
             "study.deviation_rounds=1000")  # fmt: skip
    tiny = ("study.buyers=[2]", "study.single_item=[first_price,vcg]",
            "study.rounds=60", "study.market_rounds=4", "study.seeds=1", "study.unit_agents=2",
            "study.per_pair=[dutch]", "study.per_pair_agents=[3,2]", "study.factors=5",
            "study.market_factors=3", "study.deviation_rounds=20", "study.block=10")  # fmt: skip
    verdict_runs = {  # noqa: RUF012 (read-only): Hedge in first-price auctions only
        "learners": ("hedge",), "single_item": ("first_price",), "unit_double": (),
        "per_pair": (),
    }  # fmt: skip
    assumptions = {  # noqa: RUF012 (read-only)
        "study.eta": (0.25, 1.0, 4.0),
        "study.factors": (24, 48, 96),
        "study.rounds": (1000, 3000, 10000),
    }

    def run(self, base: SimConfig, config: LearningConfig, progress: bool = False) -> Tables:
        """Play every game, then check each learned profile against deviations.

        Games run on ``config.workers`` forked processes where forking is safe (results do
        not depend on it: each game draws from its own seed), one after the other otherwise.
        """
        games = config.games(base)
        play = functools.partial(_play_one, config=config)
        done = run_jobs(play, games, config.workers, progress, desc="games")
        curves = [row for rows, _ in done for row in rows]
        deviating = [row for _, rows in done for row in rows]
        return {"learning": pd.DataFrame(curves), "deviations": pd.DataFrame(deviating)}

    def plot(self, tables: Tables, path: Path) -> Path:
        """One panel per mechanism, market and size: learned factor over rounds against theory.

        Lines are means over seeds, bands their 95% confidence interval (t, over seeds);
        the dashed black line is theory's equilibrium factor where there is one.
        """
        table = tables["learning"]
        cases = table[["market", "mechanism", "agents"]].drop_duplicates()
        learners = sorted(table["learner"].unique())
        named = {"hedge": PALETTE[0], "gradient": PALETTE[2], "exp3": PALETTE[4],
                 "fill_rate": "0.55"}  # fmt: skip
        others = iter(c for c in PALETTE if c not in named.values())
        colors = {name: named.get(name) or next(others, "0.3") for name in learners}
        styles = {"buy": "-", "sell": "--"}
        cols = 3
        rows = -(-len(cases) // cols)
        fig, axes = plt.subplots(
            rows, cols, figsize=(PAGE_WIDTH, 1.9 * rows + 0.6), squeeze=False, layout="constrained"
        )
        for ax, (_, case) in zip(axes.flat, cases.iterrows(), strict=False):
            mask = (table[["market", "mechanism", "agents"]] == case.to_numpy()).all(axis=1)
            sub = table[mask]
            for (learner, side), group in sub.groupby(["learner", "side"]):
                _band(ax, group.groupby("round")["factor"], colors[learner], styles[side],
                      t=True, floor=0.0, lw=1.2)  # fmt: skip
            for side, group in sub.groupby("side"):
                value = group["theory"].iloc[0]
                if np.isfinite(value):
                    ax.axhline(value, color="black", ls=":" if side == "sell" else "--", lw=1)
            ax.set_title(f"{case.mechanism}, {case.market.replace('_', ' ')} {case.agents}"
                         f" ({seeds(sub['seed'].nunique())})", fontsize=8)  # fmt: skip
            ax.set_ylim(bottom=-0.02)  # a theory line at 0 stays visible
            ax.grid(alpha=0.3)
        for ax in axes.flat[len(cases) :]:
            ax.set_visible(False)
        for ax in axes[:, 0]:
            ax.set_ylabel("factor (shading / markup)")
        for ax in axes[-1]:
            ax.set_xlabel("round")
        handles = [plt.Line2D([], [], color=colors[n], label=n) for n in learners]
        handles += [
            plt.Line2D([], [], color="0.3", ls="-", label="buyers' shading"),
            plt.Line2D([], [], color="0.3", ls="--", label="sellers' markup"),
            plt.Line2D([], [], color="black", ls="--", lw=1, label="theory (equilibrium)"),
        ]
        fig.legend(handles=handles, loc="outside lower center", ncols=3, frameon=False)
        return _save(fig, Path(path))

    def summary(self, tables: Tables) -> pd.DataFrame:
        """Per learner, mechanism, market, size and side: learned factor vs theory."""
        return summarize(tables)

    def verdict(self, tables: Tables) -> pd.DataFrame:
        """Per seed and game with a theory: ``TOLERANCE`` less the learned factor's distance.

        The learned factor is the seed's mean over the last half of the rounds; positive
        values say the learner ends within ``TOLERANCE`` of theory's equilibrium factor
        (the claim the slow tests hold Hedge and the gradient learner to).
        """
        keys = ["learner", "mechanism", "agents", "side"]
        table = tables["learning"]
        late = table[table["last_half"] & np.isfinite(table["theory"])]
        per_seed = late.groupby([*keys, "seed"]).agg(
            factor=("factor", "mean"), theory=("theory", "first")
        )
        value = TOLERANCE - (per_seed["factor"] - per_seed["theory"]).abs()
        rows = [
            {"quantity": f"{learner} {mechanism} n={agents} {side}: {TOLERANCE:g} - "
                         "|learned - theory|", "seed": seed, "value": v}
            for (learner, mechanism, agents, side, seed), v in value.items()
        ]  # fmt: skip
        return pd.DataFrame(rows)


def _play_one(game: Game, config: LearningConfig) -> tuple[list[dict], list[dict]]:
    """One game: its learning curves, then its deviation check, as table rows."""
    single = game.market == "single_item"
    history = play(game, efficiency_every=config.efficiency_every if single else 1)
    rounds = config.deviation_rounds if single else max(20, config.deviation_rounds // 10)
    found = deviations(game, history.strategies, rounds, config.grid(game.market))
    deviating = [
        {
            **_case(game),
            "agent": k,
            "side": str(side),
            "utility": float(found.utility[k]),
            "best_factor": float(found.best_factor[k]),
            "gain": float(found.gain[k]),
            "relative_gain": float(found.relative_gain[k]),
            "standard_error": float(found.standard_error[k]),
            "rounds": rounds,
        }
        for k, side in enumerate(history.sides)
    ]
    block = config.block if single else max(1, config.block * config.market_rounds // config.rounds)
    return _curves(game, history, block), deviating


def summarize(tables: Tables) -> pd.DataFrame:
    """Learned factor against theory, efficiency, and the largest deviation gain.

    The learned factor is the mean over seeds of each seed's last-half mean; ``ci95`` its
    95% t interval over seeds (seeds are the independent units, rounds are not).
    """
    keys = ["learner", "mechanism", "market", "agents", "side"]
    late = tables["learning"][tables["learning"]["last_half"]]
    per_seed = late.groupby([*keys, "seed"]).agg(
        factor=("factor", "mean"),
        theory=("theory", "first"),
        efficiency=("efficiency", "mean"),
        truthful_efficiency=("truthful_efficiency", "mean"),
    )
    grouped = per_seed.groupby(keys)
    out = grouped.agg(
        seeds=("factor", "size"),
        theory=("theory", "first"),
        learned=("factor", "mean"),
        efficiency=("efficiency", "mean"),
        truthful_efficiency=("truthful_efficiency", "mean"),
    )
    sem = grouped["factor"].sem().fillna(0)
    out["ci95"] = t_scale(out["seeds"]) * sem
    out["learned_minus_theory"] = out["learned"] - out["theory"]
    gains = tables["deviations"].groupby(keys)["relative_gain"].max()
    out["max_deviation_gain"] = gains.reindex(out.index)
    columns = ["seeds", "theory", "learned", "ci95", "learned_minus_theory", "efficiency",
               "truthful_efficiency", "max_deviation_gain"]  # fmt: skip
    return rounded(out[columns])


__all__ = ["Learning", "LearningConfig", "summarize", "theory"]
