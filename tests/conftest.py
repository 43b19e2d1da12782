"""Shared fixtures: the real catalogue, ingested in full once and as a small slice."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from api.app import create_app
from bench.postgres_server import PostgresServer
from catalogue.fill import build_catalog
from core.registry import MODELS
from core.settings import Settings
from service.app import Services
from tests.serving import serve_in_thread

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LOOKALIKE_TEST_SOURCE", REPO.parent / "shared/data/fashion-small"))
# Products with known quirks that every slice carries: a repaired row, images missing.
QUIRKY_IDS = (44065, 39403, 39410, 39401, 39425, 12347)
SLICE_ROWS = 2000
ALL_MODELS = tuple(MODELS)


def require_shared() -> Path:
    """The shared catalogue folder; fails loudly when it is missing (tests need the real data)."""
    if not (SHARED / "styles.csv").is_file():
        pytest.fail(f"the real catalogue is missing at {SHARED}; set LOOKALIKE_TEST_SOURCE")
    return SHARED


def write_slice_source(target: Path, rows: int = SLICE_ROWS) -> Path:
    """A catalogue folder with the first `rows` products plus the quirky ones, images linked."""
    shared = require_shared()
    lines = (shared / "styles.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    quirky = {str(i) for i in QUIRKY_IDS}
    body = lines[1 : rows + 1] + [
        line for line in lines[rows + 1 :] if line.split(",", 1)[0] in quirky
    ]
    target.mkdir(parents=True, exist_ok=True)
    (target / "styles.csv").write_text(lines[0] + "".join(body), encoding="utf-8")
    (target / "images").symlink_to(shared / "images")
    return target


@pytest.fixture(scope="session")
def full_catalog(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings whose catalogue is the whole shared set, ingested once per test session."""
    data = tmp_path_factory.mktemp("full-data")
    settings = Settings(source=require_shared(), data_dir=data)
    build_catalog(settings.source, settings.catalog_dir)
    return settings


@pytest.fixture(scope="session")
def slice_catalog(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings whose catalogue is a ~2,000-product slice of the real set, ingested once."""
    root = tmp_path_factory.mktemp("slice")
    settings = Settings(source=write_slice_source(root / "raw"), data_dir=root / "data")
    build_catalog(settings.source, settings.catalog_dir)
    return settings


@pytest.fixture(scope="session")
def slice_indexed(slice_catalog: Settings) -> Settings:
    """The slice embedded with the committed weights and indexed into embedded Qdrant."""
    from embed.batch import embed_catalog
    from embed.loader import NetworkLoader
    from store import BuildOptions
    from store.indexing import index_models

    embed_catalog(slice_catalog, ALL_MODELS, NetworkLoader())
    index_models(
        slice_catalog, None, backend="qdrant-embedded", options=BuildOptions(), progress=False
    )
    shutil.copytree(slice_catalog.data_dir, _snapshot_dir(slice_catalog), symlinks=True)
    return slice_catalog


def _snapshot_dir(settings: Settings) -> Path:
    """Where `slice_indexed` keeps a copy of its data folder that no process ever opens."""
    return settings.data_dir.with_name("snapshot")


@pytest.fixture(scope="session")
def slice_snapshot(slice_indexed: Settings) -> Settings:
    """The indexed slice as it was before any API opened it: copy this one, never the live one.

    The session's API keeps the slice's database and Qdrant shards open, and their files change
    underneath a copy (the WAL's segments are created and renamed in the background).
    """
    return replace(slice_indexed, data_dir=_snapshot_dir(slice_indexed))


@pytest.fixture(scope="session")
def slice_services(slice_indexed: Settings) -> Iterator[Services]:
    """API services over the indexed slice (one open shard per collection for the session)."""
    services = Services.load(slice_indexed)
    yield services
    services.close()


@pytest.fixture(scope="session")
def slice_api_url(slice_services: Services) -> Iterator[str]:
    """Base URL of a real API (uvicorn, in a thread) over the indexed slice."""
    with serve_in_thread(create_app(slice_services), "API server") as url:
        yield url


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server on loopback for the session (Debian's `postgresql`)."""
    server = PostgresServer()
    yield server
    server.close()
