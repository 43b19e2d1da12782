"""`lookalike bench tune-hybrid`: choose Hybrid's three weights on the validation split.

Hybrid's similarity is w_image·cos(image) + w_text·cos(product text) + w_category·cos(category)
(over Σw). Every weight triple on a 0.1 grid is scored by P@5 and category consistency of
validation queries against the whole catalogue (exact search); the test split is never read.
The best triple is the default of `embed.hybrid.HybridWeights`.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd

from bench import metrics
from core.settings import Settings
from embed.hybrid import HybridWeights, category_vectors
from embed.split import VALIDATION_PATH, load_split
from embed.text_encoder import TextEncoder
from ingest.catalog import load_catalog
from store.errors import EmbeddingsError
from store.indexing import load_embeddings

TOP_K = 5
GRID = 10


def weight_grid(steps: int = GRID) -> list[HybridWeights]:
    """Every (image, text, category) triple of multiples of 1/steps summing to 1, image > 0."""
    return [
        HybridWeights(i / steps, t / steps, (steps - i - t) / steps)
        for i in range(1, steps + 1)
        for t in range(steps + 1 - i)
    ]


def _aligned(settings: Settings, model: str, ids: np.ndarray) -> np.ndarray:
    embeddings = load_embeddings(settings.embeddings_dir, model)
    rows = pd.Index(embeddings.ids).get_indexer(ids)
    if (rows < 0).any():
        raise EmbeddingsError(f"{model} lacks vectors of some pictured products; re-run embed")
    return np.asarray(embeddings.vectors)[rows]


def run_tuning(settings: Settings, queries: int, seed: int) -> dict[str, Any]:
    """Score the grid on `queries` validation products; returns every triple and the best."""
    catalog = load_catalog(settings.catalog_dir)
    validation = load_split(VALIDATION_PATH)
    corpus = catalog[catalog["has_image"]].sort_values("id")
    ids = corpus["id"].to_numpy(dtype=np.int64)
    types = corpus["articleType"].fillna("").to_numpy(dtype=object)
    rng = np.random.default_rng(seed)
    eligible = np.flatnonzero(validation.is_held_out(corpus["id"]).to_numpy())
    chosen = np.sort(rng.permutation(eligible)[:queries])
    image = _aligned(settings, "clip", ids)
    text = _aligned(settings, "clip_text", ids)
    category = category_vectors(TextEncoder.load(), types.tolist())  # as `lookalike embed` does
    # Three (queries, corpus) cosine matrices, one per signal.
    cosines = [part[chosen] @ part.T for part in (image, text, category)]
    for matrix in cosines:
        matrix[np.arange(len(chosen)), chosen] = -np.inf  # never recommend the query itself
    scored = []
    for weights in weight_grid():
        score = weights.image * cosines[0] + weights.text * cosines[1]
        score += weights.category * cosines[2]
        nearest = np.argpartition(-score, TOP_K, axis=1)[:, :TOP_K]
        order = np.take_along_axis(score, nearest, axis=1).argsort(axis=1)[:, ::-1]
        ranked = types[np.take_along_axis(nearest, order, axis=1)]
        pairs = list(zip(types[chosen], ranked, strict=True))
        precision = [metrics.precision_at_k(q, list(r), TOP_K) for q, r in pairs]
        consistency = [metrics.category_consistency(q, list(r)) for q, r in pairs]
        scored.append(
            {
                **asdict(weights),
                "precision": float(np.mean(precision)),
                "consistency": float(np.mean(consistency)),
            }
        )
    # Ties (several triples reach the same P@5 and consistency) go to the most balanced triple,
    # the one whose smallest weight is largest, so no signal is dropped for nothing.
    best = max(
        scored,
        key=lambda r: (
            round(r["precision"], 4),
            round(r["consistency"], 4),
            min(r["image"], r["text"], r["category"]),
        ),
    )
    print(f"tune-hybrid: best {best} on {len(chosen)} validation queries")
    return {"queries": len(chosen), "grid": scored, "best": best, "split": "validation"}
