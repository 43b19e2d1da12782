"""What every controller shares: model and product lookup, and turning results into responses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import msgspec
import numpy as np
from litestar.datastructures import ResponseHeader, UploadFile
from litestar.openapi import ResponseSpec
from litestar.params import Parameter

from api import cache, metrics
from api.errors import ApiError
from api.schemas import (
    USER_ID_PATTERN,
    Contribution,
    ErrorBody,
    Parameters,
    Product,
    Recommendation,
    Timings,
)
from api.services import Services
from lookalike.ids import parse_product_id
from recommend.pipeline import Outcome, Params, Ranked, intra_list_diversity
from store.protocol import VectorStore

UserId = Annotated[
    str | None,
    Parameter(
        description="the shopper: 1–128 characters of A-Z a-z 0-9 . _ : - (assigns experiments)",
        pattern=USER_ID_PATTERN,
    ),
]


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


def answer_spec(
    kind: type[msgspec.Struct], *codes: int, status_code: int = 200
) -> dict[int, ResponseSpec]:
    """OpenAPI entries of a cached route: its body (sent pre-encoded) and its errors."""
    return {
        status_code: ResponseSpec(kind, description="the ranked products, every score"),
        **errors(*codes),
    }


async def cached_body(
    services: Services,
    route: str,
    key: str | None,
    compute: Callable[[], Awaitable[msgspec.Struct]],
) -> tuple[bytes, str]:
    """The cached body for `key`, else the answer `compute()` awaits, encoded and kept; and how
    the cache answered (hit | miss | off: the `X-Cache` header).

    `key` None: not cacheable. Errors (ApiError) are never cached.
    """
    store = services.cache if key is not None else None
    if store is not None and key is not None:
        body = await store.get(key)
        if body is not None:
            metrics.CACHE_REQUESTS.labels(route, "hit").inc()
            return body, "hit"
    answer = await compute()
    body = msgspec.json.encode(answer)
    if store is not None and key is not None:
        metrics.CACHE_REQUESTS.labels(route, "miss").inc()
        await store.put(key, body)
    return body, "miss" if store is not None else "off"


def list_diversity(services: Services, model: str, product_ids: list[str]) -> float:
    """Intra-list diversity of catalogue products in a model's space (those it holds)."""
    store = services.store(model)
    ids = [i for p in product_ids if (i := parse_product_id(p)) is not None]
    found = store.vectors(ids) if store is not None else {}
    vectors = [found[i] for i in ids if i in found]
    return intra_list_diversity(np.stack(vectors)) if vectors else 0.0


def json_value(raw: bytes | str, what: str, field: str | None = None) -> Any:
    """A JSON request body (or form field) decoded, or a 400 saying why not: not JSON, or
    nested deeper than the decoder allows (~1,000 levels; no product or event needs 3)."""
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise ApiError(400, f"{what} is not valid JSON: {exc}", field) from exc
    except RecursionError as exc:
        raise ApiError(400, f"{what} is nested too deeply to be a request", field) from exc


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
    params = Params(top_k=top_k, lambda_diversity=lambda_, candidates=candidates, **rest)
    check_params(params)
    return params


def check_params(params: Params) -> None:
    """A 400 for parameters that contradict each other (also after an arm's overrides)."""
    if params.candidates < params.top_k:
        raise ApiError(
            400,
            f"candidates ({params.candidates}) must be ≥ top_k ({params.top_k})",
            "candidates",
        )


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
        ranker=params.ranker,
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
        recall_rank=item.recall_rank,
        ranker_score=None if item.ranker_score is None else round(item.ranker_score, 6),
        contributions=[Contribution(feature=f, value=v) for f, v in item.contributions] or None,
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
