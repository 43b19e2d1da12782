"""The pipeline's re-rank against an in-memory collection, checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from recommend.categories import CategorySimilarity
from recommend.pipeline import Params, recommend
from store.memory import MemoryStore


def _unit(*rows: tuple[float, float]) -> np.ndarray:
    matrix = np.array(rows, np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


# Shirts and Tshirts are close (cos 0.8), Shirts and Watches far apart (cos 0).
CATEGORIES = CategorySimilarity(
    ["Shirts", "Tshirts", "Watches"],
    _unit((1.0, 0.0), (0.8, 0.6), (0.0, 1.0)),
    field="articleType",
)
QUERY = _unit((1.0, 0.0))[0]


@pytest.fixture
def store() -> MemoryStore:
    # Product 1 is the query itself; 2 a Watch nearest by vector, 3 a Tshirt, 4 a Shirt.
    vectors = _unit((1.0, 0.0), (1.0, 0.1), (1.0, 0.3), (1.0, 0.5))
    types = ["Shirts", "Watches", "Tshirts", "Shirts"]
    return MemoryStore.of("m", [1, 2, 3, 4], vectors, [{"articleType": t} for t in types])


def _cos(store: MemoryStore, product_id: int) -> float:
    return float(store.vectors([product_id])[product_id] @ QUERY)


def test_soft_mode_reranks_by_the_weighted_similarity_and_category(store: MemoryStore) -> None:
    params = Params(top_k=3, lambda_diversity=1.0, candidates=10, w_sim=0.6, w_cat=0.4)
    outcome = recommend(store, QUERY, params, CATEGORIES, "Shirts", frozenset({1}))
    expected = {
        2: 0.6 * _cos(store, 2) + 0.4 * 0.0,
        3: 0.6 * _cos(store, 3) + 0.4 * 0.8,
        4: 0.6 * _cos(store, 4) + 0.4 * 1.0,
    }
    assert [r.id for r in outcome.results] == sorted(expected, key=lambda i: -expected[i])
    for result in outcome.results:
        assert result.score == pytest.approx(expected[result.id], abs=1e-6)
        assert result.ann_score == pytest.approx(_cos(store, result.id), abs=1e-6)
    assert [r.mmr_rank for r in outcome.results] == [3, 2, 1]  # λ = 1: MMR kept the ANN order
    assert [r.category_match for r in outcome.results] == [True, False, False]


def test_off_mode_keeps_the_mmr_order_and_the_ann_score(store: MemoryStore) -> None:
    params = Params(top_k=3, lambda_diversity=1.0, candidates=10, category_mode="off")
    outcome = recommend(store, QUERY, params, CATEGORIES, "Shirts", frozenset({1}))
    assert [r.id for r in outcome.results] == [2, 3, 4]
    assert all(r.score == r.ann_score for r in outcome.results)


def test_hard_mode_keeps_only_the_query_type(store: MemoryStore) -> None:
    params = Params(top_k=3, candidates=10, category_mode="hard")
    outcome = recommend(store, QUERY, params, CATEGORIES, "Shirts", frozenset({1}))
    assert [r.id for r in outcome.results] == [4]


def test_payloads_come_from_the_catalogue_when_given(store: MemoryStore) -> None:
    params = Params(top_k=2, lambda_diversity=1.0, candidates=10, category_mode="off")
    outcome = recommend(
        store, QUERY, params, CATEGORIES, payload_of=lambda i: {"articleType": f"type {i}"}
    )
    assert [r.payload["articleType"] for r in outcome.results] == ["type 1", "type 2"]
