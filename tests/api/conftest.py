"""Fixtures for API tests: an HTTP client on the real API and the slice's own vectors."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import numpy as np
import pandas as pd
import pytest

from core.settings import Settings
from ingest.catalog import load_catalog


@pytest.fixture(scope="session")
def client(slice_api_url: str) -> Iterator[httpx.Client]:
    """An HTTP client bound to the API over the indexed slice."""
    with httpx.Client(base_url=slice_api_url, timeout=30) as http:
        yield http


@pytest.fixture(scope="session")
def catalog(slice_indexed: Settings) -> pd.DataFrame:
    """The slice's catalogue, indexed by id."""
    return load_catalog(slice_indexed.catalog_dir).set_index("id")


def embedded_vectors(settings: Settings, model: str) -> dict[int, np.ndarray]:
    """A model's vectors by product id, straight from the slice's embedding files."""
    folder = settings.embeddings_dir / model
    ids = np.load(folder / "ids.npy")
    vectors = np.load(folder / "vectors.npy")
    return {int(i): v for i, v in zip(ids, vectors, strict=True)}


@pytest.fixture(scope="session")
def clip_vectors(slice_indexed: Settings) -> dict[int, np.ndarray]:
    """The slice's CLIP image vectors by product id."""
    return embedded_vectors(slice_indexed, "clip")
