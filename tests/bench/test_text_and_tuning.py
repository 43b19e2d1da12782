"""Text-search scoring and the Hybrid weight grid, on hand-computed cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.text_search import QUERY_SET, evaluate_text_model, expanded_exact, load_query_set
from bench.tune_hybrid import weight_grid
from bench.tune_text import VALIDATION_PHRASES
from embed.hybrid import HybridWeights
from embed.text import QueryExpansion


def test_hit_at_5_is_the_share_of_fitting_results() -> None:
    corpus = np.eye(6, dtype=np.float32)
    types = np.array(["Watches"] * 3 + ["Socks"] * 3, dtype=object)
    query = corpus[0] + corpus[1] + corpus[2] + 0.5 * corpus[3]
    query = (query / np.linalg.norm(query))[None, :]
    result = evaluate_text_model(query, corpus, types, [{"text": "q", "types": ["Watches"]}], 0)
    assert result["hit_at_5"]["mean"] == pytest.approx(3 / 5)
    assert result["top_1"]["mean"] == 1.0 and result["any_at_5"]["mean"] == 1.0
    result = evaluate_text_model(query, corpus, types, [{"text": "q", "types": ["Belts"]}], 0)
    assert result["hit_at_5"]["mean"] == 0.0 and result["any_at_5"]["mean"] == 0.0


def test_expansion_replaces_the_words_by_their_nearest_product_texts() -> None:
    texts = np.eye(4, dtype=np.float32)
    query = np.array([[0.8, 0.6, 0.0, 0.0]], dtype=np.float32)
    assert np.allclose(expanded_exact(QueryExpansion(1), query, texts), texts[:1])
    both = expanded_exact(QueryExpansion(2), query, texts)
    assert np.allclose(both, [[2**-0.5, 2**-0.5, 0, 0]], atol=1e-6)


@pytest.mark.parametrize("path", [QUERY_SET, VALIDATION_PHRASES], ids=["test", "validation"])
def test_the_committed_phrase_sets_are_large_and_well_formed(path: Path) -> None:
    queries = load_query_set(path)
    assert len(queries) >= 60
    assert all(q["text"].strip() and q["types"] for q in queries)
    assert len({q["text"] for q in queries}) == len(queries)


def test_tuning_never_sees_a_test_phrase() -> None:
    tested = {q["text"].lower() for q in load_query_set(QUERY_SET)}
    assert not tested & {q["text"].lower() for q in load_query_set(VALIDATION_PHRASES)}


def test_the_weight_grid_covers_every_triple_summing_to_one() -> None:
    grid = weight_grid(10)
    assert len(grid) == 55 and HybridWeights(0.4, 0.4, 0.2) in grid
    assert all(abs(w.image + w.text + w.category - 1) < 1e-9 and w.image > 0 for w in grid)
