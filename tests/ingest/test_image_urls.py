"""Photos linked by URL, fetched from a real HTTP server on loopback that also answers slowly,
with errors, with non-images and with too much."""

from __future__ import annotations

import io
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from PIL import Image

from catalogue.fill import build_catalog
from core.schema import load_schema
from ingest.catalog import load_catalog
from ingest.download import Downloader

SCHEMA = """
[table]
path = "feed.jsonl"
[fields]
id = "sku"
title = "title"
category = "kind"
text = ["title", "kind"]
facets = ["kind"]
[image]
column = "image_link"
"""


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 90), (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


class Shop(BaseHTTPRequestHandler):
    """Answers by path: /ok, /slow, /flaky (a 503 first), /gone (404), /text, /huge."""

    hits: ClassVar[Counter[str]] = Counter()

    def do_GET(self) -> None:
        Shop.hits[self.path] += 1
        if self.path == "/slow.jpg":
            time.sleep(2)
        if self.path == "/flaky.jpg" and Shop.hits[self.path] == 1:
            return self._send(503, b"busy")
        if self.path == "/gone.jpg":
            return self._send(404, b"no")
        if self.path == "/text.jpg":
            return self._send(200, b"<html>not an image</html>")
        if self.path == "/huge.jpg":
            return self._send(200, b"\xff" * 5000)
        return self._send(200, _jpeg())

    def _send(self, status: int, body: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the slow answer: the client gave up waiting, as it should

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Shop.hits.clear()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Shop)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_downloads_are_cached_retried_capped_and_reported(server: str, tmp_path: Path) -> None:
    names = ("ok", "flaky", "slow", "gone", "text", "huge")
    source = tmp_path / "raw"
    source.mkdir()
    rows = [
        {
            "sku": str(i),
            "title": f"Product {name}",
            "kind": "Shirts",
            "image_link": f"{server}/{name}.jpg",
        }
        for i, name in enumerate(names, start=1)
    ]
    (source / "feed.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (source / "schema.toml").write_text(SCHEMA)
    quick = Downloader(tmp_path / "data" / "image-cache", timeout=0.5, retries=1, max_bytes=4000)
    schema = load_schema(source / "schema.toml")
    build_catalog(source, tmp_path / "data/catalog", 1, schema=schema, downloader=quick)
    frame = load_catalog(tmp_path / "data/catalog").set_index("id")
    issues = frame["image_issue"]
    assert frame.loc[1, "has_image"] and frame.loc[2, "has_image"]  # flaky: the retry worked
    assert issues[3].startswith("missing: download timed out after 0.5 s")
    assert issues[4] == "missing: download failed (HTTP 404)"
    assert issues[5].startswith("corrupt")
    assert issues[6].startswith("too_large: download over 4,000 bytes")
    assert Shop.hits["/flaky.jpg"] == 2 and Shop.hits["/gone.jpg"] == 1  # a 404 is not retried
    before = Shop.hits.copy()
    build_catalog(source, tmp_path / "data/catalog", 1, True, schema=schema, downloader=quick)
    fetched_again = {p for p in Shop.hits if Shop.hits[p] > before[p]}
    assert "/ok.jpg" not in fetched_again and "/flaky.jpg" not in fetched_again  # cached
    assert not list((tmp_path / "data" / "image-cache").glob("*.part"))
