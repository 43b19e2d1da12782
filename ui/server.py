"""The UI server: the Gradio page plus a proxy for product images, so the API may live elsewhere."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import uvicorn
from fastapi import FastAPI, Response

from ui.app import build_blocks
from ui.client import ApiError, LookalikeClient

STYLE = Path(__file__).with_name("style.css")
# System fonts only: the machine may be offline, and the page must not wait for a font CDN.
THEME = gr.themes.Soft(
    primary_hue="indigo",
    font=["ui-sans-serif", "system-ui", "sans-serif"],
    font_mono=["ui-monospace", "monospace"],
)


def create_app(api_url: str, events_key: str | None = None) -> FastAPI:
    """The UI as an ASGI app talking to the API at `api_url`; card clicks are reported with
    `events_key` (the server's LOOKALIKE_EVENTS_KEY) when it is set."""
    client = LookalikeClient(api_url, events_key=events_key)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, on_shutdown=[client.close])

    @app.get("/products/{product_id}/image")
    def product_image(product_id: str) -> Response:
        """The API's product image, relayed so the browser only ever talks to the UI."""
        try:
            content, media_type = client.image(product_id)
        except ApiError as exc:
            return Response(str(exc), status_code=exc.status_code or 502, media_type="text/plain")
        if not media_type.startswith("image/"):
            return Response("the API did not answer with an image", status_code=502)
        headers = {"Cache-Control": "public, max-age=86400"}
        return Response(content, media_type=media_type, headers=headers)

    return gr.mount_gradio_app(
        app,
        build_blocks(client),
        path="",
        footer_links=[],
        ssr_mode=False,
        pwa=False,
        mcp_server=False,
        enable_monitoring=False,
        theme=THEME,
        css_paths=[STYLE],
    )


def serve(host: str, port: int, api_url: str, events_key: str | None = None) -> None:
    """Serve the UI until interrupted."""
    uvicorn.run(create_app(api_url, events_key), host=host, port=port, log_level="warning")
