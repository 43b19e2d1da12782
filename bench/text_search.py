"""`lookalike bench text`: natural shopping phrases → top-5 products, per text-capable model.

The query set (`bench/text_queries.json`) was written before any result was seen and is never
tuned on. A result fits when its articleType is one the phrase's shopper would accept.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench import metrics
from core.manifest import read_manifest
from core.registry import models_answering
from core.schema import catalogue_schema
from core.settings import Settings
from embed.hybrid import recorded_weights
from embed.online import Encoders
from embed.text import CLIP_QUERY_EXPANSION, QueryExpansion
from ingest.catalog import load_catalog
from recommend.categories import CategorySimilarity
from service.queries import TEXTS, expanded, expands
from store.indexing import available_models, load_embeddings
from store.memory import MemoryStore

QUERY_SET = Path(__file__).resolve().parent / "text_queries.json"
# Models whose vectors a text query can search: CLIP images and product texts share its space.
TEXT_MODELS = models_answering("text")
TOP_K = 5
COMMON_TYPES = 10


def load_query_set(path: Path = QUERY_SET) -> list[dict[str, Any]]:
    """The committed phrases, each with the articleTypes that satisfy it."""
    queries: list[dict[str, Any]] = json.loads(path.read_text())["queries"]
    return queries


def rank_fits(nearest: Sequence[str | None], wanted: Sequence[str]) -> list[bool]:
    """For each ranked result, whether its articleType satisfies the query."""
    return [kind in wanted for kind in nearest]


def evaluate_text_model(
    query_vectors: np.ndarray,
    vectors: np.ndarray,
    types: np.ndarray,
    queries: Sequence[dict[str, Any]],
    seed: int,
) -> dict[str, Any]:
    """hit@5 (share of the top 5 that fit), top-1 and any-fit@5, with 95 % bootstrap intervals."""
    nearest = np.argsort(-(query_vectors @ vectors.T), axis=1)[:, :TOP_K]
    fits = [
        rank_fits(types[row].tolist(), query["types"])
        for row, query in zip(nearest, queries, strict=True)
    ]
    summary: dict[str, Any] = {
        "hit_at_5": metrics.bootstrap_mean([float(np.mean(f)) for f in fits], seed).as_dict(),
        "top_1": metrics.bootstrap_mean([float(f[0]) for f in fits], seed).as_dict(),
        "any_at_5": metrics.bootstrap_mean([float(any(f)) for f in fits], seed).as_dict(),
    }
    summary["examples"] = [
        {"text": q["text"], "top": types[row].tolist()}
        for q, row in list(zip(queries, nearest, strict=True))[:10]
    ]
    return summary


def expanded_exact(
    expansion: QueryExpansion | None, queries: np.ndarray, product_texts: np.ndarray
) -> np.ndarray:
    """The API's query expansion (`service.queries.expanded`) with each query's exact nearest
    product texts (an in-memory collection of `product_texts`)."""
    texts = MemoryStore.of(TEXTS, list(range(len(product_texts))), product_texts)
    return expanded(queries, texts, expansion)


def run_text(settings: Settings, seed: int) -> dict[str, Any]:
    """Every text-capable embedded model on the whole catalogue (exact search, λ = 1)."""
    queries = load_query_set()
    products = load_catalog(settings.catalog_dir).set_index("id")["articleType"]
    recorded = read_manifest(settings.embeddings_dir / "hybrid")
    encoders = Encoders(hybrid=recorded_weights(recorded))
    texts = [q["text"] for q in queries]
    results = {}
    available = available_models(settings.embeddings_dir)
    for model in [m for m in TEXT_MODELS if m in available]:
        embeddings = load_embeddings(settings.embeddings_dir, model)
        types = products.reindex(embeddings.ids).astype(object).where(pd.notna, None).to_numpy()
        query_vectors = encoders.encode_query_texts(model, texts)
        vectors = np.asarray(embeddings.vectors)
        if expands(model, available):
            # The API's way (the phrased words moved to their nearest product texts; not moved
            # without a clip_text collection) and, to show what that adds, not moved.
            results["clip, without expansion"] = evaluate_text_model(
                query_vectors, vectors, types, queries, seed
            )
            product_texts = np.asarray(load_embeddings(settings.embeddings_dir, TEXTS).vectors)
            query_vectors = expanded_exact(CLIP_QUERY_EXPANSION, query_vectors, product_texts)
        results[model] = evaluate_text_model(query_vectors, vectors, types, queries, seed)
        print(f"text: {model} hit@5 {results[model]['hit_at_5']['mean']:.3f}", flush=True)
    return {
        "models": results,
        "queries": len(queries),
        "top_k": TOP_K,
        "query_set": QUERY_SET.name,
        "category_neighbours": category_neighbours(settings, products),
    }


def category_neighbours(settings: Settings, types: pd.Series) -> dict[str, list[list[Any]]]:
    """The 3 nearest articleTypes (soft category similarity) of the most common types."""
    category = catalogue_schema(settings.catalog_dir).category
    similarity = CategorySimilarity.load(settings.embeddings_dir / "categories", category)
    common = types.value_counts().index[:COMMON_TYPES]
    return {
        str(name): [[other, round(score, 3)] for other, score in similarity.nearest(str(name))]
        for name in common
    }
