"""The Litestar application: one controller per resource over the loaded services."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin

from api import metrics
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
from api.loop import ShopperLoop
from api.request_id import request_id_middleware
from api.services import Services
from lookalike.ids import parse_product_id
from ranker.features import PayloadOf


def catalogue_payload(services: Services) -> PayloadOf:
    """A product's catalogue metadata by its id as clients write it (None if unknown)."""

    def payload(product_id: str) -> Mapping[str, Any] | None:
        parsed = parse_product_id(product_id)
        return None if parsed is None else services.catalogue.get(parsed)

    return payload


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
    list log and experiments (default: the store LOOKALIKE_EVENTS_URL names).
    """
    shoppers = loop or ShopperLoop.open(services.settings, catalogue_payload(services))
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
            "services": Provide(lambda: services, use_cache=True, sync_to_thread=False),
            "loop": Provide(lambda: shoppers, use_cache=True, sync_to_thread=False),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[
            request_id_middleware,
            metrics.prometheus_config().middleware,
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
