"""What every controller shares: OpenAPI entries, the served-list response, upload reading."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import MediaType, Response
from litestar.datastructures import ResponseHeader, UploadFile
from litestar.openapi import ResponseSpec
from litestar.params import Parameter

from api.errors import RETRY_AFTER_S, ApiError
from service import cache
from service.recommender import Served
from service.schemas import USER_ID_PATTERN, ErrorBody

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


def answer_spec(kind: type[msgspec.Struct], *codes: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries of a cached route: its 200 body (sent pre-encoded) and its errors."""
    return {
        200: ResponseSpec(kind, description="the ranked products, every score"),
        **errors(*codes),
    }


def unavailable(exc: Exception, what: str) -> ApiError:
    """503 for a call the event store could not take: what happened, and to retry."""
    return ApiError(503, f"{exc}; {what}", headers={"Retry-After": str(RETRY_AFTER_S)})


def json_value(raw: bytes | str, what: str, field: str | None = None) -> Any:
    """A JSON request body (or form field) decoded, or a 400 saying why not: not JSON, or
    nested deeper than the decoder allows (~1,000 levels; no product or event needs 3)."""
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise ApiError(400, f"{what} is not valid JSON: {exc}", field) from exc
    except RecursionError as exc:
        raise ApiError(400, f"{what} is nested too deeply to be a request", field) from exc


def served_response(served: Served) -> Response[bytes]:
    """A served list as sent: its encoded body, the `X-Cache` header saying where it came from."""
    return Response(served.body, media_type=MediaType.JSON, headers={cache.HEADER: served.cache})


async def upload_bytes(upload: object, field: str = "image") -> bytes:
    """The bytes of a multipart file field, or a 400 saying the field is missing."""
    if not isinstance(upload, UploadFile):
        raise ApiError(400, f"a multipart request needs a file field named {field!r}", field)
    return await upload.read()
