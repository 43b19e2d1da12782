"""`qdrant-embedded`: the Qdrant engine in-process (qdrant-edge), one shard per collection build.

Edge allows one open `EdgeShard` per folder, so each build is opened once per process and
shared by every store handle on it (reference counted); the shard serves concurrent reads.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import qdrant_edge as edge

from store import filters, validation
from store.backends.local_backend import FinishableStore, LocalBackend
from store.builds import Lease
from store.errors import StoreDiskError
from store.options import DEFAULT_SEARCH_EF, QUANTIZED_OVERSAMPLING, BuildOptions
from store.protocol import CollectionInfo, Filter, Hit, Payload, Vector

NAME = "qdrant-embedded"
SHARD_FOLDER = "shard"


class _EdgeDialect:
    """Filter conditions spelled for qdrant-edge."""

    def keyword(self, field: str, value: str) -> edge.FieldCondition:
        return edge.FieldCondition(key=field, match=edge.MatchValue(value))

    def range(self, field: str, low: float | None, high: float | None) -> edge.FieldCondition:
        return edge.FieldCondition(key=field, range=edge.RangeFloat(gte=low, lte=high))

    def has_ids(self, ids: list[int]) -> edge.HasIdCondition:
        return edge.HasIdCondition(set(ids))

    def combine(self, must: list[Any], must_not: list[Any]) -> edge.Filter:
        return edge.Filter(must=must or None, must_not=must_not or None)


def _edge_config(dim: int, options: BuildOptions) -> edge.EdgeConfig:
    hnsw = options.hnsw
    quantization = (
        edge.ScalarQuantizationConfig(edge.ScalarType.Int8, quantile=0.99, always_ram=True)
        if options.quantization == "int8"
        else None
    )
    return edge.EdgeConfig(
        vectors=edge.EdgeVectorParams(size=dim, distance=edge.Distance.Dot),
        hnsw_config=edge.HnswIndexConfig(
            m=hnsw.m,
            ef_construct=hnsw.ef_construct,
            full_scan_threshold=hnsw.full_scan_threshold_kb,
            payload_m=hnsw.payload_m,
        ),
        quantization_config=quantization,
        optimizers=edge.EdgeOptimizersConfig(indexing_threshold=1),  # index every segment
        # Live writes are durable once `update` returns (a killed process replays its WAL).
        wal_enabled=True,
    )


class EmbeddedQdrantStore:
    """A collection in an in-process Qdrant shard; writes go through its write-ahead log."""

    def __init__(
        self, name: str, shard: edge.EdgeShard, dim: int, search_ef: int, release: _Release
    ) -> None:
        self._name = name
        self._shard = shard
        self._dim = dim
        # int8 candidates are rescored with the original vectors; ACORN keeps recall up when a
        # selective filter leaves the graph walk few matching neighbours.
        rescoring = edge.QuantizationSearchParams(rescore=True, oversampling=QUANTIZED_OVERSAMPLING)
        self._params = edge.SearchParams(
            hnsw_ef=search_ef, quantization=rescoring, acorn=edge.AcornSearchParams(enable=True)
        )
        self._release: _Release | None = release

    def upsert(self, ids: Sequence[int], vectors: Vector, payloads: Sequence[Payload]) -> None:
        """Insert or replace points."""
        checked_ids, matrix, checked_payloads = validation.points(ids, vectors, payloads, self._dim)
        points = [
            edge.Point(i, row, payload)
            for i, row, payload in zip(checked_ids, matrix.tolist(), checked_payloads, strict=True)
        ]
        self._shard.update(edge.UpdateOperation.upsert_points(points))

    def search(
        self, vector: Vector, limit: int, filter: Filter | None = None, with_payload: bool = True
    ) -> list[Hit]:
        """Nearest neighbours by inner product, best first."""
        query = validation.query_vector(vector, self._dim)
        return self.search_batch(query, limit, filter, with_payload)[0]

    def search_batch(
        self, vectors: Vector, limit: int, filter: Filter | None = None, with_payload: bool = True
    ) -> list[list[Hit]]:
        """`search` for each row of a (n, dim) matrix, planned as one batch."""
        queries = validation.query_vectors(vectors, self._dim)
        checked = filters.effective(filter)
        condition = None if checked is None else filters.to_qdrant(checked, _EdgeDialect())
        requests = [
            edge.QueryRequest(
                limit=validation.search_limit(limit),
                query=edge.Query.Nearest(row),
                filter=condition,
                params=self._params,
                with_payload=with_payload,
            )
            for row in queries.tolist()
        ]
        if not requests:
            return []
        results = self._shard.query_batch(edge.QueryBatchRequest(requests))
        return [
            [Hit(int(p.id), float(p.score), p.payload or {}) for p in points] for points in results
        ]

    def vectors(self, ids: Sequence[int]) -> dict[int, Vector]:
        """Stored vectors of the given ids (unknown ids are absent)."""
        records = self._shard.retrieve(list(validation.point_ids(ids)), False, True)
        return {int(r.id): np.asarray(r.vector, dtype=np.float32) for r in records}

    def payloads(self, ids: Sequence[int]) -> dict[int, Payload]:
        """Stored payloads of the given ids (unknown ids are absent)."""
        records = self._shard.retrieve(list(validation.point_ids(ids)), True, False)
        return {int(r.id): r.payload or {} for r in records}

    def count(self) -> int:
        """Number of points."""
        return self._shard.count(edge.CountRequest(exact=True))

    def delete(self, ids: Sequence[int]) -> None:
        """Remove points; unknown ids are ignored."""
        self._shard.update(edge.UpdateOperation.delete_points(list(validation.point_ids(ids))))

    def info(self) -> CollectionInfo:
        """Name, size, dimension, and the shard's segments, index and HNSW settings."""
        shard_info = self._shard.info()
        details = {
            "segments": shard_info.segments_count,
            "indexed_vectors": shard_info.indexed_vectors_count,
            "payload_indexes": sorted(shard_info.payload_schema),
            "search_ef": self._params.hnsw_ef,
        }
        if self._release is not None:
            details |= self._release.describe()
        return CollectionInfo(self._name, shard_info.points_count, self._dim, NAME, details)

    def finish(self) -> None:
        """Build the HNSW index (and quantized vectors) and write everything to disk."""
        self._shard.optimize()
        self._shard.flush()

    def close(self) -> None:
        """Write pending changes and let go of the shard (idempotent)."""
        if self._release is not None:
            self._shard.flush()
            self._release()
            self._release = None


@dataclass
class _OpenShard:
    shard: edge.EdgeShard
    users: int


class _Release:
    """Gives one handle's hold on a shard back: the last one closes the shard."""

    def __init__(self, key: Path, lease: Lease | None) -> None:
        self._key = key
        self._lease = lease

    def describe(self) -> dict[str, Any]:
        build = self._lease.build if self._lease is not None else None
        return {} if build is None else {"build": build.path.name, **build.record["options"]}

    def __call__(self) -> None:
        _SHARDS.release(self._key)
        if self._lease is not None:
            self._lease.release()


class _ShardRegistry:
    """The shards open in this process, one per folder."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[Path, _OpenShard] = {}

    def acquire(self, folder: Path, create: edge.EdgeConfig | None = None) -> edge.EdgeShard:
        key = folder.resolve()
        with self._lock:
            entry = self._open.get(key)
            if entry is None:
                try:
                    shard = (
                        edge.EdgeShard.load(str(key))
                        if create is None
                        else edge.EdgeShard.create(str(key), create)
                    )
                except Exception as exc:
                    raise StoreDiskError(f"cannot open the Qdrant shard in {key}: {exc}") from exc
                entry = self._open[key] = _OpenShard(shard, 0)
            entry.users += 1
            return entry.shard

    def release(self, folder: Path) -> None:
        key = folder.resolve()
        with self._lock:
            entry = self._open[key]
            entry.users -= 1
            if entry.users == 0:
                del self._open[key]
                entry.shard.close()


_SHARDS = _ShardRegistry()


class EmbeddedQdrantBackend(LocalBackend):
    """Collections as qdrant-edge shards under `data/qdrant/<collection>/`."""

    name = NAME
    writable: ClassVar[bool] = True
    # Its searches hold the GIL for their ~0.35 ms: a worker thread can neither overlap them
    # nor free the event loop meanwhile; it only added 14 % per request (bench api, 1 connection).
    blocking: ClassVar[bool] = False

    def _open(self, lease: Lease, search_ef: int) -> EmbeddedQdrantStore:
        folder = lease.build.path / SHARD_FOLDER
        shard = _SHARDS.acquire(folder)
        record = lease.build.record
        return EmbeddedQdrantStore(
            record["collection"], shard, record["dim"], search_ef, _Release(folder, lease)
        )

    def _create(
        self, path: Path, collection: str, dim: int, options: BuildOptions
    ) -> FinishableStore:
        folder = path / SHARD_FOLDER
        shard = _SHARDS.acquire(folder, create=_edge_config(dim, options))
        indexes = options.indexes
        for field in indexes.keyword:
            shard.update(
                edge.UpdateOperation.create_field_index(field, edge.PayloadSchemaType.Keyword)
            )
        for field in indexes.integer:
            shard.update(
                edge.UpdateOperation.create_field_index(
                    field, edge.IntegerIndexParams(lookup=False, range=True)
                )
            )
        for field in indexes.float:
            shard.update(
                edge.UpdateOperation.create_field_index(field, edge.PayloadSchemaType.Float)
            )
        return EmbeddedQdrantStore(
            collection, shard, dim, DEFAULT_SEARCH_EF, _Release(folder, None)
        )
