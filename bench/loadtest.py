"""Closed-loop HTTP load on `GET /recommend`: N concurrent clients, each waiting for its answer."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec
import numpy as np

from bench import metrics
from bench.process import rss_bytes

STAGES = ("recall_ms", "mmr_ms", "rerank_ms", "total_ms")


@dataclass(frozen=True)
class Answer:
    """One request: client-side latency, HTTP status (0: no answer) and the server's timings."""

    latency_ms: float
    status: int
    timings: dict[str, float] | None


@dataclass
class LoadRun:
    """What one load run saw: answers, its wall time, and server RSS samples (seconds, bytes)."""

    concurrency: int
    seconds: float = 0.0
    answers: list[Answer] = field(default_factory=list)
    rss: list[tuple[float, int]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Latency percentiles, throughput, errors and the per-stage server breakdown."""
        ok = [a for a in self.answers if a.status == 200]
        timed = [a for a in ok if a.timings is not None]
        stages = {
            stage: metrics.latency([a.timings[stage] for a in timed if a.timings]).as_dict()
            for stage in STAGES
        }
        overhead = [a.latency_ms - a.timings["total_ms"] for a in timed if a.timings]
        return {
            "concurrency": self.concurrency,
            "seconds": self.seconds,
            "requests": len(self.answers),
            "errors": len(self.answers) - len(ok),
            "throughput_rps": len(ok) / self.seconds if self.seconds else 0.0,
            "latency_ms": metrics.latency([a.latency_ms for a in ok]).as_dict(),
            "server_stages_ms": stages,
            "outside_pipeline_ms": metrics.latency(overhead).as_dict(),
        }


def query_cycle(product_ids: Sequence[int], seed: int) -> Iterator[int]:
    """The product ids in a seeded random order, repeated forever."""
    order = np.random.default_rng(seed).permutation(np.asarray(product_ids, dtype=np.int64))
    return itertools.cycle(int(i) for i in order)


async def _client_loop(
    client: httpx.AsyncClient,
    queries: Iterator[int],
    params: dict[str, str],
    deadline: float,
    answers: list[Answer],
) -> None:
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        try:
            response = await client.get(
                "/recommend", params={"product_id": str(next(queries)), **params}
            )
        except httpx.HTTPError:
            answers.append(Answer((time.perf_counter() - started) * 1e3, 0, None))
            continue
        elapsed = (time.perf_counter() - started) * 1e3
        timings = msgspec.json.decode(response.content)["timings"] if response.is_success else None
        answers.append(Answer(elapsed, response.status_code, timings))


async def _sample_rss(pid: int, interval: float, deadline: float, run: LoadRun) -> None:
    started = time.perf_counter()
    while time.perf_counter() < deadline:
        run.rss.append((time.perf_counter() - started, rss_bytes(pid)))
        await asyncio.sleep(interval)


async def _load(
    url: str,
    queries: Iterator[int],
    params: dict[str, str],
    concurrency: int,
    seconds: float,
    rss_pid: int | None,
    rss_interval: float,
) -> LoadRun:
    run = LoadRun(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30.0) as client:
        started = time.perf_counter()
        deadline = started + seconds
        tasks = [
            _client_loop(client, queries, params, deadline, run.answers) for _ in range(concurrency)
        ]
        if rss_pid is not None:
            tasks.append(_sample_rss(rss_pid, rss_interval, deadline, run))
        await asyncio.gather(*tasks)
        run.seconds = time.perf_counter() - started
    return run


def run_load(
    url: str,
    queries: Iterator[int],
    params: dict[str, str],
    concurrency: int,
    seconds: float,
    rss_pid: int | None = None,
    rss_interval: float = 5.0,
) -> LoadRun:
    """Send requests from `concurrency` clients for `seconds`, optionally sampling a process's RSS."""
    return asyncio.run(_load(url, queries, params, concurrency, seconds, rss_pid, rss_interval))
