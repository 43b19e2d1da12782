"""`lookalike bench api`: `/recommend` over HTTP against a real `lookalike serve` subprocess."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from bench import metrics
from bench.loadtest import query_cycle, run_load
from bench.process import rss_bytes
from bench.queries import Query
from bench.reference import GOAL_API_CONCURRENCY
from bench.server import Server, running_server
from lookalike.settings import Settings

WARMUP_SECONDS = 3.0
BACKEND = "qdrant-embedded"
SOAK_SAMPLES = 60


def soak(server: Server, queries: Iterator[int], params: dict[str, str], seconds: float) -> dict:
    """A long run at the goal concurrency: errors, throughput and server RSS over time."""
    run = run_load(
        server.url,
        queries,
        params,
        GOAL_API_CONCURRENCY,
        seconds,
        rss_pid=server.pid,
        rss_interval=max(1.0, seconds / SOAK_SAMPLES),
    )
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
    """Latency and throughput per concurrency level (plus an optional soak), one server start."""
    params = {"model": model}
    cycle = query_cycle([q.id for q in queries], seed)
    with running_server(settings.data_dir, BACKEND) as server:
        run_load(server.url, cycle, params, max(concurrency), min(WARMUP_SECONDS, seconds))
        runs = {}
        for clients in concurrency:
            runs[str(clients)] = run_load(server.url, cycle, params, clients, seconds).summary()
            print(f"api: concurrency {clients}: {runs[str(clients)]['throughput_rps']:.0f} req/s")
        rss = rss_bytes(server.pid)
        soaked = soak(server, cycle, params, soak_seconds) if soak_seconds > 0 else None
    return {
        "model": model,
        "backend": BACKEND,
        "startup_s": server.startup_s,
        "server_rss_bytes": rss,
        "runs": runs,
        "soak": soaked,
    }
