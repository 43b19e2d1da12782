"""The service layer put together: what the API (and anything else serving) runs on.

Built once per process by `Services.load`; the API hands each route only the narrow service it
needs (`recommender`, `products`, `writes`, `collections`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from catalogue.database import CatalogueDB
from catalogue.images import ProductImages
from core.manifest import read_manifests
from core.registry import MODELS
from core.settings import Settings
from recommend.categories import CategorySimilarity, read_categories
from service.cache import ResponseCache, open_cache
from service.collections import BuildRecord, Collections
from service.encoding import Encoding
from service.execution import Execution
from service.products import Products
from service.recommender import Recommender
from service.replica import CatalogueReplica
from service.writes import LiveCatalogue, ProductWrites
from store import backend_type
from store.protocol import VectorStore

if TYPE_CHECKING:
    from qdrant_client import QdrantClient


class Services:
    """Every service of one serving process, wired once: the catalogue replica and its write
    path, the served collections, the encoders on their one model thread, the recommender."""

    def __init__(self, settings: Settings, client: QdrantClient | None = None) -> None:
        self.settings = settings
        names, vectors = read_categories(settings.embeddings_dir / "categories")
        replica = CatalogueReplica(CatalogueDB(settings.catalogue_db))
        category = replica.database.schema.category
        images = ProductImages(settings.data_dir)
        self.execution = Execution(blocking=backend_type(settings.backend).blocking)
        self.encoding = Encoding(
            read_manifests(settings.embeddings_dir, MODELS), names, self.execution
        )
        categories = CategorySimilarity(
            names, vectors, self.encoding.encode_categories, field=category
        )
        self.catalogue = replica
        self.live = LiveCatalogue(replica, images, self.encoding)
        self.collections = Collections(settings, self.live, self.encoding, client)
        self.products = Products(replica, images)
        self.writes = ProductWrites(
            self.live,
            self.execution,
            self.collections.writable,
            settings.backend,
            bool(settings.api_key),
        )
        self.recommender = Recommender(
            self.collections,
            self.products,
            categories,
            self.encoding,
            self.execution,
            open_cache(settings),
        )

    @classmethod
    def load(cls, settings: Settings, client: QdrantClient | None = None) -> Services:
        """Open the catalogue, the category matrix and every model collection that exists
        (`client`: the Qdrant client the `qdrant` backend uses instead of QDRANT_URL)."""
        services = cls(settings, client)
        services.collections.open_all()
        return services

    # What tests and tools reach for directly ---------------------------------------------------

    @property
    def stores(self) -> dict[str, VectorStore]:
        """The open store of every served model."""
        return self.collections.stores

    @property
    def records(self) -> dict[str, BuildRecord]:
        """The build record of every served model."""
        return self.collections.records

    def store(self, model: str) -> VectorStore | None:
        """The model's open collection; None if it was never indexed."""
        return self.collections.store(model)

    @property
    def cache(self) -> ResponseCache | None:
        """The response cache (None: off)."""
        return self.recommender.cache

    @cache.setter
    def cache(self, cache: ResponseCache | None) -> None:
        self.recommender.cache = cache

    # Life cycle ----------------------------------------------------------------------------

    def watch(self, every_s: float = 1.0) -> None:
        """Follow rebuilds and other processes' writes until `close`; a server taking writes
        loads its encoders now, so the first write does not wait for them."""
        if self.writes.enabled:
            self.execution.submit(self.encoding.warm_up)
        self.collections.watch(every_s)

    async def close_cache(self) -> None:
        """Release the response cache's connections."""
        if self.cache is not None:
            await self.cache.close()

    def close(self) -> None:
        """Stop watching and release the model thread, the stores and the database."""
        self.collections.stop()
        self.execution.close()
        self.collections.close()
        self.catalogue.database.close()
