"""Qdrant's own recommend query (qdrant-client's local mode) as the reference for ours."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from qdrant_client import QdrantClient, models


def reference_collection(
    ids: Sequence[int], vectors: np.ndarray, payloads: Sequence[Mapping[str, Any]] | None = None
) -> QdrantClient:
    """A local-mode client holding these points in a cosine collection named `ref`."""
    client = QdrantClient(":memory:")
    client.create_collection(
        "ref",
        vectors_config=models.VectorParams(size=vectors.shape[1], distance=models.Distance.COSINE),
    )
    rows = payloads or [{} for _ in ids]
    client.upsert(
        "ref",
        [
            models.PointStruct(id=int(i), vector=v.tolist(), payload=dict(p))
            for i, v, p in zip(ids, vectors, rows, strict=True)
        ],
    )
    return client


def qdrant_recommend(
    client: QdrantClient,
    positive: Sequence[int],
    negative: Sequence[int],
    strategy: str,
    limit: int,
    match: Mapping[str, str] | None = None,
) -> list[tuple[int, float]]:
    """(id, score) of Qdrant's recommend query, best first (`match`: exact payload filters)."""
    conditions: list[Any] = [
        models.FieldCondition(key=k, match=models.MatchValue(value=v))
        for k, v in (match or {}).items()
    ]
    examples: Any = {"positive": list(positive), "negative": list(negative)}
    query = models.RecommendQuery(
        recommend=models.RecommendInput(**examples, strategy=models.RecommendStrategy(strategy))
    )
    points = client.query_points(
        "ref",
        query=query,
        query_filter=models.Filter(must=conditions) if conditions else None,
        limit=limit,
    ).points
    return [(int(p.id), float(p.score)) for p in points]
