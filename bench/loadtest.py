"""Closed-loop HTTP load: N client threads, each with a keep-alive connection, waiting for answers.

Threads with the standard library's `http.client` rather than httpx's async client: on this
2-CPU machine httpx capped even `GET /health` at ~250 req/s with 16 clients (the client, not the
server, was the bottleneck), against ~3,000 req/s for this loop.
"""

from __future__ import annotations

import http.client
import itertools
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import msgspec
import numpy as np

from bench import metrics
from bench.process import cpu_seconds, rss_bytes

STAGES = ("recall_ms", "mmr_ms", "rerank_ms", "total_ms")
TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Answer:
    """One request: client-side latency, HTTP status (0: no answer) and the server's timings."""

    latency_ms: float
    status: int
    timings: dict[str, float] | None


@dataclass(frozen=True)
class Target:
    """What to load: the server, the endpoint and its fixed parameters, the server's process id."""

    url: str
    path: str
    params: dict[str, str]
    pid: int


@dataclass
class LoadRun:
    """What one load run saw: answers, wall and CPU time, server RSS samples (seconds, bytes)."""

    concurrency: int
    seconds: float = 0.0
    server_cpu_s: float = 0.0
    client_cpu_s: float = 0.0
    answers: list[Answer] = field(default_factory=list)
    rss: list[tuple[float, int]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Latency percentiles, throughput, CPU use, errors and the per-stage server breakdown."""
        ok = [a for a in self.answers if a.status == 200]
        timed = [(a.latency_ms, a.timings) for a in ok if a.timings is not None]
        per_second = 1.0 / self.seconds if self.seconds else 0.0
        return {
            "concurrency": self.concurrency,
            "seconds": self.seconds,
            "requests": len(self.answers),
            "errors": len(self.answers) - len(ok),
            "throughput_rps": len(ok) * per_second,
            "server_cpu_cores": self.server_cpu_s * per_second,
            "client_cpu_cores": self.client_cpu_s * per_second,
            "latency_ms": metrics.latency([a.latency_ms for a in ok]).as_dict(),
            "server_stages_ms": {
                stage: metrics.latency([t[stage] for _, t in timed]).as_dict() for stage in STAGES
            },
            "outside_pipeline_ms": metrics.latency(
                [latency - t["total_ms"] for latency, t in timed]
            ).as_dict(),
        }


class QueryCycle:
    """Product ids in a seeded random order, repeated forever; safe to share between threads."""

    def __init__(self, product_ids: Sequence[int], seed: int) -> None:
        order = np.random.default_rng(seed).permutation(np.asarray(product_ids, dtype=np.int64))
        self._ids: Iterator[int] = itertools.cycle(int(i) for i in order)
        self._lock = threading.Lock()

    def __next__(self) -> int:
        with self._lock:
            return next(self._ids)

    def __iter__(self) -> QueryCycle:
        return self


def _request(connection: http.client.HTTPConnection, path: str) -> Answer:
    started = time.perf_counter()
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - started) * 1e3
    ok = response.status == 200
    timings = msgspec.json.decode(body).get("timings") if ok else None
    return Answer(elapsed, response.status, timings)


def _client_loop(target: Target, queries: QueryCycle, deadline: float) -> list[Answer]:
    address = urlsplit(target.url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, TIMEOUT_S)
    answers = []
    try:
        while time.perf_counter() < deadline:
            query = urlencode({"product_id": next(queries), **target.params})
            started = time.perf_counter()
            try:
                answers.append(_request(connection, f"{target.path}?{query}"))
            except (OSError, http.client.HTTPException):
                answers.append(Answer((time.perf_counter() - started) * 1e3, 0, None))
                connection.close()  # reconnects on the next request
    finally:
        connection.close()
    return answers


def _sample_rss(pid: int, interval: float, deadline: float) -> list[tuple[float, int]]:
    started = time.perf_counter()
    samples = []
    while time.perf_counter() < deadline:
        samples.append((time.perf_counter() - started, rss_bytes(pid)))
        time.sleep(interval)
    return samples


def run_load(
    target: Target,
    queries: QueryCycle,
    concurrency: int,
    seconds: float,
    rss_interval: float | None = None,
) -> LoadRun:
    """Send requests from `concurrency` clients for `seconds`; sample server RSS if asked."""
    run = LoadRun(concurrency)
    server_cpu, client_cpu = cpu_seconds(target.pid), time.process_time()
    started = time.perf_counter()
    deadline = started + seconds
    with ThreadPoolExecutor(max_workers=concurrency + 1) as pool:
        clients = [pool.submit(_client_loop, target, queries, deadline) for _ in range(concurrency)]
        sampler = (
            None
            if rss_interval is None
            else pool.submit(_sample_rss, target.pid, rss_interval, deadline)
        )
        for client in clients:
            run.answers.extend(client.result())
        run.rss = [] if sampler is None else sampler.result()
    run.seconds = time.perf_counter() - started
    run.server_cpu_s = cpu_seconds(target.pid) - server_cpu
    run.client_cpu_s = time.process_time() - client_cpu
    return run
