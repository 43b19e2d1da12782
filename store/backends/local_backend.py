"""What the two on-disk backends (embedded Qdrant, FAISS) share: open and build by pointer."""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from store.builds import BuildArea, Lease
from store.options import BuildOptions
from store.protocol import VectorStore


class FinishableStore(VectorStore, Protocol):
    """A store under construction: `finish` makes its content complete on disk."""

    def finish(self) -> None:
        """Index and write everything; called once before the build is published."""


class LocalBackend(ABC):
    """A backend keeping each collection in build folders under `root`."""

    name: str

    def __init__(self, root: Path) -> None:
        self.root = root

    def area(self, collection: str) -> BuildArea:
        """The build folders of a collection."""
        return BuildArea(self.root, collection, self.name)

    def record(self, collection: str) -> dict[str, Any] | None:
        """The live build's record, or None if the collection was never built."""
        build = self.area(collection).current()
        return None if build is None else build.record

    def open(self, collection: str, search_ef: int) -> VectorStore:
        """The live build of a collection, kept on disk until the store is closed."""
        lease = self.area(collection).lease_current()
        try:
            return self._open(lease, search_ef)
        except BaseException:
            lease.release()
            raise

    @contextlib.contextmanager
    def build(
        self, collection: str, dim: int, options: BuildOptions, record: dict[str, Any]
    ) -> Iterator[VectorStore]:
        """An empty store in a new build folder, published as the live build on success."""
        with self.area(collection).new_build(record) as path:
            store = self._create(path, collection, dim, options)
            try:
                yield store
                store.finish()
            finally:
                store.close()

    def close(self) -> None:
        """Nothing to release: each store holds its own files."""
        return None

    @abstractmethod
    def _open(self, lease: Lease, search_ef: int) -> VectorStore:
        """Load the leased build; the store releases the lease when closed."""

    @abstractmethod
    def _create(
        self, path: Path, collection: str, dim: int, options: BuildOptions
    ) -> FinishableStore:
        """A new, empty store writing into `path`."""
