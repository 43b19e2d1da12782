"""`GET /metrics`: Prometheus exposition of every process of this server."""

from __future__ import annotations

import os

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)

from service import metrics
from service.products import Products


class MetricsController(Controller):
    """Requests by route and status, latencies per route and pipeline stage, cache, store."""

    @get("/metrics", include_in_schema=False)
    async def metrics(self, products: NamedDependency[Products]) -> Response[bytes]:
        """The metrics in Prometheus' text format."""
        metrics.CATALOGUE_VERSION.set(products.version)
        registry = REGISTRY
        if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
