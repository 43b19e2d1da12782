"""Shared fixtures: the real catalogue, ingested in full once and as a small slice."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ingest.catalog import build_catalog
from lookalike.settings import Settings

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LOOKALIKE_TEST_SOURCE", REPO.parent / "shared/data/fashion-small"))
# Products with known quirks that every slice carries: a repaired row, images missing.
QUIRKY_IDS = (44065, 39403, 39410, 39401, 39425, 12347)
SLICE_ROWS = 2000


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
