"""`lookalike bench tune-text`: choose how a text query is phrased for CLIP, on validation phrases.

CLIP's image tower learned to land next to captions that begin "a photo of <articleType>", so a
shopper's words may be closer to its images when phrased the same way. Each candidate phrasing
(or the mean of several) is scored by hit@5 of `bench/validation_phrases.json` — written apart
from the test phrases of `bench text`, which are never read here — against the CLIP vectors of
every product outside the test split. The best (the first candidate within 0.01 of the top
score: the simplest) becomes `embed.text.CLIP_QUERY_TEMPLATES`. Then, with that phrasing, the same
rule chooses the query expansion (`embed.text.CLIP_QUERY_EXPANSION`: none, or the words moved to
their 5, 10 or 20 nearest non-test product texts).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.text_search import evaluate_text_model, expanded_exact, load_query_set
from embed.split import load_split
from embed.text import QueryExpansion, templated_vectors
from embed.text_encoder import TextEncoder
from ingest.catalog import load_catalog
from lookalike.settings import Settings
from store.indexing import load_embeddings

VALIDATION_PHRASES = Path(__file__).resolve().parent / "validation_phrases.json"
NOISE = 0.01
CANDIDATES: tuple[tuple[str, ...], ...] = (
    ("{}",),
    ("a photo of {}",),
    ("a photo of a {}",),
    ("a product photo of {}",),
    ("{}", "a photo of {}"),
    ("a photo of {}", "a photo of a {}", "a product photo of {}"),
)
# Then, with the best phrasing: no expansion, or the query moved to its nearest product texts
# (`embed.text.CLIP_QUERY_EXPANSION`), simplest first.
EXPANSIONS: tuple[QueryExpansion | None, ...] = (
    None,
    *(QueryExpansion(n, w) for w in (0.0, 0.5, 1.0) for n in (5, 10, 20)),
)


def run_text_tuning(settings: Settings, seed: int) -> dict[str, Any]:
    """hit@5 of every candidate phrasing on the validation phrases; the best one."""
    queries = load_query_set(VALIDATION_PHRASES)
    embeddings = load_embeddings(settings.embeddings_dir, "clip")
    keep = ~load_split().is_held_out(pd.Series(embeddings.ids)).to_numpy()
    types = load_catalog(settings.catalog_dir).set_index("id")["articleType"]
    kinds = types.reindex(embeddings.ids[keep]).astype(object).where(pd.notna, None).to_numpy()
    corpus = np.asarray(embeddings.vectors)[keep]
    encoder = TextEncoder.load()
    texts = [q["text"] for q in queries]
    scored: list[dict[str, Any]] = []
    for templates in CANDIDATES:
        vectors = templated_vectors(encoder.encode, texts, templates)
        result = evaluate_text_model(vectors, corpus, kinds, queries, seed)
        scored.append({"templates": list(templates), "hit_at_5": result["hit_at_5"]["mean"]})
        print(f"tune-text: {' + '.join(templates)!r:60} hit@5 {scored[-1]['hit_at_5']:.3f}")
    best = _simplest_best(scored)
    phrased = templated_vectors(encoder.encode, texts, best["templates"])
    product_texts = load_embeddings(settings.embeddings_dir, "clip_text")
    text_keep = ~load_split().is_held_out(pd.Series(product_texts.ids)).to_numpy()
    text_corpus = np.asarray(product_texts.vectors)[text_keep]
    expansions: list[dict[str, Any]] = []
    for expansion in EXPANSIONS:
        vectors = phrased if expansion is None else expanded_exact(expansion, phrased, text_corpus)
        result = evaluate_text_model(vectors, corpus, kinds, queries, seed)
        expansions.append(
            {"expansion": expansion and asdict(expansion), "hit_at_5": result["hit_at_5"]["mean"]}
        )
        print(f"tune-text: expansion {expansion} hit@5 {expansions[-1]['hit_at_5']:.3f}")
    return {
        "phrases": len(queries),
        "candidates": scored,
        "best": best,
        "expansions": expansions,
        "best_expansion": _simplest_best(expansions),
    }


def _simplest_best(scored: list[dict[str, Any]]) -> dict[str, Any]:
    """The validation phrases cannot tell apart scores closer than NOISE: the simplest (first)
    of those within it wins."""
    top = max(s["hit_at_5"] for s in scored)
    return next(s for s in scored if s["hit_at_5"] >= top - NOISE)
