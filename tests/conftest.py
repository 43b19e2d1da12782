"""Shared fixtures: the real catalogue, ingested in full once and as a small slice."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.app import create_app
from api.services import Services
from embed.registry import MODELS
from ingest.catalog import build_catalog
from lookalike.settings import Settings
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
    return slice_catalog


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
