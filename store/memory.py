"""An exact in-memory collection: numpy arrays behind the store protocol (no engine, no files).

For exact searches over vectors already in memory (the text benchmark's product texts) and for
fast tests of what sits on the protocol (the pipeline, the write path's rollback).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from store.filters import PayloadColumns, effective
from store.protocol import CollectionInfo, Filter, Hit, Payload, Vector


class MemoryStore:
    """A `VectorStore` searched exactly by inner product; thread-safe for reads only."""

    def __init__(self, name: str, dim: int) -> None:
        self.name, self.dim = name, dim
        self._vectors: dict[int, Vector] = {}
        self._payloads: dict[int, Payload] = {}
        self._index: tuple[np.ndarray, np.ndarray, PayloadColumns] | None = None

    @classmethod
    def of(
        cls,
        name: str,
        ids: Sequence[int],
        vectors: Vector,
        payloads: Sequence[Payload] | None = None,
    ) -> MemoryStore:
        """A store holding `vectors` (row i has id `ids[i]`)."""
        store = cls(name, int(vectors.shape[1]))
        store.upsert(ids, vectors, payloads or [{} for _ in ids])
        return store

    def upsert(self, ids: Sequence[int], vectors: Vector, payloads: Sequence[Payload]) -> None:
        """Insert or replace points."""
        for i, vector, payload in zip(ids, np.asarray(vectors, np.float32), payloads, strict=True):
            self._vectors[int(i)], self._payloads[int(i)] = vector, dict(payload)
        self._index = None

    def _arrays(self) -> tuple[np.ndarray, np.ndarray, PayloadColumns]:
        if self._index is None:
            ids = np.fromiter(self._vectors, np.int64, len(self._vectors))
            matrix = (
                np.stack([self._vectors[int(i)] for i in ids])
                if len(ids)
                else np.zeros((0, self.dim), np.float32)
            )
            columns = PayloadColumns(ids, [self._payloads[int(i)] for i in ids])
            self._index = (ids, matrix, columns)
        return self._index

    def search(
        self, vector: Vector, limit: int, filter: Filter | None = None, with_payload: bool = True
    ) -> list[Hit]:
        """Exact nearest neighbours by inner product, best first (ties: lower id first)."""
        ids, matrix, columns = self._arrays()
        scores = matrix @ np.asarray(vector, np.float32)
        wanted = effective(filter)
        keep = np.ones(len(ids), np.bool_) if wanted is None else columns.mask(wanted)
        rows = np.flatnonzero(keep)
        order = rows[np.lexsort((ids[rows], -scores[rows]))][:limit]
        return [
            Hit(
                int(ids[r]),
                float(scores[r]),
                dict(self._payloads[int(ids[r])]) if with_payload else {},
            )
            for r in order
        ]

    def search_batch(
        self, vectors: Vector, limit: int, filter: Filter | None = None, with_payload: bool = True
    ) -> list[list[Hit]]:
        """`search` for each row of a (n, dim) matrix."""
        return [self.search(v, limit, filter, with_payload) for v in vectors]

    def vectors(self, ids: Sequence[int]) -> dict[int, Vector]:
        """Stored vectors of the given ids (unknown ids are absent)."""
        return {int(i): self._vectors[int(i)] for i in ids if int(i) in self._vectors}

    def payloads(self, ids: Sequence[int]) -> dict[int, Payload]:
        """Stored payloads of the given ids (unknown ids are absent)."""
        return {int(i): dict(self._payloads[int(i)]) for i in ids if int(i) in self._payloads}

    def count(self) -> int:
        """Number of points."""
        return len(self._vectors)

    def delete(self, ids: Sequence[int]) -> None:
        """Remove points; unknown ids are ignored."""
        for i in ids:
            self._vectors.pop(int(i), None)
            self._payloads.pop(int(i), None)
        self._index = None

    def info(self) -> CollectionInfo:
        """Name, size, dimension."""
        return CollectionInfo(self.name, self.count(), self.dim, "memory")

    def close(self) -> None:
        """Nothing to release."""
