"""`POST /search`: similar products for a text or an uploaded photo."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency

from api.errors import ApiError
from api.openapi import SearchOperation
from api.schemas import SearchOptions, SearchRequest, SearchResponse
from api.services import Services
from api.views import (
    errors,
    model_store,
    parameters,
    pipeline_params,
    recommendation,
    timings,
    upload_bytes,
)
from catalogue.records import MAX_UPLOAD, InvalidProduct, check_upload
from embed.registry import models_answering
from recommend.pipeline import recommend
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


async def _search_query(
    services: Services, request: Request[Any, Any, Any]
) -> tuple[str, SearchOptions, Vector]:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("image")
        image = decoded_upload(await upload_bytes(upload))
        fields = {k: v for k, v in form.items() if k != "image"}
        options = options_of(fields, SearchOptions)
        model_store(services, options.model, IMAGE_MODELS)
        vectors = await services.on_model_thread(
            services.encoders.encode_images, options.model, [image]
        )
        assert isinstance(upload, UploadFile)
        return f"image:{upload.filename}", options, vectors[0]
    if content_type.startswith("application/json"):
        try:
            raw = msgspec.json.decode(await request.body())
        except msgspec.DecodeError as exc:
            raise ApiError(400, f"body is not valid JSON: {exc}") from exc
        if not isinstance(raw, dict):
            raise ApiError(400, "body must be a JSON object with a 'text' field", "text")
        request_ = options_of(raw, SearchRequest)
        assert isinstance(request_, SearchRequest)
        model_store(services, request_.model, TEXT_MODELS)
        vectors = await services.on_model_thread(
            services.encoders.encode_query_texts, request_.model, [request_.text]
        )
        return request_.text, request_, vectors[0]
    raise ApiError(
        415, "send JSON {'text': ...} or a multipart form with an 'image' file", "content-type"
    )


class SearchController(Controller):
    """Search by text or photo."""

    path = "/search"

    @post(
        responses=errors(400, 413, 415, 503),
        request_max_body_size=MAX_UPLOAD + 1024 * 1024,
        operation_class=SearchOperation,
        status_code=200,
    )
    async def search(
        self, services: NamedDependency[Services], request: Request[Any, Any, Any]
    ) -> SearchResponse:
        """Similar products for a text (JSON) or an uploaded photo (multipart); nothing excluded."""
        label, options, vector = await _search_query(services, request)
        store = model_store(services, options.model, (options.model,))
        params = pipeline_params(
            options.top_k, options.lambda_diversity, options.candidates, category_mode="off"
        )
        outcome = recommend(store, vector, params, services.categories, payload_of=services.payload)
        return SearchResponse(
            query=label,
            model=options.model,
            top_k=options.top_k,
            results=[recommendation(r, services) for r in outcome.results],
            parameters=parameters(options.model, params),
            intra_list_diversity=round(outcome.diversity, 6),
            timings=timings(outcome),
        )
