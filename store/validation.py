"""Checks shared by every backend, so bad input fails the same way everywhere."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from store.errors import InvalidVectorError, StoreError
from store.protocol import Payload, Vector

UNIT_NORM_TOLERANCE = 1e-3
_COLLECTION_NAME = re.compile(r"^[A-Za-z0-9_]+$")


def check_collection_name(name: str) -> str:
    """The name itself if it is usable as a folder and collection name."""
    if not _COLLECTION_NAME.fullmatch(name):
        raise StoreError(
            f"invalid collection name {name!r}: use letters, digits and underscores "
            "(collections are named after models, e.g. 'clip')"
        )
    return name


def _finite_matrix(vectors: npt.ArrayLike, dim: int, what: str) -> Vector:
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[1] != dim:
        raise InvalidVectorError(
            f"{what} must have shape (n, {dim}) for this collection, got {matrix.shape}: "
            "was it embedded with another model?"
        )
    if not np.isfinite(matrix).all():
        raise InvalidVectorError(f"{what} contain NaN or infinite values: re-run the embedding")
    return matrix


def unit_vectors(vectors: npt.ArrayLike, dim: int) -> Vector:
    """Vectors to store: (n, dim), finite and L2-normalised (scores are then cosines)."""
    matrix = _finite_matrix(vectors, dim, "vectors")
    norms = np.linalg.norm(matrix, axis=1)
    bad = np.flatnonzero(np.abs(norms - 1.0) > UNIT_NORM_TOLERANCE)
    if bad.size:
        raise InvalidVectorError(
            f"{bad.size} vectors are not L2-normalised (row {bad[0]} has norm {norms[bad[0]]:.4f}): "
            "normalise them before storing"
        )
    return matrix


def query_vectors(vectors: npt.ArrayLike, dim: int) -> Vector:
    """Queries as an L2-normalised (n, dim) matrix; a single vector becomes one row."""
    matrix = np.asarray(vectors, dtype=np.float32)
    matrix = _finite_matrix(matrix.reshape(1, -1) if matrix.ndim == 1 else matrix, dim, "queries")
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    if (norms == 0).any():
        raise InvalidVectorError("a query vector is all zeros: it has no direction to search")
    return matrix / norms


def query_vector(vector: npt.ArrayLike, dim: int) -> Vector:
    """One query as a normalised (1, dim) matrix."""
    if np.ndim(vector) != 1:
        raise InvalidVectorError("search takes one vector: use search_batch for a matrix")
    return query_vectors(vector, dim)


def point_ids(ids: Sequence[int]) -> list[int]:
    """Catalogue ids as non-negative Python ints, repeats dropped."""
    as_ints = list(dict.fromkeys(int(i) for i in ids))
    if any(i < 0 for i in as_ints):
        raise InvalidVectorError("ids must be non-negative catalogue ids")
    return as_ints


def points(
    ids: Sequence[int], vectors: npt.ArrayLike, payloads: Sequence[Payload], dim: int
) -> tuple[list[int], Vector, list[Payload]]:
    """An upsert batch checked for matching lengths, valid ids and unit vectors."""
    checked_ids = point_ids(ids)
    if len(checked_ids) != len(ids):
        raise InvalidVectorError("ids must be distinct within one upsert")
    matrix = unit_vectors(vectors, dim)
    if not len(checked_ids) == len(matrix) == len(payloads):
        raise InvalidVectorError(
            f"got {len(checked_ids)} ids, {len(matrix)} vectors and {len(payloads)} payloads: "
            "they must match one to one"
        )
    try:
        json.dumps(payloads)
    except (TypeError, ValueError) as exc:
        raise InvalidVectorError(f"payloads must be plain JSON objects: {exc}") from exc
    return checked_ids, matrix, [dict(p) for p in payloads]


def search_limit(limit: int) -> int:
    """A positive result count."""
    if limit < 1:
        raise InvalidVectorError(f"limit must be at least 1, got {limit}")
    return int(limit)
