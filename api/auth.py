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
    if not _bearer_matches(connection, key):
        raise ApiError(
            401,
            "missing or wrong API key: send 'Authorization: Bearer <LOOKALIKE_API_KEY>'",
            headers={"WWW-Authenticate": 'Bearer realm="lookalike"'},
        )


def _bearer_matches(connection: ASGIConnection[Any, Any, Any, Any], key: str) -> bool:
    scheme, _space, sent = connection.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), key.encode())


EVENTS_KEY_STATE = "events_key"


def require_events_key(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A guard for `POST /events`: when LOOKALIKE_EVENTS_KEY is set, a Bearer key matching it
    (a key of its own: storefronts send events from the browser, never the write key)."""
    key: str | None = connection.app.state.get(EVENTS_KEY_STATE)
    if key and not _bearer_matches(connection, key):
        raise ApiError(
            401,
            "missing or wrong events key: send 'Authorization: Bearer <LOOKALIKE_EVENTS_KEY>'",
            headers={"WWW-Authenticate": 'Bearer realm="lookalike-events"'},
        )
