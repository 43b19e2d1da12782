"""A serving-side copy of a collection's vectors, read from the embeddings it was built from.

MMR needs the vectors of every recalled candidate. Engines hand them back as Python lists (about
2.5 ms for 50 × 1280 floats); a memory-mapped copy of the very file the build was loaded from
gives them in microseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from lookalike.settings import Settings
from store.errors import EmbeddingsError
from store.factory import collection_record, open_store
from store.indexing import Embeddings, load_embeddings
from store.protocol import CollectionInfo, Filter, Hit, Payload, Vector, VectorStore


class MirroredStore:
    """A store whose `vectors(ids)` reads the embeddings file; everything else is delegated.

    Writes go to the wrapped store and retire the mirror, so it can never disagree with the index.
    """

    def __init__(self, inner: VectorStore, embeddings: Embeddings) -> None:
        self._inner = inner
        # A plain ndarray view of the memory map: indexing rows of a np.memmap is ~20x slower.
        self._matrix: Vector | None = np.asarray(embeddings.vectors)
        self._row = {int(pid): row for row, pid in enumerate(embeddings.ids)}

    def upsert(self, ids: Sequence[int], vectors: Vector, payloads: Sequence[Payload]) -> None:
        """Insert or replace points (the mirror retires)."""
        self._matrix = None
        self._inner.upsert(ids, vectors, payloads)

    def search(
        self, vector: Vector, limit: int, filter: Filter | None = None, with_payload: bool = True
    ) -> list[Hit]:
        """Nearest neighbours by inner product, best first."""
        return self._inner.search(vector, limit, filter, with_payload)

    def search_batch(
        self, vectors: Vector, limit: int, filter: Filter | None = None, with_payload: bool = True
    ) -> list[list[Hit]]:
        """`search` for each row of a (n, dim) matrix."""
        return self._inner.search_batch(vectors, limit, filter, with_payload)

    def vectors(self, ids: Sequence[int]) -> dict[int, Vector]:
        """Stored vectors of the given ids, from the mirror while it is valid."""
        if self._matrix is None:
            return self._inner.vectors(ids)
        rows = {int(i): self._row.get(int(i)) for i in ids}
        return {i: self._matrix[row] for i, row in rows.items() if row is not None}

    def payloads(self, ids: Sequence[int]) -> dict[int, Payload]:
        """Stored payloads of the given ids."""
        return self._inner.payloads(ids)

    def count(self) -> int:
        """Number of points."""
        return self._inner.count()

    def delete(self, ids: Sequence[int]) -> None:
        """Remove points (the mirror retires)."""
        self._matrix = None
        self._inner.delete(ids)

    def info(self) -> CollectionInfo:
        """The wrapped store's info, marked as mirrored while the mirror is valid."""
        info = self._inner.info()
        details: dict[str, Any] = {**info.details, "vector_mirror": self._matrix is not None}
        return CollectionInfo(info.name, info.count, info.dim, info.backend, details)

    def close(self) -> None:
        """Close the wrapped store."""
        self._inner.close()


def open_for_serving(settings: Settings, collection: str, **options: Any) -> VectorStore:
    """`open_store`, with a vector mirror when the live build came from the embeddings on disk."""
    store = open_store(settings, collection, **options)
    try:
        embeddings = load_embeddings(settings.embeddings_dir, collection)
    except EmbeddingsError:
        return store
    backend = {k: v for k, v in options.items() if k in ("backend", "client")}
    record = collection_record(settings, collection, **backend) or {}
    if record.get("source", {}).get("manifest_sha256") != embeddings.manifest_sha256:
        return store
    return MirroredStore(store, embeddings)
