"""Timing and recall of one open index: single queries, batches, with and without a filter."""

from __future__ import annotations

import contextlib
import os
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from bench import metrics
from store import Filter, VectorStore
from store.recall import recall_at_k

BATCH = 256
WARMUP = 50

Vectors = npt.NDArray[np.float32]


@dataclass(frozen=True)
class QuerySet:
    """Query vectors and the articleType each one is filtered on."""

    vectors: Vectors
    types: Sequence[str | None]

    def typed(self) -> npt.NDArray[np.int64]:
        """Rows of the queries that have an articleType (the filtered runs use only these)."""
        return np.array([i for i, t in enumerate(self.types) if t is not None], dtype=np.int64)

    def groups(self) -> dict[str, list[int]]:
        """Rows per articleType."""
        groups: dict[str, list[int]] = defaultdict(list)
        for row, kind in enumerate(self.types):
            if kind is not None:
                groups[kind].append(row)
        return groups

    def type_filter(self, row: int) -> Filter:
        """The filter of one typed query: its own articleType."""
        return Filter(match={"articleType": str(self.types[row])})


@dataclass(frozen=True)
class Answers:
    """Top-k ids per query, unfiltered and filtered on the query's articleType ([] if untyped)."""

    plain: list[list[int]]
    filtered: list[list[int]]


def search_rows(
    store: VectorStore, vectors: Vectors, k: int, filter: Filter | None = None
) -> list[list[int]]:
    """Top-k ids for each row, asked in batches."""
    rows: list[list[int]] = []
    for start in range(0, len(vectors), BATCH):
        hits = store.search_batch(vectors[start : start + BATCH], k, filter, with_payload=False)
        rows.extend([h.id for h in row] for row in hits)
    return rows


def answer_all(store: VectorStore, queries: QuerySet, k: int) -> tuple[Answers, float, float]:
    """Every query answered in batches; also the seconds taken unfiltered and filtered."""
    started = time.perf_counter()
    plain = search_rows(store, queries.vectors, k)
    middle = time.perf_counter()
    filtered: list[list[int]] = [[] for _ in queries.types]
    for kind, rows in queries.groups().items():
        answers = search_rows(store, queries.vectors[rows], k, Filter(match={"articleType": kind}))
        for row, ids in zip(rows, answers, strict=True):
            filtered[row] = ids
    return Answers(plain, filtered), middle - started, time.perf_counter() - middle


def single_latencies(
    store: VectorStore, vectors: Vectors, filters: Sequence[Filter | None], k: int, budget_s: float
) -> list[float]:
    """Milliseconds of one-query searches, in order, until the queries or the time budget run out."""
    deadline = time.perf_counter() + budget_s
    elapsed: list[float] = []
    for vector, filter in zip(vectors, filters, strict=True):
        started = time.perf_counter()
        store.search(vector, k, filter, with_payload=False)
        finished = time.perf_counter()
        elapsed.append((finished - started) * 1e3)
        if finished > deadline:
            break
    return elapsed


@contextlib.contextmanager
def one_faiss_thread() -> Iterator[None]:
    """FAISS on one OpenMP thread for one-query calls.

    With two threads a single query pays OpenMP start-up and barrier waits; on this shared
    2-CPU machine that turned 0.6 ms searches into 16 ms ones. Batches keep every thread.
    """
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(threads)


def measure(
    store: VectorStore, queries: QuerySet, k: int, budget_s: float
) -> tuple[dict[str, Any], Answers]:
    """Latency (single queries) and throughput (batches), unfiltered and filtered."""
    for vector in queries.vectors[:WARMUP]:
        store.search(vector, k)
    answers, plain_s, filtered_s = answer_all(store, queries, k)
    typed = queries.typed()
    typed_filters = [queries.type_filter(int(row)) for row in typed]
    with one_faiss_thread():
        plain = metrics.latency(
            single_latencies(store, queries.vectors, [None] * len(queries.types), k, budget_s)
        )
        filtered = metrics.latency(
            single_latencies(store, queries.vectors[typed], typed_filters, k, budget_s)
        )
    result = {
        "latency_ms": plain.as_dict(),
        "throughput_qps": len(queries.types) / plain_s,
        "filtered": {
            "latency_ms": filtered.as_dict(),
            "throughput_qps": len(typed) / filtered_s,
        },
        "filter_slowdown_p50": filtered.p50 / plain.p50,
        "load_avg_1m": os.getloadavg()[0],  # other work on the machine skews the figures
    }
    return result, answers


def add_recall(result: dict[str, Any], answers: Answers, truth: Answers, k: int) -> None:
    """Recall@k against the exact answers, unfiltered and filtered."""
    typed = [i for i, ids in enumerate(truth.filtered) if ids]
    result["recall_at_k"] = recall_at_k(answers.plain, truth.plain, k)
    result["filtered"]["recall_at_k"] = recall_at_k(
        [answers.filtered[i] for i in typed], [truth.filtered[i] for i in typed], k
    )
