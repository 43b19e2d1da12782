"""The two-stage recommendation pipeline: ANN recall → MMR → category re-rank (shared with bench)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from recommend.categories import CategorySimilarity
from recommend.examples import Examples, recall_examples
from recommend.mmr import mmr_select
from store.protocol import Filter, Hit, Payload, Range, Vector, VectorStore

CategoryMode = Literal["soft", "hard", "off"]
RankerName = Literal["static", "learned"]


@dataclass(frozen=True)
class Params:
    """Tunable knobs of one recommendation request."""

    top_k: int = 5
    lambda_diversity: float = 0.7
    candidates: int = 50
    category_mode: CategoryMode = "soft"
    w_sim: float = 0.6
    w_cat: float = 0.4
    filters: Mapping[str, str] = field(default_factory=dict)  # exact matches by field
    ranges: Mapping[str, Range] = field(default_factory=dict)  # inclusive, by numeric field
    ranker: RankerName = "static"  # learned: a trained model scores every recalled candidate


@dataclass(frozen=True)
class Ranked:
    """One result with every score that placed it."""

    id: int
    score: float
    ann_score: float
    category_similarity: float
    category_match: bool
    mmr_rank: int
    recall_rank: int  # 1-based position in the ANN recall
    payload: Payload
    ranker_score: float | None = None  # the learned ranker's score (ranker=learned)
    contributions: tuple[tuple[str, float], ...] = ()  # its largest feature contributions

    @property
    def product_id(self) -> str:
        """The id as clients see it."""
        return str(self.id)


@dataclass(frozen=True)
class Recalled:
    """Candidates with the scores they were recalled with, a column each (what a learned
    ranker's features read)."""

    product_ids: list[str]
    payloads: Sequence[Mapping[str, object]]
    ann_score: npt.NDArray[np.float64]
    category_similarity: npt.NDArray[np.float64]
    category_match: npt.NDArray[np.bool_]
    recall_rank: npt.NDArray[np.int64]  # 1-based


class Scorer(Protocol):
    """A learned ranker bound to one request: scores every candidate, explains the chosen."""

    def score(self, candidates: Recalled) -> npt.NDArray[np.float64]:
        """A relevance score per candidate (higher is better)."""
        ...

    def explain(self, chosen: Sequence[int]) -> list[tuple[tuple[str, float], ...]]:
        """The largest feature contributions of the candidates at these indices."""
        ...


def intra_list_diversity(vectors: npt.NDArray[np.float32]) -> float:
    """Mean pairwise cosine distance (1 − cos) among unit vectors; 0 for fewer than two."""
    n = len(vectors)
    if n < 2:
        return 0.0
    sims = vectors @ vectors.T
    return float((n * n - sims.sum()) / (n * (n - 1)))


@dataclass(frozen=True)
class Outcome:
    """The ranked list, its diversity and the milliseconds spent in each stage."""

    results: list[Ranked]
    diversity: float
    recall_ms: float
    mmr_ms: float
    rerank_ms: float

    @property
    def total_ms(self) -> float:
        """Time spent in the pipeline as a whole."""
        return self.recall_ms + self.mmr_ms + self.rerank_ms


def recall_filter(
    params: Params, category: tuple[str, str | None], exclude: frozenset[int]
) -> Filter:
    """The store filter: payload filters and ranges, the query's category in hard mode (the
    field and the query's value), the query itself."""
    match = dict(params.filters)
    field, query_type = category
    if params.category_mode == "hard" and query_type is not None:
        match[field] = query_type
    return Filter(match=match, ranges=dict(params.ranges), exclude_ids=exclude)


def recommend(
    store: VectorStore,
    query: Vector | Examples,
    params: Params,
    categories: CategorySimilarity,
    query_type: str | None = None,
    exclude: frozenset[int] = frozenset(),
    payload_of: Callable[[int], Payload] | None = None,
    scorer: Scorer | None = None,
) -> Outcome:
    """Recommend `params.top_k` products for a query vector (and its category, if known),
    or for example products (`Examples`: their strategy recalls, the positives' categories
    are the category targets, the examples are excluded).

    With `payload_of` (a caller that holds the catalogue), payloads come from it instead of the
    store, which makes the ANN search several times cheaper, and only the chosen few are read.
    With a `scorer` (ranker=learned), a trained model ranks the recalled candidates.
    """
    started = time.perf_counter()
    with_payload = payload_of is None
    if isinstance(query, Examples):
        types = query.types
        category = (categories.field, types[0] if types else None)
        wanted = recall_filter(params, category, exclude | query.ids)
        hits = recall_examples(store, query, params.candidates, wanted, with_payload)
    else:
        types = (query_type,) if query_type is not None else ()
        wanted = recall_filter(params, (categories.field, query_type), exclude)
        hits = store.search(query, params.candidates, wanted, with_payload=with_payload)
    recalled = time.perf_counter()

    ann = np.array([h.score for h in hits], dtype=np.float32)
    stored = store.vectors([h.id for h in hits])
    vectors = np.stack([stored[h.id] for h in hits]) if hits else np.zeros((0, 0), np.float32)
    if scorer is not None:
        return _learned(
            hits, vectors, params, categories, types, payload_of, scorer, started, recalled
        )
    order = mmr_select(ann, vectors, params.top_k, params.lambda_diversity)
    selected = time.perf_counter()

    results = []
    for rank, i in enumerate(order):
        hit = hits[i]
        payload = hit.payload if payload_of is None else payload_of(hit.id)
        results.append(_ranked(hit, payload, rank, i, params, categories, types))
    if params.category_mode != "off":
        results.sort(key=lambda r: -r.score)  # stable: equal scores keep the MMR order
    done = time.perf_counter()
    return Outcome(
        results=results,
        diversity=intra_list_diversity(vectors[order]) if order else 0.0,
        recall_ms=(recalled - started) * 1e3,
        mmr_ms=(selected - recalled) * 1e3,
        rerank_ms=(done - selected) * 1e3,
    )


def _ranked(
    hit: Hit,
    payload: Payload,
    rank: int,
    recall_index: int,
    params: Params,
    categories: CategorySimilarity,
    query_types: tuple[str, ...],
) -> Ranked:
    """A candidate with its category similarity (to the nearest of the query's categories)
    and its static (re-ranked) score."""
    other_type = payload.get(categories.field)
    similarity = categories.nearest_target(query_types, other_type)
    score = hit.score
    if params.category_mode != "off" and query_types:
        score = params.w_sim * hit.score + params.w_cat * similarity
    return Ranked(
        id=hit.id,
        score=float(score),
        ann_score=float(hit.score),
        category_similarity=float(similarity),
        category_match=other_type in query_types,
        mmr_rank=rank + 1,
        recall_rank=recall_index + 1,
        payload=payload,
    )


def _learned(
    hits: list[Hit],
    vectors: npt.NDArray[np.float32],
    params: Params,
    categories: CategorySimilarity,
    query_types: tuple[str, ...],
    payload_of: Callable[[int], Payload] | None,
    scorer: Scorer,
    started: float,
    recalled: float,
) -> Outcome:
    """The learned ranker scores every recalled candidate; MMR then picks `top_k` with that
    score (scaled to [0, 1] over the candidates) as its relevance term, so λ keeps its meaning
    and a candidate outside the static top_k can rise. No category re-rank follows: the
    model's features include the category signals."""
    payloads = [hit.payload if payload_of is None else payload_of(hit.id) for hit in hits]
    types = [p.get(categories.field) for p in payloads]
    candidates = Recalled(
        product_ids=[str(hit.id) for hit in hits],
        payloads=payloads,
        ann_score=np.array([hit.score for hit in hits], dtype=np.float64),
        category_similarity=categories.nearest_targets(query_types, types),
        category_match=np.array([t in query_types for t in types], dtype=bool),
        recall_rank=np.arange(1, len(hits) + 1),
    )
    scores = scorer.score(candidates) if hits else np.zeros(0)
    low, high = (float(scores.min()), float(scores.max())) if len(scores) else (0.0, 0.0)
    relevance = (scores - low) / (high - low) if high > low else np.ones_like(scores)
    order = mmr_select(relevance.astype(np.float32), vectors, params.top_k, params.lambda_diversity)
    selected = time.perf_counter()
    explained = scorer.explain(order) if order else []
    results = [
        Ranked(
            id=hits[i].id,
            score=float(scores[i]),
            ann_score=float(hits[i].score),
            category_similarity=float(candidates.category_similarity[i]),
            category_match=bool(candidates.category_match[i]),
            mmr_rank=rank + 1,
            recall_rank=i + 1,
            payload=payloads[i],
            ranker_score=float(scores[i]),
            contributions=explained[rank],
        )
        for rank, i in enumerate(order)
    ]
    done = time.perf_counter()
    return Outcome(
        results=results,
        diversity=intra_list_diversity(vectors[order]) if order else 0.0,
        recall_ms=(recalled - started) * 1e3,
        mmr_ms=(selected - recalled) * 1e3,
        rerank_ms=(done - selected) * 1e3,
    )
