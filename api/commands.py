"""`lookalike serve`: the REST API under uvicorn, in one process or several."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from litestar import Litestar

from core.settings import OFF, Settings

ACCESS_LOG_ENV = "LOOKALIKE_ACCESS_LOG"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `serve` sub-command."""
    parser = subparsers.add_parser("serve", help="serve the recommendation API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--backend", choices=("qdrant-embedded", "qdrant", "faiss"), help="env LOOKALIKE_BACKEND"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="API processes (qdrant or faiss backends; the embedded engine allows one)",
    )
    parser.add_argument(
        "--cache", choices=("on", "off"), help="response cache (env LOOKALIKE_CACHE, default on)"
    )
    parser.add_argument(
        "--access-log",
        choices=("on", "off"),
        help=f"one JSON line per request on stdout (env {ACCESS_LOG_ENV}, default on)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted: load the services here, or in each of `--workers` processes."""
    import uvicorn

    if args.data_dir is not None:
        os.environ["LOOKALIKE_DATA"] = str(args.data_dir)
    for variable, value in (
        ("LOOKALIKE_BACKEND", args.backend),
        ("LOOKALIKE_CACHE", args.cache),
        (ACCESS_LOG_ENV, args.access_log),
    ):
        if value is not None:
            os.environ[variable] = value  # the workers read their settings from the environment
    settings = Settings()
    if args.workers < 1:
        print("--workers must be at least 1", file=sys.stderr)
        return 2
    if args.workers > 1 and settings.backend == "qdrant-embedded":
        print(
            "--workers > 1 needs a store several processes can open: the embedded Qdrant engine "
            "lets one process open a collection. Run a Qdrant server (`docker compose up -d "
            "qdrant`, then `lookalike index --backend qdrant`) and serve with --backend qdrant, "
            "or serve read-only FAISS indexes with --backend faiss.",
            file=sys.stderr,
        )
        return 2
    where = f"http://{args.host}:{args.port}"
    cache = "off" if not settings.cache else ("redis" if settings.redis_url else "memory")
    if args.workers > 1:
        check_startup(settings)  # uvicorn would restart a failing worker for ever
        print(f"API on {where} — {args.workers} workers, backend {settings.backend}, cache {cache}")
        with metrics_directory():
            uvicorn.run(
                "api.commands:app_from_environment",
                factory=True,
                workers=args.workers,
                host=args.host,
                port=args.port,
                log_level="warning",
                access_log=False,
            )
        return 0
    app = app_from_environment()
    print(f"API on {where} (docs /docs) — backend {settings.backend}, cache {cache}", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


def check_startup(settings: Settings) -> None:
    """Open what each worker will open, once, so that a bad setting or a missing store fails
    here with its message (raises LookalikeError) instead of in every worker."""
    from api.app import create_app
    from service.app import Services

    services = Services.load(settings)
    try:
        create_app(services, watch_builds=False)
    finally:
        services.close()
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # set by the user: drop our live gauges
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(os.getpid())


@contextmanager
def metrics_directory() -> Iterator[None]:
    """PROMETHEUS_MULTIPROC_DIR for the workers' metric files (each worker counts its own
    requests, /metrics adds them up); a temporary one, removed afterwards, unless set."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        yield
        return
    with tempfile.TemporaryDirectory(prefix="lookalike-metrics-") as directory:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
        try:
            yield
        finally:
            del os.environ["PROMETHEUS_MULTIPROC_DIR"]


def app_from_environment() -> Litestar:
    """The app over services loaded from the environment's settings (one per worker)."""
    from api.app import create_app
    from service.app import Services

    if os.environ.get(ACCESS_LOG_ENV, "on").lower() not in OFF:
        log_access_to_stdout()
    services = Services.load(Settings())
    if not services.stores:
        print("no collections to serve: run `lookalike index`", file=sys.stderr, flush=True)
    return create_app(services)


def log_access_to_stdout() -> None:
    """Access-log lines (JSON, one per request) on stdout."""
    access = logging.getLogger("lookalike.access")
    if not access.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False
