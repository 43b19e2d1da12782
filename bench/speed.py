"""`lookalike bench recall`: build time, memory, latency, throughput and recall@10 per backend."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.measure import Answers, QuerySet, add_recall, measure
from bench.process import folder_bytes, release_free_memory, rss_bytes
from bench.queries import Query, VectorTable
from bench.scaling import HUGE, LARGE, Collection, hnsw_for, scaled
from core.settings import Settings
from store import DEFAULT_SEARCH_EF, BuildOptions, build_collection, open_store
from store.backends.qdrant_server import connect
from store.indexing import UPSERT_BATCH, CataloguePayloads, load_embeddings

if TYPE_CHECKING:
    from qdrant_client import QdrantClient

K = 10
EXACT = "faiss-flat"
QDRANT_EFS = tuple(dict.fromkeys((DEFAULT_SEARCH_EF, 64, 128)))  # search beams measured
SPEED_MODEL = "clip"


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
        "full_scan_below": hnsw_for(len(collection)).exact_search_limit(
            collection.vectors.shape[1]
        ),
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
    payloads = CataloguePayloads(settings.catalogue_db).payloads(real.ids)
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
            collection = scaled(real.ids, vectors, payloads, size, seed, [q.id for q in queries])
            results[collection.label] = run_size(local, collection, query_set, server, budget_s)
    return {
        "model": SPEED_MODEL,
        "k": K,
        "queries": len(queries),
        "server": server_url,
        "sizes": results,
    }
