"""Double-entry escrow ledger for money and protocol tokens.

Every movement is a transfer between two accounts, so the balances of each asset always
sum to zero. Three accounts may go negative: ``world`` (the economy outside the market:
task clients paying fees, compute providers, agents' starting money) and ``treasury`` (the
protocol, which keeps the spread of mechanisms that run a surplus and covers the deficit of
those that run one, such as VCG) for money, and ``mint`` (token issuance: emission and stake
endowments) for tokens. ``-mint`` is therefore the total ever minted. Every other account
must stay non-negative, and ``escrow`` must be empty between rounds. :meth:`Ledger.check`
asserts all of this and raises :class:`LedgerError` otherwise.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Literal

import numpy as np

Asset = Literal["money", "tokens"]
WORLD, MINT, ESCROW, TREASURY, STAKE = "world", "mint", "escrow", "treasury", "stake"
#: Accounts allowed a negative balance, per asset.
UNBOUNDED = {"money": (WORLD, TREASURY), "tokens": (MINT,)}
#: Relative rounding slack of a transfer: float64 sums of large amounts are off by a few
#: units in the last place (2.2e-16 relative each), far below this.
ROUNDING = 1e-13


class LedgerError(RuntimeError):
    """The ledger's books do not balance, or a transfer would overdraw an account."""


class Ledger:
    """Balances of money and tokens per account, kept in numpy arrays.

    Accounts are any hashable keys (agent ids, or the named protocol accounts
    ``world``, ``mint``, ``escrow``, ``treasury``, ``stake``).

    Args:
        tolerance: absolute slack for floating-point rounding in the checks; an account may
            also be short by :data:`ROUNDING` times the sums it holds and moves.
    """

    def __init__(self, tolerance: float = 1e-6) -> None:
        self.tolerance = tolerance
        self._index: dict[Hashable, int] = {}
        self._balances = {"money": np.zeros(0), "tokens": np.zeros(0)}
        for account in (WORLD, MINT, ESCROW, TREASURY, STAKE):
            self.open(account)

    def open(self, account: Hashable) -> int:
        """Open ``account`` (idempotent) and return its index."""
        if account not in self._index:
            self._index[account] = len(self._index)
            for asset, arr in self._balances.items():
                self._balances[asset] = np.append(arr, 0.0)
        return self._index[account]

    def balance(self, asset: Asset, account: Hashable) -> float:
        """Current balance of ``account`` in ``asset``."""
        return float(self._balances[asset][self._index[account]])

    def balances(self, asset: Asset, accounts: list[Hashable]) -> np.ndarray:
        """Balances of several accounts."""
        return self._balances[asset][[self._index[a] for a in accounts]].copy()

    def transfer(
        self,
        asset: Asset,
        source: Hashable | list[Hashable],
        target: Hashable | list[Hashable],
        amount: float | np.ndarray,
    ) -> None:
        """Move ``amount`` of ``asset`` from ``source`` to ``target`` (vectorized).

        ``source``, ``target`` and ``amount`` broadcast against each other.

        Raises:
            LedgerError: on a negative or non-finite amount, or if an internal account
                would be overdrawn.
        """
        amount = np.atleast_1d(np.asarray(amount, dtype=float))
        if not np.all(np.isfinite(amount)) or np.any(amount < 0):
            raise LedgerError(f"{asset} transfer amounts must be finite and >= 0: {amount}")
        src = self._indices(source)
        dst = self._indices(target)
        src, dst, amount = np.broadcast_arrays(src, dst, amount)
        balances = self._balances[asset]
        trial = balances.copy()
        np.add.at(trial, src, -amount)
        np.add.at(trial, dst, amount)
        gross = np.abs(balances)  # rounding grows with the sums an account holds and moves
        np.add.at(gross, src, amount)
        np.add.at(gross, dst, amount)
        unbounded = [self._index[a] for a in UNBOUNDED[asset]]
        overdrawn = np.flatnonzero(trial < -(self.tolerance + ROUNDING * gross))
        overdrawn = overdrawn[~np.isin(overdrawn, unbounded)]
        if overdrawn.size:
            names = [k for k, v in self._index.items() if v in set(overdrawn.tolist())]
            raise LedgerError(f"{asset} transfer would overdraw {names}")
        self._balances[asset] = trial

    def _indices(self, accounts: Hashable | list[Hashable]) -> np.ndarray:
        keys = accounts if isinstance(accounts, list | tuple | np.ndarray) else [accounts]
        return np.array([self._index[a] for a in keys], dtype=np.intp)

    def mint(self, target: Hashable | list[Hashable], amount: float | np.ndarray) -> None:
        """Issue new tokens to ``target``."""
        self.transfer("tokens", MINT, target, amount)

    def check(self, issued: float | None = None) -> None:
        """Assert conservation of both assets, an empty escrow and no overdrawn account.

        Args:
            issued: if given, the tokens the caller has minted so far by its own count;
                the ledger's issuance (``-mint``) must equal it.

        Raises:
            LedgerError: describing the first violation.
        """
        for asset, balances in self._balances.items():
            scale = 1.0 + np.abs(balances).sum()
            total = balances.sum()
            if abs(total) > self.tolerance * scale:
                raise LedgerError(f"{asset} not conserved: balances sum to {total}")
            escrow = balances[self._index[ESCROW]]
            if abs(escrow) > self.tolerance * scale:
                raise LedgerError(f"{asset} left in escrow between rounds: {escrow}")
            internal = np.delete(balances, [self._index[a] for a in UNBOUNDED[asset]])
            if np.any(internal < -self.tolerance * scale):
                raise LedgerError(f"an account holds a negative {asset} balance")
        if issued is not None:
            on_books = -self.balance("tokens", MINT)
            if abs(on_books - issued) > self.tolerance * (1.0 + abs(issued)):
                raise LedgerError(
                    f"tokens on the books {on_books} differ from tokens issued {issued}"
                )
