"""`lookalike ingest` (see `catalogue.ingest_command`) and `lookalike sync`: bring the live
catalogue in line with a changed catalogue folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from catalogue import ingest_command
from core.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `ingest` and `sync` sub-commands."""
    ingest_command.register(subparsers)
    parser = subparsers.add_parser(
        "sync", help="apply a changed catalogue source to the running API's catalogue"
    )
    parser.add_argument("--source", type=Path, help="catalogue folder (env LOOKALIKE_SOURCE)")
    parser.add_argument("--api", help="API base URL (env LOOKALIKE_API_URL)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Plan the adds, updates and deletes, send them through the write API, print a summary."""
    from catalogue.database import CatalogueDB
    from catalogue.sync import run_sync

    settings = Settings().override(source=args.source, data_dir=args.data_dir, api_url=args.api)
    database = CatalogueDB(settings.catalogue_db)
    try:
        print(run_sync(settings.source, database, settings.api_url, settings.api_key))
    finally:
        database.close()
    return 0
