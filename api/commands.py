"""`lookalike serve`: the REST API under uvicorn."""

from __future__ import annotations

import argparse

from lookalike.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `serve` sub-command."""
    parser = subparsers.add_parser("serve", help="serve the recommendation API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--backend", choices=("qdrant-embedded", "qdrant", "faiss"), help="env LOOKALIKE_BACKEND"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Load the services once, then serve until interrupted."""
    import uvicorn

    from api.app import create_app
    from api.services import Services

    settings = Settings().override(data_dir=args.data_dir, backend=args.backend)
    services = Services.load(settings)
    print(
        f"API on http://{args.host}:{args.port} (docs /docs) — backend {settings.backend}, "
        f"models {', '.join(services.stores) or 'none: run lookalike index'}",
        flush=True,
    )
    uvicorn.run(
        create_app(services), host=args.host, port=args.port, log_level="warning", access_log=False
    )
    return 0
