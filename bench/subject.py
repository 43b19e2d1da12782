"""One model under test, opened the way the API serves it, and what scoring its lists needs."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from bench.queries import VectorTable
from core.settings import Settings
from ingest.catalog import load_catalog
from recommend.categories import CategorySimilarity
from recommend.examples import Examples
from recommend.pipeline import Outcome, Params, recommend
from store import open_for_serving, open_store
from store.indexing import CataloguePayloads, load_embeddings
from store.protocol import Payload, Vector, VectorStore


@dataclass(frozen=True)
class Subject:
    """A model's serving store (vector mirror), its plain store, vector tables and payloads."""

    model: str
    store: VectorStore
    engine: VectorStore
    own: VectorTable
    common: VectorTable
    categories: CategorySimilarity
    payload_of: Callable[[int], Payload]

    def recommend(
        self, vector: Vector, params: Params, query_type: str | None, query_id: int
    ) -> Outcome:
        """The API's pipeline call: the query product excluded, payloads from the catalogue."""
        return recommend(
            self.store,
            vector,
            params,
            self.categories,
            query_type,
            frozenset({query_id}),
            self.payload_of,
        )

    def recommend_examples(self, examples: Examples, params: Params) -> Outcome:
        """The API's pipeline call for several examples (`POST /recommend`)."""
        return recommend(self.store, examples, params, self.categories, payload_of=self.payload_of)


def catalogue_payloads(settings: Settings) -> dict[int, Payload]:
    """Every product's payload, keyed by id (the API's payload source)."""
    ids = load_catalog(settings.catalog_dir)["id"].to_numpy(dtype=np.int64)
    return dict(
        zip(ids.tolist(), CataloguePayloads(settings.catalogue_db).payloads(ids), strict=True)
    )


@contextlib.contextmanager
def opened(
    settings: Settings,
    model: str,
    common: VectorTable,
    categories: CategorySimilarity,
    payloads: dict[int, Payload],
) -> Iterator[Subject]:
    """The model's collection opened for serving (and plainly, for engine-level queries)."""
    own = VectorTable(load_embeddings(settings.embeddings_dir, model))
    with (
        contextlib.closing(open_for_serving(settings, model)) as store,
        contextlib.closing(open_store(settings, model)) as engine,
    ):
        yield Subject(model, store, engine, own, common, categories, payloads.__getitem__)
