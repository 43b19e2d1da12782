"""Text queries to CLIP's images, moved to the catalogue's own words first: the one
implementation the API serves and the text benchmarks score."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import numpy.typing as npt

from embed.text import CLIP_QUERY_EXPANSION, QueryExpansion
from store.protocol import VectorStore

Vectors = npt.NDArray[np.float32]
TEXTS = "clip_text"  # the collection of product-text vectors a CLIP text query moves towards


def expands(model: str, available: Collection[str]) -> bool:
    """Whether a text query to `model` is expanded (`CLIP_QUERY_EXPANSION`): a CLIP query, with
    the product texts' collection at hand."""
    return model == "clip" and CLIP_QUERY_EXPANSION is not None and TEXTS in available


def expanded(
    queries: Vectors, texts: VectorStore, expansion: QueryExpansion | None = CLIP_QUERY_EXPANSION
) -> Vectors:
    """Each (n, dim) query moved to the unit mean of its nearest vectors in `texts`
    (`QueryExpansion.apply`); a query with no neighbour, or no expansion, stays as it is."""
    if expansion is None:
        return queries
    out = np.array(queries, dtype=np.float32, copy=True)
    for row, hits in enumerate(texts.search_batch(out, expansion.neighbours, with_payload=False)):
        found = texts.vectors([hit.id for hit in hits])
        nearest = [found[hit.id] for hit in hits if hit.id in found]
        if nearest:
            out[row] = expansion.apply(out[row : row + 1], np.stack(nearest)[None])[0]
    return out
