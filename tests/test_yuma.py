import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mechanisms import yuma

# Honest validators A (stake 0.4) and B (0.35) weight servers H and C as 0.8 / 0.2; a cabal
# validator (0.25) puts all its weight on C. Worked by hand from subtensor's definitions:
#   consensus: H 0.8 (A + B = 0.75 >= 0.5 support it), C 0.2 (the cabal alone has 0.25)
#   clipped:   the cabal's 1.0 on C is cut to 0.2; prerank H 0.6, C 0.4; rank H 0.6, C 0.2
#   incentive: 0.75 / 0.25; trust: 1.0 / 0.5; validator trust: 1, 1, 0.2
#   bonds (penalty 1): H column 0.32, 0.28, 0 over 0.6; C column 0.08, 0.07, 0.05 over 0.2
#   dividends: A 0.5333*0.75 + 0.4*0.25 = 0.5, B 0.4375, cabal 0.0625
W = np.array([[0.8, 0.2], [0.8, 0.2], [0.0, 1.0]])
S = np.array([0.4, 0.35, 0.25])
DELTA = np.array([[0.32 / 0.6, 0.4], [0.28 / 0.6, 0.35], [0.0, 0.25]])  # ΔB of the epoch


def test_worked_epoch_clips_a_dishonest_minority():
    out = yuma.epoch(W, S)
    np.testing.assert_allclose(out.consensus, [0.8, 0.2])
    np.testing.assert_allclose(out.clipped, [[0.8, 0.2], [0.8, 0.2], [0.0, 0.2]])
    np.testing.assert_allclose(out.prerank, [0.6, 0.4])
    np.testing.assert_allclose(out.rank, [0.6, 0.2])
    np.testing.assert_allclose(out.incentive, [0.75, 0.25])
    np.testing.assert_allclose(out.trust, [1.0, 0.5])
    np.testing.assert_allclose(out.validator_trust, [1.0, 1.0, 0.2])
    # column-normalized bonds (subtensor): the first EMA from zero, renormalized, is ΔB
    np.testing.assert_allclose(out.bonds, DELTA)
    np.testing.assert_allclose(out.dividends, [0.5, 0.4375, 0.0625])
    raw = yuma.epoch(W, S, bond_normalization="none")  # the raw EMA: alpha ΔB
    np.testing.assert_allclose(raw.bonds, 0.1 * DELTA)
    np.testing.assert_allclose(raw.dividends, out.dividends)  # equal scale on every column


def test_without_bond_penalty_the_cabal_keeps_its_bonds():
    # bonds from unclipped weights: C column 0.08, 0.07, 0.25 over 0.4
    out = yuma.epoch(W, S, bond_penalty=0.0)
    np.testing.assert_allclose(out.bonds[:, 1], [0.2, 0.175, 0.625])
    np.testing.assert_allclose(out.dividends, [0.45, 0.39375, 0.15625])
    np.testing.assert_allclose(out.incentive, [0.75, 0.25])  # incentive is clipped either way


def test_bonds_are_an_ema_across_epochs():
    raw = yuma.epoch(W, S, bond_alpha=0.1, bond_normalization="none")
    second = yuma.epoch(W, S, raw.bonds, bond_alpha=0.1, bond_normalization="none")
    np.testing.assert_allclose(second.bonds, 0.19 / 0.1 * raw.bonds)
    np.testing.assert_allclose(second.dividends, raw.dividends)
    column = yuma.epoch(W, S, bond_alpha=0.1)
    again = yuma.epoch(W, S, column.bonds, bond_alpha=0.1)
    np.testing.assert_allclose(again.bonds, column.bonds)  # a fixed point once normalized


# Two epochs with a server N new in the second. Epoch 1 is the worked epoch above. Epoch 2:
# A and B weight H, C, N as 0.5 / 0.2 / 0.3, the cabal puts all on C. By hand:
#   consensus H 0.5, C 0.2, N 0.3; the cabal's 1.0 on C clipped to 0.2
#   rank H 0.375, C 0.2, N 0.225 (sum 0.8): incentive 0.46875, 0.25, 0.28125
#   ΔB: H and N columns 8/15, 7/15, 0; C column 0.4, 0.35, 0.25 (as in epoch 1)
# column (subtensor): previous bonds are ΔB of epoch 1, N's column starts at 0; after the
#   EMA every column is renormalized, so N's column is 8/15, 7/15, 0 like H's and the
#   dividends are A 8/15 * 0.75 + 0.4 * 0.25 = 0.5, B 0.4375, cabal 0.0625
# none: previous bonds 0.1 ΔB, so H and C carry 0.19 ΔB and N only 0.1 ΔB; before
#   normalizing, A 0.19 * 0.25 + 0.19 * 0.1 + 0.1 * 0.15 = 0.0815,
#   B 0.19 * 0.21875 + 0.19 * 0.0875 + 0.1 * 0.13125 = 0.0713125, cabal 0.19 * 0.0625
#   = 0.011875: the new server weighs less, so the cabal's share of dividends rises
W2 = np.array([[0.5, 0.2, 0.3], [0.5, 0.2, 0.3], [0.0, 1.0, 0.0]])
NEW_SERVER = np.array([[8 / 15, 0.4, 8 / 15], [7 / 15, 0.35, 7 / 15], [0.0, 0.25, 0.0]])


def _second_epoch(convention):
    first = yuma.epoch(W, S, bond_normalization=convention)
    previous = np.column_stack([first.bonds, np.zeros(3)])  # N registers: zero bonds
    return yuma.epoch(W2, S, previous, bond_normalization=convention)


def test_worked_two_epochs_column_normalized_bonds():
    second = _second_epoch("column")
    np.testing.assert_allclose(second.incentive, [0.46875, 0.25, 0.28125])
    np.testing.assert_allclose(second.bonds, NEW_SERVER)
    np.testing.assert_allclose(second.bonds.sum(axis=0), 1.0)
    np.testing.assert_allclose(second.dividends, [0.5, 0.4375, 0.0625])


def test_worked_two_epochs_raw_ema_bonds():
    second = _second_epoch("none")
    np.testing.assert_allclose(second.incentive, [0.46875, 0.25, 0.28125])
    np.testing.assert_allclose(second.bonds, NEW_SERVER * [0.19, 0.19, 0.1])
    raw = np.array([0.0815, 0.0713125, 0.011875])
    np.testing.assert_allclose(second.dividends, raw / raw.sum())
    assert second.dividends[2] > 0.0625 + 0.009  # the cabal gains from the new server's lag


def test_weights_and_stake_are_normalized_and_a_majority_cabal_wins():
    out = yuma.epoch(2 * W, 10 * S)
    np.testing.assert_allclose(out.incentive, [0.75, 0.25])
    flipped = yuma.epoch(W, np.array([0.2, 0.2, 0.6]))  # the cabal holds the majority
    # the honest 0.8 on H has only 0.4 of the stake behind it: H's consensus falls to 0
    np.testing.assert_allclose(flipped.consensus, [0.0, 1.0])
    np.testing.assert_allclose(flipped.incentive, [0.0, 1.0])


def test_split_divides_the_emission():
    out = yuma.epoch(W, S)
    servers, validators = yuma.split(out, 100.0, 0.41)
    np.testing.assert_allclose(servers, [44.25, 14.75])
    np.testing.assert_allclose(validators, 41 * np.array([0.5, 0.4375, 0.0625]))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kappa": 0.0}, "kappa"),
        ({"bond_penalty": 1.5}, "bond_penalty"),
        ({"bond_alpha": 0.0}, "bond_alpha"),
        ({"bonds": np.zeros((2, 2))}, "bonds"),
        ({"bond_normalization": "row"}, "bond_normalization must be one of column, none"),
    ],
)
def test_bad_parameters_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        yuma.epoch(W, S, **kwargs)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="stake"):
        yuma.epoch(W, np.zeros(3))
    with pytest.raises(ValueError, match="weights"):
        yuma.epoch(-W, S)
    with pytest.raises(ValueError, match=r"\(v, s\)"):
        yuma.epoch(W, S[:2])


_weights = st.integers(1, 6).flatmap(
    lambda v: st.tuples(
        hnp.arrays(float, (v, 4), elements=st.floats(0, 1)),
        hnp.arrays(float, v, elements=st.floats(0, 1)).filter(lambda s: s.sum() > 1e-3),
    )
)


@settings(max_examples=60, deadline=None)
@given(data=_weights, kappa=st.floats(0.05, 1.0))
def test_consensus_is_the_largest_weight_kappa_of_the_stake_supports(data, kappa):
    weights, stake = data
    out = yuma.epoch(weights, stake, kappa=kappa)
    w, s = out.weights, out.stake
    for j in range(w.shape[1]):  # brute force from the definition
        supported = [x for x in w[:, j] if s[w[:, j] >= x].sum() >= kappa - 1e-12]
        assert out.consensus[j] == pytest.approx(max(supported))
    assert np.all(out.clipped <= w + 1e-15)
    if out.rank.sum() > 0:
        assert out.incentive.sum() == pytest.approx(1.0)
        assert out.dividends.sum() == pytest.approx(1.0)
    assert np.all((out.trust >= 0) & (out.trust <= 1 + 1e-12))
