"""Benchmark queries (held-out products of the saved split) and vector look-ups by catalogue id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from core.settings import Settings
from embed.split import Split, load_split
from ingest.catalog import load_catalog
from store.errors import EmbeddingsError
from store.indexing import Embeddings, available_models, load_embeddings

Vectors = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Query:
    """A query product: its catalogue id and articleType."""

    id: int
    article_type: str | None


def held_out_queries(
    products: pd.DataFrame,
    split: Split,
    embedded: Sequence[npt.NDArray[np.int64]],
    count: int,
    seed: int,
) -> list[Query]:
    """Up to `count` held-out products with an image and a vector in every model, seeded sample."""
    eligible = products[split.is_held_out(products["id"]) & products["has_image"]]
    for ids in embedded:
        eligible = eligible[eligible["id"].isin(ids)]
    ordered = eligible.sort_values("id")
    rng = np.random.default_rng(seed)
    chosen = ordered.iloc[np.sort(rng.permutation(len(ordered))[:count])]
    return [
        Query(int(row.id), None if pd.isna(row.articleType) else str(row.articleType))
        for row in chosen.itertuples(index=False)
    ]


class VectorTable:
    """One model's vectors, looked up by catalogue id."""

    def __init__(self, embeddings: Embeddings) -> None:
        self._index = pd.Index(embeddings.ids)
        self._vectors = np.asarray(embeddings.vectors)

    def __call__(self, ids: Sequence[int]) -> Vectors:
        """The vectors of `ids` as rows, in order (every id must be present)."""
        rows = self._index.get_indexer(np.asarray(ids, dtype=np.int64))
        if (rows < 0).any():
            missing = np.asarray(ids)[rows < 0][:3].tolist()
            raise KeyError(f"ids without a vector: {missing}")
        return self._vectors[rows]


def select_queries(settings: Settings, models: Sequence[str], count: int, seed: int) -> list[Query]:
    """The benchmark queries: held-out products embedded by every available model of `models`."""
    embedded = [
        load_embeddings(settings.embeddings_dir, m).ids
        for m in models
        if m in available_models(settings.embeddings_dir)
    ]
    if not embedded:
        raise EmbeddingsError(f"none of {', '.join(models)} is embedded: run `lookalike embed`")
    return held_out_queries(load_catalog(settings.catalog_dir), load_split(), embedded, count, seed)
