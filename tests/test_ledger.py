import numpy as np
import pytest

from sim.ledger import ESCROW, MINT, WORLD, Ledger, LedgerError


def test_transfers_conserve_and_check_passes():
    ledger = Ledger()
    for a in (1, 2, 3):
        ledger.open(a)
    ledger.transfer("money", WORLD, [1, 2, 3], 100.0)
    ledger.transfer("money", [1, 2], ESCROW, [30.0, 20.0])
    ledger.transfer("money", ESCROW, 3, 50.0)
    ledger.mint([1, 3], np.array([5.0, 7.0]))
    ledger.check(issued=12.0)
    assert ledger.balance("money", 3) == pytest.approx(150.0)
    assert ledger.balance("money", WORLD) == pytest.approx(-300.0)
    assert ledger.balance("tokens", MINT) == pytest.approx(-12.0)


def test_overdraft_is_refused_and_leaves_books_unchanged():
    ledger = Ledger()
    ledger.open("a")
    ledger.transfer("money", WORLD, "a", 10.0)
    with pytest.raises(LedgerError, match="overdraw"):
        ledger.transfer("money", "a", ESCROW, 10.5)
    assert ledger.balance("money", "a") == 10.0


@pytest.mark.parametrize("amount", [-1.0, float("nan"), float("inf")])
def test_bad_amounts_are_refused(amount):
    ledger = Ledger()
    ledger.open("a")
    with pytest.raises(LedgerError, match="finite and >= 0"):
        ledger.transfer("money", WORLD, "a", amount)


def test_check_catches_money_left_in_escrow():
    ledger = Ledger()
    ledger.open("a")
    ledger.transfer("money", WORLD, "a", 10.0)
    ledger.transfer("money", "a", ESCROW, 4.0)
    with pytest.raises(LedgerError, match="escrow"):
        ledger.check()


def test_check_catches_created_money_and_unaccounted_tokens():
    ledger = Ledger()
    ledger.open("a")
    ledger._balances["money"][ledger._index["a"]] += 1.0  # money from nowhere
    with pytest.raises(LedgerError, match="money not conserved"):
        ledger.check()
    ledger = Ledger()
    ledger.open("a")
    ledger.mint("a", 3.0)
    with pytest.raises(LedgerError, match="differ from tokens issued"):
        ledger.check(issued=2.0)


def test_rounding_of_large_amounts_is_no_overdraft_but_a_real_one_is():
    ledger = Ledger()
    ledger.open("a")
    ledger.transfer("money", WORLD, "a", np.full(7, 1e12 / 7))
    held = ledger.balance("money", "a")
    assert held < 1e12  # seven sevenths fall short of the whole in float64 (by 1.2e-4)
    ledger.transfer("money", "a", ESCROW, 1e12)  # short by rounding only: allowed
    ledger.transfer("money", ESCROW, "a", 1e12)
    with pytest.raises(LedgerError, match="overdraw"):
        ledger.transfer("money", "a", ESCROW, 1e12 + 1.0)
