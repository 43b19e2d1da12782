"""Models, liveness, readiness and the docs redirect."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.response import Redirect

from api.schemas import Health, ModelInfo
from api.services import DESCRIPTIONS, Services
from api.views import errors, model_store


class SystemController(Controller):
    """What the service serves and whether it is ready."""

    @get("/models", sync_to_thread=True, responses=errors(503))  # asks the store
    def list_models(self, services: NamedDependency[Services]) -> list[ModelInfo]:
        """Served models with collection size, dimension and weights source."""
        models = []
        for name in services.available_models():
            info = model_store(services, name, (name,)).info()
            weights = services.manifests.get(name, {}).get("weights", {})
            models.append(
                ModelInfo(
                    name=name,
                    description=DESCRIPTIONS[name],
                    count=info.count,
                    dim=info.dim,
                    weights=str(weights.get("source", "unknown")),
                )
            )
        return models

    @get("/health", sync_to_thread=False)
    def health(self) -> Health:
        """Liveness: the process answers."""
        return Health(status="ok")

    @get("/ready", responses={503: ResponseSpec(Health)})
    async def ready(self, services: NamedDependency[Services]) -> Response[Health]:
        """Readiness: the store answers and every collection holds points; also says how the
        response cache is (a cache outage means uncached answers, not unreadiness)."""
        detail = await services.in_thread(_collections, services)
        ok = bool(detail) and all(
            v.endswith("points") and not v.startswith("0 ") for v in detail.values()
        )
        if not detail:
            detail["collections"] = "none loaded: run `lookalike index`"
        cache = services.cache
        detail["cache"] = "off" if cache is None else f"{cache.kind}: {await cache.check()}"
        return Response(
            Health(status="ok" if ok else "unavailable", detail=detail),
            status_code=200 if ok else 503,
        )

    @get("/docs", include_in_schema=False)
    async def docs(self) -> Redirect:
        """Interactive API documentation (Swagger UI)."""
        return Redirect("/schema/swagger")


def _collections(services: Services) -> dict[str, str]:
    """Points per served collection, or why it cannot be counted."""
    detail: dict[str, str] = {}
    for name in services.available_models():
        try:
            detail[name] = f"{model_store(services, name, (name,)).count()} points"
        except Exception as exc:  # any failure means not ready; report it, don't raise
            detail[name] = f"unavailable: {exc}"
    return detail
