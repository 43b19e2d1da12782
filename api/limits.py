"""Per-client rate limit on catalogue writes and photo uploads (429 with Retry-After)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, cast

from litestar import Request
from litestar.exceptions import TooManyRequestsException
from litestar.middleware.rate_limit import DurationUnit, RateLimitConfig
from litestar.types import ASGIApp, Receive, Scope, Send

from api.errors import handle_http
from core.errors import LookalikeError

UNITS = ("second", "minute", "hour", "day")
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def parse_limit(text: str) -> tuple[DurationUnit, int]:
    """'600/minute' → ('minute', 600); a LookalikeError naming the setting otherwise."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(second|minute|hour|day)\s*", text)
    if match is None or int(match.group(1)) < 1:
        raise LookalikeError(
            f"LOOKALIKE_WRITE_LIMIT={text!r} is not '<count>/<{'|'.join(UNITS)}>', e.g. 600/minute"
        )
    return cast(DurationUnit, match.group(2)), int(match.group(1))


async def is_write_or_upload(request: Request[Any, Any, Any]) -> bool:
    """Catalogue writes and multipart uploads count; reads and text searches do not.

    A coroutine on purpose: Litestar runs a plain function in a worker thread, which cost
    0.19 ms on every request."""
    if request.method not in WRITES:
        return False
    if request.url.path.startswith("/products"):
        return True
    return request.headers.get("content-type", "").startswith("multipart/")


def write_limit_middleware(text: str) -> Callable[[ASGIApp], ASGIApp]:
    """Litestar's rate limit (per client address, per process) on writes and uploads.

    Its 429 is raised in the middleware stack, where only the app's outermost exception handler
    would catch it and answer through the server's own `send`, past the request-id, metrics and
    access-log middleware; it is rendered here instead, through the `send` they wrapped."""
    limiter = RateLimitConfig(
        rate_limit=parse_limit(text), check_throttle_handler=is_write_or_upload
    ).middleware

    def wrap(app: ASGIApp) -> ASGIApp:
        limited = limiter(app)

        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            try:
                await limited(scope, receive, send)
            except TooManyRequestsException as exc:
                request: Request[Any, Any, Any] = Request(scope, receive)
                await handle_http(request, exc).to_asgi_response(None, request)(
                    scope, receive, send
                )

        return middleware

    return wrap
