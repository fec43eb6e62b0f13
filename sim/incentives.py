"""The incentive layer's state: reputation and the data pool.

The data pool holds the rows behind solvers' models and corporations' data values (Yuma's
bonds live with the Yuma regime, :mod:`sim.regimes.yuma`).

Each class holds numpy arrays or dicts keyed by agent id and does one thing; the model
(:mod:`sim.model`) calls them in its round pipeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from sim.config import DataValueConfig, MarketConfig

if TYPE_CHECKING:
    from crypto.valuation import ModelMemo, RowSets


class BetaReputation:
    """A Beta reputation per agent: ``(s + 1) / (s + f + 2)`` over decayed counts.

    Each round, past successes ``s`` and failures ``f`` are multiplied by ``decay`` before
    the round's verification outcomes are added, so old behaviour fades.

    Args:
        decay: weight kept by past outcomes per round, in ``(0, 1]``.
    """

    def __init__(self, decay: float) -> None:
        self.decay = decay
        self.counts: dict[int, np.ndarray] = {}

    def update(self, ids: Sequence[int], successes: np.ndarray, failures: np.ndarray) -> None:
        """Decay the counts of ``ids`` and add this round's outcomes."""
        for agent, s, f in zip(ids, successes, failures, strict=True):
            counts = self.counts.get(agent, np.zeros(2))
            self.counts[agent] = self.decay * counts + (float(s), float(f))

    def value(self, ids: Sequence[int]) -> np.ndarray:
        """Reputation in ``(0, 1)`` per agent; 0.5 for an agent never verified."""
        counts = np.array([self.counts.get(a, np.zeros(2)) for a in ids]).reshape(-1, 2)
        return (counts[:, 0] + 1) / (counts.sum(axis=1) + 2)


def _pairs(shares: np.ndarray | sparse.sparray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(seller, solver, share)`` of every positive share, by seller then solver."""
    if sparse.issparse(shares):
        pairs = sparse.coo_array(shares)
        seller, solver, share = pairs.row, pairs.col, pairs.data
        order = np.lexsort((solver, seller))
        keep = order[share[order] > 0]
        return seller[keep].astype(np.int64), solver[keep].astype(np.int64), share[keep]
    shares = np.asarray(shares, float)
    seller, solver = np.nonzero(shares > 0)
    return seller, solver, shares[seller, solver]


class DataPool:
    """Every corporation's rows of synthetic industry data, and the models trained on them.

    A corporation's rows are drawn once, on entry, from a generator derived from the run
    seed and its id (so the market's own draws are unchanged); a poisoner's labels are noise
    of quality ``poison_quality``. Solvers' models are logistic regressions trained with JAX
    on the rows they bought (each row weighted by the share of the seller's supply bought)
    plus a small public set; a model is scored on held-out rows of its task's industry.

    Rows sit in one table, one block per corporation after the public block
    (:class:`crypto.valuation.RowSets`): a model gathers only its own blocks, so the work of
    a round grows with the trades, not with the number of corporations times solvers.

    Args:
        config: the data-value settings.
        n_features: features per row.
        n_industries: industries.
        seed: the run seed.
    """

    def __init__(self, config: DataValueConfig, n_features: int, n_industries: int, seed: int):
        from crypto.data import IndustryData

        self.config = config
        self.seed = seed
        self.data = IndustryData(n_features, n_industries, config.industry_shift, seed=seed)
        rng = np.random.default_rng([seed, 0x7465])
        tests = [self.data.sample(i, config.test_rows, 1.0, rng) for i in range(n_industries)]
        self.x_test = np.stack([t.x for t in tests])  # (industries, test_rows, features)
        self.y_test = np.stack([t.y for t in tests])
        self.public = [
            self.data.sample(int(rng.integers(n_industries)), 1, 1.0, rng)
            for _ in range(config.public_rows)
        ]
        self.rows: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self.cache: dict = {}  # pool scope: coalition (digest of members' (id, share)) -> value
        self.trained = 0  # models trained for data values so far
        public_x = np.concatenate([p.x for p in self.public] + [np.zeros((0, n_features))])
        public_y = np.concatenate([p.y for p in self.public] + [np.zeros(0)])
        self._table: RowSets | None = None  # built on first use: building a model needs no JAX
        self._blocks = [(public_x, public_y)]  # the public block, then corporations' blocks
        self._next_row = len(public_y)
        self.block_start = np.zeros(0, np.int64)  # by corporation id: first row in the table
        self.block_rows = np.zeros(0, np.int64)  # and its rows (0: no rows)

    def add(self, corporation: int, industry: int, quality: float, rows: int) -> None:
        """Draw ``rows`` rows of ``industry`` at label quality ``quality`` for a corporation."""
        rng = np.random.default_rng([self.seed, 0x6461, corporation])
        d = self.data.sample(industry, rows, quality, rng)
        self.rows[corporation] = (d.x, d.y)
        if corporation >= len(self.block_start):
            more = np.zeros(max(corporation + 1, 2 * len(self.block_start)) - len(self.block_start))
            self.block_start = np.append(self.block_start, more).astype(np.int64)
            self.block_rows = np.append(self.block_rows, more).astype(np.int64)
        self.block_start[corporation] = self._next_row
        self._next_row += len(d.y)
        if self._table is None:
            self._blocks.append((d.x, d.y))
        else:
            self._table.add(d.x, d.y)
        self.block_rows[corporation] = rows

    @property
    def models(self) -> RowSets:
        """The row table every model is trained from (imports JAX on first use)."""
        if self._table is None:
            from crypto.train import TrainConfig
            from crypto.valuation import RowSets

            (public_x, public_y), *blocks = self._blocks
            self._table = RowSets(
                public_x,
                public_y,
                self.x_test,
                self.y_test,
                TrainConfig(epochs=self.config.epochs),
                self.seed,
            )
            for x, y in blocks:  # in the order their first rows were handed out
                self._table.add(x, y)
            self._blocks = []
        return self._table

    def _stack(self, owners: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        xs = [self.rows[o][0] for o in owners] + [p.x for p in self.public]
        ys = [self.rows[o][1] for o in owners] + [p.y for p in self.public]
        owner = np.concatenate(
            [np.full(len(self.rows[o][1]), k) for k, o in enumerate(owners)]
            + [np.full(len(self.public), len(owners))]
        ).astype(int)
        return np.concatenate(xs), np.concatenate(ys), owner

    def _value(self, owners: Sequence[int], shares: np.ndarray | None = None):
        """The pool game: every owner's rows in one padded pool, coalitions as masks."""
        from crypto.train import TrainConfig
        from crypto.valuation import CoalitionValue

        x, y, owner = self._stack(owners)
        shares = np.ones(len(owners)) if shares is None else np.asarray(shares, float)
        return CoalitionValue(
            x,
            y,
            owner,
            self.x_test.reshape(-1, self.x_test.shape[-1]),
            self.y_test.reshape(-1),
            len(owners) + 1,
            TrainConfig(epochs=self.config.epochs),
            seed=self.seed,
            pad_rows=1024,
            shares=np.append(shares, 1.0),
            labels=[(o, round(float(w), 9)) for o, w in zip(owners, shares, strict=True)]
            + ["public"],
            cache=self.cache,
        )

    def _accuracy(
        self,
        model: np.ndarray,
        owner: np.ndarray,
        weight: np.ndarray,
        test: np.ndarray,
        memo: ModelMemo | None = None,
    ) -> np.ndarray:
        """Accuracy of models trained on owners' blocks (weighted) plus the public rows.

        Each model is scored on the held-out rows of its own industry.

        Args:
            model: ``(entries,)`` the model of each entry, in ``[0, models)``.
            owner: ``(entries,)`` the corporation whose block the entry adds.
            weight: ``(entries,)`` the weight of that block's rows.
            test: ``(models,)`` each model's industry.
            memo: models trained before (see :meth:`crypto.valuation.RowSets.accuracy`).
        """
        count, public = len(test), len(self.public)
        every = np.arange(count)
        return self.models.accuracy(
            np.concatenate([model, every]),
            np.concatenate([self.block_start[owner], np.zeros(count, np.int64)]),
            np.concatenate([self.block_rows[owner], np.full(count, public)]),
            np.concatenate([weight, np.ones(count)]),
            test,
            memo,
        )

    def model_accuracy(
        self,
        owners: Sequence[int],
        shares: np.ndarray | sparse.sparray,
        industries: np.ndarray,
    ) -> np.ndarray:
        """Held-out accuracy of each solver's model.

        Each solver's model trains on its sellers' rows only (each weighted by the share
        bought) and the public rows; all solvers train together (:meth:`_accuracy`).

        Args:
            owners: the corporations whose rows may be used (``n``).
            shares: ``(n, m)`` share of each corporation's rows each solver trained on,
                dense or sparse (:meth:`shares_bought`).
            industries: ``(m,)`` the industry each solver's task serves.
        """
        seller, solver, share = _pairs(shares)
        ids = np.asarray(owners, np.int64).reshape(-1)
        return self._accuracy(solver, ids[seller], share, np.asarray(industries, np.int64))

    def random_model_accuracy(self, industries: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Accuracy of random weights (what a lazy solver returns) on each task's industry."""
        out = np.empty(len(industries))
        for j, industry in enumerate(industries):
            w = rng.normal(size=self.x_test.shape[-1])
            b = rng.normal()
            out[j] = np.mean((self.x_test[industry] @ w + b > 0) == (self.y_test[industry] > 0.5))
        return out

    @staticmethod
    def shares_bought(
        trades: tuple[np.ndarray, np.ndarray, np.ndarray],
        supply: np.ndarray,
        solvers: int,
        sellers: np.ndarray | None = None,
    ) -> sparse.coo_array:
        """The share of each seller's supply each solver bought, as a sparse array.

        Args:
            trades: ``(seller, solver, units)`` of each trade with units (the round's
                :class:`sim.round.records.Trades`).
            supply: ``(n,)`` each seller's supply.
            solvers: ``m``, the solvers in the round.
            sellers: keep only these rows, in this order (default: all).

        Returns:
            ``(len(sellers), m)``: one entry per traded pair (a seller that delivered has
            supply), for :meth:`model_accuracy` and :meth:`values`.
        """
        seller, solver, units = trades
        share = units / supply[seller]
        rows = len(supply)
        if sellers is not None:
            position = np.full(len(supply), -1)
            position[sellers] = np.arange(len(sellers))
            keep = position[seller] >= 0
            seller, solver, share = position[seller[keep]], solver[keep], share[keep]
            rows = len(sellers)
        return sparse.coo_array((share, (seller, solver)), shape=(rows, solvers))

    def values(
        self,
        owners: Sequence[int],
        shares: np.ndarray | sparse.sparray,
        industries: np.ndarray,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Data value of each corporation in ``owners`` by the configured method and scope.

        With ``scope: solver`` every buying solver's model is a cooperative game among the
        sellers it bought from: a coalition's value is the accuracy, on the held-out rows of
        the solver's task industry, of a model trained on the coalition's rows (each at the
        share the solver bought) plus the public rows. A corporation's value is the sum of
        its values in the games of the solvers it sold to. All games' coalitions train
        together (:func:`crypto.valuation.game_values`).

        With ``scope: pool`` there is one game among all of ``owners``: a coalition's rows
        weighted by the share of its data each member sold, scored on the held-out rows of
        every industry. Its coalition values are cached across rounds: a coalition whose
        members sold the same shares again is not retrained.

        Args:
            owners: the corporations that sold (``n``).
            shares: ``(n, m)`` share of each one's rows each solver bought, dense or sparse
                (:meth:`shares_bought`).
            industries: ``(m,)`` the industry each solver's task serves.
            rng: draws the estimators' samples.
        """
        from crypto.valuation import ModelMemo, game_values

        n = len(owners)
        if n == 0:
            return np.zeros(0)
        seller, solver, share = _pairs(shares)
        cfg = self.config
        options = {
            "exact_players": cfg.exact_players,
            "max_exact_players": cfg.max_exact_players,
            "estimator": cfg.estimator,
            "samples": cfg.samples,
            "permutations": cfg.permutations,
            "truncation": cfg.truncation,
        }
        if cfg.scope == "pool":
            value = self._value(owners, np.bincount(seller, weights=share, minlength=n))

            def with_public(_, coalitions: np.ndarray) -> np.ndarray:
                coalitions = np.asarray(coalitions, bool)
                return value(np.column_stack([coalitions, np.ones(len(coalitions), bool)]))

            (out,) = game_values(with_public, [n], rng, cfg.method, **options)
            self.trained += value.trained
            return out
        by_game = np.argsort(solver, kind="stable")  # the games' players, game by game
        seller, solver, share = seller[by_game], solver[by_game], share[by_game]
        games, sizes = np.unique(solver, return_counts=True)
        first = np.concatenate([[0], np.cumsum(sizes)])
        width = int(sizes.max()) if sizes.size else 0
        players = np.full((len(games), width), -1)
        weight = np.zeros((len(games), width))
        game = np.repeat(np.arange(len(games)), sizes)
        column = np.arange(len(seller)) - first[game]
        players[game, column] = seller
        weight[game, column] = share
        ids = np.asarray(owners, np.int64).reshape(-1)
        industries = np.asarray(industries, np.int64)[games]
        trained = self.models.trained
        memo = ModelMemo()  # the permutation estimator's later chunks reuse earlier models

        def value(game_of: np.ndarray, coalitions: np.ndarray) -> np.ndarray:
            row, column = np.nonzero(coalitions)
            g = game_of[row]
            return self._accuracy(
                row, ids[players[g, column]], weight[g, column], industries[game_of], memo
            )

        phis = game_values(value, sizes, rng, cfg.method, **options)
        self.trained += int(self.models.trained - trained)
        out = np.zeros(n)
        if phis:
            np.add.at(out, players[players >= 0], np.concatenate(phis))
        return out


def draw_games(
    config: DataValueConfig,
    players: int,
    games: int,
    seed: int,
    market: MarketConfig | None = None,
    n_features: int = 9,
) -> tuple[DataPool, list[int], np.ndarray, np.ndarray]:
    """Solvers' valuation games drawn the way the simulation forms them.

    Each of ``games`` solvers buys from ``players`` sellers of its own: the sellers are
    corporations added to a :class:`DataPool` as on entry (industry uniform, label quality
    ``Beta(quality_alpha, quality_beta)`` clipped to ``[0.05, 1]``, ``rows_per_corporation``
    rows), each from an industry other than the solver's task industry (in simulated rounds
    no solver bought from its own task's industry: the competitor premium and exclusions keep
    them out); the share of its supply each seller sold is 1 with probability 0.55 and
    uniform in ``(0, 1)`` otherwise (the shares of simulated trades: 55% take a seller's whole
    supply, the rest spread over ``(0, 1)``).

    Args:
        config: the data-value settings of the pool.
        players: sellers per game.
        games: games (solvers).
        seed: the pool's run seed and the draws' seed.
        market: population settings (default: the defaults).
        n_features: features per row.

    Returns:
        ``(pool, owners, shares, industries)`` for :meth:`DataPool.values`: seller ids,
        ``(players * games, games)`` shares (each seller sells to its one solver) and the
        solvers' task industries.
    """
    market = market or MarketConfig()
    k = market.n_industries
    pool = DataPool(config, n_features, k, seed)
    rng = np.random.default_rng([seed, 0x67616D65])
    industries = rng.integers(k, size=games)
    shares = np.zeros((players * games, games))
    for g, task in enumerate(industries):
        others = [i for i in range(k) if i != task] or [int(task)]
        for p in range(players):
            corporation = g * players + p
            quality = float(np.clip(rng.beta(market.quality_alpha, market.quality_beta), 0.05, 1))
            industry = int(others[rng.integers(len(others))])
            pool.add(corporation, industry, quality, config.rows_per_corporation)
            shares[corporation, g] = 1.0 if rng.random() < 0.55 else rng.uniform(0, 1)
    return pool, list(range(players * games)), shares, industries
