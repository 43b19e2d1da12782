"""Prometheus metrics beyond Litestar's per-route ones: pipeline stages, cache, store, catalogue.

With several worker processes (`lookalike serve --workers N`) PROMETHEUS_MULTIPROC_DIR is set
before the workers start, and `/metrics` adds up every process's values.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

PREFIX = "lookalike"
# From 0.1 ms (a cache hit) to 2.5 s (a photo encoded on a busy machine).
BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5]

STAGE_SECONDS = Histogram(
    f"{PREFIX}_stage_duration_seconds",
    "Time in each pipeline stage (encode, recall, mmr, rerank)",
    ["route", "stage"],
    buckets=BUCKETS,
)
CACHE_REQUESTS = Counter(
    f"{PREFIX}_cache_requests_total", "Response cache lookups by result", ["route", "result"]
)
CACHE_ERRORS = Counter(f"{PREFIX}_cache_errors_total", "Failed calls to the cache store (Redis)")
REDIS_UP = Gauge(
    f"{PREFIX}_cache_redis_up", "1 when the last Redis call worked", multiprocess_mode="livemin"
)
STORE_ERRORS = Counter(
    f"{PREFIX}_store_errors_total", "Vector store calls that failed (store unavailable)"
)
CATALOGUE_VERSION = Gauge(
    f"{PREFIX}_catalogue_version", "Catalogue version served", multiprocess_mode="livemax"
)


def observe_stages(route: str, **milliseconds: float) -> None:
    """Record the stage timings of one computed answer."""
    for stage, ms in milliseconds.items():
        STAGE_SECONDS.labels(route, stage).observe(ms / 1e3)
