"""Production serving: the response cache, metrics, request ids and access logs, a free event
loop under a slow store, the write rate limit and `--workers`."""

from __future__ import annotations

import json
import logging
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from bench.redis_server import RedisServer
from core.settings import Settings
from service.app import Services
from store import BuildOptions
from store.indexing import index_models
from store.protocol import Filter, Hit, Vector, VectorStore
from tests.api.live import AUTH, copy_data, metadata, post_product
from tests.serving import free_port, serve_in_thread

PRODUCT = 15970


def recommend(client: httpx.Client, **params: Any) -> httpx.Response:
    """GET /recommend for PRODUCT with the given parameters."""
    response = client.get("/recommend", params={"product_id": PRODUCT, **params})
    assert response.status_code == 200, response.text
    return response


def same_list(first: httpx.Response, second: httpx.Response) -> bool:
    """The same answer, each served list with its own `ranking_id`."""
    first_body, second_body = first.json(), second.json()
    return bool(first_body.pop("ranking_id") != second_body.pop("ranking_id")) and (
        first_body == second_body
    )


def test_second_identical_request_is_a_cache_hit_with_the_same_body(client: httpx.Client) -> None:
    first = recommend(client, top_k=4, lambda_diversity=0.55)
    second = recommend(client, top_k=4, lambda_diversity=0.55)
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "hit")
    assert same_list(first, second)
    other = recommend(client, top_k=4, lambda_diversity=0.56)
    assert other.headers["x-cache"] == "miss"
    filtered = recommend(client, top_k=4, lambda_diversity=0.55, gender="Women")
    assert filtered.headers["x-cache"] == "miss"


def test_text_searches_are_cached_by_text_and_options(client: httpx.Client) -> None:
    body = {"text": "blue denim jacket for cold days", "top_k": 3}
    first, second = (client.post("/search", json=body) for _ in range(2))
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "hit")
    assert same_list(first, second)
    other = client.post("/search", json={**body, "text": "blue denim jacket for warm days"})
    assert other.headers["x-cache"] == "miss"


def test_errors_are_never_cached(client: httpx.Client) -> None:
    for _ in range(2):
        missing = client.get("/recommend", params={"product_id": 999_999_999})
        assert missing.status_code == 404 and "x-cache" not in missing.headers


@pytest.fixture(scope="module")
def writable(
    slice_snapshot: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    """A client of an API over a private, writable copy of the slice."""
    settings = copy_data(slice_snapshot, tmp_path_factory.mktemp("serving") / "data")
    services = Services.load(settings)
    with (
        serve_in_thread(create_app(services, watch_builds=False), "writable API") as url,
        httpx.Client(base_url=url, timeout=120) as http,
    ):
        yield http  # the app closes the services when it stops


def test_a_catalogue_write_invalidates_cached_answers(writable: httpx.Client) -> None:
    assert recommend(writable, top_k=6).headers["x-cache"] == "miss"
    assert recommend(writable, top_k=6).headers["x-cache"] == "hit"
    changed = writable.patch(f"/products/{PRODUCT}", json={"name": "Renamed shirt"}, headers=AUTH)
    assert changed.status_code == 200, changed.text
    after = recommend(writable, top_k=6)
    assert after.headers["x-cache"] == "miss"
    assert after.json()["query"]["name"] == "Renamed shirt"


def test_cache_off_computes_every_answer(client: httpx.Client, slice_services: Services) -> None:
    cache, slice_services.cache = slice_services.cache, None  # as with LOOKALIKE_CACHE=off
    try:
        assert [recommend(client).headers["x-cache"] for _ in range(2)] == ["off", "off"]
        assert client.get("/ready").json()["detail"]["cache"] == "off"
    finally:
        slice_services.cache = cache


# Redis ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()  # fails, saying how to install it, when redis-server is missing
    yield server
    server.stop()


def test_two_api_processes_share_the_redis_cache_and_survive_its_outage(
    slice_snapshot: Settings, redis_server: RedisServer, tmp_path: Path
) -> None:
    settings = replace(copy_data(slice_snapshot, tmp_path / "data"), redis_url=redis_server.url)
    first, second = Services.load(settings), Services.load(settings)
    with (
        serve_in_thread(create_app(first, watch_builds=False), "API 1") as url1,
        serve_in_thread(create_app(second, watch_builds=False), "API 2") as url2,
        httpx.Client(base_url=url1, timeout=60) as one,
        httpx.Client(base_url=url2, timeout=60) as two,
    ):
        assert recommend(one, top_k=7).headers["x-cache"] == "miss"
        shared = recommend(two, top_k=7)
        assert shared.headers["x-cache"] == "hit"
        assert same_list(shared, recommend(one, top_k=7))
        assert one.get("/ready").json()["detail"]["cache"] == "redis: ok"

        redis_server.stop()
        down = recommend(one, top_k=8)  # answered, uncached
        assert down.headers["x-cache"] == "miss"
        ready = one.get("/ready")
        assert ready.status_code == 200
        assert ready.json()["detail"]["cache"].startswith("redis: unavailable")
        assert "lookalike_cache_redis_up 0.0" in one.get("/metrics").text

        redis_server.start()
        time.sleep(2.5)  # the cache leaves Redis alone for 2 s after a failure
        assert recommend(two, top_k=9).headers["x-cache"] == "miss"
        assert recommend(one, top_k=9).headers["x-cache"] == "hit"


# Observability --------------------------------------------------------------------------------


def test_metrics_count_requests_stages_cache_and_catalogue(client: httpx.Client) -> None:
    recommend(client, top_k=3, candidates=30)
    recommend(client, top_k=3, candidates=30)
    text = client.get("/metrics").text
    assert 'path="/recommend"' in text and "lookalike_requests_total{" in text
    assert "lookalike_request_duration_seconds_bucket{" in text
    assert (
        'lookalike_stage_duration_seconds_bucket{le="0.001",route="recommend",stage="recall"}'
        in text
    )
    assert 'lookalike_cache_requests_total{result="hit",route="recommend"}' in text
    assert "lookalike_catalogue_version " in text
    assert "lookalike_store_errors_total" in text


def test_request_id_is_echoed_and_logged_as_json(
    client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="lookalike.access"):
        answer = client.get(
            "/recommend", params={"product_id": PRODUCT}, headers={"X-Request-ID": "order-42.a"}
        )
        crafted = client.get("/health", headers={b"X-Request-ID": b"bad id\xe9;" * 3})
    assert answer.headers["x-request-id"] == "order-42.a"
    assert len(crafted.headers["x-request-id"]) == 32  # a new id, not the crafted one
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "lookalike.access"]
    logged = next(line for line in lines if line["request_id"] == "order-42.a")
    assert logged["path"] == "/recommend" and logged["status"] == 200
    assert logged["cache"] in ("hit", "miss") and logged["ms"] > 0
    assert f"product_id={PRODUCT}" in logged["query"]


# A free event loop ----------------------------------------------------------------------------


class SlowStore:
    """A real store whose searches take `delay_s` (a stalled Qdrant server, say)."""

    def __init__(self, inner: VectorStore, delay_s: float) -> None:
        self.inner, self.delay_s = inner, delay_s

    def search(
        self, vector: Vector, limit: int, filter: Filter | None = None, with_payload: bool = True
    ) -> list[Hit]:
        time.sleep(self.delay_s)
        return self.inner.search(vector, limit, filter, with_payload)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.mark.filterwarnings("ignore:Payload indexes have no effect")
@pytest.mark.filterwarnings("ignore:Local mode performs exact")
def test_health_answers_quickly_while_a_slow_qdrant_server_stalls_recommendations(
    slice_snapshot: Settings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from qdrant_client import QdrantClient

    client = QdrantClient(":memory:")  # the server backend's client, in qdrant-client local mode
    settings = replace(
        copy_data(slice_snapshot, tmp_path_factory.mktemp("slow") / "data"), backend="qdrant"
    )
    index_models(
        settings, ["clip"], backend="qdrant", options=BuildOptions(), client=client, progress=False
    )
    services = Services.load(settings, client)
    services.stores["clip"] = SlowStore(services.stores["clip"], delay_s=3.0)
    slow: list[httpx.Response] = []
    with (
        serve_in_thread(create_app(services, watch_builds=False), "slow-store API") as url,
        httpx.Client(base_url=url, timeout=60) as http,
    ):
        stalled = threading.Thread(target=lambda: slow.append(recommend(http, top_k=2)))
        stalled.start()
        time.sleep(0.3)
        latencies = []
        for _ in range(5):
            started = time.perf_counter()
            assert http.get("/health").status_code == 200
            latencies.append(time.perf_counter() - started)
        assert stalled.is_alive(), "the slow recommendation should still be running"
        assert statistics.median(latencies) < 0.05
        stalled.join(timeout=30)
    assert slow and slow[0].status_code == 200


# Rate limit -----------------------------------------------------------------------------------


def test_writes_and_uploads_are_rate_limited_per_client(
    slice_snapshot: Settings, tmp_path: Path
) -> None:
    services = Services.load(copy_data(slice_snapshot, tmp_path / "data"))  # closed by the app
    app = create_app(services, watch_builds=False, write_limit="2/minute")
    with (
        serve_in_thread(app, "rate-limited API") as url,
        httpx.Client(base_url=url, timeout=60) as http,
    ):
        wrong = {"Authorization": "Bearer wrong"}
        statuses = [post_product(http, metadata(1), headers=wrong).status_code for _ in range(3)]
        assert statuses[:2] in ([401, 401], [403, 403]) and statuses[2] == 429
        limited = post_product(http, metadata(1), headers=wrong)
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert "retry in" in limited.json()["detail"]
        assert limited.headers["x-request-id"]  # rendered inside our middleware: id, metrics
        assert 'status_code="429"' in http.get("/metrics").text
        upload = http.post("/search", files={"image": ("a.jpg", b"x", "image/jpeg")})
        assert upload.status_code == 429
        assert http.post("/search", json={"text": "shoes"}).status_code == 200
        assert http.get("/recommend", params={"product_id": PRODUCT}).status_code == 200


def test_a_malformed_write_limit_is_refused_with_its_format() -> None:
    from api.limits import parse_limit
    from core.errors import LookalikeError

    assert parse_limit("30/second") == ("second", 30)
    with pytest.raises(LookalikeError, match="<count>/<second"):
        parse_limit("lots")


# Several processes ----------------------------------------------------------------------------


def serve(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """`lookalike --data-dir DATA serve ARGS` in a subprocess."""
    lookalike = str(Path(sys.executable).with_name("lookalike"))
    command = [lookalike, "--data-dir", str(data_dir), "serve", *args]
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def stderr_after_exit(process: subprocess.Popen[str], timeout: float = 120) -> str:
    """What a process that should stop by itself printed on stderr; killed if it does not."""
    try:
        return process.communicate(timeout=timeout)[1]
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise


def test_workers_are_refused_with_the_embedded_engine(
    slice_snapshot: Settings, tmp_path: Path
) -> None:
    process = serve(copy_data(slice_snapshot, tmp_path / "data").data_dir, "--workers", "2")
    err = stderr_after_exit(process)
    assert process.returncode == 2
    assert "--backend qdrant" in err and "one process" in err


def test_a_worker_that_could_not_start_fails_once_with_its_reason(
    slice_snapshot: Settings, tmp_path: Path
) -> None:
    data = copy_data(slice_snapshot, tmp_path / "data").data_dir
    env = {"LOOKALIKE_WRITE_LIMIT": "lots"}  # every worker would fail (and be restarted) on it
    process = serve(
        data, "--workers", "2", "--backend", "faiss", "--port", str(free_port()), env=env
    )
    err = stderr_after_exit(process)
    assert process.returncode == 2
    assert "LOOKALIKE_WRITE_LIMIT='lots' is not" in err


def children(pid: int) -> list[int]:
    """Process ids whose parent is `pid`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_two_workers_serve_a_faiss_index(
    slice_snapshot: Settings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    settings = copy_data(slice_snapshot, tmp_path_factory.mktemp("workers") / "data")
    index_models(settings, ["clip"], backend="faiss", options=BuildOptions(), progress=False)
    port = free_port()
    process = serve(
        settings.data_dir,
        *("--workers", "2", "--backend", "faiss", "--port", str(port)),
        env={"LOOKALIKE_ACCESS_LOG": "off"},
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            deadline = time.monotonic() + 300
            answered = 0
            while answered < 10:
                assert process.poll() is None, process.communicate()[1][-3000:]
                assert time.monotonic() < deadline, "the workers did not answer within 300 s"
                try:
                    answered += http.get("/recommend", params={"product_id": PRODUCT}).is_success
                except httpx.TransportError:
                    time.sleep(1)
            workers = [p for p in children(process.pid) if "spawn_main" in _cmdline(p)]
            assert len(workers) >= 2, workers
            metrics = http.get("/metrics").text
            assert (
                'lookalike_requests_total{app_name="lookalike",method="GET",path="/recommend"'
                in metrics
            )
    finally:
        process.terminate()
        process.wait(timeout=60)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""
