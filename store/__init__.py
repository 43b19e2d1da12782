"""Vector store: one protocol, three backends (embedded Qdrant, Qdrant server, FAISS).

`open_store(settings, collection)` opens a collection for reading; `build_collection(...)`
fills a new one that atomically replaces the live one; `lookalike index` does this per model.
"""

from store.factory import (
    Backend,
    backend_type,
    build_collection,
    collection_record,
    get_backend,
    open_store,
)
from store.mirror import MirroredStore, open_for_serving
from store.names import BACKENDS, MODELS
from store.options import DEFAULT_SEARCH_EF, BuildOptions, HnswParams
from store.protocol import (
    CollectionInfo,
    Filter,
    Hit,
    Payload,
    PayloadIndexes,
    Range,
    VectorStore,
)
from store.recall import recall_at_k

__all__ = [
    "BACKENDS",
    "DEFAULT_SEARCH_EF",
    "MODELS",
    "Backend",
    "BuildOptions",
    "CollectionInfo",
    "Filter",
    "Hit",
    "HnswParams",
    "MirroredStore",
    "Payload",
    "PayloadIndexes",
    "Range",
    "VectorStore",
    "backend_type",
    "build_collection",
    "collection_record",
    "get_backend",
    "open_for_serving",
    "open_store",
    "recall_at_k",
]
