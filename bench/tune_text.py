"""`lookalike bench tune-text`: choose how a text query is phrased for CLIP, on validation phrases.

CLIP's image tower learned to land next to captions that begin "a photo of <articleType>", so a
shopper's words may be closer to its images when phrased the same way, and closer still once
moved to the catalogue's own words (query expansion). Every pair of a candidate phrasing (or the
mean of several: `embed.text.CLIP_QUERY_TEMPLATES`) and a query expansion (none, or the phrased
words moved to their 5, 10 or 20 nearest non-test product texts:
`embed.text.CLIP_QUERY_EXPANSION`) is scored together, as the API serves them, by hit@5 of
`bench/validation_phrases.json` — written apart from the test phrases of `bench text`, which
are never read here — against the CLIP vectors of every product outside the test split. The
simplest pair within 0.01 of the top score wins: fewer expansion neighbours and less weight on
the words first, then the phrasings in the order listed.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.text_search import evaluate_text_model, expanded_exact, load_query_set
from core.settings import Settings
from embed.split import Split, load_split
from embed.text import QueryExpansion, templated_vectors
from embed.text_encoder import TextEncoder
from ingest.catalog import load_catalog
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
# No expansion, or the query moved to its nearest product texts (`embed.text.CLIP_QUERY_EXPANSION`),
# simplest first.
EXPANSIONS: tuple[QueryExpansion | None, ...] = (
    None,
    *(QueryExpansion(n, w) for w in (0.0, 0.5, 1.0) for n in (5, 10, 20)),
)


def run_text_tuning(settings: Settings, seed: int) -> dict[str, Any]:
    """hit@5 of every phrasing and expansion on the validation phrases; the best pair."""
    queries = load_query_set(VALIDATION_PHRASES)
    split = load_split()
    photos = load_embeddings(settings.embeddings_dir, "clip")
    keep = _outside(split, photos.ids)
    types = load_catalog(settings.catalog_dir).set_index("id")["articleType"]
    kinds = types.reindex(photos.ids[keep]).astype(object).where(pd.notna, None).to_numpy()
    corpus = np.asarray(photos.vectors)[keep]
    product_texts = load_embeddings(settings.embeddings_dir, "clip_text")
    text_corpus = np.asarray(product_texts.vectors)[_outside(split, product_texts.ids)]
    encoder = TextEncoder.load()
    texts = [q["text"] for q in queries]
    phrased = {t: templated_vectors(encoder.encode, texts, t) for t in CANDIDATES}
    scored: list[dict[str, Any]] = []
    for expansion in EXPANSIONS:
        for templates, words in phrased.items():
            served = words if expansion is None else expanded_exact(expansion, words, text_corpus)
            result = evaluate_text_model(served, corpus, kinds, queries, seed)
            scored.append(
                {
                    "templates": list(templates),
                    "expansion": expansion and asdict(expansion),
                    "hit_at_5": result["hit_at_5"]["mean"],
                }
            )
            print(
                f"tune-text: {' + '.join(templates)!r:60} expansion {expansion} "
                f"hit@5 {scored[-1]['hit_at_5']:.3f}"
            )
    return {"phrases": len(queries), "candidates": scored, "best": _simplest_best(scored)}


def _outside(test: Split, ids: np.ndarray) -> np.ndarray:
    """Which of `ids` are outside the test split (the only products tuning may see)."""
    return np.asarray(~test.is_held_out(pd.Series(ids)).to_numpy())


def _simplest_best(scored: list[dict[str, Any]]) -> dict[str, Any]:
    """The validation phrases cannot tell apart scores closer than NOISE: the simplest (first)
    of those within it wins."""
    top = max(s["hit_at_5"] for s in scored)
    return next(s for s in scored if s["hit_at_5"] >= top - NOISE)
