"""HNSW against exact search on 5,000 clustered unit vectors (real CLIP vectors come later)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from core.settings import Settings
from store import BuildOptions, Filter, HnswParams, VectorStore, build_collection, open_store
from store.recall import recall_at_k
from tests.store import synthetic
from tests.store.conftest import scratch_dir

N, DIM, QUERIES, K = 5000, 64, 100, 10
# Small enough that searches walk the graph instead of scanning all 5,000 vectors.
GRAPH = HnswParams(m=16, ef_construct=128, payload_m=0, full_scan_threshold_kb=64)
CONFIGS = {
    "exact": ("faiss", BuildOptions(faiss_index="flat")),
    "faiss-hnsw": ("faiss", BuildOptions(faiss_index="hnsw", hnsw=GRAPH)),
    "qdrant-embedded": ("qdrant-embedded", BuildOptions(hnsw=GRAPH)),
    "qdrant-embedded-int8": ("qdrant-embedded", BuildOptions(hnsw=GRAPH, quantization="int8")),
}


def test_recall_at_k() -> None:
    assert recall_at_k([[1, 2, 3]], [[1, 2, 3]], 3) == 1.0
    assert recall_at_k([[1, 2, 9], [4, 5, 6]], [[1, 2, 3], [6, 5, 4]], 3) == pytest.approx(5 / 6)
    assert recall_at_k(np.array([[3, 1, 7]]), np.array([[1, 2, 3]]), 2) == 0.5
    assert recall_at_k([[1]], [[1, 2, 3]], 3) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="rows"):
        recall_at_k([[1]], [[1], [2]], 1)
    with pytest.raises(ValueError, match="at least 1"):
        recall_at_k([[1]], [[1]], 0)


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, VectorStore]]:
    """Each configuration loaded with the same 5,000 products."""
    vectors = synthetic.clustered_unit_vectors(N + QUERIES, DIM, clusters=50, seed=3)[:N]
    ids = list(range(1, N + 1))
    payloads = synthetic.payloads(ids, seed=3)
    with scratch_dir(tmp_path_factory.mktemp("recall")) as folder:
        settings = Settings(data_dir=folder)
        opened = {}
        for name, (backend, options) in CONFIGS.items():
            collection = name.replace("-", "_")
            with build_collection(
                settings, collection, DIM, options=options, backend=backend
            ) as store:
                store.upsert(ids, vectors, payloads)
            opened[name] = open_store(settings, collection, backend=backend)
        yield opened
        for store in opened.values():
            store.close()


def top_ids(store: VectorStore, limit: int, filter: Filter | None = None) -> list[list[int]]:
    queries = synthetic.clustered_unit_vectors(N + QUERIES, DIM, clusters=50, seed=3)[N:]
    return [[h.id for h in hits] for hits in store.search_batch(queries, limit, filter)]


@pytest.mark.parametrize("name", ["faiss-hnsw", "qdrant-embedded"])
def test_hnsw_recall_at_10(stores: dict[str, VectorStore], name: str) -> None:
    assert recall_at_k(top_ids(stores[name], K), top_ids(stores["exact"], K), K) >= 0.98


@pytest.mark.parametrize("name", ["faiss-hnsw", "qdrant-embedded"])
def test_filtered_hnsw_recall_at_10(stores: dict[str, VectorStore], name: str) -> None:
    """A broad filter (a third of the points) is searched through the graph."""
    men = Filter(match={"gender": "Men"}, exclude_ids=frozenset({1, 2, 3}))
    assert recall_at_k(top_ids(stores[name], K, men), top_ids(stores["exact"], K, men), K) >= 0.95


def test_int8_quantization_keeps_recall(stores: dict[str, VectorStore]) -> None:
    approx = top_ids(stores["qdrant-embedded-int8"], K)
    assert recall_at_k(approx, top_ids(stores["exact"], K), K) >= 0.95


def test_the_embedded_graph_is_built(stores: dict[str, VectorStore]) -> None:
    info = stores["qdrant-embedded"].info()
    assert info.details["indexed_vectors"] == N
    assert info.details["hnsw"]["m"] == GRAPH.m


def test_exact_is_exact(stores: dict[str, VectorStore]) -> None:
    vectors = synthetic.clustered_unit_vectors(N + QUERIES, DIM, clusters=50, seed=3)
    truth = np.argsort(-(vectors[N:] @ vectors[:N].T), axis=1)[:, :K] + 1
    assert top_ids(stores["exact"], K) == truth.tolist()
