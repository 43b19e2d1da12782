"""The hybrid model: CLIP image + product text + category text, weighted and L2-normalised."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from embed.encoding import Vectors, combine, encode_texts
from embed.text import category_prompt
from embed.weights import LoadedNetwork


@dataclass(frozen=True)
class HybridWeights:
    """How much each signal counts; recorded in the manifest."""

    image: float = 0.6
    text: float = 0.3
    category: float = 0.1

    def __post_init__(self) -> None:
        if (
            min(self.image, self.text, self.category) < 0
            or self.image + self.text + self.category <= 0
        ):
            raise ValueError(f"hybrid weights must be ≥ 0 and not all zero, got {self}")


DEFAULT_HYBRID = HybridWeights()


def category_vectors(clip: LoadedNetwork, categories: Sequence[str]) -> Vectors:
    """Row-aligned CLIP text vectors of each row's category prompt (each name encoded once)."""
    names = sorted(set(categories))
    table = dict(zip(names, encode_texts(clip, [category_prompt(n) for n in names]), strict=True))
    dim = int(next(iter(table.values())).shape[0]) if table else 0
    return (
        np.stack([table[c] for c in categories]) if categories else np.zeros((0, dim), np.float32)
    )


def hybrid_vectors(
    weights: HybridWeights, image: Vectors, text: Vectors, category: Vectors
) -> Vectors:
    """Combine row-aligned image, text and category vectors."""
    return combine([(weights.image, image), (weights.text, text), (weights.category, category)])
