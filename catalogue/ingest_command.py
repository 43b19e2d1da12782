"""`lookalike ingest`: validate and normalise the raw catalogue into the catalogue (folder and
database). Registered by `catalogue.commands`: ingest fills the catalogue, so its command
lives here and `ingest/` stays free of the catalogue database."""

from __future__ import annotations

import argparse
from pathlib import Path

from catalogue.fill import build_catalog
from core.schema import FASHION_FILE, load_schema
from core.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `ingest` sub-command."""
    parser = subparsers.add_parser("ingest", help="validate + normalise a catalogue and its images")
    parser.add_argument("--source", type=Path, help="catalogue folder (env LOOKALIKE_SOURCE)")
    parser.add_argument(
        "--schema",
        type=Path,
        default=FASHION_FILE,
        help="the catalogue's schema (TOML; default: the Fashion Product Images layout)",
    )
    parser.add_argument("--workers", type=int, default=2, help="image-checking processes")
    parser.add_argument("--force", action="store_true", help="rebuild even when up to date")
    parser.add_argument(
        "--discard-live-writes",
        action="store_true",
        help="replace products written through the API with the source's rows",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Ingest and print a short summary."""
    settings = Settings().override(source=args.source, data_dir=args.data_dir)
    report = build_catalog(
        settings.source,
        settings.catalog_dir,
        args.workers,
        args.force,
        args.discard_live_writes,
        load_schema(args.schema),
    )
    if report is None:
        print(f"catalogue up to date: {settings.catalog_dir}")
        return 0
    rejected = ", ".join(f"{k} {v}" for k, v in report["images_rejected_by_reason"].items())
    print(
        f"ingested {report['rows_kept']:,} of {report['rows_read']:,} rows "
        f"({report['rows_repaired']} repaired, {report['rows_rejected']} rejected) in "
        f"{report['seconds']} s\n"
        f"images: {report['with_image']:,} usable, {report['without_image']} without "
        f"({rejected or 'none'}); {report['duplicate_groups']} duplicate groups "
        f"({report['duplicate_ids']} ids)\n"
        f"report: {settings.catalog_dir / 'report.json'}"
    )
    return 0
