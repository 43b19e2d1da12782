"""UI fixtures: a client of the real slice API, a writable copy of it that takes experiments and
keyed events, a port nobody listens on, the UI as a process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from api.app import create_app as create_api
from core.settings import Settings
from service.app import Services
from tests.api.live import AUTH, copy_data
from tests.serving import free_port, serve_in_thread
from ui.client import LookalikeClient
from ui.server import create_app

REPO = Path(__file__).resolve().parents[2]
# The first product of styles.csv: always in the slice, with an image.
SAMPLE_ID = "15970"
T = TypeVar("T")
# The writable API's LOOKALIKE_EVENTS_KEY: its /events refuses clicks without it.
EVENTS_KEY = "ui-events-key-456"
# A plain A/B test: the request's own settings against a more diverse λ.
AB_ARMS: list[dict[str, Any]] = [
    {"name": "control", "weight": 1.0, "overrides": {}},
    {"name": "diverse", "weight": 1.0, "overrides": {"lambda_diversity": 0.3}},
]


@pytest.fixture(scope="session")
def client(slice_api_url: str) -> Iterator[LookalikeClient]:
    """A client of the real API over the catalogue slice."""
    with LookalikeClient(slice_api_url) as api:
        yield api


@pytest.fixture(scope="session")
def down_url() -> str:
    """The base URL of an API that is not running."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture(scope="session")
def down_client(down_url: str) -> Iterator[LookalikeClient]:
    """A client of the API that is not running."""
    with LookalikeClient(down_url) as api:
        yield api


@contextmanager
def ui_in_thread(api_url: str, events_key: str | None = None) -> Iterator[str]:
    """The UI app served from a thread of this process (fast: Gradio is already imported)."""
    with serve_in_thread(create_app(api_url, events_key), "UI server") as url:
        yield f"{url}/"


@pytest.fixture(scope="session")
def writable_api(
    slice_snapshot: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A real API over a private copy of the slice: takes catalogue writes and experiments with
    the test key, and events only with EVENTS_KEY."""
    settings = copy_data(slice_snapshot, tmp_path_factory.mktemp("ui") / "data")
    services = Services.load(replace(settings, events_key=EVENTS_KEY))
    with serve_in_thread(create_api(services, watch_builds=False), "writable API") as url:
        yield url


def until(read: Callable[[], T], done: Callable[[T], bool], timeout_s: float = 30.0) -> T:
    """What `read` answers once `done` holds: the API logs served lists in batches (~1 s)."""
    deadline = time.monotonic() + timeout_s
    while not done(value := read()):
        assert time.monotonic() < deadline, f"still not there after {timeout_s:g} s: {value}"
        time.sleep(0.2)
    return value


@contextmanager
def experiment(
    api_url: str, name: str, arms: list[dict[str, Any]], design: str = "ab"
) -> Iterator[str]:
    """An experiment running on the API's /recommend for the block; stopped afterwards."""
    body: Mapping[str, Any] = {"design": design, "arms": arms}
    started = httpx.put(f"{api_url}/experiments/{name}", json=body, headers=AUTH, timeout=30)
    assert started.status_code == 200, started.text
    try:
        yield name
    finally:
        httpx.delete(f"{api_url}/experiments/{name}", headers=AUTH, timeout=30)


@contextmanager
def running_ui(api_url: str, timeout_s: float = 90.0) -> Iterator[str]:
    """`lookalike ui` as a separate process against `api_url`; yields the page URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "lookalike.cli", "ui", "--port", str(port), "--api-url", api_url],
        cwd=REPO,
        env={**os.environ, "LOOKALIKE_API_URL": "http://127.0.0.1:9"},  # the flag must win
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout_s
        while not _answers(url):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                output = process.communicate()[0]
                pytest.fail(f"`lookalike ui` did not start on {url}:\n{output}")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        process.communicate(timeout=10)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture(scope="session")
def ui_url(slice_api_url: str) -> Iterator[str]:
    """The UI served by `lookalike ui` against the real slice API."""
    with running_ui(slice_api_url) as url:
        yield url
