"""`X-Request-ID`: taken from the request when it is sane, generated otherwise, echoed back."""

from __future__ import annotations

import re
import uuid

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "x-request-id"
# Client ids travel into logs and other services: short, printable, no separators that split.
SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id_of(raw: str | None) -> str:
    """The client's id if it is sane, else a new random one."""
    if raw is not None and SANE_ID.fullmatch(raw):
        return raw
    return uuid.uuid4().hex


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """Wrap `app` so every HTTP response carries the request's id."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        raw = headers.get(HEADER.encode())
        request_id = request_id_of(raw.decode("latin-1") if raw is not None else None)
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableScopeHeaders.from_message(message)[HEADER] = request_id
            await send(message)

        await app(scope, receive, send_with_id)

    return middleware
