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

from bench.load import soak
from bench.loadtest import QueryCycle, Target
from bench.metrics import latency
from bench.server import Server, running_server
from catalogue.database import CatalogueDB
from catalogue.sync import run_sync
from core.settings import Settings

KEY = "bench-writes"
FIRST_NEW_ID = 90_000_000
COPIED = ("catalogue.sqlite", "qdrant")
LINKED = ("catalog", "catalog.builds", "embeddings", "cache")


@contextlib.contextmanager
def served_copy(settings: Settings) -> Iterator[tuple[Server, Path]]:
    """A writable copy of the served state under `lookalike serve`; yields it and its folder."""
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
            yield server, data


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


def _keep_writing(
    url: str, product: tuple[int, dict[str, Any], bytes], stop: threading.Event
) -> dict[str, int]:
    """Add, rename and delete one product over and over until `stop`; counts writes and errors."""
    product_id, metadata, photo = product
    counts = {"writes": 0, "errors": 0}
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=url, timeout=60, headers=headers) as client:
        while not stop.is_set():
            calls = [
                (
                    201,
                    lambda: client.post(
                        "/products",
                        data={"metadata": json.dumps({"id": product_id, **metadata})},
                        files={"image": ("p.jpg", photo, "image/jpeg")},
                    ),
                ),
                (200, lambda: client.patch(f"/products/{product_id}", json={"name": "renamed"})),
                (204, lambda: client.delete(f"/products/{product_id}")),
            ]
            for expected, call in calls:
                counts["writes"] += 1
                counts["errors"] += call().status_code != expected
    return counts


def mixed_soak(
    server: Server, ids: list[int], product: tuple[int, dict[str, Any], bytes], seconds: float
) -> dict[str, Any]:
    """16 readers on `/recommend` and one writer for `seconds`: errors and server memory."""
    stop = threading.Event()
    counts: dict[str, int] = {}
    writer = threading.Thread(
        target=lambda: counts.update(_keep_writing(server.url, product, stop)), daemon=True
    )
    writer.start()
    target = Target(server.url, "/recommend", {"model": "clip"}, server.pid)
    readers = soak(target, QueryCycle(ids, 0), seconds)
    stop.set()
    writer.join()
    return {"readers": readers, "writer": counts}


def run_writes(
    settings: Settings, adds: int, sync_new: int, seed: int, soak_seconds: float = 0.0
) -> dict[str, Any]:
    """Add latency, read latency without / during writes, sync throughput, an optional soak."""
    products = _photos(settings.source, adds + 1, seed)
    soak_product, products = products[-1], products[:-1]
    with served_copy(settings) as (server, data):
        url = server.url
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
        soaked = mixed_soak(server, ids, soak_product, soak_seconds) if soak_seconds else None
    result = {
        "adds": len(add_ms),
        "add_ms": latency(add_ms).as_dict(),
        "recommend_ms_idle": latency(baseline).as_dict(),
        "recommend_ms_during_writes": latency(during).as_dict(),
        "sync": {"new_products": sync_new, "seconds_total": sync_seconds, "summary": summary},
        "soak": soaked,
    }
    print(json.dumps({k: v for k, v in result.items() if k != "soak"}, indent=1))
    return result
