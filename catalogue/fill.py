"""`lookalike ingest`: the catalogue folder built from a source, and the database filled from it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd

from catalogue.database import CatalogueDB
from core.schema import FASHION, CatalogueSchema
from core.settings import DATABASE_FILE
from ingest.catalog import (
    current_fingerprint,
    discard,
    load_catalog,
    source_fingerprint,
    stage_catalog,
    swap_in,
)
from ingest.download import Downloader
from ingest.table import read_table


def _fill_database(
    catalog_dir: Path,
    schema: CatalogueSchema,
    frame: pd.DataFrame,
    fingerprint: str,
    discard_live_writes: bool,
) -> None:
    """Make the catalogue database hold exactly the ingested products."""
    rows = frame.assign(
        image_file=(f"{catalog_dir.name}/images/" + frame["id"].astype(str) + ".png").where(
            frame["has_image"]
        )
    )
    database = CatalogueDB(catalog_dir.parent / DATABASE_FILE, create=True)
    try:
        database.fill(schema, rows, fingerprint, discard_live_writes)
    finally:
        database.close()


def build_catalog(
    source: Path,
    catalog_dir: Path,
    workers: int = 2,
    force: bool = False,
    discard_live_writes: bool = False,
    schema: CatalogueSchema = FASHION,
    downloader: Downloader | None = None,
) -> dict[str, Any] | None:
    """Ingest `source`, laid out as `schema` says, into `catalog_dir` and the catalogue database
    beside it (both keep the schema).

    Returns the report, or None when already up to date. Refused (LiveWritesError) when products
    were written through the API since the last ingest, unless `discard_live_writes`.
    """
    started = time.perf_counter()
    table = read_table(source, schema)
    fingerprint = source_fingerprint(source, schema, table)
    database = catalog_dir.parent / DATABASE_FILE
    if not force and current_fingerprint(catalog_dir) == fingerprint:
        if not database.is_file() or CatalogueDB(database).fingerprint != fingerprint:
            _fill_database(
                catalog_dir, schema, load_catalog(catalog_dir), fingerprint, discard_live_writes
            )
        return None
    if database.is_file() and not discard_live_writes:
        CatalogueDB(database).refuse_if_live_writes()
    staged = stage_catalog(
        source, catalog_dir, schema, table, fingerprint, workers, started, downloader
    )
    try:
        _fill_database(catalog_dir, schema, staged.frame, fingerprint, discard_live_writes)
        swap_in(staged, catalog_dir)
    except BaseException:
        discard(staged)
        raise
    return staged.report
