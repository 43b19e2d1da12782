"""UI fixtures: a client of the real slice API, a port nobody listens on, the UI as a process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.serving import free_port, serve_in_thread
from ui.client import LookalikeClient
from ui.server import create_app

REPO = Path(__file__).resolve().parents[2]
# The first product of styles.csv: always in the slice, with an image.
SAMPLE_ID = "15970"


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
def ui_in_thread(api_url: str) -> Iterator[str]:
    """The UI app served from a thread of this process (fast: Gradio is already imported)."""
    with serve_in_thread(create_app(api_url), "UI server") as url:
        yield f"{url}/"


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
