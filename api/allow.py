"""OPTIONS answers that list every method of a path.

Litestar's automatic OPTIONS handler may list only some methods when several handlers share a
path (as GET, PUT, PATCH and DELETE of /products/{id} do); this middleware rewrites `Allow` from
the application's route table.
"""

from __future__ import annotations

from litestar.types import ASGIApp, Message, Receive, Scope, Send


def allow_header_middleware(app: ASGIApp) -> ASGIApp:
    """Wrap `app` so an OPTIONS response's `Allow` names every method its path supports."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "OPTIONS":
            await app(scope, receive, send)
            return
        template = scope.get("path_template")
        methods = sorted(
            {m for r in scope["app"].routes if r.path_format == template for m in r.methods}
        )

        async def send_with_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and methods:
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
                message = {**message, "headers": [*kept, (b"allow", ", ".join(methods).encode())]}
            await send(message)

        await app(scope, receive, send_with_allow)

    return middleware
