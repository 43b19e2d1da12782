"""Errors of the vector-store stage: each says what was wrong and what to do about it."""

from __future__ import annotations

from core.errors import LookalikeError


class StoreError(LookalikeError):
    """Base of the store errors."""


class UnknownBackendError(StoreError):
    """A backend name that is not one of `store.BACKENDS`."""


class UnknownCollectionError(StoreError):
    """The collection has never been indexed (or was indexed into another backend)."""


class InvalidVectorError(StoreError):
    """Vectors, ids or payloads that do not fit the collection."""


class InvalidFilterError(StoreError):
    """A filter on a field that cannot be filtered, or with a value of the wrong type."""


class QdrantUnreachableError(StoreError):
    """The Qdrant server did not answer (or refused the API key)."""


class StoreDiskError(StoreError):
    """The index folder cannot be written or read."""


class EmbeddingsError(StoreError):
    """Embeddings to index are missing or disagree with their manifest."""


class CatalogError(StoreError):
    """The product catalogue needed for the payloads is missing or incomplete."""
