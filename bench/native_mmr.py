"""Our MMR (recommend.pipeline) beside Qdrant's native MMR query, on the same embedded collection."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import qdrant_edge as edge

from bench import metrics
from bench.queries import Query
from bench.subject import Subject
from recommend.pipeline import Params
from store.backends.qdrant_embedded import EmbeddedQdrantStore
from store.options import DEFAULT_SEARCH_EF
from store.protocol import Vector

NOT_EMBEDDED = (
    "native MMR is compared on the embedded Qdrant backend only (qdrant-edge-py 0.9.0 "
    "`Mmr(vector, lambda_, candidates_limit)`); the server's `NearestQuery(mmr=Mmr(diversity))` "
    "in qdrant-client 1.20.0 takes diversity = 1 − λ"
)


def native_mmr(
    shard: edge.EdgeShard, vector: Vector, params: Params, exclude: int
) -> tuple[list[int], list[str | None], float]:
    """Ids and articleTypes chosen by Qdrant's MMR (same λ, candidates, exclusion), and its ms."""
    request = edge.QueryRequest(
        limit=params.top_k,
        query=edge.Mmr(vector.tolist(), params.lambda_diversity, params.candidates),
        filter=edge.Filter(must_not=[edge.HasIdCondition({exclude})]),
        params=edge.SearchParams(hnsw_ef=DEFAULT_SEARCH_EF),
        with_payload=["articleType"],
    )
    started = time.perf_counter()
    points = shard.query(request)
    elapsed = (time.perf_counter() - started) * 1e3
    return (
        [int(p.id) for p in points],
        [(p.payload or {}).get("articleType") for p in points],
        elapsed,
    )


def compare_native_mmr(
    subject: Subject, queries: Sequence[Query], vectors: dict[int, Vector], params: Params
) -> dict[str, Any]:
    """Overlap of the two top-k sets, their Precision@k and ILD, and latency (recall + MMR)."""
    if not isinstance(subject.engine, EmbeddedQdrantStore):
        return {"available": False, "reason": NOT_EMBEDDED}
    shard = subject.engine._shard  # the store protocol has no MMR query; see the report
    plain = replace(params, category_mode="off")
    rows: dict[str, list[float]] = defaultdict(list)
    for query in queries:
        vector = vectors[query.id]
        outcome = subject.recommend(vector, plain, None, query.id)
        ours = [r.id for r in outcome.results]
        ours_types = [r.payload.get("articleType") for r in outcome.results]
        native, native_types, native_ms = native_mmr(shard, vector, plain, query.id)
        rows["jaccard"].append(metrics.jaccard(ours, native))
        rows["identical_sets"].append(float(set(ours) == set(native)))
        for name, ids, types in (("ours", ours, ours_types), ("native", native, native_types)):
            rows[f"precision_{name}"].append(
                metrics.precision_at_k(query.article_type, types, params.top_k)
            )
            rows[f"ild_own_{name}"].append(metrics.intra_list_distance(subject.own(ids)))
        rows["latency_ours"].append(outcome.recall_ms + outcome.mmr_ms)
        rows["latency_native"].append(native_ms)
    summary: dict[str, Any] = {
        "available": True,
        "lambda": params.lambda_diversity,
        "candidates": params.candidates,
    }
    for name, values in rows.items():
        summary[name] = (
            metrics.latency(values).as_dict()
            if name.startswith("latency")
            else float(np.mean(values))
        )
    return summary
