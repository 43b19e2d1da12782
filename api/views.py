"""What every controller shares: model and product lookup, and turning results into responses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import MediaType, Response
from litestar.datastructures import ResponseHeader, UploadFile
from litestar.openapi import ResponseSpec

from api import cache, metrics
from api.errors import ApiError
from api.schemas import ErrorBody, Parameters, Product, Recommendation, Timings
from api.services import Services
from lookalike.ids import parse_product_id
from recommend.pipeline import Outcome, Params, Ranked
from store.protocol import VectorStore


def errors(*codes: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the error statuses a route can answer."""
    return {c: ResponseSpec(ErrorBody, description="error: detail says what to do") for c in codes}


CACHE_HEADERS = [
    ResponseHeader(
        name=cache.HEADER,
        description="hit: served from the response cache; miss: computed now; off: no cache",
        documentation_only=True,
    )
]


def answer_spec(kind: type[msgspec.Struct], *codes: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries of a cached route: its 200 body (sent pre-encoded) and its errors."""
    return {
        200: ResponseSpec(kind, description="the ranked products, every score"),
        **errors(*codes),
    }


async def cached_answer(
    services: Services,
    route: str,
    key: str | None,
    compute: Callable[[], Awaitable[msgspec.Struct]],
) -> Response[bytes]:
    """The cached body for `key`, else the answer `compute()` awaits, encoded and kept.

    `key` None: not cacheable. Errors (ApiError) are never cached. The `X-Cache` header says
    which it was.
    """
    store = services.cache if key is not None else None
    if store is not None and key is not None:
        body = await store.get(key)
        if body is not None:
            metrics.CACHE_REQUESTS.labels(route, "hit").inc()
            return _json(body, "hit")
    answer = await compute()
    body = msgspec.json.encode(answer)
    if store is not None and key is not None:
        metrics.CACHE_REQUESTS.labels(route, "miss").inc()
        await store.put(key, body)
    return _json(body, "miss" if store is not None else "off")


def _json(body: bytes, cached: str) -> Response[bytes]:
    return Response(body, media_type=MediaType.JSON, headers={cache.HEADER: cached})


def model_store(services: Services, model: str, allowed: tuple[str, ...]) -> VectorStore:
    """The open collection of `model` if it is one of `allowed`, else a 400 listing them."""
    valid = [m for m in allowed if m in services.available_models()]
    store = services.store(model) if model in valid else None
    if store is None:
        raise ApiError(400, f"unknown model {model!r}; valid models: {', '.join(valid)}", "model")
    return store


def product_id_or_404(product_id: str) -> int:
    """The catalogue id in a path or query, or a 404 quoting (the start of) what was sent."""
    parsed = parse_product_id(product_id)
    if parsed is None:
        raise not_found(product_id)
    return parsed


def not_found(product_id: object) -> ApiError:
    """404 for an id the catalogue does not hold."""
    shown = str(product_id)
    shown = shown if len(shown) <= 40 else shown[:40] + "…"
    return ApiError(404, f"no product with id {shown!r}; find ids with GET /products?q=")


def product_or_404(services: Services, product_id: str) -> Product:
    """The catalogue product named in a path or query, or a 404."""
    product = services.product(product_id_or_404(product_id))
    if product is None:
        raise not_found(product_id)
    return product


def pipeline_params(top_k: int, lambda_: float, candidates: int, **rest: Any) -> Params:
    """Pipeline parameters, checked against each other."""
    if candidates < top_k:
        raise ApiError(400, f"candidates ({candidates}) must be ≥ top_k ({top_k})", "candidates")
    return Params(top_k=top_k, lambda_diversity=lambda_, candidates=candidates, **rest)


def answer_fields(
    services: Services, model: str, params: Params, outcome: Outcome, route: str
) -> dict[str, Any]:
    """What every list of similar products says: the results with their scores, the
    parameters, the list's diversity and the stage timings (also recorded in the metrics)."""
    return {
        "model": model,
        "top_k": params.top_k,
        "results": [recommendation(r, services) for r in outcome.results],
        "parameters": parameters(model, params),
        "intra_list_diversity": round(outcome.diversity, 6),
        "timings": timings(outcome, route),
    }


def parameters(model: str, params: Params) -> Parameters:
    """The parameters a result list was computed with."""
    return Parameters(
        model=model,
        top_k=params.top_k,
        lambda_diversity=params.lambda_diversity,
        candidates=params.candidates,
        category_mode=params.category_mode,
        w_sim=params.w_sim,
        w_cat=params.w_cat,
        filters=dict(params.filters),
    )


def recommendation(item: Ranked, services: Services) -> Recommendation:
    """One ranked product with every score that placed it."""
    product = services.product(item.id)
    return Recommendation(
        product_id=str(item.id),
        score=round(item.score, 6),
        ann_score=round(item.ann_score, 6),
        category_similarity=round(item.category_similarity, 6),
        category_match=item.category_match,
        mmr_rank=item.mmr_rank,
        name=product.name if product else item.payload.get("name"),
        articleType=item.payload.get("articleType"),
        baseColour=item.payload.get("baseColour"),
        gender=item.payload.get("gender"),
        image_url=product.image_url if product else None,
    )


def timings(outcome: Outcome, route: str) -> Timings:
    """Where the time of one request went (also recorded in the metrics)."""
    metrics.observe_stages(
        route, recall=outcome.recall_ms, mmr=outcome.mmr_ms, rerank=outcome.rerank_ms
    )
    return Timings(
        recall_ms=round(outcome.recall_ms, 3),
        mmr_ms=round(outcome.mmr_ms, 3),
        rerank_ms=round(outcome.rerank_ms, 3),
        total_ms=round(outcome.total_ms, 3),
    )


async def upload_bytes(upload: object, field: str = "image") -> bytes:
    """The bytes of a multipart file field, or a 400 saying the field is missing."""
    if not isinstance(upload, UploadFile):
        raise ApiError(400, f"a multipart request needs a file field named {field!r}", field)
    return await upload.read()
