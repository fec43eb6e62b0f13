"""Tests for crypto.commit: Merkle commitments, inclusion proofs and Ed25519 signatures."""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pytest

from crypto.commit import (
    HASH_SIZE,
    InclusionProof,
    MerkleTree,
    ProofStep,
    Signer,
    chunk_array,
    leaf_hash,
    merkle_root,
    node_hash,
    sign_commitment,
    verify_commitment,
    verify_inclusion,
)

SIZES = [1, 2, 3, 5, 7, 8, 9, 16, 17]


def make_chunks(n: int, tag: bytes = b"c") -> list[bytes]:
    return [tag + i.to_bytes(4, "big") for i in range(n)]


def flip(data: bytes, position: int = 0) -> bytes:
    out = bytearray(data)
    out[position] ^= 0x01
    return bytes(out)


# --- Merkle roots -------------------------------------------------------------------------------


def test_root_is_deterministic_and_32_bytes():
    chunks = make_chunks(11)
    root = merkle_root(chunks)
    assert len(root) == HASH_SIZE
    assert merkle_root(list(chunks)) == root
    assert MerkleTree(tuple(chunks)).root == root


def test_single_leaf_root_matches_spec():
    chunk = b"only"
    expected = hashlib.sha256(b"\x02" + (1).to_bytes(8, "big") + leaf_hash(chunk)).digest()
    assert merkle_root([chunk]) == expected
    assert leaf_hash(chunk) == hashlib.sha256(b"\x00" + chunk).digest()


def test_three_leaf_root_promotes_odd_node():
    a, b, c = b"a", b"b", b"c"
    top = node_hash(node_hash(leaf_hash(a), leaf_hash(b)), leaf_hash(c))
    expected = hashlib.sha256(b"\x02" + (3).to_bytes(8, "big") + top).digest()
    assert merkle_root([a, b, c]) == expected
    # Promotion, not duplication: [a, b, c] and [a, b, c, c] commit differently.
    assert merkle_root([a, b, c]) != merkle_root([a, b, c, c])


@pytest.mark.parametrize("n", [1, 2, 3, 7, 8])
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_root_changes_when_any_single_chunk_changes(n, where):
    chunks = make_chunks(n)
    index = {"first": 0, "middle": n // 2, "last": n - 1}[where]
    changed = list(chunks)
    changed[index] = flip(changed[index], -1)
    assert merkle_root(changed) != merkle_root(chunks)


def test_root_changes_with_order_and_count():
    chunks = make_chunks(4)
    assert merkle_root(chunks) != merkle_root(chunks[::-1])
    assert merkle_root(chunks) != merkle_root(chunks[:3])
    assert merkle_root(chunks) != merkle_root([*chunks, b""])


def test_accepts_bytes_like_chunks():
    chunks = make_chunks(5)
    assert merkle_root([bytearray(c) for c in chunks]) == merkle_root(chunks)
    assert merkle_root([memoryview(c) for c in chunks]) == merkle_root(chunks)


def test_large_tree_proves_inclusion():
    chunks = [i.to_bytes(8, "big") for i in range(100_000)]
    tree = MerkleTree(chunks)
    assert tree.root == merkle_root(chunks)
    assert verify_inclusion(tree.root, chunks[54_321], tree.proof(54_321))
    assert not verify_inclusion(tree.root, chunks[54_322], tree.proof(54_321))


# --- Inclusion proofs ---------------------------------------------------------------------------


@pytest.mark.parametrize("n", SIZES)
def test_every_index_proof_verifies(n):
    chunks = make_chunks(n)
    tree = MerkleTree(chunks)
    assert tree.leaf_count == n
    for i, chunk in enumerate(chunks):
        proof = tree.proof(i)
        assert proof.index == i and proof.leaf_count == n
        assert verify_inclusion(tree.root, chunk, proof)


@pytest.mark.parametrize("n", SIZES)
def test_changed_chunk_fails(n):
    chunks = make_chunks(n)
    tree = MerkleTree(chunks)
    for i, chunk in enumerate(chunks):
        assert not verify_inclusion(tree.root, flip(chunk, -1), tree.proof(i))
        assert not verify_inclusion(tree.root, chunk + b"\x00", tree.proof(i))


@pytest.mark.parametrize("n", [s for s in SIZES if s > 1])
def test_proof_for_another_index_fails(n):
    chunks = make_chunks(n)
    tree = MerkleTree(chunks)
    for i, chunk in enumerate(chunks):
        for j in range(n):
            if j != i:
                assert not verify_inclusion(tree.root, chunk, tree.proof(j))
        # The right path relabelled with another index also fails.
        other = (i + 1) % n
        relabelled = dataclasses.replace(tree.proof(i), index=other)
        assert not verify_inclusion(tree.root, chunk, relabelled)


@pytest.mark.parametrize("n", SIZES)
def test_proof_against_another_root_fails(n):
    chunks = make_chunks(n)
    tree = MerkleTree(chunks)
    other_root = merkle_root(make_chunks(n, tag=b"d"))
    for i, chunk in enumerate(chunks):
        assert not verify_inclusion(other_root, chunk, tree.proof(i))
        assert not verify_inclusion(flip(tree.root), chunk, tree.proof(i))
        assert not verify_inclusion(tree.root[:-1], chunk, tree.proof(i))


@pytest.mark.parametrize("n", [s for s in SIZES if s > 1])
def test_truncated_or_extended_proof_fails(n):
    chunks = make_chunks(n)
    tree = MerkleTree(chunks)
    for i, chunk in enumerate(chunks):
        proof = tree.proof(i)
        assert proof.path, "every leaf of a tree with >1 leaves has a sibling somewhere"
        truncated = dataclasses.replace(proof, path=proof.path[:-1])
        assert not verify_inclusion(tree.root, chunk, truncated)
        beheaded = dataclasses.replace(proof, path=proof.path[1:])
        assert not verify_inclusion(tree.root, chunk, beheaded)
        extended = dataclasses.replace(proof, path=(*proof.path, ProofStep(b"\x00" * 32, False)))
        assert not verify_inclusion(tree.root, chunk, extended)


@pytest.mark.parametrize("n", [s for s in SIZES if s > 1])
def test_tampered_sibling_or_side_fails(n):
    chunks = make_chunks(n)
    tree = MerkleTree(chunks)
    for i, chunk in enumerate(chunks):
        proof = tree.proof(i)
        for k, step in enumerate(proof.path):
            path = list(proof.path)
            path[k] = ProofStep(flip(step.sibling), step.sibling_on_left)
            assert not verify_inclusion(
                tree.root, chunk, dataclasses.replace(proof, path=tuple(path))
            )
            path[k] = ProofStep(step.sibling, not step.sibling_on_left)
            assert not verify_inclusion(
                tree.root, chunk, dataclasses.replace(proof, path=tuple(path))
            )
            path[k] = ProofStep(step.sibling[:-1], step.sibling_on_left)
            assert not verify_inclusion(
                tree.root, chunk, dataclasses.replace(proof, path=tuple(path))
            )


def test_proof_claiming_another_leaf_count_fails():
    # In a 3-leaf tree, leaf 2 is promoted and its one sibling is node(l0, l1). A 2-leaf tree
    # whose leaf 1 has that same single-step path must not be accepted against the 3-leaf root.
    chunks = make_chunks(3)
    tree = MerkleTree(chunks)
    proof = tree.proof(2)
    assert len(proof.path) == 1 and proof.path[0].sibling_on_left
    forged = InclusionProof(index=1, leaf_count=2, path=proof.path)
    assert not verify_inclusion(tree.root, chunks[2], forged)
    for count in (0, -1, 4, 2**64):
        assert not verify_inclusion(
            tree.root, chunks[2], dataclasses.replace(proof, leaf_count=count)
        )
    for index in (-1, 3, 100):
        assert not verify_inclusion(tree.root, chunks[2], dataclasses.replace(proof, index=index))


def test_leaf_and_inner_node_domain_separation():
    a, b = b"left chunk", b"right chunk"
    two_leaf = MerkleTree([a, b])
    concatenated = leaf_hash(a) + leaf_hash(b)
    # The inner node over (a, b) is not the leaf hash of the concatenated children...
    assert node_hash(leaf_hash(a), leaf_hash(b)) != leaf_hash(concatenated)
    # ...so a one-leaf tree over the concatenation has another root,
    assert merkle_root([concatenated]) != two_leaf.root
    # and the concatenation cannot be passed off as a leaf of the two-leaf tree.
    single = MerkleTree([concatenated]).proof(0)
    assert not verify_inclusion(two_leaf.root, concatenated, single)
    for i in range(2):
        assert not verify_inclusion(two_leaf.root, concatenated, two_leaf.proof(i))
    # An inner node of a 4-leaf tree cannot be proven as a leaf of it either.
    chunks = make_chunks(4)
    four = MerkleTree(chunks)
    inner_children = leaf_hash(chunks[0]) + leaf_hash(chunks[1])
    upper = InclusionProof(index=0, leaf_count=2, path=(four.proof(0).path[-1],))
    assert not verify_inclusion(four.root, inner_children, upper)


# --- chunk_array --------------------------------------------------------------------------------


def test_chunk_array_is_deterministic_and_splits_rows():
    array = np.arange(30, dtype=np.int64).reshape(10, 3)
    chunks = chunk_array(array, rows_per_chunk=4)
    assert len(chunks) == 3
    assert chunks == chunk_array(array.copy(), rows_per_chunk=4)
    # A non-contiguous view with equal contents serializes identically.
    fortran = np.asfortranarray(array)
    assert chunk_array(fortran, rows_per_chunk=4) == chunks
    assert chunks[-1].endswith(array[8:].tobytes())


def test_chunk_array_differs_for_reshaped_arrays():
    flat = np.arange(24, dtype=np.float64)
    shapes = [(24,), (12, 2), (6, 4), (2, 12), (6, 2, 2)]
    roots = {merkle_root(chunk_array(flat.reshape(shape), rows_per_chunk=1)) for shape in shapes}
    assert len(roots) == len(shapes)
    # Same rows per chunk and same bytes, different trailing shape.
    a = chunk_array(flat.reshape(4, 6), rows_per_chunk=4)
    b = chunk_array(flat.reshape(4, 3, 2), rows_per_chunk=4)
    assert len(a) == len(b) == 1
    assert a != b


def test_chunk_array_differs_for_dtypes():
    values = np.arange(12).reshape(4, 3)
    dtypes = [np.int32, np.int64, np.float32, np.float64, np.dtype(">i8"), np.uint64]
    roots = {merkle_root(chunk_array(values.astype(dt), rows_per_chunk=2)) for dt in dtypes}
    assert len(roots) == len(dtypes)
    # Same raw bytes reinterpreted as another dtype still commits differently.
    raw = np.arange(8, dtype=np.int64)
    assert chunk_array(raw, 8) != chunk_array(raw.view(np.float64), 8)


def test_chunk_array_binds_row_position_and_content():
    array = np.zeros((4, 2), dtype=np.int32)
    chunks = chunk_array(array, rows_per_chunk=1)
    assert len(set(chunks)) == 4  # identical rows at different positions differ
    changed = array.copy()
    changed[2, 1] = 1
    assert chunk_array(changed, 1)[2] != chunks[2]
    assert chunk_array(changed, 1)[:2] == chunks[:2]


def test_chunk_array_rows_per_chunk_larger_than_array():
    array = np.arange(6).reshape(3, 2)
    assert len(chunk_array(array, 100)) == 1


@pytest.mark.parametrize("rows", [0, -1, False])
def test_chunk_array_rejects_bad_rows_per_chunk(rows):
    with pytest.raises(ValueError, match="rows_per_chunk"):
        chunk_array(np.arange(4), rows)


@pytest.mark.parametrize(
    "array",
    [np.array(3.0), np.zeros((0, 3)), np.array([object(), object()], dtype=object)],
    ids=["0-d", "no-rows", "object"],
)
def test_chunk_array_rejects_bad_arrays(array):
    with pytest.raises(ValueError):
        chunk_array(array, 1)


# --- Merkle input validation --------------------------------------------------------------------


def test_empty_chunk_list_raises():
    with pytest.raises(ValueError, match="empty"):
        merkle_root([])
    with pytest.raises(ValueError, match="empty"):
        MerkleTree(())


@pytest.mark.parametrize("index", [-1, 5, 100, True])
def test_proof_index_out_of_range_raises(index):
    tree = MerkleTree(make_chunks(5))
    with pytest.raises(ValueError, match="index"):
        tree.proof(index)


# --- Signatures ---------------------------------------------------------------------------------

SEED_A = bytes(range(32))
SEED_B = bytes(range(1, 33))
CONTEXT = b"corp-7/dataset-3"


@pytest.fixture
def signed():
    signer = Signer.from_seed(SEED_A)
    root = merkle_root(make_chunks(9))
    return signer, root, signer.sign(root, CONTEXT)


def test_signature_verifies(signed):
    signer, root, signature = signed
    assert len(signer.public_key_bytes) == 32
    assert len(signature) == 64
    assert verify_commitment(signer.public_key_bytes, root, CONTEXT, signature)
    assert (
        sign_commitment(signer.private_key, root, CONTEXT) == signature
    )  # Ed25519 is deterministic


def test_signature_fails_for_wrong_key(signed):
    _, root, signature = signed
    assert not verify_commitment(
        Signer.from_seed(SEED_B).public_key_bytes, root, CONTEXT, signature
    )
    assert not verify_commitment(Signer.generate().public_key_bytes, root, CONTEXT, signature)


def test_signature_fails_for_wrong_root(signed):
    signer, root, signature = signed
    assert not verify_commitment(signer.public_key_bytes, flip(root, 5), CONTEXT, signature)
    assert not verify_commitment(signer.public_key_bytes, merkle_root([b"x"]), CONTEXT, signature)


def test_signature_fails_for_wrong_context(signed):
    signer, root, signature = signed
    for context in (b"corp-7/dataset-4", b"corp-8/dataset-3", b"", CONTEXT + b"\x00"):
        assert not verify_commitment(signer.public_key_bytes, root, context, signature)


@pytest.mark.parametrize("position", [0, 31, 32, 63])
def test_signature_fails_for_flipped_byte(signed, position):
    signer, root, signature = signed
    assert not verify_commitment(signer.public_key_bytes, root, CONTEXT, flip(signature, position))


def test_malformed_inputs_return_false(signed):
    signer, root, signature = signed
    key = signer.public_key_bytes
    assert not verify_commitment(key, root, CONTEXT, signature[:-1])
    assert not verify_commitment(key, root, CONTEXT, signature + b"\x00")
    assert not verify_commitment(key, root, CONTEXT, b"")
    assert not verify_commitment(key[:-1], root, CONTEXT, signature)
    assert not verify_commitment(key + b"\x00", root, CONTEXT, signature)
    assert not verify_commitment(b"", root, CONTEXT, signature)
    assert not verify_commitment(key, root[:-1], CONTEXT, signature)
    assert not verify_commitment(key, root + b"\x00", CONTEXT, signature)


def test_context_and_root_are_not_ambiguous():
    # Moving bytes between context and root must change the signed message.
    signer = Signer.from_seed(SEED_A)
    root = bytes(32)
    signature = signer.sign(root, b"ab")
    assert not verify_commitment(signer.public_key_bytes, bytes(32), b"a", signature)


def test_seed_keys_are_reproducible():
    one, two = Signer.from_seed(SEED_A), Signer.from_seed(bytearray(SEED_A))
    assert one.public_key_bytes == two.public_key_bytes
    root = merkle_root([b"data"])
    assert one.sign(root, CONTEXT) == two.sign(root, CONTEXT)
    assert Signer.from_seed(SEED_B).public_key_bytes != one.public_key_bytes


def test_fresh_keys_differ():
    assert Signer.generate().public_key_bytes != Signer.generate().public_key_bytes


@pytest.mark.parametrize("seed", [b"", bytes(31), bytes(33)])
def test_bad_seed_raises(seed):
    with pytest.raises(ValueError, match="seed"):
        Signer.from_seed(seed)


@pytest.mark.parametrize("root", [b"", bytes(31), bytes(33)])
def test_signing_bad_root_raises(root):
    signer = Signer.from_seed(SEED_A)
    with pytest.raises(ValueError, match="root"):
        signer.sign(root, CONTEXT)
    with pytest.raises(ValueError, match="root"):
        sign_commitment(signer.private_key, root, CONTEXT)
