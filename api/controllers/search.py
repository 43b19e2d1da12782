"""`POST /search`: similar products for a text or an uploaded photo."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency

from api.errors import ApiError
from api.openapi import SearchOperation
from api.views import CACHE_HEADERS, answer_spec, json_value, served_response, upload_bytes
from catalogue.records import MAX_UPLOAD
from recommend.pipeline import Params
from service.learning import ListRequest, ShopperLoop
from service.recommender import Recommender, SearchQuery, Served, check_params, search_params
from service.schemas import SearchOptions, SearchRequest, SearchServed


def options_of(raw: dict[str, Any], kind: type[SearchOptions]) -> SearchOptions:
    """Search options from form fields or JSON, or a 400 naming the field at fault."""
    try:
        return msgspec.convert(raw, kind, strict=False)
    except msgspec.ValidationError as exc:
        field = str(exc).rsplit("$.", 1)[-1].rstrip("`") if "$." in str(exc) else None
        raise ApiError(400, f"invalid search request: {exc}", field) from exc


async def search_query(request: Request[Any, Any, Any]) -> SearchQuery:
    """The search a request asks for: a JSON text, or a multipart photo."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("image")
        data = await upload_bytes(upload)
        assert isinstance(upload, UploadFile)
        options = options_of({k: v for k, v in form.items() if k != "image"}, SearchOptions)
        return SearchQuery.of_photo(data, upload.filename, options)
    if content_type.startswith("application/json"):
        raw = json_value(await request.body(), "body")
        if not isinstance(raw, dict):
            raise ApiError(400, "body must be a JSON object with a 'text' field", "text")
        text = options_of(raw, SearchRequest)
        assert isinstance(text, SearchRequest)
        return SearchQuery.of_text(text)
    raise ApiError(
        415, "send JSON {'text': ...} or a multipart form with an 'image' file", "content-type"
    )


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
        recommender: NamedDependency[Recommender],
        loop: NamedDependency[ShopperLoop],
        request: Request[Any, Any, Any],
    ) -> Response[bytes]:
        """Similar products for a text (JSON) or an uploaded photo (multipart); nothing excluded.

        Answers are cached (header `X-Cache`) until the catalogue or the collection changes.
        Every list gets a `ranking_id` (for `POST /events`) and is logged with `user_id`.
        """
        query = await search_query(request)
        options = query.options

        async def compute(model: str, params: Params) -> Served:
            return await recommender.search(query)

        return served_response(
            await loop.serve(
                ListRequest(
                    "search",
                    query.label,
                    options.user_id,
                    options.model,
                    search_params(options, recommender.filters),
                    compute,
                    check_params,
                )
            )
        )
