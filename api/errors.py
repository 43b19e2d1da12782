"""Every error leaves the API as an `ErrorBody` with the right status; never a bare 500."""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException

from core.errors import LookalikeError
from service import metrics
from service.errors import RequestError
from service.schemas import ErrorBody
from store.errors import InvalidFilterError, QdrantUnreachableError

log = logging.getLogger("lookalike.api")
RETRY_AFTER_S = 5


class ApiError(HTTPException):
    """An HTTP error with a message for people and, when one parameter is at fault, its name."""

    def __init__(
        self,
        status_code: int,
        detail: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status_code=status_code, detail=detail, headers=headers)
        self.field = field


def _body(status: int, detail: str, field: str | None = None, **headers: str) -> Response[Any]:
    return Response(
        ErrorBody(status_code=status, detail=detail, field=field),
        status_code=status,
        media_type=MediaType.JSON,
        headers=headers,
    )


def _validation_field(exc: ValidationException) -> str | None:
    extra = exc.extra
    if isinstance(extra, list) and extra and isinstance(extra[0], dict):
        key = extra[0].get("key")
        return str(key) if key is not None else None
    missing = re.search(r"parameter '(\w+)'", str(exc.detail))
    return missing.group(1) if missing else None


def _validation_message(exc: ValidationException) -> str:
    extra = exc.extra
    if isinstance(extra, list) and extra and isinstance(extra[0], dict):
        return f"{extra[0].get('key')}: {extra[0].get('message')}"
    return str(exc.detail)


def handle_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Litestar's own errors (validation, 404 routes, 405, 413) and ours, in one shape."""
    if isinstance(exc, ApiError):
        return _body(exc.status_code, exc.detail, exc.field, **(exc.headers or {}))
    if isinstance(exc, ValidationException):
        return _body(400, _validation_message(exc), _validation_field(exc))
    if exc.status_code == 429:  # Litestar's rate limit: say when to come back
        headers = exc.headers or {}
        retry = headers.get("RateLimit-Reset", "1")
        detail = f"too many writes or uploads from this client; retry in {retry} s"
        return _body(429, detail, **{**headers, "Retry-After": retry})
    return _body(exc.status_code, exc.detail, **(exc.headers or {}))


def handle_refused(request: Request[Any, Any, Any], exc: RequestError) -> Response[Any]:
    """What the services refused, with the status and field they gave."""
    return _body(exc.status, exc.detail, exc.field)


def handle_store_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The vector store is down: 503 with Retry-After; the next request tries again."""
    metrics.STORE_ERRORS.inc()
    return _body(
        503,
        f"vector store unavailable: {exc}. Retry shortly; check that Qdrant is running.",
        **{"Retry-After": str(RETRY_AFTER_S)},
    )


def handle_bad_filter(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A filter the store cannot apply: the client's fault, said plainly."""
    return _body(400, str(exc))


def handle_not_ready(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The server is missing something it needs (weights, files): say what, and how to fix it."""
    return _body(503, f"service not ready: {exc}", **{"Retry-After": str(RETRY_AFTER_S)})


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A bug: logged with its traceback, answered with a plain 500 body (never a stack trace)."""
    log.exception("unexpected error on %s", request.url.path)
    return _body(500, f"internal error ({type(exc).__name__}); the server log has details")


EXCEPTION_HANDLERS: Any = {
    HTTPException: handle_http,
    RequestError: handle_refused,
    QdrantUnreachableError: handle_store_unavailable,
    InvalidFilterError: handle_bad_filter,
    LookalikeError: handle_not_ready,
    Exception: handle_unexpected,
}
