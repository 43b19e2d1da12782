"""`lookalike bench api`: `/recommend` over HTTP against a real `lookalike serve` subprocess."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench import metrics
from bench.loadtest import QueryCycle, Target, run_load
from bench.process import rss_bytes
from bench.queries import Query
from bench.reference import GOAL_API_CONCURRENCY
from bench.server import running_server
from lookalike.settings import Settings

WARMUP_SECONDS = 3.0
FLOOR_SECONDS = 3.0
BACKEND = "qdrant-embedded"
SOAK_SAMPLES = 60


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


def run_api(
    settings: Settings,
    queries: Sequence[Query],
    seed: int,
    model: str,
    concurrency: Sequence[int],
    seconds: float,
    soak_seconds: float,
) -> dict[str, Any]:
    """Latency and throughput per concurrency level, the `/health` floor, an optional soak."""
    cycle = QueryCycle([q.id for q in queries], seed)
    with running_server(settings.data_dir, BACKEND) as server:
        target = Target(server.url, "/recommend", {"model": model}, server.pid)
        floor = Target(server.url, "/health", {}, server.pid)
        run_load(target, cycle, max(concurrency), min(WARMUP_SECONDS, seconds))
        runs = {}
        for clients in concurrency:
            runs[str(clients)] = run_load(target, cycle, clients, seconds).summary()
            print(f"api: {clients} clients: {runs[str(clients)]['throughput_rps']:.0f} req/s")
        floors = {
            str(clients): run_load(floor, cycle, clients, min(FLOOR_SECONDS, seconds)).summary()
            for clients in (min(concurrency), max(concurrency))
        }
        rss = rss_bytes(server.pid)
        soaked = soak(target, cycle, soak_seconds) if soak_seconds > 0 else None
    return {
        "model": model,
        "backend": BACKEND,
        "startup_s": server.startup_s,
        "server_rss_bytes": rss,
        "runs": runs,
        "health_floor": floors,
        "soak": soaked,
    }
