"""`POST /search`: similar products for a text or an uploaded photo."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec
import numpy as np
from litestar import Controller, Request, Response, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency

from api import metrics
from api.cache import cache_key
from api.errors import ApiError
from api.loop import ListRequest, ShopperLoop
from api.openapi import SearchOperation
from api.schemas import SearchOptions, SearchRequest, SearchResponse, SearchServed
from api.services import Services
from api.views import (
    CACHE_HEADERS,
    answer_fields,
    answer_spec,
    cached_body,
    check_params,
    json_value,
    model_store,
    pipeline_params,
    upload_bytes,
)
from catalogue.records import MAX_UPLOAD, InvalidProduct, check_upload
from embed.registry import models_answering
from embed.text import CLIP_QUERY_EXPANSION
from recommend.pipeline import Params, recommend
from store.protocol import Vector

IMAGE_MODELS = models_answering("photo")
TEXT_MODELS = models_answering("text")


def options_of(raw: dict[str, Any], kind: type[SearchOptions]) -> SearchOptions:
    """Search options from form fields or JSON, or a 400 naming the field at fault."""
    try:
        return msgspec.convert(raw, kind, strict=False)
    except msgspec.ValidationError as exc:
        field = str(exc).rsplit("$.", 1)[-1].rstrip("`") if "$." in str(exc) else None
        raise ApiError(400, f"invalid search request: {exc}", field) from exc


def decoded_upload(data: bytes) -> Any:
    """An uploaded image decoded with ingest's checks (413/400/415 naming the reason)."""
    try:
        return check_upload(data)
    except InvalidProduct as exc:
        raise ApiError(exc.status, str(exc), exc.field) from exc


@dataclass(frozen=True)
class SearchQuery:
    """A parsed search request: what it shows as `query`, its options, what identifies its
    input (the text, or the photo's sha256) and how to turn it into a vector."""

    label: str
    options: SearchOptions
    identity: str
    encode: Callable[[], Vector]  # blocking model work: runs on the model thread
    expand: bool = False  # a text to CLIP's images: moved to its nearest product texts first


async def _search_query(services: Services, request: Request[Any, Any, Any]) -> SearchQuery:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("image")
        data = await upload_bytes(upload)
        assert isinstance(upload, UploadFile)
        options = options_of({k: v for k, v in form.items() if k != "image"}, SearchOptions)
        model_store(services, options.model, IMAGE_MODELS)

        def encode_photo() -> Vector:
            image = decoded_upload(data)
            return services.encoders.encode_images(options.model, [image])[0]

        digest = hashlib.sha256(data).hexdigest()
        return SearchQuery(f"image:{upload.filename}", options, digest, encode_photo)
    if content_type.startswith("application/json"):
        raw = json_value(await request.body(), "body")
        if not isinstance(raw, dict):
            raise ApiError(400, "body must be a JSON object with a 'text' field", "text")
        text_request = options_of(raw, SearchRequest)
        assert isinstance(text_request, SearchRequest)
        model_store(services, text_request.model, TEXT_MODELS)
        text = text_request.text

        def encode_text() -> Vector:
            return services.encoders.encode_query_texts(text_request.model, [text])[0]

        expand = text_request.model == "clip" and CLIP_QUERY_EXPANSION is not None
        return SearchQuery(text, text_request, text, encode_text, expand)
    raise ApiError(
        415, "send JSON {'text': ...} or a multipart form with an 'image' file", "content-type"
    )


def _search(
    services: Services, query: SearchQuery, params: Params, vector: Vector
) -> SearchResponse:
    """Similar products of a query vector (blocking: `Services.store_work` runs it)."""
    model = query.options.model
    store = model_store(services, model, (model,))
    if query.expand:
        vector = _expanded(services, vector)
    outcome = recommend(store, vector, params, services.categories, payload_of=services.payload)
    return SearchResponse(
        query=query.label, **answer_fields(services, model, params, outcome, "search")
    )


def _expanded(services: Services, vector: Vector) -> Vector:
    """A text query to CLIP's images moved to its nearest product texts (`CLIP_QUERY_EXPANSION`);
    as it is when no `clip_text` collection is indexed."""
    texts = services.store("clip_text")
    if texts is None or CLIP_QUERY_EXPANSION is None:
        return vector
    hits = texts.search(vector, CLIP_QUERY_EXPANSION.neighbours, with_payload=False)
    found = texts.vectors([hit.id for hit in hits])
    nearest = [found[hit.id] for hit in hits if hit.id in found]
    if not nearest:
        return vector
    return CLIP_QUERY_EXPANSION.apply(vector[None], np.stack(nearest)[None])[0]


class SearchController(Controller):
    """Search by text or photo."""

    path = "/search"

    @post(
        responses=answer_spec(SearchServed, 400, 413, 415, 429, 503),
        response_headers=CACHE_HEADERS,
        request_max_body_size=MAX_UPLOAD + 1024 * 1024,
        operation_class=SearchOperation,
        status_code=200,
    )
    async def search(
        self,
        services: NamedDependency[Services],
        loop: NamedDependency[ShopperLoop],
        request: Request[Any, Any, Any],
    ) -> Response[bytes]:
        """Similar products for a text (JSON) or an uploaded photo (multipart); nothing excluded.

        Answers are cached (header `X-Cache`) until the catalogue or the collection changes.
        Every list gets a `ranking_id` (for `POST /events`) and is logged with `user_id`.
        """
        query = await _search_query(services, request)
        options = query.options
        params = pipeline_params(
            options.top_k, options.lambda_diversity, options.candidates, category_mode="off"
        )

        async def compute(model: str, params: Params) -> tuple[bytes, str]:
            scope: tuple[object, ...] = services.answer_scope(model)
            if query.expand:  # the answer also depends on the product texts' collection
                scope += services.answer_scope("clip_text")
            key = cache_key("search", model, query.label, query.identity, params, scope)

            async def answer() -> SearchResponse:
                started = time.perf_counter()
                vector = await services.on_model_thread(query.encode)
                metrics.observe_stages("search", encode=(time.perf_counter() - started) * 1e3)
                return await services.store_work(_search, services, query, params, vector)

            return await cached_body(services, "search", key, answer)

        return await loop.serve(
            ListRequest(
                "search", query.label, options.user_id, options.model, params, compute, check_params
            )
        )
