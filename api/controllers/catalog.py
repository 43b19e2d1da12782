"""`GET /catalog`: the state of the catalogue."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency

from service.products import Products
from service.schemas import CatalogInfo
from service.writes import ProductWrites


class CatalogController(Controller):
    """Counts, version and last write of the catalogue."""

    path = "/catalog"

    @get(sync_to_thread=True)  # a database query
    def catalog(
        self, products: NamedDependency[Products], writes: NamedDependency[ProductWrites]
    ) -> CatalogInfo:
        """Product counts (with / without image), the catalogue version, the last write time."""
        stats = products.stats()
        return CatalogInfo(
            products=stats.products,
            with_image=stats.with_image,
            without_image=stats.without_image,
            version=stats.version,
            last_write=stats.last_write,
            writes_enabled=writes.enabled,
        )
