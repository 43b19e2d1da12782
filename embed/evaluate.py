"""Held-out evaluations: CLIP category-prompt retrieval and visual Precision@k."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import torch

from embed.catalog import CatalogueSnapshot
from embed.encoding import Vectors, encode_pixels
from embed.split import Split
from embed.text import category_prompt
from embed.text_encoder import TextEncoder
from embed.weights import LoadedNetwork

MIN_HELD_OUT_ITEMS = 50
CHUNK = 512


@dataclass(frozen=True)
class PromptRetrieval:
    """For each category: is the top image for "a photo of <category>" of that category?"""

    hits: dict[str, bool]

    @property
    def fraction(self) -> float:
        """Share of categories whose top-ranked image is of that category."""
        return sum(self.hits.values()) / max(1, len(self.hits))


def prompt_retrieval(
    encoder: TextEncoder,
    image_vectors: Vectors,
    article_types: npt.NDArray[np.object_],
    min_items: int = MIN_HELD_OUT_ITEMS,
) -> PromptRetrieval:
    """Text→image top-1 over held-out images, for categories with ≥ `min_items` of them."""
    names, counts = np.unique(article_types.astype(str), return_counts=True)
    evaluated = sorted(str(n) for n, c in zip(names, counts, strict=True) if c >= min_items)
    prompts = encoder.encode([category_prompt(name) for name in evaluated])
    best = (prompts @ image_vectors.T).argmax(axis=1)
    return PromptRetrieval(
        {name: str(article_types[i]) == name for name, i in zip(evaluated, best, strict=True)}
    )


def precision_at_k(
    query_vectors: Vectors,
    query_ids: npt.NDArray[np.int64],
    corpus_vectors: Vectors,
    corpus_ids: npt.NDArray[np.int64],
    labels: dict[int, str],
    k: int = 5,
) -> float:
    """Mean share of each query's k nearest corpus neighbours (itself excluded) sharing its label."""
    scores = query_vectors @ corpus_vectors.T
    scores[query_ids[:, None] == corpus_ids[None, :]] = -np.inf
    nearest = np.argpartition(-scores, k, axis=1)[:, :k]
    corpus_labels = np.array([labels[int(i)] for i in corpus_ids], dtype=object)
    query_labels = np.array([labels[int(i)] for i in query_ids], dtype=object)
    return float((corpus_labels[nearest] == query_labels[:, None]).mean())


def _held_out_with_images(catalog: CatalogueSnapshot, split: Split) -> pd.DataFrame:
    products = catalog.with_images()
    return products[split.is_held_out(products["id"])]


def encode_catalog_pixels(
    loaded: LoadedNetwork, catalog: CatalogueSnapshot, products: pd.DataFrame
) -> Vectors:
    """Image vectors of catalogue products, in chunks."""
    chunks = [
        encode_pixels(loaded, torch.from_numpy(catalog.pixels_of(products.iloc[s : s + CHUNK])))
        for s in range(0, len(products), CHUNK)
    ]
    return np.concatenate(chunks)


def held_out_prompt_retrieval(
    clip: LoadedNetwork, encoder: TextEncoder, catalog: CatalogueSnapshot, split: Split
) -> PromptRetrieval:
    """ "a photo of <category>" top-1 over the images of `split`'s products."""
    products = _held_out_with_images(catalog, split)
    vectors = encode_catalog_pixels(clip, catalog, products)
    return prompt_retrieval(
        encoder, vectors, products[catalog.schema.category].fillna("").to_numpy(dtype=object)
    )
