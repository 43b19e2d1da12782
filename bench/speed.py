"""`lookalike bench recall`: build time, memory, latency, throughput and recall@10 per backend."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import faiss
import numpy as np
import numpy.typing as npt

from bench import metrics
from bench.process import folder_bytes, release_free_memory, rss_bytes
from bench.queries import Query, VectorTable
from bench.scaling import HUGE, LARGE, Collection, hnsw_for, scaled
from lookalike.settings import Settings
from store import (
    DEFAULT_SEARCH_EF,
    BuildOptions,
    Filter,
    VectorStore,
    build_collection,
    open_store,
)
from store.indexing import UPSERT_BATCH, Catalogue, load_embeddings
from store.qdrant_server import connect
from store.recall import recall_at_k

if TYPE_CHECKING:
    from qdrant_client import QdrantClient

K = 10
BATCH = 256
WARMUP = 50
EXACT = "faiss-flat"
QDRANT_EFS = tuple(dict.fromkeys((DEFAULT_SEARCH_EF, 64, 128)))  # search beams measured
SPEED_MODEL = "clip"

Vectors = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Contestant:
    """One index to measure: a backend and its build options."""

    name: str
    backend: str
    options: BuildOptions
    search_efs: tuple[int, ...] = (DEFAULT_SEARCH_EF,)

    def label(self, search_ef: int) -> str:
        """The name of one measured setting (the default search ef keeps the plain name)."""
        return self.name if search_ef == DEFAULT_SEARCH_EF else f"{self.name} ef={search_ef}"

    @property
    def collection(self) -> str:
        """The scratch collection it is built into."""
        return "bench_" + self.name.replace("-", "_")

    def upsert_batch(self, count: int) -> int:
        """Points per upsert: FAISS copies its index on every upsert, so it gets them at once."""
        return count if self.backend == "faiss" else UPSERT_BATCH

    def folder(self, settings: Settings) -> Path | None:
        """Where a local build lives (None on a server)."""
        roots = {"faiss": settings.faiss_dir, "qdrant-embedded": settings.qdrant_dir}
        root = roots.get(self.backend)
        return None if root is None else root / self.collection


def contestants(count: int, server: bool) -> list[Contestant]:
    """Exact FAISS first (the ground truth), then the approximate indexes worth building.

    Large collections skip int8 Qdrant; huge ones keep only embedded Qdrant (the goals' subject)
    so that `bench all` fits its time budget on 2 CPUs.
    """
    graph = BuildOptions(hnsw=hnsw_for(count))
    chosen = [
        Contestant(EXACT, "faiss", BuildOptions(faiss_index="flat")),
        Contestant("faiss-hnsw", "faiss", replace(graph, faiss_index="hnsw")),
        Contestant("qdrant-embedded", "qdrant-embedded", graph, QDRANT_EFS),
        Contestant("qdrant-embedded-int8", "qdrant-embedded", replace(graph, quantization="int8")),
    ]
    if server:
        chosen.append(Contestant("qdrant-server", "qdrant", graph))
    if count >= HUGE:
        return [c for c in chosen if c.name in (EXACT, "qdrant-embedded")]
    if count >= LARGE:
        return [c for c in chosen if c.name != "qdrant-embedded-int8"]
    return chosen


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


def build(
    settings: Settings,
    contestant: Contestant,
    collection: Collection,
    client: QdrantClient | None,
) -> float:
    """Index the collection from scratch; returns the seconds taken."""
    started = time.perf_counter()
    batch = contestant.upsert_batch(len(collection))
    with build_collection(
        settings,
        contestant.collection,
        collection.vectors.shape[1],
        record={"bench": collection.label},
        options=contestant.options,
        backend=contestant.backend,
        client=client,
    ) as store:
        for start in range(0, len(collection), batch):
            end = min(start + batch, len(collection))
            store.upsert(
                collection.ids[start:end].tolist(),
                collection.vectors[start:end],
                collection.payloads(start, end),
            )
    return time.perf_counter() - started


def run_contestant(
    settings: Settings,
    contestant: Contestant,
    collection: Collection,
    queries: QuerySet,
    budget_s: float,
    client: QdrantClient | None,
) -> dict[str, tuple[dict[str, Any], Answers]]:
    """Build one index, measure it at each of its search beams, remove it."""
    build_s = build(settings, contestant, collection, client)
    folder = contestant.folder(settings)
    shared = {
        "build_s": build_s,
        "disk_bytes": None if folder is None else folder_bytes(folder),
        "options": contestant.options.describe(contestant.backend),
    }
    measured = {}
    for search_ef in contestant.search_efs:
        release_free_memory()
        before = rss_bytes()
        with contextlib.closing(
            open_store(
                settings,
                contestant.collection,
                backend=contestant.backend,
                client=client,
                search_ef=search_ef,
            )
        ) as store:
            result, answers = measure(store, queries, K, budget_s)
            result["rss_delta_bytes"] = rss_bytes() - before
        result |= {**shared, "search_ef": search_ef}
        measured[contestant.label(search_ef)] = (result, answers)
    if folder is not None:
        shutil.rmtree(folder)
    return measured


def run_size(
    settings: Settings,
    collection: Collection,
    queries: QuerySet,
    server: QdrantClient | None,
    budget_s: float,
) -> dict[str, Any]:
    """Every contestant on one collection; recall is measured against the first (exact) one."""
    started = time.perf_counter()
    results: dict[str, Any] = {}
    truth: Answers | None = None
    for contestant in contestants(len(collection), server is not None):
        measured = run_contestant(settings, contestant, collection, queries, budget_s, server)
        for name, (result, answers) in measured.items():
            truth = truth or answers
            add_recall(result, answers, truth, K)
            results[name] = result
            print(
                f"recall: {collection.label} {name}: build {result['build_s']:.1f} s, "
                f"p50 {result['latency_ms']['p50']:.3f} ms, recall@{K} {result['recall_at_k']:.4f}",
                flush=True,
            )
    return {
        "count": len(collection),
        "hnsw": asdict(hnsw_for(len(collection))),
        "seconds": time.perf_counter() - started,
        "contestants": results,
    }


def run_recall(
    settings: Settings,
    queries: Sequence[Query],
    sizes: Sequence[int | None],
    seed: int,
    server_url: str | None,
    budget_s: float,
) -> dict[str, Any]:
    """Every contestant at every size, in one process, in a scratch folder removed afterwards."""
    real = load_embeddings(settings.embeddings_dir, SPEED_MODEL)
    vectors = np.asarray(real.vectors)
    payloads = Catalogue(settings.catalog_dir).payloads(real.ids)
    query_set = QuerySet(
        VectorTable(real)([q.id for q in queries]), [q.article_type for q in queries]
    )
    server = None if server_url is None else connect(server_url, settings.qdrant_api_key)
    results: dict[str, Any] = {}
    with (
        contextlib.ExitStack() as cleanup,
        tempfile.TemporaryDirectory(prefix="lookalike-bench-") as scratch,
    ):
        if server is not None:
            cleanup.callback(server.close)
        local = Settings(data_dir=Path(scratch))
        for size in sizes:
            collection = scaled(real.ids, vectors, payloads, size, seed)
            results[collection.label] = run_size(local, collection, query_set, server, budget_s)
    return {
        "model": SPEED_MODEL,
        "k": K,
        "queries": len(queries),
        "server": server_url,
        "sizes": results,
    }
