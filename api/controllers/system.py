"""Models, the catalogue schema, liveness, readiness and the docs redirect."""

from __future__ import annotations

import msgspec
from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.response import Redirect

from api.views import errors
from service.collections import Collections
from service.products import Products
from service.recommender import Recommender
from service.schemas import CatalogueSchemaInfo, Health, ModelInfo


class SystemController(Controller):
    """What the service serves and whether it is ready."""

    @get("/models", sync_to_thread=True, responses=errors(503))  # asks the store
    def list_models(self, collections: NamedDependency[Collections]) -> list[ModelInfo]:
        """Served models with collection size, dimension and weights source."""
        return collections.describe()

    @get("/schema", sync_to_thread=False)
    def catalogue_schema(self, products: NamedDependency[Products]) -> CatalogueSchemaInfo:
        """The catalogue schema: the table, the role of its columns (id, title, category,
        text, facets and numeric fields, the filters `/recommend` and `/search` take) and the
        image layout."""
        return msgspec.convert(products.schema.as_dict(), CatalogueSchemaInfo)

    @get("/health", sync_to_thread=False)
    def health(self) -> Health:
        """Liveness: the process answers."""
        return Health(status="ok")

    @get("/ready", responses={503: ResponseSpec(Health)})
    async def ready(
        self,
        collections: NamedDependency[Collections],
        recommender: NamedDependency[Recommender],
    ) -> Response[Health]:
        """Readiness: the store answers and every collection holds points; also says how the
        response cache is (a cache outage means uncached answers, not unreadiness)."""
        health = await collections.readiness(recommender.cache)
        return Response(health, status_code=200 if health.status == "ok" else 503)

    @get("/docs", include_in_schema=False)
    async def docs(self) -> Redirect:
        """Interactive API documentation (Swagger UI)."""
        return Redirect("/openapi/swagger")
