"""`GET /catalog`: the state of the catalogue."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency

from api.schemas import CatalogInfo
from api.services import Services


class CatalogController(Controller):
    """Counts, version and last write of the catalogue."""

    path = "/catalog"

    @get(sync_to_thread=True)  # a database query
    def catalog(self, services: NamedDependency[Services]) -> CatalogInfo:
        """Product counts (with / without image), the catalogue version, the last write time."""
        stats = services.catalogue.database.stats()
        return CatalogInfo(
            products=stats.products,
            with_image=stats.with_image,
            without_image=stats.without_image,
            version=stats.version,
            last_write=stats.last_write,
            writes_enabled=services.writable and bool(services.settings.api_key),
        )
