"""`qdrant`: a Qdrant server or cluster through qdrant-client.

Each build is its own collection `<collection>--<build-id>`; the alias `<collection>` is switched
to it atomically once it is loaded and indexed, then older builds are deleted.
"""

from __future__ import annotations

import contextlib
import functools
import re
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, Concatenate, ParamSpec, TypeVar

import httpx
import numpy as np
from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import (
    ApiException,
    ResponseHandlingException,
    UnexpectedResponse,
)

from store import filters, validation
from store.errors import QdrantUnreachableError, StoreError, UnknownCollectionError
from store.options import DEFAULT_SEARCH_EF, QUANTIZED_OVERSAMPLING, BuildOptions
from store.protocol import CollectionInfo, Filter, Hit, Payload, Vector

NAME = "qdrant"
PROBE_TIMEOUT_S = 1  # qdrant-client rounds timeouts up to whole seconds
REQUEST_TIMEOUT_S = 30
UPSERT_BATCH = 256
INDEXING_WAIT_S = 600
_BUILD_SUFFIX = re.compile(r"--\d{8}T\d{6}-[0-9a-f]{6}$")


def connect(url: str, api_key: str | None = None) -> QdrantClient:
    """A client for the server at `url`, after checking (within ~1 s) that it answers."""
    hint = "start it with `docker compose up -d qdrant` or point QDRANT_URL at a running server"
    try:
        probe = QdrantClient(
            url=url, api_key=api_key, timeout=PROBE_TIMEOUT_S, check_compatibility=False
        )
        with contextlib.closing(probe):
            probe.get_collections()
    except UnexpectedResponse as exc:
        if exc.status_code in (401, 403):
            raise QdrantUnreachableError(
                f"Qdrant at {url} refused the API key: set QDRANT_API_KEY to the server's key"
            ) from exc
        raise QdrantUnreachableError(f"Qdrant at {url} answered {exc.status_code}: {hint}") from exc
    except (ApiException, ValueError) as exc:
        raise QdrantUnreachableError(f"cannot reach Qdrant at {url} ({exc}): {hint}") from exc
    return QdrantClient(
        url=url, api_key=api_key, timeout=REQUEST_TIMEOUT_S, check_compatibility=False
    )


class _ClientDialect:
    """Filter conditions spelled for qdrant-client."""

    def keyword(self, field: str, value: str) -> models.FieldCondition:
        return models.FieldCondition(key=field, match=models.MatchValue(value=value))

    def range(self, field: str, low: float | None, high: float | None) -> models.FieldCondition:
        return models.FieldCondition(key=field, range=models.Range(gte=low, lte=high))

    def has_ids(self, ids: list[int]) -> models.HasIdCondition:
        return models.HasIdCondition(has_id=list(ids))

    def combine(self, must: list[Any], must_not: list[Any]) -> models.Filter:
        return models.Filter(must=must or None, must_not=must_not or None)


P = ParamSpec("P")
R = TypeVar("R")


def _outage_is_unreachable(
    method: Callable[Concatenate[QdrantServerStore, P], R],
) -> Callable[Concatenate[QdrantServerStore, P], R]:
    """A server that stops answering mid-flight raises QdrantUnreachableError (the API's 503)."""

    @functools.wraps(method)
    def guarded(self: QdrantServerStore, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except (ResponseHandlingException, httpx.TransportError) as exc:
            raise QdrantUnreachableError(
                f"Qdrant at {self._where} stopped answering ({exc}); check the server and retry"
            ) from exc

    return guarded


class QdrantServerStore:
    """A collection (or the alias of one) on a Qdrant server."""

    def __init__(
        self,
        client: QdrantClient,
        target: str,
        dim: int,
        search_ef: int,
        owns_client: bool,
        where: str = "the given client",
    ) -> None:
        self._client = client
        self._where = where
        self._target = target
        self._dim = dim
        # int8 candidates are rescored with the original vectors; ACORN keeps recall up when a
        # selective filter leaves the graph walk few matching neighbours.
        rescoring = models.QuantizationSearchParams(
            rescore=True, oversampling=QUANTIZED_OVERSAMPLING
        )
        self._params = models.SearchParams(
            hnsw_ef=search_ef, quantization=rescoring, acorn=models.AcornSearchParams(enable=True)
        )
        self._owns_client = owns_client

    @_outage_is_unreachable
    def upsert(self, ids: Sequence[int], vectors: Vector, payloads: Sequence[Payload]) -> None:
        """Insert or replace points (sent in batches, each acknowledged)."""
        checked_ids, matrix, checked_payloads = validation.points(ids, vectors, payloads, self._dim)
        for start in range(0, len(checked_ids), UPSERT_BATCH):
            end = start + UPSERT_BATCH
            batch = models.Batch(
                ids=list(checked_ids[start:end]),
                vectors=matrix[start:end].tolist(),
                payloads=checked_payloads[start:end],
            )
            self._client.upsert(self._target, points=batch, wait=True)

    def search(
        self, vector: Vector, limit: int, filter: Filter | None = None, with_payload: bool = True
    ) -> list[Hit]:
        """Nearest neighbours by inner product, best first."""
        query = validation.query_vector(vector, self._dim)
        return self.search_batch(query, limit, filter, with_payload)[0]

    @_outage_is_unreachable
    def search_batch(
        self, vectors: Vector, limit: int, filter: Filter | None = None, with_payload: bool = True
    ) -> list[list[Hit]]:
        """`search` for each row of a (n, dim) matrix, in one request."""
        queries = validation.query_vectors(vectors, self._dim)
        checked = filters.effective(filter)
        condition = None if checked is None else filters.to_qdrant(checked, _ClientDialect())
        requests = [
            models.QueryRequest(
                query=row,
                filter=condition,
                limit=validation.search_limit(limit),
                params=self._params,
                with_payload=with_payload,
            )
            for row in queries.tolist()
        ]
        if not requests:
            return []
        responses = self._client.query_batch_points(self._target, requests=requests)
        return [
            [Hit(int(p.id), float(p.score), p.payload or {}) for p in response.points]
            for response in responses
        ]

    @_outage_is_unreachable
    def vectors(self, ids: Sequence[int]) -> dict[int, Vector]:
        """Stored vectors of the given ids (unknown ids are absent)."""
        records = self._client.retrieve(
            self._target, list(validation.point_ids(ids)), with_payload=False, with_vectors=True
        )
        return {int(r.id): np.asarray(r.vector, dtype=np.float32) for r in records}

    @_outage_is_unreachable
    def payloads(self, ids: Sequence[int]) -> dict[int, Payload]:
        """Stored payloads of the given ids (unknown ids are absent)."""
        records = self._client.retrieve(self._target, list(validation.point_ids(ids)))
        return {int(r.id): r.payload or {} for r in records}

    @_outage_is_unreachable
    def count(self) -> int:
        """Number of points."""
        return self._client.count(self._target, exact=True).count

    @_outage_is_unreachable
    def delete(self, ids: Sequence[int]) -> None:
        """Remove points; unknown ids are ignored."""
        checked = validation.point_ids(ids)
        if checked:  # the server rejects an empty id list
            selector = models.PointIdsList(points=list(checked))
            self._client.delete(self._target, points_selector=selector, wait=True)

    @_outage_is_unreachable
    def info(self) -> CollectionInfo:
        """Name, size, dimension, and the server's status, sharding and HNSW settings."""
        description = self._client.get_collection(self._target)
        params = description.config.params
        details = {
            "collection": _resolve(self._client, self._target),
            "status": str(description.status.value),
            "indexed_vectors": description.indexed_vectors_count,
            "shards": params.shard_number,
            "replicas": params.replication_factor,
            "hnsw": description.config.hnsw_config.model_dump(exclude_none=True),
            "search_ef": self._params.hnsw_ef,
        }
        name = _BUILD_SUFFIX.sub("", self._target)
        return CollectionInfo(name, description.points_count or 0, self._dim, NAME, details)

    def close(self) -> None:
        """Close the connection if this store opened it."""
        if self._owns_client:
            self._client.close()
            self._owns_client = False


def _is_build_of(name: str, collection: str) -> bool:
    suffix = _BUILD_SUFFIX.search(name)
    return suffix is not None and name[: suffix.start()] == collection


def _resolve(client: QdrantClient, name: str) -> str | None:
    """The collection behind an alias or collection name, None if neither exists."""
    aliases = {a.alias_name: a.collection_name for a in client.get_aliases().aliases}
    target = aliases.get(name, name)
    return target if client.collection_exists(target) else None


class QdrantServerBackend:
    """Collections on a Qdrant server, each behind an alias named after it."""

    name = NAME
    writable: ClassVar[bool] = True
    blocking: ClassVar[bool] = True  # waits on the network

    def __init__(self, client: QdrantClient, where: str, owns_client: bool) -> None:
        self._client = client
        self._where = where
        self._owns_client = owns_client

    def record(self, collection: str) -> dict[str, Any] | None:
        """The live build's record (kept as collection metadata), or None if never built."""
        target = _resolve(self._client, validation.check_collection_name(collection))
        if target is None:
            return None
        return self._client.get_collection(target).config.metadata

    def open(self, collection: str, search_ef: int) -> QdrantServerStore:
        """A store reading through the alias, so it follows rebuilds."""
        target = _resolve(self._client, validation.check_collection_name(collection))
        if target is None:
            raise UnknownCollectionError(
                f"no collection {collection!r} on Qdrant at {self._where}: run "
                f"`QDRANT_URL={self._where} lookalike index --backend qdrant --models {collection}`"
            )
        vectors = self._client.get_collection(target).config.params.vectors
        assert isinstance(vectors, models.VectorParams)  # collections here have one vector
        return QdrantServerStore(
            self._client, collection, vectors.size, search_ef, self._owns_client, self._where
        )

    @contextlib.contextmanager
    def build(
        self, collection: str, dim: int, options: BuildOptions, record: dict[str, Any]
    ) -> Iterator[QdrantServerStore]:
        """A new collection; on success the alias moves to it and older builds are deleted."""
        validation.check_collection_name(collection)
        build = f"{collection}--{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
        self._create(build, dim, options, record)
        try:
            yield QdrantServerStore(
                self._client, build, dim, DEFAULT_SEARCH_EF, owns_client=False, where=self._where
            )
            self._wait_until_indexed(build)
            self._point_alias(collection, build)
        except BaseException:
            self._client.delete_collection(build)
            raise
        for stale in self._client.get_collections().collections:
            if stale.name != build and _is_build_of(stale.name, collection):
                self._client.delete_collection(stale.name)

    def close(self) -> None:
        """Close the connection if this backend opened it and no store took it over."""
        if self._owns_client:
            self._client.close()

    def _create(self, build: str, dim: int, options: BuildOptions, record: dict[str, Any]) -> None:
        quantization = (
            models.ScalarQuantization(
                scalar=models.ScalarQuantizationConfig(
                    type=models.ScalarType.INT8, quantile=0.99, always_ram=True
                )
            )
            if options.quantization == "int8"
            else None
        )
        self._client.create_collection(
            build,
            vectors_config=models.VectorParams(size=dim, distance=models.Distance.DOT),
            shard_number=options.shards,
            replication_factor=options.replicas,
            hnsw_config=models.HnswConfigDiff(
                m=options.hnsw.m,
                ef_construct=options.hnsw.ef_construct,
                payload_m=options.hnsw.payload_m,
                full_scan_threshold=options.hnsw.full_scan_threshold_kb,
            ),
            quantization_config=quantization,
            metadata=record,
        )
        kinds = (
            (options.indexes.keyword, models.PayloadSchemaType.KEYWORD),
            (options.indexes.integer, models.PayloadSchemaType.INTEGER),
            (options.indexes.float, models.PayloadSchemaType.FLOAT),
        )
        for fields, kind in kinds:
            for field in fields:
                self._client.create_payload_index(build, field, kind)

    def _wait_until_indexed(self, build: str) -> None:
        deadline = time.monotonic() + INDEXING_WAIT_S
        while self._client.get_collection(build).status != models.CollectionStatus.GREEN:
            if time.monotonic() > deadline:
                return  # searchable anyway; the server keeps optimising in the background
            time.sleep(0.5)

    def _point_alias(self, alias: str, build: str) -> None:
        operations: list[Any] = [
            models.CreateAliasOperation(
                create_alias=models.CreateAlias(collection_name=build, alias_name=alias)
            )
        ]
        if any(a.alias_name == alias for a in self._client.get_aliases().aliases):
            operations.insert(
                0, models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=alias))
            )
        try:
            self._client.update_collection_aliases(change_aliases_operations=operations)
        except (UnexpectedResponse, ValueError) as exc:
            raise StoreError(
                f"cannot point the alias {alias!r} at {build} on {self._where} ({exc}): "
                f"if a collection is itself named {alias!r}, delete it in the dashboard"
            ) from exc
