"""`lookalike bench learning`: the learning loop measured on simulated shoppers through a real
`lookalike serve` process: A/B and interleaving (models, then learned vs static ranking), the
learned ranker's held-out NDCG, lift against training data and cost, event ingest rates
(embedded store and PostgreSQL), list logging's cost, and exploration's cost.

Every phase runs on its own throwaway event store and ranker folder, never the data folder's.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from tqdm import tqdm

from bench.postgres_server import PostgresServer
from bench.server import Server, running_server
from bench.wrk import run_wrk, uniform_paths
from core.errors import LookalikeError
from core.settings import Settings
from events.factory import open_event_store
from events.store import EventStore
from ranker.model import LATEST, LearnedRanker
from ranker.train import logged_lists, train_ranker
from simulate.traffic import Traffic, run

BACKEND = "qdrant-embedded"
QUIET = {"LOOKALIKE_ACCESS_LOG": "off"}
CHECKPOINT = 2_000  # lists between two readings of an experiment's p-value
SHOPPERS = 2_000
EVENT_BATCH = 1_000
LIFT_POINTS = (1_000, 2_500, 5_000, 10_000, 20_000)  # training lists per lift measurement
LOG_CONNECTIONS = 8
COST_REQUESTS = 300
EXPLORE_SHARE = 0.2  # a large share, so a short run measures its cost per explored list


@dataclass(frozen=True)
class Plan:
    """How much traffic each phase gets."""

    lists_per_arm: int
    lift_lists_per_arm: int
    explore_lists: int
    events: int
    model: str
    train_minutes: float
    seed: int
    log_seconds: float = 15.0  # wrk run per logging setting
    log_pairs: int = 3  # on/off runs, alternated against drift


@dataclass
class Shop:
    """One running API with its own event store, ranker folder and write key."""

    settings: Settings
    server: Server
    store: EventStore
    rankers: Path
    key: str
    session: int = 0

    @property
    def url(self) -> str:
        return self.server.url

    def traffic(self, plan: Plan, lists: int, **params: Any) -> Traffic:
        """The next session of the plan's shoppers: `lists` lists with these parameters."""
        self.session += 1
        return Traffic(
            self.url,
            shoppers=SHOPPERS,
            lists=lists,
            params={"top_k": 5, **params},
            workers=4,
            seed=plan.seed,
            session=self.session,
        )

    def experiment(self, name: str, design: str, arms: list[dict[str, Any]]) -> None:
        """Start an experiment on /recommend (replacing none: the previous one was stopped)."""
        answer = httpx.put(
            f"{self.url}/experiments/{name}",
            json={"design": design, "arms": arms},
            headers={"Authorization": f"Bearer {self.key}"},
            timeout=30,
        )
        if answer.status_code not in (200, 201):
            raise LookalikeError(f"PUT /experiments/{name}: {answer.status_code} {answer.text}")

    def stop(self, name: str) -> None:
        auth = {"Authorization": f"Bearer {self.key}"}
        httpx.delete(f"{self.url}/experiments/{name}", headers=auth, timeout=30)

    def result(self, name: str) -> dict[str, Any]:
        """The experiment's statistics, once the list log has written what was served."""
        time.sleep(1.5)  # the list log flushes every 0.5 s
        return dict(httpx.get(f"{self.url}/experiments/{name}", timeout=30).json())


@contextmanager
def shop(settings: Settings, env: dict[str, str] | None = None) -> Iterator[Shop]:
    """A `lookalike serve` with a fresh event store (SQLite unless `env` names another)."""
    with tempfile.TemporaryDirectory(prefix="lookalike-learning-") as folder:
        key = secrets.token_urlsafe(12)
        rankers = Path(folder) / "rankers"
        url = f"sqlite:///{folder}/events.sqlite"
        env = {**QUIET, "LOOKALIKE_EVENTS_URL": url, "LOOKALIKE_RANKERS": str(rankers)} | (
            env or {}
        )
        env["LOOKALIKE_API_KEY"] = key
        store = open_event_store(env["LOOKALIKE_EVENTS_URL"], Path(folder))
        try:
            with running_server(settings.data_dir, BACKEND, env=env) as server:
                yield Shop(settings, server, store, rankers, key)
        finally:
            store.close()


RANKERS = [
    {"name": "static", "weight": 0.5, "overrides": {"ranker": "static"}},
    {"name": "learned", "weight": 0.5, "overrides": {"ranker": "learned"}},
]
# The phases, in the order they run; a run of some of them keeps the others' earlier results.
PHASES = ("experiments", "ranker", "cost", "events", "logging", "exploration")


def run_learning(
    settings: Settings,
    plan: Plan,
    phases: tuple[str, ...] = PHASES,
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The phases asked for; the document `bench/results/learning.json` holds (with the
    results of the other phases from `previous`, the earlier run)."""
    earlier = previous or {}
    result: dict[str, Any] = {
        **earlier,
        "plan": plan.__dict__,
        "shoppers": SHOPPERS,
        "load_average_at_start": os.getloadavg()[0],
    }
    result.pop("meta", None)
    if {"experiments", "ranker", "cost", "events"} & set(phases):
        with shop(settings) as api:
            result |= _shop_phases(api, plan, phases)
    if "events" in phases:
        result["events_postgres"] = _postgres_event_rate(settings, plan)
    if "logging" in phases:
        result["logging"] = _logging_cost(settings, plan)
    if "exploration" in phases:
        result["exploration"] = _exploration(settings, plan)
    result["load_average_at_end"] = os.getloadavg()[0]
    result["phases"] = _earlier_phases(earlier, phases) | {
        p: _phase_run(result, time.strftime("%Y-%m-%d", time.gmtime())) for p in phases
    }
    return result


def _phase_run(doc: dict[str, Any], day: str) -> dict[str, Any]:
    return {
        "on": day,
        "load_average": [doc.get("load_average_at_start"), doc.get("load_average_at_end")],
    }


def _earlier_phases(earlier: dict[str, Any], rerun: tuple[str, ...]) -> dict[str, Any]:
    """When the phases not rerun were measured, and under what load (a document from before
    phases were recorded ran them all at once)."""
    if not earlier:
        return {}
    recorded = earlier.get("phases") or {
        p: _phase_run(earlier, earlier["meta"]["finished"][:10]) for p in PHASES
    }
    return {p: run for p, run in recorded.items() if p not in rerun}


def _shop_phases(api: Shop, plan: Plan, phases: tuple[str, ...]) -> dict[str, Any]:
    """The phases that share one API and its event store."""
    result: dict[str, Any] = {}
    if "experiments" in phases:
        pair = [
            {"name": "clip", "weight": 0.5, "overrides": {"model": "clip"}},
            {"name": "hybrid", "weight": 0.5, "overrides": {"model": "hybrid"}},
        ]
        result["models_ab"] = _trajectory(
            api, plan, "models-ab", "ab", pair, plan.lists_per_arm * 2
        )
        result["models_interleave"] = _trajectory(
            api, plan, "models-interleave", "interleave", pair, plan.lists_per_arm
        )
    params = {"model": plan.model}
    if "ranker" in phases:
        result["ranker"] = _train(api, plan, None)
        result["ranker_ab"] = _trajectory(
            api, plan, "ranker-ab", "ab", RANKERS, plan.lists_per_arm * 2, params
        )
        result["ranker_interleave"] = _trajectory(
            api, plan, "ranker-interleave", "interleave", RANKERS, plan.lists_per_arm, params
        )
    if "cost" in phases or "ranker" in phases:
        if "ranker" not in result:  # a model to time: trained on a short run of traffic
            run(api.traffic(plan, plan.lift_lists_per_arm * 2, **params), progress=True)
            _train(api, plan, None)
        result["ranker_cost"] = _ranker_cost(api, plan)
    if "ranker" in phases:
        result["lift_vs_data"] = [_learned_lift(api, plan, first) for first in LIFT_POINTS]
    if "events" in phases:
        result["events_embedded"] = _event_rate(api, plan)
    return result


def _trajectory(
    api: Shop,
    plan: Plan,
    name: str,
    design: str,
    arms: list[dict[str, Any]],
    lists: int,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run an experiment for `lists` lists, reading its p-value every CHECKPOINT lists."""
    api.experiment(name, design, arms)
    points = []
    for done in tqdm(range(0, lists, CHECKPOINT), desc=name, unit="checkpoint"):
        chunk = min(CHECKPOINT, lists - done)
        tally = run(api.traffic(plan, chunk, **(params or {})), progress=False)
        if tally.rejected:
            raise LookalikeError(f"{name}: the API rejected {tally.rejected} simulated events")
        points.append({"lists": done + chunk, "p_value": _p_value(api.result(name))})
    final = api.result(name)
    api.stop(name)
    return {"result": final, "trajectory": points, "lists_to_significance": _settled(points)}


def _p_value(result: dict[str, Any]) -> float | None:
    """The test's p-value: the sign test (interleaving) or the second arm's z-test (A/B)."""
    if result["design"] == "interleave":
        return result["p_value"]
    return result["arms"][1]["p_value"]


def _settled(points: list[dict[str, Any]]) -> int | None:
    """Lists served when the p-value fell below 0.05 and stayed there."""
    settled = None
    for point in points:
        p = point["p_value"]
        significant = p is not None and p < 0.05
        settled = (settled or point["lists"]) if significant else None
    return settled


def _train(api: Shop, plan: Plan, first: int | None) -> dict[str, Any]:
    """Train on the shop's logged lists (the oldest `first`), wait until the API serves it."""
    manifest = train_ranker(api.store, api.rankers, plan.train_minutes, first=first)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answer = httpx.get(f"{api.url}/ranker", timeout=10)
        if answer.status_code == 200 and answer.json()["version"] == manifest["version"]:
            return manifest
        time.sleep(0.5)
    raise LookalikeError(f"the API did not pick up ranker {manifest['version']} within 30 s")


def _learned_lift(api: Shop, plan: Plan, first: int | None) -> dict[str, Any]:
    """A model trained on the shop's logged lists (the oldest `first`; all with None),
    A/B-tested against static on `plan.lift_lists_per_arm` lists per arm."""
    manifest = _train(api, plan, first)
    name = f"lift-{first or 'all'}"
    api.experiment(name, "ab", RANKERS)
    run(api.traffic(plan, plan.lift_lists_per_arm * 2, model=plan.model), progress=True)
    arms = api.result(name)["arms"]
    api.stop(name)
    point = {
        "training_lists": manifest["window"]["lists"],
        "ndcg5_learned": manifest["metrics"]["ndcg5_learned"],
        "ndcg5_served": manifest["metrics"]["ndcg5_served"],
        "static_ctr": arms[0]["ctr"],
        "learned_ctr": arms[1]["ctr"],
        "lift": arms[1]["lift"],
        "lift_ci": arms[1]["lift_ci"],
        "p_value": arms[1]["p_value"],
    }
    print(f"lift with {point['training_lists']:,} training lists: {point}")
    return point


def _ranker_cost(api: Shop, plan: Plan) -> dict[str, Any]:
    """Uncached GET /recommend latency, static against learned, alternating on fresh products."""
    products = _products(api.url, COST_REQUESTS * 2)
    latency: dict[str, list[float]] = {"static": [], "learned": []}
    with httpx.Client(base_url=api.url, timeout=30) as http:
        for i, product in enumerate(products):
            ranker = ("static", "learned")[(i + i // 2) % 2]
            started = time.perf_counter()
            answer = http.get(
                "/recommend", params={"product_id": product, "model": plan.model, "ranker": ranker}
            )
            elapsed = time.perf_counter() - started
            if answer.status_code == 200 and answer.headers["x-cache"] != "hit":
                latency[ranker].append(elapsed * 1e3)
    static, learned = _percentiles(latency["static"]), _percentiles(latency["learned"])
    return {
        "model_ms": _model_cost(api),
        "static": static,
        "learned": learned,
        "added_p50_ms": learned["p50_ms"] - static["p50_ms"],
        "added_p99_ms": learned["p99_ms"] - static["p99_ms"],
    }


def _model_cost(api: Shop) -> dict[str, Any]:
    """In-process: the served model's predict on 50 logged candidates, and the contributions
    of 5 (what one request with 50 candidates and top_k 5 asks of it)."""
    version = (api.rankers / LATEST).read_text().strip()
    ranker = LearnedRanker(api.rankers / version)
    rows = logged_lists(api.store).features[:50]
    timings: dict[str, list[float]] = {"predict_50": [], "contributions_5": []}
    for _ in range(1_000):
        started = time.perf_counter()
        ranker.scores(rows)
        middle = time.perf_counter()
        ranker.contributions(rows[:5])
        timings["predict_50"].append((middle - started) * 1e3)
        timings["contributions_5"].append((time.perf_counter() - middle) * 1e3)
    return {
        "compiled": ranker.compiled,
        **{name: _percentiles(ms) for name, ms in timings.items()},
    }


def _percentiles(ms: list[float]) -> dict[str, float]:
    return {
        "requests": len(ms),
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
    }


def _products(url: str, count: int) -> list[str]:
    """`count` random catalogue products (repeats possible)."""
    with httpx.Client(base_url=url, timeout=30) as http:
        return [http.get("/products/random").json()["product_id"] for _ in range(count)]


def _event_rate(api: Shop, plan: Plan) -> dict[str, Any]:
    """Clicks on real served lists, posted in batches of 1,000 by two clients: accepted/s."""
    served = []
    with httpx.Client(base_url=api.url, timeout=30) as http:
        for product in _products(api.url, 200):
            answer = http.get("/recommend", params={"product_id": product})
            if answer.status_code == 200:
                body = answer.json()
                served.append((body["ranking_id"], [r["product_id"] for r in body["results"]]))
    time.sleep(1.5)  # logged
    rng = np.random.default_rng(plan.seed)
    events = []
    for i in range(plan.events):
        ranking_id, shown = served[int(rng.integers(len(served)))]
        product = shown[int(rng.integers(len(shown)))]
        events.append(
            {
                "type": "click",
                "ranking_id": ranking_id,
                "product_id": product,
                "user_id": f"u{i % 997}",
                "event_id": uuid.uuid4().hex,
            }
        )
    batches = [events[i : i + EVENT_BATCH] for i in range(0, len(events), EVENT_BATCH)]

    def post(batch: list[dict[str, Any]]) -> int:
        with httpx.Client(base_url=api.url, timeout=60) as http:
            answer = http.post("/events", json=batch)
        if answer.status_code != 202:
            raise LookalikeError(f"POST /events answered {answer.status_code}: {answer.text}")
        return int(answer.json()["accepted"])

    started = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        accepted = sum(pool.map(post, batches))
    seconds = time.perf_counter() - started
    rate = {"events": len(events), "accepted": accepted, "seconds": seconds}
    rate["per_second"] = accepted / seconds
    print(f"events ingested: {rate}")
    return rate


def _postgres_event_rate(settings: Settings, plan: Plan) -> dict[str, Any]:
    server = PostgresServer()
    try:
        with shop(settings, {"LOOKALIKE_EVENTS_URL": server.new_database()}) as api:
            return _event_rate(api, plan)
    finally:
        server.close()


def _logging_cost(settings: Settings, plan: Plan) -> dict[str, Any]:
    """Uncached /recommend throughput with list logging on and off, alternated (wrk)."""
    ids = [int(i) for i in _products_from_disk(settings, plan.model)]
    paths = uniform_paths(f"/recommend?product_id={{id}}&model={plan.model}", ids, 20_000, 1)
    runs: dict[str, list[dict[str, Any]]] = {"on": [], "off": []}
    for setting in ("on", "off") * plan.log_pairs:
        env = {"LOOKALIKE_CACHE": "off", "LOOKALIKE_LIST_LOG": setting}
        with shop(settings, env) as api:
            run_wrk(api.url, paths, LOG_CONNECTIONS, 3.0)  # warm-up
            runs[setting].append(run_wrk(api.url, paths, LOG_CONNECTIONS, plan.log_seconds))
        print(f"list logging {setting}: {runs[setting][-1]['throughput_rps']:.0f} req/s")
    rps = {s: float(np.mean([r["throughput_rps"] for r in runs[s]])) for s in runs}
    ratio = rps["on"] / rps["off"]
    return {
        "connections": LOG_CONNECTIONS,
        "seconds": plan.log_seconds,
        "runs": runs,
        "rps": rps,
        "ratio": ratio,
    }


def _products_from_disk(settings: Settings, model: str) -> list[int]:
    from store.indexing import load_embeddings

    return [int(i) for i in load_embeddings(settings.embeddings_dir, model).ids]


def _exploration(settings: Settings, plan: Plan) -> dict[str, Any]:
    """Its cost: CTR of explored against other lists, served together at an EXPLORE_SHARE
    share. Its gain: the next model's lift over static when trained on those lists, against a
    model trained on as many lists served without exploration (each in its own shop)."""
    with shop(settings, {"LOOKALIKE_EXPLORE": str(EXPLORE_SHARE)}) as api:
        run(api.traffic(plan, plan.explore_lists, model=plan.model), progress=True)
        time.sleep(1.5)
        clicked = {e.ranking_id for e in api.store.events() if e.type == "click"}
        counts = {"explored": [0, 0], "other": [0, 0]}
        for served in api.store.served_lists():
            kind = "explored" if any((s.propensity or 1.0) < 1.0 for s in served.shown) else "other"
            counts[kind][0] += 1
            counts[kind][1] += served.ranking_id in clicked
        with_exploration = _learned_lift(api, plan, None)
    with shop(settings) as api:
        run(api.traffic(plan, plan.explore_lists, model=plan.model), progress=True)
        time.sleep(1.5)
        without = _learned_lift(api, plan, None)
    ctr = {k: clicks / lists if lists else 0.0 for k, (lists, clicks) in counts.items()}
    return {
        "share": EXPLORE_SHARE,
        "lists": {k: v[0] for k, v in counts.items()},
        "ctr": ctr,
        "cost_per_explored_list": ctr["other"] - ctr["explored"],
        "next_model": {"with_exploration": with_exploration, "without": without},
    }
