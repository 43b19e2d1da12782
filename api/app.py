"""The Litestar application: typed handlers that call the recommendation pipeline."""

from __future__ import annotations

import io
from typing import Annotated, Any

import anyio.to_thread
import msgspec
from litestar import Litestar, Request, Response, get, post
from litestar.datastructures import CacheControlHeader, UploadFile
from litestar.di import NamedDependency, Provide
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.params import FromPath, Parameter
from litestar.response import Redirect
from PIL import Image

from api.errors import EXCEPTION_HANDLERS, ApiError
from api.ids import parse_product_id
from api.openapi import SearchOperation
from api.request_id import request_id_middleware
from api.schemas import (
    CategoryMode,
    ErrorBody,
    Health,
    ModelInfo,
    Parameters,
    Product,
    Recommendation,
    RecommendResponse,
    SearchOptions,
    SearchRequest,
    SearchResponse,
    Timings,
)
from api.services import DESCRIPTIONS, Services
from embed.registry import models_answering
from ingest.images import ImageRejected, open_checked
from recommend.pipeline import Outcome, Params, Ranked, recommend
from store.protocol import Vector, VectorStore

MAX_UPLOAD = 10 * 1024 * 1024
RECOMMEND_MODELS = models_answering("product")
IMAGE_MODELS = models_answering("photo")
TEXT_MODELS = models_answering("text")


def _errors(*codes: int) -> dict[int, ResponseSpec]:
    return {c: ResponseSpec(ErrorBody, description="error: detail says what to do") for c in codes}


def _store(
    services: NamedDependency[Services], model: str, allowed: tuple[str, ...]
) -> VectorStore:
    valid = [m for m in allowed if m in services.available_models()]
    store = services.store(model) if model in valid else None
    if store is None:
        raise ApiError(400, f"unknown model {model!r}; valid models: {', '.join(valid)}", "model")
    return store


def _product(services: Services, product_id: str) -> Product:
    parsed = parse_product_id(product_id)
    product = services.products.get(parsed) if parsed is not None else None
    if product is None:
        shown = product_id if len(product_id) <= 40 else product_id[:40] + "…"
        raise ApiError(404, f"no product with id {shown!r}; find ids with GET /products?q=")
    return product


def _params(top_k: int, lambda_: float, candidates: int, **rest: Any) -> Params:
    if candidates < top_k:
        raise ApiError(400, f"candidates ({candidates}) must be ≥ top_k ({top_k})", "candidates")
    return Params(top_k=top_k, lambda_diversity=lambda_, candidates=candidates, **rest)


def _parameters(model: str, params: Params) -> Parameters:
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


def _recommendation(item: Ranked, services: Services) -> Recommendation:
    product = services.products.get(item.id)
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


def _timings(outcome: Outcome) -> Timings:
    return Timings(
        recall_ms=round(outcome.recall_ms, 3),
        mmr_ms=round(outcome.mmr_ms, 3),
        rerank_ms=round(outcome.rerank_ms, 3),
        total_ms=round(outcome.total_ms, 3),
    )


Filter = Annotated[str | None, Parameter(description="exact payload match", max_length=100)]


@get("/recommend", sync_to_thread=False, responses=_errors(400, 404, 503))
def get_recommendations(
    services: NamedDependency[Services],
    product_id: Annotated[str, Parameter(description="catalogue id of the query product")],
    model: Annotated[str, Parameter(description="resnet | efficientnet | clip | hybrid")] = "clip",
    top_k: Annotated[int, Parameter(ge=1, le=100)] = 5,
    lambda_diversity: Annotated[float, Parameter(ge=0.0, le=1.0)] = 0.7,
    candidates: Annotated[int, Parameter(ge=1, le=1000)] = 50,
    category_mode: Annotated[CategoryMode, Parameter(description="soft | hard | off")] = "soft",
    w_sim: Annotated[float, Parameter(ge=0.0, le=1.0)] = 0.6,
    w_cat: Annotated[float, Parameter(ge=0.0, le=1.0)] = 0.4,
    gender: Filter = None,
    masterCategory: Filter = None,
    subCategory: Filter = None,
    articleType: Filter = None,
    baseColour: Filter = None,
    season: Filter = None,
    usage: Filter = None,
) -> RecommendResponse:
    """Products similar to one catalogue product: ANN recall → MMR → category re-rank."""
    store = _store(services, model, RECOMMEND_MODELS)
    query = _product(services, product_id)
    filters = {
        k: v
        for k, v in {
            "gender": gender,
            "masterCategory": masterCategory,
            "subCategory": subCategory,
            "articleType": articleType,
            "baseColour": baseColour,
            "season": season,
            "usage": usage,
        }.items()
        if v
    }
    params = _params(
        top_k,
        lambda_diversity,
        candidates,
        category_mode=category_mode,
        w_sim=w_sim,
        w_cat=w_cat,
        filters=filters,
    )
    qid = int(query.product_id)
    vector = store.vectors([qid]).get(qid)
    if vector is None:
        why = "it has no usable image" if not query.has_image else "it is not in the collection"
        raise ApiError(
            404,
            f"product {qid} has no {model} vector: {why}; find products like it by its "
            "text with POST /search (model clip_text)",
        )
    outcome = recommend(
        store,
        vector,
        params,
        services.categories,
        query.articleType,
        frozenset({qid}),
        services.payload,
    )
    return RecommendResponse(
        query_product_id=query.product_id,
        model=model,
        top_k=top_k,
        results=[_recommendation(r, services) for r in outcome.results],
        parameters=_parameters(model, params),
        query=query,
        intra_list_diversity=round(outcome.diversity, 6),
        timings=_timings(outcome),
    )


def _decode_upload(data: bytes) -> Image.Image:
    if len(data) > MAX_UPLOAD:
        raise ApiError(413, f"image is {len(data):,} bytes; the limit is {MAX_UPLOAD:,}", "image")
    try:
        return open_checked(io.BytesIO(data))
    except ImageRejected as exc:
        if exc.kind in ("too_large", "too_small"):
            raise ApiError(400, f"unusable image: {exc}", "image") from exc
        raise ApiError(
            415, f"not an image we can read ({exc}); send a JPEG or PNG", "image"
        ) from exc


def _options(raw: dict[str, Any], kind: type[SearchOptions]) -> SearchOptions:
    try:
        return msgspec.convert(raw, kind, strict=False)
    except msgspec.ValidationError as exc:
        field = str(exc).rsplit("$.", 1)[-1].rstrip("`") if "$." in str(exc) else None
        raise ApiError(400, f"invalid search request: {exc}", field) from exc


async def _search_query(
    services: NamedDependency[Services], request: Request[Any, Any, Any]
) -> tuple[str, SearchOptions, Vector]:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("image")
        if not isinstance(upload, UploadFile):
            raise ApiError(400, "a multipart search needs a file field named 'image'", "image")
        image = _decode_upload(await upload.read())
        fields = {k: v for k, v in form.items() if k != "image"}
        options = _options(fields, SearchOptions)
        _store(services, options.model, IMAGE_MODELS)
        vectors = await anyio.to_thread.run_sync(
            services.encoders.encode_images, options.model, [image]
        )
        return f"image:{upload.filename}", options, vectors[0]
    if content_type.startswith("application/json"):
        try:
            raw = msgspec.json.decode(await request.body())
        except msgspec.DecodeError as exc:
            raise ApiError(400, f"body is not valid JSON: {exc}") from exc
        if not isinstance(raw, dict):
            raise ApiError(400, "body must be a JSON object with a 'text' field", "text")
        request_ = _options(raw, SearchRequest)
        assert isinstance(request_, SearchRequest)
        _store(services, request_.model, TEXT_MODELS)
        vectors = await anyio.to_thread.run_sync(
            services.encoders.encode_query_texts, request_.model, [request_.text]
        )
        return request_.text, request_, vectors[0]
    raise ApiError(
        415, "send JSON {'text': ...} or a multipart form with an 'image' file", "content-type"
    )


@post(
    "/search",
    responses=_errors(400, 413, 415, 503),
    request_max_body_size=MAX_UPLOAD + 1024 * 1024,
    operation_class=SearchOperation,
    status_code=200,
)
async def search(
    services: NamedDependency[Services], request: Request[Any, Any, Any]
) -> SearchResponse:
    """Similar products for a text (JSON) or an uploaded photo (multipart); nothing excluded."""
    label, options, vector = await _search_query(services, request)
    store = _store(services, options.model, (options.model,))
    params = _params(
        options.top_k, options.lambda_diversity, options.candidates, category_mode="off"
    )
    outcome = recommend(store, vector, params, services.categories, payload_of=services.payload)
    return SearchResponse(
        query=label,
        model=options.model,
        top_k=options.top_k,
        results=[_recommendation(r, services) for r in outcome.results],
        parameters=_parameters(options.model, params),
        intra_list_diversity=round(outcome.diversity, 6),
        timings=_timings(outcome),
    )


@get("/products", sync_to_thread=False, responses=_errors(400))
def find_products(
    services: NamedDependency[Services],
    q: Annotated[str, Parameter(description="words of the product name", max_length=200)] = "",
    limit: Annotated[int, Parameter(ge=1, le=100)] = 20,
) -> list[Product]:
    """Products whose name contains every word of `q` (for pickers)."""
    return services.find(q, limit)


@get("/products/random", sync_to_thread=False)
def random_product(services: NamedDependency[Services]) -> Product:
    """A random product with an image."""
    return services.random_product()


@get("/products/{product_id:str}", sync_to_thread=False, responses=_errors(404))
def get_product(services: NamedDependency[Services], product_id: FromPath[str]) -> Product:
    """One catalogue product."""
    return _product(services, product_id)


@get(
    "/products/{product_id:str}/image",
    sync_to_thread=False,
    media_type="image/png",
    responses=_errors(404),
    cache_control=CacheControlHeader(max_age=86_400, public=True),
)
def get_product_image(
    services: NamedDependency[Services], product_id: FromPath[str]
) -> Response[bytes]:
    """The normalised 80×80 product image (PNG)."""
    product = _product(services, product_id)
    if not product.has_image:
        raise ApiError(404, f"product {product.product_id} has no usable image")
    return Response(
        services.image_path(int(product.product_id)).read_bytes(),
        media_type="image/png",
        headers={"ETag": f'"{product.product_id}"'},
    )


@get("/models", sync_to_thread=False, responses=_errors(503))
def list_models(services: NamedDependency[Services]) -> list[ModelInfo]:
    """Served models with collection size, dimension and weights source."""
    models = []
    for name in services.available_models():
        info = _store(services, name, (name,)).info()
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
def health() -> Health:
    """Liveness: the process answers."""
    return Health(status="ok")


@get("/ready", sync_to_thread=False, responses={503: ResponseSpec(Health)})
def ready(services: NamedDependency[Services]) -> Response[Health]:
    """Readiness: the store answers and every collection holds points."""
    detail: dict[str, str] = {}
    for name in services.available_models():
        try:
            detail[name] = f"{_store(services, name, (name,)).count()} points"
        except Exception as exc:  # any failure means not ready; report it, don't raise
            detail[name] = f"unavailable: {exc}"
    ok = bool(detail) and all(
        v.endswith("points") and not v.startswith("0 ") for v in detail.values()
    )
    if not detail:
        detail["collections"] = "none loaded: run `lookalike index`"
    return Response(
        Health(status="ok" if ok else "unavailable", detail=detail), status_code=200 if ok else 503
    )


@get("/docs", include_in_schema=False)
async def docs() -> Redirect:
    """Interactive API documentation (Swagger UI)."""
    return Redirect("/schema/swagger")


def create_app(services: Services) -> Litestar:
    """The API over loaded services; OpenAPI at /schema, interactive docs at /docs."""
    return Litestar(
        route_handlers=[
            get_recommendations,
            search,
            find_products,
            random_product,
            get_product,
            get_product_image,
            list_models,
            health,
            ready,
            docs,
        ],
        dependencies={"services": Provide(lambda: services, use_cache=True, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[request_id_middleware],
        on_shutdown=[services.close],
        openapi_config=OpenAPIConfig(
            title="Lookalike",
            version="0.1.0",
            description="Similar-product recommendations, explained result by result.",
            path="/schema",
            render_plugins=[ScalarRenderPlugin(path="/"), SwaggerRenderPlugin(path="/swagger")],
        ),
    )
