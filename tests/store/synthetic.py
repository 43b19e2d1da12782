"""Synthetic catalogue data for the store tests, and a plain-Python oracle for search."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from core.schema import FASHION
from store import Filter, Payload, PayloadIndexes

# The payload indexes of a Fashion catalogue build.
INDEXES = PayloadIndexes(keyword=FASHION.facets, integer=FASHION.numeric)

ARTICLE_TYPES = ("Tshirts", "Shirts", "Watches", "Casual Shoes", "Handbags")
GENDERS = ("Men", "Women", "Unisex")
SEASONS = ("Summer", "Winter", "Fall", "Spring")
USAGES = ("Casual", "Formal", "Sports", None)
COLOURS = ("Black", "White", "Blue", "Red")
MASTER = {"Tshirts": "Apparel", "Shirts": "Apparel", "Watches": "Accessories"}


def unit_rows(matrix: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Each row scaled to length 1."""
    return (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)


def unit_vectors(n: int, dim: int, seed: int = 0) -> npt.NDArray[np.float32]:
    """`n` random L2-normalised float32 vectors."""
    return unit_rows(np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32))


def clustered_unit_vectors(
    n: int, dim: int, clusters: int, seed: int = 0
) -> npt.NDArray[np.float32]:
    """`n` unit vectors drawn around `clusters` random centres (like real embeddings)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    noise = 0.6 * rng.standard_normal((n, dim)).astype(np.float32)
    return unit_rows(centres[rng.integers(0, clusters, n)] + noise)


def payloads(ids: Sequence[int], seed: int = 0) -> list[Payload]:
    """Catalogue-like payloads with a few nulls (usage, year, baseColour)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in ids:
        article = ARTICLE_TYPES[rng.integers(len(ARTICLE_TYPES))]
        rows.append(
            {
                "id": int(i),
                "name": f"Product {i}",
                "gender": GENDERS[rng.integers(len(GENDERS))],
                "masterCategory": MASTER.get(article, "Footwear"),
                "subCategory": "Topwear" if article in ("Tshirts", "Shirts") else "Other",
                "articleType": article,
                "baseColour": None if i % 11 == 0 else COLOURS[rng.integers(len(COLOURS))],
                "season": SEASONS[rng.integers(len(SEASONS))],
                "year": None if i % 13 == 0 else int(rng.integers(2008, 2019)),
                "usage": USAGES[rng.integers(len(USAGES))],
            }
        )
    return rows


def passes(payload: Payload, filter: Filter | None) -> bool:
    """Whether a filter keeps a point (nulls never match), written independently of the store."""
    if filter is None:
        return True
    if any(payload.get(field) != value for field, value in filter.match.items()):
        return False
    for field, bounds in filter.ranges.items():
        value = payload.get(field)
        low = bounds.low if bounds.low is not None else -(10**9)
        high = bounds.high if bounds.high is not None else 10**9
        if value is None or not low <= value <= high:
            return False
    return payload["id"] not in filter.exclude_ids


def exact_top_k(
    ids: Sequence[int],
    vectors: npt.NDArray[np.float32],
    rows: Sequence[Payload],
    query: npt.NDArray[np.float32],
    k: int,
    filter: Filter | None = None,
) -> list[int]:
    """The true top-k ids by cosine among the points the filter keeps."""
    scores = vectors @ (query / np.linalg.norm(query))
    order = np.argsort(-scores, kind="stable")
    return [int(ids[i]) for i in order if passes(rows[i], filter)][:k]
