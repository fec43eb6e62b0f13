"""Repeated auctions between learning agents: where learners meet auction theory.

A :class:`Game` is a mechanism, a family of markets, a learner and a number of rounds.
Every round draws fresh true values; every learning agent reports by the factor its
strategy holds (sellers ``cost + f * |cost|``, buyers ``value - f * |value|``); the
mechanism clears the reported market; and every learner is told its realized utility
(true value of what it bought less what it paid; what it was paid less the true cost of
what it sold) and, if it learns from full feedback (:attr:`agents.Strategy.feedback`), the
utility each of its probes would have earned: the round's market re-cleared with only its
report changed. Sealed-bid mechanisms make that computation possible for a bidder who knows
the others' reports of the round; it is what *full information* means here.

Market families (``Game.market``):

* ``single_item``: one seller with one unit at cost 0, reporting truthfully, and ``n``
  learning buyers with one unit each and values iid U[0, 1]. The textbook single-item
  auction: in a first-price (and, for one unit, Dutch) auction the symmetric Bayes-Nash
  equilibrium bid is ``(n - 1) / n * v``, a shading factor of ``1 / n``; in VCG (a
  second-price auction here) bidding the value is dominant.
* ``unit_double``: ``n`` learning sellers with costs iid U[0, 1] and ``n`` learning buyers
  with values iid U[0, 1], one unit each, homogeneous (McAfee's setting, where truthful
  reporting is dominant on both sides).
* ``per_pair``: the simulation's markets (:meth:`sim.MarketModel.draw_market`, round 0
  population, fresh tasks each round): per-pair costs and values, intents, quantities;
  every corporation and solver learns.

Values, the learners' own draws and the mechanism's randomness come from separate streams
of ``Game.seed``, so two games with the same seed and market see the same values.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm.auto import tqdm

import mechanisms
from agents.strategies import STRATEGIES, Feedback, Strategy, takes
from mechanisms.market import Market, Outcome

MARKETS = ("single_item", "unit_double", "per_pair")


@dataclass(frozen=True)
class Game:
    """One repeated game between learners.

    Attributes:
        mechanism: registry name of the mechanism.
        market: ``single_item``, ``unit_double`` or ``per_pair`` (module docstring).
        agents: learning buyers (``single_item``), sellers and buyers each
            (``unit_double``), or ``(corporations, solvers)`` (``per_pair``).
        learner: registry name of every learning agent's strategy.
        rounds: rounds to play.
        seed: the seed of every draw.
        mechanism_params: the mechanism's parameters.
        learner_params: the learner's parameters besides ``side``, ``rng`` and
            ``max_factor`` (e.g. ``factors``, ``eta``).
        max_markup: sellers' largest factor.
        max_shading: buyers' largest factor (``<= 1``).
        base: the simulation config ``per_pair`` markets are drawn from (None: defaults).
    """

    mechanism: str
    market: str
    agents: int | tuple[int, int]
    learner: str
    rounds: int
    seed: int = 0
    mechanism_params: dict[str, Any] = field(default_factory=dict)
    learner_params: dict[str, Any] = field(default_factory=dict)
    max_markup: float = 1.0
    max_shading: float = 0.95
    base: Any = None

    def __post_init__(self) -> None:
        if self.market not in MARKETS:
            raise ValueError(f"market {self.market!r}; allowed: {', '.join(MARKETS)}")
        if self.learner not in STRATEGIES:
            raise ValueError(f"learner {self.learner!r}; allowed: {', '.join(STRATEGIES)}")
        sizes = np.atleast_1d(self.agents)
        if sizes.size != (2 if self.market == "per_pair" else 1) or sizes.min() < 1:
            raise ValueError(
                f"agents {self.agents!r}: one integer >= 1 for {self.market} markets"
                if self.market != "per_pair"
                else f"agents {self.agents!r}: (corporations, solvers), each >= 1"
            )
        if self.rounds < 1:
            raise ValueError(f"rounds must be >= 1, got {self.rounds}")


@dataclass
class History:
    """What a game recorded, round by round.

    Attributes:
        sides: each learning agent's side (``"sell"`` or ``"buy"``), sellers first.
        factor: ``(rounds, agents)`` the factor each learner reported by.
        expected_factor: ``(rounds, agents)`` the mean of the factor's distribution before
            the draw (the factor itself for learners that do not draw).
        utility: ``(rounds, agents)`` realized utilities.
        efficiency: ``(rounds,)`` realized welfare on true values over the optimum (NaN
            where the optimum is 0).
        truthful_efficiency: ``(rounds,)`` the same mechanism's efficiency on the same
            market had everyone reported truthfully.
        strategies: the learners at the end (their learned state).
    """

    sides: np.ndarray
    factor: np.ndarray
    expected_factor: np.ndarray
    utility: np.ndarray
    efficiency: np.ndarray
    truthful_efficiency: np.ndarray
    strategies: list[Strategy]


class _Markets:
    """Draws each round's true market of a game's family."""

    def __init__(self, game: Game, rng: np.random.Generator) -> None:
        self.game, self.rng = game, rng
        if game.market == "per_pair":
            from sim.config import SimConfig
            from sim.model import MarketModel

            base = game.base if game.base is not None else SimConfig()
            n, m = game.agents  # type: ignore[misc]
            market_cfg = dataclasses.replace(base.market, n_corporations=n, n_solvers=m)
            seed = int(rng.integers(2**63))
            self.model = MarketModel(dataclasses.replace(base, seed=seed, market=market_cfg))

    @property
    def shape(self) -> tuple[int, int]:
        """Sellers and buyers."""
        game = self.game
        if game.market == "single_item":
            return 1, int(game.agents)  # type: ignore[arg-type]
        if game.market == "unit_double":
            return int(game.agents), int(game.agents)  # type: ignore[arg-type]
        return tuple(game.agents)  # type: ignore[return-value]

    def learning_sellers(self) -> int:
        """How many of the sellers learn (the first ones): none in single-item auctions."""
        return 0 if self.game.market == "single_item" else self.shape[0]

    def draw(self) -> Market:
        """The round's market on true values."""
        n, m = self.shape
        if self.game.market == "single_item":
            return Market(np.ones(1), np.ones(m), np.zeros(1), self.rng.random(m))
        if self.game.market == "unit_double":
            return Market(np.ones(n), np.ones(m), self.rng.random(n), self.rng.random(m))
        return self.model.draw_market().true


def _report(true: Market, sides: np.ndarray, factors: np.ndarray, sellers: int) -> Market:
    """``true`` with the learners' reports: sellers ``0..sellers-1`` then every buyer."""
    signed = np.where(sides == "sell", factors, -factors)
    ask, bid = true.ask, true.bid
    if sellers:
        ask = ask.copy()
        ask[:sellers] += signed[:sellers].reshape((-1,) + (1,) * (ask.ndim - 1)) * np.abs(
            ask[:sellers]
        )
    bid = bid + signed[sellers:] * np.abs(bid)  # broadcasts over sellers for (n, m) bids
    return dataclasses.replace(true, ask=ask, bid=bid)


def _utilities(true: Market, out: Outcome, sellers: int) -> np.ndarray:
    """Learners' utilities: the first ``sellers`` sellers, then every buyer."""
    x = out.allocation
    sell = out.seller_revenue[:sellers] - (true.ask_matrix()[:sellers] * x[:sellers]).sum(axis=1)
    buy = (true.bid_matrix() * x).sum(axis=0) - out.buyer_payment
    return np.concatenate([sell, buy])


#: Single-item auctions whose buyers' counterfactual utilities :class:`_Play` computes in
#: closed form instead of by re-clearing: what a winning bid pays. ``bid``: its own bid (first
#: price; the Dutch clock, which starts at the highest bid and stops there for one unit);
#: ``threshold``: the highest competing report, bid or ask (VCG: second price). A bid wins
#: if it is above every other bid and the ask; a bid within :data:`TIE` of the highest other
#: report is a tie, which each mechanism breaks its own way (the Dutch clock trades at zero
#: gain, first price and VCG do not): those are re-cleared.
SINGLE_ITEM_PAYMENT = {"first_price": "bid", "dutch": "bid", "vcg": "threshold"}
TIE = 1e-9


class _Play:
    """Clears markets for one game and answers what one learner's other reports would earn.

    Counterfactual utilities come from re-clearing the market with the learner's report
    changed, or, in single-item auctions of :data:`SINGLE_ITEM_PAYMENT` (unless
    ``reclear``), from the closed form, checked every time against the mechanism's own
    outcome at the learner's actual report (a mismatch raises ``RuntimeError``).
    """

    def __init__(self, game: Game, sides: np.ndarray, sellers: int, reclear: bool) -> None:
        self.mechanism = mechanisms.get(game.mechanism, **game.mechanism_params)
        self.sides, self.sellers = sides, sellers
        streams = np.random.SeedSequence(game.seed).spawn(3)[2].spawn(2)
        self.rng, self.truthful_rng = (np.random.default_rng(s) for s in streams)
        self.payment = None
        if game.market == "single_item" and not reclear:
            self.payment = SINGLE_ITEM_PAYMENT.get(game.mechanism)

    def clear(self, true: Market, factors: np.ndarray) -> tuple[Outcome, np.ndarray]:
        """The outcome of the reports ``factors`` and every learner's utility."""
        out = self.mechanism.clear(_report(true, self.sides, factors, self.sellers), self.rng)
        return out, _utilities(true, out, self.sellers)

    def clear_truthful(self, true: Market) -> Outcome:
        """The outcome had everyone reported truthfully (its own random stream)."""
        return self.mechanism.clear(true, self.truthful_rng)

    def deviations(
        self, true: Market, factors: np.ndarray, k: int, probes: np.ndarray, own: float
    ) -> np.ndarray:
        """Learner ``k``'s utility at each factor of ``probes``, the others' fixed.

        ``own`` is its utility at ``factors[k]`` (from the mechanism's outcome).
        """
        if self.payment is not None:
            return self._single_item(true, factors, k, probes, own)
        mine = probes == factors[k]
        result = np.full(probes.size, own)
        result[~mine] = self._reclear(true, factors, k, probes[~mine])
        return result

    def _single_item(
        self, true: Market, factors: np.ndarray, k: int, probes: np.ndarray, own: float
    ) -> np.ndarray:
        value = true.bid[k]  # single-item markets: every learner is a buyer
        bids = true.bid - factors * np.abs(true.bid)
        threshold = max(float(np.delete(bids, k).max(initial=-np.inf)), float(true.ask[0]))
        trial = np.concatenate([[factors[k]], probes])
        trial_bids = value - trial * abs(value)
        pays = trial_bids if self.payment == "bid" else np.full(trial.size, threshold)
        utility = np.where(trial_bids > threshold, value - pays, 0.0)
        # a bid at the threshold is a tie, which each mechanism breaks its own way: re-clear
        tied = np.abs(trial_bids - threshold) <= TIE * max(1.0, abs(threshold))
        if not tied[0] and abs(utility[0] - own) > 1e-9 * max(1.0, abs(own)):
            raise RuntimeError(
                f"{self.mechanism.name}: the closed-form utility {utility[0]!r} of buyer {k} "
                f"disagrees with the mechanism's outcome {own!r} (bids {bids.tolist()}, ask "
                f"{float(true.ask[0])!r}); rerun with reclear=True"
            )
        tied[0] = False  # its own outcome is known
        if tied.any():
            utility[tied] = self._reclear(true, factors, k, trial[tied])
        return utility[1:]

    def _reclear(self, true: Market, factors: np.ndarray, k: int, probes: np.ndarray) -> np.ndarray:
        result = np.empty(probes.size)
        trial = factors.copy()
        for i, probe in enumerate(probes):
            trial[k] = probe
            result[i] = self.clear(true, trial)[1][k]
        return result


def _strategies(game: Game, sides: np.ndarray, rng: np.random.Generator) -> list[Strategy]:
    cls = STRATEGIES[game.learner]
    out = []
    for side, stream in zip(sides, rng.spawn(len(sides)), strict=True):
        params = dict(game.learner_params)
        if takes(cls, "max_factor"):
            params["max_factor"] = game.max_markup if side == "sell" else game.max_shading
        if takes(cls, "rng"):
            params["rng"] = stream
        out.append(cls(str(side), **params))
    return out


def _expected(strategy: Strategy) -> float:
    expected = getattr(strategy, "expected_factor", None)
    return float(expected()) if expected is not None else strategy.factor


def play(
    game: Game, progress: bool = False, reclear: bool = False, efficiency_every: int = 1
) -> History:
    """Play ``game``: learners report, the mechanism clears, learners learn, each round.

    Args:
        game: the game.
        progress: show a progress bar over rounds.
        reclear: compute every counterfactual by re-clearing the market, also where
            :class:`_Play` has the closed form (same results, slower).
        efficiency_every: measure efficiency (two more solves) every this many rounds, NaN
            in the others; what the learners do does not depend on it.

    Returns:
        The game's history and its learners at the end.
    """
    values, learners_rng, _ = (
        np.random.default_rng(s) for s in np.random.SeedSequence(game.seed).spawn(3)
    )
    markets = _Markets(game, values)
    m = markets.shape[1]
    sellers = markets.learning_sellers()
    sides = np.array(["sell"] * sellers + ["buy"] * m)
    strategies = _strategies(game, sides, learners_rng)
    player = _Play(game, sides, sellers, reclear)
    rounds, agents = game.rounds, len(strategies)
    history = History(
        sides=sides,
        factor=np.empty((rounds, agents)),
        expected_factor=np.empty((rounds, agents)),
        utility=np.empty((rounds, agents)),
        efficiency=np.empty(rounds),
        truthful_efficiency=np.empty(rounds),
        strategies=strategies,
    )
    full = STRATEGIES[game.learner].feedback == "full"
    for t in tqdm(range(rounds), desc=f"{game.mechanism} rounds", disable=not progress):
        true = markets.draw()
        factors = np.array([s.factor for s in strategies])
        history.factor[t] = factors
        history.expected_factor[t] = [_expected(s) for s in strategies]
        out, utility = player.clear(true, factors)
        history.utility[t] = utility
        history.efficiency[t] = history.truthful_efficiency[t] = np.nan
        if t % efficiency_every == 0:
            history.efficiency[t], history.truthful_efficiency[t] = _efficiencies(
                true, out, player.clear_truthful(true)
            )
        offered = np.concatenate([true.supply[:sellers], true.demand])
        traded = np.concatenate([out.allocation.sum(axis=1)[:sellers], out.allocation.sum(axis=0)])
        for k, strategy in enumerate(strategies):
            counterfactual = None
            if full:
                counterfactual = player.deviations(
                    true, factors, k, strategy.probes(), float(utility[k])
                )
            strategy.learn(
                Feedback(float(offered[k]), float(traded[k]), float(utility[k]), counterfactual)
            )
    return history


def _efficiencies(true: Market, learned: Outcome, truthful: Outcome) -> tuple[float, float]:
    best = mechanisms.welfare.optimum(true, solver="FLOW").info["welfare"]
    if best <= 1e-12:
        return np.nan, np.nan
    value = mechanisms.welfare.value
    return value(true, learned.allocation) / best, value(true, truthful.allocation) / best


def mixture(strategy: Strategy) -> tuple[np.ndarray, np.ndarray]:
    """A strategy's current mixed strategy: its factors and their probabilities."""
    probabilities = getattr(strategy, "probabilities", None)
    if probabilities is not None:
        return strategy.grid, probabilities()  # type: ignore[attr-defined]
    return np.array([strategy.factor]), np.ones(1)


@dataclass
class Deviations:
    """How much each learner could gain by a unilateral switch to one fixed factor.

    Attributes:
        grid: the factors tried, per side (``{"sell": ..., "buy": ...}``).
        utility: ``(agents,)`` each learner's expected utility under the learned profile.
        best_factor: ``(agents,)`` the factor on the grid with the highest expected utility
            against the others' learned strategies.
        gain: ``(agents,)`` its expected utility less ``utility`` (>= 0 up to sampling).
        relative_gain: ``gain / utility``; ``inf`` where the profile earns a learner nothing
            and a deviation would earn it something, 0 where neither earns anything.
        standard_error: ``(agents,)`` the standard error of ``gain`` over rounds.
    """

    grid: dict[str, np.ndarray]
    utility: np.ndarray
    best_factor: np.ndarray
    gain: np.ndarray
    relative_gain: np.ndarray
    standard_error: np.ndarray


def deviations(
    game: Game,
    strategies: list[Strategy],
    rounds: int,
    factors: int = 21,
    seed: int | None = None,
    progress: bool = False,
    reclear: bool = False,
) -> Deviations:
    """Expected gains of unilateral deviations from a learned profile, by simulation.

    The learners' mixed strategies are frozen (:func:`mixture`). Each round draws a market
    and every learner's factor from its mixture; for each learner, the utility of every
    factor on a grid of ``factors`` points from 0 to its side's largest factor is computed
    with the others' draws fixed (common random numbers), as is its expected utility over
    its own mixture. Averages over ``rounds`` give each learner's utility under the profile
    and its best fixed deviation.

    Args:
        game: the game the profile was learned in (its market, mechanism and sizes).
        strategies: the learners at the end of :func:`play` (not changed).
        rounds: rounds to average over.
        factors: points of the deviation grid.
        seed: seed of the draws (default: ``game.seed + 1``, draws the game did not see).
        progress: show a progress bar.
        reclear: as in :func:`play`.
    """
    game = dataclasses.replace(game, seed=game.seed + 1 if seed is None else seed)
    values, draws, _ = (
        np.random.default_rng(s) for s in np.random.SeedSequence(game.seed).spawn(3)
    )
    markets = _Markets(game, values)
    sellers = markets.learning_sellers()
    sides = np.array([s.side for s in strategies])
    player = _Play(game, sides, sellers, reclear)
    grid = {
        "sell": np.linspace(0, game.max_markup, factors),
        "buy": np.linspace(0, game.max_shading, factors),
    }
    mixtures = [mixture(s) for s in strategies]
    agents = len(strategies)
    profile = np.zeros((rounds, agents))
    best = np.zeros((rounds, agents, factors))
    for t in tqdm(range(rounds), desc="deviations", disable=not progress):
        true = markets.draw()
        drawn = np.array([draws.choice(f, p=p) for f, p in mixtures])
        utility = player.clear(true, drawn)[1]
        for k in range(agents):
            support, weights = mixtures[k]
            tried = grid[sides[k]]
            best[t, k] = player.deviations(true, drawn, k, tried, float(utility[k]))
            own = best[t, k]  # a grid learner on the deviation grid: the same utilities
            if not np.array_equal(support, tried):
                own = player.deviations(true, drawn, k, support, float(utility[k]))
            profile[t, k] = weights @ own
    mean = best.mean(axis=0)
    choice = mean.argmax(axis=1)
    chosen = best[:, np.arange(agents), choice]
    difference = chosen - profile
    utility = profile.mean(axis=0)
    gain = difference.mean(axis=0)
    return Deviations(
        grid=grid,
        utility=utility,
        best_factor=np.array([grid[s][c] for s, c in zip(sides, choice, strict=True)]),
        gain=gain,
        relative_gain=_relative(gain, utility),
        standard_error=difference.std(axis=0, ddof=max(0, min(1, rounds - 1))) / np.sqrt(rounds),
    )


def _relative(gain: np.ndarray, utility: np.ndarray, tiny: float = 1e-12) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = gain / utility
    return np.where(utility > tiny, ratio, np.where(gain > tiny, np.inf, 0.0))
