"""`lookalike ui`: the Gradio front end, a thin client of the REST API."""

from __future__ import annotations

import argparse
import os

from core.settings import Settings

# Gradio reads these at import: no telemetry, no update checks, nothing fetched at start.
OFFLINE_ENV = {
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `ui` sub-command."""
    parser = subparsers.add_parser("ui", help="serve the merchandiser UI (talks to the API)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--api-url", help="base URL of the REST API (env LOOKALIKE_API_URL)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Serve the UI against the configured API until interrupted."""
    for name, value in OFFLINE_ENV.items():
        os.environ.setdefault(name, value)
    from ui.server import serve

    settings = Settings().override(api_url=args.api_url)
    print(f"UI on http://{args.host}:{args.port} — API {settings.api_url}", flush=True)
    serve(args.host, args.port, settings.api_url, settings.events_key)
    return 0
