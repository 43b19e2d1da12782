"""Texts fed to the text encoder: product text, category prompts and training captions."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from core.schema import CatalogueSchema

CATEGORY_TEMPLATE = "a photo of {}"
# How a shopper's words are phrased before they search CLIP's images: chosen by
# `lookalike bench tune-text` on validation phrases (each text's vector is the mean over these).
CLIP_QUERY_TEMPLATES: tuple[str, ...] = ("a photo of {}",)


@dataclass(frozen=True)
class QueryExpansion:
    """A text query to CLIP's images, moved to the catalogue's own words first (pseudo-relevance
    feedback): the unit mean of the product-text vectors nearest the query, plus `query_weight`
    times the query. CLIP's image tower learned to land next to product captions, not next to a
    shopper's words, so the captions of the products the words describe find their photos best.
    """

    neighbours: int
    query_weight: float = 0.0

    def apply(
        self, queries: npt.NDArray[np.float32], nearest_texts: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float32]:
        """Unit (n, dim) queries from (n, dim) query vectors and the (n, neighbours, dim)
        vectors of their nearest product texts."""
        moved = nearest_texts.mean(axis=1) + self.query_weight * queries
        return np.asarray(moved / np.linalg.norm(moved, axis=1, keepdims=True), dtype=np.float32)


# Chosen by `lookalike bench tune-text` on validation phrases (None: the phrased words unmoved).
CLIP_QUERY_EXPANSION: QueryExpansion | None = QueryExpansion(neighbours=5)

Product = Mapping[str, object]


def _field(product: Product, key: str) -> str:
    value = product.get(key)
    return "" if value is None or pd.isna(value) else str(value).strip()


def templated_vectors(
    encode: Callable[[list[str]], npt.NDArray[np.float32]],
    texts: Sequence[str],
    templates: Sequence[str],
) -> npt.NDArray[np.float32]:
    """Unit vectors of texts, each the mean of its vectors under every template."""
    total = sum(encode([template.format(text) for text in texts]) for template in templates)
    vectors = np.asarray(total, dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def category_prompt(category: str) -> str:
    """The prompt whose text vector stands for a category."""
    return CATEGORY_TEMPLATE.format(category)


def product_text(product: Product, schema: CatalogueSchema) -> str:
    """The canonical text of a product: "a photo of <category>, <the schema's other text
    fields>: <name>"."""
    others = (k for k in schema.text if k not in (schema.category, schema.title))
    details = " ".join(_field(product, key) for key in others if _field(product, key))
    head = category_prompt(_field(product, schema.category))
    if details:
        head = f"{head}, {details}"
    name = _field(product, "name")
    return f"{head}: {name}" if name else head


def short_phrase(product: Product, schema: CatalogueSchema) -> str:
    """What a shopper might type (the schema's phrase fields), e.g. "Navy Blue Men Shirts"."""
    words = (_field(product, key) for key in schema.phrase_fields)
    return " ".join(w for w in words if w)


def training_captions(product: Product, schema: CatalogueSchema) -> tuple[str, str, str]:
    """The captions an image learns to match: the product text, its name and a short phrase."""
    text = product_text(product, schema)
    return text, _field(product, "name") or text, short_phrase(product, schema) or text
