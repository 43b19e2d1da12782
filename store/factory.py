"""Open, build and inspect collections on any backend, chosen by name."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from core.settings import Settings
from store.errors import UnknownBackendError
from store.names import BACKENDS
from store.options import DEFAULT_SEARCH_EF, BuildOptions
from store.protocol import VectorStore

if TYPE_CHECKING:
    from qdrant_client import QdrantClient


class Backend(Protocol):
    """Where collections live; each backend module provides one.

    Capabilities are flags on the class, readable before anything is opened: `writable` (the
    API may upsert and delete), `blocking` (a store call waits on I/O or releases the GIL, so it
    belongs in a worker thread rather than on the event loop)."""

    name: str
    writable: ClassVar[bool]
    blocking: ClassVar[bool]

    def record(self, collection: str) -> dict[str, Any] | None:
        """The live build's record, or None if the collection was never built."""
        ...

    def open(self, collection: str, search_ef: int) -> VectorStore:
        """The live build of a collection (unknown collection: UnknownCollectionError)."""
        ...

    def build(
        self, collection: str, dim: int, options: BuildOptions, record: dict[str, Any]
    ) -> contextlib.AbstractContextManager[VectorStore]:
        """An empty store that replaces the collection atomically when the block succeeds."""
        ...

    def close(self) -> None:
        """Release connections the backend opened (stores it handed out keep theirs)."""
        ...


def get_backend(
    settings: Settings, backend: str | None = None, client: QdrantClient | None = None
) -> Backend:
    """The backend named `backend` (default `settings.backend`); `client` serves `qdrant`."""
    name = backend or settings.backend
    kind = backend_type(name)
    if name == "qdrant-embedded":
        return kind(settings.qdrant_dir)  # type: ignore[call-arg]
    if name == "faiss":
        return kind(settings.faiss_dir)  # type: ignore[call-arg]
    from store.backends.qdrant_server import connect

    if client is not None:
        return kind(client, "the given client", owns_client=False)  # type: ignore[call-arg]
    connection = connect(settings.qdrant_url, settings.qdrant_api_key)
    return kind(connection, settings.qdrant_url, owns_client=True)  # type: ignore[call-arg]


def backend_type(name: str) -> type[Backend]:
    """The class of the backend named `name`: its capability flags, without opening anything.

    Backend modules are imported on first use: each engine's library is slow to import.
    """
    if name == "qdrant-embedded":
        from store.backends.qdrant_embedded import EmbeddedQdrantBackend

        return EmbeddedQdrantBackend
    if name == "faiss":
        from store.backends.faiss_store import FaissBackend

        return FaissBackend
    if name == "qdrant":
        from store.backends.qdrant_server import QdrantServerBackend

        return QdrantServerBackend
    raise UnknownBackendError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)}")


def open_store(
    settings: Settings,
    collection: str,
    *,
    backend: str | None = None,
    client: QdrantClient | None = None,
    search_ef: int = DEFAULT_SEARCH_EF,
) -> VectorStore:
    """The collection for reading (and small edits) until `close()`; share it between threads.

    `search_ef` sets how widely HNSW searches explore (higher: better recall, slower).
    """
    chosen = get_backend(settings, backend, client)
    try:
        return chosen.open(collection, search_ef)  # the store now owns any connection
    except BaseException:
        chosen.close()
        raise


@contextlib.contextmanager
def build_collection(
    settings: Settings,
    collection: str,
    dim: int,
    *,
    record: dict[str, Any] | None = None,
    options: BuildOptions | None = None,
    backend: str | None = None,
    client: QdrantClient | None = None,
) -> Iterator[VectorStore]:
    """An empty collection to fill; it atomically replaces the live one when the block succeeds.

    `record` (JSON-ready) is stored with the build, see `collection_record`. On an error the
    half-built collection is removed and the live one stays as it was.
    """
    chosen = get_backend(settings, backend, client)
    build_options = options or BuildOptions()
    full_record = {
        "build_id": secrets.token_hex(8),  # tells a rebuild from the same inputs apart
        "collection": collection,
        "backend": chosen.name,
        "dim": dim,
        "options": build_options.describe(chosen.name),
        **(record or {}),
    }
    with (
        contextlib.closing(chosen),
        chosen.build(collection, dim, build_options, full_record) as store,
    ):
        yield store


def collection_record(
    settings: Settings,
    collection: str,
    *,
    backend: str | None = None,
    client: QdrantClient | None = None,
) -> dict[str, Any] | None:
    """What the live build was made from (collection, backend, dim, options, ...), or None."""
    with contextlib.closing(get_backend(settings, backend, client)) as chosen:
        return chosen.record(collection)
