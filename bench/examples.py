"""The multi-example part of `lookalike bench quality`: sessions of 3 positives of one
articleType and colour (and 1 negative of another type) on held-out products; P@5 of the
session's type and colour for each strategy against its first positive alone; and the latency
of `POST /recommend` against `GET /recommend` on a real server."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np

from bench import metrics
from bench.queries import Query
from bench.server import running_server
from bench.subject import Subject
from core.settings import Settings
from recommend.examples import STRATEGIES, Examples
from recommend.pipeline import Params, Ranked
from store.protocol import Payload

POSITIVES = 3
SESSIONS = 200
SESSION_POOL = 4448  # the held-out products the sessions are drawn from (the whole test split)
LATENCY_ROUNDS = 3  # each session's POST and GET are timed this many times, interleaved
SERVER_ENV = {"LOOKALIKE_ACCESS_LOG": "off", "LOOKALIKE_CACHE": "off", "LOOKALIKE_LIST_LOG": "off"}


@dataclass(frozen=True)
class Session:
    """Positives sharing an articleType and colour, and a negative of another type."""

    positive: tuple[int, ...]
    negative: int
    article_type: str
    colour: str


def draw_sessions(
    queries: Sequence[Query], payload_of: Callable[[int], Payload], count: int, seed: int
) -> list[Session]:
    """Up to `count` sessions from held-out products (seeded): the (articleType, colour) groups
    of at least 3 products take turns."""
    rng = np.random.default_rng(seed)
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for query in queries:
        colour = payload_of(query.id).get("baseColour")
        if query.article_type and colour:
            groups[(query.article_type, colour)].append(query.id)
    usable = sorted(k for k, ids in groups.items() if len(ids) >= POSITIVES)
    sessions = []
    for i in range(min(count, len(usable) * 4)):
        kind, colour = usable[i % len(usable)]
        positive = rng.choice(groups[(kind, colour)], POSITIVES, replace=False)
        others = [q.id for q in queries if q.article_type not in (None, kind)]
        if others:
            negative = int(rng.choice(others))
            sessions.append(Session(tuple(int(p) for p in positive), negative, kind, colour))
    return sessions


def session_precision(session: Session, results: Sequence[Ranked], k: int) -> float:
    """Share of the k slots holding a product of the session's articleType and colour."""
    hits = sum(
        r.payload.get("articleType") == session.article_type
        and r.payload.get("baseColour") == session.colour
        for r in results[:k]
    )
    return hits / k


def evaluate_sessions(
    subject: Subject, sessions: Sequence[Session], params: Params, seed: int
) -> dict[str, Any]:
    """P@k per strategy and for the first positive alone (mean, 95 % bootstrap interval)."""
    rows: dict[str, list[float]] = defaultdict(list)
    for session in sessions:
        ids = [*session.positive, session.negative]
        found = subject.store.vectors(ids)
        first = session.positive[0]
        alone = subject.recommend(found[first], params, session.article_type, first)
        rows["single"].append(session_precision(session, alone.results, params.top_k))
        for strategy in STRATEGIES:
            examples = Examples(
                session.positive,
                np.stack([found[i] for i in session.positive]),
                (session.negative,),
                found[session.negative][None],
                strategy,
                (session.article_type,),
            )
            outcome = subject.recommend_examples(examples, params)
            rows[strategy].append(session_precision(session, outcome.results, params.top_k))
    return {name: metrics.bootstrap_mean(v, seed).as_dict() for name, v in rows.items()}


def post_vs_get_latency(
    settings: Settings, sessions: Sequence[Session], model: str, backend: str
) -> dict[str, Any]:
    """Milliseconds of `POST /recommend` (3 positives, 1 negative, best_score) and of
    `GET /recommend` (the first positive) on one uncached server, interleaved."""
    timed: dict[str, list[float]] = {"post": [], "get": []}
    with (
        running_server(settings.data_dir, backend, env=SERVER_ENV) as server,
        httpx.Client(base_url=server.url, timeout=30) as http,
    ):
        for _ in range(LATENCY_ROUNDS):
            for session in sessions:
                body = {
                    "positive": [str(p) for p in session.positive],
                    "negative": [str(session.negative)],
                    "strategy": "best_score",
                    "model": model,
                }
                timed["post"].append(_ms(http, "POST", json=body))
                query = {"product_id": str(session.positive[0]), "model": model}
                timed["get"].append(_ms(http, "GET", params=query))
    post, get = (metrics.latency(timed[k]).as_dict() for k in ("post", "get"))
    return {"model": model, "backend": backend, "post": post, "get": get,
            "p50_ratio": post["p50"] / get["p50"], "p99_ratio": post["p99"] / get["p99"]}  # fmt: skip


def _ms(http: httpx.Client, method: str, **request: Any) -> float:
    """How long one request to /recommend took, in milliseconds (it must succeed)."""
    started = time.perf_counter()
    http.request(method, "/recommend", **request).raise_for_status()
    return (time.perf_counter() - started) * 1e3
