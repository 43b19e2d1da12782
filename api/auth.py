"""Who may write: a Bearer key matching LOOKALIKE_API_KEY, compared in constant time."""

from __future__ import annotations

import hmac
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from api.errors import ApiError

API_KEY_STATE = "api_key"
ENABLE_HINT = "set LOOKALIKE_API_KEY on the server and send it as 'Authorization: Bearer <key>'"


def require_write_key(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A Litestar guard letting a write through only with `Authorization: Bearer <key>`, the
    key being the app state's `api_key` (from LOOKALIKE_API_KEY); 403 when none is set."""
    key: str | None = connection.app.state.get(API_KEY_STATE)
    if not key:
        raise ApiError(403, f"writes are disabled on this server: {ENABLE_HINT}")
    scheme, _space, sent = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(sent.strip().encode(), key.encode()):
        raise ApiError(
            401,
            "missing or wrong API key: send 'Authorization: Bearer <LOOKALIKE_API_KEY>'",
            headers={"WWW-Authenticate": 'Bearer realm="lookalike"'},
        )
