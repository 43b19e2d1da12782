"""Fixtures for the store tests: one `StoreCase` per backend configuration."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from qdrant_client import QdrantClient

from core.settings import Settings
from store import BuildOptions, HnswParams, Payload, VectorStore, build_collection, open_store
from tests.store import synthetic
from tests.store.docker_engine import qdrant_container_client as container_client

CASES = ("qdrant-embedded", "qdrant-memory", "qdrant-container", "faiss-flat", "faiss-hnsw")
DIM = 16
POINTS = 300


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Silence local-mode qdrant-client (":memory:") warnings: it ignores indexes and params."""
    for item in items:
        if "tests/store" in str(item.path):
            item.add_marker(pytest.mark.filterwarnings("ignore:Payload indexes have no effect"))
            item.add_marker(pytest.mark.filterwarnings("ignore:Local mode performs exact"))


@contextlib.contextmanager
def scratch_dir(fallback: Path) -> Iterator[Path]:
    """A scratch folder on tmpfs when there is one (Qdrant fsyncs a lot), else `fallback`."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield fallback
        return
    path = Path(tempfile.mkdtemp(prefix="lookalike-store-", dir=shm))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    """A fresh data folder for one test."""
    with scratch_dir(tmp_path) as path:
        yield path


@pytest.fixture(scope="session")
def qdrant_container_client() -> Iterator[QdrantClient]:
    """A client of a real Qdrant server in a container (skipped without a Docker engine)."""
    with container_client() as client:
        yield client


@dataclass
class StoreCase:
    """One backend configuration under test: builds and opens collections."""

    name: str
    backend: str
    settings: Settings
    options: BuildOptions = field(default_factory=lambda: BuildOptions(indexes=synthetic.INDEXES))
    client: QdrantClient | None = None
    collection: str = field(default_factory=lambda: f"c_{secrets.token_hex(4)}")

    def build(
        self, ids: list[int], vectors: npt.NDArray[np.float32], payloads: list[Payload]
    ) -> None:
        """Replace the collection with these points."""
        with build_collection(
            self.settings,
            self.collection,
            vectors.shape[1],
            options=self.options,
            backend=self.backend,
            client=self.client,
        ) as store:
            store.upsert(ids, vectors, payloads)

    def open(self) -> VectorStore:
        """The collection, for reading."""
        return open_store(self.settings, self.collection, backend=self.backend, client=self.client)


def make_case(name: str, data_dir: Path, request: pytest.FixtureRequest) -> StoreCase:
    """The `StoreCase` called `name`, keeping its files in `data_dir`."""
    settings = Settings(data_dir=data_dir)
    if name == "qdrant-embedded":
        return StoreCase(name, "qdrant-embedded", settings)
    if name == "qdrant-memory":
        return StoreCase(name, "qdrant", settings, client=QdrantClient(":memory:"))
    if name == "qdrant-container":
        client = request.getfixturevalue("qdrant_container_client")
        return StoreCase(name, "qdrant", settings, client=client)
    options = BuildOptions(
        indexes=synthetic.INDEXES,
        faiss_index="flat" if name == "faiss-flat" else "hnsw",
        hnsw=HnswParams(m=16, ef_construct=64),
    )
    return StoreCase(name, "faiss", settings, options=options)


@pytest.fixture(params=CASES)
def case(request: pytest.FixtureRequest, data_dir: Path) -> StoreCase:
    """Each backend configuration, with a fresh data folder."""
    return make_case(request.param, data_dir, request)


@dataclass
class Loaded:
    """A collection filled with synthetic products, and what was put in."""

    case: StoreCase
    store: VectorStore
    ids: list[int]
    vectors: npt.NDArray[np.float32]
    payloads: list[Payload]


def synthetic_points(
    n: int = POINTS, dim: int = DIM, seed: int = 0
) -> tuple[list[int], npt.NDArray[np.float32], list[Payload]]:
    """Ids (not offsets: they start at 1000 and skip), vectors and payloads."""
    ids = [1000 + 3 * i for i in range(n)]
    return ids, synthetic.unit_vectors(n, dim, seed), synthetic.payloads(ids, seed)


@pytest.fixture(scope="module", params=CASES)
def loaded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Loaded]:
    """Each backend with one read-only collection, built once per test module."""
    with scratch_dir(tmp_path_factory.mktemp("loaded")) as folder:
        case = make_case(request.param, folder, request)
        ids, vectors, payloads = synthetic_points()
        case.build(ids, vectors, payloads)
        store = case.open()
        yield Loaded(case, store, ids, vectors, payloads)
        store.close()
