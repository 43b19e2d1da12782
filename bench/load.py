"""`lookalike bench api`: `/recommend` over HTTP against real `lookalike serve` subprocesses.

Three set-ups, each measured with wrk against the `/health` floor of the same server:
uncached random products (the per-request cost), Zipf-popular products with the in-process
cache, and two worker processes sharing a Redis cache (FAISS: a backend several processes open).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench import metrics
from bench.loadtest import QueryCycle, Target, run_load
from bench.process import rss_bytes
from bench.redis_server import RedisServer
from bench.reference import GOAL_API_CONCURRENCY
from bench.server import Server, running_server
from bench.wrk import run_wrk, uniform_paths, zipf_paths
from core.settings import Settings
from store import BuildOptions
from store.indexing import index_models, load_embeddings

WARMUP_SECONDS = 3.0
BACKEND = "qdrant-embedded"
SOAK_SAMPLES = 60
ZIPF_EXPONENT = 1.1
CACHED_CONNECTIONS = (4, 16)
PATHS = 200_000
QUIET = {"LOOKALIKE_ACCESS_LOG": "off"}  # the log costs a little per request; measured apart


def soak(target: Target, queries: QueryCycle, seconds: float) -> dict[str, Any]:
    """A long run at the goal concurrency: errors, throughput and server RSS over time."""
    interval = max(1.0, seconds / SOAK_SAMPLES)
    run = run_load(target, queries, GOAL_API_CONCURRENCY, seconds, rss_interval=interval)
    rss = [bytes_ for _, bytes_ in run.rss]
    return {
        **run.summary(),
        "rss": [{"t": t, "bytes": b} for t, b in run.rss],
        "rss_flat": metrics.is_flat(rss),
        "rss_growth_bytes": (rss[-1] - rss[0]) if rss else 0,
    }


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the server's /metrics, keyed by name and sorted labels."""
    text = httpx.get(f"{url}/metrics", timeout=30).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _cache_counts(url: str) -> tuple[float, float]:
    samples = scrape(url)
    hits = samples.get(
        ("lookalike_cache_requests_total", (("result", "hit"), ("route", "recommend")))
    )
    miss = samples.get(
        ("lookalike_cache_requests_total", (("result", "miss"), ("route", "recommend")))
    )
    return hits or 0.0, miss or 0.0


def _stage_means(url: str) -> dict[str, float]:
    """Mean milliseconds per pipeline stage of /recommend, from the server's histograms."""
    samples = scrape(url)
    means = {}
    for stage in ("recall", "mmr", "rerank"):
        labels = (("route", "recommend"), ("stage", stage))
        total = samples.get(("lookalike_stage_duration_seconds_sum", labels), 0.0)
        count = samples.get(("lookalike_stage_duration_seconds_count", labels), 0.0)
        means[stage] = total / count * 1e3 if count else 0.0
    return means


def _against_floor(
    server: Server, paths: list[str], connections: int, seconds: float
) -> dict[str, Any]:
    """/recommend and /health at the same connections; hit rate from the cache counters."""
    before = _cache_counts(server.url)
    run = run_wrk(server.url, paths, connections, seconds)
    hits, misses = (
        after - was for after, was in zip(_cache_counts(server.url), before, strict=True)
    )
    floor = run_wrk(server.url, ["/health"], connections, seconds)
    return {
        **run,
        "health_rps": floor["throughput_rps"],
        "share_of_health": run["throughput_rps"] / floor["throughput_rps"],
        "hit_rate": hits / (hits + misses) if hits + misses else None,
    }


def run_api(
    settings: Settings,
    queries: Sequence[Any],
    seed: int,
    model: str,
    concurrency: Sequence[int],
    seconds: float,
    soak_seconds: float,
) -> dict[str, Any]:
    """The three set-ups, and an optional soak (Python clients, RSS sampled) on the first."""
    ids = load_embeddings(settings.embeddings_dir, model).ids.tolist()
    template = f"/recommend?product_id={{id}}&model={model}"
    uniform = uniform_paths(template, ids, PATHS, seed)
    popular = zipf_paths(template, ids, PATHS, ZIPF_EXPONENT, seed)
    result: dict[str, Any] = {"model": model, "backend": BACKEND, "zipf_exponent": ZIPF_EXPONENT}

    with running_server(
        settings.data_dir, BACKEND, env={**QUIET, "LOOKALIKE_CACHE": "off"}
    ) as server:
        run_wrk(server.url, uniform, max(concurrency), WARMUP_SECONDS)
        levels = {}
        for connections in concurrency:
            levels[str(connections)] = _against_floor(server, uniform, connections, seconds)
            print(f"api uncached, {connections} connections: {levels[str(connections)]}")
        result |= {
            "startup_s": server.startup_s,
            "server_rss_bytes": rss_bytes(server.pid),
            "uncached": levels,
            "stages_ms": _stage_means(server.url),
        }
        if soak_seconds > 0:
            cycle = QueryCycle([int(i) for i in ids], seed)
            target = Target(server.url, "/recommend", {"model": model}, server.pid)
            result["soak"] = soak(target, cycle, soak_seconds)

    with running_server(settings.data_dir, BACKEND, env=QUIET) as server:
        run_wrk(server.url, popular, max(CACHED_CONNECTIONS), WARMUP_SECONDS)
        result["cached"] = {
            str(c): _against_floor(server, popular, c, seconds) for c in CACHED_CONNECTIONS
        }
        print(f"api cached (memory, zipf): {result['cached']}")

    result["redis_workers"] = _redis_workers(settings, model, popular, seconds)
    return result


def _redis_workers(
    settings: Settings, model: str, paths: list[str], seconds: float
) -> dict[str, Any]:
    """Two worker processes over a FAISS index, sharing one Redis cache."""
    index_models(settings, [model], backend="faiss", options=BuildOptions(), progress=False)
    with tempfile.TemporaryDirectory(prefix="lookalike-redis-") as folder:
        redis = RedisServer(Path(folder))
        redis.start()
        try:
            env = {**QUIET, "LOOKALIKE_REDIS_URL": redis.url}
            with running_server(
                settings.data_dir, "faiss", env=env, args=("--workers", "2")
            ) as server:
                run_wrk(server.url, paths, max(CACHED_CONNECTIONS), WARMUP_SECONDS)
                runs = {
                    str(c): _against_floor(server, paths, c, seconds) for c in CACHED_CONNECTIONS
                }
        finally:
            redis.stop()
    print(f"api 2 workers + redis (faiss, zipf): {runs}")
    return {"backend": "faiss", "workers": 2, "runs": runs}
