"""MMR and category similarity against hand-computed examples."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recommend.categories import CategorySimilarity
from recommend.mmr import mmr_select
from recommend.pipeline import intra_list_diversity


def _unit(*rows: list[float]) -> np.ndarray:
    matrix = np.array(rows, dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


# Query along x. Candidates: a and b are near-duplicates close to the query, c is further off-axis.
QUERY = _unit([1.0, 0.0, 0.0])[0]
CANDIDATES = _unit([0.95, 0.31, 0.0], [0.94, 0.34, 0.0], [0.8, 0.0, 0.6])
SIMS = CANDIDATES @ QUERY  # a ≈ 0.951, b ≈ 0.940, c = 0.8


def test_lambda_one_is_plain_top_k() -> None:
    assert mmr_select(SIMS, CANDIDATES, 3, 1.0) == [0, 1, 2]


def test_diversity_skips_the_near_duplicate() -> None:
    # After a: b scores 0.5·0.940 − 0.5·sim(a,b)≈0.9995 → −0.03; c scores 0.5·0.8 − 0.5·0.76 = 0.02.
    assert mmr_select(SIMS, CANDIDATES, 2, 0.5) == [0, 2]


def test_lambda_zero_first_pick_is_still_most_relevant() -> None:
    assert mmr_select(SIMS, CANDIDATES, 1, 0.0) == [0]


def test_ties_go_to_the_better_recall_rank() -> None:
    same = _unit([1.0, 0.0], [1.0, 0.0], [1.0, 0.0])
    assert mmr_select(np.ones(3, np.float32), same, 3, 0.7) == [0, 1, 2]


def test_k_larger_than_pool_and_empty_pool() -> None:
    assert sorted(mmr_select(SIMS, CANDIDATES, 10, 0.7)) == [0, 1, 2]
    assert mmr_select(SIMS[:0], CANDIDATES[:0], 5, 0.7) == []


@given(st.integers(1, 40), st.integers(1, 10), st.floats(0.0, 1.0), st.integers(0, 2**31 - 1))
def test_selection_is_a_set_of_distinct_indices(n: int, k: int, lam: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    chosen = mmr_select(vectors @ vectors[0], vectors, k, lam)
    assert len(chosen) == min(k, n) == len(set(chosen))
    assert chosen == mmr_select(vectors @ vectors[0], vectors, k, lam)


def test_category_similarity_matrix() -> None:
    categories = CategorySimilarity(
        ["Shirts", "Tshirts", "Watches"],
        np.array([[1, 0], [0.8, 0.6], [0, 2]], dtype=np.float32),
        field="articleType",
    )
    assert categories.similarity("Shirts", "Shirts") == 1.0
    assert categories.similarity("Shirts", "Tshirts") == pytest.approx(0.8)
    assert categories.similarity("Tshirts", "Watches") == pytest.approx(0.6)
    assert categories.similarity("Shirts", "Unknown") == 0.0
    assert categories.similarity("Unknown", "Unknown") == 1.0
    assert categories.similarity(None, "Shirts") == 0.0


def test_intra_list_diversity_by_hand() -> None:
    assert intra_list_diversity(_unit([1.0, 0.0], [0.0, 1.0])) == pytest.approx(1.0)
    assert intra_list_diversity(_unit([1.0, 0.0], [1.0, 0.0], [0.0, 1.0])) == pytest.approx(2 / 3)
    assert intra_list_diversity(_unit([1.0, 0.0])) == 0.0
