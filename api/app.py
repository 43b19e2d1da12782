"""The Litestar application: one controller per resource, each route handed the narrow service
it needs (`Provide`): `recommender`, `products`, `writes`, `collections`, and the learning
loop (`loop`: events, experiments, the learned ranker)."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.plugins.prometheus import PrometheusConfig

from api.allow import allow_header_middleware
from api.auth import API_KEY_STATE, EVENTS_KEY_STATE
from api.controllers.catalog import CatalogController
from api.controllers.events import EventsController
from api.controllers.experiments import ExperimentsController
from api.controllers.metrics import MetricsController
from api.controllers.products import ProductController
from api.controllers.ranker import RankerController
from api.controllers.recommend import RecommendController
from api.controllers.search import SearchController
from api.controllers.system import SystemController
from api.errors import EXCEPTION_HANDLERS
from api.limits import write_limit_middleware
from api.request_id import request_id_middleware
from service.app import Services
from service.learning import ShopperLoop
from service.metrics import BUCKETS, PREFIX


def _provide(service: Any) -> Provide:
    """A dependency that is always the same (already built) object."""
    return Provide(lambda: service, use_cache=True, sync_to_thread=False)


def create_app(
    services: Services,
    watch_builds: bool = True,
    write_limit: str | None = None,
    loop: ShopperLoop | None = None,
) -> Litestar:
    """The API over loaded services; OpenAPI at /schema, interactive docs at /docs.

    With `watch_builds`, a background thread switches to rebuilt collections and takes in
    other processes' catalogue writes while the app runs. `write_limit` ("<count>/<unit>")
    overrides the settings' limit on writes and uploads per client. `loop`: the event store,
    list log, experiments and ranker (default: the store LOOKALIKE_EVENTS_URL names).
    """
    shoppers = loop or ShopperLoop.open(services.settings, services.products.payload_of)
    return Litestar(
        route_handlers=[
            RecommendController,
            SearchController,
            ProductController,
            CatalogController,
            SystemController,
            MetricsController,
            EventsController,
            ExperimentsController,
            RankerController,
        ],
        dependencies={
            "recommender": _provide(services.recommender),
            "products": _provide(services.products),
            "writes": _provide(services.writes),
            "collections": _provide(services.collections),
            "loop": _provide(shoppers),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[
            request_id_middleware,
            prometheus_config().middleware,
            write_limit_middleware(write_limit or services.settings.write_limit),
            allow_header_middleware,
        ],
        state=State(
            {
                API_KEY_STATE: services.settings.api_key,
                EVENTS_KEY_STATE: services.settings.events_key,
            }
        ),
        on_startup=[
            lambda: shoppers.start(),
            *([lambda: services.watch()] if watch_builds else []),
        ],
        on_shutdown=[services.close_cache, services.close, shoppers.close],
        openapi_config=OpenAPIConfig(
            title="Lookalike",
            version="0.2.0",
            description="Similar-product recommendations, explained result by result.",
            path="/schema",
            render_plugins=[ScalarRenderPlugin(path="/"), SwaggerRenderPlugin(path="/swagger")],
        ),
    )


def prometheus_config() -> PrometheusConfig:
    """Litestar's request metrics: by method, route template (not raw path) and status."""
    return PrometheusConfig(
        app_name=PREFIX, prefix=PREFIX, group_path=True, buckets=list(BUCKETS), exclude="/metrics"
    )
