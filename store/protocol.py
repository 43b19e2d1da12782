"""The contract every vector-store backend fulfils (used by the API and the benchmarks)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]
Payload = dict[str, Any]


@dataclass(frozen=True)
class Range:
    """An inclusive range on a numeric payload field (None: open on that side)."""

    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Filter:
    """Exact matches on keyword fields, inclusive ranges on numeric fields, ids to leave out."""

    match: Mapping[str, str] = field(default_factory=dict)
    ranges: Mapping[str, Range] = field(default_factory=dict)
    exclude_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class PayloadIndexes:
    """The payload fields a build indexes for filters (the catalogue schema's facets and
    numeric fields; integer fields get an integer index, others a float one)."""

    keyword: tuple[str, ...] = ()
    integer: tuple[str, ...] = ()
    float: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hit:
    """One search result: the catalogue id, cosine score (inner product) and payload."""

    id: int
    score: float
    payload: Payload


@dataclass(frozen=True)
class CollectionInfo:
    """What a collection holds."""

    name: str
    count: int
    dim: int
    backend: str
    details: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class VectorStore(Protocol):
    """A named collection of unit vectors keyed by catalogue id, with payloads.

    Get one from `store.open_store`, keep it open for the life of the process (reads are safe
    from many threads at once) and `close()` it at shutdown. Vectors in, out and in scores are
    float32; stored vectors must be L2-normalised, so scores are cosine similarities.
    """

    def upsert(self, ids: Sequence[int], vectors: Vector, payloads: Sequence[Payload]) -> None:
        """Insert or replace points."""

    def search(
        self, vector: Vector, limit: int, filter: Filter | None = None, with_payload: bool = True
    ) -> list[Hit]:
        """Nearest neighbours of one (dim,) vector by inner product, best first."""

    def search_batch(
        self, vectors: Vector, limit: int, filter: Filter | None = None, with_payload: bool = True
    ) -> list[list[Hit]]:
        """`search` for each row of a (n, dim) matrix."""

    def vectors(self, ids: Sequence[int]) -> dict[int, Vector]:
        """Stored vectors of the given ids (unknown ids are absent)."""

    def payloads(self, ids: Sequence[int]) -> dict[int, Payload]:
        """Stored payloads of the given ids (unknown ids are absent)."""

    def count(self) -> int:
        """Number of points."""

    def delete(self, ids: Sequence[int]) -> None:
        """Remove points; unknown ids are ignored."""

    def info(self) -> CollectionInfo:
        """Name, size, dimension and backend details."""

    def close(self) -> None:
        """Release files and connections."""
