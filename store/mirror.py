"""A serving-side copy of a collection's vectors, read from the embeddings it was built from.

MMR needs the vectors of every recalled candidate. Engines hand them back as Python lists (about
2.5 ms for 50 × 1280 floats); a memory-mapped copy of the very file the build was loaded from
gives them in microseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from core.settings import Settings
from store.errors import EmbeddingsError
from store.factory import collection_record, open_store
from store.indexing import Embeddings, load_embeddings
from store.protocol import CollectionInfo, Filter, Hit, Payload, Vector, VectorStore


class MirroredStore:
    """A store whose `vectors(ids)` reads the embeddings file; everything else is delegated.

    Writes go to the wrapped store and into an overlay of written vectors and deleted ids that
    `vectors` consults first, so the mirror never disagrees with the index.
    """

    def __init__(self, inner: VectorStore, embeddings: Embeddings) -> None:
        self._inner = inner
        # A plain ndarray view of the memory map: indexing rows of a np.memmap is ~20x slower.
        self._matrix: Vector = np.asarray(embeddings.vectors)
        self._row = {int(pid): row for row, pid in enumerate(embeddings.ids)}
        self._written: dict[int, Vector | None] = {}  # None: deleted since the build

    def upsert(self, ids: Sequence[int], vectors: Vector, payloads: Sequence[Payload]) -> None:
        """Insert or replace points, in the store and the overlay."""
        self._inner.upsert(ids, vectors, payloads)
        for i, vector in zip(ids, np.asarray(vectors, dtype=np.float32), strict=True):
            self._written[int(i)] = vector.copy()

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
        """Stored vectors of the given ids: written here since the build, else from the file,
        else (written before a restart) from the store."""
        found: dict[int, Vector] = {}
        elsewhere = []
        for i in map(int, ids):
            if i in self._written:
                vector = self._written[i]
                if vector is not None:
                    found[i] = vector
            elif (row := self._row.get(i)) is not None:
                found[i] = self._matrix[row]
            else:
                elsewhere.append(i)
        if elsewhere:
            found |= self._inner.vectors(elsewhere)
        return found

    def payloads(self, ids: Sequence[int]) -> dict[int, Payload]:
        """Stored payloads of the given ids."""
        return self._inner.payloads(ids)

    def count(self) -> int:
        """Number of points."""
        return self._inner.count()

    def delete(self, ids: Sequence[int]) -> None:
        """Remove points, from the store and the overlay."""
        self._inner.delete(ids)
        self._written.update(dict.fromkeys(map(int, ids)))

    def info(self) -> CollectionInfo:
        """The wrapped store's info, marked as mirrored, with the number of writes since the build."""
        info = self._inner.info()
        details: dict[str, Any] = {**info.details, "vector_mirror": True}
        details["written_since_build"] = len(self._written)
        return CollectionInfo(info.name, info.count, info.dim, info.backend, details)

    def close(self) -> None:
        """Close the wrapped store."""
        self._inner.close()


def open_for_serving(
    settings: Settings, collection: str, record: dict[str, Any] | None = None, **options: Any
) -> VectorStore:
    """`open_store`, with a vector mirror when the live build came from the embeddings on disk
    (`record`: the live build's, when the caller has read it already)."""
    store = open_store(settings, collection, **options)
    try:
        embeddings = load_embeddings(settings.embeddings_dir, collection)
    except EmbeddingsError:
        return store
    backend = {k: v for k, v in options.items() if k in ("backend", "client")}
    if record is None:
        record = collection_record(settings, collection, **backend) or {}
    if record.get("source", {}).get("manifest_sha256") != embeddings.manifest_sha256:
        return store
    return MirroredStore(store, embeddings)
