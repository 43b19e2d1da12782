"""`lookalike bench writes`: the live catalogue on the real catalogue, measured over HTTP.

A private copy of the served state (catalogue database and collections; embeddings and images
are linked read-only) is served by a real `lookalike serve`. Measured: single adds with a photo
(every model), `/recommend` latency without and during writes, and `lookalike sync` throughput
on a source with new products.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from bench.metrics import latency
from bench.server import running_server
from catalogue.database import CatalogueDB
from catalogue.sync import run_sync
from lookalike.settings import Settings

KEY = "bench-writes"
FIRST_NEW_ID = 90_000_000
COPIED = ("catalogue.sqlite", "qdrant")
LINKED = ("catalog", "catalog.builds", "embeddings", "cache")


@contextlib.contextmanager
def served_copy(settings: Settings) -> Iterator[tuple[str, Path]]:
    """A writable copy of the served state under `lookalike serve`; yields (url, data dir)."""
    with tempfile.TemporaryDirectory(prefix="lookalike-writes-", dir=settings.data_dir) as tmp:
        data = Path(tmp)
        for name in COPIED:
            source = settings.data_dir / name
            if source.is_dir():
                shutil.copytree(source, data / name, symlinks=True)
            else:
                shutil.copy2(source, data / name)
        for name in LINKED:
            if (settings.data_dir / name).exists():
                (data / name).symlink_to((settings.data_dir / name).resolve())
        with running_server(data, "qdrant-embedded", env={"LOOKALIKE_API_KEY": KEY}) as server:
            yield server.url, data


def _photos(source: Path, count: int, seed: int) -> list[tuple[int, dict[str, Any], bytes]]:
    """`count` catalogue rows (metadata + original photo) to add again under new ids."""
    rows = (source / "styles.csv").read_text(encoding="utf-8").splitlines()[1:]
    rng = random.Random(seed)
    picked: list[tuple[int, dict[str, Any], bytes]] = []
    for line in rng.sample(rows, count * 3):
        fields = line.split(",", 9)
        photo = source / "images" / f"{fields[0]}.jpg"
        if len(fields) == 10 and photo.is_file() and len(picked) < count:
            keys = ("gender", "masterCategory", "subCategory", "articleType", "baseColour")
            metadata = dict(zip(keys, fields[1:6], strict=True))
            metadata |= {"season": fields[6], "usage": fields[8], "name": fields[9]}
            picked.append((FIRST_NEW_ID + len(picked), metadata, photo.read_bytes()))
    return picked


def _read_latencies(url: str, ids: list[int], stop: threading.Event) -> list[float]:
    """`/recommend` (CLIP) latencies in ms until `stop` is set."""
    times: list[float] = []
    rng = random.Random(0)
    with httpx.Client(base_url=url, timeout=30) as client:
        while not stop.is_set():
            began = time.perf_counter()
            response = client.get("/recommend", params={"product_id": rng.choice(ids)})
            response.raise_for_status()
            times.append((time.perf_counter() - began) * 1000)
    return times


def _reads_for(url: str, ids: list[int], seconds: float) -> list[float]:
    stop = threading.Event()
    timer = threading.Timer(seconds, stop.set)
    timer.start()
    return _read_latencies(url, ids, stop)


def _sync_source(settings: Settings, folder: Path, new: int) -> Path:
    """The catalogue's source folder plus `new` products (copies of existing rows, new ids)."""
    lines = (settings.source / "styles.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    images = folder / "images"
    images.mkdir(parents=True)
    for entry in os.scandir(settings.source / "images"):
        (images / entry.name).symlink_to(Path(entry.path).resolve())
    extra = []
    for offset, line in enumerate(lines[1 : new + 1]):
        old_id, rest = line.split(",", 1)
        new_id = FIRST_NEW_ID + 500_000 + offset
        extra.append(f"{new_id},{rest}")
        if (settings.source / "images" / f"{old_id}.jpg").is_file():
            (images / f"{new_id}.jpg").symlink_to(images / f"{old_id}.jpg")
    (folder / "styles.csv").write_text("".join(lines) + "".join(extra), encoding="utf-8")
    return folder


def run_writes(settings: Settings, adds: int, sync_new: int, seed: int) -> dict[str, Any]:
    """Add latency, read latency without / during writes, and sync throughput."""
    products = _photos(settings.source, adds, seed)
    with served_copy(settings) as (url, data):
        ids = [int(p["product_id"]) for p in httpx.get(f"{url}/products?q=shirt&limit=100").json()]
        baseline = _reads_for(url, ids, 10.0)
        stop = threading.Event()
        during: list[float] = []
        reader = threading.Thread(
            target=lambda: during.extend(_read_latencies(url, ids, stop)), daemon=True
        )
        add_ms = []
        headers = {"Authorization": f"Bearer {KEY}"}
        reader.start()
        with httpx.Client(base_url=url, timeout=60, headers=headers) as client:
            for product_id, metadata, photo in products:
                began = time.perf_counter()
                response = client.post(
                    "/products",
                    data={"metadata": json.dumps({"id": product_id, **metadata})},
                    files={"image": (f"{product_id}.jpg", photo, "image/jpeg")},
                )
                add_ms.append((time.perf_counter() - began) * 1000)
                if response.status_code != 201:
                    raise RuntimeError(f"add failed: {response.status_code} {response.text}")
        stop.set()
        reader.join()
        with tempfile.TemporaryDirectory(prefix="lookalike-sync-") as folder:
            source = _sync_source(settings, Path(folder), sync_new)
            database = CatalogueDB(data / "catalogue.sqlite")
            began = time.perf_counter()
            summary = run_sync(source, database, url, KEY)
            sync_seconds = time.perf_counter() - began
            database.close()
    result = {
        "adds": len(add_ms),
        "add_ms": latency(add_ms).as_dict(),
        "recommend_ms_idle": latency(baseline).as_dict(),
        "recommend_ms_during_writes": latency(during).as_dict(),
        "sync": {"new_products": sync_new, "seconds_total": sync_seconds, "summary": summary},
    }
    print(json.dumps(result, indent=1))
    return result
