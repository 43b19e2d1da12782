"""Bad input fails early, the same way on every backend, with a message saying what to do."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from qdrant_client import QdrantClient

from core.errors import LookalikeError
from core.settings import Settings
from store import DEFAULT_SEARCH_EF, BuildOptions, Filter, Range, build_collection, open_store
from store.backends.qdrant_server import QdrantServerStore, connect
from store.errors import (
    InvalidVectorError,
    QdrantUnreachableError,
    StoreDiskError,
    StoreError,
    UnknownBackendError,
    UnknownCollectionError,
)
from tests.store.conftest import Loaded, StoreCase, synthetic_points


def test_every_store_error_is_shown_without_traceback() -> None:
    assert issubclass(StoreError, LookalikeError)


def test_wrong_dimension(loaded: Loaded) -> None:
    store = loaded.store
    ids, vectors, payloads = synthetic_points(n=2, dim=17, seed=5)
    with pytest.raises(InvalidVectorError, match=r"shape \(n, 16\)"):
        store.upsert(ids, vectors, payloads)
    with pytest.raises(InvalidVectorError, match=r"shape \(n, 16\)"):
        store.search(np.ones(8, np.float32), 3)
    with pytest.raises(InvalidVectorError):
        store.search_batch(np.ones((2, 8), np.float32), 3)
    assert store.count() == len(loaded.ids)


def test_nan_vectors(loaded: Loaded) -> None:
    ids, vectors, payloads = synthetic_points(n=2, seed=6)
    vectors[1, 3] = np.nan
    with pytest.raises(InvalidVectorError, match="NaN"):
        loaded.store.upsert(ids, vectors, payloads)
    with pytest.raises(InvalidVectorError, match="NaN"):
        loaded.store.search(vectors[1], 3)
    assert loaded.store.count() == len(loaded.ids)


def test_unnormalised_vectors_are_not_stored(loaded: Loaded) -> None:
    ids, vectors, payloads = synthetic_points(n=2, seed=6)
    with pytest.raises(InvalidVectorError, match="not L2-normalised"):
        loaded.store.upsert(ids, 2 * vectors, payloads)


def test_search_takes_one_vector(loaded: Loaded) -> None:
    with pytest.raises(InvalidVectorError, match="search_batch"):
        loaded.store.search(loaded.vectors[:2], 3)


def test_zero_query(loaded: Loaded) -> None:
    with pytest.raises(InvalidVectorError, match="all zeros"):
        loaded.store.search(np.zeros(16, np.float32), 3)


def test_malformed_batches(loaded: Loaded) -> None:
    ids, vectors, payloads = synthetic_points(n=3, seed=8)
    with pytest.raises(InvalidVectorError, match="one to one"):
        loaded.store.upsert(ids[:2], vectors, payloads)
    with pytest.raises(InvalidVectorError, match="non-negative"):
        loaded.store.upsert([-1, 2, 3], vectors, payloads)
    with pytest.raises(InvalidVectorError, match="distinct"):
        loaded.store.upsert([7, 7, 8], vectors, payloads)
    with pytest.raises(InvalidVectorError, match="limit"):
        loaded.store.search(vectors[0], 0)
    assert loaded.store.count() == len(loaded.ids)


def test_unknown_collection(case: StoreCase) -> None:
    with pytest.raises(UnknownCollectionError, match="lookalike index"):
        open_store(case.settings, "never_indexed", backend=case.backend, client=case.client)


def test_unusable_collection_name(case: StoreCase) -> None:
    with pytest.raises(StoreError, match="invalid collection name"):
        open_store(case.settings, "../clip", backend=case.backend, client=case.client)


def test_unknown_backend(data_dir: Path) -> None:
    with pytest.raises(UnknownBackendError, match="qdrant-embedded, qdrant, faiss"):
        open_store(Settings(data_dir=data_dir), "clip", backend="milvus")


def test_quantization_is_for_qdrant_only(data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir)
    int8 = BuildOptions(quantization="int8")
    with (
        pytest.raises(StoreError, match="Qdrant backends only"),
        build_collection(settings, "clip", 16, backend="faiss", options=int8),
    ):
        pass
    assert not any((data_dir / "faiss" / "clip" / "builds").iterdir())


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A URL whose server accepts connections but never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


@pytest.fixture
def closed_port() -> str:
    """A URL nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("server", ["closed_port", "silent_server"])
def test_unreachable_server_fails_fast_naming_the_url(
    server: str, request: pytest.FixtureRequest, data_dir: Path
) -> None:
    url = request.getfixturevalue(server)
    started = time.monotonic()
    with pytest.raises(QdrantUnreachableError) as raised:
        open_store(Settings(data_dir=data_dir, qdrant_url=url), "clip", backend="qdrant")
    assert time.monotonic() - started < 2.0
    assert url in str(raised.value)
    assert "QDRANT_URL" in str(raised.value)


def test_server_that_goes_away_mid_flight(closed_port: str) -> None:
    client = QdrantClient(url=closed_port, timeout=1)
    store = QdrantServerStore(client, "clip", 4, DEFAULT_SEARCH_EF, True, where=closed_port)
    for call in (store.count, lambda: store.search(np.full(4, 0.5, np.float32), 3)):
        with pytest.raises(QdrantUnreachableError, match="stopped answering") as raised:
            call()
        assert closed_port in str(raised.value)
    store.close()


def test_malformed_url() -> None:
    with pytest.raises(QdrantUnreachableError, match="not a url"):
        connect("not a url")


@pytest.mark.parametrize("backend", ["qdrant-embedded", "faiss"])
def test_data_dir_that_cannot_be_written(backend: str, tmp_path: Path) -> None:
    """Root ignores permissions, so the data folder sits under a regular file instead."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    settings = Settings(data_dir=blocker / "data")
    with (
        pytest.raises(StoreDiskError, match="--data-dir") as raised,
        build_collection(settings, "clip", 16, backend=backend),
    ):
        pass
    assert str(blocker / "data") in str(raised.value)


def test_a_filter_needs_valid_values(loaded: Loaded) -> None:
    with pytest.raises(StoreError, match="range bounds must be finite numbers"):
        loaded.store.search(loaded.vectors[0], 3, Filter(ranges={"year": Range(float("nan"))}))
    with pytest.raises(StoreError, match="must be strings"):
        loaded.store.search(loaded.vectors[0], 3, Filter(match={"gender": 1}))  # type: ignore[dict-item]
