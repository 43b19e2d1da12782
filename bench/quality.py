"""`lookalike bench quality`: top-5 relevance and diversity per model through the real pipeline."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from bench import metrics
from bench.examples import (
    SESSION_POOL,
    SESSIONS,
    draw_sessions,
    evaluate_sessions,
    post_vs_get_latency,
)
from bench.native_mmr import compare_native_mmr
from bench.queries import Query, VectorTable, select_queries
from bench.subject import Subject, catalogue_payloads, opened
from core.registry import models_answering
from core.schema import catalogue_schema
from core.settings import Settings
from recommend.categories import CategorySimilarity
from recommend.pipeline import Params, Ranked
from store.indexing import available_models, load_embeddings
from store.protocol import Vector

QUALITY_MODELS = models_answering("product")
BACKEND = "qdrant-embedded"  # the POST / GET latency server's
COMMON_SPACE = "clip"
LAMBDAS = tuple(round(0.1 * step, 1) for step in range(11))
MMR_OFF, MMR_ON = 1.0, 0.7
TOP_K = 5
LIST_METRICS = ("precision", "consistency", "ild_own", "ild_common", "spread", "soft_category")


def lambda_key(lambda_: float) -> str:
    """How a λ is spelled in the results ("0.7")."""
    return f"{lambda_:.1f}"


def list_metrics(
    query: Query, results: Sequence[Ranked], subject: Subject, k: int
) -> dict[str, float]:
    """Every per-list metric of one result list."""
    ids = [r.id for r in results]
    types = [r.payload.get(subject.categories.field) for r in results]
    return {
        "precision": metrics.precision_at_k(query.article_type, types, k),
        "consistency": metrics.category_consistency(query.article_type, types),
        "ild_own": metrics.intra_list_distance(subject.own(ids)),
        "ild_common": metrics.intra_list_distance(subject.common(ids)),
        "spread": metrics.category_spread(types, k),
        "soft_category": float(np.mean([r.category_similarity for r in results] or [0.0])),
    }


def evaluate_lambda(
    subject: Subject,
    queries: Sequence[Query],
    vectors: dict[int, Vector],
    params: Params,
    seed: int,
) -> dict[str, Any]:
    """Mean and 95% bootstrap interval of each metric, and pipeline latency, at one setting."""
    rows: list[dict[str, float]] = []
    latencies: list[float] = []
    for query in queries:
        outcome = subject.recommend(vectors[query.id], params, query.article_type, query.id)
        rows.append(list_metrics(query, outcome.results, subject, params.top_k))
        latencies.append(outcome.total_ms)
    summary: dict[str, Any] = {
        name: metrics.bootstrap_mean([row[name] for row in rows], seed).as_dict()
        for name in LIST_METRICS
    }
    summary["latency_ms"] = metrics.latency(latencies).as_dict()
    return summary


def evaluate_model(
    subject: Subject, queries: Sequence[Query], lambdas: Sequence[float], seed: int
) -> dict[str, Any]:
    """The λ sweep of one model, and our MMR beside Qdrant's at the default λ."""
    vectors = subject.store.vectors([q.id for q in queries])
    base = Params(top_k=TOP_K)
    sweep = {
        lambda_key(lambda_): evaluate_lambda(
            subject, queries, vectors, replace(base, lambda_diversity=lambda_), seed
        )
        for lambda_ in lambdas
    }
    native = compare_native_mmr(subject, queries, vectors, replace(base, lambda_diversity=MMR_ON))
    return {"lambdas": sweep, "native_mmr": native, "candidates": base.candidates}


def run_quality(
    settings: Settings, queries: Sequence[Query], seed: int, lambdas: Sequence[float] = LAMBDAS
) -> dict[str, Any]:
    """Every embedded model of QUALITY_MODELS on the same queries, on the live collections."""
    models = [m for m in QUALITY_MODELS if m in available_models(settings.embeddings_dir)]
    common = VectorTable(load_embeddings(settings.embeddings_dir, COMMON_SPACE))
    category = catalogue_schema(settings.catalog_dir).category
    categories = CategorySimilarity.load(settings.embeddings_dir / "categories", category)
    payloads = catalogue_payloads(settings)
    held_out = select_queries(settings, models, SESSION_POOL, seed)
    sessions = draw_sessions(held_out, payloads.__getitem__, SESSIONS, seed)
    results: dict[str, Any] = {}
    for model in models:
        started = time.perf_counter()
        with opened(settings, model, common, categories, payloads) as subject:
            results[model] = evaluate_model(subject, queries, lambdas, seed)
            results[model]["examples"] = evaluate_sessions(
                subject, sessions, Params(top_k=TOP_K), seed
            )
        results[model]["seconds"] = time.perf_counter() - started
        print(f"quality: {model} done in {results[model]['seconds']:.0f} s", flush=True)
    latency_model = COMMON_SPACE if COMMON_SPACE in models else models[0]
    return {
        "models": results,
        "sessions": len(sessions),
        "examples_latency": post_vs_get_latency(settings, sessions, latency_model, BACKEND)
        if sessions
        else None,
        "top_k": TOP_K,
        "common_space": COMMON_SPACE,
        "queries": len(queries),
        "mmr_on": lambda_key(MMR_ON),
        "mmr_off": lambda_key(MMR_OFF),
    }
