"""`X-Request-ID` and the access log: every response carries the request's id (the client's
when it is sane, else a new one), and every request is logged as one JSON line with it."""

from __future__ import annotations

import logging
import re
import time
import uuid

import msgspec
from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "x-request-id"
# Client ids travel into logs and other services: short, printable, no separators that split.
SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
access_log = logging.getLogger("lookalike.access")


def request_id_of(raw: str | None) -> str:
    """The client's id if it is sane, else a new random one."""
    if raw is not None and SANE_ID.fullmatch(raw):
        return raw
    return uuid.uuid4().hex


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """Wrap `app` so every HTTP response carries the request's id and is access-logged."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope["headers"])
        raw = headers.get(HEADER.encode())
        request_id = request_id_of(raw.decode("latin-1") if raw is not None else None)
        scope.setdefault("state", {})["request_id"] = request_id
        response: dict[str, object] = {}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableScopeHeaders.from_message(message)
                response_headers[HEADER] = request_id
                response["status"] = message["status"]
                response["cache"] = response_headers.get("x-cache")
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                access_log.info(_line(scope, request_id, started, response))

    return middleware


def _line(scope: Scope, request_id: str, started: float, response: dict[str, object]) -> str:
    """One access-log record as a JSON object."""
    client = scope.get("client")
    record = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "request_id": request_id,
        "method": scope.get("method"),
        "path": scope.get("path"),
        "query": scope.get("query_string", b"").decode("latin-1")[:500],
        "status": response.get("status", 0),
        "ms": round((time.perf_counter() - started) * 1e3, 3),
        "cache": response.get("cache"),
        "client": client[0] if client else None,
    }
    return msgspec.json.encode(record).decode()
