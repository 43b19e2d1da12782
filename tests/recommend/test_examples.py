"""Recall from several examples: each strategy by hand, and against qdrant-client's local mode."""

from __future__ import annotations

import numpy as np
import pytest

from recommend.categories import CategorySimilarity
from recommend.examples import (
    STRATEGIES,
    Examples,
    Strategy,
    closeness,
    example_scores,
    recall_examples,
)
from recommend.pipeline import Params, recommend
from store.memory import MemoryStore
from store.protocol import Filter
from tests.qdrant_reference import qdrant_recommend, reference_collection


def _unit(*rows: tuple[float, ...]) -> np.ndarray:
    matrix = np.array(rows, np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def _examples(store: MemoryStore, positive, negative, strategy: Strategy) -> Examples:
    found = store.vectors(list(positive) + list(negative))
    dim = store.dim
    rows = lambda ids: np.array([found[i] for i in ids], np.float32).reshape(len(ids), dim)  # noqa: E731
    return Examples(tuple(positive), rows(positive), tuple(negative), rows(negative), strategy)


@pytest.fixture
def plane() -> MemoryStore:
    # 1 and 2 the positives, 3 the negative; 4–7 the candidates at known angles.
    vectors = _unit((1, 0), (0, 1), (-1, 0), (1, 1), (1, 0.2), (0.2, 1), (-1, 1))
    return MemoryStore.of("m", [1, 2, 3, 4, 5, 6, 7], vectors)


def _cos(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(_unit(a)[0] @ _unit(b)[0])


def test_average_vector_by_hand(plane: MemoryStore) -> None:
    # avg(pos) + avg(pos) − avg(neg) = (0.5, 0.5)·2 − (−1, 0) = (2, 1)
    hits = recall_examples(
        plane,
        _examples(plane, [1, 2], [3], "average_vector"),
        4,
        Filter(exclude_ids=frozenset({1, 2, 3})),
        False,
    )
    expected = sorted(
        (
            (_cos((2, 1), v), i)
            for i, v in [(4, (1, 1)), (5, (1, 0.2)), (6, (0.2, 1)), (7, (-1, 1))]
        ),
        reverse=True,
    )
    assert [(h.id, round(h.score, 5)) for h in hits] == [(i, round(s, 5)) for s, i in expected]


def test_sum_scores_by_hand(plane: MemoryStore) -> None:
    ex = _examples(plane, [1, 2], [3], "sum_scores")
    hits = recall_examples(plane, ex, 4, Filter(exclude_ids=ex.ids), False)
    # (1, 0.2): cos to (1,0) + cos to (0,1) − cos to (−1,0)
    c = _cos((1, 0.2), (1, 0))
    by_id = {h.id: h.score for h in hits}
    assert by_id[5] == pytest.approx(c + _cos((1, 0.2), (0, 1)) + c, abs=1e-6)
    assert [h.id for h in hits] == [5, 4, 6, 7]


def test_best_score_by_hand(plane: MemoryStore) -> None:
    ex = _examples(plane, [1], [3], "best_score")
    sigmoid = lambda x: (x / (1 + abs(x)) + 1) / 2  # noqa: E731
    hits = recall_examples(plane, ex, 5, Filter(exclude_ids=ex.ids), False)
    by_id = {h.id: h.score for h in hits}
    assert by_id[5] == pytest.approx(sigmoid(_cos((1, 0.2), (1, 0))), abs=1e-6)
    # (−1, 1) is nearer the negative (−1, 0) than the positive: −s(best negative)
    assert by_id[7] == pytest.approx(-sigmoid(_cos((-1, 1), (-1, 0))), abs=1e-6)
    assert [h.id for h in hits] == [5, 4, 6, 2, 7]
    # negatives alone: the farthest from (−1, 0) first
    alone = _examples(plane, [], [3], "best_score")
    assert [
        h.id for h in recall_examples(plane, alone, 3, Filter(exclude_ids=alone.ids), False)
    ] == [1, 5, 4]


def test_closeness_names_the_nearest_positive(plane: MemoryStore) -> None:
    ex = _examples(plane, [1, 2], [3], "best_score")
    near = closeness(ex, plane.vectors([5])[5][None])
    assert near[0].closest_positive == 1
    assert near[0].negative_similarity == pytest.approx(_cos((1, 0.2), (-1, 0)), abs=1e-6)


def test_pipeline_reranks_against_the_positives_types() -> None:
    categories = CategorySimilarity(
        ["Shirts", "Watches"], _unit((1, 0), (0, 1)), field="articleType"
    )
    vectors = _unit((1, 0), (0, 1), (1, 0.5), (0.5, 1))
    types = ["Shirts", "Watches", "Watches", "Shirts"]
    store = MemoryStore.of("m", [1, 2, 3, 4], vectors, [{"articleType": t} for t in types])
    ex = Examples((1,), vectors[:1], (), vectors[:0], "average_vector", ("Shirts",))
    outcome = recommend(store, ex, Params(top_k=3, lambda_diversity=1.0), categories)
    assert 1 not in [r.id for r in outcome.results]
    shirt = next(r for r in outcome.results if r.id == 4)
    assert shirt.category_match and shirt.category_similarity == 1.0
    hard = recommend(
        store, ex, Params(top_k=3, lambda_diversity=1.0, category_mode="hard"), categories
    )
    assert [r.id for r in hard.results] == [4]


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("negatives", [0, 2])
def test_same_list_as_qdrant_local_mode(strategy: Strategy, negatives: int) -> None:
    # Scattered 16-d vectors: best_score has to search deeper than the first round.
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(600, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = list(range(1, 601))
    payloads = [{"baseColour": "Red" if i % 3 else "Blue"} for i in ids]
    store = MemoryStore.of("m", ids, vectors, payloads)
    client = reference_collection(ids, vectors, payloads)
    positive, negative = [3, 10, 42], [7, 99][:negatives]
    ex = _examples(store, positive, negative, strategy)
    for match in ({}, {"baseColour": "Blue"}):
        ours = recall_examples(store, ex, 20, Filter(match, exclude_ids=ex.ids), False)
        theirs = qdrant_recommend(client, positive, negative, strategy, 20, match)
        assert [h.id for h in ours] == [i for i, _ in theirs]
        assert [h.score for h in ours] == pytest.approx([s for _, s in theirs], abs=1e-5)
    if strategy == "best_score" and negatives:
        alone = _examples(store, [], negative, strategy)
        ours = recall_examples(store, alone, 20, Filter(exclude_ids=alone.ids), False)
        assert [h.id for h in ours] == [
            i for i, _ in qdrant_recommend(client, [], negative, strategy, 20)
        ]


def test_scores_of_every_strategy_are_the_recall_scores(plane: MemoryStore) -> None:
    for strategy in STRATEGIES:
        ex = _examples(plane, [1, 2], [3], strategy)
        hits = recall_examples(plane, ex, 4, Filter(exclude_ids=ex.ids), False)
        direct = example_scores(ex, np.stack([plane.vectors([h.id])[h.id] for h in hits]))
        assert [h.score for h in hits] == pytest.approx(direct.tolist(), abs=1e-6)
