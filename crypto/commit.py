"""Commitments to a corporation's (encrypted) dataset.

A dataset is cut into byte chunks (for instance serialized ciphertext chunks, or row-chunks of a
numpy array via :func:`chunk_array`), the chunks are committed to by a SHA-256 Merkle tree, and the
owner signs the root with Ed25519 so that anyone holding the raw 32-byte public key can check that
a chunk belongs to the signed dataset.

Tree construction:

* a leaf is ``SHA-256(0x00 || chunk)`` and an inner node is ``SHA-256(0x01 || left || right)``, so a
  leaf can never be confused with an inner node (second-preimage resistance across levels);
* an odd node at the end of a level is *promoted* unchanged to the next level (it is not
  duplicated, which would let ``[a, b, c]`` and ``[a, b, c, c]`` share a root);
* the published root is ``SHA-256(0x02 || leaf_count as 8-byte big-endian || top)``, where
  ``top`` is the single node left at the last level. Binding the leaf count means the shape of every
  inclusion path is fixed by ``(index, leaf_count)``, so a proof cannot claim another tree size.

This module imports nothing else of intentlab (only the standard library, numpy and cryptography).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "HASH_SIZE",
    "InclusionProof",
    "MerkleTree",
    "ProofStep",
    "Signer",
    "chunk_array",
    "leaf_hash",
    "merkle_root",
    "node_hash",
    "sign_commitment",
    "verify_commitment",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Size in bytes of a SHA-256 digest, hence of every node and root."""

_LEAF_PREFIX = b"\x00"
_INNER_PREFIX = b"\x01"
_ROOT_PREFIX = b"\x02"
_CHUNK_MAGIC = b"intentlab.chunk.v1"
_SIGNATURE_DOMAIN = b"intentlab.dataset-commitment.v1"
_SEED_SIZE = 32
_PUBLIC_KEY_SIZE = 32
_MAX_LEAVES = 2**64 - 1


def leaf_hash(chunk: bytes) -> bytes:
    """Hash one chunk as a Merkle leaf.

    Args:
        chunk: the chunk's bytes (any bytes-like object).

    Returns:
        ``SHA-256(0x00 || chunk)``.
    """
    digest = hashlib.sha256(_LEAF_PREFIX)
    digest.update(chunk)
    return digest.digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash two child nodes into their parent.

    Args:
        left: the left child's hash.
        right: the right child's hash.

    Returns:
        ``SHA-256(0x01 || left || right)``.
    """
    return hashlib.sha256(_INNER_PREFIX + left + right).digest()


def _finalize_root(top: bytes, leaf_count: int) -> bytes:
    """Bind the leaf count to the top node of a tree.

    Args:
        top: the single node left at the tree's last level.
        leaf_count: number of leaves in the tree.

    Returns:
        ``SHA-256(0x02 || leaf_count (8 bytes, big-endian) || top)``.
    """
    return hashlib.sha256(_ROOT_PREFIX + leaf_count.to_bytes(8, "big") + top).digest()


def _next_level(level: list[bytes]) -> list[bytes]:
    """Hash one tree level into the next, promoting an odd last node.

    Args:
        level: the node hashes of one level, at least two.

    Returns:
        The node hashes of the level above.
    """
    parents = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
    if len(level) % 2:
        parents.append(level[-1])
    return parents


def _build_levels(chunks: Sequence[bytes]) -> list[list[bytes]]:
    """Compute every level of the tree, leaves first.

    Args:
        chunks: the chunks to commit to.

    Returns:
        The levels, from the leaf hashes up to the one-node top level.

    Raises:
        ValueError: if ``chunks`` is empty or too long.
    """
    if len(chunks) == 0:
        raise ValueError("cannot commit to an empty list of chunks")
    if len(chunks) > _MAX_LEAVES:
        raise ValueError(f"at most {_MAX_LEAVES} chunks can be committed, got {len(chunks)}")
    levels = [[leaf_hash(chunk) for chunk in chunks]]
    while len(levels[-1]) > 1:
        levels.append(_next_level(levels[-1]))
    return levels


def merkle_root(chunks: Sequence[bytes]) -> bytes:
    """Compute the Merkle root committing to a sequence of chunks.

    Args:
        chunks: the chunks, in order; at least one.

    Returns:
        The 32-byte root (which also binds the number of chunks).

    Raises:
        ValueError: if ``chunks`` is empty.
    """
    return MerkleTree(chunks).root


@dataclass(frozen=True)
class ProofStep:
    """One step of an inclusion path.

    Attributes:
        sibling: the sibling node's hash at this level.
        sibling_on_left: whether the sibling is the left child (the running hash the right one).
    """

    sibling: bytes
    sibling_on_left: bool


@dataclass(frozen=True)
class InclusionProof:
    """Proof that a chunk sits at a given position of a committed sequence.

    Attributes:
        index: position of the chunk, from 0.
        leaf_count: number of chunks in the committed sequence.
        path: sibling hashes from the leaf level upward; levels where the node was promoted have
            no step.
    """

    index: int
    leaf_count: int
    path: tuple[ProofStep, ...]


def _path_sides(index: int, leaf_count: int) -> list[bool]:
    """Give the expected sibling sides of the path for a position in a tree.

    Args:
        index: the leaf's position, ``0 <= index < leaf_count``.
        leaf_count: number of leaves.

    Returns:
        For each level where the node has a sibling, whether that sibling is on the left.
    """
    sides = []
    width = leaf_count
    while width > 1:
        if index % 2:
            sides.append(True)
        elif index + 1 < width:
            sides.append(False)
        index //= 2
        width = (width + 1) // 2
    return sides


class MerkleTree:
    """A SHA-256 Merkle tree over a sequence of chunks, kept in memory to serve proofs.

    Args:
        chunks: the chunks, in order; at least one.

    Raises:
        ValueError: if ``chunks`` is empty.
    """

    def __init__(self, chunks: Sequence[bytes]) -> None:
        self._levels = _build_levels(chunks)
        self._root = _finalize_root(self._levels[-1][0], self.leaf_count)

    @property
    def root(self) -> bytes:
        """The 32-byte root committing to the chunks and their count."""
        return self._root

    @property
    def leaf_count(self) -> int:
        """Number of chunks committed to."""
        return len(self._levels[0])

    def proof(self, index: int) -> InclusionProof:
        """Build the inclusion proof for one chunk.

        Args:
            index: position of the chunk, ``0 <= index < leaf_count``.

        Returns:
            The proof, checkable with :func:`verify_inclusion` against :attr:`root`.

        Raises:
            ValueError: if ``index`` is out of range.
        """
        if isinstance(index, bool) or not 0 <= index < self.leaf_count:
            raise ValueError(f"index must be in [0, {self.leaf_count}), got {index!r}")
        path = []
        position = index
        for level in self._levels[:-1]:
            sibling = position ^ 1
            if sibling < len(level):
                path.append(ProofStep(level[sibling], sibling_on_left=bool(position % 2)))
            position //= 2
        return InclusionProof(index=index, leaf_count=self.leaf_count, path=tuple(path))


def verify_inclusion(root: bytes, chunk: bytes, proof: InclusionProof) -> bool:
    """Check that a chunk is committed to by a root at the proof's position.

    Args:
        root: the trusted 32-byte root.
        chunk: the chunk's bytes.
        proof: the inclusion proof.

    Returns:
        True if the proof is well formed and recomputes ``root`` from ``chunk``; False on any
        mismatch (changed chunk, wrong index or leaf count, wrong root, truncated or extended path).
    """
    count, index = proof.leaf_count, proof.index
    if isinstance(count, bool) or isinstance(index, bool):
        return False
    if not (isinstance(count, int) and isinstance(index, int)):
        return False
    if not (1 <= count <= _MAX_LEAVES and 0 <= index < count):
        return False
    sides = _path_sides(index, count)
    if len(proof.path) != len(sides):
        return False
    running = leaf_hash(chunk)
    for step, expected_left in zip(proof.path, sides, strict=True):
        if step.sibling_on_left is not expected_left or len(step.sibling) != HASH_SIZE:
            return False
        if expected_left:
            running = node_hash(step.sibling, running)
        else:
            running = node_hash(running, step.sibling)
    return _finalize_root(running, count) == root


def chunk_array(array: np.ndarray, rows_per_chunk: int) -> list[bytes]:
    """Serialize a numpy array into row-chunks of bytes, deterministically.

    Each chunk carries a header with the array's dtype (including byte order), its full shape and
    the chunk's first row, followed by the rows' C-order bytes. A reshaped array, an array of
    another dtype, or the same rows at another position therefore give different chunks.

    Args:
        array: the array to serialize; at least one dimension and one row, no object dtype.
        rows_per_chunk: rows (entries along axis 0) per chunk; the last chunk may be shorter.

    Returns:
        The chunks, in row order.

    Raises:
        ValueError: if ``rows_per_chunk < 1``, the array is 0-d or has no rows, or its dtype holds
            Python objects.
    """
    if isinstance(rows_per_chunk, bool) or rows_per_chunk < 1:
        raise ValueError(f"rows_per_chunk must be >= 1, got {rows_per_chunk!r}")
    array = np.asarray(array)
    if array.ndim == 0:
        raise ValueError("cannot chunk a 0-d array; it needs at least one dimension")
    if array.shape[0] == 0:
        raise ValueError("cannot chunk an array with no rows")
    if array.dtype.hasobject:
        raise ValueError(f"cannot serialize an array of dtype {array.dtype} deterministically")
    dtype_tag = array.dtype.str.encode("ascii")
    prefix = (
        _CHUNK_MAGIC
        + len(dtype_tag).to_bytes(2, "big")
        + dtype_tag
        + array.ndim.to_bytes(2, "big")
        + b"".join(dim.to_bytes(8, "big") for dim in array.shape)
    )
    contiguous = np.ascontiguousarray(array)
    return [
        prefix + start.to_bytes(8, "big") + contiguous[start : start + rows_per_chunk].tobytes()
        for start in range(0, array.shape[0], rows_per_chunk)
    ]


def _commitment_message(root: bytes, context: bytes) -> bytes:
    """Build the message an Ed25519 commitment signature covers.

    Args:
        root: the 32-byte Merkle root.
        context: caller-chosen context, e.g. corporation id and dataset id.

    Returns:
        ``domain || len(context) (8 bytes, big-endian) || context || root``.
    """
    return _SIGNATURE_DOMAIN + len(context).to_bytes(8, "big") + bytes(context) + bytes(root)


def sign_commitment(private_key: Ed25519PrivateKey, root: bytes, context: bytes) -> bytes:
    """Sign a dataset commitment.

    Args:
        private_key: the signer's Ed25519 private key.
        root: the 32-byte Merkle root.
        context: context the signature is bound to, e.g. ``b"corp-7/dataset-3"``.

    Returns:
        The 64-byte Ed25519 signature.

    Raises:
        ValueError: if ``root`` is not 32 bytes.
    """
    if len(root) != HASH_SIZE:
        raise ValueError(f"root must be {HASH_SIZE} bytes, got {len(root)}")
    return private_key.sign(_commitment_message(root, context))


def verify_commitment(
    public_key_bytes: bytes, root: bytes, context: bytes, signature: bytes
) -> bool:
    """Check a dataset-commitment signature.

    Args:
        public_key_bytes: the signer's raw 32-byte Ed25519 public key.
        root: the 32-byte Merkle root.
        context: the context the signature should be bound to.
        signature: the signature to check.

    Returns:
        True if ``signature`` was made by the key's owner over ``root`` and ``context``; False
        otherwise, including for malformed keys, roots or signatures.
    """
    if len(public_key_bytes) != _PUBLIC_KEY_SIZE or len(root) != HASH_SIZE:
        return False
    try:
        public_key = Ed25519PublicKey.from_public_bytes(bytes(public_key_bytes))
        public_key.verify(bytes(signature), _commitment_message(root, context))
    except (InvalidSignature, ValueError):
        return False
    return True


class Signer:
    """An Ed25519 key pair that signs dataset commitments.

    Args:
        private_key: the key to sign with.
    """

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._private_key = private_key

    @classmethod
    def generate(cls) -> Signer:
        """Create a signer with a fresh random key.

        Returns:
            The signer.
        """
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> Signer:
        """Create a signer deterministically from a 32-byte seed.

        Args:
            seed: the raw 32-byte Ed25519 private key.

        Returns:
            The signer; the same seed always gives the same keys.

        Raises:
            ValueError: if ``seed`` is not 32 bytes.
        """
        if len(seed) != _SEED_SIZE:
            raise ValueError(f"seed must be {_SEED_SIZE} bytes, got {len(seed)}")
        return cls(Ed25519PrivateKey.from_private_bytes(bytes(seed)))

    @property
    def private_key(self) -> Ed25519PrivateKey:
        """The Ed25519 private key."""
        return self._private_key

    @property
    def public_key_bytes(self) -> bytes:
        """The raw 32-byte public key."""
        return self._private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    def sign(self, root: bytes, context: bytes) -> bytes:
        """Sign a dataset commitment with this signer's key.

        Args:
            root: the 32-byte Merkle root.
            context: context the signature is bound to.

        Returns:
            The 64-byte signature, checkable with :func:`verify_commitment`.

        Raises:
            ValueError: if ``root`` is not 32 bytes.
        """
        return sign_commitment(self._private_key, root, context)
