"""HNSW recall on real CLIP vectors of a catalogue slice: embedded Qdrant and FAISS-HNSW vs exact."""

from __future__ import annotations

import numpy as np

from core.settings import Settings
from store import BuildOptions, Filter, VectorStore, open_store
from store.indexing import index_models, load_embeddings
from store.recall import recall_at_k

K, QUERIES = 10, 300


def _neighbours(store: VectorStore, ids: np.ndarray, vectors: np.ndarray) -> list[list[int]]:
    return [
        [hit.id for hit in store.search(vector, K, Filter(exclude_ids=frozenset({int(pid)})))]
        for pid, vector in zip(ids, vectors, strict=True)
    ]


def _faiss_neighbours(
    settings: Settings, kind: str, ids: np.ndarray, vectors: np.ndarray
) -> list[list[int]]:
    options = BuildOptions(faiss_index="flat" if kind == "flat" else "hnsw")
    index_models(settings, ["clip"], backend="faiss", options=options, progress=False, force=True)
    store = open_store(settings, "clip", backend="faiss")
    try:
        return _neighbours(store, ids, vectors)
    finally:
        store.close()


def test_hnsw_recall_on_real_clip_vectors(slice_indexed: Settings) -> None:
    embeddings = load_embeddings(slice_indexed.embeddings_dir, "clip")
    ids, vectors = embeddings.ids[:QUERIES], np.asarray(embeddings.vectors[:QUERIES])
    exact = _faiss_neighbours(slice_indexed, "flat", ids, vectors)
    faiss_hnsw = _faiss_neighbours(slice_indexed, "hnsw", ids, vectors)
    qdrant = open_store(slice_indexed, "clip")
    try:
        embedded = _neighbours(qdrant, ids, vectors)
    finally:
        qdrant.close()
    assert recall_at_k(embedded, exact, K) >= 0.98
    assert recall_at_k(faiss_hnsw, exact, K) >= 0.98
