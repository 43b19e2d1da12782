"""Recall from several examples: products like the positives and unlike the negatives.

The three strategies compute what Qdrant's recommend query computes on a cosine collection
(qdrant-client's local mode is the reference, `qdrant_client/local/distances.py`):

- `average_vector`: search with `avg(pos) + avg(pos) − avg(neg)` (just `avg(pos)` without
  negatives), normalised: the score is its cosine.
- `sum_scores`: `Σ cos(pos, x) − Σ cos(neg, x)`. On unit vectors that is the inner product with
  `Σ pos − Σ neg`, so one search along that direction finds the exact list.
- `best_score`: with `p` the best cosine to a positive and `n` the best to a negative, the score
  is `s(p)` when `p > n`, else `−s(n)`, where `s(x) = (x / (1 + |x|) + 1) / 2`. Not linear: the
  positives' own neighbours (the negatives' opposites when there are no positives) are searched
  deeper and deeper until no product outside them can score higher, so any exact-enough backend
  gives the same list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from store.protocol import Filter, Hit, Vector, VectorStore

Strategy = Literal["average_vector", "best_score", "sum_scores"]
STRATEGIES: tuple[Strategy, ...] = ("average_vector", "best_score", "sum_scores")
DEEPEN = 4  # best_score: how much deeper each round searches
NONE = -2.0  # best_score's best cosine to no example: below every cosine (Qdrant's −∞)


class NoDirection(ValueError):
    """The examples cancel out: no direction to search in."""


@dataclass(frozen=True)
class Examples:
    """A query made of example products: their ids and unit vectors (rows), the strategy, the
    positives' articleTypes, most frequent first (the category re-rank's targets), and the
    positives' weights in `average_vector` (none: all equal, as in Qdrant)."""

    positive_ids: tuple[int, ...]
    positive: Vector
    negative_ids: tuple[int, ...]
    negative: Vector
    strategy: Strategy = "average_vector"
    types: tuple[str, ...] = ()
    weights: tuple[float, ...] = ()

    @property
    def ids(self) -> frozenset[int]:
        """Every example: never recommended back."""
        return frozenset(self.positive_ids + self.negative_ids)


def scaled_sigmoid(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Qdrant's `scaled_fast_sigmoid`: (x / (1 + |x|) + 1) / 2, into (0, 1)."""
    return ((x / (1.0 + np.abs(x)) + 1.0) / 2.0).astype(np.float32)


def example_scores(examples: Examples, vectors: Vector) -> npt.NDArray[np.float32]:
    """The strategy's score of each row of `vectors` (unit vectors)."""
    pos = vectors @ examples.positive.T  # (m, p) cosines
    neg = vectors @ examples.negative.T
    if examples.strategy == "sum_scores":
        return (pos.sum(axis=1) - neg.sum(axis=1)).astype(np.float32)
    if examples.strategy == "average_vector":
        return vectors @ average_direction(examples)
    best_pos = pos.max(axis=1) if pos.shape[1] else np.full(len(vectors), NONE, np.float32)
    best_neg = neg.max(axis=1) if neg.shape[1] else np.full(len(vectors), NONE, np.float32)
    return np.where(best_pos > best_neg, scaled_sigmoid(best_pos), -scaled_sigmoid(best_neg))


def average_direction(examples: Examples) -> Vector:
    """The unit query of `average_vector`: avg(pos) + avg(pos) − avg(neg), normalised."""
    mean = np.average(examples.positive, axis=0, weights=examples.weights or None)
    if len(examples.negative):
        mean = 2 * mean - examples.negative.mean(axis=0)
    return _unit(mean)


def recall_examples(
    store: VectorStore, examples: Examples, limit: int, wanted: Filter, with_payload: bool
) -> list[Hit]:
    """The `limit` best products for the examples by their strategy, best first."""
    if examples.strategy == "average_vector":
        return store.search(average_direction(examples), limit, wanted, with_payload)
    if examples.strategy == "sum_scores":
        total = examples.positive.sum(axis=0) - examples.negative.sum(axis=0)
        norm = float(np.linalg.norm(total))
        hits = store.search(_unit(total), limit, wanted, with_payload)
        return [Hit(h.id, h.score * norm, h.payload) for h in hits]
    return _best_score(store, examples, limit, wanted, with_payload)


def _best_score(
    store: VectorStore, examples: Examples, limit: int, wanted: Filter, with_payload: bool
) -> list[Hit]:
    """`best_score` by deepening the probes' searches until the top `limit` is certain."""
    from_positives = len(examples.positive) > 0
    probes = examples.positive if from_positives else -examples.negative
    depth, size = limit, store.count()
    while True:
        rows = store.search_batch(probes, depth, wanted, with_payload)
        hits = list({h.id: h for row in rows for h in row}.values())
        stored = store.vectors([h.id for h in hits])
        hits = [h for h in hits if h.id in stored]
        matrix = np.stack([stored[h.id] for h in hits]) if hits else None
        scores = example_scores(examples, matrix) if matrix is not None else np.zeros(0)
        ranked = sorted(zip(hits, scores, strict=True), key=lambda p: (-p[1], p[0].id))[:limit]
        complete = depth >= size or any(len(row) < depth for row in rows)
        if complete or (
            len(ranked) == limit and ranked[-1][1] >= _outside_bound(rows, from_positives)
        ):
            return [Hit(h.id, float(s), h.payload) for h, s in ranked]
        depth = min(depth * DEEPEN, size)


def _outside_bound(rows: Sequence[Sequence[Hit]], from_positives: bool) -> float:
    """The best `best_score` a product found by no probe could have: its cosine to every
    positive is at most that probe's last hit's (or, from the negatives' opposites, its best
    cosine to a negative at least the largest −last hit)."""
    last = np.array([row[-1].score for row in rows], np.float32)
    if from_positives:
        return float(scaled_sigmoid(last.max(keepdims=True))[0])
    return float(-scaled_sigmoid(-last.min(keepdims=True))[0])


@dataclass(frozen=True)
class Closeness:
    """How a result relates to the examples: its closest positive and the cosines."""

    closest_positive: int | None
    positive_similarity: float | None
    negative_similarity: float | None  # the best cosine to a negative (None without negatives)


def closeness(examples: Examples, vectors: Vector) -> list[Closeness]:
    """For each row of `vectors`: the closest positive and the distance from the negatives."""
    pos, neg = vectors @ examples.positive.T, vectors @ examples.negative.T
    out = []
    for i in range(len(vectors)):
        best = int(np.argmax(pos[i])) if pos.shape[1] else None
        out.append(
            Closeness(
                None if best is None else examples.positive_ids[best],
                None if best is None else float(pos[i, best]),
                float(neg[i].max()) if neg.shape[1] else None,
            )
        )
    return out


def _unit(vector: Vector) -> Vector:
    """`vector` scaled to unit length, or NoDirection when it is (almost) zero."""
    norm = float(np.linalg.norm(vector))
    if norm < 1e-6:
        raise NoDirection("the examples cancel each other out: there is no direction to search")
    return (vector / norm).astype(np.float32)
